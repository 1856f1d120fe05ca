"""CPU per gate command, split by process: `python -m bench.cpu [--seconds 15] [--workers 1]`.

Runs P2's dismissal (32 clients) against `workers` uvicorn workers of the Handoff API and the projector process, on
a durable embedded PostgreSQL as `python -m bench` does, and prints the rate, p50/p99 and the CPU milliseconds per
command used by the API's processes, the projector's process (its policies and notifier included) and PostgreSQL's
(every `postgres` process of the machine, so run it with no other server). For a split inside the API, run py-spy
on a worker meanwhile (`py-spy record -f raw -p PID`); it is not a dependency."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from bench.client import run_load
from bench.common import cpu_seconds, demo_school, server, stat_cpu_seconds
from bench.http import dismissal, handoff_server


def postgres_cpu_seconds() -> float:
    """CPU seconds used so far by every living `postgres` process (the server and its backends)."""
    total = 0.0
    for comm in Path("/proc").glob("[0-9]*/comm"):
        try:
            if comm.read_text().strip() == "postgres":
                total += stat_cpu_seconds((comm.parent / "stat").read_text().rsplit(")", 1)[1].split())
        except OSError:
            continue  # ended meanwhile
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    with server() as url, demo_school(url) as demo, handoff_server(url, demo, "cpu", args.workers) as served:
        before = cpu_seconds(served.api_pid), cpu_seconds(served.projector_pid), postgres_cpu_seconds()
        load = os.getloadavg()[0]
        found = run_load(dismissal, served.port, served.tokens, served.clock_file, args.seconds)
        after = cpu_seconds(served.api_pid), cpu_seconds(served.projector_pid), postgres_cpu_seconds()
    commands = sum(found["answered_200"].values())  # the warm-up day included, as in the CPU read
    api, projector, postgres = (1000 * (b - a) / commands for a, b in zip(before, after, strict=True))
    print(
        f"load {load:.2f} at start, {args.workers} worker(s): {found['requests_per_second']:.0f} commands/s,"
        f" p50 {found['p50_ms']:.1f} ms, p99 {found['p99_ms']:.1f} ms; CPU per command: API {api:.2f} ms,"
        f" projector {projector:.2f} ms, PostgreSQL {postgres:.2f} ms ({commands} commands)"
    )


if __name__ == "__main__":
    main()
