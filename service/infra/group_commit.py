"""Group commit: the saves of concurrent commands share one transaction, one table lock and one WAL flush.

The library's recorder takes `LOCK TABLE … IN EXCLUSIVE MODE` in every save and holds it through the commit, so
that notification ids are handed out in commit order (projectors read the log by id and never skip a gap). That
order costs one serialised commit, and one fsync, per command. Here one writer thread per process drains the
queue of waiting saves and writes them together, pipelined in one round trip: BEGIN, the same lock once, one
INSERT that skips every save whose (stream, version) keys are taken, NOTIFY, COMMIT; then each waiter hears its
own answer. Nothing is weakened:

- commit order is id order: the lock is still held from the first id handed out to the commit, in every process;
- each save stays all-or-nothing and is checked on its own, with the outcome of running the saves one after the
  other in queue order: a save whose key is taken (by the log or by an earlier save of the batch) fails alone with
  IntegrityError and its neighbours commit; any other error is found by writing again save by save in savepoints;
- waiters hear back only after the COMMIT, so a refused save that re-reads its idempotency key sees the batch;
- a failed COMMIT fails every save of the batch with OperationalError: the library's retry sends it again, and a
  save that did reach the log then conflicts with itself, which the application answers from the stored answer;
- durability is PostgreSQL's own (synchronous_commit untouched): a waiter returns only after its batch's commit.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import psycopg
from eventsourcing.persistence import (
    DatabaseError,
    DataError,
    IntegrityError,
    InterfaceError,
    OperationalError,
    PersistenceError,
    StoredEvent,
)
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from eventsourcing.utils import retry
from psycopg.sql import SQL, Identifier

Key = tuple[UUID | str, int]

MAX_BATCH = 500
"""Saves per transaction at most: bounds the time the table lock is held by one batch."""
IDLE_SECONDS = 2.0
"""The writer thread ends after this long without work, and starts again with the next save."""


@dataclass
class Waiting:
    """One save waiting for its batch: its events, then its notification ids or its error."""

    events: Sequence[StoredEvent]
    done: threading.Event = field(default_factory=threading.Event)
    ids: list[int] = field(default_factory=list)
    error: Exception | None = None

    def keys(self) -> list[Key]:
        return [(e.originator_id, e.originator_version) for e in self.events]


class GroupCommitRecorder(PostgresApplicationRecorder):
    """The library's PostgreSQL application recorder, with concurrent saves committed together."""

    def __init__(self, datastore: PostgresDatastore, *, events_table_name: str = "stored_events") -> None:
        super().__init__(datastore, events_table_name=events_table_name)
        names = {
            "schema": Identifier(self.datastore.schema),
            "table": Identifier(self.events_table_name),
            "id_type": SQL(self.datastore.originator_id_type),  # validated by the datastore: uuid or text
        }
        self.insert_statement = SQL(
            "WITH batch AS (SELECT * FROM unnest(%s::{id_type}[], %s::bigint[], %s::text[], %s::bytea[], %s::int[])"
            " WITH ORDINALITY AS b (originator_id, originator_version, topic, state, save, n)),"
            " refused AS (SELECT batch.save FROM batch JOIN {schema}.{table} t"
            " USING (originator_id, originator_version))"
            " INSERT INTO {schema}.{table} (originator_id, originator_version, topic, state)"
            " SELECT originator_id, originator_version, topic, state FROM batch"
            " WHERE save NOT IN (SELECT save FROM refused) ORDER BY n"
            " RETURNING notification_id, originator_id, originator_version"
        ).format(**names)
        self.changes_statement = SQL(
            "(SELECT notification_id, originator_id, NULL::int AS originator_version, NULL::text AS topic,"
            " NULL::bytea AS state FROM {schema}.{table} WHERE notification_id >= %s ORDER BY notification_id LIMIT %s)"
            " UNION ALL (SELECT NULL, originator_id, originator_version, topic, state FROM {schema}.{table}"
            " WHERE originator_id = %s ORDER BY originator_version LIMIT %s)"
        ).format(**names)
        self.queue: deque[Waiting] = deque()
        self.wake = threading.Condition()
        self.writer: threading.Thread | None = None
        self.batches = 0
        """Transactions committed (for the benchmarks: saves per batch = saves / batches)."""

    def _create_table(self, curs: psycopg.Cursor[Any]) -> None:
        """Several processes starting at once (API workers, projector) would race on the DDL: one at a time."""
        curs.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"create {self.events_table_name}",))
        super()._create_table(curs)

    def changes_and_events(
        self, start: int, limit: int, stream: UUID, stream_limit: int
    ) -> tuple[list[tuple[int, UUID]], list[StoredEvent]]:
        """In one read: which streams changed at positions from `start` on (at most `limit`, in log order, without
        their events), and the first `stream_limit` events of `stream`. A command's first read: what changed since
        this process last looked (service.application.states), and its idempotency key's stored answer."""
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(self.changes_statement, (start, limit, stream, stream_limit), prepare=True)
            rows = curs.fetchall()
        changes = sorted((row["notification_id"], row["originator_id"]) for row in rows if row["notification_id"])
        events = [
            StoredEvent(row["originator_id"], row["originator_version"], row["topic"], bytes(row["state"]))
            for row in rows
            if row["notification_id"] is None
        ]
        return changes, events

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        """Queue the save for the writer thread and wait until its batch is committed (or it failed)."""
        if not stored_events:
            return []
        waiting = Waiting(stored_events)
        with self.wake:
            self.queue.append(waiting)
            if self.writer is None or not self.writer.is_alive():  # not alive: this process was forked from another
                self.writer = threading.Thread(target=self._write_until_idle, name="group-commit", daemon=True)
                self.writer.start()
            self.wake.notify()
        waiting.done.wait()
        if waiting.error is not None:
            raise waiting.error
        return waiting.ids

    def _write_until_idle(self) -> None:
        while True:
            with self.wake:
                if not self.queue:
                    self.wake.wait(IDLE_SECONDS)
                if not self.queue:
                    self.writer = None
                    return
                batch = [self.queue.popleft() for _ in range(min(len(self.queue), MAX_BATCH))]
            self._write(batch)

    def _write(self, batch: list[Waiting]) -> None:
        """Commit the batch, then wake every waiter; a failure of the transaction itself fails them all."""
        try:
            with self.datastore.get_connection() as conn:
                answers = self._commit(conn, batch)
            for waiting, answer in zip(batch, answers, strict=True):
                if isinstance(answer, Exception):
                    waiting.error = answer
                else:
                    waiting.ids = answer
        except PersistenceError as error:  # e.g. the COMMIT's answer was lost: ambiguous, the retry resolves it
            for waiting in batch:
                waiting.error = error
        except Exception as error:  # noqa: BLE001 - never leave a waiter hanging, whatever went wrong
            for waiting in batch:
                waiting.error = error
        finally:
            for waiting in batch:
                waiting.done.set()

    def _commit(self, conn: psycopg.Connection[Any], batch: list[Waiting]) -> list[list[int] | Exception]:
        """Write the batch in one round trip; should a save fail for any reason but a conflict, write again save by
        save in savepoints, so that only that save fails. A save is refused when its keys are taken."""
        errors: dict[int, Exception] = {}
        try:
            written = self._commit_together(conn, batch)
        except psycopg.DatabaseError as error:
            if isinstance(error, psycopg.OperationalError):  # the connection, a lock timeout: the batch retries
                raise
            written = self._commit_one_by_one(conn, batch, errors)
        self.batches += 1
        return [errors.get(n) or written.get(n) or conflict() for n in range(len(batch))]

    def _commit_together(self, conn: psycopg.Connection[Any], batch: list[Waiting]) -> dict[int, list[int]]:
        """BEGIN, lock, one INSERT per round, NOTIFY, COMMIT: pipelined, so one round trip for the whole batch.

        Saves of a round share no key, so the INSERT's own look-up of taken keys decides each of them exactly as
        if alone; a save that shares a key with an earlier one waits for a later round, which sees the earlier
        round's rows: the outcome is that of running the saves one after the other, in queue order."""
        cursors = []
        with conn.pipeline(), conn.transaction():
            with conn.cursor() as cursor:
                self._lock_table(cursor)
            for saves in rounds(batch):
                cursor = conn.cursor()
                cursor.execute(self.insert_statement, self._params(batch, saves), prepare=True)
                cursors.append((saves, cursor))
            with conn.cursor() as cursor:
                self._notify_channel(cursor)
        written: dict[int, list[int]] = {}
        for saves, cursor in cursors:
            written.update(self._written(batch, saves, cursor))
            cursor.close()
        return written

    def _commit_one_by_one(
        self, conn: psycopg.Connection[Any], batch: list[Waiting], errors: dict[int, Exception]
    ) -> dict[int, list[int]]:
        written: dict[int, list[int]] = {}
        with conn.transaction(), conn.cursor() as cursor:
            self._lock_table(cursor)
            for number in range(len(batch)):
                try:
                    with conn.transaction():
                        cursor.execute(self.insert_statement, self._params(batch, [number]))
                        written.update(self._written(batch, [number], cursor))
                except psycopg.DatabaseError as error:
                    if isinstance(error, psycopg.OperationalError):
                        raise
                    errors[number] = translated(error)
            self._notify_channel(cursor)
        return written

    @staticmethod
    def _params(batch: list[Waiting], saves: list[int]) -> tuple[list[Any], ...]:
        events = [(number, e) for number in saves for e in batch[number].events]
        return (
            [e.originator_id for _, e in events],
            [e.originator_version for _, e in events],
            [e.topic for _, e in events],
            [e.state for _, e in events],
            [number for number, _ in events],
        )

    @staticmethod
    def _written(batch: list[Waiting], saves: list[int], cursor: psycopg.Cursor[Any]) -> dict[int, list[int]]:
        """The notification ids of each save of one INSERT that went in (keys are unique within one INSERT)."""
        ids = {(r["originator_id"], r["originator_version"]): r["notification_id"] for r in cursor.fetchall()}
        return {n: [ids[k] for k in batch[n].keys()] for n in saves if all(k in ids for k in batch[n].keys())}


def conflict() -> IntegrityError:
    return IntegrityError("duplicate key value violates unique constraint (originator_id, originator_version)")


def rounds(batch: list[Waiting]) -> list[list[int]]:
    """The batch's saves (by number, in order) cut into runs that share no (stream, version) key."""
    runs: list[list[int]] = [[]]
    keys: set[Key] = set()
    for number, waiting in enumerate(batch):
        mine = waiting.keys()
        if keys.intersection(mine):
            runs.append([])
            keys = set()
        runs[-1].append(number)
        keys.update(mine)
    return runs


def translated(error: psycopg.Error) -> Exception:
    """The eventsourcing error for a psycopg error of one save (as the library's datastore translates them)."""
    for source, target in (
        (psycopg.IntegrityError, IntegrityError),
        (psycopg.DataError, DataError),
        (psycopg.OperationalError, OperationalError),
    ):
        if isinstance(error, source):
            return target(str(error))
    return DatabaseError(str(error))
