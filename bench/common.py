"""What every benchmark shares: the durable PostgreSQL server, the machine's description, events and percentiles."""

from __future__ import annotations

import os
import platform
import shutil
import statistics
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta, timezone
from functools import reduce
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from aggregates.base import EventMeta
from aggregates.custody import Custody, evolve
from aggregates.enrolment import Agreement, Enrolment, Stage
from aggregates.guardians import Guardians
from aggregates.guardians import evolve as guardian_evolve
from events.idempotency import CommandAnswered
from service.infra.embedded_postgres import EmbeddedPostgres, create_database, drop_database

ROOT = Path(__file__).resolve().parents[1]
SECRET = "bench-secret-key-bench-secret-key"
SETTINGS_SHOWN = (
    "server_version",
    "synchronous_commit",
    "fsync",
    "full_page_writes",
    "wal_sync_method",
    "commit_delay",
    "shared_buffers",
    "max_connections",
)


@dataclass
class Result:
    """One line of BENCHMARKS.md: the figure, the baseline measured in the same run, their ratio and the goal."""

    key: str
    title: str
    figure: float
    unit: str
    baseline: float | None
    baseline_what: str
    goal: str
    met: bool
    limit: str
    before: float | None = None
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        return self.figure / self.baseline if self.baseline else None


@contextmanager
def server() -> Iterator[str]:
    """HANDOFF_BENCH_DATABASE_URL, or a durable embedded PostgreSQL (fsync and synchronous_commit on) on disk."""
    url = os.environ.get("HANDOFF_BENCH_DATABASE_URL")
    if url:
        yield url
        return
    folder = Path(tempfile.mkdtemp(prefix="handoff-bench-", dir=os.environ.get("HANDOFF_BENCH_DIR")))
    folder.chmod(0o711)  # started by root, the server's own user must pass through (not read) our folder
    embedded = EmbeddedPostgres(folder / "pgdata", durable=True)
    try:
        yield embedded.start()
    finally:
        embedded.stop()
        shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def database(server_url: str, purpose: str, template: str | None = None) -> Iterator[str]:
    """A database of its own for one benchmark, dropped after it; a copy of `template` (a database URL) if given."""
    name = f"handoff_bench_{purpose}_{os.getpid()}"
    if template:
        with psycopg.connect(server_url, autocommit=True) as conn:
            source = template.rsplit("/", 1)[1]
            conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name), sql.Identifier(source)))
        url = server_url.rsplit("/", 1)[0] + "/" + name
    else:
        url = create_database(server_url, name)
    try:
        yield url
    finally:
        drop_database(server_url, name)


@contextmanager
def demo_school(server_url: str) -> Iterator[str]:
    """A database holding the demo school (seeded once through the ordinary commands), to copy for each benchmark."""
    from service.application.handoff import Handoff
    from service.demo.seed import seed_demo
    from service.infra.settings import postgres_env

    with database(server_url, "demo") as url:
        handoff = Handoff(postgres_env(url), secret_key=SECRET)
        with tempfile.TemporaryDirectory() as tokens:
            seed_demo(handoff, Path(tokens) / "tokens.json")
        handoff.close()
        yield url


def machine(server_url: str) -> dict[str, str]:
    """Cores, CPU, memory, file system of the data, PostgreSQL version and the settings that decide commit cost."""
    with psycopg.connect(server_url) as conn:
        shown = {name: conn.execute(f"SHOW {name}").fetchone()[0] for name in SETTINGS_SHOWN}  # type: ignore[index]
    cpu = next((line.split(":", 1)[1].strip() for line in _lines("/proc/cpuinfo") if line.startswith("model name")), "")
    memory = next((line.split()[1] for line in _lines("/proc/meminfo") if line.startswith("MemTotal")), "0")
    where = os.environ.get("HANDOFF_BENCH_DIR") or tempfile.gettempdir()
    fs = subprocess.run(["df", "-T", where], capture_output=True, text=True, check=False).stdout.splitlines()[-1:]
    return {
        "cores": str(os.cpu_count()),
        "cpu": cpu or platform.processor(),
        "memory": f"{int(memory) // 1024 // 1024} GiB",
        "data file system": fs[0].split()[1] if fs else "?",
        "python": platform.python_version(),
        "load average at start": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        **{f"postgres {k}": v for k, v in shown.items()},
    }


def _lines(path: str) -> list[str]:
    try:
        return Path(path).read_text().splitlines()
    except OSError:
        return []


def cpu_seconds(pid: int) -> float:
    """User and system CPU seconds used so far by a process and its living descendants (Linux: read from /proc)."""
    parents: dict[int, int] = {}
    used: dict[int, float] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended meanwhile
        child = int(stat.parent.name)
        parents[child] = int(fields[1])
        used[child] = stat_cpu_seconds(fields)
    tree, grew = {pid}, True
    while grew:
        grown = tree | {child for child, parent in parents.items() if parent in tree}
        grew, tree = grown != tree, grown
    return sum(used.get(member, 0.0) for member in tree)


def stat_cpu_seconds(fields: list[str]) -> float:
    """User and system CPU seconds from the fields of /proc/PID/stat after the command's closing parenthesis."""
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], q: int) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def afternoon(school: str, child: str, day: datetime) -> list[list[Any]]:
    """The four saves of a child's afternoon, each the custody event and its CommandAnswered, in order."""
    state = Custody.expected(school, child, day.date())
    saves = []
    for number in range(4):
        events = decide(state, number, school, child, day + timedelta(minutes=number))
        state = reduce(evolve, events, state)
        saves.append([*events, answer(events[0])])
    return saves


ENROLLED = replace(
    Enrolment.none("bench", "C", "bench"),
    stage=Stage.ARRANGED,
    agreement=Agreement("G", ("G",), None, date(2000, 1, 1), date(2100, 12, 31)),
)
"""An enrolment covering every day, for deciding check-ins without the command path's reads."""


def decide(state: Custody, command: int, school: str, child: str, now: datetime) -> list[Any]:
    """The events of one step of a child's afternoon (0 check-in, 1 arrival, 2 confirmation, 3 release), decided by
    the Custody aggregate itself but without the command path's reads."""
    actor = ("gate-1", "gate") if command == 1 else ("teacher-1", "teacher")
    meta = EventMeta(school, actor[0], actor[1], "bench", uuid.uuid4().hex, now, now)
    guardian = f"G{child[1:]}A"
    guardians = Guardians.empty(school, child)
    guardians = reduce(guardian_evolve, guardians.authorise(meta, guardian, "mother", "-"), guardians)
    if command == 0:
        return state.check_in(meta, "teacher-1", "T01", None, guardians, ENROLLED)
    if command == 1:
        return state.register_arrival(meta, guardian, guardians, "id_document", None)
    if command == 2:
        return state.confirm(meta, guardian, True, True, guardians)
    return state.release(meta, guardian, guardians)


def answer(event: Any) -> CommandAnswered:
    stamp = {
        k: getattr(event, k)
        for k in ("school_id", "actor_id", "actor_role", "device_id", "idempotency_key", "device_time", "timestamp")
    }
    return CommandAnswered(
        **stamp,
        originator_id=uuid.uuid4(),
        originator_version=1,
        request_fingerprint="bench",
        status_code=200,
        response={"outcome": "recorded"},
        response_version=1,
    )


BASE_DAY = datetime(2026, 12, 1, 8, 30, tzinfo=timezone.utc)
"""A Tuesday, 16:30 in Shanghai: dismissal time."""
