"""compose.yaml's processes for real, with no container engine: the API (`--no-projector`) and the projector run as
local processes with the environment and volumes `docker compose config` renders (each volume a temporary folder),
on a real PostgreSQL standing in for the `db` service, and one export goes through the API."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
import zipfile
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import datetime, timedelta
from io import BytesIO
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx2
import psycopg
import pytest

from replay.verify import verify_bundle
from service.application.context import operator_context
from service.application.handoff import Handoff
from service.infra.settings import postgres_env
from service.infra.signing_keys import load_keys
from tests.faults.harness import free_port
from tests.integration.test_compose import REQUIRED_ENV, compose_config
from tests.support import SCHOOL, setup_school
from tests.witness_support import VKEY, bureau_witness, served

ROOT = Path(__file__).resolve().parents[2]
WORKDIR = "/app"
"""The image's WORKDIR (Dockerfile): a relative HANDOFF_DATA_DIR (`var`) lives under it."""


def rendered() -> dict[str, Any]:
    import json

    result = compose_config({"PATH": os.environ["PATH"], **REQUIRED_ENV})
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def as_process(service: dict[str, Any], root: Path, database_url: str, port: int) -> tuple[list[str], dict[str, str]]:
    """The service's command and environment with its volumes, its WORKDIR and the `db` host mapped to local ones."""
    folders = {WORKDIR: root / "app"}
    for volume in service.get("volumes", []):
        folders[volume["target"]] = root / "volumes" / volume["source"]
    for folder in folders.values():
        folder.mkdir(parents=True, exist_ok=True)
    env = {"PATH": os.environ["PATH"], "HOME": str(root), "PYTHONPATH": str(ROOT)}
    for name, value in service["environment"].items():
        for target, folder in sorted(folders.items(), key=lambda item: -len(item[0])):
            value = value.replace(target + "/", f"{folder}/") if value.startswith(target + "/") else value
        env[name] = value
    assert "@db:5432/" in env["HANDOFF_DATABASE_URL"]
    env["HANDOFF_DATABASE_URL"] = database_url
    env["HANDOFF_CHECKPOINT_INTERVAL"] = "1"  # so that the projector signs a checkpoint before the export
    command = list(service["command"])
    assert command[0] == "handoff"
    command[:1] = [sys.executable, "-m", "service.cli.main"]
    for option, value in (("--host", "127.0.0.1"), ("--port", str(port))):
        if option in command:
            command[command.index(option) + 1] = value
    return command, env


@pytest.fixture
def school(fresh_postgres_url: str) -> Iterator[dict[str, str]]:
    """School S1 set up on the database, and an admin token valid now (the processes use the real clock)."""
    handoff = Handoff(postgres_env(fresh_postgres_url), secret_key=REQUIRED_ENV["HANDOFF_SECRET_KEY"])
    setup_school(handoff)
    yield {"admin": handoff.staff.issue_token(operator_context(SCHOOL), "a1", timedelta(days=1))["token"]}
    handoff.close()


def test_the_compose_layouts_api_and_projector_make_an_export_that_verifies(
    fresh_postgres_url: str, school: dict[str, str], tmp_path: Path
) -> None:
    services = rendered()["services"]
    port = free_port()
    started: list[subprocess.Popen[bytes]] = []
    with ExitStack() as stack:
        run_and_export(stack, services, started, fresh_postgres_url, school, tmp_path, port)


def run_and_export(
    stack: ExitStack,
    services: dict[str, Any],
    started: list[subprocess.Popen[bytes]],
    fresh_postgres_url: str,
    school: dict[str, str],
    tmp_path: Path,
    port: int,
) -> None:
    try:
        (tmp_path / "volumes" / "keys").mkdir(parents=True, exist_ok=True)
        key = load_keys(tmp_path / "volumes" / "keys" / "signing-key.pem")[0]  # the school's, for the witness
        witness = stack.enter_context(served(bureau_witness(tmp_path / "witness", key)))
        for name in ("projector", "api"):
            command, env = as_process(services[name], tmp_path, fresh_postgres_url, port)
            env["HANDOFF_WITNESS_URL"] = witness.url  # the bureau's witness, here in the test's process
            with open(tmp_path / f"{name}.log", "wb") as log:
                started.append(subprocess.Popen(command, env=env, cwd=tmp_path / "app", stdout=log, stderr=log))
        wait_for_a_checkpoint(fresh_postgres_url, started, tmp_path)
        wait_until_healthy(f"http://127.0.0.1:{port}", started, tmp_path)
        today = datetime.now(ZoneInfo("Asia/Shanghai"))
        body = {
            "device_id": "laptop-1",
            "device_time": today.isoformat(timespec="seconds"),
            "day_from": today.date().isoformat(),
            "day_to": today.date().isoformat(),
            "reason": "督导检查 inspection",
        }
        headers = {"Authorization": f"Bearer {school['admin']}", "Idempotency-Key": uuid.uuid4().hex}
        answer = httpx2.post(f"http://127.0.0.1:{port}/api/v1/schools/{SCHOOL}/exports", json=body, headers=headers)
        assert answer.status_code == 200, answer.text + logs(tmp_path)
        with zipfile.ZipFile(BytesIO(answer.content)) as archive:
            archive.extractall(tmp_path / "bundle")
        published = httpx2.get(f"http://127.0.0.1:{port}/api/v1/signing-keys", headers=headers).json()
        verdict = verify_bundle(tmp_path / "bundle", [published["current"]["fingerprint"]], [VKEY])
        assert verdict.ok, verdict.report  # the projector's checkpoints too, cosigned by the witness
    finally:
        for process in started:
            process.terminate()
            process.wait(20)


def wait_for_a_checkpoint(url: str, started: list[subprocess.Popen[bytes]], root: Path) -> None:
    deadline = time.monotonic() + 60
    while True:
        assert all(p.poll() is None for p in started), logs(root)
        with psycopg.connect(url) as conn:
            try:
                if conn.execute("SELECT count(*) FROM tree_checkpoints").fetchone()[0]:  # type: ignore[index]
                    return
            except psycopg.errors.UndefinedTable:
                pass
        assert time.monotonic() < deadline, "the projector signed no checkpoint" + logs(root)
        time.sleep(0.2)


def wait_until_healthy(url: str, started: list[subprocess.Popen[bytes]], root: Path) -> None:
    deadline = time.monotonic() + 60
    while True:
        assert all(p.poll() is None for p in started), logs(root)
        try:
            if httpx2.get(f"{url}/health", timeout=2).status_code == 200:
                return
        except httpx2.TransportError:
            pass
        assert time.monotonic() < deadline, "the API did not become healthy" + logs(root)
        time.sleep(0.2)


def logs(root: Path) -> str:
    return "".join(f"\n--- {log.name}\n{log.read_text(errors='replace')[-3000:]}" for log in root.glob("*.log"))
