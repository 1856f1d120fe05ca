"""The incident record over HTTP: open, note, notify, escalate, link, resolve; who may; refusals; the timeline."""

from __future__ import annotations

import typing
from datetime import timedelta

import pytest
from httpx2 import Response

from aggregates.incidents import CHANNELS, ESCALATION_TARGETS, KINDS
from aggregates.staff import Role
from service.application.context import operator_context
from service.http.schemas.incidents import EscalationRequest, Kind, NotificationRequest
from tests.api.conftest import Tablet
from tests.support import CODES, SCHOOL, Clock

INJURY = {"kind": "injury", "children": ["C1"], "staff": ["t1"], "summary": "fell in the yard"}


def open_incident(tablet: Tablet, body: dict | None = None, who: str = "teacher", school: str = SCHOOL) -> Response:
    return tablet.post_school("incidents", body or INJURY, who=who, school=school)


def act(tablet: Tablet, incident: str, path: str, body: dict, who: str = "teacher") -> Response:
    return tablet.post_school(f"incidents/{incident}/{path}", body, who=who)


def read(tablet: Tablet, incident: str, path: str = "", who: str = "teacher", school: str = SCHOOL) -> Response:
    url = f"/api/v1/schools/{school}/incidents/{incident}" + (f"/{path}" if path else "")
    return tablet.client.get(url, headers=tablet.headers(who))


def opened(tablet: Tablet, body: dict | None = None, who: str = "teacher") -> str:
    answer = open_incident(tablet, body, who)
    assert answer.status_code == 200, answer.text
    return answer.json()["incident_id"]


def assert_refused(tablet: Tablet, response: Response, status: int, code: str, count: int) -> None:
    assert response.status_code == status, response.text
    assert response.json()["code"] == code
    assert response.json()["message"]
    assert tablet.event_count() == count


def test_the_request_schemas_offer_exactly_the_aggregates_kinds_channels_and_targets() -> None:
    assert typing.get_args(Kind) == KINDS
    assert typing.get_args(NotificationRequest.model_fields["channel"].annotation) == CHANNELS
    assert typing.get_args(EscalationRequest.model_fields["to"].annotation) == ESCALATION_TARGETS


def test_an_incident_is_opened_noted_notified_escalated_linked_and_resolved(tablet: Tablet) -> None:
    answer = open_incident(tablet)
    assert answer.status_code == 200, answer.text
    incident = answer.json()
    assert (incident["status"], incident["kind"], incident["service_day"]) == ("open", "injury", "2026-11-30")
    assert (incident["children"], incident["staff"], incident["replayed"]) == (["C1"], ["t1"], False)
    number = incident["incident_id"]
    assert act(tablet, number, "notes", {"note": "ice pack applied"}).json()["notes"] == 1
    missed = {"child_id": "C1", "guardian_id": "G1", "channel": "phone", "reached": False}
    assert act(tablet, number, "notifications", missed).status_code == 200
    reached = {"child_id": "C1", "guardian_id": "G2", "channel": "in_person", "reached": True}
    assert len(act(tablet, number, "notifications", reached).json()["notified"]) == 2
    up = act(tablet, number, "escalation", {"to": "duty_leader", "reason": "head knock"})
    assert up.json()["escalated_to"] == ["duty_leader"]
    assert act(tablet, number, "links", {"children": ["C2"], "staff": ["d1"]}).json()["children"] == ["C1", "C2"]
    done = act(tablet, number, "resolution", {"outcome": "collected early by guardian"}, who="duty_leader")
    assert (done.status_code, done.json()["status"]) == (200, "resolved")
    view = read(tablet, number, who="admin").json()
    assert (view["status"], view["outcome"], view["notes"], view["staff"]) == (
        "resolved",
        "collected early by guardian",
        1,
        ["d1", "t1"],
    )
    assert view["notified"][0] == missed
    assert act(tablet, number, "notes", {"note": "guardian called back"}).json()["notes"] == 2


def test_a_retried_opening_returns_the_same_incident_and_records_it_once(tablet: Tablet) -> None:
    body = {"device_id": "tablet-7", "device_time": "2026-11-30T16:30:00+08:00", **INJURY}
    url = f"/api/v1/schools/{SCHOOL}/incidents"
    first = tablet.client.post(url, json=body, headers=tablet.headers("teacher", "incident-key-1"))
    count = tablet.event_count()
    again = tablet.client.post(url, json=body, headers=tablet.headers("teacher", "incident-key-1"))
    assert again.json()["incident_id"] == first.json()["incident_id"]
    assert again.json()["replayed"] is True
    assert tablet.event_count() == count


