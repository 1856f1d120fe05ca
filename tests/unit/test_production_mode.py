"""Production refuses what is only for development, each with a message that says what to set instead."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from service.cli.main import app
from service.infra.settings import Settings

PRODUCTION = {
    "HANDOFF_ENVIRONMENT": "production",
    "HANDOFF_SECRET_KEY": "p" * 40,
    "HANDOFF_DATABASE_URL": "postgresql://handoff:pw@127.0.0.1:1/handoff",
    "HANDOFF_NOTIFIER": "webhook",
    "HANDOFF_WEBHOOK_URL": "https://gateway.school.example/messages",
}


@pytest.fixture
def production(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name, value in PRODUCTION.items():
        monkeypatch.setenv(name, value)
    return monkeypatch


def test_production_with_its_own_database_and_gateway_is_accepted(production: pytest.MonkeyPatch) -> None:
    assert Settings().environment == "production"


def test_production_refuses_the_embedded_database(production: pytest.MonkeyPatch) -> None:
    production.delenv("HANDOFF_DATABASE_URL")
    with pytest.raises(ValidationError, match="HANDOFF_DATABASE_URL=postgresql://"):
        Settings()


@pytest.mark.parametrize("persistence", ["memory", "sqlite"])
def test_production_refuses_persistence_other_than_postgres(production: pytest.MonkeyPatch, persistence: str) -> None:
    production.setenv("HANDOFF_PERSISTENCE", persistence)
    with pytest.raises(ValidationError, match="HANDOFF_PERSISTENCE=postgres"):
        Settings()


def test_production_refuses_the_console_notifier(production: pytest.MonkeyPatch) -> None:
    production.setenv("HANDOFF_NOTIFIER", "console")
    with pytest.raises(ValidationError, match="HANDOFF_NOTIFIER=webhook"):
        Settings()


def test_a_webhook_notifier_needs_its_url(production: pytest.MonkeyPatch) -> None:
    production.delenv("HANDOFF_WEBHOOK_URL")
    with pytest.raises(ValidationError, match="HANDOFF_WEBHOOK_URL"):
        Settings()


def test_production_refuses_the_demo_seed_and_prints_no_token(production: pytest.MonkeyPatch) -> None:
    """The refusal comes before any database is opened (the URL above points at a closed port)."""
    for command in (["seed-demo"], ["serve", "--seed"]):
        result = CliRunner().invoke(app, command)
        assert result.exit_code != 0, command
        assert "demo school" in result.output and "HANDOFF_ENVIRONMENT=development" in result.output, result.output
        assert "hs1." not in result.output
