"""Moving a district to another shard (`handoff shard move`): refuse its writes, copy its schools' streams in log
order with their children's keys and photos, check the copy byte for byte, then switch the directory.

The copy keeps every stored event's bytes, so the streams, the stored answers of retried commands and the
personal-data encryption are the same on the target. The target's projectors, policies and checkpoints follow the
copied events as new ones; a policy's reaction to a copied event answers from its copied stored answer, so nothing
happens twice. The source keeps its copy, which no request reaches after the switch."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import psycopg
from eventsourcing.persistence import IntegrityError, StoredEvent
from psycopg import sql

from service.application.handoff import Handoff
from service.fleet.shards import Fleet
from service.infra.directory import FRESH_FOR, DistrictNotFoundError

PAGE = 1000
SETTLE = FRESH_FOR + 2.0
"""Seconds between refusing the district's writes and copying: every process has seen the refusal by then, and a
command accepted just before it has committed (the store's lock timeout is 5 s, most commands take milliseconds)."""
KEPT_BESIDE = ("child_keys", "child_photos")
"""Tables outside the log, by school: the children's keys (wrapped with the deployment's secret) and photos."""


class MoveRefusedError(Exception):
    """The move cannot start or its copy does not check; the district stays where it was."""


@dataclass(frozen=True)
class MoveReport:
    district_id: str
    source: str
    target: str
    schools: list[str]
    events: int
    streams: int
    seconds: float


def move_district(
    fleet: Fleet, district_id: str, target: str, settle: float = SETTLE, say: Callable[[str], None] = print
) -> MoveReport:
    """Move the district's schools to `target`; on any failure its writes are open again on the source."""
    placed = fleet.directory.district(district_id)
    if placed is None:
        raise DistrictNotFoundError
    if target not in fleet.shards or target == placed.shard:
        raise MoveRefusedError(f"{target!r} is not another shard (shards: {', '.join(fleet.shards)})")
    started = time.monotonic()
    fleet.directory.begin_move(district_id, target)
    try:
        say(f"district {district_id}: writes refused; waiting {settle:.0f} s for commands in flight")
        time.sleep(settle)
        schools = fleet.directory.schools_of(district_id)
        source, into = fleet.shards[placed.shard], fleet.shards[target]
        streams, events = copy_streams(source.handoff, into.handoff, {*schools, district_id})
        say(f"copied {events} events of {len(streams)} streams; checking")
        check_copy(source.handoff, into.handoff, streams)
        copy_beside(source.url, into.url, schools)
    except BaseException:
        fleet.directory.end_move(district_id, placed.shard)
        raise
    fleet.directory.end_move(district_id, target)
    forget_beside(source.url, schools)
    say(f"district {district_id} is on shard {target}")
    return MoveReport(
        district_id, placed.shard, target, schools, events, len(streams), round(time.monotonic() - started, 2)
    )


def copy_streams(source: Handoff, target: Handoff, scopes: set[str]) -> tuple[set[UUID], int]:
    """Insert into the target, in the source's log order, every event whose school (or district) is in scopes."""
    streams: set[UUID] = set()
    copied = 0
    for page in _pages(source):
        batch = [stored for stored, event in page if getattr(event, "school_id", None) in scopes]
        if batch:
            try:
                target.recorder.insert_events(batch)
            except IntegrityError:
                raise MoveRefusedError("the target already holds some of these streams (an old copy?)") from None
            streams.update(UUID(str(stored.originator_id)) for stored in batch)
            copied += len(batch)
    return streams, copied


def _pages(source: Handoff) -> Iterator[list[tuple[StoredEvent, Any]]]:
    start, head = 1, source.recorder.max_notification_id() or 0
    while start <= head:
        found = source.recorder.select_notifications(start, PAGE, stop=head)
        if not found:
            return
        yield [(stored, source.mapper.to_domain_event(stored)) for stored in found]
        start = found[-1].id + 1


FINGERPRINT = (
    "SELECT count(*), md5(string_agg(originator_id::text || ':' || originator_version || ':' || topic || ':'"
    " || md5(state), ',' ORDER BY originator_id, originator_version)) FROM {} WHERE originator_id = ANY(%s)"
)


def check_copy(source: Handoff, target: Handoff, streams: set[UUID]) -> None:
    """The target holds exactly the source's events of these streams, the same bytes at the same versions."""
    ids = sorted(streams)
    found = [_fingerprint(app, ids) for app in (source, target)]
    if found[0] != found[1]:
        raise MoveRefusedError(f"the copy does not match the source: {found[0]} events there, {found[1]} here")


def _fingerprint(app: Handoff, ids: list[UUID]) -> tuple[Any, ...]:
    recorder: Any = app.recorder
    schema, name = recorder.datastore.schema, recorder.events_table_name
    table = sql.Identifier(schema, name) if schema else sql.Identifier(name)
    with recorder.datastore.get_connection() as conn, conn.cursor() as cur:
        cur.execute(sql.SQL(FINGERPRINT).format(table), (ids,))
        row = cur.fetchone()
    return tuple(row) if row else ()


def copy_beside(source_url: str, target_url: str, schools: list[str]) -> None:
    """The schools' children's keys and photos, row for row (the target's rows for them must not exist yet)."""
    with psycopg.connect(source_url) as src, psycopg.connect(target_url) as dst:
        for table in KEPT_BESIDE:
            name, of = sql.Identifier(table), sql.Literal(schools)
            with src.cursor().copy(
                sql.SQL("COPY (SELECT * FROM {} WHERE school_id = ANY({})) TO STDOUT").format(name, of)
            ) as out, dst.cursor().copy(sql.SQL("COPY {} FROM STDIN").format(name)) as into:
                for data in out:
                    into.write(data)


def forget_beside(source_url: str, schools: list[str]) -> None:
    """Remove the moved schools' children's keys and photos from the source, as an erasure does (VACUUM FULL, so they
    are in no live file): its copy of their events stays as an archive, but an erasure on the target must leave no
    key anywhere that could open what the archive holds sealed."""
    with psycopg.connect(source_url, autocommit=True) as conn:
        for table in KEPT_BESIDE:
            name = sql.Identifier(table)
            conn.execute(sql.SQL("DELETE FROM {} WHERE school_id = ANY(%s)").format(name), (schools,))
            conn.execute(sql.SQL("VACUUM FULL {}").format(name))
        try:
            conn.execute("CHECKPOINT")
        except psycopg.errors.InsufficientPrivilege:
            pass  # the WAL's old segments are recycled later; see the README on archives and backups
