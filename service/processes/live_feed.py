"""Live streams of a view: one snapshot per school and change, framed once as a server-sent event and handed as the
same bytes to every open stream of that school, and streams that end within seconds of their token's revocation or
expiry.

Each stream used to query the view after every change, so 200 open duty boards ran 200 queries per command and
slowed every command down; now the streams of a school share one query. Each stream then still framed and encoded
the snapshot itself, woke through a queue and a timeout of its own, and checked its token on a timer of its own;
now a school's hub frames the bytes, wakes each stream with one future, and one guard checks the tokens of every
stream in the process."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import date

from service.processes.live import ViewWatcher

SNAPSHOT_INTERVAL = 0.5
"""Seconds at least between two snapshots of one school and day. A dismissal makes dozens of changes a second; each
open board gets the newest state at most twice a second (the first change after a quiet spell at once), not one
snapshot per change: 500 boards open at 50 changes/s took most of the API's event loop."""
STREAMS_PER_TURN = 20
"""Streams handed a snapshot per turn of the event loop: the writes of hundreds of open boards are spread over
several turns, with the commands' requests served between them, instead of holding the loop for all of them."""
TOKEN_RECHECK = 2.0
"""Seconds between checks that a stream's token is still live: a revoked or expired token's stream ends within them."""
HEARTBEAT = 15.0
"""Seconds without a snapshot after which every stream of the school gets a comment line, so that proxies and
tablets do not take a quiet afternoon for a dead connection."""
PING = b": ping\r\n\r\n"

Frame = bytes
"""One server-sent event as written: framed and encoded once per school and change, the same bytes for each stream."""
Snapshot = str


def frame(event: str, data: str) -> Frame:
    """A server-sent event: its name and its data, one `data:` line per line of it."""
    lines = "".join(f"data: {line}\r\n" for line in data.splitlines() or [""])
    return f"event: {event}\r\n{lines}\r\n".encode()


class Stream:
    """One open stream: the newest frame it has not written yet (a slow stream skips to the newest), and the future
    its writer waits on, the only thing a hub touches to wake it."""

    __slots__ = ("token", "check", "closed", "pending", "final", "ended", "waiter")

    def __init__(self, token: str, check: Callable[[str], bool], closed: Frame | None = None) -> None:
        self.token, self.check, self.closed = token, check, closed
        self.pending: Frame | BaseException | None = None
        self.final: Frame | None = None
        self.ended = False
        self.waiter: asyncio.Future[None] | None = None

    def offer(self, update: Frame | BaseException) -> None:
        self.pending = update
        self._wake()

    def ping(self) -> None:
        if self.pending is None:
            self.offer(PING)

    def end(self, final: Frame | None = None) -> None:
        """No more frames after `final` (the client left, or its token stopped being live)."""
        if not self.ended:
            self.ended, self.final = True, final
            self._wake()

    async def next(self) -> Frame | None:
        """The next frame to write; None once the stream has ended. An error that ended its hub is raised."""
        while self.pending is None and not self.ended:
            self.waiter = asyncio.get_running_loop().create_future()
            try:
                await self.waiter
            finally:
                self.waiter = None
        if self.ended:
            final, self.final = self.final, None
            return final
        update, self.pending = self.pending, None
        if isinstance(update, BaseException):
            raise update
        return update

    def _wake(self) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)


