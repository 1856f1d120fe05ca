"""The same service runs on every persistence module: in-memory, SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from service.application.handoff import Handoff
from service.infra.settings import postgres_env
from tests.support import Clock, make_handoff, setup_school


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def postgres_handoff(fresh_postgres_url: str, clock: Clock) -> Iterator[Handoff]:
    handoff = make_handoff(postgres_env(fresh_postgres_url, pool_size=12), clock)
    setup_school(handoff)
    yield handoff
    handoff.close()


@pytest.fixture(params=["popo", "sqlite", "postgres"])
def any_handoff(request: pytest.FixtureRequest, tmp_path: Path, clock: Clock) -> Iterator[Handoff]:
    if request.param == "postgres":
        yield request.getfixturevalue("postgres_handoff")
        return
    env = {"PERSISTENCE_MODULE": "eventsourcing.popo"}
    if request.param == "sqlite":
        env = {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(tmp_path / "events.sqlite")}
    handoff = make_handoff(env, clock)
    setup_school(handoff)
    yield handoff
    handoff.close()
