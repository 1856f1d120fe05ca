"""Slow clients (#13 item 12): fifty connections that send their headers a line at a time are closed once the
header deadline passes, while an ordinary request is answered; real sockets against a running server."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import httpx2
import pytest
import uvicorn

from service.http.app import create_app
from service.http.server import server_config
from tests.support import make_handoff

DEADLINE = 1.0


@pytest.fixture
def running() -> Iterator[tuple[str, int]]:
    handoff = make_handoff()
    server = uvicorn.Server(server_config(create_app(handoff), "127.0.0.1", 0, header_timeout=DEADLINE))
    server.config.log_level = "warning"
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    yield "127.0.0.1", server.servers[0].sockets[0].getsockname()[1]
    server.should_exit = True
    thread.join(10)
    handoff.close()


def closed_by_server(sock: socket.socket) -> bool:
    try:
        return sock.recv(1) == b""
    except (ConnectionResetError, BrokenPipeError):
        return True
    except TimeoutError:
        return False


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
