"""The projector: applies a read model's handlers to the log, one page per transaction, with its position.

The position row is locked (FOR UPDATE) in each transaction and events at or before it are skipped, so even two
projectors on the same version would apply every event exactly once. A page that fails is retried one event at a
time, so that the event at fault is pinned down, recorded and never skipped."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

import psycopg
from eventsourcing.persistence import Notification

from projections import catalog
from projections.base import ReadModel
from projections.log import EventLog
from projections.storable import storable

log = logging.getLogger("handoff.projections")

VIEWS_CHANNEL = "handoff_views"
MAX_SCHOOLS_IN_NOTICE = 40
Progress = Callable[[int, int], None]
PARK_AFTER_ATTEMPTS = 3
"""Failures of one event (each retried after a growing pause) before it is parked and the projection moves on."""
FIRST_PAUSE, MAX_PAUSE = 0.5, 30.0
"""Seconds before a failing model is retried, doubling each time up to the longest."""


class HandlerError(Exception):
    """A handler could not apply an event; the projection waits at that event."""

    def __init__(self, model: str, position: int, topic: str, error: Exception) -> None:
        super().__init__(f"{model} failed at event {position} ({topic}): {type(error).__name__}: {error}")
        self.model, self.position, self.topic, self.error = model, position, topic, error


class Projector:
    """One version of one read model, brought up to date with the log."""

    def __init__(self, model: ReadModel, conninfo: str, events: EventLog, version: int, page_size: int = 500) -> None:
        self.model, self.conninfo, self.events, self.version = model, conninfo, events, version
        self.page_size = page_size
        self.tables = model.tables(version)
        self.conn: psycopg.Connection[Any] | None = None
        self.reached: int | None = None
        self.topics = sorted(model.handlers)
        """Our position, as last committed; the locked row in each transaction stays the authority."""

    def prepare(self) -> None:
        """Create this version's tables and its position row."""
        with psycopg.connect(self.conninfo, autocommit=True) as conn, conn.transaction():
            catalog.lock_ddl(conn)
            if catalog.has_tables(conn, self.model.name, self.version):
                return
            with conn.cursor() as cursor:
                self.model.create(cursor, self.version)
            catalog.register_version(conn, self.model.name, self.version, tables_created=True)

    def catch_up(self, stop: int | None = None, progress: Progress | None = None) -> int:
        """Apply every event after our position (up to `stop`); return the new position.

        Only the topics this model handles are read, so each page ends at the last scanned position: the head
        at the time of reading, unless the page was full. Commits reach the log in position order (the
        recorder serialises inserts), so nothing at or below the head can still appear."""
        conn = self._connection()
        if self.reached is None:
            self.reached = catalog.position(conn, self.model.name, self.version)
        while True:
            head = min(self.events.head(), stop) if stop is not None else self.events.head()
            if self.reached >= head:
                return self.reached
            page = self.events.page(self.reached, self.page_size, head, topics=self.topics)
            scanned = page[-1].id if len(page) == self.page_size else head
            self.reached = self._apply(conn, page, scanned)
            if progress:
                progress(self.reached, head)

    def close(self) -> None:
        self.reached = None
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def _connection(self) -> psycopg.Connection[Any]:
        """One connection for as long as the projector runs: a new one per wake-up would cost milliseconds."""
        if self.conn is None or self.conn.closed:
            self.conn = projector_connection(self.conninfo, f"handoff-projector-{self.model.name}")
        return self.conn

    def _apply(self, conn: psycopg.Connection[Any], page: Sequence[Notification], scanned: int) -> int:
        try:
            return self._apply_page(conn, page, scanned)
        except HandlerError:
            pass
        for notification in page:  # pin the failing event down; everything before it is applied
            try:
                self._apply_page(conn, [notification], notification.id)
            except HandlerError as error:
                if not self._parks(conn, error):
                    self._apply_page(conn, [], notification.id - 1)
                    raise
                self._park(conn, notification, error)
        return self._apply_page(conn, [], scanned)

    def _parks(self, conn: psycopg.Connection[Any], error: HandlerError) -> bool:
        """Park an event whose value can never be stored at once, any other after its last retry; never for a
        lost connection, which is no fault of the event (apply_page raises that as it is)."""
        if conn.closed:
            return False
        if isinstance(error.error, psycopg.DataError):
            return True
        return catalog.attempts(conn, self.model.name, self.version, error.position) >= PARK_AFTER_ATTEMPTS

    def _park(self, conn: psycopg.Connection[Any], notification: Notification, error: HandlerError) -> None:
        """Record the event as parked, with the reason, and move past it in the same transaction: one school's bad
        event never stops another school's views. Logged as an error (code projection_event_parked)."""
        school = _school_of(self.events, notification)
        with conn.transaction():
            row = conn.execute(
                "SELECT position FROM projection_positions WHERE projection = %s AND version = %s FOR UPDATE",
                (self.model.name, self.version),
            ).fetchone()
            if row and row[0] >= notification.id:
                return
            catalog.park(conn, self.model.name, self.version, notification.id, notification.topic, school, str(error))
            conn.execute(
                "UPDATE projection_positions SET position = %s, updated_at = now()"
                " WHERE projection = %s AND version = %s",
                (notification.id, self.model.name, self.version),
            )
            catalog.clear_failures(conn, self.model.name, self.version, notification.id)
            conn.execute("SELECT pg_notify(%s, %s)", (VIEWS_CHANNEL, self._notice(notification.id, set())))
        log.error(
            "projection_event_parked: %s v%d parked event %d (%s) of school %s: %s",
            self.model.name,
            self.version,
            notification.id,
            notification.topic,
            school,
            type(error.error).__name__,
        )

    def _apply_page(self, conn: psycopg.Connection[Any], page: Sequence[Notification], scanned: int) -> int:
        apply_page(conn, [self], self.events, page, scanned)
        return self.reached or 0

    def _notice(self, position: int, schools: set[str]) -> str:
        listed: list[str] | str = sorted(schools) if len(schools) <= MAX_SCHOOLS_IN_NOTICE else "*"
        return json.dumps(
            {"projection": self.model.name, "version": self.version, "position": position, "schools": listed}
        )


