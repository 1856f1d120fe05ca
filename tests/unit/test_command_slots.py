"""Admission control (service.http.server.CommandSlots): commands beyond the slots wait without holding a thread, so a
read is answered while every slot is busy, and the waiting commands run once slots free up; at overload, 503."""

from __future__ import annotations

import asyncio
import json
import re
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from anyio import to_thread
from fastapi import FastAPI
from starlette.types import ASGIApp, Message

from service.http.app import create_app
from service.http.server import CommandSlots, is_command
from tests.support import make_handoff

SCHOOL = "/api/v1/schools/demo-school"


def gate_app(release: threading.Event, entered: list[str]) -> FastAPI:
    """Sync routes as the API's: a command that holds its thread until `release`, and two reads (one sent as POST)."""
    api = FastAPI()

    @api.post(SCHOOL + "/children/{child}/check-in")
    def check_in(child: str) -> dict[str, str]:
        entered.append(child)
        assert release.wait(10)
        return {"outcome": "recorded"}

    @api.post(SCHOOL + "/ui/children/search")
    def search() -> dict[str, list[str]]:
        return {"children": []}

    @api.get(SCHOOL + "/ui/awaiting-pickup")
    def awaiting() -> dict[str, list[str]]:
        return {"children": []}

    return api


def on_a_loop_of_its_own(test: Callable[[], Awaitable[Any]]) -> Any:
    with ThreadPoolExecutor(1) as thread:  # another test's (a browser's) loop may run on pytest's thread
        return thread.submit(asyncio.run, test()).result()


async def call(app: ASGIApp, method: str, path: str) -> tuple[int, dict[str, str], bytes]:
    """One HTTP request straight to the ASGI app: its status, headers and body."""
    scope = {"type": "http", "http_version": "1.1", "method": method, "path": path, "raw_path": path.encode(),
             "query_string": b"", "root_path": "", "scheme": "http", "server": ("gate", 80), "client": ("tablet", 1),
             "headers": [(b"content-type", b"application/json"), (b"content-length", b"2")]}  # fmt: skip
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"{}", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    await app(scope, receive, send)
    headers = {name.decode(): value.decode() for name, value in sent[0].get("headers", [])}
    return sent[0]["status"], headers, b"".join(m.get("body", b"") for m in sent[1:])


async def until(condition: Callable[[], bool]) -> None:
    for _ in range(500):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("not within 5 s")


def test_a_read_is_answered_while_every_command_slot_is_busy_and_the_waiting_commands_complete() -> None:
    release, entered = threading.Event(), []
    app = CommandSlots(gate_app(release, entered), slots=2)

    async def dismissal() -> None:
        to_thread.current_default_thread_limiter().total_tokens = 3  # two slots' threads, and one more
        commands = [asyncio.create_task(call(app, "POST", f"{SCHOOL}/children/C000{n}/check-in")) for n in range(6)]
        await until(lambda: len(entered) == 2)
        await asyncio.sleep(0.2)
        assert len(entered) == 2, "commands beyond the slots wait, holding no thread"
        found = await asyncio.wait_for(call(app, "POST", f"{SCHOOL}/ui/children/search"), 2)
        awaiting = await asyncio.wait_for(call(app, "GET", f"{SCHOOL}/ui/awaiting-pickup"), 2)
        assert (found[0], awaiting[0]) == (200, 200)
        assert not any(command.done() for command in commands)
        release.set()
        answers = await asyncio.wait_for(asyncio.gather(*commands), 10)
        assert [status for status, _, _ in answers] == [200] * 6
        assert sorted(entered) == [f"C000{n}" for n in range(6)]

    on_a_loop_of_its_own(dismissal)


def test_a_command_that_cannot_start_in_time_is_answered_503_and_not_run() -> None:
    release, entered = threading.Event(), []
    app = CommandSlots(gate_app(release, entered), slots=1, wait=0.2)

    async def overload() -> None:
        first = asyncio.create_task(call(app, "POST", f"{SCHOOL}/children/C0001/check-in"))
        await until(lambda: entered == ["C0001"])
        status, headers, body = await call(app, "POST", f"{SCHOOL}/children/C0002/check-in")
        assert (status, json.loads(body)["code"], headers["retry-after"]) == (503, "server_busy", "1")
        release.set()
        assert (await first)[0] == 200
        assert (await call(app, "POST", f"{SCHOOL}/children/C0002/check-in"))[0] == 200
        assert entered == ["C0001", "C0002"]

    on_a_loop_of_its_own(overload)


def test_every_route_that_takes_an_idempotency_key_waits_for_a_slot_and_the_gate_reads_do_not() -> None:
    paths = create_app(make_handoff()).openapi()["paths"]
    gated, reads = set(), set()
    for path, operations in paths.items():
        for method, operation in operations.items():
            scope = {"type": "http", "method": method.upper(), "path": re.sub(r"\{[^}]+\}", "x", path)}
            keyed = any(parameter["name"] == "Idempotency-Key" for parameter in operation.get("parameters", []))
            assert is_command(scope) or not keyed, f"{method} {path} records but would not wait for a slot"
            (gated if is_command(scope) else reads).add(f"{method.upper()} {path}")
    search = "POST /api/v1/schools/{school_id}/ui/children/search"
    assert "POST /api/v1/schools/{school_id}/children/{child_id}/check-in" in gated
    assert [read for read in reads if read.startswith(("POST", "PUT", "PATCH", "DELETE"))] == [search]