class Hub:
    """The open streams of one school and day: one snapshot query per announced change, framed once, offered to each."""

    def __init__(self, watcher: ViewWatcher, model: str, compute: Callable[[], Frame], key: tuple[str, str]) -> None:
        self.watcher, self.model, self.compute, self.school_id = watcher, model, compute, key[0]
        self.members: set[Stream] = set()
        self.latest: Frame | BaseException | None = None
        self.task: asyncio.Task[None] | None = None

    async def run(self) -> None:
        notices = self.watcher.subscribe(self.school_id, self.model)
        loop = asyncio.get_running_loop()
        try:
            while True:
                try:
                    self.latest = await asyncio.to_thread(self.compute)
                except Exception as error:  # noqa: BLE001 - every stream of the hub ends with the error, none hangs
                    self.latest = error
                await self.ring(Stream.offer, self.latest)
                if isinstance(self.latest, BaseException):
                    return
                sent_at = loop.time()
                while True:
                    try:
                        await asyncio.wait_for(notices.get(), HEARTBEAT)
                        break
                    except TimeoutError:
                        await self.ring(lambda stream, _: stream.ping(), PING)
                pause = sent_at + SNAPSHOT_INTERVAL - loop.time()
                if pause > 0:
                    await asyncio.sleep(pause)  # the changes of the pause are sent as one snapshot after it
                while not notices.empty():
                    notices.get_nowait()
        finally:
            self.watcher.unsubscribe(notices)

    async def ring(self, wake: Callable[[Stream, Frame | BaseException], None], update: Frame | BaseException) -> None:
        """Wake every stream with `update`, STREAMS_PER_TURN at a time: each turn of the loop writes that many."""
        for number, member in enumerate(list(self.members), 1):
            wake(member, update)
            if number % STREAMS_PER_TURN == 0:
                await asyncio.sleep(0)  # the woken streams write, and the commands' requests get a turn


class LiveFeed:
    """Every live stream of one read model in this process, grouped by school and day."""

    def __init__(
        self,
        watcher: ViewWatcher,
        model: str,
        snapshot: Callable[[str, date | None], Snapshot],
        stopping: Callable[[], bool] = lambda: False,
    ) -> None:
        """Streams of `model`, each snapshot sent as an event of that name; all of them end once `stopping()` (the
        server is shutting down, and waits for every open response to end)."""
        self.watcher, self.model, self.snapshot, self.stopping = watcher, model, snapshot, stopping
        self.hubs: dict[tuple[str, str], Hub] = {}
        self.guard: asyncio.Task[None] | None = None

    @asynccontextmanager
    async def join(
        self, school_id: str, day: date | None, token: str, check: Callable[[str], bool], closed: Frame | None = None
    ) -> AsyncIterator[Stream]:
        """A stream of the school's frames: the newest snapshot now, then after every change, until its token stops
        being live (then `closed` is its last frame) or it is ended."""
        key = (school_id, day.isoformat() if day else "today")
        hub = self.hubs.get(key)
        if hub is None or (hub.task is not None and hub.task.done()):
            hub = self.hubs[key] = Hub(self.watcher, self.model, lambda: self._framed(school_id, day), key)
            hub.task = asyncio.create_task(hub.run())
        if self.guard is None or self.guard.done():
            self.guard = asyncio.create_task(self._guard_tokens())
        stream = Stream(token, check, closed)
        stream.pending = hub.latest
        hub.members.add(stream)
        try:
            yield stream
        finally:
            hub.members.discard(stream)
            if not hub.members and self.hubs.get(key) is hub:
                del self.hubs[key]
                if hub.task is not None:
                    hub.task.cancel()

    def _framed(self, school_id: str, day: date | None) -> Frame:
        return frame(self.model, self.snapshot(school_id, day))

    async def _guard_tokens(self) -> None:
        """Every TOKEN_RECHECK seconds, one check per token of the open streams; the streams of a token that is no
        longer live end with their closing frame."""
        while self.hubs:
            await asyncio.sleep(TOKEN_RECHECK)
            streams = [stream for hub in list(self.hubs.values()) for stream in hub.members if not stream.ended]
            if self.stopping():
                for stream in streams:
                    stream.end()
                continue
            checks = {stream.token: stream.check for stream in streams}
            live = {token: await _still_live(check, token) for token, check in checks.items()}
            for stream in streams:
                if live[stream.token] is False:
                    stream.end(stream.closed)
                elif live[stream.token] is None:
                    stream.end()


async def _still_live(check: Callable[[str], bool], token: str) -> bool | None:
    """Whether the token is live; None if that could not be checked (the database is away): its streams end without
    a closing event, and the boards reconnect once it is back."""
    try:
        return await asyncio.to_thread(check, token)
    except Exception:  # noqa: BLE001 - a stream whose token cannot be checked is not kept open
        return None
