"""Wiring: settings → database → application. The only place that decides which persistence is used."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from projections.log import EventLog
from projections.registry import READ_MODELS
from projections.supervisor import Supervisor
from service.app import Handoff
from service.live import ViewWatcher
from service.personal_data import PostgresKeyStore
from service.readside import ReadSide
from service.settings import Settings

log = logging.getLogger("handoff")

EMBEDDED_DATABASE = "handoff"


@contextmanager
def database_url(settings: Settings) -> Iterator[str | None]:
    """The PostgreSQL URL to use: HANDOFF_DATABASE_URL, else an embedded server with its data under data_dir.

    The embedded server is stopped on exit if this process started it."""
    if settings.persistence != "postgres":
        yield None
        return
    if settings.database_url:
        yield settings.database_url
        return
    from service.embedded_postgres import EmbeddedPostgres, create_database

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    with EmbeddedPostgres(settings.data_dir / "pgdata") as server:
        yield create_database(server.url, EMBEDDED_DATABASE)


def build_handoff(settings: Settings, url: str | None) -> Handoff:
    """The application on the configured persistence; children's keys live beside it in PostgreSQL."""
    keys = PostgresKeyStore(url, settings.secret_key.encode()) if url else None
    return Handoff(settings.persistence_env(url), secret_key=settings.secret_key, keys=keys)


def event_log(handoff: Handoff) -> EventLog:
    return EventLog(handoff.recorder, handoff.mapper)


def projector_supervisor(handoff: Handoff, url: str, page_size: int = 500) -> Supervisor:
    """The supervised projectors of every read model (one live runner per model across all processes)."""
    channel = getattr(handoff.recorder, "channel_name", "handoff_events")
    return Supervisor(list(READ_MODELS.values()), url, event_log(handoff), channel, page_size)


@dataclass
class ReadStack:
    """What the API needs to serve the views: the read side, the watcher, and maybe the projectors themselves."""

    read: ReadSide
    watcher: ViewWatcher
    supervisor: Supervisor | None

    def close(self) -> None:
        if self.supervisor:
            self.supervisor.close()
        self.watcher.close()
        self.read.close()


def read_stack(handoff: Handoff, url: str | None, with_projector: bool, page_size: int = 500) -> ReadStack | None:
    """Views need PostgreSQL; without it (memory or SQLite persistence) the API serves commands only."""
    if url is None:
        return None
    supervisor = projector_supervisor(handoff, url, page_size) if with_projector else None
    if supervisor:
        supervisor.start()
    watcher = ViewWatcher(url)
    watcher.start()
    return ReadStack(ReadSide(url, event_log(handoff), handoff.clock), watcher, supervisor)
