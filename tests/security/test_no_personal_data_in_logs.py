"""No personal data in the logs: a whole day over HTTP on a real server (PostgreSQL, the projector and the policies
in the process, uvicorn logging as `handoff serve` has it), every log record captured, then searched for the
children's and guardians' names, the guardians' phone numbers and the priority categories."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx2
import pytest

from service.infra.key_store import PostgresKeyStore
from service.infra.settings import postgres_env
from tests.security.conftest import caller_tokens, served
from tests.support import SECRET, Clock, make_handoff

DEVICE = {"device_id": "tablet-7", "device_time": "2026-11-30T16:30:00+08:00"}
CHILDREN = [("C7", "Meilin", "Zhao"), ("C8", "小明", "王")]
GUARDIANS = [("Jianguo", "Zhao", "13912345678"), ("建国", "王", "+86 139 8765 4321")]
PRIORITIES = ["disability", "left_behind", "migrant_worker_family", "financial_difficulty"]
ROSTER = (
    "child_id,given_name,family_name,sex,home_class,grade,homeroom_teacher_id,"
    "guardian1_name,guardian1_relation,guardian1_phone\n"
    + "".join(
        f"{child},{given},{family},female,3-1,3,t1,{g_family}{g_given},parent,{phone}\n"
        for (child, given, family), (g_given, g_family, phone) in zip(CHILDREN, GUARDIANS, strict=True)
    )
)


def personal_data() -> list[str]:
    """Every form a name, phone or category could take in a log line (URLs percent-encode, names are joined)."""
    found: list[str] = []
    for _, given, family in CHILDREN:
        found += [given, family + given, f"{family} {given}"]
    for given, family, phone in GUARDIANS:
        found += [given, family + given, phone, phone.replace(" ", ""), phone.replace(" ", "")[-8:]]
    found += ["Ayi Liu", "13700001111"]  # the guardian added by hand below
    found += PRIORITIES
    return sorted({form for value in found for form in (value, quote(value))})


class Captured(logging.Handler):
    """Keeps every record formatted as a log file would hold it, with tracebacks."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def captured() -> Iterator[Captured]:
    handler = Captured()
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)  # as `handoff serve` configures it
    yield handler
    root.removeHandler(handler)
    root.setLevel(level)


class Desk:
    def __init__(self, base: str, tokens: dict[str, str]) -> None:
        self.base, self.tokens = base, tokens
        self.sent = 0

    def call(self, method: str, path: str, who: str, body: dict[str, Any] | None = None, **kw: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.tokens[who]}", "Idempotency-Key": uuid.uuid4().hex}
        response = httpx2.request(
            method, self.base + path, json=body, headers={**headers, **kw.pop("headers", {})}, **kw
        )
        self.sent += 1
        assert response.status_code < 500, response.text
        return response

    def command(self, path: str, who: str, **body: Any) -> Any:
        return self.call("POST", path, who, {**DEVICE, **body})


