"""Pickup-code guessing is locked out: the third wrong code for a child locks code entry until a duty leader
lifts it."""

from __future__ import annotations

import pytest

from aggregates.base import DomainError
from events.custody import PickupCodeEntryLocked, PickupCodeEntryUnlocked, ReleaseRefused
from service.application.handoff import Handoff
from tests.support import AFTERNOON, SCHOOL, ctx, make_handoff, setup_school


def arrive(handoff: Handoff, code: str, verification: str = "pickup_code") -> dict:
    return handoff.care.register_arrival(
        ctx("gate"), "C1", "G1", verification, code if verification == "pickup_code" else None
    )


def stored(handoff: Handoff) -> list:
    return list(handoff.events.get(handoff.custody(SCHOOL, "C1", AFTERNOON.date()).id))


def test_three_wrong_codes_lock_code_entry_until_a_duty_leader_lifts_it() -> None:
    handoff = make_handoff()
    setup_school(handoff)
    handoff.care.check_in(ctx(), "C1", "T1", None, None)
    for _ in range(3):
        assert arrive(handoff, "0000")["refusal"]["code"] == "pickup_code_wrong"
    assert isinstance(stored(handoff)[-1], PickupCodeEntryLocked)
    assert sum(isinstance(e, ReleaseRefused) for e in stored(handoff)) == 3
    before = stored(handoff)
    held = arrive(handoff, "1234")  # recorded on the school's gate guard, and not checked: every attempt is evidence
    assert (held["outcome"], held["refusal"]["code"], held["recorded"]) == (
        "refused",
        "pickup_code_locked",
        ["GateAttemptHeldBack"],
    )
    assert stored(handoff) == before  # the child's day is unchanged
    with pytest.raises(DomainError) as teacher:
        handoff.care.unlock_code_entry(ctx("teacher"), "C1", "checked")
    assert teacher.value.code == "role_not_allowed"
    answer = handoff.care.unlock_code_entry(ctx("duty_leader"), "C1", "checked the identity card")
    assert isinstance(stored(handoff)[-1], PickupCodeEntryUnlocked) and not answer["custody"]["code_entry_locked"]
    assert arrive(handoff, "1234")["outcome"] == "recorded"


def test_an_identity_document_still_works_while_code_entry_is_locked() -> None:
    handoff = make_handoff()
    setup_school(handoff)
    handoff.care.check_in(ctx(), "C1", "T1", None, None)
    for _ in range(3):
        arrive(handoff, "0000")
    assert arrive(handoff, "", verification="id_document")["outcome"] == "recorded"
