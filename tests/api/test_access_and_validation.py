"""Who may do what, and what a malformed request gets: a 4xx with a stable code, and nothing recorded."""

from __future__ import annotations

from datetime import timedelta

import pytest

from service.application.context import operator_context
from tests.api.conftest import Tablet
from tests.support import SCHOOL, Clock


def assert_refused(tablet: Tablet, response, status: int, code: str, count: int) -> None:
    assert response.status_code == status, response.text
    assert response.json()["code"] == code
    assert response.json()["message"]
    assert tablet.event_count() == count


def test_no_token_is_401(tablet: Tablet) -> None:
    count = tablet.event_count()
    assert_refused(tablet, tablet.post("check-in", {"place_code": "T1"}, who=None), 401, "not_authenticated", count)


@pytest.mark.parametrize("token", ["nonsense", "hs1.zz.yy.xx", "hs1." + "0" * 32 + ".abcd.secret"])
def test_a_made_up_token_is_401(tablet: Tablet, token: str) -> None:
    count = tablet.event_count()
    assert_refused(tablet, tablet.post("check-in", {"place_code": "T1"}, who=token), 401, "invalid_token", count)


def test_a_revoked_token_is_401_from_the_next_request(tablet: Tablet) -> None:
    assert tablet.day().status_code == 200
    tablet.handoff.staff.revoke_tokens(operator_context(SCHOOL), "t1", "lost tablet", None)
    assert tablet.day().status_code == 401


def test_an_expired_token_is_401(tablet: Tablet, clock: Clock) -> None:
    clock.now += timedelta(days=2)
    assert tablet.day().status_code == 401


@pytest.mark.parametrize(
    ("who", "path", "body"),
    [
        ("gate", "check-in", {"place_code": "T1"}),
        ("admin", "release", {"guardian_id": "G1"}),
        ("regulator", "check-in", {"place_code": "T1"}),
        ("teacher", "guardians", {"guardian_id": "G3", "relation": "aunt", "pickup_code": "4071"}),
    ],
)
def test_a_role_that_may_not_act_is_403(tablet: Tablet, who: str, path: str, body: dict) -> None:
    count = tablet.event_count()
    assert_refused(tablet, tablet.post(path, body, who=who), 403, "role_not_allowed", count)


def test_a_regulator_cannot_read_a_childs_day(tablet: Tablet) -> None:
    assert tablet.day(who="regulator").status_code == 403


def test_another_schools_child_is_403(tablet: Tablet) -> None:
    count = tablet.event_count()
    other = tablet.post("check-in", {"place_code": "T1"}, who="other_school_teacher")
    assert_refused(tablet, other, 403, "other_school", count)
    assert tablet.day(who="other_school_teacher").status_code == 403


def test_an_unknown_child_is_404(tablet: Tablet) -> None:
    count = tablet.event_count()
    assert_refused(tablet, tablet.post("check-in", {"place_code": "T1"}, child="C404"), 404, "child_not_found", count)


def test_an_unknown_place_or_staff_member_is_404(tablet: Tablet) -> None:
    count = tablet.event_count()
    assert_refused(tablet, tablet.post("check-in", {"place_code": "NOWHERE"}), 404, "place_not_found", count)
    nobody = tablet.post("check-in", {"place_code": "T1", "custodian_id": "ghost"})
    assert_refused(tablet, nobody, 404, "staff_not_found", count)


def test_handing_a_child_to_someone_who_cannot_hold_custody_is_refused(tablet: Tablet) -> None:
    count = tablet.event_count()
    to_admin = tablet.post("check-in", {"place_code": "T1", "custodian_id": "h1"})
    assert_refused(tablet, to_admin, 409, "cannot_hold_custody", count)


@pytest.mark.parametrize(
    ("body", "child", "device"),
    [
        ({"place_code": "T1", "colour": "red"}, "C1", True),  # unknown field
        ({"place_code": "T1"}, "C 1", True),  # bad id
        ({"place_code": "T1"}, "C" * 65, True),  # id too long
        ({"place_code": "../etc"}, "C1", True),  # bad place id
        ({"place_code": "T1", "device_id": "t", "device_time": "yesterday"}, "C1", False),  # bad time
        ({"place_code": "T1", "device_id": "t", "device_time": "2026-11-30T16:30:00"}, "C1", False),  # no offset
        ({"place_code": "T1"}, "C1", False),  # no device fields
    ],
)
def test_a_malformed_command_is_422_and_records_nothing(tablet: Tablet, body: dict, child: str, device: bool) -> None:
    count = tablet.event_count()
    assert_refused(tablet, tablet.post("check-in", body, child=child, device=device), 422, "invalid_request", count)


@pytest.mark.parametrize("day", ["2026-13-45", "yesterday", "30-11-2026"])
def test_a_bad_date_is_422(tablet: Tablet, day: str) -> None:
    response = tablet.day(day=day)
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_request"


@pytest.mark.parametrize("key", ["", "short", "has space in it", "k" * 129])
def test_a_missing_or_malformed_idempotency_key_is_422(tablet: Tablet, key: str) -> None:
    count = tablet.event_count()
    response = tablet.client.post(
        "/api/v1/schools/S1/children/C1/check-in",
        json={"device_id": "t", "device_time": "2026-11-30T16:30:00+08:00", "place_code": "T1"},
        headers={"Authorization": f"Bearer {tablet.tokens['teacher']}", **({"Idempotency-Key": key} if key else {})},
    )
    assert_refused(tablet, response, 422, "invalid_request", count)


def test_a_pickup_code_check_needs_a_code(tablet: Tablet) -> None:
    tablet.post("check-in", {"place_code": "T1"})
    count = tablet.event_count()
    no_code = tablet.post("guardian-arrival", {"guardian_id": "G1", "verification": "pickup_code"}, who="gate")
    assert_refused(tablet, no_code, 422, "invalid_request", count)
