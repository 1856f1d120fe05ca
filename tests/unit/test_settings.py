"""Settings: validated once, turned into the persistence environment, default secrets refused in production."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from service.infra.settings import Settings, postgres_env


def test_production_refuses_the_development_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HANDOFF_ENVIRONMENT", "production")
    with pytest.raises(ValidationError, match="HANDOFF_SECRET_KEY"):
        Settings()


def test_production_accepts_a_long_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HANDOFF_ENVIRONMENT", "production")
    monkeypatch.setenv("HANDOFF_SECRET_KEY", "x" * 40)
    monkeypatch.setenv("HANDOFF_DATABASE_URL", "postgresql://handoff@db.example/handoff")
    monkeypatch.setenv("HANDOFF_NOTIFIER", "off")
    assert Settings().environment == "production"


def test_a_postgres_url_becomes_the_eventsourcing_environment() -> None:
    env = postgres_env("postgresql://alice:p%40ss@db.example:6543/handoff")
    assert (env["POSTGRES_HOST"], env["POSTGRES_PORT"], env["POSTGRES_DBNAME"]) == ("db.example", "6543", "handoff")
    assert (env["POSTGRES_USER"], env["POSTGRES_PASSWORD"]) == ("alice", "p@ss")


def test_a_url_of_another_database_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="postgresql"):
        postgres_env("mysql://x@y/z")


def test_memory_persistence_needs_no_database() -> None:
    assert Settings(persistence="memory").persistence_env() == {
        "PERSISTENCE_MODULE": "eventsourcing.popo",
        "STATE_CACHE_SIZE": "20000",
    }
    assert Settings(state_cache_size=0).persistence_env("postgresql://u:p@h/d")["STATE_CACHE_SIZE"] == "0"
