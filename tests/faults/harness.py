"""The pieces every fault test uses: the API as a process of its own (`handoff serve`) that can be killed with
kill -9 and started again, tablets sending commands under load and retrying with the same idempotency keys, and the
ledger of what each command was answered."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import httpx2

from tests.faults.school import PICKUP_CODE, SCHOOL, TEACHERS, School
from tests.support import SECRET

ROOT = Path(__file__).resolve().parents[2]
COMMAND_DEADLINE = 60.0
"""A command still unanswered after this long is given up on, and reported."""


STARTED: list[ApiProcess | ProjectorProcess] = []
"""Every server process a test started; the fixture `stop_processes` stops them all after each test, whatever
happened in it."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_env(database_url: str, folder: Path, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "HANDOFF_DATABASE_URL": database_url,
        "HANDOFF_SECRET_KEY": SECRET,
        "HANDOFF_DATA_DIR": str(folder),
        "HANDOFF_CHECKPOINT_INTERVAL": "3600",
        "PYTHONPATH": str(ROOT),
        **extra,
    }


class ApiProcess:
    """`handoff serve` on a loopback port, with the projector inside it as the CLI runs it (unless told not to)."""

    def __init__(self, database_url: str, folder: Path, *, projector: bool = True) -> None:
        self.database_url, self.folder, self.projector = database_url, folder, projector
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> None:
        command = [sys.executable, "-m", "service.cli.main", "serve", "--no-seed", "--host", "127.0.0.1"]
        command += ["--port", str(self.port)] + ([] if self.projector else ["--no-projector"])
        log = open(self.folder / f"server-{self.starts}.log", "wb")  # noqa: SIM115 - the process owns it
        self.process = subprocess.Popen(
            command, env=server_env(self.database_url, self.folder), cwd=ROOT, stdout=log, stderr=subprocess.STDOUT
        )
        log.close()
        STARTED.append(self)
        self.starts += 1
        self.wait_until_healthy()

    def wait_until_healthy(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            assert self.process is not None and self.process.poll() is None, f"the server died: {self.log_tail()}"
            try:
                if httpx2.get(f"{self.url}/health", timeout=2).status_code == 200:
                    return
            except httpx2.TransportError:
                pass
            assert time.monotonic() < deadline, f"the server did not become healthy: {self.log_tail()}"
            time.sleep(0.1)

    def kill(self) -> None:
        """kill -9: no shutdown, no flushing, connections to PostgreSQL simply drop."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()

    def log_tail(self) -> str:
        logs = sorted(self.folder.glob("server-*.log"))
        return logs[-1].read_text(errors="replace")[-3000:] if logs else "(no log)"


class ProjectorProcess:
    """`handoff project`: the projectors, the checkpoint signer and the policies, in a process of their own."""

    def __init__(self, database_url: str, folder: Path, page_size: int = 100) -> None:
        self.database_url, self.folder, self.page_size = database_url, folder, page_size
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        env = server_env(self.database_url, self.folder, HANDOFF_PROJECTOR_PAGE_SIZE=str(self.page_size))
        with open(self.folder / "projector.log", "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "service.cli.main", "project"], env=env, cwd=ROOT, stdout=log, stderr=log
            )
        STARTED.append(self)

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()


@dataclass
class Command:
    """One command as a tablet sends it: the same key and the same body on every retry."""

    child: str
    path: str
    who: str
    body: dict[str, Any]
    key: str = field(default_factory=lambda: f"fault-{uuid.uuid4().hex}")
    attempts: int = 0
    status: int | None = None
    """The final answer's status: 200 acknowledged, a 4xx refusal, None if never answered."""
    answer: dict[str, Any] | None = None
    sent_at: float | None = None
    """When the last attempt was sent (time.monotonic())."""
    answered_at: float | None = None
    """When the final answer came (time.monotonic())."""
    failures: Counter[str] = field(default_factory=Counter)
    """Why attempts before the final one failed: a transport error's name, or a 5xx status."""
    abandoned: bool = False
    """The tablet gave up after a failed attempt and never retried: the command may or may not be stored."""

    @property
    def acknowledged(self) -> bool:
        return self.status == 200


def handoff_steps(child: str, n: int) -> list[tuple[str, str, dict[str, Any]]]:
    """The whole handoff of one child: checked in by one teacher, handed to another, collected by the guardian."""
    first, second = TEACHERS[n % len(TEACHERS)], TEACHERS[(n + 1) % len(TEACHERS)]
    guardian = f"G{child[1:]}"
    arrival = {"guardian_id": guardian, "verification": "pickup_code", "pickup_code": PICKUP_CODE}
    mutual = {"guardian_id": guardian, "guardian_recognised_child": True, "child_recognised_guardian": True}
    return [
        ("check-in", first, {"place_code": "P1"}),
        ("transfer", first, {"to_custodian_id": second, "to_place_code": "P2"}),
        ("guardian-arrival", "gate-1", arrival),
        ("confirmation", second, mutual),
        ("release", second, {"guardian_id": guardian}),
    ]


STEPS = ("ChildCheckedIn", "ChildTransferred", "GuardianArrived", "GuardianAndChildConfirmed", "ChildReleased")
"""The custody events each child's stream must hold afterwards, each exactly once, in this order."""


class Load:
    """Tablets (threads) taking every child through the whole handoff, in waves of one step for all their children,
    retrying each command with its own idempotency key until it gets an answer that is not a server error."""

    def __init__(self, base_url: str, school: School, clients: int = 6, quitters: int = 0, pause: float = 0.0) -> None:
        self.base_url, self.school, self.clients = base_url, school, clients
        self.quitters = quitters
        self.pause = pause
        """Seconds each tablet waits after each answer: a load that lasts long enough for the faults planned."""
        """How many tablets give up at their first failed attempt (switched off, say) and send nothing more."""
        self.commands: list[Command] = []
        self.lock = threading.Lock()
        self.answered = 0
        self.threads: list[threading.Thread] = []

    @property
    def total(self) -> int:
        return len(self.school.children) * len(STEPS)

    @property
    def requests(self) -> int:
        return sum(command.attempts for command in self.commands)

    def start(self) -> None:
        for n in range(self.clients):
            mine = [(i, child) for i, child in enumerate(self.school.children) if i % self.clients == n]
            thread = threading.Thread(target=self._tablet, args=(n, mine), name=f"tablet-{n}", daemon=True)
            thread.start()
            self.threads.append(thread)

    def wait_for(self, answered: int, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while self.answered < answered and any(t.is_alive() for t in self.threads):
            assert time.monotonic() < deadline, f"only {self.answered} of {answered} commands answered"
            time.sleep(0.01)

    def join(self, timeout: float = 120.0) -> None:
        for thread in self.threads:
            thread.join(timeout)
            assert not thread.is_alive(), "a tablet is still sending"

    def _tablet(self, n: int, mine: list[tuple[int, str]]) -> None:
        with httpx2.Client(base_url=self.base_url, timeout=10) as client:
            for step in range(len(STEPS)):
                for i, child in mine:
                    path, who, body = handoff_steps(child, i)[step]
                    command = Command(child, path, who, self._with_device(n, body))
                    self._send(client, command, quits=n < self.quitters)
                    if command.abandoned:
                        return
                    time.sleep(self.pause)

    def _with_device(self, n: int, body: dict[str, Any]) -> dict[str, Any]:
        device_time = datetime.now(timezone.utc)
        return {"device_id": f"tablet-{n}", "device_time": device_time.isoformat(), **body}

    def _send(self, client: httpx2.Client, command: Command, quits: bool) -> None:
        with self.lock:
            self.commands.append(command)
        headers = {"Authorization": f"Bearer {self.school.tokens[command.who]}", "Idempotency-Key": command.key}
        url = f"/api/v1/schools/{SCHOOL}/children/{command.child}/{command.path}"
        deadline = time.monotonic() + COMMAND_DEADLINE
        while time.monotonic() < deadline:
            command.attempts += 1
            command.sent_at = time.monotonic()
            try:
                response = client.post(url, json=command.body, headers=headers)
            except httpx2.TransportError as error:
                command.failures[type(error).__name__] += 1
            else:
                if response.status_code < 500:
                    command.status, command.answer = response.status_code, response.json()
                    command.answered_at = time.monotonic()
                    break
                command.failures[str(response.status_code)] += 1
            if quits:
                command.abandoned = True
                break
            time.sleep(0.05)
        with self.lock:
            self.answered += 1
