"""Headcounts: every mismatch yields exactly one missing-child incident naming exactly the missing children."""

from __future__ import annotations

import pytest
from eventsourcing.utils import get_topic
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aggregates.base import DomainError
from events.incidents import HeadcountRecorded, IncidentOpened
from service.application.handoff import Handoff
from service.processes.policies import missing_children_open_incident
from tests.support import ACTORS, SCHOOL, ctx, enrol, make_handoff, setup_school

EXTRA = [f"C{n}" for n in range(4, 9)]
CHILDREN = ["C1", "C2", *EXTRA]


def school_with_seven_enrolled() -> Handoff:
    handoff = make_handoff()
    setup_school(handoff)
    for child in EXTRA:
        handoff.roster.add_child(ctx("admin"), child, "3-1", 3)
        handoff.guardian_list.authorise_guardian(ctx("admin"), child, f"G{child}", "parent", "4444")
        enrol(handoff, ACTORS["admin"], SCHOOL, child, [f"G{child}"], None)
    return handoff


def recorded(handoff: Handoff, topic: str) -> list:
    return [
        handoff.mapper.to_domain_event(n) for n in handoff.recorder.select_notifications(1, 100_000, topics=[topic])
    ]


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    in_care=st.sets(st.sampled_from(CHILDREN)),
    at_t2=st.sets(st.sampled_from(CHILDREN)),
    counted=st.sets(st.sampled_from(CHILDREN)),
)
def test_every_mismatch_yields_exactly_one_incident_naming_exactly_the_missing(
    in_care: set[str], at_t2: set[str], counted: set[str]
) -> None:
    handoff = school_with_seven_enrolled()
    for child in sorted(in_care):
        handoff.care.check_in(ctx(), child, "T2" if child in at_t2 else "T1", None, None)
    expected = {c for c in in_care if c not in at_t2}
    if not expected and not counted:
        return
    answer = handoff.headcounts.record_headcount(ctx(), "T1", sorted(counted))
    assert (answer["missing"], answer["extra"]) == (sorted(expected - counted), sorted(counted - expected))
    (count,) = recorded(handoff, get_topic(HeadcountRecorded))
    for _ in range(2):  # a follower that sees the event again after a restart
        missing_children_open_incident(handoff, count)
    opened = recorded(handoff, get_topic(IncidentOpened))
    if expected - counted:
        assert [(i.kind, sorted(i.children)) for i in opened] == [("missing_child", sorted(expected - counted))]
    else:
        assert opened == []
    assert isinstance(count, HeadcountRecorded) and all(isinstance(i, IncidentOpened) for i in opened)


@pytest.mark.parametrize(
    ("actor", "present", "code"), [("gate", ["C1"], "role_not_allowed"), ("teacher", [], "nobody_to_count")]
)
def test_a_headcount_is_refused_for_a_gate_guard_and_where_nobody_is(actor: str, present: list[str], code: str) -> None:
    handoff = school_with_seven_enrolled()
    with pytest.raises(DomainError) as refused:
        handoff.headcounts.record_headcount(ctx(actor), "T1", present)
    assert refused.value.code == code
    assert recorded(handoff, get_topic(HeadcountRecorded)) == []
