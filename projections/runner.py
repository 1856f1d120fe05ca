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

log = logging.getLogger("handoff.projections")

VIEWS_CHANNEL = "handoff_views"
MAX_SCHOOLS_IN_NOTICE = 40
Progress = Callable[[int, int], None]


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
        """Apply every event after our position (up to `stop`); return the new position."""
        with psycopg.connect(self.conninfo, autocommit=True) as conn:
            reached = catalog.position(conn, self.model.name, self.version)
            while stop is None or reached < stop:
                page = self.events.page(reached, self.page_size, stop)
                if not page:
                    break
                reached = self._apply(conn, page)
                if progress:
                    progress(reached, stop or self.events.head())
        return reached

    def _apply(self, conn: psycopg.Connection[Any], page: Sequence[Notification]) -> int:
        try:
            return self._apply_page(conn, page)
        except HandlerError:
            if len(page) == 1:
                raise
        for notification in page:  # pin the failing event down; those before it are applied
            self._apply_page(conn, [notification])
        return page[-1].id

    def _apply_page(self, conn: psycopg.Connection[Any], page: Sequence[Notification]) -> int:
        schools: set[str] = set()
        with conn.transaction(), conn.cursor() as cursor:
            cursor.execute(
                "SELECT position FROM projection_positions WHERE projection = %s AND version = %s FOR UPDATE",
                (self.model.name, self.version),
            )
            row = cursor.fetchone()
            done = row[0] if row else 0
            for notification in page:
                if notification.id > done and notification.topic in self.model.handlers:
                    schools.add(self._handle(cursor, notification))
            last = max(done, page[-1].id)
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
            event = self.events.decode(notification)
            self.model.apply(cursor, self.tables, notification.topic, event)
        except Exception as error:  # noqa: BLE001 - any handler failure stops the projection at this event
            raise HandlerError(self.model.name, notification.id, notification.topic, error) from error
        return event.school_id

    def _notice(self, position: int, schools: set[str]) -> str:
        listed: list[str] | str = sorted(schools) if len(schools) <= MAX_SCHOOLS_IN_NOTICE else "*"
        return json.dumps(
            {"projection": self.model.name, "version": self.version, "position": position, "schools": listed}
        )
