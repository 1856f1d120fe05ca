"""The live feed frames each snapshot once: every stream of a school writes the very same bytes; one guard ends the
streams of a token that is no longer live; a quiet school's streams get a heartbeat; a stream that leaves is dropped."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import pytest

from service.processes import live_feed
from service.processes.live_feed import PING, LiveFeed, frame
from tests.unit.test_live_feed import Announcer

T = TypeVar("T")


def on_a_loop_of_its_own(work: Callable[[], Awaitable[T]]) -> T:
    with ThreadPoolExecutor(1) as thread:  # another test's loop (a browser's) may run on this thread
        return thread.submit(asyncio.run, work()).result()  # type: ignore[arg-type]


def counting_feed() -> tuple[Announcer, dict[str, int], LiveFeed]:
    announcer, state = Announcer(), {"n": 0}
    feed = LiveFeed(announcer, "occupancy", lambda school_id, day: f'{{"n": {state["n"]}}}')  # type: ignore[arg-type]
    return announcer, state, feed


def test_a_snapshot_is_framed_as_one_server_sent_event() -> None:
    assert frame("occupancy", '{"in_care": 1}') == b'event: occupancy\r\ndata: {"in_care": 1}\r\n\r\n'
    assert frame("note", "a\nb") == b"event: note\r\ndata: a\r\ndata: b\r\n\r\n"


def test_two_streams_of_a_school_write_the_same_bytes() -> None:
    async def work() -> list[Any]:
        announcer, state, feed = counting_feed()
        always = lambda _: True  # noqa: E731
        async with feed.join("S1", None, "a", always) as one, feed.join("S1", None, "b", always) as two:
            first = [await one.next(), await two.next()]
            state["n"] = 1
            announcer.announce()
            second = [await one.next(), await two.next()]
            assert len(announcer.queues) == 1, "one hub, one subscription, for the school's streams"
        return first + second

    frames = on_a_loop_of_its_own(work)
    assert frames[0] == b'event: occupancy\r\ndata: {"n": 0}\r\n\r\n'
    assert frames[2] == b'event: occupancy\r\ndata: {"n": 1}\r\n\r\n'
    assert frames[0] is frames[1] and frames[2] is frames[3], "framed once, not once per stream"


def test_the_streams_of_a_token_no_longer_live_end_with_their_closing_event(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(live_feed, "TOKEN_RECHECK", 0.05)
    checked: list[str] = []
    revoked: set[str] = set()

    def check(token: str) -> bool:
        checked.append(token)
        return token not in revoked

    async def work() -> tuple[list[bytes | None], bool]:
        _, _, feed = counting_feed()
        async with (
            feed.join("S1", None, "lost", check, b"closed") as lost,
            feed.join("S1", None, "lost", check, b"closed") as also_lost,
            feed.join("S1", None, "kept", check, b"closed") as kept,
        ):
            await lost.next(), await also_lost.next(), await kept.next()
            revoked.add("lost")
            ends = [await asyncio.wait_for(s.next(), 2) for s in (lost, lost, also_lost, also_lost)]
            await asyncio.sleep(0.2)
            return ends, kept.ended

    ends, kept_ended = on_a_loop_of_its_own(work)
    assert ends == [b"closed", None, b"closed", None], "the closing event, then the end"
    assert not kept_ended, "another token's stream stays open"
    assert checked.count("lost") <= checked.count("kept") + 1, "one check per token, not per stream"


def test_a_quiet_schools_streams_get_a_heartbeat(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(live_feed, "HEARTBEAT", 0.05)

    async def work() -> list[bytes | None]:
        _, _, feed = counting_feed()
        async with feed.join("S1", None, "a", lambda _: True) as stream:
            return [await stream.next(), await asyncio.wait_for(stream.next(), 2)]

    snapshot, heartbeat = on_a_loop_of_its_own(work)
    assert snapshot is not None and snapshot.startswith(b"event: occupancy")
    assert heartbeat == PING


def test_a_stream_that_leaves_is_dropped_and_its_schools_hub_stops_with_the_last() -> None:
    async def work() -> tuple[int, int, bool, int]:
        announcer, _, feed = counting_feed()
        async with feed.join("S1", None, "a", lambda _: True) as staying:
            async with feed.join("S1", None, "b", lambda _: True) as leaving:
                await leaving.next()
                leaving.end()  # the client left
                assert await leaving.next() is None
            hub = feed.hubs["S1", "today"]
            members_after_one_left = len(hub.members)
            await staying.next()
        await asyncio.sleep(0.05)
        assert hub.task is not None
        return members_after_one_left, len(feed.hubs), hub.task.done(), len(announcer.queues)

    members, hubs, hub_done, subscriptions = on_a_loop_of_its_own(work)
    assert members == 1
    assert (hubs, hub_done, subscriptions) == (0, True, 0), "no hub, no task, no subscription left behind"


def test_every_stream_ends_once_the_server_is_stopping(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(live_feed, "TOKEN_RECHECK", 0.05)
    stopping = {"now": False}

    async def work() -> list[bytes | None]:
        announcer = Announcer()
        feed = LiveFeed(announcer, "occupancy", lambda s, d: "{}", lambda: stopping["now"])  # type: ignore[arg-type]
        async with feed.join("S1", None, "a", lambda _: True) as one, feed.join("S2", None, "b", lambda _: True) as two:
            await one.next(), await two.next()
            stopping["now"] = True
            return [await asyncio.wait_for(s.next(), 2) for s in (one, two)]

    assert on_a_loop_of_its_own(work) == [None, None], "uvicorn waits for every open response before it stops"
