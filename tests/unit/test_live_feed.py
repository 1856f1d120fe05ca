"""The live feed's hub: a burst of changes reaches every open stream as its newest state, at most once per
SNAPSHOT_INTERVAL, and the first change after a quiet spell at once."""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from service.processes.live_feed import SNAPSHOT_INTERVAL, LiveFeed


class Announcer:
    """Stands in for the view watcher's fan-out (its LISTEN is tested against PostgreSQL elsewhere)."""

    def __init__(self) -> None:
        self.queues: list[asyncio.Queue[dict[str, Any]]] = []

    def subscribe(self, school_id: str, model: str) -> asyncio.Queue[dict[str, Any]]:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.queues.append(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[dict[str, Any]]) -> None:
        self.queues.remove(queue)

    def announce(self) -> None:
        for queue in self.queues:
            queue.put_nowait({})


async def burst() -> tuple[list[str], int, float, float]:
    announcer, state = Announcer(), {"n": 0}
    computed: list[float] = []

    def snapshot(school_id: str, day: Any) -> str:
        computed.append(time.monotonic())
        return str(state["n"])

    feed = LiveFeed(announcer, "occupancy", snapshot)  # type: ignore[arg-type]
    received: list[str] = []
    async with feed.join("S1", None, "token", lambda _: True) as stream:
        received.append(data(await stream.next()))  # the snapshot on joining
        await asyncio.sleep(SNAPSHOT_INTERVAL * 1.2)  # a quiet spell
        began = time.monotonic()
        state["n"] += 1
        announcer.announce()
        received.append(data(await stream.next()))
        first = time.monotonic() - began
        for _ in range(40):  # 40 changes in 1.2 intervals
            state["n"] += 1
            announcer.announce()
            await asyncio.sleep(SNAPSHOT_INTERVAL * 0.03)
        deadline = time.monotonic() + SNAPSHOT_INTERVAL * 3
        while received[-1] != str(state["n"]) and time.monotonic() < deadline:
            received.append(data(await asyncio.wait_for(stream.next(), SNAPSHOT_INTERVAL * 3)))
        last = time.monotonic() - began
    return received, len(computed), first, last


def data(frame: bytes | None) -> str:
    """The data of one occupancy event as the stream writes it."""
    assert frame is not None and frame.startswith(b"event: occupancy\r\ndata: ") and frame.endswith(b"\r\n\r\n")
    return frame.decode().split("data: ", 1)[1].strip()


def test_a_burst_of_changes_is_sent_as_its_newest_state_at_most_once_per_interval() -> None:
    with ThreadPoolExecutor(1) as thread:  # a loop of its own: another test's (a browser's) may run on this thread
        received, computed, first, last = thread.submit(asyncio.run, burst()).result()
    assert received[:2] == ["0", "1"]
    assert first < SNAPSHOT_INTERVAL / 2, "the first change after a quiet spell is sent at once"
    assert received[-1] == "41", "the newest state always arrives"
    assert computed <= 2 + 4, f"41 changes in about 1.2 intervals took {computed} snapshots, not one each"
    assert last < SNAPSHOT_INTERVAL * 4
