"""Trust at the edges (#13): absurd input refused at the boundary with a stable code, keys bound to their request,
a closed day, a failed mutual confirmation that holds until reviewed, and the small ones."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from aggregates.staff import Role
from service.application.context import operator_context
from service.http.app import create_app
from tests.api.conftest import Tablet
from tests.support import Clock

KEY = "tablet-7-revoke-0001"


def test_a_key_reused_on_another_childs_revocation_is_refused_and_records_nothing(tablet: Tablet) -> None:
    body = {"reason": "moved away"}
    assert tablet.post("guardians/G2/revocation", body, who="admin", key=KEY).status_code == 200
    count = tablet.event_count()
    reused = tablet.post("guardians/G5/revocation", body, who="admin", key=KEY, child="C2")
    assert (reused.status_code, reused.json()["code"]) == (422, "idempotency_key_reused")
    assert tablet.event_count() == count
    assert tablet.handoff.guardians("S1", "C2").is_authorised("G5", tablet.handoff.clock().date())


def test_a_key_reused_on_another_childs_absence_is_refused_and_records_nothing(tablet: Tablet) -> None:
    assert tablet.post("absence", {"reason": "ill"}, key=KEY).status_code == 200
    count = tablet.event_count()
    reused = tablet.post("absence", {"reason": "ill"}, key=KEY, child="C2")
    assert (reused.status_code, reused.json()["code"]) == (422, "idempotency_key_reused")
    assert tablet.event_count() == count
    assert tablet.day(child="C2").json()["custody"]["status"] == "expected"


def open_day(tablet: Tablet, day: str) -> None:
    tablet.handoff.staff.register_staff(operator_context("S1"), "d2", Role.DUTY_LEADER, "D1")
    tablet.handoff.staff.register_staff(operator_context("S1"), "g2", Role.GATE, "D1")
    rota = {"duty_leaders": ["d1", "d2"], "guards": ["g1", "g2"]}
    assert tablet.post_school(f"days/{day}/opening", rota).status_code == 200


def test_a_closed_day_takes_no_check_in(tablet: Tablet, clock: Clock) -> None:
    day = clock.now.date().isoformat()
    open_day(tablet, day)
    assert tablet.post_school(f"days/{day}/closing", {}, who="duty_leader").status_code == 200
    count = tablet.event_count()
    late = tablet.post("check-in", {"place_code": "T1"})
    assert (late.status_code, late.json()["code"]) == (409, "day_closed")
    assert tablet.event_count() == count


def arrived(tablet: Tablet) -> None:
    assert tablet.post("check-in", {"place_code": "T1"}).status_code == 200
    arrival = {"guardian_id": "G1", "verification": "pickup_code", "pickup_code": "1234"}
    assert tablet.post("guardian-arrival", arrival, who="gate").json()["outcome"] == "recorded"


MISMATCH = {"guardian_id": "G1", "guardian_recognised_child": True, "child_recognised_guardian": False}
BOTH = {**MISMATCH, "child_recognised_guardian": True}


def test_a_failed_confirmation_is_not_cleared_by_tapping_again(tablet: Tablet) -> None:
    arrived(tablet)
    assert tablet.post("confirmation", MISMATCH).json()["refusal"]["code"] == "confirmation_mismatch"
    count = tablet.event_count()
    again = tablet.post("confirmation", BOTH)
    assert (again.status_code, again.json()["code"]) == (409, "confirmation_under_review")
    assert tablet.event_count() == count
    assert tablet.post("release", {"guardian_id": "G1"}).status_code == 409


def test_a_duty_leader_reviews_the_mismatch_and_the_review_is_recorded(tablet: Tablet) -> None:
    arrived(tablet)
    tablet.post("confirmation", MISMATCH)
    review = {"guardian_id": "G1", "reason": "the child was shy; the aunt is known to the teacher"}
    assert tablet.post("confirmation-review", review).status_code == 403  # a teacher may not
    reviewed = tablet.post("confirmation-review", review, who="duty_leader")
    assert reviewed.status_code == 200, reviewed.text
    assert reviewed.json()["recorded"] == ["ConfirmationMismatchReviewed"]
    nothing = tablet.post("confirmation-review", review, who="duty_leader")
    assert (nothing.status_code, nothing.json()["code"]) == (409, "no_mismatch_to_review")
    assert tablet.post("confirmation", BOTH).json()["outcome"] == "recorded"
    assert tablet.post("release", {"guardian_id": "G1"}).json()["custody"]["status"] == "released"
    history = [h["type"] for h in tablet.day().json()["history"]]
    assert history[3:] == ["ConfirmationMismatchReviewed", "GuardianAndChildConfirmed", "ChildReleased"]
    assert tablet.day().json()["history"][3]["actor_id"] == "d1"


@pytest.mark.parametrize(
    "device_time",
    [
        "9999-12-31T23:59:59+14:00",
        "2100-01-01T00:00:00Z",
        "0001-01-01T00:00:00Z",
        "2026-12-02T16:30:00+08:00",
        "2026-11-29T08:00:00+08:00",
    ],
)
def test_a_device_time_far_from_the_servers_clock_is_refused(tablet: Tablet, device_time: str) -> None:
    count = tablet.event_count()
    refused = tablet.post("absence", {"reason": "ill", "device_time": device_time})
    assert (refused.status_code, refused.json()["code"]) == (422, "device_time_out_of_range")
    assert tablet.event_count() == count


def test_a_device_time_hours_off_is_still_taken(tablet: Tablet) -> None:
    assert tablet.post("absence", {"reason": "ill", "device_time": "2026-11-30T21:30:00+08:00"}).status_code == 200


@pytest.mark.parametrize("text", ["ill\u0000ness", "ill\u0007", "line\nbreak", "x\u0085", "\ud800", "a\udfffb"])
def test_control_characters_in_free_text_are_refused(tablet: Tablet, text: str) -> None:
    count = tablet.event_count()
    body = json.dumps({"device_id": "tablet-7", "device_time": "2026-11-30T16:30:00+08:00", "reason": text})
    headers = {**tablet.headers("teacher"), "Content-Type": "application/json"}
    refused = tablet.client.post("/api/v1/schools/S1/children/C1/absence", content=body, headers=headers)
    assert (refused.status_code, refused.json()["code"]) == (422, "text_control_characters")
    assert tablet.event_count() == count


def test_control_characters_in_an_incident_summary_and_a_guardian_name_are_refused(tablet: Tablet) -> None:
    opening = {"kind": "other", "children": [], "staff": [], "summary": "door\u0000open"}
    assert tablet.post_school("incidents", opening, who="duty_leader").json()["code"] == "text_control_characters"
    guardian = {"guardian_id": "G7", "relation": "aunt", "name": "Li\u0000Na", "pickup_code": "4321"}
    assert tablet.post("guardians", guardian, who="admin").json()["code"] == "text_control_characters"


def test_every_unicode_letter_mark_and_symbol_is_taken(tablet: Tablet) -> None:
    reason = "病假 ill 🤒 ẞ é\u0301 \u200b\u2028 ١٢"
    assert tablet.post("absence", {"reason": reason}).status_code == 200
    assert tablet.day().json()["history"][0]["details"]["reason"] == reason


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31", "1899-12-31", "2200-01-01"])
def test_day_openings_for_absurd_dates_are_refused(tablet: Tablet, day: str) -> None:
    count = tablet.event_count()
    refused = tablet.post_school(f"days/{day}/opening", {"duty_leaders": ["d1", "d2"], "guards": ["g1", "g2"]})
    assert (refused.status_code, refused.json()["code"]) == (422, "date_out_of_range")
    assert tablet.event_count() == count


@pytest.mark.parametrize(
    "at", ["0001-01-01T00:00:00+14:00", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59-14:00", "9999-12-31T23:59:59Z"]
)
@pytest.mark.parametrize("path", ["state", "window"])
def test_replay_near_year_1_or_9999_is_refused_not_a_server_error(tablet: Tablet, at: str, path: str) -> None:
    client = TestClient(create_app(tablet.handoff), raise_server_exceptions=False)
    answer = client.get(f"/api/v1/schools/S1/replay/{path}", params={"at": at}, headers=tablet.headers("duty_leader"))
    assert (answer.status_code, answer.json()["code"]) == (422, "date_out_of_range")


def test_a_self_release_says_released_to_null_in_the_answer_and_the_day(tablet: Tablet, clock: Clock) -> None:
    clock.now = clock.now.replace(hour=9, minute=5)  # 17:05 in Shanghai: C2 may leave alone from 17:00
    late = "2026-11-30T17:05:00+08:00"
    tablet.post("check-in", {"place_code": "T1", "device_time": late}, child="C2")
    answer = tablet.post("release", {"self_release": True, "device_time": late}, child="C2").json()["custody"]
    day = tablet.day(child="C2").json()["custody"]
    assert (answer["released_to"], answer["self_released"]) == (None, True)
    assert (day["released_to"], day["self_released"]) == (None, True)


def test_a_server_error_carries_the_security_headers(tablet: Tablet) -> None:
    def broken(*_: Any) -> None:
        raise RuntimeError("a bug")

    tablet.handoff.care.child_day = broken  # type: ignore[method-assign]
    client = TestClient(create_app(tablet.handoff), raise_server_exceptions=False)
    answer = client.get("/api/v1/schools/S1/children/C1/days/2026-11-30", headers=tablet.headers("teacher"))
    assert answer.status_code == 500
    assert answer.json()["code"] == "server_error"
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["cache-control"] == "no-store"
    assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]
