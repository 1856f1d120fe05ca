"""Slow clients (#13 item 12): fifty connections that send their headers a line at a time are closed once the
header deadline passes, while an ordinary request is answered; real sockets against a running server, served as
`handoff serve` serves (httptools on uvloop)."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx2
import pytest
import uvicorn
from fastapi import FastAPI
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from service.http.app import create_app
from service.http.server import server_config
from tests.support import make_handoff

DEADLINE = 1.0


@contextmanager
def serving(app: Any) -> Iterator[tuple[str, int]]:
    server = uvicorn.Server(server_config(app, "127.0.0.1", 0, header_timeout=DEADLINE))
    server.config.log_level = "warning"
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    yield "127.0.0.1", server.servers[0].sockets[0].getsockname()[1]
    server.should_exit = True
    thread.join(10)


@pytest.fixture
def running() -> Iterator[tuple[str, int]]:
    handoff = make_handoff()
    with serving(create_app(handoff)) as address:
        yield address
    handoff.close()


@pytest.fixture
def slow_answers() -> Iterator[tuple[str, int]]:
    """A server whose one endpoint answers after twice the header deadline."""
    api = FastAPI()

    @api.get("/slow")
    async def slow() -> dict[str, str]:
        await asyncio.sleep(DEADLINE * 2)
        return {"outcome": "answered"}

    with serving(api) as address:
        yield address


def closed_by_server(sock: socket.socket) -> bool:
    try:
        return sock.recv(1) == b""
    except (ConnectionResetError, BrokenPipeError):
        return True
    except TimeoutError:
        return False


def answer_status(sock: socket.socket) -> int:
    """Read one whole answer (headers and a body of Content-Length) from the socket; its status."""
    found = b""
    while b"\r\n\r\n" not in found:
        found += received(sock)
    head, body = found.split(b"\r\n\r\n", 1)
    lines = head.decode().split("\r\n")
    length = next(int(line.split(":")[1]) for line in lines if line.lower().startswith("content-length:"))
    while len(body) < length:
        body += received(sock)
    return int(lines[0].split()[1])


def received(sock: socket.socket) -> bytes:
    chunk = sock.recv(4096)
    assert chunk, "closed by the server before the whole answer was sent"
    return chunk


def test_served_with_httptools_on_uvloop() -> None:
    config = server_config(FastAPI(), "127.0.0.1", 0)
    assert isinstance(config.http, type) and issubclass(config.http, HttpToolsProtocol)
    assert config.loop == "uvloop"


def test_fifty_slow_header_senders_are_cut_off_and_others_are_served(running: tuple[str, int]) -> None:
    host, port = running
    slow = [socket.create_connection((host, port)) for _ in range(50)]
    for sock in slow:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")
    started = time.monotonic()
    while time.monotonic() - started < DEADLINE * 3:  # a header line every half second, never the blank line
        for sock in slow:
            try:
                sock.sendall(b"X-Slow: 1\r\n")
            except OSError:
                pass
        assert httpx2.get(f"http://{host}:{port}/health", timeout=5).status_code == 200
        time.sleep(0.5)
    for sock in slow:
        sock.settimeout(2)
    assert sum(closed_by_server(sock) for sock in slow) == 50
    for sock in slow:
        sock.close()


def test_a_connection_that_sends_nothing_is_closed_too(running: tuple[str, int]) -> None:
    silent = socket.create_connection(running)
    silent.settimeout(DEADLINE * 4)
    assert closed_by_server(silent)
    silent.close()


def test_a_kept_alive_connection_whose_next_headers_trickle_is_closed(running: tuple[str, int]) -> None:
    """The deadline starts again with each request on a connection, not only when it opens."""
    sock = socket.create_connection(running)
    sock.settimeout(5)
    sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
    assert answer_status(sock) == 200
    sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")
    started = time.monotonic()
    closed = False
    while not closed and time.monotonic() - started < DEADLINE * 4:  # well before the 5 s keep-alive timeout
        time.sleep(0.25)
        try:
            sock.sendall(b"X-Slow: 1\r\n")
        except OSError:
            closed = True
    sock.settimeout(DEADLINE * 4 - (time.monotonic() - started))
    assert closed or closed_by_server(sock)
    assert time.monotonic() - started < DEADLINE * 4
    sock.close()


def test_pipelined_headers_behind_a_slow_answer_do_not_cut_it_off(slow_answers: tuple[str, int]) -> None:
    """Headers that arrived behind a request still being answered wait on the server, not on the client: the
    answer is sent whole; the unfinished second request is cut off afterwards."""
    sock = socket.create_connection(slow_answers)
    sock.settimeout(DEADLINE * 4)
    sock.sendall(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\nGET /slow HTTP/1.1\r\nHost: x\r\n")
    assert answer_status(sock) == 200
    sock.settimeout(DEADLINE * 3)  # sooner than the keep-alive timeout (5 s)
    assert closed_by_server(sock)
    sock.close()
