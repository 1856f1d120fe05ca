"""P2: gate commands per second over HTTP at 32 concurrent clients, a dismissal on the demo school, p50 and p99,
against a bare FastAPI endpoint doing one INSERT per request, served the same way (uvicorn, same workers).

Each client takes the next child of the day and walks it through check-in (签到), guardian arrival with the
pickup code (家长到达), mutual confirmation (互相确认) and release (离校), one request after the other, with
the tokens of a teacher and a gate guard. When every enrolled child has gone home, the server's clock moves to
the next school day. The projector runs as a process of its own throughout, as in compose.yaml. The load comes
from one client process with raw keep-alive HTTP/1.1 on asyncio, cheap enough to leave the cores to the server."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import psycopg
from eventsourcing.utils import get_topic

from bench.client import CHILDREN, Connection, dismissal_days, run_load, steps, summary
from bench.common import ROOT, SECRET, database
from bench.http_app import set_clock
from bench.paced import paced_dismissal
from events.custody import ChildCheckedIn, ChildReleased, GuardianAndChildConfirmed, GuardianArrived
from service.application.handoff import Handoff
from service.demo.seed import seed_demo
from service.infra.settings import postgres_env

CLIENTS = 32


async def dismissal(port: int, tokens: dict[str, str], clock_file: Path, seconds: float) -> dict[str, Any]:
    """School days one after the other until `seconds` have passed (the day under way is finished)."""
    connections = [Connection(port) for _ in range(CLIENTS)]
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    answered: dict[str, int] = {}
    days = dismissal_days()
    busy = 0.0
    for number, day in enumerate(days):
        set_clock(clock_file, day)
        await asyncio.sleep(0.05)
        waiting = list(reversed(CHILDREN))
        began = time.perf_counter()
        found = await asyncio.gather(*(_walk(c, waiting, tokens, day) for c in connections))
        for kinds in found:
            for kind, status, _ in kinds:
                if status == 200:
                    answered[kind] = answered.get(kind, 0) + 1
        if number == 0:
            continue  # warm-up: every worker has started and loaded its caches
        busy += time.perf_counter() - began
        for kinds in found:
            for kind, status, latency in kinds:
                latencies.append(latency * 1000)
                statuses[f"{kind} {status}"] = statuses.get(f"{kind} {status}", 0) + 1
        if busy >= seconds:
            break
    return {**summary(latencies, busy, statuses), "answered_200": answered, "days": number + 1}


async def _walk(
    connection: Connection, waiting: list[str], tokens: dict[str, str], day: datetime
) -> list[tuple[str, int, float]]:
    done = []
    while waiting:
        for kind, path, body, headers in steps(waiting.pop(), tokens, day):
            status, latency = await connection.post(path, body, headers)
            done.append((kind, status, latency))
    return done


async def bare_inserts(port: int, seconds: float) -> dict[str, Any]:
    connections = [Connection(port) for _ in range(CLIENTS)]
    body = {"device_id": "gate-tablet", "device_time": "2026-12-01T16:30:00+08:00", "payload": "x" * 300}
    latencies: list[float] = []

    async def send(connection: Connection, until: float, record: bool) -> None:
        while time.perf_counter() < until:
            status, latency = await connection.post("/insert", body, {})
            assert status == 200, status
            if record:
                latencies.append(latency * 1000)

    await asyncio.gather(*(send(c, time.perf_counter() + 1.0, False) for c in connections))  # warm-up
    began = time.perf_counter()
    await asyncio.gather(*(send(c, began + seconds, True) for c in connections))
    return summary(latencies, time.perf_counter() - began, {"insert 200": len(latencies)})


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve(factory: str, env: dict[str, str], workers: int) -> tuple[subprocess.Popen[bytes], int]:
    """The app on uvicorn's command line (for its --workers), with the HTTP stack of `handoff serve`: the same
    protocol (httptools with the header deadline), event loop, keep-alive timeout and concurrency limit, for the
    Handoff API and the bare baseline alike."""
    from service.http.server import HeaderDeadline, server_config  # imported here: only serve() is changed

    stack = server_config(None, "127.0.0.1", 0)  # its options; its protocol class is made per call, not importable
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", f"bench.http_app:{factory}", "--factory", "--workers", str(workers)]
    command += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning", "--no-access-log"]
    command += ["--http", f"{HeaderDeadline.__module__}:{HeaderDeadline.__qualname__}", "--loop", str(stack.loop)]
    command += ["--timeout-keep-alive", str(stack.timeout_keep_alive)]
    command += ["--limit-concurrency", str(stack.limit_concurrency)]
    server = subprocess.Popen(command, env={**os.environ, **env, "PYTHONPATH": str(ROOT)}, cwd=ROOT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            time.sleep(1.0 * workers)  # every worker has imported the app
            return server, port
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise RuntimeError(f"{factory} did not start")


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(20)
    except subprocess.TimeoutExpired:
        process.kill()


def p2(template_url: str, server_url: str, seconds: float, workers: int = 2, before: bool = False) -> dict[str, Any]:
    """The dismissal with group commit, with the library's recorder too when `before`, then the bare endpoint."""
    found = {"handoff": dismissal_run(template_url, server_url, seconds, workers, group_commit=True)}
    if before:
        found["library"] = dismissal_run(template_url, server_url, seconds, workers, group_commit=False)
    return {**found, "bare": bare_run(server_url, seconds, workers), "workers": workers, "clients": CLIENTS}