def projector_connection(conninfo: str, name: str) -> psycopg.Connection[Any]:
    """A projector's connection. Its commits do not wait for the disk (synchronous_commit off): a view is derived
    from the log, and a page lost in a crash is lost together with its position, so it is applied again. Any later
    durable commit (an event, a switch of versions) flushes the pages before it, so what a command or a regulator
    has seen recorded never depends on a page that was not."""
    conn = psycopg.connect(conninfo, autocommit=True, application_name=name)
    conn.execute("SET synchronous_commit = off")
    return conn


def _school_of(events: EventLog, notification: Notification) -> str | None:
    try:
        return str(events.decode(notification).school_id)
    except Exception:  # noqa: BLE001 - an event that does not even decode is parked all the same
        return None


class Projectors:
    """Several read models' projectors fed from one reading of the log: each page is read and decoded once, applied
    to every model in one transaction with every model's position, and announced with one notice per model.

    Each model's position row is still locked in the page's transaction and events at or before it are skipped, so
    every event is applied exactly once to each model, as with a projector of its own; models may stand at
    different positions (one added later, one rebuilt). When a handler fails, the page is rolled back and each
    model goes on alone to the page's end (its own projector pins the failing event down and parks it or waits at
    it); a model that still fails leaves the group and is retried on its own, after a growing pause, so that one
    model's failure never holds the others back. Once it has caught up again it rejoins the group."""

    def __init__(self, projectors: Sequence[Projector], conninfo: str, events: EventLog, page_size: int = 500) -> None:
        self.projectors = list(projectors)
        self.conninfo, self.events, self.page_size = conninfo, events, page_size
        self.conn: psycopg.Connection[Any] | None = None
        self.failing: dict[str, tuple[float, float]] = {}
        """Models out of the group after a failure: when each is retried next, and its pause."""

    def catch_up(self, stop: int | None = None, progress: Progress | None = None) -> int:
        """Apply every event after each model's position (up to `stop`); return the lowest position of the group."""
        conn = self._connection()
        for projector in self.projectors:
            if projector.reached is None:
                projector.reached = catalog.position(conn, projector.model.name, projector.version)
        self._retry_failing(stop)
        while True:
            group = [p for p in self.projectors if p.model.name not in self.failing]
            head = min(self.events.head(), stop) if stop is not None else self.events.head()
            low = min((p.reached or 0 for p in group), default=head)
            if low >= head:
                return low
            topics = sorted({topic for p in group for topic in p.topics})
            page = self.events.page(low, self.page_size, head, topics=topics)
            scanned = page[-1].id if len(page) == self.page_size else head
            try:
                apply_page(conn, group, self.events, page, scanned)
            except HandlerError:
                self._each_alone(group, scanned)
            if progress:
                progress(min(p.reached or 0 for p in group), head)

    def close(self) -> None:
        for projector in self.projectors:
            projector.close()
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def _connection(self) -> psycopg.Connection[Any]:
        if self.conn is None or self.conn.closed:
            self.conn = projector_connection(self.conninfo, "handoff-projector-group")
        return self.conn

    def _each_alone(self, group: Sequence[Projector], scanned: int) -> None:
        for projector in group:
            try:
                projector.catch_up(stop=scanned)
            except HandlerError as error:
                self._failed(projector, error)
                self.failing[projector.model.name] = (time.monotonic() + FIRST_PAUSE, FIRST_PAUSE)

    def _retry_failing(self, stop: int | None) -> None:
        """Each failing model whose pause is over tries again on its own; caught up, it rejoins the group."""
        for projector in self.projectors:
            due, pause = self.failing.get(projector.model.name, (0.0, 0.0))
            if projector.model.name not in self.failing or time.monotonic() < due:
                continue
            try:
                projector.catch_up(stop=stop)
                del self.failing[projector.model.name]
            except HandlerError as error:
                self._failed(projector, error)
                pause = min(pause * 2, MAX_PAUSE)
                self.failing[projector.model.name] = (time.monotonic() + pause, pause)

    def _failed(self, projector: Projector, error: HandlerError) -> None:
        """Shown (logged, and in the status of the views) and counted: after PARK_AFTER_ATTEMPTS the event is parked.
        A lost connection never gets here: it goes up to the caller, which reconnects."""
        log.error(
            "projection %s stopped at event %d (%s): %s",
            error.model,
            error.position,
            error.topic,
            type(error.error).__name__,
        )
        try:
            catalog.record_failure(
                self._connection(), projector.model.name, projector.version, error.position, error.topic, str(error)
            )
        except psycopg.Error:
            log.warning("could not record the failure of projection %s", projector.model.name)