def test_the_device_may_choose_the_id_and_an_id_is_opened_once(tablet: Tablet) -> None:
    assert opened(tablet, {**INJURY, "incident_id": "inc-42"}) == "inc-42"
    count = tablet.event_count()
    again = open_incident(tablet, {**INJURY, "incident_id": "inc-42"})
    assert_refused(tablet, again, 409, "incident_already_opened", count)


def test_gate_staff_open_and_add_notes_but_neither_resolve_nor_read(tablet: Tablet) -> None:
    attempt = {"kind": "unauthorised_pickup_attempt", "children": ["C1"], "summary": "stranger at the gate"}
    number = opened(tablet, attempt, who="gate")
    assert act(tablet, number, "notes", {"note": "left when asked"}, who="gate").status_code == 200
    count = tablet.event_count()
    refused = act(tablet, number, "resolution", {"outcome": "x"}, who="gate")
    assert_refused(tablet, refused, 403, "role_not_allowed", count)
    assert read(tablet, number, who="gate").status_code == 403


def test_a_teacher_cannot_resolve(tablet: Tablet) -> None:
    number = opened(tablet)
    count = tablet.event_count()
    refused = act(tablet, number, "resolution", {"outcome": "x"}, who="teacher")
    assert_refused(tablet, refused, 403, "role_not_allowed", count)


def test_a_regulator_and_another_school_are_403(tablet: Tablet) -> None:
    number = opened(tablet)
    count = tablet.event_count()
    assert_refused(tablet, open_incident(tablet, who="regulator"), 403, "role_not_allowed", count)
    assert_refused(tablet, open_incident(tablet, who="other_school_teacher"), 403, "other_school", count)
    assert read(tablet, number, who="regulator").status_code == 403
    assert read(tablet, number, "timeline", who="regulator").status_code == 403
    assert read(tablet, number, who="other_school_teacher").json()["code"] == "other_school"
    other_school = read(tablet, number, who="other_school_teacher", school="S2")
    assert (other_school.status_code, other_school.json()["code"]) == (404, "incident_not_found")


@pytest.mark.parametrize(
    "body",
    [
        {**INJURY, "kind": "fire"},
        {**INJURY, "guardian_name": "Wang"},
        {**INJURY, "summary": ""},
        {key: value for key, value in INJURY.items() if key != "summary"},
    ],
    ids=["unknown kind", "unknown field", "empty summary", "no summary"],
)
def test_a_malformed_opening_is_422_and_records_nothing(tablet: Tablet, body: dict) -> None:
    count = tablet.event_count()
    assert_refused(tablet, open_incident(tablet, body), 422, "invalid_request", count)


def test_unknown_fields_on_the_other_commands_are_422(tablet: Tablet) -> None:
    number = opened(tablet)
    count = tablet.event_count()
    refused = act(tablet, number, "notes", {"note": "n", "phone": "+86 138 0000 0000"})
    assert_refused(tablet, refused, 422, "invalid_request", count)
    refused = act(tablet, number, "escalation", {"to": "t2", "reason": "a person is not a target"})
    assert_refused(tablet, refused, 422, "invalid_request", count)


def test_refusals_name_what_is_wrong(tablet: Tablet) -> None:
    count = tablet.event_count()
    no_child = open_incident(tablet, {"kind": "injury", "summary": "who?"})
    assert_refused(tablet, no_child, 422, "incident_needs_a_child", count)
    unknown = open_incident(tablet, {**INJURY, "children": ["C404"]})
    assert_refused(tablet, unknown, 404, "child_not_found", count)
    ghost = open_incident(tablet, {**INJURY, "staff": ["ghost"]})
    assert_refused(tablet, ghost, 404, "staff_not_found", count)
    assert_refused(tablet, act(tablet, "nope", "notes", {"note": "n"}), 404, "incident_not_found", count)
    assert read(tablet, "nope").status_code == 404
    number = opened(tablet)
    count = tablet.event_count()
    not_linked = {"child_id": "C2", "guardian_id": "G5", "channel": "phone", "reached": True}
    assert_refused(tablet, act(tablet, number, "notifications", not_linked), 409, "child_not_linked", count)
    stranger = {"child_id": "C1", "guardian_id": "X9", "channel": "phone", "reached": True}
    assert_refused(tablet, act(tablet, number, "notifications", stranger), 404, "guardian_not_found", count)
    same = act(tablet, number, "links", {"children": ["C1"]})
    assert_refused(tablet, same, 422, "nothing_new_to_link", count)


