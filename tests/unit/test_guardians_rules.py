"""Who may collect a child (aggregates/guardians.py): authorisations, their periods, pickup codes and self-release."""

from __future__ import annotations

import copy
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta, timezone
from functools import reduce

import pytest

from aggregates.base import EventMeta
from aggregates.guardians import (
    Authorisation,
    BadAuthorisationPeriodError,
    GuardianAlreadyAuthorisedError,
    GuardianNotFoundError,
    Guardians,
    evolve,
    guardians_id,
    project,
)
from events.guardians import (
    GuardianAuthorisationRevoked,
    GuardianAuthorised,
    GuardiansEvent,
    SelfReleaseAllowed,
    SelfReleaseWithdrawn,
)
from tests.unit.refusals import assert_refused

SCHOOL = "S1"
CHILD = "C1"
DAY = date(2026, 12, 1)
SERVER_TIME = datetime(2026, 11, 30, 8, 0, tzinfo=timezone.utc)


def meta(key: str = "k1") -> EventMeta:
    return EventMeta(
        school_id=SCHOOL,
        actor_id="a1",
        actor_role="admin",
        device_id="laptop-a1",
        idempotency_key=key,
        device_time=SERVER_TIME - timedelta(seconds=3),
        timestamp=SERVER_TIME,
    )


def applied(state: Guardians, events: Iterable[GuardiansEvent]) -> Guardians:
    return reduce(evolve, events, state)


def empty() -> Guardians:
    return Guardians.empty(SCHOOL, CHILD)


def authorised(
    guardian_id: str = "G1",
    valid_from: date | None = None,
    valid_until: date | None = None,
    base: Guardians | None = None,
) -> Guardians:
    state = base or empty()
    decided = state.authorise(meta(), guardian_id, "mother", f"hash-{guardian_id}", valid_from, valid_until)
    return applied(state, decided)


def leaves_alone_from(not_before: time, base: Guardians | None = None) -> Guardians:
    state = base or empty()
    return applied(state, state.allow_self_release(meta(), not_before))


# Authorising


def test_authorising_records_the_guardian_relation_code_hash_and_iso_period():
    events = empty().authorise(meta(), "G1", "grandmother", "hash-G1", date(2026, 9, 1), date(2027, 1, 31))
    assert [type(e) for e in events] == [GuardianAuthorised]
    event = events[0]
    assert (event.guardian_id, event.relation, event.pickup_code_hash) == ("G1", "grandmother", "hash-G1")
    assert (event.valid_from, event.valid_until) == ("2026-09-01", "2027-01-31")


def test_authorising_without_a_period_records_no_bounds():
    event = empty().authorise(meta(), "G1", "father", "hash-G1")[0]
    assert (event.valid_from, event.valid_until) == (None, None)


def test_an_authorised_guardian_is_on_the_list_with_dates():
    state = authorised("G1", date(2026, 9, 1), date(2027, 1, 31))
    assert state.authorisations == {
        "G1": Authorisation("G1", "mother", "hash-G1", date(2026, 9, 1), date(2027, 1, 31)),
    }


def test_authorising_the_same_guardian_twice_is_refused():
    assert_refused(
        authorised("G1"),
        lambda s: s.authorise(meta(), "G1", "father", "other-hash"),
        GuardianAlreadyAuthorisedError,
        "guardian_already_authorised",
    )


def test_an_authorisation_ending_before_it_starts_is_refused():
    assert_refused(
        empty(),
        lambda s: s.authorise(meta(), "G1", "aunt", "h", DAY, DAY - timedelta(days=1)),
        BadAuthorisationPeriodError,
        "bad_authorisation_period",
    )


def test_an_authorisation_for_a_single_day_is_allowed():
    assert [type(e) for e in empty().authorise(meta(), "G1", "aunt", "h", DAY, DAY)] == [GuardianAuthorised]


def test_an_authorisation_bounded_on_one_side_only_is_allowed():
    assert authorised("G1", valid_from=DAY).authorisations["G1"].valid_until is None
    assert authorised("G1", valid_until=DAY).authorisations["G1"].valid_from is None


def test_a_guardian_may_be_authorised_again_after_revocation():
    state = authorised("G1")
    state = applied(state, state.revoke(meta(), "G1", "moved"))
    assert [type(e) for e in state.authorise(meta(), "G1", "mother", "new-hash")] == [GuardianAuthorised]


# Revoking


def test_revoking_records_the_guardian_and_reason_and_removes_them():
    state = authorised("G2", base=authorised("G1"))
    events = state.revoke(meta(), "G1", "court order")
    assert [type(e) for e in events] == [GuardianAuthorisationRevoked]
    assert (events[0].guardian_id, events[0].reason) == ("G1", "court order")
    assert set(applied(state, events).authorisations) == {"G2"}


def test_revoking_a_guardian_not_on_the_list_is_refused():
    assert_refused(authorised("G1"), lambda s: s.revoke(meta(), "G2", "x"), GuardianNotFoundError, "guardian_not_found")


def test_revoking_twice_is_refused():
    state = authorised("G1")
    state = applied(state, state.revoke(meta(), "G1", "moved"))
    assert_refused(state, lambda s: s.revoke(meta(), "G1", "again"), GuardianNotFoundError, "guardian_not_found")


def test_guardian_not_found_is_a_not_found_error():
    assert GuardianNotFoundError.status == 404


# Who may collect the child on a day


@pytest.mark.parametrize(
    ("valid_from", "valid_until", "holds"),
    [
        (None, None, True),
        (DAY, DAY, True),
        (DAY, None, True),
        (None, DAY, True),
        (DAY + timedelta(days=1), None, False),
        (None, DAY - timedelta(days=1), False),
        (DAY - timedelta(days=30), DAY - timedelta(days=1), False),
    ],
)
def test_an_authorisation_holds_on_the_days_of_its_inclusive_period(valid_from, valid_until, holds):
    assert authorised("G1", valid_from, valid_until).is_authorised("G1", DAY) is holds