def a_day_at_school(desk: Desk) -> None:
    school, child = "/api/v1/schools/S1", "/api/v1/schools/S1/children"
    roster = desk.call(
        "POST",
        school + "/roster",
        "admin",
        None,
        content=ROSTER.encode(),
        params=DEVICE,
        headers={"Content-Type": "text/csv"},
    )
    assert roster.json()["children_added"] == 2, roster.text
    guardian = {
        "guardian_id": "G3",
        "relation": "aunt",
        "pickup_code": "2497",
        "name": "Ayi Liu",
        "phone": "13700001111",
    }
    assert desk.command(f"{child}/C1/guardians", "admin", **guardian).status_code == 200
    bad_phone = desk.command(f"{child}/C1/guardians", "admin", **{**guardian, "phone": "call 13700001111 now"})
    assert bad_phone.status_code == 422
    application = {"guardian_id": "G3", "days": ["mon"], "release_batch": "B1", "priority": PRIORITIES[:2]}
    assert desk.command(f"{child}/C7/enrolments/2026-27/application", "admin", **application).status_code == 200
    assert desk.call("GET", f"{child}/C7/enrolments/2026-27", "admin").json()["priority"]
    assert desk.call("GET", f"{child}/C7", "teacher").json()["name"] == "ZhaoMeilin"
    found = desk.call("POST", school + "/ui/children/search", "gate", {"q": "Meilin"}).json()
    assert found["items"], found
    desk.call("GET", school + "/ui/children/C8", "gate")
    desk.call("GET", f"{child}/C8", "teacher", params={"q": "王小明"})  # a name where none belongs: ignored, not logged
    # the handoff, with a wrong pickup code first (a refusal, and the policy's incident)
    assert desk.command(f"{child}/C1/check-in", "teacher", place_code="T1").status_code == 200
    wrong = desk.command(
        f"{child}/C1/guardian-arrival", "gate", guardian_id="G3", verification="pickup_code", pickup_code="9999"
    )
    assert wrong.json()["outcome"] == "refused"
    desk.command(
        f"{child}/C1/guardian-arrival", "gate", guardian_id="G3", verification="pickup_code", pickup_code="2497"
    )
    desk.command(
        f"{child}/C1/confirmation",
        "teacher",
        guardian_id="G3",
        guardian_recognised_child=True,
        child_recognised_guardian=True,
    )
    assert desk.command(f"{child}/C1/release", "teacher", guardian_id="G3").json()["custody"]["status"] == "released"
    assert (
        desk.command(f"{child}/C8/flags", "admin", person_id="P1", reason="court order", name="王建军").status_code
        == 200
    )
    desk.command(school + "/incidents", "duty_leader", kind="other", summary="a window is broken")
    for path in (
        "/occupancy",
        "/occupancy/children",
        "/audit",
        "/attendance",
        "/ui/awaiting-pickup",
        "/children/C1/timeline",
    ):
        desk.call("GET", school + path, "duty_leader")
    export = {"day_from": "2026-11-30", "day_to": "2026-11-30", "reason": "inspection", "with_names": True}
    assert desk.command(school + "/exports", "admin", **export).status_code == 200
    assert desk.command(f"{child}/C8/erasure", "admin", reason="left the school").status_code == 200
    desk.call("GET", school + "/ui/children/C8", "gate")


def wait_for_views(desk: Desk) -> None:
    deadline = time.monotonic() + 30
    while any(p["lag_events"] for p in httpx2.get(desk.base + "/health").json()["projections"].values()):
        assert time.monotonic() < deadline, "the projector did not catch up"
        time.sleep(0.1)


def test_a_day_at_school_leaves_no_personal_data_in_the_logs(
    fresh_postgres_url: str, tmp_path: Path, captured: Captured
) -> None:
    keys = PostgresKeyStore(fresh_postgres_url, SECRET.encode())
    handoff = make_handoff(postgres_env(fresh_postgres_url), Clock(), keys=keys)
    callers = caller_tokens(handoff)
    with served(handoff, fresh_postgres_url, tmp_path, capture=captured) as base:
        desk = Desk(base, callers.own)
        a_day_at_school(desk)
        wait_for_views(desk)
    handoff.close()

    server = [line for line in captured.lines if " httpx" not in line]  # the test's own client logs too
    logs = "\n".join(server)
    access = [line for line in server if "uvicorn.access" in line]
    assert len(access) >= desk.sent, "every request is in the access log"
    assert any(" handoff." in line for line in server), "the app's own loggers were captured"
    assert "/children/C8?q=… HTTP/1.1" in logs, "a query keeps its parameters' names, not their values"
    leaks = [(value, line) for value in personal_data() for line in server if value in line]
    assert not leaks, "\n".join(f"{value!r} in: {line}" for value, line in leaks[:20])
    assert "/roster" in logs
