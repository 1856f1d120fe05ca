"""Incidents that help: repeated refusals for one child and one person are one incident with its attempts, and a
headcount does not open a second missing-child incident for a child already named in an open one."""

from __future__ import annotations

from service.application.handoff import Handoff
from service.processes.policies import missing_children_open_incident, refusal_opens_incident
from tests.support import SCHOOL, ctx, make_handoff, setup_school

REFUSAL = "events.custody:ReleaseRefused"
HEADCOUNT = "events.incidents:HeadcountRecorded"


def react(handoff: Handoff, topic: str, policy, since: int) -> int:
    """Run a policy over the events of a topic after a log position, twice (as after a restart); the new head."""
    rows = handoff.recorder.select_notifications(since + 1, 100_000, topics=[topic])
    for row in rows:
        for _ in range(2):
            policy(handoff, handoff.mapper.to_domain_event(row))
    return handoff.recorder.max_notification_id() or 0


def views(handoff: Handoff) -> list[dict]:
    return handoff.incidents.incidents_on(ctx("duty_leader").actor, SCHOOL, handoff.clock().date())


def wrong_code(handoff: Handoff, child: str, guardian: str, code: str = "0000") -> None:
    handoff.care.register_arrival(ctx("gate"), child, guardian, "pickup_code", code)


def test_three_wrong_codes_from_one_guardian_are_one_incident_with_three_attempts() -> None:
    handoff = make_handoff()
    setup_school(handoff)
    handoff.care.check_in(ctx(), "C1", "T1", None, None)
    handoff.care.check_in(ctx(), "C2", "T1", None, None)
    head = 0
    for code in ("0000", "1111", "2222"):
        wrong_code(handoff, "C1", "G1", code)
        head = react(handoff, REFUSAL, refusal_opens_incident, head)
    handoff.care.register_arrival(ctx("gate"), "C1", "X9", "id_document", None)  # another person: their own incident
    wrong_code(handoff, "C2", "G5")  # another child: an incident of its own
    react(handoff, REFUSAL, refusal_opens_incident, head)
    found = [(v["kind"], v["children"], [a["reason_code"] for a in v["attempts"]]) for v in views(handoff)]
    assert found == [
        ("unauthorised_pickup_attempt", ["C1"], ["pickup_code_wrong"] * 3),
        ("unauthorised_pickup_attempt", ["C1"], ["guardian_not_authorised"]),
        ("unauthorised_pickup_attempt", ["C2"], ["pickup_code_wrong"]),
    ]


def test_a_refusal_after_its_incident_was_resolved_opens_a_new_one() -> None:
    handoff = make_handoff()
    setup_school(handoff)
    handoff.care.check_in(ctx(), "C1", "T1", None, None)
    wrong_code(handoff, "C1", "G1")
    head = react(handoff, REFUSAL, refusal_opens_incident, 0)
    (first,) = views(handoff)
    handoff.incidents.resolve_incident(ctx("duty_leader"), first["incident_id"], "the guardian had mixed up the code")
    wrong_code(handoff, "C1", "G1", "1111")
    react(handoff, REFUSAL, refusal_opens_incident, head)
    assert [(v["status"], len(v["attempts"])) for v in views(handoff)] == [("resolved", 1), ("open", 1)]


def test_a_headcount_names_only_children_not_already_in_an_open_missing_child_incident() -> None:
    handoff = make_handoff()
    setup_school(handoff)
    handoff.care.check_in(ctx(), "C1", "T1", None, None)
    handoff.care.check_in(ctx(), "C2", "T1", None, None)
    head = 0
    for present in (["C2"], ["C2"], []):  # C1 missing three times, C2 in the third count only
        handoff.headcounts.record_headcount(ctx(), "T1", present)
        head = react(handoff, HEADCOUNT, missing_children_open_incident, head)
    assert [(v["kind"], v["children"]) for v in views(handoff)] == [
        ("missing_child", ["C1"]),
        ("missing_child", ["C2"]),
    ], "a later count names only the children not already in an open missing-child incident"
    first = views(handoff)[0]
    handoff.incidents.resolve_incident(ctx("duty_leader"), first["incident_id"], "found in the library")
    handoff.headcounts.record_headcount(ctx(), "T1", ["C2"])
    react(handoff, HEADCOUNT, missing_children_open_incident, head)
    assert [(v["children"], v["status"]) for v in views(handoff)] == [
        (["C1"], "resolved"),
        (["C2"], "open"),
        (["C1"], "open"),
    ]
