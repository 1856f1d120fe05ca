"""The rules of the pure Incident aggregate (aggregates/incidents.py): decisions, refusals, evolve and replay."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from functools import reduce

import pytest

from aggregates.base import EventMeta
from aggregates.incidents import (
    KINDS,
    AlreadyEscalatedError,
    ChildNotLinkedError,
    Incident,
    IncidentAlreadyOpenedError,
    IncidentNeedsAChildError,
    IncidentNotFoundError,
    IncidentResolvedError,
    NothingToLinkError,
    Notification,
    UnknownChannelError,
    UnknownEscalationTargetError,
    UnknownIncidentKindError,
    evolve,
    incident_stream_id,
    project,
)
from events.incidents import (
    GuardianNotified,
    IncidentEscalated,
    IncidentLinked,
    IncidentNoteAdded,
    IncidentOpened,
    IncidentResolved,
)
from tests.unit.refusals import assert_refused

SCHOOL = "S1"
DAY = date(2026, 12, 1)
SERVER_TIME = datetime(2026, 12, 1, 8, 30, tzinfo=timezone.utc)


def meta(actor: str = "t1", role: str = "teacher", minutes: int = 0) -> EventMeta:
    at = SERVER_TIME + timedelta(minutes=minutes)
    return EventMeta(SCHOOL, actor, role, "tablet-1", f"key-{actor}-{minutes}", at - timedelta(seconds=3), at)


def new() -> Incident:
    return Incident.of(SCHOOL, "i1")


def then(state: Incident, events: list) -> Incident:
    return reduce(evolve, events, state)


def opened(kind: str = "injury", children: tuple[str, ...] = ("C1",), staff: tuple[str, ...] = ("t1",)) -> Incident:
    state = new()
    return then(state, state.open(meta(), kind, DAY, children, staff, "fell in the yard"))


def resolved() -> Incident:
    state = opened()
    return then(state, state.resolve(meta("d1", "duty_leader", 5), "first aid; collected by guardian"))


# Opening


def test_opening_records_kind_day_people_and_summary_and_the_stream_follows_the_id():
    state = new()
    events = state.open(meta(), "injury", DAY, ["C2", "C1", "C1"], ["t1"], "fell in the yard")
    assert [type(e) for e in events] == [IncidentOpened]
    event = events[0]
    assert (event.kind, event.service_day, event.children, event.staff) == (
        "injury",
        "2026-12-01",
        ["C1", "C2"],
        ["t1"],
    )
    assert (event.incident_id, event.source, event.originator_version) == ("i1", None, 1)
    assert event.originator_id == incident_stream_id(SCHOOL, "i1") == state.id
    after = then(state, events)
    assert (after.status, after.kind, after.service_day, after.children) == ("open", "injury", DAY, ("C1", "C2"))


def test_a_policy_names_the_record_that_opened_the_incident():
    source = "ReleaseRefused:" + "ab" * 16 + ":3"
    event = new().open(meta("system", "system"), "unauthorised_pickup_attempt", DAY, ["C1"], [], "refused", source)[0]
    assert then(new(), [event]).source == source


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_opens(kind: str):
    assert then(new(), new().open(meta(), kind, DAY, ["C1"], [], "x")).kind == kind


def test_an_unknown_kind_is_refused():
    assert_refused(
        new(), lambda s: s.open(meta(), "fire", DAY, ["C1"], [], "x"), UnknownIncidentKindError, "unknown_incident_kind"
    )


def test_an_incident_names_a_child_unless_its_kind_is_other():
    refused = lambda s: s.open(meta(), "injury", DAY, [], ["t1"], "x")  # noqa: E731
    assert_refused(new(), refused, IncidentNeedsAChildError, "incident_needs_a_child")
    assert then(new(), new().open(meta(), "other", DAY, [], ["t1"], "x")).children == ()


def test_an_incident_is_opened_once():
    again = lambda s: s.open(meta(), "injury", DAY, ["C1"], [], "x")  # noqa: E731
    assert_refused(opened(), again, IncidentAlreadyOpenedError, "incident_already_opened")


# Before it is opened


@pytest.mark.parametrize(
    "decide",
    [
        lambda s: s.add_note(meta(), "n"),
        lambda s: s.record_notification(meta(), "C1", "G1", "phone", True),
        lambda s: s.escalate(meta(), "principal", "r"),
        lambda s: s.link(meta(), ["C2"], []),
        lambda s: s.resolve(meta(), "o"),
    ],
)
def test_nothing_happens_to_an_incident_never_opened(decide):
    assert_refused(new(), decide, IncidentNotFoundError, "incident_not_found")


# Notes, notifications, escalation, links


def test_notes_are_counted():
    state = opened()
    events = state.add_note(meta(minutes=1), "ice pack applied")
    assert [type(e) for e in events] == [IncidentNoteAdded]
    assert events[0].note == "ice pack applied"
    assert then(then(state, events), state.add_note(meta(minutes=2), "calm")).notes == 2


def test_a_notification_is_recorded_for_a_linked_child_reached_or_not():
    state = opened()
    missed = state.record_notification(meta(minutes=1), "C1", "G1", "phone", False)
    assert [type(e) for e in missed] == [GuardianNotified]
    state = then(state, missed)
    state = then(state, state.record_notification(meta(minutes=2), "C1", "G2", "message", True))
    assert state.notified == (Notification("C1", "G1", "phone", False), Notification("C1", "G2", "message", True))


def test_a_notification_about_a_child_not_linked_is_refused():
    told = lambda s: s.record_notification(meta(), "C9", "G1", "phone", True)  # noqa: E731
    assert_refused(opened(), told, ChildNotLinkedError, "child_not_linked")


def test_a_notification_by_an_unknown_channel_is_refused():
    told = lambda s: s.record_notification(meta(), "C1", "G1", "carrier_pigeon", True)  # noqa: E731
    assert_refused(opened(), told, UnknownChannelError, "unknown_notification_channel")


def test_an_incident_goes_up_to_each_role_or_body_once():
    state = opened()
    events = state.escalate(meta(minutes=1), "duty_leader", "needs a decision")
    assert [type(e) for e in events] == [IncidentEscalated]
    state = then(state, events)
    state = then(state, state.escalate(meta(minutes=2), "medical", "head injury"))
    assert state.escalated_to == ("duty_leader", "medical")
    again = lambda s: s.escalate(meta(), "medical", "again")  # noqa: E731
    error = assert_refused(state, again, AlreadyEscalatedError, "already_escalated")
    assert "medical" in error.text


def test_escalating_to_an_unknown_target_is_refused():
    up = lambda s: s.escalate(meta(), "t2", "a person's id is not a target")  # noqa: E731
    assert_refused(opened(), up, UnknownEscalationTargetError, "unknown_escalation_target")


def test_linking_records_only_people_not_yet_linked():
    state = opened()
    events = state.link(meta(minutes=1), ["C1", "C3", "C2"], ["t1", "d1"])
    assert [type(e) for e in events] == [IncidentLinked]
    assert (events[0].children, events[0].staff) == (["C2", "C3"], ["d1"])
    after = then(state, events)
    assert (after.children, after.staff) == (("C1", "C2", "C3"), ("d1", "t1"))


def test_linking_nobody_new_is_refused():
    again = lambda s: s.link(meta(), ["C1"], ["t1"])  # noqa: E731
    assert_refused(opened(), again, NothingToLinkError, "nothing_new_to_link")
    assert_refused(opened(), lambda s: s.link(meta(), [], []), NothingToLinkError, "nothing_new_to_link")


# Resolution


def test_resolution_records_the_outcome():
    state = resolved()
    assert (state.status, state.outcome) == ("resolved", "first aid; collected by guardian")


@pytest.mark.parametrize(
    "decide",
    [
        lambda s: s.record_notification(meta(), "C1", "G1", "phone", True),
        lambda s: s.escalate(meta(), "principal", "r"),
        lambda s: s.link(meta(), ["C2"], []),
        lambda s: s.resolve(meta(), "again"),
    ],
)
def test_after_resolution_only_notes_may_be_added(decide):
    assert_refused(resolved(), decide, IncidentResolvedError, "incident_resolved")
    assert then(resolved(), resolved().add_note(meta(minutes=9), "guardian called back")).notes == 1


def test_resolve_is_recorded_as_incident_resolved():
    assert [type(e) for e in opened().resolve(meta(), "done")] == [IncidentResolved]


# Evolve and replay


def test_replay_equals_the_live_state():
    state, recorded = new(), []
    for decide in (
        lambda s: s.open(meta(), "missing_child", DAY, ["C1"], ["t1"], "not at the headcount"),
        lambda s: s.add_note(meta(minutes=1), "searched the yard"),
        lambda s: s.escalate(meta(minutes=2), "principal", "not found in 10 minutes"),
        lambda s: s.link(meta(minutes=3), [], ["g1"]),
        lambda s: s.record_notification(meta(minutes=4), "C1", "G1", "phone", True),
        lambda s: s.resolve(meta(minutes=5), "found in the library"),
        lambda s: s.add_note(meta(minutes=6), "talked to the class"),
    ):
        events = decide(state)
        recorded += events
        state = then(state, events)
    assert project(None, recorded) == state
    assert (state.version, state.notes, state.staff, state.status) == (7, 2, ("g1", "t1"), "resolved")
