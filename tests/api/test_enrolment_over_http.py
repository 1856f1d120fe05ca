"""Enrolment, the safety agreement, flags, the service day and the coverage report over HTTP."""

from __future__ import annotations

from datetime import timedelta

from service.application.context import CommandContext, operator_context
from tests.api.conftest import Tablet
from tests.support import TERM, Clock

ENROLMENT = f"enrolments/{TERM}"


def apply(tablet: Tablet, child: str, **more: object) -> None:
    body = {"guardian_id": "G9", "days": ["mon", "tue"], "release_batch": "B1", **more}
    assert tablet.post(f"{ENROLMENT}/application", body, who="admin", child=child).status_code == 200


def refused_check_in(tablet: Tablet, child: str) -> dict:
    count = tablet.event_count()
    answer = tablet.post("check-in", {"place_code": "T1"}, child=child)
    assert answer.status_code == 409
    assert tablet.event_count() == count
    return answer.json()


def test_check_in_needs_an_approved_application_and_a_signed_agreement(tablet: Tablet) -> None:
    tablet.handoff.roster.add_child(tablet_ctx(), "C8", "3-1", 3)
    assert refused_check_in(tablet, "C8")["message"].endswith("no application for after-school care this term.")
    apply(tablet, "C8")
    assert "not approved" in refused_check_in(tablet, "C8")["message"]
    tablet.post(f"{ENROLMENT}/class-review", {"approved": True}, who="teacher", child="C8")
    tablet.post(f"{ENROLMENT}/school-review", {"approved": True}, who="admin", child="C8")
    assert refused_check_in(tablet, "C8")["message"].endswith("the safety agreement is not signed.")
    guardian = {"guardian_id": "G9", "relation": "mother", "pickup_code": "9162"}
    tablet.post("guardians", guardian, who="admin", child="C8")
    agreement = {"signed_by": "G9", "authorised_guardians": ["G9"], "starts_on": "2026-09-01", "ends_on": "2027-01-31"}
    assert tablet.post(f"{ENROLMENT}/agreement", agreement, who="admin", child="C8").json()["agreement"]
    assert tablet.post("check-in", {"place_code": "T1"}, child="C8").status_code == 200


def test_each_step_is_refused_out_of_order_and_a_teacher_cannot_approve_for_the_school(tablet: Tablet) -> None:
    tablet.handoff.roster.add_child(tablet_ctx(), "C8", "3-1", 3)
    apply(tablet, "C8")
    early = tablet.post(f"{ENROLMENT}/school-review", {"approved": True}, who="admin", child="C8")
    assert (early.status_code, early.json()["code"]) == (409, "wrong_enrolment_step")
    teacher = tablet.post(f"{ENROLMENT}/school-review", {"approved": True}, who="teacher", child="C8")
    assert (teacher.status_code, teacher.json()["code"]) == (403, "role_not_allowed")


def test_priority_categories_are_seen_by_admins_only(tablet: Tablet) -> None:
    tablet.handoff.roster.add_child(tablet_ctx(), "C8", "3-1", 3)
    apply(tablet, "C8", priority=["left_behind"])
    url = f"/api/v1/schools/S1/children/C8/{ENROLMENT}"
    assert tablet.client.get(url, headers=tablet.headers("admin")).json()["priority"]["priority"] == "left_behind"
    assert tablet.client.get(url, headers=tablet.headers("duty_leader")).json()["priority"] is None


def confirmed_with(tablet: Tablet, guardian: str, code: str) -> None:
    tablet.post("check-in", {"place_code": "T1"})
    tablet.post(
        "guardian-arrival", {"guardian_id": guardian, "verification": "pickup_code", "pickup_code": code}, who="gate"
    )
    both = {"guardian_id": guardian, "guardian_recognised_child": True, "child_recognised_guardian": True}
    assert tablet.post("confirmation", both).json()["outcome"] == "recorded"


def test_release_to_a_guardian_revoked_after_confirmation_is_refused(tablet: Tablet) -> None:
    confirmed_with(tablet, "G1", "1234")
    tablet.post("guardians/G1/revocation", {"reason": "court order"}, who="admin")
    release = tablet.post("release", {"guardian_id": "G1"}).json()
    assert (release["outcome"], release["refusal"]["code"]) == ("refused", "guardian_not_authorised")
    assert release["custody"]["status"] == "in_care"


