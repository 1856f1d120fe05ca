"""The projector: applies a read model's handlers to the log, one page per transaction, with its position.

The position row is locked (FOR UPDATE) in each transaction and events at or before it are skipped, so even two
projectors on the same version would apply every event exactly once. A page that fails is retried one event at a
time, so that the event at fault is pinned down, recorded and never skipped."""

from __future__ import annotations

import json
import logging
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
            self.conn = psycopg.connect(
                self.conninfo, autocommit=True, application_name=f"handoff-projector-{self.model.name}"
            )
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
        lost connection, which is no fault of the event."""
        if isinstance(error.error, (psycopg.OperationalError, psycopg.InterfaceError)) or conn.closed:
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
        """Apply a page in one transaction. In pipeline mode a statement's error (a value out of a column's range,
        say) surfaces only at the commit: it is the page's handler failure all the same, not a lost connection."""
        try:
            return self._apply_page_once(conn, page, scanned)
        except (psycopg.OperationalError, psycopg.InterfaceError):
            raise
        except psycopg.Error as error:
            if not page:
                raise
            raise HandlerError(self.model.name, page[0].id, page[0].topic, error) from error

    def _apply_page_once(self, conn: psycopg.Connection[Any], page: Sequence[Notification], scanned: int) -> int:
        schools: set[str] = set()
        with conn.pipeline(), conn.transaction(), conn.cursor() as cursor:  # no round trip per statement
            cursor.execute(
                "SELECT position FROM projection_positions WHERE projection = %s AND version = %s FOR UPDATE",
                (self.model.name, self.version),
            )
            row = cursor.fetchone()
            done = row[0] if row else 0
            for notification in page:
                if notification.id > done:
                    schools.add(self._handle(cursor, notification))
            last = max(done, scanned)
            cursor.execute(
                "UPDATE projection_positions SET position = %s, updated_at = now()"
                " WHERE projection = %s AND version = %s",
                (last, self.model.name, self.version),
            )
            catalog.clear_failures(conn, self.model.name, self.version, last)
            cursor.execute("SELECT pg_notify(%s, %s)", (VIEWS_CHANNEL, self._notice(last, schools)))
        return last

    def _handle(self, cursor: psycopg.Cursor[Any], notification: Notification) -> str:
        try:
            event = storable(self.events.decode(notification))
            self.model.apply(cursor, self.tables, notification.topic, event)
        except Exception as error:  # noqa: BLE001 - any handler failure stops the projection at this event
            raise HandlerError(self.model.name, notification.id, notification.topic, error) from error
        return event.school_id

    def _notice(self, position: int, schools: set[str]) -> str:
        listed: list[str] | str = sorted(schools) if len(schools) <= MAX_SCHOOLS_IN_NOTICE else "*"
        return json.dumps(
            {"projection": self.model.name, "version": self.version, "position": position, "schools": listed}
        )


def _school_of(events: EventLog, notification: Notification) -> str | None:
    try:
        return str(events.decode(notification).school_id)
    except Exception:  # noqa: BLE001 - an event that does not even decode is parked all the same
        return None
