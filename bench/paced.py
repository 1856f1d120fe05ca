"""A dismissal at a fixed offered rate, for latency at a given load: P2 at half its highest rate, P8 with and without
live streams open.

P2's walk (check-in, arrival with the pickup code, confirmation, release) by `walkers` clients, each sending its next
request at its own steady interval, so that the server is offered the same commands per second however fast it
answers; a closed loop of clients would offer fewer to a slower server, and hide part of what slowed it. A client
that falls behind sends at once until it is back on time. A walk stopped mid-day finishes the child under way; the
next walk starts on a fresh day (`first_day`)."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from bench.client import CHILDREN, Connection, dismissal_days, steps, summary
from bench.http_app import set_clock


async def paced_dismissal(
    port: int,
    tokens: dict[str, str],
    clock_file: Path,
    rate: float,
    seconds: float,
    first_day: int,
    walkers: int,
    warmup: float,
) -> dict[str, Any]:
    """`rate` commands/s for `warmup` seconds unmeasured, then `seconds` measured; p50 and p99 of those sent in the
    measured window, the rate reached in it, and the index of the next fresh day."""
    connections = [Connection(port) for _ in range(walkers)]
    interval = walkers / rate
    measured_from = time.perf_counter() + warmup
    until = measured_from + seconds
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    answered: dict[str, int] = {}

    async def walk(connection: Connection, waiting: list[str], day: datetime, due: float) -> None:
        while waiting and time.perf_counter() < until:
            for kind, path, body, headers in steps(waiting.pop(), tokens, day):
                await asyncio.sleep(max(0.0, due - time.perf_counter()))
                sent = time.perf_counter()
                status, latency = await connection.post(path, body, headers)
                due += interval
                answered[kind] = answered.get(kind, 0) + (status == 200)
                if measured_from <= sent < until:
                    latencies.append(latency * 1000)
                    statuses[f"{kind} {status}"] = statuses.get(f"{kind} {status}", 0) + 1

    days = dismissal_days()[first_day:]
    used = 0
    while time.perf_counter() < until:
        set_clock(clock_file, days[used])
        await asyncio.sleep(0.05)
        waiting = list(reversed(CHILDREN))
        start = time.perf_counter()
        await asyncio.gather(
            *(walk(c, waiting, days[used], start + n * interval / walkers) for n, c in enumerate(connections))
        )
        used += 1
    return {
        **summary(latencies, seconds, statuses),
        "offered_per_second": rate,
        "walkers": walkers,
        "answered_200": answered,
        "days": first_day + used,
    }
