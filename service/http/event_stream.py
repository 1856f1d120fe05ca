"""A server-sent event stream written straight from a live feed's stream: one future wakes it, its hub's bytes go out
as they are, and the body skips the middlewares' per-message wrappers (they act on the response's start only)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

from sse_starlette.sse import AppStatus
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from service.http.security import BODY_SEND
from service.processes.live_feed import Stream

HEADERS = {"cache-control": "no-store", "x-accel-buffering": "no"}
"""No proxy may keep or buffer the stream (nginx honours X-Accel-Buffering)."""


class EventStreamResponse(Response):
    """Server-sent events (text/event-stream) from the stream `open_stream` opens, until it ends or the client
    leaves; the stream is closed either way."""

    media_type = "text/event-stream"

    def __init__(self, open_stream: Callable[[], AbstractAsyncContextManager[Stream]]) -> None:
        self.open_stream = open_stream
        self.status_code = 200
        self.background = None
        self.init_headers(HEADERS)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        if scope.get("method") == "HEAD":
            await send({"type": "http.response.body", "body": b"", "more_body": False})
            return
        write = scope.get(BODY_SEND, send)
        async with self.open_stream() as stream:
            listener = asyncio.create_task(end_on_disconnect(receive, stream))
            try:
                while (chunk := await stream.next()) is not None:
                    await write({"type": "http.response.body", "body": chunk, "more_body": True})
            finally:
                listener.cancel()
        await write({"type": "http.response.body", "body": b"", "more_body": False})


def server_stopping() -> bool:
    """Whether uvicorn was told to exit (SIGTERM, SIGINT): it waits for every open response before it stops, so the
    live streams must end. sse-starlette's AppStatus catches uvicorn's exit signal (it wraps Server.handle_exit)."""
    return AppStatus.should_exit


async def end_on_disconnect(receive: Receive, stream: Stream) -> None:
    """End the stream once the client has gone (the server answers `receive` with a disconnect then)."""
    while (await receive())["type"] != "http.disconnect":
        pass
    stream.end()
