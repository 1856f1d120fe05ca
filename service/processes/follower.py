"""One base for the processes that follow the log: policies, notifier, checkpoints and the live stream.

Each runs in a thread of its own, on one PostgreSQL connection it opens and reopens itself. A follower that must be
the only one active across all processes names an advisory lock: it serves only while it holds it, and another
process takes over when the holder's connection drops. A lost connection or a failover is retried after a pause
that doubles up to `max_backoff` and starts again from the shortest once a round of work has succeeded."""

from __future__ import annotations

import logging
import threading
from typing import Any

import psycopg
from eventsourcing.persistence import PersistenceError

MAX_BACKOFF = 5.0


class Follower:
    """Calls `step` again and again on its own connection, `interval` seconds apart, until closed."""

    name = "follower"
    lock: int | None = None
    """An advisory lock key: with one, a single follower of this kind is active across all processes."""
    max_backoff = MAX_BACKOFF

    def __init__(self, conninfo: str, interval: float = 1.0) -> None:
        self.conninfo, self.interval = conninfo, interval
        self.last_error: str | None = None
        self.backoff = self.first_pause
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self.log = logging.getLogger(f"handoff.{self.name}")

    def start(self) -> None:
        self.thread.start()

    def close(self, timeout: float = 10.0) -> None:
        self.stop.set()
        self.thread.join(timeout)

    def begin(self, conn: psycopg.Connection[Any]) -> None:
        """Once per connection, before the first step (e.g. LISTEN)."""

    def step(self, conn: psycopg.Connection[Any]) -> None:
        """One round of work."""
        raise NotImplementedError

    def _run(self) -> None:
        while not self.stop.is_set():
            try:
                self._serve()
                self.backoff = self.first_pause
            except (psycopg.Error, PersistenceError) as error:
                self.last_error = f"database: {type(error).__name__}"
                self.log.warning("%s: database error %s; retrying", self.name, type(error).__name__)
            self.stop.wait(self.backoff)
            self.backoff = min(self.backoff * 2, self.max_backoff)

    @property
    def first_pause(self) -> float:
        return min(self.interval or 0.5, self.max_backoff)

    def _serve(self) -> None:
        with psycopg.connect(self.conninfo, autocommit=True, application_name=f"handoff-{self.name}") as conn:
            if self.lock is not None and not self._locked(conn, self.lock):
                return  # another process holds it; try again after the pause
            self.begin(conn)
            while not self.stop.is_set():
                self.step(conn)
                self.last_error, self.backoff = None, self.first_pause
                self.stop.wait(self.interval)

    @staticmethod
    def _locked(conn: psycopg.Connection[Any], key: int) -> bool:
        row = conn.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()
        return bool(row and row[0])
