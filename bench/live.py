"""P8: what open live streams cost the commands. The duty board's live occupancy (`GET …/live`, server-sent events)
sends the school's occupancy after every change it sees; the streams of a school share one snapshot per change,
framed once as the bytes every stream writes (service/processes/live_feed.py, service/http/event_stream.py). The
same paced dismissal is offered to the server twice, with no stream open and with 500 open, and P8 is the ratio of the
commands' p99.

The streams are held by a process of their own: raw sockets on asyncio, each reading everything it is sent and
counting the occupancy updates, which shows that they were live. A stream needs a token of a role that may see
occupancy (gate, teacher, duty leader, admin); the product sets no limit of streams per token (each token's check is
shared by its streams), and the streams here alternate between the duty leader's and the admin's tokens. The server
is the API with its views (bench.http_app.handoff_views_app) in two uvicorn workers; the projector runs beside it."""

from __future__ import annotations

import asyncio
import statistics
import time
import urllib.request
from collections.abc import Callable
from typing import Any

from bench.client import Background, run_load, stopped
from bench.common import cpu_seconds
from bench.http import handoff_server
from bench.paced import paced_dismissal
from service.demo.seed import DEMO_SCHOOL

STREAMS = 500
RATE = 50.0
"""Commands/s offered in both phases: well below what the server sustains (P2), so that p99 shows the streams."""
WALKERS = 32
"""Clients sharing the offered rate: each sends every 0.64 s, so that slower answers do not lower the rate."""
OPENING = 25
"""Streams opened at once."""
UPDATE = b"event: occupancy"


def p8(template_url: str, server_url: str, seconds: float, streams: int = STREAMS, workers: int = 2) -> dict[str, Any]:
    """The paced dismissal with no stream open, then with `streams` open; the streams' updates while they were."""
    with handoff_server(server_url, template_url, "p8", workers, app="handoff_views_app") as served:
        wait_for_views(served.port, served.tokens["duty_leader"])
        load = served.port, served.tokens, served.clock_file, RATE, seconds
        quiet = with_cpu(served.api_pid, lambda: run_load(paced_dismissal, *load, 0, WALKERS, 3.0))
        viewers = [served.tokens["duty_leader"], served.tokens["admin"]]
        holder = Background(hold_streams, served.port, viewers, streams)
        opened = holder.report(timeout=300)
        busy = with_cpu(served.api_pid, lambda: run_load(paced_dismissal, *load, quiet["days"], WALKERS, 1.0))
        held = holder.stop()
    return {
        "offered_per_second": RATE,
        "streams": streams,
        "none": quiet,
        "open": busy,
        "held": {**opened, **held},
        "ratio_p99": busy["p99_ms"] / quiet["p99_ms"],
    }


def with_cpu(pid: int, work: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """What `work` found, with the CPU seconds the API's processes used meanwhile, per second of it."""
    began, used = time.perf_counter(), cpu_seconds(pid)
    found = work()
    return {**found, "api_cpu_per_second": (cpu_seconds(pid) - used) / (time.perf_counter() - began)}


def wait_for_views(port: int, token: str, timeout: float = 120) -> None:
    """Until the views answer (the projector has built them on the copied school)."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/v1/schools/{DEMO_SCHOOL}/occupancy", headers={"Authorization": f"Bearer {token}"}
    )
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                if answer.status == 200:
                    return
        except OSError:
            if time.monotonic() > deadline:
                raise
        time.sleep(0.5)


class Stream:
    """One open live stream, counting the occupancy updates it reads."""

    def __init__(self) -> None:
        self.updates = 0
        self.status = 0
        self.ended = False
        self.first = asyncio.Event()

    async def follow(self, port: int, token: str) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(
            f"GET /api/v1/schools/{DEMO_SCHOOL}/live HTTP/1.1\r\nHost: bench\r\nAccept: text/event-stream\r\n"
            f"Authorization: Bearer {token}\r\n\r\n".encode()
        )
        self.status = int((await reader.readline()).split()[1])
        while await reader.readline() not in (b"\r\n", b""):
            pass
        carry = b""
        try:
            while self.status == 200 and (data := await reader.read(65536)):
                seen = carry + data
                self.updates += seen.count(UPDATE)
                carry = seen[-(len(UPDATE) - 1) :]
                if self.updates:
                    self.first.set()
        finally:
            self.ended = True
            self.first.set()
            writer.close()


async def hold_streams(port: int, tokens: list[str], count: int, stop: Any, reports: Any) -> None:
    """Open `count` streams, `OPENING` at a time; report once each has its first snapshot, then, once told to stop,
    how many updates they read meanwhile."""
    streams = [Stream() for _ in range(count)]
    tasks = []
    began = time.perf_counter()
    for start in range(0, count, OPENING):
        batch = streams[start : start + OPENING]
        tasks += [asyncio.create_task(s.follow(port, tokens[(start + n) % len(tokens)])) for n, s in enumerate(batch)]
        await asyncio.wait_for(asyncio.gather(*(s.first.wait() for s in batch)), 60)
    at_start = [s.updates for s in streams]
    opened, cpu = time.perf_counter(), time.process_time()
    reports.put({"opened_seconds": opened - began, "statuses": _statuses(streams)})
    await stopped(stop)
    during = [s.updates - before for s, before in zip(streams, at_start, strict=True)]
    reports.put(
        {
            "held_seconds": time.perf_counter() - opened,
            "reader_cpu_seconds": time.process_time() - cpu,
            "updates_during_load": sum(during),
            "updates_per_stream_min": min(during),
            "updates_per_stream_median": statistics.median(during),
            "still_open": sum(not s.ended for s in streams),
        }
    )
    for task in tasks:
        task.cancel()


def _statuses(streams: list[Stream]) -> dict[str, int]:
    found: dict[str, int] = {}
    for stream in streams:
        found[str(stream.status)] = found.get(str(stream.status), 0) + 1
    return found