def test_a_person_not_on_the_list_is_not_authorised():
    assert authorised("G1").is_authorised("G2", DAY) is False


def test_a_revoked_guardian_is_not_authorised():
    state = authorised("G1")
    assert applied(state, state.revoke(meta(), "G1", "x")).is_authorised("G1", DAY) is False


def test_the_pickup_code_matches_only_the_guardians_own_hash():
    state = authorised("G2", base=authorised("G1"))
    assert state.pickup_code_matches("G1", "hash-G1") is True
    assert state.pickup_code_matches("G1", "hash-G2") is False
    assert state.pickup_code_matches("G1", "") is False


def test_the_pickup_code_of_a_person_not_on_the_list_never_matches():
    assert authorised("G1").pickup_code_matches("G9", "hash-G1") is False


# Self-release


def test_allowing_self_release_records_the_local_time_to_the_second():
    events = empty().allow_self_release(meta(), time(17, 0))
    assert [type(e) for e in events] == [SelfReleaseAllowed]
    assert events[0].not_before == "17:00:00"
    assert applied(empty(), events).self_release_not_before == time(17, 0)


def test_allowing_self_release_again_moves_the_time():
    state = leaves_alone_from(time(17, 0))
    assert leaves_alone_from(time(17, 30), base=state).self_release_not_before == time(17, 30)


@pytest.mark.parametrize(
    ("local_time", "may_leave"),
    [(time(16, 59, 59, 999999), False), (time(17, 0), True), (time(17, 0, 1), True), (time(23, 59), True)],
)
def test_a_child_may_leave_alone_from_the_agreed_time_inclusive(local_time, may_leave):
    assert leaves_alone_from(time(17, 0)).may_leave_alone_at(local_time) is may_leave


def test_a_child_without_self_release_may_never_leave_alone():
    assert authorised("G1").may_leave_alone_at(time(23, 59)) is False


def test_withdrawing_self_release_records_it_and_clears_the_time():
    state = leaves_alone_from(time(17, 0))
    events = state.withdraw_self_release(meta())
    assert [type(e) for e in events] == [SelfReleaseWithdrawn]
    assert applied(state, events).self_release_not_before is None


def test_withdrawing_self_release_that_was_never_allowed_records_nothing():
    assert authorised("G1").withdraw_self_release(meta()) == []


def test_self_release_is_never_allowed_before_the_agreed_time_even_with_seconds():
    state = leaves_alone_from(time(16, 59, 30))
    assert state.may_leave_alone_at(time(16, 59, 0)) is False


# Pickup arrangements


def test_nobody_on_the_list_is_no_pickup_arrangement():
    assert empty().has_pickup_arrangement(DAY) is False


def test_an_authorisation_holding_that_day_is_a_pickup_arrangement():
    assert authorised("G1", DAY, DAY).has_pickup_arrangement(DAY) is True


def test_authorisations_outside_the_day_are_no_pickup_arrangement():
    ended = authorised("G1", valid_until=DAY - timedelta(days=1))
    state = authorised("G2", valid_from=DAY + timedelta(days=1), base=ended)
    assert state.has_pickup_arrangement(DAY) is False


def test_self_release_alone_is_a_pickup_arrangement():
    assert leaves_alone_from(time(17, 0)).has_pickup_arrangement(DAY) is True


# Event envelopes and versions


def history() -> list[GuardiansEvent]:
    steps = [
        lambda s: s.authorise(meta("k1"), "G1", "mother", "h1"),
        lambda s: s.authorise(meta("k2"), "G2", "father", "h2", DAY, DAY),
        lambda s: s.allow_self_release(meta("k3"), time(17, 0)),
        lambda s: s.revoke(meta("k4"), "G2", "x"),
        lambda s: s.withdraw_self_release(meta("k5")),
    ]
    state, recorded = empty(), []
    for step in steps:
        events = step(state)
        recorded += events
        state = applied(state, events)
    return recorded


def test_versions_increase_by_one_per_event():
    assert [e.originator_version for e in history()] == [1, 2, 3, 4, 5]


def test_every_event_carries_the_stream_child_and_envelope():
    for n, event in enumerate(history(), start=1):
        assert (event.originator_id, event.school_id, event.child_id) == (guardians_id(SCHOOL, CHILD), SCHOOL, CHILD)
        assert (event.actor_id, event.actor_role, event.device_id, event.idempotency_key) == (
            "a1",
            "admin",
            "laptop-a1",
            f"k{n}",
        )
        assert (event.timestamp, event.device_time) == (SERVER_TIME, SERVER_TIME - timedelta(seconds=3))


def test_the_state_version_follows_the_last_event():
    assert applied(empty(), history()).version == 5


def test_project_rebuilds_the_same_state_as_evolve_from_nothing():
    assert project(None, history()) == applied(empty(), history())


def test_evolve_of_a_revocation_for_someone_not_on_the_list_does_not_raise():
    stray = authorised("G1").revoke(meta(), "G1", "x")[0]
    after = evolve(empty(), stray)
    assert (after.authorisations, after.version) == ({}, stray.originator_version)


def test_evolve_of_a_withdrawal_without_permission_does_not_raise():
    withdrawal = leaves_alone_from(time(17, 0)).withdraw_self_release(meta())[0]
    assert evolve(empty(), withdrawal).self_release_not_before is None


def test_evolve_does_not_change_the_state_it_is_given():
    state = authorised("G1")
    before = copy.deepcopy(state)
    for event in history():
        evolve(state, event)
    assert state == before