def dismissal_run(template_url: str, server_url: str, seconds: float, workers: int, group_commit: bool) -> Any:
    """The dismissal as fast as 32 clients go; with group commit, then a paced one at half the rate reached."""
    with handoff_server(server_url, template_url, "p2", workers, group_commit) as served:
        found = run_load(dismissal, served.port, served.tokens, served.clock_file, seconds)
        answered = found["answered_200"]
        if group_commit:
            half = found["requests_per_second"] / 2
            pace = served.port, served.tokens, served.clock_file, half, seconds / 2, found["days"], CLIENTS, 1.0
            found["half_rate"] = run_load(paced_dismissal, *pace)
            answered = {kind: n + found["half_rate"]["answered_200"].get(kind, 0) for kind, n in answered.items()}
        return {**found, "checked": check_log_and_views(served.url, answered)}


@dataclass(frozen=True)
class Served:
    """A Handoff API being served on a copy of the demo school: its database, port, tokens, clock file, and the
    process ids of the API (uvicorn's, whose workers are its children) and of the projector."""

    url: str
    port: int
    tokens: dict[str, str]
    clock_file: Path
    api_pid: int = 0
    projector_pid: int = 0


@contextmanager
def handoff_server(
    server_url: str, template_url: str, purpose: str, workers: int, group_commit: bool = True, app: str = "handoff_app"
) -> Iterator[Served]:
    """The demo school copied into a database of its own, with a token per role, the projector as a process of its
    own, and the API (`app`, a factory of bench.http_app) in `workers` uvicorn workers."""
    with (
        tempfile.TemporaryDirectory(prefix="handoff-bench-http-") as folder,
        database(server_url, purpose, template=template_url) as url,
    ):
        scratch = Path(folder)
        handoff = Handoff(postgres_env(url), secret_key=SECRET)
        tokens = seed_demo(handoff, scratch / "tokens.json").tokens
        handoff.close()
        env = {
            "HANDOFF_DATABASE_URL": url,
            "HANDOFF_SECRET_KEY": SECRET,
            "BENCH_CLOCK_FILE": str(scratch / "clock"),
            "HANDOFF_GROUP_COMMIT": "1" if group_commit else "0",
        }
        set_clock(scratch / "clock", datetime.now(timezone.utc))
        projector = subprocess.Popen(
            [sys.executable, "-m", "service.cli.main", "project"],
            env={**os.environ, **env, "HANDOFF_DATA_DIR": str(scratch), "PYTHONPATH": str(ROOT)},
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            api, port = serve(app, env, workers)
            try:
                yield Served(url, port, tokens, scratch / "clock", api.pid, projector.pid)
            finally:
                stop(api)
        finally:
            stop(projector)


TOPICS = {
    "check-in": get_topic(ChildCheckedIn),
    "guardian-arrival": get_topic(GuardianArrived),
    "confirmation": get_topic(GuardianAndChildConfirmed),
    "release": get_topic(ChildReleased),
}


def check_log_and_views(url: str, answered: dict[str, int]) -> dict[str, Any]:
    """Several API workers and the projector on one database lost nothing and doubled nothing: every 200 answer is
    one event in the log, the log's ids have no gaps, and the audit view, once caught up, holds each change once."""
    with psycopg.connect(url, autocommit=True) as conn:
        logged = dict(conn.execute("SELECT topic, count(*) FROM handoff_events GROUP BY topic").fetchall())
        ids = conn.execute("SELECT count(*), min(notification_id), max(notification_id) FROM handoff_events").fetchone()
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            row = conn.execute("SELECT position FROM projection_positions WHERE projection = 'audit'").fetchone()
            if row and row[0] >= ids[2]:
                break
            time.sleep(0.2)
        audit = dict(conn.execute("SELECT kind, count(*) FROM audit_v1_changes GROUP BY kind").fetchall())
    log_matches = all(logged.get(TOPICS[kind], 0) == count for kind, count in answered.items())
    return {
        "log_matches_answers": log_matches,
        "ids_without_gaps": ids[0] == ids[2] - ids[1] + 1,
        "audit_matches_log": audit.get("check_in") == answered.get("check-in")
        and audit.get("release") == answered.get("release"),
        "events": ids[0],
    }


def bare_run(server_url: str, seconds: float, workers: int) -> Any:
    with database(server_url, "p2_bare") as url:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(
                "CREATE TABLE bare_rows (id bigserial PRIMARY KEY, device_id text, device_time timestamptz,"
                " payload text)"
            )
        bare, port = serve("bare_app", {"HANDOFF_DATABASE_URL": url}, workers)
        try:
            return run_load(bare_inserts, port, seconds)
        finally:
            stop(bare)
