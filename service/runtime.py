"""Wiring: settings → database → application. The only place that decides which persistence is used."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from service.app import Handoff
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
    """The application on the configured persistence."""
    return Handoff(settings.persistence_env(url), secret_key=settings.secret_key)
