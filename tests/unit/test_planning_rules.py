"""Planning rules: a term's places (TermApplicants), temporary classes of at most 40, and the service day's rota."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from functools import reduce

import pytest

from aggregates import service_day as sd
from aggregates import temporary_class as tc
from aggregates import term_applicants as ta
from aggregates.base import EventMeta, stream_id
from aggregates.staff import Role
from events import planning as ev
from tests.unit.refusals import assert_refused

SCHOOL, TERM, DAY = "S1", "2026-autumn", date(2026, 12, 1)
SERVER_TIME = datetime(2026, 12, 1, 7, 30, tzinfo=timezone.utc)
FORTY = [f"C{n:02}" for n in range(1, 41)]


def meta(actor: str = "a1") -> EventMeta:
    return EventMeta(SCHOOL, actor, "admin", f"laptop-{actor}", "k1", SERVER_TIME - timedelta(seconds=2), SERVER_TIME)


def run(module, state, *steps):
    """Decide and apply each step in turn with the module's evolve; return the state and every recorded event."""
    recorded = []
    for step in steps:
        events = step(state)
        state, recorded = reduce(module.evolve, events, state), recorded + events
    return state, recorded


# TermApplicants: places


def placed(*children: str) -> ta.TermApplicants:
    return run(ta, ta.TermApplicants.of(SCHOOL, TERM), *[lambda s, c=c: s.take_place(meta(), c, 2) for c in children])[
        0
    ]


def test_listing_an_applicant_records_child_and_term():
    state, events = run(ta, ta.TermApplicants.of(SCHOOL, TERM), lambda s: s.list_applicant(meta(), "C1"))
    assert [(type(e), e.term_id, e.child_id) for e in events] == [(ev.ApplicantListed, TERM, "C1")]
    assert state.applicants == ("C1",)


def test_approvals_up_to_the_number_of_places_take_a_place_each():
    state, events = run(ta, placed("A"), lambda s: s.take_place(meta(), "B", 2))
    assert [(type(e), e.child_id, e.originator_version) for e in events] == [(ev.PlaceTaken, "B", 2)]
    assert state.placed == {"A", "B"}


def test_the_approval_beyond_the_places_is_refused():
    error = assert_refused(
        placed("A", "B"), lambda s: s.take_place(meta(), "C", 2), ta.NoPlacesLeftError, "no_places_left"
    )
    assert "2 places" in str(error)


def test_re_approving_a_placed_child_needs_no_new_place():
    state, events = run(ta, placed("A", "B"), lambda s: s.take_place(meta(), "A", 2))
    assert [type(e) for e in events] == [ev.PlaceTaken]
    assert state.placed == {"A", "B"}


def test_giving_up_a_place_frees_it():
    state, events = run(ta, placed("A", "B"), lambda s: s.give_up_place(meta(), "A"))
    assert [(type(e), e.child_id) for e in events] == [(ev.PlaceGivenUp, "A")]
    assert state.placed == {"B"}
    assert [type(e) for e in state.take_place(meta(), "C", 2)] == [ev.PlaceTaken]


def test_giving_up_a_place_never_taken_records_nothing():
    state = placed("A")
    assert state.give_up_place(meta(), "C") == []


# TemporaryClass: at most 40


def new_class() -> tc.TemporaryClass:
    return tc.TemporaryClass.of(SCHOOL, TERM, "T1")


def formed(children: list[str]) -> tc.TemporaryClass:
    return run(tc, new_class(), lambda s: s.form(meta(), "t1", "room 101", children, "own_class"))[0]


def test_form_records_teacher_venue_and_each_child_once_sorted():
    state, events = run(tc, new_class(), lambda s: s.form(meta(), "t1", "room 101", ["C2", "C1", "C2"], "own_class"))
    (event,) = events
    assert type(event) is ev.TemporaryClassFormed
    assert (event.term_id, event.class_code, event.teacher_id, event.venue) == (TERM, "T1", "t1", "room 101")
    assert (event.children, event.how) == (["C1", "C2"], "own_class")
    assert (state.children, state.teacher_id, state.version) == ({"C1", "C2"}, "t1", 1)


def test_a_class_of_forty_is_formed():
    assert formed([*FORTY, "C01"]).children == set(FORTY)


def test_forming_a_class_of_forty_one_is_refused():
    error = assert_refused(
        new_class(),
        lambda s: s.form(meta(), "t1", "room 101", [*FORTY, "C41"], "own_class"),
        tc.ClassFullError,
        "class_full",
    )
    assert "T1" in str(error) and "40" in str(error)


def test_a_class_is_formed_once():
    assert_refused(
        formed(["C1"]),
        lambda s: s.form(meta(), "t2", "hall", ["C9"], "merged_in_grade"),
        tc.ClassAlreadyFormedError,
        "class_already_formed",
    )


def test_moving_a_child_into_a_class_of_thirty_nine():
    state, events = run(tc, formed(FORTY[:39]), lambda s: s.move_in(meta(), "C40"))
    assert [(type(e), e.child_id, e.class_code) for e in events] == [(ev.ChildMovedIntoClass, "C40", "T1")]
    assert len(state.children) == 40


