"""Corrections: only the latest record of a child's day, never a correction, and the original stays in the log."""

from __future__ import annotations

from datetime import date, datetime, timezone
from functools import reduce

from aggregates.base import EventMeta
from aggregates.custody import Custody, NothingToCorrectError, evolve
from aggregates.guardians import Guardians
from aggregates.guardians import evolve as guardian_evolve
from events.custody import CustodyCorrected, Status
from tests.unit.enrolled import ENROLLED
from tests.unit.refusals import assert_refused

DAY = date(2026, 12, 1)
NOW = datetime(2026, 12, 1, 8, 30, tzinfo=timezone.utc)


def meta(actor: str = "t1", role: str = "teacher") -> EventMeta:
    return EventMeta("S1", actor, role, "tablet-1", "key-0001", NOW, NOW)


def guardians() -> Guardians:
    state = Guardians.empty("S1", "C1")
    return reduce(guardian_evolve, state.authorise(meta("a1", "admin"), "G1", "mother", "h"), state)


def checked_in() -> tuple[Custody, Custody]:
    before = Custody.expected("S1", "C1", DAY)
    events = before.check_in(meta(), "t1", "T1", None, guardians(), ENROLLED)
    return before, reduce(evolve, events, before)


def test_a_check_in_for_the_wrong_child_is_voided_and_the_child_is_expected_again() -> None:
    before, state = checked_in()
    mistaken = before.check_in(meta(), "t1", "T1", None, guardians(), ENROLLED)[0]
    events = state.correct(meta("d1", "duty_leader"), mistaken, "wrong child", before)
    assert [type(e) for e in events] == [CustodyCorrected]
    assert (events[0].voids_version, events[0].voids_type, events[0].reason) == (1, "ChildCheckedIn", "wrong child")
    after = reduce(evolve, events, state)
    assert (after.status, after.custodian_id, after.corrected, after.version) == (Status.EXPECTED, None, {1}, 2)


def test_only_the_latest_record_can_be_corrected() -> None:
    before, state = checked_in()
    first = before.check_in(meta(), "t1", "T1", None, guardians(), ENROLLED)[0]
    moved = reduce(evolve, state.transfer(meta(), "t2", "T2"), state)
    assert_refused(
        moved,
        lambda s: s.correct(meta("d1", "duty_leader"), first, "late", before),
        NothingToCorrectError,
        "nothing_to_correct",
    )


def test_a_correction_is_not_corrected_again() -> None:
    before, state = checked_in()
    mistaken = before.check_in(meta(), "t1", "T1", None, guardians(), ENROLLED)[0]
    correction = state.correct(meta("d1", "duty_leader"), mistaken, "wrong child", before)[0]
    after = evolve(state, correction)
    assert_refused(
        after,
        lambda s: s.correct(meta("d1", "duty_leader"), correction, "undo", state),
        NothingToCorrectError,
        "nothing_to_correct",
    )


def test_nothing_recorded_yet_cannot_be_corrected() -> None:
    empty = Custody.expected("S1", "C1", DAY)
    _, state = checked_in()
    mistaken = Custody.expected("S1", "C1", DAY).check_in(meta(), "t1", "T1", None, guardians(), ENROLLED)[0]
    assert_refused(
        empty, lambda s: s.correct(meta(), mistaken, "?", empty), NothingToCorrectError, "nothing_to_correct"
    )
    assert state.version == 1
