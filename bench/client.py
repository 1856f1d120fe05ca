"""The client side of the HTTP benchmarks (P2, P8, P9): raw keep-alive HTTP/1.1 on asyncio, cheap enough to leave
the cores to the server, a child's afternoon as requests, and client processes of their own, so that no client
shares a GIL with anything it measures."""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import time
import uuid
from collections.abc import Callable, Coroutine
from datetime import date, datetime, timedelta, timezone
from typing import Any

from bench.common import percentile
from service.demo.seed import DEMO_SCHOOL

CHILDREN = [f"C{n:04d}" for n in range(1, 241) if n % 10]  # every tenth demo child did not apply
Request = tuple[str, str, dict[str, Any], dict[str, str]]
"""One request of a walk: its kind, path, body and headers."""


class Connection:
    """One keep-alive HTTP/1.1 connection; requests one at a time."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, path: str, body: dict[str, Any], headers: dict[str, str]) -> tuple[int, float]:
        return await self.request("POST", path, body, headers)

    async def get(self, path: str, headers: dict[str, str]) -> tuple[int, float]:
        return await self.request("GET", path, None, headers)

    async def request(
        self, method: str, path: str, body: dict[str, Any] | None, headers: dict[str, str]
    ) -> tuple[int, float]:
        """The status and the seconds from sending the request to reading the whole answer."""
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        assert self.reader is not None
        payload = json.dumps(body).encode() if body is not None else b""
        head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        kind = "Content-Type: application/json\r\n" if body is not None else ""
        request = (
            f"{method} {path} HTTP/1.1\r\nHost: bench\r\n{kind}Content-Length: {len(payload)}\r\n{head}\r\n"
        ).encode() + payload
        began = time.perf_counter()
        self.writer.write(request)
        status = int((await self.reader.readline()).split()[1])
        length = 0
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
        await self.reader.readexactly(length)
        return status, time.perf_counter() - began


def school_days(first: date, count: int) -> list[datetime]:
    """`count` weekdays from `first`, each at 16:30 in Shanghai (08:30 UTC)."""
    days: list[datetime] = []
    day = first
    while len(days) < count:
        if day.weekday() < 5:
            days.append(datetime(day.year, day.month, day.day, 8, 30, tzinfo=timezone.utc))
        day += timedelta(days=1)
    return days


def dismissal_days() -> list[datetime]:
    """The school days a dismissal walks through, one after the other, from tomorrow."""
    return school_days(date.today() + timedelta(days=1), 400)


def steps(child: str, tokens: dict[str, str], day: datetime) -> list[Request]:
    """A child's afternoon as four requests: check-in by a teacher, the guardian's arrival with the pickup code at
    the gate, mutual confirmation and release."""
    teacher = {"Authorization": f"Bearer {tokens['teacher']}"}
    gate = {"Authorization": f"Bearer {tokens['gate']}"}
    stamp = {"device_id": "gate-tablet", "device_time": day.isoformat()}
    guardian = f"G{child[1:]}A"
    path = f"/api/v1/schools/{DEMO_SCHOOL}/children/{child}/"
    return [
        (kind, path + kind, {**stamp, **body}, {**who, "Idempotency-Key": uuid.uuid4().hex})
        for kind, who, body in (
            ("check-in", teacher, {"place_code": "T01"}),
            ("guardian-arrival", gate, {"guardian_id": guardian, "verification": "pickup_code", "pickup_code": "1234"}),
            (
                "confirmation",
                teacher,
                {"guardian_id": guardian, "guardian_recognised_child": True, "child_recognised_guardian": True},
            ),
            ("release", teacher, {"guardian_id": guardian}),
        )
    ]


def summary(latencies: list[float], busy: float, statuses: dict[str, int]) -> dict[str, Any]:
    """Requests per second over `busy` seconds, p50 and p99 of the latencies (milliseconds), and the statuses."""
    return {
        "requests_per_second": len(latencies) / busy if busy else 0.0,
        "p50_ms": percentile(latencies, 50),
        "p99_ms": percentile(latencies, 99),
        "requests": len(latencies),
        "statuses": statuses,
    }


Load = Callable[..., Coroutine[Any, Any, dict[str, Any]]]


def _load(load: Load, args: tuple[Any, ...], results: Any) -> None:
    results.put(asyncio.run(load(*args)))


def run_load(load: Load, *args: Any) -> dict[str, Any]:
    """A load generator (a coroutine function of this package) in a process of its own; its result, once done."""
    spawn = multiprocessing.get_context("spawn")
    results = spawn.Queue()
    process = spawn.Process(target=_load, args=(load, args, results))
    process.start()
    found = results.get(timeout=900)
    process.join()
    return found


Client = Callable[..., Coroutine[Any, Any, None]]
"""A background client: called with its arguments, then an event that says stop and a queue for what it reports."""


def _client(client: Client, args: tuple[Any, ...], stop: Any, reports: Any) -> None:
    try:
        asyncio.run(client(*args, stop, reports))
    except BaseException as error:  # the caller waits on the queue: tell it, rather than leave it waiting
        reports.put({"error": repr(error)})
        raise


class Background:
    """A client that runs in a process of its own beside a load until told to stop, reporting on a queue."""

    def __init__(self, client: Client, *args: Any) -> None:
        spawn = multiprocessing.get_context("spawn")
        self.stopping, self.reports = spawn.Event(), spawn.Queue()
        self.process = spawn.Process(target=_client, args=(client, args, self.stopping, self.reports), daemon=True)
        self.process.start()

    def report(self, timeout: float) -> dict[str, Any]:
        """The client's next report (an error it ended with is raised here)."""
        found: dict[str, Any] = self.reports.get(timeout=timeout)
        if "error" in found:
            self.process.join(10)
            raise RuntimeError(f"the background client failed: {found['error']}")
        return found

    def stop(self, timeout: float = 60) -> dict[str, Any]:
        """Tell the client to stop; its last report."""
        self.stopping.set()
        found = self.report(timeout)
        self.process.join(timeout)
        return found


async def stopped(stop: Any, poll: float = 0.1) -> None:
    """Return once a Background's stop event is set (polled: the event is a process-shared one, not asyncio's)."""
    while not stop.is_set():
        await asyncio.sleep(poll)
