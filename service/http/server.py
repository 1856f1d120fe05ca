"""How the API is served: uvicorn with httptools on uvloop, a deadline for every request's headers, and bounded
concurrency.

uvicorn closes an idle keep-alive connection after `timeout_keep_alive`, but it waits for ever for headers that
arrive a byte at a time: fifty such connections (slowloris) would be held open indefinitely. Here a request's
headers must be complete within HEADER_TIMEOUT seconds of its first byte (or of the connection's opening), else the
connection is closed."""

from __future__ import annotations

import asyncio
from typing import Any

import uvicorn
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