def test_the_timeline_joins_the_childrens_custody_records_in_time_order(tablet: Tablet, clock: Clock) -> None:
    assert tablet.post("check-in", {"place_code": "T1"}).status_code == 200
    assert tablet.post("check-in", {"place_code": "T1"}, child="C2").status_code == 200
    clock.now += timedelta(minutes=5)
    number = opened(tablet)
    clock.now += timedelta(minutes=5)
    arrival = {"guardian_id": "G1", "verification": "pickup_code", "pickup_code": CODES["G1"]}
    assert tablet.post("guardian-arrival", arrival, who="gate").status_code == 200
    clock.now += timedelta(minutes=1)
    assert act(tablet, number, "notes", {"note": "guardian told at the gate"}).status_code == 200
    answer = read(tablet, number, "timeline")
    assert answer.status_code == 200, answer.text
    timeline = answer.json()["timeline"]
    assert [e["type"] for e in timeline] == ["ChildCheckedIn", "IncidentOpened", "GuardianArrived", "IncidentNoteAdded"]
    assert [e["record"] for e in timeline] == ["custody", "incident", "custody", "incident"]
    assert [e["child_id"] for e in timeline] == ["C1", None, "C1", None]
    assert [e["server_time"] for e in timeline] == sorted(e["server_time"] for e in timeline)
    assert answer.json()["incident"]["incident_id"] == number


def test_a_headcount_over_http_names_the_missing_children(tablet: Tablet) -> None:
    tablet.post("check-in", {"place_code": "T1"}, child="C1")
    tablet.post("check-in", {"place_code": "T1"}, child="C2")
    answer = tablet.post_school("places/T1/headcounts", {"present": ["C2"]}, who="teacher")
    assert answer.status_code == 200
    assert (answer.json()["expected"], answer.json()["missing"], answer.json()["extra"]) == (["C1", "C2"], ["C1"], [])
    unknown = tablet.post_school("places/T1/headcounts", {"present": ["C2"], "count": 1}, who="teacher")
    assert (unknown.status_code, unknown.json()["code"]) == (422, "invalid_request")


def test_duty_leaders_on_the_rota_record_inspection_rounds(tablet: Tablet, clock: Clock) -> None:
    first = tablet.post_school(
        "places/T1/duty-rounds", {"findings": "All present, homework", "all_well": True}, who="duty_leader"
    )
    assert (first.status_code, first.json()["inspected"]) == (200, ["T1"])
    second = tablet.post_school(
        "places/T2/duty-rounds", {"findings": "Window left open", "all_well": False}, who="duty_leader"
    )
    assert second.json()["inspected"] == ["T1", "T2"]
    teacher = tablet.post_school("places/T1/duty-rounds", {"findings": "x", "all_well": True}, who="teacher")
    assert (teacher.status_code, teacher.json()["code"]) == (403, "role_not_allowed")
    day = clock.now.date().isoformat()
    tablet.handoff.staff.register_staff(operator_context("S1"), "d2", Role.DUTY_LEADER, "D1")
    tablet.handoff.staff.register_staff(operator_context("S1"), "d3", Role.DUTY_LEADER, "D1")
    tablet.handoff.staff.register_staff(operator_context("S1"), "g2", Role.GATE, "D1")
    rota = {"duty_leaders": ["d2", "d3"], "guards": ["g1", "g2"]}
    assert tablet.post_school(f"days/{day}/opening", rota).status_code == 200
    off_rota = tablet.post_school("places/T1/duty-rounds", {"findings": "x", "all_well": True}, who="duty_leader")
    assert (off_rota.status_code, off_rota.json()["code"]) == (403, "not_on_duty")


def test_the_days_incidents_are_listed_open_and_resolved_for_staff_who_may_read_them(tablet: Tablet) -> None:
    first = opened(tablet)
    second = opened(tablet, {**INJURY, "kind": "illness", "summary": "fever"})
    assert act(tablet, first, "resolution", {"outcome": "collected"}, who="duty_leader").status_code == 200
    listing = tablet.client.get(f"/api/v1/schools/{SCHOOL}/incidents", headers=tablet.headers("duty_leader"))
    assert listing.status_code == 200, listing.text
    items = listing.json()["items"]
    assert [(i["incident_id"], i["kind"], i["status"]) for i in items] == [
        (first, "injury", "resolved"),
        (second, "illness", "open"),
    ]
    other_day = listing.json()["service_day"].replace("-30", "-27")
    earlier = tablet.client.get(
        f"/api/v1/schools/{SCHOOL}/incidents", params={"day": other_day}, headers=tablet.headers("duty_leader")
    )
    assert earlier.json()["items"] == []
    gate = tablet.client.get(f"/api/v1/schools/{SCHOOL}/incidents", headers=tablet.headers("gate"))
    assert (gate.status_code, gate.json()["code"]) == (403, "role_not_allowed")
