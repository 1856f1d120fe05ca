"""Group commit: the saves of concurrent commands share one transaction, one table lock and one WAL flush.

The library's recorder takes `LOCK TABLE … IN EXCLUSIVE MODE` in every save and holds it through the commit, so
that notification ids are handed out in commit order (projectors read the log by id and never skip a gap). That
order costs one serialised commit, and one fsync, per command. Here one writer thread per process drains the
queue of waiting saves and writes them together: BEGIN, the same lock once, a look-up of which (stream, version)
keys are already taken, one INSERT of every save that does not conflict, NOTIFY, COMMIT; then each waiter hears
its own answer. Nothing is weakened:

- commit order is id order: the lock is still held from the first id handed out to the commit, in every process;
- each save stays all-or-nothing and is checked on its own: a save whose key is taken (by the log or by an earlier
  save of the same batch) fails alone with IntegrityError, exactly as it would have alone, and its neighbours
  commit; any other error in the batch insert is retried save by save, each in a savepoint;
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
            "row": Identifier(self.stored_event_type_name),
            "id_type": SQL(self.datastore.originator_id_type),  # validated by the datastore: uuid or text
        }
        self.taken_statement = SQL(
            "SELECT t.originator_id, t.originator_version FROM {schema}.{table} t"
            " JOIN unnest(%s::{id_type}[], %s::bigint[]) k (originator_id, originator_version)"
            " USING (originator_id, originator_version)"
        ).format(**names)
        self.insert_returning_statement = SQL(
            "INSERT INTO {schema}.{table} (originator_id, originator_version, topic, state)"
            " SELECT originator_id, originator_version, topic, state FROM unnest(%s::{schema}.{row}[])"
            " RETURNING notification_id, originator_id, originator_version"
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

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        """Queue the save for the writer thread and wait until its batch is committed (or it failed)."""
        if not stored_events:
            return []
        waiting = Waiting(stored_events)
        with self.wake:
            self.queue.append(waiting)
            if self.writer is None:
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
        answers: list[list[int] | Exception] = []
        with conn.transaction(), conn.cursor() as cursor:
            self._lock_table(cursor)
            taken = self._taken(cursor, batch)
            answers = [self._check(waiting, taken) for waiting in batch]
            writable = [w for w, answer in zip(batch, answers, strict=True) if not isinstance(answer, Exception)]
            try:
                with conn.transaction():
                    ids = self._insert(cursor, writable)
            except psycopg.Error:  # not a known conflict: find the save at fault, one savepoint each
                ids = {}
                for index, waiting in enumerate(batch):
                    if not isinstance(answers[index], Exception):
                        answers[index] = self._insert_alone(conn, cursor, waiting, ids)
            for index, waiting in enumerate(batch):
                if not isinstance(answers[index], Exception):
                    answers[index] = [ids[key] for key in waiting.keys()]
            self._notify_channel(cursor)
        self.batches += 1
        return answers

    def _taken(self, cursor: psycopg.Cursor[Any], batch: list[Waiting]) -> set[Key]:
        keys = [key for waiting in batch for key in waiting.keys()]
        cursor.execute(self.taken_statement, ([k[0] for k in keys], [k[1] for k in keys]), prepare=True)
        return {(row["originator_id"], row["originator_version"]) for row in cursor.fetchall()}

    @staticmethod
    def _check(waiting: Waiting, taken: set[Key]) -> list[int] | Exception:
        """A save whose keys are free takes them (so a later save of the batch with the same key conflicts)."""
        keys = waiting.keys()
        if len(set(keys)) < len(keys) or taken.intersection(keys):
            return IntegrityError("duplicate key value violates unique constraint (originator_id, originator_version)")
        taken.update(keys)
        return []

    def _insert(self, cursor: psycopg.Cursor[Any], batch: list[Waiting]) -> dict[Key, int]:
        rows = [self._row(e) for waiting in batch for e in waiting.events]
        if not rows:
            return {}
        cursor.execute(self.insert_returning_statement, (rows,), prepare=True)
        return {(r["originator_id"], r["originator_version"]): r["notification_id"] for r in cursor.fetchall()}

    def _insert_alone(
        self, conn: psycopg.Connection[Any], cursor: psycopg.Cursor[Any], waiting: Waiting, ids: dict[Key, int]
    ) -> list[int] | Exception:
        try:
            with conn.transaction():
                ids.update(self._insert(cursor, [waiting]))
        except psycopg.Error as error:
            return translated(error)
        return []

    def _row(self, event: StoredEvent) -> Any:
        return self.construct_pg_stored_event(event.originator_id, event.originator_version, event.topic, event.state)


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