def test_moving_a_child_into_a_class_of_forty_is_refused():
    assert_refused(formed(FORTY), lambda s: s.move_in(meta(), "C41"), tc.ClassFullError, "class_full")


def test_moving_a_child_already_in_the_class_does_not_count_twice():
    state, _ = run(tc, formed(FORTY), lambda s: s.move_in(meta(), "C01"))
    assert state.children == set(FORTY)


def test_moving_a_child_out_of_the_class():
    state, events = run(tc, formed(["C1", "C2"]), lambda s: s.move_out(meta(), "C1"))
    assert [(type(e), e.child_id) for e in events] == [(ev.ChildMovedOutOfClass, "C1")]
    assert state.children == {"C2"}


def test_moving_out_a_child_not_in_the_class_is_refused():
    error = assert_refused(formed(["C1"]), lambda s: s.move_out(meta(), "C2"), tc.NotInClassError, "not_in_class")
    assert "T1" in str(error)


def test_assigning_a_teacher_replaces_the_class_teacher():
    state, events = run(tc, formed(["C1"]), lambda s: s.assign_teacher(meta(), "t2"))
    assert [(type(e), e.teacher_id, e.originator_version) for e in events] == [(ev.ClassTeacherAssigned, "t2", 2)]
    assert (state.teacher_id, state.children) == ("t2", {"C1"})


# ServiceDay: rota, open, close

LEADERS, GUARDS = ["d2", "d1"], ["g2", "g1"]
ROLES = {"d1": Role.DUTY_LEADER, "d2": Role.DUTY_LEADER, "d3": Role.DUTY_LEADER, "g1": Role.GATE, "g2": Role.GATE}


def new_day() -> sd.ServiceDay:
    return sd.ServiceDay.of(SCHOOL, DAY)


def opened() -> sd.ServiceDay:
    return run(sd, new_day(), lambda s: s.open(meta(), LEADERS, GUARDS, ROLES))[0]


def closed() -> sd.ServiceDay:
    return run(sd, opened(), lambda s: s.close(meta(), []))[0]


def test_open_records_the_rota_and_opens_the_day():
    state, events = run(sd, new_day(), lambda s: s.open(meta(), LEADERS, GUARDS, ROLES))
    (event,) = events
    assert type(event) is ev.ServiceDayOpened
    assert (event.service_day, event.duty_leaders, event.guards) == ("2026-12-01", ["d1", "d2"], ["g1", "g2"])
    assert event.originator_id == stream_id("service-day", SCHOOL, "2026-12-01")
    assert (state.state, state.duty_leaders, state.guards) == ("open", ("d1", "d2"), ("g1", "g2"))


@pytest.mark.parametrize(
    ("leaders", "guards"),
    [
        (["d1"], GUARDS),
        (["d1", "d1"], GUARDS),
        (["d1", "d2", "d3"], GUARDS),
        (LEADERS, ["g1"]),
        (LEADERS, ["g1", "g1"]),
    ],
    ids=["one_leader", "same_leader_twice", "three_leaders", "one_guard", "same_guard_twice"],
)
def test_open_without_two_different_leaders_and_two_different_guards_is_refused(leaders, guards):
    assert_refused(new_day(), lambda s: s.open(meta(), leaders, guards, ROLES), sd.BadRotaError, "bad_duty_rota")


def test_open_with_a_leader_listed_twice_beside_another_is_refused():
    assert_refused(
        new_day(),
        lambda s: s.open(meta(), ["d1", "d1", "d2"], GUARDS, ROLES),
        sd.BadRotaError,
        "bad_duty_rota",
    )


def test_a_day_opens_once():
    assert_refused(
        opened(), lambda s: s.open(meta(), LEADERS, GUARDS, ROLES), sd.DayAlreadyOpenError, "day_already_open"
    )


def test_closing_a_day_that_was_never_opened_is_refused():
    assert_refused(new_day(), lambda s: s.close(meta(), []), sd.DayNotOpenError, "day_not_open")


def test_closing_while_children_are_in_care_is_refused_naming_them_sorted():
    error = assert_refused(
        opened(),
        lambda s: s.close(meta(), iter(["C3", "C1", "C2"])),
        sd.ChildrenStillInCareError,
        "children_still_in_care",
    )
    assert "C1, C2, C3" in str(error)


def test_a_child_named_in_an_open_incident_does_not_hold_the_day_open():
    error = assert_refused(
        opened(),
        lambda s: s.close(meta(), ["C2", "C1"], {"C1"}),
        sd.ChildrenStillInCareError,
        "children_still_in_care",
    )
    assert "C2" in str(error) and "C1" not in str(error)
    _, events = run(sd, opened(), lambda s: s.close(meta(), ["C1"], {"C1"}))
    assert [type(e).__name__ for e in events] == ["ServiceDayClosed"]


def test_closing_an_open_day_with_nobody_in_care():
    state, events = run(sd, opened(), lambda s: s.close(meta(), []))
    assert [(type(e), e.service_day, e.originator_version) for e in events] == [(ev.ServiceDayClosed, "2026-12-01", 2)]
    assert state.state == "closed"


def test_a_closed_day_cannot_close_again():
    assert_refused(closed(), lambda s: s.close(meta(), []), sd.DayNotOpenError, "day_not_open")
