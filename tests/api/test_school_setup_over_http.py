"""A school's admin sets it up over HTTP: places, staff and their tokens, each through the one command path (a retry
answers from the stored answer, which never holds the token)."""

from __future__ import annotations

from tests.api.conftest import Tablet


def test_places_and_staff_are_added_once_and_a_regulator_is_not_a_school_role(tablet: Tablet) -> None:
    place = {"place_code": "EXIT", "kind": "release_point", "label_zh": "东门接送点", "label_en": "East exit"}
    assert tablet.post_school("places", place).json()["kind"] == "release_point"
    assert tablet.handoff.school("S1").places["EXIT"].kind == "release_point"
    again = tablet.post_school("places", place)
    assert (again.status_code, again.json()["code"]) == (409, "place_already_exists")
    assert tablet.post_school("staff", {"staff_id": "g7", "role": "gate"}).json()["role"] == "gate"
    count = tablet.event_count()
    refused = tablet.post_school("staff", {"staff_id": "r7", "role": "regulator"})
    assert (refused.status_code, refused.json()["code"], tablet.event_count()) == (422, "invalid_request", count)
    teacher = tablet.post_school("places", place, who="teacher")
    assert (teacher.status_code, teacher.json()["code"]) == (403, "role_not_allowed")


def test_a_token_is_shown_once_works_and_is_stored_only_as_a_hash(tablet: Tablet) -> None:
    tablet.post_school("staff", {"staff_id": "g7", "role": "gate"})
    headers = tablet.headers("admin", "token-for-g7-1")
    body = {"device_id": "office-pc", "device_time": "2026-11-30T16:30:00+08:00", "days": 7}
    issued = tablet.client.post("/api/v1/schools/S1/staff/g7/tokens", json=body, headers=headers).json()
    member = tablet.handoff.staff.authenticate(issued["token"])
    assert member is not None and member.staff_id == "g7"
    retried = tablet.client.post("/api/v1/schools/S1/staff/g7/tokens", json=body, headers=headers).json()
    assert retried["replayed"] is True and retried["token"] is None and retried["token_id"] == issued["token_id"]
    secret = issued["token"].rsplit(".", 1)[1].encode()
    stored = b"".join(e.state for e in tablet.handoff.recorder.select_notifications(1, 100000))
    assert secret not in stored
