"""How the API is served: uvicorn with httptools on uvloop, a deadline for every request's headers, bounded
concurrency, and a bounded number of commands at once (CommandSlots), so that reads stay quick under load.

uvicorn closes an idle keep-alive connection after `timeout_keep_alive`, but it waits for ever for headers that
arrive a byte at a time: fifty such connections (slowloris) would be held open indefinitely. Here a request's
headers must be complete within HEADER_TIMEOUT seconds of its first byte (or of the connection's opening), else the
connection is closed."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

import uvicorn
from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

HEADER_TIMEOUT = 10.0
"""Seconds a client has to send a request's headers (a tablet on a poor network needs well under one)."""
KEEP_ALIVE_TIMEOUT = 5
"""Seconds an idle keep-alive connection stays open."""
MAX_CONCURRENCY = 1000
"""Connections and requests at once; beyond it uvicorn answers 503 at once instead of queueing without bound."""


class HeaderDeadline(HttpToolsProtocol):
    """httptools with a deadline for each request's headers: armed when the connection opens and when a request's
    first byte arrives, disarmed once its headers are complete."""

    header_timeout = HEADER_TIMEOUT
    deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def on_message_begin(self) -> None:
        self._arm()  # a new request begins: its headers are due
        super().on_message_begin()

    def on_headers_complete(self) -> None:
        self._disarm()
        super().on_headers_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        if self.deadline is None:
            self.deadline = self.loop.call_later(self.header_timeout, self._headers_too_slow)

    def _disarm(self) -> None:
        if self.deadline is not None:
            self.deadline.cancel()
            self.deadline = None

    def _headers_too_slow(self) -> None:
        self.deadline = None  # still armed when it fires: the headers under way are not complete
        if self.cycle is not None and not self.cycle.response_complete:
            self._arm()  # pipelined headers wait behind an answer still under way: the delay is ours, not theirs
        elif not self.transport.is_closing():
            self.transport.close()


def server_config(
    app: Any, host: str, port: int, header_timeout: float = HEADER_TIMEOUT, **more: Any
) -> uvicorn.Config:
    """The one uvicorn configuration of `handoff serve` (and of the tests' servers)."""
    protocol = type("HeaderDeadlineProtocol", (HeaderDeadline,), {"header_timeout": header_timeout})
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        http=protocol,
        loop="uvloop",
        timeout_keep_alive=KEEP_ALIVE_TIMEOUT,
        limit_concurrency=MAX_CONCURRENCY,
        **more,
    )


COMMAND_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
READS_SENT_AS_POST = re.compile(r"^/api/v1/schools/[^/]+/ui/")
"""The gate's and the board's reads (service/http/routes/ui_data.py); the search among them is a POST, so that a typed
name stays out of URLs, and records nothing."""
COMMAND_WAIT = 10.0
"""Seconds a command waits for a slot before it is answered 503 (nothing recorded; retry with the same key)."""


class CommandSlots:
    """Admission control: at most `slots` commands run at once in this worker; the others wait here, on the event
    loop, without holding a thread. A read never waits behind them for one of the thread pool's threads or for the
    GIL: under a dismissal as fast as 32 tablets go, the gate's search and cards are answered among a few commands,
    not behind all of them. A command that cannot start within `wait` seconds (overload) is answered 503
    `server_busy` with Retry-After; it never started, so a retry with the same Idempotency-Key records it once."""

    def __init__(self, app: ASGIApp, slots: int, wait: float = COMMAND_WAIT) -> None:
        self.app, self.slots, self.wait = app, slots, wait
        self.loop: asyncio.AbstractEventLoop | None = None
        self.free = asyncio.Semaphore(slots)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_command(scope):
            await self.app(scope, receive, send)
            return
        free = self._semaphore()
        try:
            async with asyncio.timeout(self.wait):
                await free.acquire()
        except TimeoutError:
            await busy(send)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            free.release()

    def _semaphore(self) -> asyncio.Semaphore:
        """The slots of the running loop (one per worker; a test client may start another)."""
        loop = asyncio.get_running_loop()
        if self.loop is not loop:
            self.loop, self.free = loop, asyncio.Semaphore(self.slots)
        return self.free


def is_command(scope: Scope) -> bool:
    return scope["method"] in COMMAND_METHODS and not READS_SENT_AS_POST.match(scope["path"])


async def busy(send: Send) -> None:
    message = "The server is too busy to record this now. Nothing was recorded; try again."
    body = json.dumps({"code": "server_busy", "message": message}).encode()
    headers = [(b"content-type", b"application/json"), (b"retry-after", b"1")]
    await send({"type": "http.response.start", "status": 503, "headers": headers})
    await send({"type": "http.response.body", "body": body})
