"""Keeps exactly one live projector per read model running, across any number of processes.

One worker per process projects every read model from one reading of the log (projections.runner.Projectors). It
takes a PostgreSQL advisory lock for each (model, active version) on a connection it keeps open; a model whose lock
another process holds is left to it, and taken over when its holder dies. A model whose handler fails is shown,
retried on its own with backoff, and never holds the others back; after a lost connection the worker waits (with
backoff) and resumes from the stored positions."""

from __future__ import annotations

import logging
import threading
import time
import zlib
from collections.abc import Sequence
from typing import Any

import psycopg

from projections import catalog
from projections.base import ReadModel
from projections.catalog import SWITCH_CHANNEL
from projections.log import EventLog
from projections.runner import Projector, Projectors

log = logging.getLogger("handoff.projections")

WAKE_INTERVAL = 1.0
MAX_BACKOFF = 30.0


def lock_key(model: str, version: int) -> int:
    """A stable 63-bit advisory lock key for one version of one read model."""
    return zlib.crc32(f"handoff-projection:{model}:{version}".encode()) | (1 << 40)


class Worker:
    """Runs the projectors of every read model for as long as the supervisor lives, from one reading of the log.

    It holds the advisory lock of each model's live version that it could take; a model whose lock another process
    holds is left to that process, and taken over when that process dies (tried again every quiet second)."""

    def __init__(
        self,
        models: Sequence[ReadModel],
        conninfo: str,
        events: EventLog,
        events_channel: str,
        stop: threading.Event,
        page_size: int = 500,
    ) -> None:
        self.models, self.conninfo, self.events, self.channel = models, conninfo, events, events_channel
        self.stop = stop
        self.page_size = page_size
        self.backoff = 0.5
        self.holding: dict[str, int] = {}
        """The models (and their versions) this process is the live projector of."""

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                self._serve()
                self.backoff = 0.5
            except psycopg.Error as error:
                log.warning("projections: database error %s; retrying", type(error).__name__)
            self.holding = {}
            self.stop.wait(self.backoff)
            self.backoff = min(self.backoff * 2, MAX_BACKOFF)

    def _serve(self) -> None:
        with psycopg.connect(self.conninfo, autocommit=True, application_name="handoff-projector-listen") as conn:
            versions = {model.name: self._active_version(conn, model) for model in self.models}
            if not self._lock(conn, versions):
                self.stop.wait(WAKE_INTERVAL)
                return
            conn.execute(f'LISTEN "{self.channel}"')
            conn.execute(f"LISTEN {SWITCH_CHANNEL}")
            held = [model for model in self.models if model.name in self.holding]
            projectors = [
                Projector(model, self.conninfo, self.events, versions[model.name], self.page_size) for model in held
            ]
            for projector in projectors:
                projector.prepare()
            group = Projectors(projectors, self.conninfo, self.events, self.page_size)
            checked = time.monotonic()
            try:
                while not self.stop.is_set():
                    group.catch_up()
                    self.backoff = 0.5  # back and working: the next outage starts the backoff again
                    switched = self._wait_for_commits(conn)
                    if switched or time.monotonic() - checked >= WAKE_INTERVAL:  # each second, however busy
                        checked = time.monotonic()
                        if self._changed(conn, versions):
                            return
            finally:
                group.close()

    def _wait_for_commits(self, conn: psycopg.Connection[Any]) -> bool:
        """Until the next commit is announced, or a second passes: one wake-up for a whole burst of commits.

        True when a rebuild may have switched a live version (announced, or after a quiet second)."""
        for notice in conn.notifies(timeout=WAKE_INTERVAL, stop_after=1):
            return notice.channel == SWITCH_CHANNEL
        return True

    def _changed(self, conn: psycopg.Connection[Any], versions: dict[str, int]) -> bool:
        """A live version switched (the worker starts again on the new one), or a model's lock came free."""
        live = dict(conn.execute("SELECT projection, active_version FROM projection_versions").fetchall())
        if any(live.get(name) != version for name, version in versions.items()):
            return True
        free = {name: version for name, version in versions.items() if name not in self.holding}
        return bool(free) and self._lock(conn, free)

    def _active_version(self, conn: psycopg.Connection[Any], model: ReadModel) -> int:
        catalog.ensure_catalog(conn)
        with conn.transaction():
            catalog.lock_ddl(conn)
            version = catalog.active_version(conn, model.name)
            if version is None:  # the first version: its tables exist before any reader is sent to them
                version = 1
                if not catalog.has_tables(conn, model.name, version):
                    with conn.cursor() as cursor:
                        model.create(cursor, version)
                catalog.register_version(conn, model.name, version, tables_created=True)
                catalog.activate(conn, model.name, version)
        return version

    def _lock(self, conn: psycopg.Connection[Any], versions: dict[str, int]) -> bool:
        """Take the lock of each of these versions that no other process holds; True if any was taken."""
        taken = False
        for name, version in versions.items():
            row = conn.execute("SELECT pg_try_advisory_lock(%s)", (lock_key(name, version),)).fetchone()
            if row and row[0]:
                self.holding[name] = version
                taken = True
                log.info("projection %s v%d: this process is the live projector", name, version)
        return taken


class Supervisor:
    """One worker thread for every read model."""

    def __init__(
        self, models: Sequence[ReadModel], conninfo: str, events: EventLog, events_channel: str, page_size: int = 500
    ) -> None:
        self.stop = threading.Event()
        self.workers = [Worker(models, conninfo, events, events_channel, self.stop, page_size)]
        self.threads: list[threading.Thread] = []

    def start(self) -> None:
        for worker in self.workers:
            thread = threading.Thread(target=worker.run, name="projector", daemon=True)
            thread.start()
            self.threads.append(thread)

    def close(self, timeout: float = 5.0) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout)
