"""Commit-to-visible lag of the live occupancy view at a steady offered load (default 500 events/s).

Runs against HANDOFF_BENCH_DATABASE_URL (a server URL; a database is created and dropped) or an embedded
PostgreSQL in a temporary folder. The projector runs as its own process, as in production. Writers save the
events the Custody aggregate decides (check-in, arrival, confirmation, release) with a CommandAnswered each,
paced to the offered rate, without the command path's reads (that path is measured elsewhere). Lag is
measured from the moment save() returned to the moment the projector
announced (NOTIFY on commit) a position at or past the command's last event.

    .venv/bin/python bench/projection_lag.py [--events-per-second 500] [--seconds 20] [--writers 4]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta, timezone
from functools import reduce
from pathlib import Path
from typing import Any

import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from aggregates.custody import Custody, evolve  # noqa: E402
from bench.common import answer, decide  # noqa: E402
from service.application.handoff import Handoff  # noqa: E402
from service.demo.seed import DEMO_SCHOOL, seed_demo  # noqa: E402
from service.infra.embedded_postgres import EmbeddedPostgres, create_database, drop_database  # noqa: E402
from service.infra.settings import postgres_env  # noqa: E402

SECRET = "bench-secret-key-bench-secret-key"
BASE = datetime(2026, 12, 1, 8, 0, tzinfo=timezone.utc)


class TimedHandoff(Handoff):
    """Remembers, for every save, the last position written and when save() returned."""

    name = "Handoff"  # the same events table as the projector reads

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.commits: list[tuple[int, float]] = []
        self.lock = threading.Lock()

    def save(self, *objs: Any, **kwargs: Any) -> Any:
        recordings = super().save(*objs, **kwargs)
        done = time.monotonic()
        with self.lock:
            self.commits.append((max(r.notification.id for r in recordings), done))
        return recordings


def watch(url: str, seen: Any, stop: Any, ready: Any) -> None:
    """In a process of its own, so that the writers' threads do not delay it: CLOCK_MONOTONIC is system-wide."""
    found: list[tuple[int, float]] = []
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("LISTEN handoff_views")
        ready.set()
        while not stop.is_set():
            for notice in conn.notifies(timeout=0.5):
                payload = json.loads(notice.payload)
                if payload["projection"] == "occupancy":
                    found.append((payload["position"], time.monotonic()))
    seen.put(found)


def writer(handoff: Handoff, number: int, writers: int, rate: float, until: float, clock: dict[str, Any]) -> None:
    """Walks children through check-in, arrival, confirmation and release, paced to `rate` saves/s.

    The events are decided by the Custody aggregate itself, but without the command path's reads, so that the
    load generator does not take the CPU the projector is measured on. Each save holds the custody event and a
    CommandAnswered, as a command's save does."""
    children = [f"C{n:04d}" for n in range(1 + number, 241, writers)]
    states: dict[str, Custody] = {}
    next_at, step = time.monotonic(), 0
    while time.monotonic() < until:
        child = children[(step // 4) % len(children)]
        if step % (4 * len(children)) == 0 and step:
            clock["day"] += 1
            states.clear()
        day = (BASE + timedelta(days=clock["day"])).date()
        state = states.get(child) or Custody.expected(DEMO_SCHOOL, child, day)
        events = decide(state, step % 4, DEMO_SCHOOL, child, datetime.now(timezone.utc))
        handoff.save(*events, answer(events[0]))
        states[child] = reduce(evolve, events, state)
        step += 1
        next_at += 1 / rate
        time.sleep(max(0.0, next_at - time.monotonic()))


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else values[0]


def measure(url: str, events_per_second: float, seconds: float, writers: int) -> dict[str, Any]:
    clock = {"day": 0}
    base = datetime(2026, 12, 1, 8, 0, tzinfo=timezone.utc)
    handoff = TimedHandoff(
        postgres_env(url, pool_size=writers + 2), secret_key=SECRET, clock=lambda: base + timedelta(days=clock["day"])
    )
    with tempfile.TemporaryDirectory() as tokens:
        seed_demo(handoff, Path(tokens) / "tokens.json")
    env = {**os.environ, "HANDOFF_DATABASE_URL": url, "HANDOFF_SECRET_KEY": SECRET, "PYTHONPATH": str(ROOT)}
    projector = subprocess.Popen(
        [sys.executable, "-m", "service.cli.main", "project"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    results, stop, ready = multiprocessing.Queue(), multiprocessing.Event(), multiprocessing.Event()
    watcher = multiprocessing.Process(target=watch, args=(url, results, stop, ready))
    watcher.start()
    ready.wait(10)
    time.sleep(3)  # the projector catches up with the seed
    handoff.commits.clear()
    until = time.monotonic() + seconds
    rate = events_per_second / 2 / writers
    threads = [threading.Thread(target=writer, args=(handoff, n, writers, rate, until, clock)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    time.sleep(2)
    stop.set()
    seen = results.get(timeout=10)
    watcher.join(5)
    projector.terminate()
    projector.wait()
    handoff.close()
    return report(handoff.commits, seen, seconds)


def report(commits: list[tuple[int, float]], seen: list[tuple[int, float]], seconds: float) -> dict[str, Any]:
    seen.sort()
    lags, index = [], 0
    for position, committed in sorted(commits):
        while index < len(seen) and seen[index][0] < position:
            index += 1
        if index < len(seen):
            lags.append((seen[index][1] - committed) * 1000)
    return {
        "events_committed_per_second": round(2 * len(commits) / seconds, 1),
        "commands": len(commits),
        "measured": len(lags),
        "lag_ms_p50": round(percentile(lags, 50), 2),
        "lag_ms_p99": round(percentile(lags, 99), 2),
        "lag_ms_max": round(max(lags), 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events-per-second", type=float, default=500)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--writers", type=int, default=4)
    args = parser.parse_args()
    server_url = os.environ.get("HANDOFF_BENCH_DATABASE_URL")
    folder = None
    if not server_url:
        folder = Path(tempfile.mkdtemp(prefix="handoff-bench-"))
        folder.chmod(0o711)  # started by root, the server's own user must pass through our folder
        server = EmbeddedPostgres(folder / "pgdata")
        server_url = server.start()
    name = f"handoff_bench_{os.getpid()}"
    try:
        result = measure(create_database(server_url, name), args.events_per_second, args.seconds, args.writers)
        print(
            json.dumps(
                {"benchmark": "projection_lag", "offered_events_per_second": args.events_per_second, **result}, indent=2
            )
        )
    finally:
        drop_database(server_url, name)
        if folder:
            server.stop()
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