def test_a_guardian_whose_authorisation_expired_is_refused(tablet: Tablet, clock: Clock) -> None:
    yesterday = (clock.now - timedelta(days=1)).date().isoformat()
    body = {"guardian_id": "G3", "relation": "aunt", "pickup_code": "3591", "valid_until": yesterday}
    tablet.post("guardians", body, who="admin")
    tablet.post("check-in", {"place_code": "T1"})
    arrival = {"guardian_id": "G3", "verification": "pickup_code", "pickup_code": "3591"}
    answer = tablet.post("guardian-arrival", arrival, who="gate").json()
    assert (answer["outcome"], answer["refusal"]["code"]) == ("refused", "guardian_not_authorised")


def test_release_to_a_flagged_person_is_refused(tablet: Tablet) -> None:
    confirmed_with(tablet, "G2", "5678")
    flagged = tablet.post("flags", {"person_id": "G2", "reason": "court order"}, who="admin")
    assert flagged.json()["flagged"] == ["G2"]
    release = tablet.post("release", {"guardian_id": "G2"}).json()
    assert (release["outcome"], release["refusal"]["code"]) == ("refused", "person_flagged")
    assert "call the duty leader" in release["refusal"]["message"]


DEVICE = {"device_id": "tablet-7", "device_time": "2026-11-30T16:30:00+08:00"}


def test_the_day_closes_only_when_every_child_who_came_has_left(tablet: Tablet, clock: Clock) -> None:
    day = clock.now.date().isoformat()
    rota = {"duty_leaders": ["d1", "d2"], "guards": ["g1", "g2"]}
    tablet.handoff.staff.register_staff(tablet_ctx(), "d2", tablet.handoff.staff_member("S1", "d1").role, "D1")
    tablet.handoff.staff.register_staff(tablet_ctx(), "g2", tablet.handoff.staff_member("S1", "g1").role, "D1")
    assert tablet.post_school(f"days/{day}/opening", rota).status_code == 200
    confirmed_with(tablet, "G1", "1234")
    closing = tablet.post_school(f"days/{day}/closing", {}, who="duty_leader")
    assert (closing.status_code, closing.json()["code"]) == (409, "children_still_in_care")
    assert "C1" in closing.json()["message"]
    tablet.post("release", {"guardian_id": "G1"})
    assert tablet.post_school(f"days/{day}/closing", {}, who="duty_leader").status_code == 200


def test_a_child_in_an_open_incident_does_not_hold_the_day_open(tablet: Tablet, clock: Clock) -> None:
    """A child whose guardian never came stays in care; the open incident carries the case past the day's close."""
    day = clock.now.date().isoformat()
    rota = {"duty_leaders": ["d1", "d2"], "guards": ["g1", "g2"]}
    tablet.handoff.staff.register_staff(tablet_ctx(), "d2", tablet.handoff.staff_member("S1", "d1").role, "D1")
    tablet.handoff.staff.register_staff(tablet_ctx(), "g2", tablet.handoff.staff_member("S1", "g1").role, "D1")
    assert tablet.post_school(f"days/{day}/opening", rota).status_code == 200
    assert tablet.post("check-in", {"place_code": "T1"}).status_code == 200
    opened = tablet.client.post(
        "/api/v1/schools/S1/incidents",
        json={**DEVICE, "kind": "guardian_unreachable", "children": ["C1"], "staff": [], "summary": "No answer"},
        headers=tablet.headers("duty_leader"),
    )
    assert opened.status_code == 200, opened.text
    incident = opened.json()["incident_id"]
    tablet.client.post(
        f"/api/v1/schools/S1/incidents/{incident}/resolution",
        json={**DEVICE, "outcome": "reached the aunt"},
        headers=tablet.headers("duty_leader"),
    )
    refused = tablet.post_school(f"days/{day}/closing", {}, who="duty_leader")
    assert (refused.status_code, refused.json()["code"]) == (409, "children_still_in_care")  # resolved: no cover
    again = tablet.client.post(
        "/api/v1/schools/S1/incidents",
        json={**DEVICE, "kind": "missing_child", "children": ["C1"], "staff": [], "summary": "Not at T1"},
        headers=tablet.headers("duty_leader"),
    ).json()["incident_id"]
    closed = tablet.post_school(f"days/{day}/closing", {}, who="duty_leader")
    assert closed.status_code == 200, closed.text
    assert closed.json()["in_open_incidents"] == {"C1": [again]}


