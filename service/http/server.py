"""How the API is served: uvicorn with h11, a deadline for every request's headers, and bounded concurrency.

uvicorn closes an idle keep-alive connection after `timeout_keep_alive`, but it waits for ever for headers that
arrive a byte at a time: fifty such connections (slowloris) would be held open indefinitely. Here a request's
headers must be complete within HEADER_TIMEOUT seconds of its first byte (or of the connection's opening), else the
connection is closed."""

from __future__ import annotations

import asyncio
from typing import Any

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

HEADER_TIMEOUT = 10.0
"""Seconds a client has to send a request's headers (a tablet on a poor network needs well under one)."""
KEEP_ALIVE_TIMEOUT = 5
"""Seconds an idle keep-alive connection stays open."""
MAX_CONCURRENCY = 1000
"""Connections and requests at once; beyond it uvicorn answers 503 at once instead of queueing without bound."""


class HeaderDeadline(H11Protocol):
    """h11 with a deadline for each request's headers."""

    header_timeout = HEADER_TIMEOUT
    deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def data_received(self, data: bytes) -> None:
        if self.conn.their_state is h11.IDLE:
            self._arm()  # a new request begins: its headers are due
        super().data_received(data)
        if self.conn.their_state is not h11.IDLE:
            self._disarm()

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
        self.deadline = None
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
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
        timeout_keep_alive=KEEP_ALIVE_TIMEOUT,
        limit_concurrency=MAX_CONCURRENCY,
        **more,
    )
