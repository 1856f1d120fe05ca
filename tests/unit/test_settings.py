"""Settings: validated once, turned into the persistence environment, default secrets refused in production."""

from __future__ import annotations

import pytest
from eventsourcing.persistence import InfrastructureFactory
from eventsourcing.utils import Environment
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


def test_a_multi_host_url_lists_every_server_and_asks_for_the_primary() -> None:
    """A Patroni cluster's URL: libpq tries each host in turn and keeps the first that accepts writes."""
    env = postgres_env("postgresql://alice:pw@10.0.0.1:5432,10.0.0.2:5433/handoff?target_session_attrs=read-write")
    assert (env["POSTGRES_HOST"], env["POSTGRES_PORT"]) == ("10.0.0.1,10.0.0.2", "5432,5433")
    assert (env["POSTGRES_DBNAME"], env["POSTGRES_USER"], env["POSTGRES_PASSWORD"]) == ("handoff", "alice", "pw")
    assert env["POSTGRES_TARGET_SESSION_ATTRS"] == "read-write"


def test_the_event_store_connects_only_to_a_server_that_accepts_writes() -> None:
    url = "postgresql://alice:pw@10.0.0.1:5432,10.0.0.2:5433/handoff?target_session_attrs=read-write"
    factory = InfrastructureFactory.construct(Environment(env=postgres_env(url)))
    try:
        assert factory.datastore.pool.kwargs["target_session_attrs"] == "read-write"  # type: ignore[attr-defined]
    finally:
        factory.close()


def test_a_url_of_another_database_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="postgresql"):
        postgres_env("mysql://x@y/z")


def test_memory_persistence_needs_no_database() -> None:
    assert Settings(persistence="memory").persistence_env() == {
        "PERSISTENCE_MODULE": "eventsourcing.popo",
        "STATE_CACHE_SIZE": "20000",
    }
    assert Settings(state_cache_size=0).persistence_env("postgresql://u:p@h/d")["STATE_CACHE_SIZE"] == "0"


def test_shards_come_from_json_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HANDOFF_SHARDS", '{"east": "postgresql://h@db1/east", "west": "postgresql://h@db2/west"}')
    monkeypatch.setenv("HANDOFF_DISTRICT_SHARDS", '{"330106": "west"}')
    settings = Settings()
    assert list(settings.shards) == ["east", "west"]
    assert settings.district_shards == {"330106": "west"}


def test_no_shards_means_the_one_database() -> None:
    assert Settings().shards == {}


@pytest.mark.parametrize(
    ("shards", "districts", "problem"),
    [
        ({"east": "mysql://x@y/z"}, {}, "postgresql"),
        ({"no way": "postgresql://x@y/z"}, {}, "shard name"),
        ({"east": "postgresql://x@y/z"}, {"330106": "west"}, "not in HANDOFF_SHARDS"),
    ],
)
def test_a_bad_shard_map_is_refused(shards: dict[str, str], districts: dict[str, str], problem: str) -> None:
    with pytest.raises(ValidationError, match=problem):
        Settings(shards=shards, district_shards=districts)
