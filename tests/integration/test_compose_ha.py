"""compose.ha.yaml over compose.yaml, as `docker compose config` reads them: etcd, three Patroni nodes with a
synchronous replica and synchronous_commit on, API workers and one projector on the multi-host URL."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.integration.test_compose import COMPOSE_FILE, REQUIRED_ENV, compose_binary

HA_FILE = COMPOSE_FILE.with_name("compose.ha.yaml")
PATRONI_DIR = COMPOSE_FILE.parent / "docker" / "patroni"
HA_ENV = {**REQUIRED_ENV, "PATRONI_SUPERUSER_PASSWORD": "su-test", "PATRONI_REPLICATION_PASSWORD": "repl-test"}
NODES = ("pg1", "pg2", "pg3")


def ha_config(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    command = [str(compose_binary()), "--env-file", os.devnull, "--file", str(COMPOSE_FILE), "--file", str(HA_FILE)]
    return subprocess.run([*command, "config", "--format", "json"], env=env, capture_output=True, text=True,
                          timeout=60, check=False)  # fmt: skip


@pytest.fixture(scope="module")
def services() -> dict[str, Any]:
    result = ha_config({**os.environ, **HA_ENV})
    assert result.returncode == 0, result.stderr
    found: dict[str, Any] = json.loads(result.stdout)["services"]
    return found


def test_etcd_and_three_patroni_nodes_replace_the_single_server(services: dict[str, Any]) -> None:
    assert sorted(services) == ["api", "etcd", "pg1", "pg2", "pg3", "projector"]
    assert "endpoint" in services["etcd"]["healthcheck"]["test"]
    for name in NODES:
        node = services[name]
        assert node["build"]["context"] == str(PATRONI_DIR)
        assert node["environment"]["PATRONI_NAME"] == name
        assert node["environment"]["PATRONI_POSTGRESQL_CONNECT_ADDRESS"] == f"{name}:5432"
        assert node["depends_on"]["etcd"]["condition"] == "service_healthy"
        assert node["volumes"][0]["source"] == f"{name}-data"
        assert "/health" in " ".join(node["healthcheck"]["test"])


def test_the_cluster_commits_synchronously_to_a_replica() -> None:
    config = yaml.safe_load((PATRONI_DIR / "patroni.yml").read_text())
    dcs = config["bootstrap"]["dcs"]
    assert dcs["synchronous_mode"] is True
    assert dcs["postgresql"]["parameters"]["synchronous_commit"] == "on"
    assert dcs["postgresql"]["use_pg_rewind"] is True
    assert config["etcd3"]["hosts"] == "etcd:2379"


def test_api_workers_and_the_projector_find_the_primary_among_every_node(services: dict[str, Any]) -> None:
    url = (
        "postgresql://handoff:compose-test-password@pg1:5432,pg2:5432,pg3:5432/handoff?target_session_attrs=read-write"
    )
    api, projector = services["api"], services["projector"]
    for service in (api, projector):
        assert service["environment"]["HANDOFF_DATABASE_URL"] == url
        assert service["environment"]["HANDOFF_ENVIRONMENT"] == "production"
        assert sorted(service["depends_on"]) == list(NODES)
        assert all(service["depends_on"][n]["condition"] == "service_healthy" for n in NODES)
    assert api["deploy"]["replicas"] == 2
    assert projector["command"] == ["handoff", "project"]


def test_the_cluster_passwords_are_required() -> None:
    env = {k: v for k, v in {**os.environ, **HA_ENV}.items() if k != "PATRONI_SUPERUSER_PASSWORD"}
    result = ha_config(env)
    assert result.returncode != 0
    assert "PATRONI_SUPERUSER_PASSWORD" in result.stderr


def test_the_node_image_runs_patroni_with_the_file_checked_here() -> None:
    dockerfile = (PATRONI_DIR / "Dockerfile").read_text()
    assert "patroni[etcd3]" in dockerfile and "COPY --chmod=0644 patroni.yml /etc/patroni/patroni.yml" in dockerfile
    assert Path(PATRONI_DIR / "post_bootstrap.sh").stat().st_mode & 0o111
