"""Live streams of a view: one snapshot per school and change, sent to every open stream of that school, and
streams that end within seconds of their token's revocation or expiry.

Each stream used to query the view after every change, so 200 open duty boards ran 200 queries per command and
slowed every command down; now the streams of a school share one query."""

from __future__ import annotations

import asyncio
import time
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

Snapshot = str
"""A snapshot as the text each stream sends: encoded once per change, not once per stream."""
Update = Snapshot | BaseException


class Hub:
    """The open streams of one school and day: one snapshot query per announced change, offered to each of them."""

    def __init__(self, watcher: ViewWatcher, model: str, compute: Callable[[], Snapshot], key: tuple[str, str]) -> None:
        self.watcher, self.model, self.compute, self.school_id = watcher, model, compute, key[0]
        self.members: set[asyncio.Queue[Update]] = set()
        self.latest: Update | None = None
        self.task: asyncio.Task[None] | None = None

    async def run(self) -> None:
        notices = self.watcher.subscribe(self.school_id, self.model)
        try:
            while True:
                try:
                    self.latest = await asyncio.to_thread(self.compute)
                except Exception as error:  # noqa: BLE001 - every stream of the hub ends with the error, none hangs
                    self.latest = error
                for number, member in enumerate(list(self.members), 1):
                    offer_latest(member, self.latest)
                    if number % STREAMS_PER_TURN == 0:
                        await asyncio.sleep(0)  # the commands' requests get a turn of the event loop
                if isinstance(self.latest, BaseException):
                    return
                sent_at = asyncio.get_running_loop().time()
                await notices.get()
                pause = sent_at + SNAPSHOT_INTERVAL - asyncio.get_running_loop().time()
                if pause > 0:
                    await asyncio.sleep(pause)  # the changes of the pause are sent as one snapshot after it
                while not notices.empty():
                    notices.get_nowait()
        finally:
            self.watcher.unsubscribe(notices)


class LiveFeed:
    """Every live stream of one read model in this process, grouped by school and day."""

    def __init__(self, watcher: ViewWatcher, model: str, snapshot: Callable[[str, date | None], Snapshot]) -> None:
        self.watcher, self.model, self.snapshot = watcher, model, snapshot
        self.hubs: dict[tuple[str, str], Hub] = {}
        self.token_checks: dict[str, tuple[float, bool]] = {}

    @asynccontextmanager
    async def join(self, school_id: str, day: date | None) -> AsyncIterator[asyncio.Queue[Update]]:
        """A queue that always holds the newest snapshot not yet taken (or the error that ended the hub)."""
        key = (school_id, day.isoformat() if day else "today")
        hub = self.hubs.get(key)
        if hub is None or (hub.task is not None and hub.task.done()):
            hub = self.hubs[key] = Hub(self.watcher, self.model, lambda: self.snapshot(school_id, day), key)
            hub.task = asyncio.create_task(hub.run())
        queue: asyncio.Queue[Update] = asyncio.Queue(maxsize=1)
        hub.members.add(queue)
        if hub.latest is not None:
            offer_latest(queue, hub.latest)
        try:
            yield queue
        finally:
            hub.members.discard(queue)
            if not hub.members and self.hubs.get(key) is hub:
                del self.hubs[key]
                if hub.task is not None:
                    hub.task.cancel()

    async def token_live(self, token: str, check: Callable[[str], bool]) -> bool:
        """Whether a stream's token is still live; the streams that share a token share one check per interval."""
        now = time.monotonic()
        checked = self.token_checks.get(token)
        if checked is None or now - checked[0] >= TOKEN_RECHECK / 2:
            checked = self.token_checks[token] = (now, await asyncio.to_thread(check, token))
            self._forget_old_checks(now)
        return checked[1]

    async def stream(
        self, school_id: str, day: date | None, token: str, check: Callable[[str], bool]
    ) -> AsyncIterator[Snapshot | None]:
        """The snapshots for one stream, until its token stops being live; None once it has."""
        async with self.join(school_id, day) as updates:
            next_check = time.monotonic() + TOKEN_RECHECK
            while True:
                try:
                    update = await asyncio.wait_for(updates.get(), max(0.0, next_check - time.monotonic()))
                except TimeoutError:
                    update = None
                if time.monotonic() >= next_check:
                    if not await self.token_live(token, check):
                        yield None
                        return
                    next_check = time.monotonic() + TOKEN_RECHECK
                if isinstance(update, BaseException):
                    raise update
                if update is not None:
                    yield update

    def _forget_old_checks(self, now: float) -> None:
        if len(self.token_checks) > 1000:
            self.token_checks = {t: c for t, c in self.token_checks.items() if now - c[0] < TOKEN_RECHECK}


def offer_latest(queue: asyncio.Queue[Update], update: Update) -> None:
    """Replace whatever the stream has not taken yet: a slow stream skips to the newest snapshot."""
    if queue.full():
        queue.get_nowait()
    queue.put_nowait(update)
