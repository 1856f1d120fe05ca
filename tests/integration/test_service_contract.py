"""The service contract, run unchanged on the in-memory, SQLite and PostgreSQL persistence modules."""

from __future__ import annotations

import pytest

from aggregates.custody import ChildAlreadyReleasedError
from events.custody import ChildCheckedIn, ChildReleased
from service.application.handoff import ConcurrentChangeError, Handoff, IdempotencyKeyReusedError
from tests.support import AFTERNOON, SCHOOL, ctx, handed_to_guardian


def stored(handoff: Handoff, child: str = "C1") -> list:
    return list(handoff.events.get(handoff.custody(SCHOOL, child, AFTERNOON.date()).id))


def test_a_full_handoff_is_recorded_in_order(any_handoff: Handoff) -> None:
    handed_to_guardian(any_handoff)
    answer = any_handoff.care.release(ctx(), "C1", "G1")
    assert answer["custody"]["status"] == "released"
    assert [type(e).__name__ for e in stored(any_handoff)] == [
        "ChildCheckedIn",
        "GuardianArrived",
        "GuardianAndChildConfirmed",
        "ChildReleased",
    ]
    released = stored(any_handoff)[-1]
    assert isinstance(released, ChildReleased)
    assert (released.school_id, released.actor_id, released.device_id) == (SCHOOL, "t1", "tablet-1")
    assert released.authorisation_version == any_handoff.guardians(SCHOOL, "C1").version


def test_a_retry_with_the_same_key_returns_the_first_answer_and_records_nothing(any_handoff: Handoff) -> None:
    first = ctx(key="retry-key-1", place="T1")
    answer = any_handoff.care.check_in(first, "C1", "T1", None, None)
    again = any_handoff.care.check_in(first, "C1", "T1", None, None)
    assert again == {**answer, "replayed": True}
    assert len(stored(any_handoff)) == 1


def test_the_same_key_with_another_body_is_refused(any_handoff: Handoff) -> None:
    any_handoff.care.check_in(ctx(key="retry-key-2", place="T1"), "C1", "T1", None, None)
    with pytest.raises(IdempotencyKeyReusedError):
        any_handoff.care.check_in(ctx(key="retry-key-2", place="T2"), "C2", "T2", None, None)
    assert stored(any_handoff, "C2") == []


def test_a_stale_decision_is_a_concurrent_change_and_records_nothing(any_handoff: Handoff) -> None:
    any_handoff.care.check_in(ctx(), "C1", "T1", None, None)
    stale = any_handoff.custody(SCHOOL, "C1", AFTERNOON.date())
    any_handoff.care.transfer(ctx(), "C1", "t2", "T2")
    loser = ctx()
    meta = loser.meta(AFTERNOON)
    with pytest.raises(ConcurrentChangeError) as refused:
        any_handoff.record(
            loser,
            meta,
            stale.transfer(meta, "g1", "GATE"),
            {},
            reread=lambda: any_handoff.custody(SCHOOL, "C1", AFTERNOON.date()),
        )
    assert refused.value.details["current"]["custodian_id"] == "t2"
    assert len(stored(any_handoff)) == 2


def test_nothing_happens_after_release(any_handoff: Handoff) -> None:
    handed_to_guardian(any_handoff)
    any_handoff.care.release(ctx(), "C1", "G1")
    with pytest.raises(ChildAlreadyReleasedError):
        any_handoff.care.check_in(ctx(), "C1", "T1", None, None)
    assert sum(isinstance(e, (ChildCheckedIn, ChildReleased)) for e in stored(any_handoff)) == 2