def test_the_coverage_report_counts_applications_and_priority(tablet: Tablet) -> None:
    report = tablet.client.get(f"/api/v1/schools/S1/terms/{TERM}/coverage", headers=tablet.headers("admin")).json()
    assert report["applications"] == 3
    assert report["by_stage"] == {"arranged": 2, "applied": 1}
    assert report["priority_first"] is True
    assert (
        tablet.client.get(
            f"/api/v1/schools/S1/terms/{TERM}/coverage", headers=tablet.headers("duty_leader")
        ).status_code
        == 403
    )


def tablet_ctx() -> CommandContext:
    """Set-up commands run as the system, like the CLI."""
    return operator_context("S1")


SIMPLE_ROSTER = (
    "child_id,given_name,family_name,sex,home_class,grade,homeroom_teacher_id,guardian1_name,guardian1_relation,"
    "guardian1_phone\n"
    "S-1,Alice,Example,female,3-1,3,t1,Pat Example,parent,+1 555 0101\n"
)


def upload(tablet: Tablet, data: str, key: str, content_type: str = "text/csv", who: str = "admin"):  # noqa: ANN201
    params = {"device_id": "desk-1", "device_time": "2026-11-30T09:00:00+08:00"}
    headers = {**tablet.headers(who, key), "Content-Type": content_type}
    return tablet.client.post("/api/v1/schools/S1/roster", params=params, content=data.encode(), headers=headers)


def test_a_roster_is_uploaded_over_http_once_and_a_bad_one_lists_its_lines(tablet: Tablet) -> None:
    first = upload(tablet, SIMPLE_ROSTER, "roster-upload-1")
    assert (first.status_code, first.json()["children_added"]) == (200, 1)
    assert upload(tablet, SIMPLE_ROSTER, "roster-upload-1").json()["replayed"] is True
    assert upload(tablet, SIMPLE_ROSTER, "roster-upload-2").json()["children_added"] == 0
    assert upload(tablet, SIMPLE_ROSTER + "S 2,,,,,,,,,\n", "roster-upload-1").json()["code"] == "bad_roster_file"
    count = tablet.event_count()
    bad = upload(tablet, SIMPLE_ROSTER.replace("3-1,3,", "3-1,33,"), "roster-upload-3")
    assert (bad.status_code, bad.json()["code"]) == (422, "bad_roster_file")
    assert [(p["file"], p["line"]) for p in bad.json()["problems"]] == [("roster.csv", 2)]
    assert tablet.event_count() == count
    assert upload(tablet, SIMPLE_ROSTER, "roster-upload-4", content_type="application/pdf").status_code == 422
    assert upload(tablet, SIMPLE_ROSTER, "roster-upload-5", who="teacher").status_code == 403


def test_emergency_mode_keeps_refusing_strangers_and_records_releases_with_the_mode(tablet: Tablet) -> None:
    tablet.post("check-in", {"place_code": "T1"}, child="C1")
    tablet.post("check-in", {"place_code": "T2"}, child="C2")
    entered = tablet.post_school(
        "emergency", {"reunification_point": "GATE", "reason": "fire alarm"}, who="duty_leader"
    )
    assert entered.json()["emergency"] is True
    assert (
        tablet.post_school("emergency", {"reunification_point": "GATE", "reason": "x"}, who="teacher").status_code
        == 403
    )
    roll = tablet.client.get("/api/v1/schools/S1/emergency/roll", headers=tablet.headers("gate")).json()
    assert (roll["emergency"], roll["reunification_point"]) == (True, "GATE")
    assert [(c["child_id"], c["custodian_id"]) for c in roll["on_site"]] == [("C1", "t1"), ("C2", "t1")]
    stranger = tablet.post("guardian-arrival", {"guardian_id": "X9", "verification": "id_document"}, who="gate")
    assert stranger.json()["refusal"]["code"] == "guardian_not_authorised"
    alone = tablet.post("release", {"self_release": True}, child="C2")
    assert (alone.status_code, alone.json()["code"]) == (409, "no_self_release_in_emergency")
    arrival = {"guardian_id": "G1", "verification": "pickup_code", "pickup_code": "1234"}
    tablet.post("guardian-arrival", arrival, who="gate")
    both = {"guardian_id": "G1", "guardian_recognised_child": True, "child_recognised_guardian": True}
    tablet.post("confirmation", both)
    assert tablet.post("release", {"guardian_id": "G1"}).json()["custody"]["status"] == "released"
    assert tablet.day().json()["history"][-1]["details"]["emergency"] is True
    assert tablet.post_school("emergency/end", {"reason": "all clear"}, who="duty_leader").json()["emergency"] is False
