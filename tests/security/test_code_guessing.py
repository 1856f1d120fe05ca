"""Pickup-code guessing at school scale, over HTTP: wrong codes and unknown persons are limited per device (and per
school, see tests/unit/test_gate_guard.py) with an incident, every attempt is recorded, even one made after a lock,
and codes anyone would try first are refused when a code is given."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.api.conftest import Tablet, make_tablet
from tests.support import Clock, make_handoff

DEVICE_WRONG_CODES = 5
DEVICE_UNKNOWN_PERSONS = 10


@pytest.fixture
def tablet() -> Iterator[Tablet]:
    handoff = make_handoff(clock=Clock())
    tablet = make_tablet(handoff)
    for child in ("C1", "C2"):
        assert tablet.post("check-in", {"place_code": "T1"}, child=child).status_code == 200
    yield tablet
    handoff.close()


def arrive(tablet: Tablet, child: str, guardian: str, code: str | None, device: str = "tablet-7") -> dict:
    verification = {"verification": "pickup_code", "pickup_code": code} if code else {"verification": "id_document"}
    body = {"guardian_id": guardian, "device_id": device, **verification}
    answer = tablet.post("guardian-arrival", body, who="gate", child=child)
    assert answer.status_code == 200, answer.text
    return answer.json()


def incidents(tablet: Tablet) -> list[str]:
    return [e.topic for e in tablet.handoff.recorder.select_notifications(1, 100_000) if "IncidentOpened" in e.topic]


def test_wrong_codes_across_children_from_one_device_are_held_back_with_an_incident(tablet: Tablet) -> None:
    guesses = [("C1", "G1", "0000"), ("C2", "G5", "0000"), ("C1", "G2", "1111"), ("C2", "G5", "1111")]
    for child, guardian, code in guesses:
        assert arrive(tablet, child, guardian, code)["refusal"]["code"] == "pickup_code_wrong"
    opened = len(incidents(tablet))
    assert len(guesses) + 1 == DEVICE_WRONG_CODES  # the fifth wrong code from this tablet today, over two children
    assert arrive(tablet, "C1", "G1", "2222")["refusal"]["code"] == "pickup_code_wrong"
    assert len(incidents(tablet)) == opened + 1, "reaching the limit opens an incident of its own"
    count = tablet.event_count()
    held = arrive(tablet, "C2", "G5", "4444")  # even the right code is not checked any more from this tablet
    assert (held["outcome"], held["refusal"]["code"]) == ("refused", "device_limit_reached"), held
    assert held["custody"]["arrived_guardians"] == []
    assert tablet.event_count() == count + 2  # the attempt is recorded (with its answer)
    other = arrive(tablet, "C2", "G5", "4444", device="tablet-8")
    assert other["outcome"] == "recorded"  # other tablets are not held back by this one
    assert arrive(tablet, "C1", "G2", None)["outcome"] == "recorded"  # and an identity document still works


def test_an_attempt_after_a_childs_lock_is_recorded(tablet: Tablet) -> None:
    for code in ("0000", "1111", "2222"):
        arrive(tablet, "C1", "G1", code, device=f"tablet-{code}")
    count = tablet.event_count()
    held = arrive(tablet, "C1", "G1", "1234", device="tablet-9")
    assert (held["outcome"], held["refusal"]["code"]) == ("refused", "pickup_code_locked"), held
    assert tablet.event_count() == count + 2
    assert held["custody"]["arrived_guardians"] == []


def test_unknown_persons_from_one_device_are_held_back(tablet: Tablet) -> None:
    for n in range(DEVICE_UNKNOWN_PERSONS):
        assert arrive(tablet, "C1", f"X{n}", None)["refusal"]["code"] == "guardian_not_authorised"
    held = arrive(tablet, "C1", "X99", None)
    assert held["refusal"]["code"] == "device_limit_reached", held
    assert tablet.post("flags", {"person_id": "X7", "reason": "court order"}, who="admin").status_code == 200
    flagged = arrive(tablet, "C1", "X7", None)  # a flagged person is never held back: always refused, and alerts
    assert flagged["refusal"]["code"] == "person_flagged", flagged
    day = tablet.day().json()["history"]
    refusals = [h for h in day if h["type"] == "ReleaseRefused"]
    assert len(refusals) == DEVICE_UNKNOWN_PERSONS + 1, "a held-back person is not a refusal that messages guardians"


@pytest.mark.parametrize("code", ["0000", "1234", "9876", "2468", "7890", "1212", "123123", "555555"])
def test_a_code_anyone_would_try_first_is_refused_and_nothing_is_recorded(tablet: Tablet, code: str) -> None:
    count = tablet.event_count()
    refused = tablet.put_code("G1", code)
    assert (refused.status_code, refused.json()["code"]) == (422, "invalid_request"), refused.text
    assert "too easy to guess" in refused.text
    assert tablet.event_count() == count
    body = {"guardian_id": "G7", "relation": "aunt", "pickup_code": code}
    assert tablet.post("guardians", body, who="admin").status_code == 422


def test_a_code_hard_to_guess_is_accepted(tablet: Tablet) -> None:
    assert tablet.put_code("G1", "4071").status_code == 200
    assert arrive(tablet, "C1", "G1", "4071")["outcome"] == "recorded"


def pickup(tablet: Tablet, code: str, device: str = "tablet-7") -> dict:
    """A pickup code alone (POST …/pickups), as the dismissal gate screen sends it."""
    body = {"device_id": device, "pickup_code": code}
    answer = tablet.post_school("pickups", body, who="gate")
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_wrong_codes_alone_are_counted_held_back_and_open_an_incident(tablet: Tablet) -> None:
    for n, code in enumerate(("0000", "1111", "2222", "3333")):
        count = tablet.event_count()
        wrong = pickup(tablet, code)
        assert (wrong["outcome"], wrong["refusal"]["code"]) == ("refused", "pickup_code_unknown"), wrong
        assert "identity document" in wrong["refusal"]["message"]
        assert tablet.event_count() == count + 2, f"wrong code {n + 1} is recorded as an attempt (with its answer)"
    opened = len(incidents(tablet))
    assert pickup(tablet, "5555")["refusal"]["code"] == "pickup_code_unknown"
    assert len(incidents(tablet)) == opened + 1, "the fifth wrong code from this tablet opens an incident"
    held = pickup(tablet, "1234")  # even G1's right code is not checked any more from this tablet
    assert (held["outcome"], held["refusal"]["code"]) == ("refused", "device_limit_reached"), held
    assert tablet.day().json()["custody"]["arrived_guardians"] == []
    assert pickup(tablet, "1234", device="tablet-8")["outcome"] == "recorded"  # other tablets are not held back


def test_wrong_codes_alone_and_per_child_share_the_device_limit(tablet: Tablet) -> None:
    for code in ("0000", "1111", "2222"):
        pickup(tablet, code)
    assert arrive(tablet, "C2", "G5", "7777")["refusal"]["code"] == "pickup_code_wrong"
    assert arrive(tablet, "C1", "G1", "8888")["refusal"]["code"] == "pickup_code_wrong"  # the fifth from this tablet
    assert arrive(tablet, "C2", "G5", "4444")["refusal"]["code"] == "device_limit_reached"
    assert pickup(tablet, "4444")["refusal"]["code"] == "device_limit_reached"
