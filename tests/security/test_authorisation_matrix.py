"""The authorisation matrix: every endpoint of the route table × every role × own school, another school, no token,
a revoked and an expired token. Generated from `app.routes`, so an endpoint without an entry in EXPECTATIONS fails.

Outcomes: a role allowed on its own school gets past the role and school checks (no 401, no 403 role_not_allowed or
other_school; a custody rule such as not being the custodian may still refuse it); a role not allowed gets 403
role_not_allowed; an allowed role of another school gets 403 other_school or 404, with nothing but a code and a
message; no token 401 not_authenticated; a revoked or expired token 401 invalid_token. Refusals record nothing."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx2
import pytest
from fastapi.testclient import TestClient

from service.application.handoff import Handoff
from service.http.app import create_app
from service.infra.settings import postgres_env
from tests.security.conftest import TALLY, Callers, caller_tokens, served
from tests.security.expectations import EXPECTATIONS, Endpoint, Expect, endpoints, url
from tests.support import Clock, make_handoff

DEVICE = {"device_id": "tablet-7", "device_time": "2026-11-30T16:30:00+08:00"}
GATES = {"role_not_allowed", "other_school", "not_authenticated", "invalid_token"}


def route_table() -> list[Endpoint]:
    handoff = make_handoff()
    try:
        return list(endpoints(create_app(handoff)))
    finally:
        handoff.close()


ENDPOINTS = route_table()


def test_the_route_table_and_the_expectations_agree() -> None:
    missing = [str(e) for e in ENDPOINTS if (e.method, e.path) not in EXPECTATIONS]
    stale = [f"{m} {p}" for m, p in EXPECTATIONS if Endpoint(m, p) not in ENDPOINTS]
    assert not missing, f"say who may call these endpoints in tests/security/expectations.py: {missing}"
    assert not stale, f"these endpoints are gone; remove them from tests/security/expectations.py: {stale}"


@dataclass
class Answer:
    status: int
    body: Any


Send = Callable[[Endpoint, str | None, str, str], Answer]


def request_for(endpoint: Endpoint, expect: Expect, token: str | None, school: str, district: str) -> dict[str, Any]:
    headers = {"Idempotency-Key": uuid.uuid4().hex}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request: dict[str, Any] = {"method": endpoint.method, "url": url(endpoint, school, district), "headers": headers}
    request["params"] = dict(expect.query)
    if expect.body is not None and "csv" in expect.body:
        request["content"] = expect.body["csv"].encode()
        request["params"].update(DEVICE)
        headers["Content-Type"] = "text/csv"
    elif expect.body is not None and "photo" in expect.body:
        request["content"] = expect.body["photo"]
        request["params"].update(DEVICE)
        headers["Content-Type"] = "image/png"
    elif expect.body is not None:
        request["json"] = {**(DEVICE if expect.device else {}), **expect.body}
    return request


@dataclass
class InMemory:
    handoff: Handoff
    callers: Callers
    clock: Clock
    send: Send


@pytest.fixture(scope="module")
def in_memory() -> Iterator[InMemory]:
    """One app for every endpoint: the allowed calls change its state, which no role or school check depends on."""
    clock = Clock()
    handoff = make_handoff(clock=clock)
    callers = caller_tokens(handoff)
    client = TestClient(create_app(handoff), follow_redirects=False)

    def send(endpoint: Endpoint, token: str | None, school: str, district: str) -> Answer:
        response = client.request(
            **request_for(endpoint, EXPECTATIONS[endpoint.method, endpoint.path], token, school, district)
        )
        return Answer(response.status_code, parse(response.headers.get("content-type", ""), response.content))

    yield InMemory(handoff, callers, clock, send)
    handoff.close()


def parse(content_type: str, content: bytes) -> Any:
    return httpx2.Response(200, content=content).json() if content_type.startswith("application/json") else None


@dataclass
class Cell:
    caller: str
    role: str
    token: str | None
    school: str = "S1"
    district: str = "D1"


def cells(callers: Callers) -> list[Cell]:
    """Refusals first (each must record nothing), the allowed calls last (they may change state)."""
    return (
        [Cell("no token", "-", None)]
        + [Cell("revoked", role, token) for role, token in callers.revoked.items()]
        + [Cell("another school", role, token, "S1", "D1") for role, token in callers.other.items()]
        + [Cell("own school", role, token) for role, token in callers.own.items()]
    )


def expected(cell: Cell, expect: Expect, answer: Answer) -> str | None:
    """None when the answer is what the table says for this cell; otherwise what was wrong."""
    code = answer.body.get("code") if isinstance(answer.body, dict) else None
    if answer.status >= 500:
        return f"server error {answer.status}"
    if expect.public:
        if answer.status not in (401, 403) or code in expect.refusals:
            return None
        return f"public endpoint refused: {answer.status} {code}"
    if cell.caller == "no token":
        want: set[tuple[int, str]] = {(401, "not_authenticated")}
    elif cell.caller in ("revoked", "expired"):
        want = {(401, "invalid_token")}
    elif cell.role not in expect.allowed:
        want = {(403, "role_not_allowed")}
    elif cell.caller == "another school":
        if answer.status == 404 or (answer.status, code) == (403, "other_school"):
            leaked = set(answer.body or {}) - {"code", "message"}
            return f"leaks {sorted(leaked)}" if leaked else None
        return f"another school's caller got {answer.status} {code}"
    else:
        return None if answer.status != 401 and code not in GATES else f"allowed role refused: {answer.status} {code}"
    return None if (answer.status, code) in want else f"got {answer.status} {code}, want {sorted(want)}"


def check_endpoint(
    endpoint: Endpoint, callers: Callers, send: Send, clock: Clock, recorded: Callable[[], int] | None
) -> list[str]:
    expect = EXPECTATIONS[endpoint.method, endpoint.path]
    wrong: list[str] = []
    everyone = cells(callers)
    allowed_role = sorted(expect.allowed)[0]
    expired = Cell("expired", allowed_role, callers.own[allowed_role])
    for cell in [*everyone[:1], expired, *everyone[1:]]:
        before = recorded() if recorded else 0
        if cell is expired:
            clock.now += timedelta(days=2)
        try:
            answer = send(endpoint, cell.token, cell.school, cell.district)
        finally:
            if cell is expired:
                clock.now -= timedelta(days=2)
        TALLY["matrix requests"] += 1
        TALLY["matrix cells"] += 1
        problem = expected(cell, expect, answer)
        if problem is None and recorded and answer.status >= 400 and recorded() != before:
            problem = "a refusal recorded events"
        if problem:
            wrong.append(f"{endpoint} as {cell.role} ({cell.caller}): {problem}")
    return wrong


IN_MEMORY = [e for e in ENDPOINTS if (e.method, e.path) in EXPECTATIONS and not EXPECTATIONS[e.method, e.path].postgres]
ON_POSTGRES = [e for e in ENDPOINTS if (e.method, e.path) in EXPECTATIONS and EXPECTATIONS[e.method, e.path].postgres]


@pytest.mark.parametrize("endpoint", IN_MEMORY, ids=str)
def test_every_role_gets_what_the_table_says(endpoint: Endpoint, in_memory: InMemory) -> None:
    events = in_memory.handoff.recorder.max_notification_id
    wrong = check_endpoint(endpoint, in_memory.callers, in_memory.send, in_memory.clock, lambda: events() or 0)
    assert not wrong, "\n".join(wrong)


@dataclass
class Running:
    handoff: Handoff
    callers: Callers
    clock: Clock
    client: httpx2.Client


@pytest.fixture(scope="module")
def running(module_postgres_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    clock = Clock()
    handoff = make_handoff(postgres_env(module_postgres_url), clock)
    callers = caller_tokens(handoff)
    with served(handoff, module_postgres_url, tmp_path_factory.mktemp("keys")) as base:
        with httpx2.Client(base_url=base, timeout=10) as client:
            yield Running(handoff, callers, clock, client)
    handoff.close()


@pytest.mark.parametrize("endpoint", ON_POSTGRES, ids=str)
def test_every_role_gets_what_the_table_says_on_postgres(endpoint: Endpoint, running: Running) -> None:
    def send(endpoint: Endpoint, token: str | None, school: str, district: str) -> Answer:
        request = request_for(endpoint, EXPECTATIONS[endpoint.method, endpoint.path], token, school, district)
        with running.client.stream(**request) as response:  # the live stream answers, then never ends
            streaming = response.headers.get("content-type", "").startswith("text/event-stream")
            content = b"" if streaming else response.read()
            return Answer(response.status_code, parse(response.headers.get("content-type", ""), content))

    wrong = check_endpoint(endpoint, running.callers, send, running.clock, None)
    assert not wrong, "\n".join(wrong)
