"""P9: the gate tablet's reads while the dismissal runs. A guard finds a child (search by number), opens the child's
card, and watches the children awaiting pickup and the dismissal queue (放学队列); these four reads go to the server
at a modest paced rate from a process of their own, first with the server idle (the baseline), then while P2's
dismissal (32 clients, as fast as they go) runs against the same server. The server is the API with its views
(bench.http_app.handoff_views_app) in two uvicorn workers, the projector beside it."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from bench.client import CHILDREN, Background, Connection, run_load, summary
from bench.http import dismissal, handoff_server
from bench.live import wait_for_views
from service.demo.seed import DEMO_SCHOOL

RATE = 20.0
"""Reads/s in all, a quarter of them of each kind."""
WARMUP = 3.0
"""Seconds of reads not measured at the start of each phase: the workers' first reads, the load's first day."""
KINDS = ("search", "child card", "awaiting pickup", "dismissal queue")


def p9(template_url: str, server_url: str, seconds: float, workers: int = 2) -> dict[str, Any]:
    """The gate's reads alone for `seconds`, then during a dismissal of `seconds`."""
    with handoff_server(server_url, template_url, "p9", workers, app="handoff_views_app") as served:
        wait_for_views(served.port, served.tokens["gate"])
        alone = Background(read_gate, served.port, served.tokens["gate"])
        time.sleep(WARMUP + seconds)
        idle = alone.stop()
        beside = Background(read_gate, served.port, served.tokens["gate"])
        load = run_load(dismissal, served.port, served.tokens, served.clock_file, seconds)
        loaded = beside.stop()
    load.pop("answered_200", None)
    return {"offered_reads_per_second": RATE, "idle": idle, "during_load": loaded, "load": load}


async def read_gate(port: int, token: str, stop: Any, reports: Any) -> None:
    """The four reads, each by a client of its own at a quarter of `RATE`, until told to stop; p50 and p99 of those
    sent after the warm-up, all together and by kind."""
    headers = {"Authorization": f"Bearer {token}"}
    prefix = f"/api/v1/schools/{DEMO_SCHOOL}/ui"
    interval = len(KINDS) / RATE
    began = time.perf_counter()
    latencies: dict[str, list[float]] = {kind: [] for kind in KINDS}
    statuses: dict[str, int] = {}

    async def read(connection: Connection, kind: str, due: float) -> None:
        number = 0
        while not stop.is_set():
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            child = CHILDREN[number * 7 % len(CHILDREN)]
            sent = time.perf_counter()
            if kind == "search":
                status, latency = await connection.post(f"{prefix}/children/search", {"q": child}, headers)
            else:
                path = {"child card": f"children/{child}", "awaiting pickup": "awaiting-pickup"}.get(kind, "dismissal")
                status, latency = await connection.get(f"{prefix}/{path}", headers)
            if sent >= began + WARMUP:
                latencies[kind].append(latency * 1000)
                statuses[f"{kind} {status}"] = statuses.get(f"{kind} {status}", 0) + 1
            number += 1
            due += interval

    await asyncio.gather(*(read(Connection(port), k, began + n * interval / len(KINDS)) for n, k in enumerate(KINDS)))
    measured = time.perf_counter() - began - WARMUP
    every = [latency for kind in KINDS for latency in latencies[kind]]
    reports.put(
        {
            **summary(every, measured, statuses),
            "p99_ms_by_kind": {kind: summary(latencies[kind], measured, {})["p99_ms"] for kind in KINDS},
        }
    )
