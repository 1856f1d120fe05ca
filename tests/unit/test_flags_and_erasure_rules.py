"""Flagged people never collect a child (guardians, custody), and a child's erasure from the roster happens once."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from functools import reduce

import pytest

from aggregates import custody as cu
from aggregates import guardians as gu
from aggregates import roster as ro
from aggregates.base import EventMeta
from events.custody import ChildReleased, ReleaseRefused
from events.guardians import PersonFlagged, PersonFlagLifted
from events.roster import ChildErased
from tests.unit.enrolled import ENROLLED
from tests.unit.refusals import assert_refused

SCHOOL, CHILD, DAY = "S1", "C1", date(2026, 12, 1)
SERVER_TIME = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)
ROLES = {"a1": "admin", "t1": "teacher", "g1": "gate"}


def meta(actor: str = "a1") -> EventMeta:
    return EventMeta(
        SCHOOL, actor, ROLES[actor], f"tablet-{actor}", "k1", SERVER_TIME - timedelta(seconds=5), SERVER_TIME
    )


def run(module, state, *steps):
    """Decide and apply each step in turn with the module's evolve; return the state and every recorded event."""
    recorded = []
    for step in steps:
        events = step(state)
        state, recorded = reduce(module.evolve, events, state), recorded + events
    return state, recorded


def code_hash(guardian_id: str) -> str:
    return f"hash-{guardian_id}"


# Guardians, built through their decisions


def parents(*ids: str) -> gu.Guardians:
    steps = [lambda s, g=g: s.authorise(meta(), g, "parent", code_hash(g)) for g in ids]
    return run(gu, gu.Guardians.empty(SCHOOL, CHILD), *steps)[0]


def flagged(person: str, base: gu.Guardians | None = None) -> gu.Guardians:
    state = base or gu.Guardians.empty(SCHOOL, CHILD)
    return run(gu, state, lambda s: s.flag(meta(), person, "court order", "sealed-who"))[0]


def test_flagging_a_person_on_the_list_makes_them_not_authorised():
    before = parents("G1", "G2")
    state, events = run(gu, before, lambda s: s.flag(meta(), "G1", "court order", "sealed-who"))
    (event,) = events
    assert type(event) is PersonFlagged
    assert (event.person_id, event.reason, event.sealed, event.child_id) == ("G1", "court order", "sealed-who", CHILD)
    assert event.originator_version == before.version + 1
    assert state.is_flagged("G1") and "G1" in state.authorisations
    assert not state.is_authorised("G1", DAY)
    assert state.is_authorised("G2", DAY)


def test_a_person_never_on_the_list_can_be_flagged():
    state = flagged("STRANGER")
    assert state.is_flagged("STRANGER") and not state.is_authorised("STRANGER", DAY)


def test_flagging_a_flagged_person_again_is_refused():
    assert_refused(
        flagged("G1", parents("G1")),
        lambda s: s.flag(meta(), "G1", "again", ""),
        gu.PersonIsFlaggedError,
        "person_flagged",
    )


def test_authorising_a_flagged_person_is_refused():
    assert_refused(
        flagged("X"),
        lambda s: s.authorise(meta(), "X", "uncle", code_hash("X")),
        gu.PersonIsFlaggedError,
        "person_flagged",
    )


def test_lifting_a_flag_lets_a_listed_person_collect_again():
    state, events = run(gu, flagged("G1", parents("G1")), lambda s: s.lift_flag(meta(), "G1", "order ended"))
    assert [(type(e), e.person_id, e.reason) for e in events] == [(PersonFlagLifted, "G1", "order ended")]
    assert not state.is_flagged("G1")
    assert state.is_authorised("G1", DAY)


def test_lifting_a_flag_that_does_not_exist_is_refused():
    assert_refused(
        parents("G1"),
        lambda s: s.lift_flag(meta(), "G1", "nothing to lift"),
        gu.PersonNotFlaggedError,
        "person_not_flagged",
    )


# Custody: a flagged person at the gate and at release

PARENTS = parents("G1", "G2")


def in_care() -> cu.Custody:
    start = cu.Custody.expected(SCHOOL, CHILD, DAY)
    return run(cu, start, lambda s: s.check_in(meta("t1"), "t1", "T1", None, PARENTS, ENROLLED))[0]


def confirmed(guardian: str) -> cu.Custody:
    return run(
        cu,
        in_care(),
        lambda s: s.register_arrival(meta("g1"), guardian, PARENTS, "pickup_code", code_hash(guardian)),
        lambda s: s.confirm(meta("t1"), guardian, True, True, PARENTS),
    )[0]


def only_refusal(events: list) -> ReleaseRefused:
    assert [type(e) for e in events] == [ReleaseRefused]
    return events[0]


@pytest.mark.parametrize("person", ["G1", "STRANGER"], ids=["on_the_list", "not_on_the_list"])
def test_the_arrival_of_a_flagged_person_records_a_refusal(person):
    guardians = flagged(person, PARENTS)
    state = in_care()
    after, events = run(cu, state, lambda s: s.register_arrival(meta("g1"), person, guardians, "id_document", None))
    refusal = only_refusal(events)
    assert (refusal.guardian_id, refusal.stage, refusal.reason_code) == (person, "arrival", "person_flagged")
    assert refusal.authorisation_version == guardians.version
    assert (after.status, after.arrived_guardians, after.custodian_id) == (cu.Status.IN_CARE, frozenset(), "t1")


def test_releasing_to_a_guardian_flagged_after_confirmation_records_a_refusal_never_a_release():
    guardians = flagged("G1", PARENTS)
    after, events = run(cu, confirmed("G1"), lambda s: s.release(meta("t1"), "G1", guardians))
    refusal = only_refusal(events)
    assert (refusal.guardian_id, refusal.stage, refusal.reason_code) == ("G1", "release", "person_flagged")
    assert not any(isinstance(e, ChildReleased) for e in events)
    assert (after.status, after.released_to, after.custodian_id) == (cu.Status.IN_CARE, None, "t1")


def test_a_person_flagged_refusal_has_plain_words_for_the_teacher():
    assert "must not collect" in cu.REFUSAL_MESSAGES["person_flagged"]


# Roster: erasure


def on_roster() -> ro.RosterEntry:
    start = ro.RosterEntry.absent(SCHOOL, CHILD)
    return run(ro, start, lambda s: s.add(meta(), "3-2", 3, "h1", "sealed-name"))[0]


def test_erasing_a_child_records_child_erased():
    before = on_roster()
    state, events = run(ro, before, lambda s: s.erase(meta(), "guardian asked"))
    (event,) = events
    assert type(event) is ChildErased
    assert (event.child_id, event.reason, event.school_id) == (CHILD, "guardian asked", SCHOOL)
    assert (event.originator_id, event.originator_version) == (ro.roster_entry_id(SCHOOL, CHILD), before.version + 1)
    assert state.erased


def test_erasing_a_child_twice_is_refused():
    erased = run(ro, on_roster(), lambda s: s.erase(meta(), "guardian asked"))[0]
    assert_refused(erased, lambda s: s.erase(meta(), "again"), ro.ChildAlreadyErasedError, "child_already_erased")
