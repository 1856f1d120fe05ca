"""The live stream's own response on a running server: the security headers on its start, the same bytes for every
stream of a school, and a stream whose client left is dropped from its school's hub."""

from __future__ import annotations

import socket
import time

from service.http.security import security_headers
from tests.api.test_views_over_http import Server, running  # noqa: F401 - the fixture

PATH = "/api/v1/schools/S1/live"


def open_stream(server: Server, who: str) -> socket.socket:
    host, port = server.url.removeprefix("http://").split(":")
    client = socket.create_connection((host, int(port)), timeout=10)
    request = f"GET {PATH} HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer {server.tokens[who]}\r\n\r\n"
    client.sendall(request.encode())
    return client


def read_until(client: socket.socket, count: int, marker: bytes = b"event: occupancy") -> bytes:
    seen = b""
    while seen.count(marker) < count:
        data = client.recv(65536)
        assert data, "the stream ended"
        seen += data
    return seen


def test_two_streams_of_a_school_get_the_same_bytes_after_the_security_headers(running: Server) -> None:  # noqa: F811
    one, two = open_stream(running, "duty_leader"), open_stream(running, "admin")
    try:
        head_one, _, body_one = read_until(one, 1).partition(b"\r\n\r\n")
        head_two, _, body_two = read_until(two, 1).partition(b"\r\n\r\n")
        lines = head_one.decode().lower().split("\r\n")
        assert lines[0] == "http/1.1 200 ok"
        for name, value in security_headers(PATH).items():
            assert f"{name}: {value}".lower() in lines, f"{name} missing on the stream's start"
        assert "content-type: text/event-stream; charset=utf-8" in lines
        assert body_one == body_two, "the snapshot on joining, framed once for both"
        assert running.post("C1", "check-in", {"place_code": "T1"}).status_code == 200
        after_one, after_two = read_until(one, 1), read_until(two, 1)
        assert after_one == after_two and b'"in_care":1' in after_one.replace(b" ", b"")
    finally:
        one.close()
        two.close()


def test_a_stream_whose_client_left_is_dropped_from_its_hub(running: Server) -> None:  # noqa: F811
    feed = running.app.state.live
    staying, leaving = open_stream(running, "duty_leader"), open_stream(running, "teacher")
    try:
        read_until(staying, 1), read_until(leaving, 1)
        assert len(feed.hubs["S1", "today"].members) == 2
        leaving.close()
        deadline = time.monotonic() + 5
        while len(feed.hubs["S1", "today"].members) != 1:
            assert time.monotonic() < deadline, "the stream of a client that left stayed in the hub"
            time.sleep(0.05)
    finally:
        staying.close()
    deadline = time.monotonic() + 5
    while feed.hubs:
        assert time.monotonic() < deadline, "the school's hub outlived its last stream"
        time.sleep(0.05)
