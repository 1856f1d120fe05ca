"""Keeps exactly one live projector per read model running, across any number of processes.

Each read model's worker takes a PostgreSQL advisory lock for (model, active version) on a connection it keeps
open; workers in other processes wait for the lock and take over when its holder dies. After a handler error or a
lost connection the worker records what happened, waits (with backoff) and resumes from the stored position."""

from __future__ import annotations

import logging
import threading
import zlib
from collections.abc import Sequence
from typing import Any

import psycopg

from projections import catalog
from projections.base import ReadModel
from projections.catalog import SWITCH_CHANNEL
from projections.log import EventLog
from projections.runner import HandlerError, Projector

log = logging.getLogger("handoff.projections")

WAKE_INTERVAL = 1.0
MAX_BACKOFF = 30.0


def lock_key(model: str, version: int) -> int:
    """A stable 63-bit advisory lock key for one version of one read model."""
    return zlib.crc32(f"handoff-projection:{model}:{version}".encode()) | (1 << 40)


class Worker:
    """Runs one read model's projector for as long as the supervisor lives."""

    def __init__(
        self,
        model: ReadModel,
        conninfo: str,
        events: EventLog,
        events_channel: str,
        stop: threading.Event,
        page_size: int = 500,
    ) -> None:
        self.model, self.conninfo, self.events, self.channel, self.stop = model, conninfo, events, events_channel, stop
        self.page_size = page_size
        self.backoff = 0.5
        self.last_error: str | None = None
        self.holding: int | None = None

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                self._serve()
                self.backoff = 0.5
            except HandlerError as error:
                self._report(error)
            except psycopg.Error as error:
                self.last_error = f"database: {type(error).__name__}"
                log.warning("projection %s: database error %s; retrying", self.model.name, error)
            self.holding = None
            self.stop.wait(self.backoff)
            self.backoff = min(self.backoff * 2, MAX_BACKOFF)

    def _serve(self) -> None:
        with psycopg.connect(
            self.conninfo, autocommit=True, application_name=f"handoff-projector-{self.model.name}"
        ) as conn:
            version = self._active_version(conn)
            if not self._lock(conn, version):
                return
            conn.execute(f'LISTEN "{self.channel}"')
            conn.execute(f"LISTEN {SWITCH_CHANNEL}")
            projector = Projector(self.model, self.conninfo, self.events, version, self.page_size)
            projector.prepare()
            try:
                while not self.stop.is_set():
                    projector.catch_up()
                    self.last_error = None
                    self.backoff = 0.5  # back and working: the next outage starts the backoff again
                    if self._wait_for_commits(conn) and catalog.active_version(conn, self.model.name) != version:
                        return
            finally:
                projector.close()

    def _wait_for_commits(self, conn: psycopg.Connection[Any]) -> bool:
        """Until the next commit is announced, or a second passes: one wake-up for a whole burst of commits.

        True when a rebuild may have switched the live version (announced, or after a quiet second)."""
        for notice in conn.notifies(timeout=WAKE_INTERVAL, stop_after=1):
            return notice.channel == SWITCH_CHANNEL
        return True

    def _active_version(self, conn: psycopg.Connection[Any]) -> int:
        catalog.ensure_catalog(conn)
        with conn.transaction():
            catalog.lock_ddl(conn)
            version = catalog.active_version(conn, self.model.name)
            if version is None:  # the first version: its tables exist before any reader is sent to them
                version = 1
                if not catalog.has_tables(conn, self.model.name, version):
                    with conn.cursor() as cursor:
                        self.model.create(cursor, version)
                catalog.register_version(conn, self.model.name, version, tables_created=True)
                catalog.activate(conn, self.model.name, version)
        return version

    def _lock(self, conn: psycopg.Connection[Any], version: int) -> bool:
        """Take the lock of this version, or wait a moment and let the caller try again."""
        row = conn.execute("SELECT pg_try_advisory_lock(%s)", (lock_key(self.model.name, version),)).fetchone()
        if row and row[0]:
            self.holding = version
            log.info("projection %s v%d: this process is the live projector", self.model.name, version)
            return True
        self.stop.wait(WAKE_INTERVAL)
        return False

    def _report(self, error: HandlerError) -> None:
        self.last_error = str(error)
        log.error(
            "projection %s stopped at event %d (%s): %s",
            error.model,
            error.position,
            error.topic,
            type(error.error).__name__,
        )
        try:
            with psycopg.connect(self.conninfo, autocommit=True) as conn:
                version = catalog.active_version(conn, self.model.name) or 1
                catalog.record_failure(conn, self.model.name, version, error.position, error.topic, str(error))
        except psycopg.Error:
            log.warning("could not record the failure of projection %s", self.model.name)


class Supervisor:
    """One worker thread per read model."""

    def __init__(
        self, models: Sequence[ReadModel], conninfo: str, events: EventLog, events_channel: str, page_size: int = 500
    ) -> None:
        self.stop = threading.Event()
        self.workers = [Worker(m, conninfo, events, events_channel, self.stop, page_size) for m in models]
        self.threads: list[threading.Thread] = []

    def start(self) -> None:
        for worker in self.workers:
            thread = threading.Thread(target=worker.run, name=f"projector-{worker.model.name}", daemon=True)
            thread.start()
            self.threads.append(thread)

    def close(self, timeout: float = 5.0) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout)
