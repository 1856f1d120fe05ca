"""Protections around every response: security headers, a limit on request bodies, and CORS only where configured."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

BODY_LIMIT = 64 * 1024
"""Bytes in a command's JSON body: the largest legitimate one (a headcount of 100 children) is about 4 KiB."""
ROSTER_LIMIT = 8 * 1024 * 1024
"""Bytes in a roster file: a simple CSV of a large school, or its zipped OneRoster bundle."""
PHOTO_BODY_LIMIT = 1024 * 1024
"""Bytes in a photo upload; the application itself refuses a photo over 512 KB with its own code (photo_too_large)."""

PAGE_POLICY = (
    "default-src 'self'; img-src 'self' blob:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'; "
    "object-src 'none'"
)
"""Scripts, styles and connections from this server only, and never inline; no page may frame ours. Images may also
be blob: URLs: a photo is fetched with the staff token and shown from memory, never from a URL of its own."""
DOCS_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "worker-src blob:; base-uri 'none'; frame-ancestors 'none'; object-src 'none'"
)
"""The interactive API docs load Swagger UI and ReDoc from this server (/docs-assets) and start them with an inline
script."""
DOCS_PATHS = frozenset({"/docs", "/docs/oauth2-redirect", "/redoc"})

CORS_HEADERS = ["Authorization", "Content-Type", "Idempotency-Key", "Prefer"]
BODY_SEND = "handoff.body_send"
"""The scope key of the `send` outside SecurityHeaders' own wrapper: a live stream writes its body there, past the
per-message wrappers of every middleware inside it, none of which changes a body (they act on a response's start)."""


def secure(api: FastAPI, cors_origins: Sequence[str] = ()) -> None:
    """Wrap the app: body limit innermost, then CORS (only for the configured origins), headers on everything."""
    access_log = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, QueryValuesOutOfAccessLog) for f in access_log.filters):
        access_log.addFilter(QueryValuesOutOfAccessLog())
    api.add_middleware(BodyLimit)
    if cors_origins:
        api.add_middleware(
            CORSMiddleware,
            allow_origins=list(cors_origins),
            allow_methods=["GET", "POST", "PUT"],
            allow_headers=CORS_HEADERS,
            expose_headers=["Views-Caught-Up"],
        )
    api.add_middleware(SecurityHeaders)


def security_headers(path: str) -> dict[str, str]:
    """The headers every answer carries, by path."""
    headers = {
        "content-security-policy": DOCS_POLICY if path in DOCS_PATHS else PAGE_POLICY,
        "x-content-type-options": "nosniff",
        "referrer-policy": "no-referrer",
        "x-frame-options": "DENY",
    }
    if path.startswith("/api/"):
        headers["cache-control"] = "no-store"  # answers about children are never kept in a cache
    return headers


class QueryValuesOutOfAccessLog(logging.Filter):
    """uvicorn logs each request's path with its query string, which holds whatever a client put there (a typed
    name, say); the access log keeps the parameters' names and drops their values."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and len(record.args) == 5 and "?" in str(record.args[2]):
            client, method, path, version, status = record.args
            path, query = str(path).split("?", 1)
            record.args = (client, method, f"{path}?{re.sub(r'=[^&]*', '=…', query)}", version, status)
        return True


class HttpMiddleware:
    """An ASGI middleware that acts on HTTP requests only and passes everything else (the lifespan) through."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await self.handle(scope, receive, send)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        raise NotImplementedError


class SecurityHeaders(HttpMiddleware):
    """Headers that tell browsers not to sniff, frame, refer or cache, and to run only this server's scripts."""

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        added = [(name.encode(), value.encode()) for name, value in security_headers(scope["path"]).items()]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {name for name, _ in added}
                kept = [(name, value) for name, value in message.get("headers", []) if name.lower() not in names]
                message["headers"] = kept + added
            await send(message)

        scope[BODY_SEND] = send
        await self.app(scope, receive, send_with_headers)


class BodyLimit(HttpMiddleware):
    """Refuse a request body over the limit with 413 before the app sees any of it (the body is read here first)."""

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        limit = body_limit(scope["path"])
        if declared_length(scope) > limit:
            await too_large(send, limit)
            return
        first = await read_body(receive, limit)
        if first is None:
            await too_large(send, limit)
            return

        async def replay() -> Message:
            nonlocal first
            if first is not None:
                message, first = first, None
                return message
            return await receive()

        await self.app(scope, replay, send)


def body_limit(path: str) -> int:
    if path.endswith("/roster"):
        return ROSTER_LIMIT
    return PHOTO_BODY_LIMIT if path.endswith("/photo") else BODY_LIMIT


def declared_length(scope: Scope) -> int:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            return int(value) if value.isdigit() else 0
    return 0


async def read_body(receive: Receive, limit: int) -> Message | None:
    """The whole body as one message to replay, or None once it passes the limit (however it was chunked)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return message  # the client left: the app sees the disconnect
        chunks.append(message.get("body", b""))
        size += len(chunks[-1])
        if size > limit:
            return None
        if not message.get("more_body", False):
            return {"type": "http.request", "body": b"".join(chunks), "more_body": False}


async def too_large(send: Send, limit: int) -> None:
    body = json.dumps(
        {
            "code": "request_too_large",
            "message": f"The request is too large: at most {limit // 1024} KiB. Nothing was recorded.",
        }
    ).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 413, "headers": headers})
    await send({"type": "http.response.body", "body": body})