def apply_page(
    conn: psycopg.Connection[Any],
    projectors: Sequence[Projector],
    events: EventLog,
    page: Sequence[Notification],
    scanned: int,
) -> None:
    """Apply a page to one or more models in one transaction: each model's position row locked, each event decoded
    once and applied to every model that handles it and has not had it, every position moved to the end of the
    page, one notice per model. A handler's failure is a HandlerError (so is a statement's error, which in pipeline
    mode surfaces only at the commit); a lost connection goes up as it is. Sets each projector's `reached`."""
    try:
        reached = _apply_page_once(conn, projectors, events, page, scanned)
    except (psycopg.OperationalError, psycopg.InterfaceError):
        raise
    except psycopg.Error as error:
        if not page:
            raise
        raise HandlerError("+".join(p.model.name for p in projectors), page[0].id, page[0].topic, error) from error
    for projector in projectors:
        projector.reached = reached[(projector.model.name, projector.version)]


def _apply_page_once(
    conn: psycopg.Connection[Any],
    projectors: Sequence[Projector],
    events: EventLog,
    page: Sequence[Notification],
    scanned: int,
) -> dict[tuple[str, int], int]:
    keys = [(p.model.name, p.version) for p in projectors]
    names, versions = [k[0] for k in keys], [k[1] for k in keys]
    with conn.pipeline(), conn.transaction(), conn.cursor() as cursor:  # no round trip per statement
        cursor.execute(
            "SELECT projection, version, position FROM projection_positions"
            " WHERE (projection, version) IN (SELECT * FROM unnest(%s::text[], %s::int[]))"
            " ORDER BY projection, version FOR UPDATE",
            (names, versions),
        )
        done = {(name, version): position for name, version, position in cursor.fetchall()}
        schools: dict[tuple[str, int], set[str]] = {key: set() for key in keys}
        for notification in page:
            event: Any = None
            for projector, key in zip(projectors, keys, strict=True):
                if notification.id <= done.get(key, 0) or notification.topic not in projector.model.handlers:
                    continue
                try:
                    if event is None:
                        event = storable(events.decode(notification))
                    projector.model.apply(cursor, projector.tables, notification.topic, event)
                except (psycopg.OperationalError, psycopg.InterfaceError):
                    raise  # the connection, not the event: the caller reconnects
                except Exception as error:  # noqa: BLE001 - any handler failure stops the page at this event
                    raise HandlerError(projector.model.name, notification.id, notification.topic, error) from error
                schools[key].add(event.school_id)
        reached = {key: max(done.get(key, 0), scanned) for key in keys}
        positions = [reached[key] for key in keys]
        cursor.execute(
            "UPDATE projection_positions p SET position = v.position, updated_at = now()"
            " FROM unnest(%s::text[], %s::int[], %s::bigint[]) AS v(projection, version, position)"
            " WHERE p.projection = v.projection AND p.version = v.version",
            (names, versions, positions),
        )
        cursor.execute(  # failures at or before a position now applied are over
            "DELETE FROM projection_failures f USING unnest(%s::text[], %s::int[], %s::bigint[])"
            " AS v(projection, version, position)"
            " WHERE f.projection = v.projection AND f.version = v.version AND f.position <= v.position",
            (names, versions, positions),
        )
        for projector, key in zip(projectors, keys, strict=True):
            cursor.execute("SELECT pg_notify(%s, %s)", (VIEWS_CHANNEL, projector._notice(reached[key], schools[key])))
    return reached
