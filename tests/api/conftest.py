"""HTTP through the FastAPI app, over the in-memory event store (and PostgreSQL where a test asks for it)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from httpx2 import Response

from aggregates.staff import Role
from service.application.context import operator_context
from service.application.handoff import Handoff
from service.http.app import create_app
from service.reads.readside import ReadSide
from tests.support import DISTRICT, OTHER_SCHOOL, SCHOOL, Clock, make_handoff, setup_school

STAFF_TOKENS = {
    "teacher": (SCHOOL, "t1"),
    "gate": (SCHOOL, "g1"),
    "duty_leader": (SCHOOL, "d1"),
    "admin": (SCHOOL, "a1"),
    "regulator": (DISTRICT, "r1"),
    "other_school_teacher": (OTHER_SCHOOL, "t1"),
}


class Tablet:
    """A client that sends commands the way a tablet does: bearer token, Idempotency-Key, device fields."""

    def __init__(self, client: TestClient, handoff: Handoff, tokens: dict[str, str]) -> None:
        self.client, self.handoff, self.tokens = client, handoff, tokens

    def headers(self, who: str | None, key: str | None = None) -> dict[str, str]:
        headers = {"Idempotency-Key": key or uuid.uuid4().hex}
        if who:
            headers["Authorization"] = f"Bearer {self.tokens.get(who, who)}"
        return headers

    def post(
        self,
        path: str,
        body: dict,
        who: str | None = "teacher",
        key: str | None = None,
        child: str = "C1",
        school: str = SCHOOL,
        device: bool = True,
    ) -> Response:
        if device:
            body = {"device_id": "tablet-7", "device_time": "2026-11-30T16:30:00+08:00", **body}
        url = f"/api/v1/schools/{school}/children/{child}/{path}"
        return self.client.post(url, json=body, headers=self.headers(who, key))

    def put_code(self, guardian: str, code: str, who: str = "admin") -> Response:
        body = {"device_id": "tablet-7", "device_time": "2026-11-30T16:30:00+08:00", "pickup_code": code}
        url = f"/api/v1/schools/{SCHOOL}/children/C1/guardians/{guardian}/pickup-code"
        return self.client.put(url, json=body, headers=self.headers(who))

    def post_school(self, path: str, body: dict, who: str = "admin", school: str = SCHOOL) -> Response:
        """A school-level command, e.g. opening the service day."""
        body = {"device_id": "tablet-7", "device_time": "2026-11-30T16:30:00+08:00", **body}
        return self.client.post(f"/api/v1/schools/{school}/{path}", json=body, headers=self.headers(who))

    def day(self, who: str = "teacher", child: str = "C1", day: str = "2026-11-30", school: str = SCHOOL) -> Response:
        url = f"/api/v1/schools/{school}/children/{child}/days/{day}"
        return self.client.get(url, headers=self.headers(who))

    def event_count(self) -> int:
        return self.handoff.recorder.max_notification_id() or 0


def two_schools_with_tokens(handoff: Handoff) -> dict[str, str]:
    """Schools S1 and S2 of district D1, its regulator r1, and a token for each kind of caller."""
    setup_school(handoff)
    setup_school(handoff, OTHER_SCHOOL)
    handoff.staff.register_staff(operator_context(DISTRICT), "r1", Role.REGULATOR, DISTRICT)
    return {
        who: handoff.staff.issue_token(operator_context(scope), staff, timedelta(days=1))["token"]
        for who, (scope, staff) in STAFF_TOKENS.items()
    }


def make_tablet(handoff: Handoff, read: ReadSide | None = None) -> Tablet:
    return Tablet(TestClient(create_app(handoff, read)), handoff, two_schools_with_tokens(handoff))


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def tablet(clock: Clock) -> Iterator[Tablet]:
    handoff = make_handoff(clock=clock)
    yield make_tablet(handoff)
    handoff.close()


Post = Callable[..., Response]
