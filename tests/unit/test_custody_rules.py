"""The handoff rules of the pure Custody aggregate (aggregates/custody.py): decisions, refusals and evolve."""

from __future__ import annotations

import copy
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta, timezone
from functools import reduce

import pytest

from aggregates import guardians as guardians_module
from aggregates.base import EventMeta
from aggregates.custody import (
    AlreadyConfirmedError,
    ChildAlreadyInCareError,
    ChildAlreadyMarkedError,
    ChildAlreadyReleasedError,
    ChildNotInCareError,
    Custody,
    GuardianAlreadyArrivedError,
    GuardianNotArrivedError,
    NoPickupArrangementError,
    NotConfirmedError,
    NotCurrentCustodianError,
    SelfReleaseNotAllowedError,
    TooEarlyForSelfReleaseError,
    TransferToSameError,
    UnknownVerificationError,
    custody_id,
    evolve,
    project,
)
from aggregates.guardians import Guardians
from events.custody import (
    ChildCheckedIn,
    ChildMarkedAbsent,
    ChildReleased,
    ChildTransferred,
    CustodyEvent,
    GuardianAndChildConfirmed,
    GuardianArrived,
    ReleaseRefused,
    Status,
)
from tests.unit.enrolled import ENROLLED
from tests.unit.refusals import assert_refused

SCHOOL = "S1"
CHILD = "C1"
DAY = date(2026, 12, 1)
SERVER_TIME = datetime(2026, 12, 1, 8, 30, tzinfo=timezone.utc)
ROLES = {"t1": "teacher", "t2": "teacher", "d1": "duty_leader", "g1": "gate", "a1": "admin"}


def meta(actor: str = "t1", key: str | None = None, at: datetime = SERVER_TIME) -> EventMeta:
    """Who acts, from which device, when: the device clock runs a few seconds behind the server."""
    return EventMeta(
        school_id=SCHOOL,
        actor_id=actor,
        actor_role=ROLES[actor],
        device_id=f"tablet-{actor}",
        idempotency_key=key or f"key-{actor}",
        device_time=at - timedelta(seconds=7),
        timestamp=at,
    )


def code_hash(guardian_id: str) -> str:
    return f"hash-of-code-of-{guardian_id}"


# Guardian lists, built through the Guardians decisions and evolve.


def with_guardians(state: Guardians, events: Iterable) -> Guardians:
    return reduce(guardians_module.evolve, events, state)


def authorised(
    *guardian_ids: str, valid_from: date | None = None, valid_until: date | None = None, base: Guardians | None = None
) -> Guardians:
    state = base or Guardians.empty(SCHOOL, CHILD)
    for guardian_id in guardian_ids:
        decided = state.authorise(meta("a1"), guardian_id, "parent", code_hash(guardian_id), valid_from, valid_until)
        state = with_guardians(state, decided)
    return state


def revoked(state: Guardians, guardian_id: str) -> Guardians:
    return with_guardians(state, state.revoke(meta("a1"), guardian_id, "agreement ended"))


def leaves_alone_from(not_before: time, base: Guardians | None = None) -> Guardians:
    state = base or Guardians.empty(SCHOOL, CHILD)
    return with_guardians(state, state.allow_self_release(meta("a1"), not_before))


NOBODY = Guardians.empty(SCHOOL, CHILD)
PARENTS = authorised("G1", "G2")


# Custody states, built through the Custody decisions and evolve.


def applied(state: Custody, events: Iterable[CustodyEvent]) -> Custody:
    return reduce(evolve, events, state)


def expected() -> Custody:
    return Custody.expected(SCHOOL, CHILD, DAY)


def in_care(guardians: Guardians = PARENTS, custodian: str = "t1", place: str = "T1") -> Custody:
    state = expected()
    return applied(state, state.check_in(meta("t1"), custodian, place, "h1", guardians, ENROLLED))


def arrived(guardian: str = "G1", guardians: Guardians = PARENTS) -> Custody:
    state = in_care(guardians)
    return applied(state, state.register_arrival(meta("g1"), guardian, guardians, "pickup_code", code_hash(guardian)))


def confirmed(guardian: str = "G1", guardians: Guardians = PARENTS) -> Custody:
    state = arrived(guardian, guardians)
    return applied(state, state.confirm(meta("t1"), guardian, True, True, guardians))


def released(guardian: str = "G1", guardians: Guardians = PARENTS) -> Custody:
    state = confirmed(guardian, guardians)
    return applied(state, state.release(meta("t1"), guardian, guardians))


def absent() -> Custody:
    state = expected()
    return applied(state, state.mark_absent(meta("t1"), "ill"))


def only_refusal(events: list[CustodyEvent]) -> ReleaseRefused:
    assert len(events) == 1
    assert type(events[0]) is ReleaseRefused
    return events[0]


# Check-in


def test_check_in_takes_the_child_into_care_with_the_named_adult_and_place():
    state = expected()
    events = state.check_in(meta("t1"), "t2", "T2", "h1", PARENTS, ENROLLED)
    assert [type(e) for e in events] == [ChildCheckedIn]
    assert (events[0].custodian_id, events[0].place_code, events[0].handed_over_by) == ("t2", "T2", "h1")
    after = applied(state, events)
    assert (after.status, after.custodian_id, after.place_code) == (Status.IN_CARE, "t2", "T2")


def test_check_in_without_a_known_handing_teacher_is_allowed():
    events = expected().check_in(meta("t1"), "t1", "T1", None, PARENTS, ENROLLED)
    assert events[0].handed_over_by is None


def test_check_in_twice_is_refused():
    assert_refused(
        in_care(),
        lambda s: s.check_in(meta("t1"), "t1", "T1", None, PARENTS, ENROLLED),
        ChildAlreadyInCareError,
        "child_already_in_care",
    )


def test_check_in_after_release_is_refused_no_readmission_the_same_day():
    assert_refused(
        released(),
        lambda s: s.check_in(meta("t1"), "t1", "T1", None, PARENTS, ENROLLED),
        ChildAlreadyReleasedError,
        "child_already_released",
    )


def test_check_in_after_absence_is_allowed_for_a_late_arrival():
    state = absent()
    after = applied(state, state.check_in(meta("t1"), "t1", "T1", None, PARENTS, ENROLLED))
    assert after.status is Status.IN_CARE


def test_check_in_without_any_pickup_arrangement_is_refused():
    assert_refused(
        expected(),
        lambda s: s.check_in(meta("t1"), "t1", "T1", None, NOBODY, ENROLLED),
        NoPickupArrangementError,
        "no_pickup_arrangement",
    )


def test_check_in_is_allowed_when_the_child_may_only_leave_alone():
    events = expected().check_in(meta("t1"), "t1", "T1", None, leaves_alone_from(time(17, 0)), ENROLLED)
    assert [type(e) for e in events] == [ChildCheckedIn]


def test_check_in_is_refused_when_every_authorisation_ended_before_the_service_day():
    ended = authorised("G1", valid_until=DAY - timedelta(days=1))
    assert_refused(
        expected(),
        lambda s: s.check_in(meta("t1"), "t1", "T1", None, ended, ENROLLED),
        NoPickupArrangementError,
        "no_pickup_arrangement",
    )


def test_check_in_is_refused_when_every_authorisation_starts_after_the_service_day():
    not_yet = authorised("G1", valid_from=DAY + timedelta(days=1))
    assert_refused(
        expected(),
        lambda s: s.check_in(meta("t1"), "t1", "T1", None, not_yet, ENROLLED),
        NoPickupArrangementError,
        "no_pickup_arrangement",
    )


def test_check_in_is_allowed_on_the_first_and_last_day_of_an_authorisation():
    only_today = authorised("G1", valid_from=DAY, valid_until=DAY)
    assert [type(e) for e in expected().check_in(meta("t1"), "t1", "T1", None, only_today, ENROLLED)] == [
        ChildCheckedIn
    ]


def test_check_in_is_refused_when_the_only_guardian_was_revoked():
    assert_refused(
        expected(),
        lambda s: s.check_in(meta("t1"), "t1", "T1", None, revoked(authorised("G1"), "G1"), ENROLLED),
        NoPickupArrangementError,
        "no_pickup_arrangement",
    )


# Transfers


def test_transfer_by_the_current_custodian_moves_the_child_to_the_new_adult_and_place():
    state = in_care()
    events = state.transfer(meta("t1"), "t2", "T2")
    assert [type(e) for e in events] == [ChildTransferred]
    event = events[0]
    assert (event.from_custodian_id, event.from_place_code, event.to_custodian_id, event.to_place_code) == (
        "t1",
        "T1",
        "t2",
        "T2",
    )
    after = applied(state, events)
    assert (after.status, after.custodian_id, after.place_code) == (Status.IN_CARE, "t2", "T2")


def test_transfer_by_a_duty_leader_who_is_not_the_custodian_is_allowed():
    events = in_care().transfer(meta("d1"), "t2", "T2")
    assert events[0].from_custodian_id == "t1"
    assert events[0].actor_id == "d1"


def test_transfer_by_another_teacher_is_refused():
    assert_refused(
        in_care(), lambda s: s.transfer(meta("t2"), "t2", "T2"), NotCurrentCustodianError, "not_current_custodian"
    )


def test_transfer_by_gate_staff_is_refused():
    assert_refused(
        in_care(), lambda s: s.transfer(meta("g1"), "t2", "T2"), NotCurrentCustodianError, "not_current_custodian"
    )


def test_transfer_to_the_same_adult_and_place_is_refused():
    assert_refused(
        in_care(), lambda s: s.transfer(meta("t1"), "t1", "T1"), TransferToSameError, "transfer_changes_nothing"
    )


def test_transfer_changing_only_the_place_is_allowed():
    after = applied(in_care(), in_care().transfer(meta("t1"), "t1", "PLAYGROUND"))
    assert (after.custodian_id, after.place_code) == ("t1", "PLAYGROUND")


def test_transfer_changing_only_the_adult_is_allowed():
    after = applied(in_care(), in_care().transfer(meta("t1"), "t2", "T1"))
    assert (after.custodian_id, after.place_code) == ("t2", "T1")


def test_after_a_transfer_the_previous_custodian_can_no_longer_hand_the_child_on():
    state = applied(in_care(), in_care().transfer(meta("t1"), "t2", "T2"))
    assert_refused(
        state, lambda s: s.transfer(meta("t1"), "t1", "T1"), NotCurrentCustodianError, "not_current_custodian"
    )


def test_transfer_of_a_child_not_yet_checked_in_is_refused():
    assert_refused(expected(), lambda s: s.transfer(meta("d1"), "t2", "T2"), ChildNotInCareError, "child_not_in_care")


def test_transfer_of_an_absent_child_is_refused():
    assert_refused(absent(), lambda s: s.transfer(meta("d1"), "t2", "T2"), ChildNotInCareError, "child_not_in_care")


# Guardian arrival


def test_arrival_of_an_authorised_guardian_with_the_right_code_is_recorded():
    state = in_care()
    events = state.register_arrival(meta("g1"), "G1", PARENTS, "pickup_code", code_hash("G1"))
    assert [type(e) for e in events] == [GuardianArrived]
    assert (events[0].guardian_id, events[0].verification, events[0].authorisation_version) == (
        "G1",
        "pickup_code",
        PARENTS.version,
    )
    assert applied(state, events).arrived_guardians == {"G1"}


def test_arrival_verified_by_id_document_needs_no_pickup_code():
    events = in_care().register_arrival(meta("g1"), "G1", PARENTS, "id_document", None)
    assert [type(e) for e in events] == [GuardianArrived]
    assert events[0].verification == "id_document"


def test_two_guardians_may_both_arrive():
    state = arrived("G1")
    after = applied(state, state.register_arrival(meta("g1"), "G2", PARENTS, "pickup_code", code_hash("G2")))
    assert after.arrived_guardians == {"G1", "G2"}


def test_arrival_of_the_same_guardian_twice_is_refused():
    assert_refused(
        arrived("G1"),
        lambda s: s.register_arrival(meta("g1"), "G1", PARENTS, "pickup_code", code_hash("G1")),
        GuardianAlreadyArrivedError,
        "guardian_already_arrived",
    )


def test_arrival_before_check_in_is_refused():
    assert_refused(
        expected(),
        lambda s: s.register_arrival(meta("g1"), "G1", PARENTS, "pickup_code", code_hash("G1")),
        ChildNotInCareError,
        "child_not_in_care",
    )


def test_arrival_of_a_person_not_on_the_list_records_a_refusal_at_arrival():
    state = in_care()
    refusal = only_refusal(state.register_arrival(meta("g1"), "STRANGER", PARENTS, "id_document", None))
    assert (refusal.guardian_id, refusal.stage, refusal.reason_code) == (
        "STRANGER",
        "arrival",
        "guardian_not_authorised",
    )
    assert refusal.authorisation_version == PARENTS.version


def test_arrival_of_a_guardian_whose_authorisation_ended_records_a_refusal():
    guardians = authorised("G2", base=authorised("G1", valid_until=DAY - timedelta(days=1)))
    state = in_care(guardians)
    refusal = only_refusal(state.register_arrival(meta("g1"), "G1", guardians, "pickup_code", code_hash("G1")))
    assert (refusal.stage, refusal.reason_code) == ("arrival", "guardian_not_authorised")


def test_arrival_of_a_guardian_whose_authorisation_has_not_started_records_a_refusal():
    guardians = authorised("G2", base=authorised("G1", valid_from=DAY + timedelta(days=1)))
    state = in_care(guardians)
    refusal = only_refusal(state.register_arrival(meta("g1"), "G1", guardians, "id_document", None))
    assert (refusal.stage, refusal.reason_code) == ("arrival", "guardian_not_authorised")


def test_arrival_with_a_wrong_pickup_code_records_a_refusal():
    state = in_care()
    refusal = only_refusal(state.register_arrival(meta("g1"), "G1", PARENTS, "pickup_code", code_hash("G2")))
    assert (refusal.guardian_id, refusal.stage, refusal.reason_code) == ("G1", "arrival", "pickup_code_wrong")


def test_arrival_with_pickup_code_verification_but_no_code_records_a_refusal():
    refusal = only_refusal(in_care().register_arrival(meta("g1"), "G1", PARENTS, "pickup_code", None))
    assert refusal.reason_code == "pickup_code_wrong"


def test_a_refused_arrival_leaves_the_child_in_care_and_the_guardian_not_arrived():
    state = in_care()
    after = applied(state, state.register_arrival(meta("g1"), "G1", PARENTS, "pickup_code", "wrong"))
    assert after.status is Status.IN_CARE
    assert after.arrived_guardians == frozenset()
    assert after.version == state.version + 1


def test_a_guardian_refused_for_a_wrong_code_may_try_again_with_the_right_one():
    state = in_care()
    state = applied(state, state.register_arrival(meta("g1"), "G1", PARENTS, "pickup_code", "wrong"))
    events = state.register_arrival(meta("g1"), "G1", PARENTS, "pickup_code", code_hash("G1"))
    assert [type(e) for e in events] == [GuardianArrived]


# Mutual confirmation


def test_confirmation_by_the_custodian_records_both_recognitions_with_the_witness():
    state = arrived("G1")
    events = state.confirm(meta("t1"), "G1", True, True, PARENTS)
    assert [type(e) for e in events] == [GuardianAndChildConfirmed]
    event = events[0]
    assert (event.guardian_id, event.guardian_recognised_child, event.child_recognised_guardian, event.witness_id) == (
        "G1",
        True,
        True,
        "t1",
    )
    assert applied(state, events).confirmed_guardian_id == "G1"


def test_confirmation_witnessed_by_a_duty_leader_is_allowed():
    events = arrived("G1").confirm(meta("d1"), "G1", True, True, PARENTS)
    assert events[0].witness_id == "d1"


def test_confirmation_before_the_guardian_arrived_is_refused():
    assert_refused(
        in_care(),
        lambda s: s.confirm(meta("t1"), "G1", True, True, PARENTS),
        GuardianNotArrivedError,
        "guardian_not_arrived",
    )


def test_confirmation_with_a_guardian_other_than_the_one_who_arrived_is_refused():
    assert_refused(
        arrived("G1"),
        lambda s: s.confirm(meta("t1"), "G2", True, True, PARENTS),
        GuardianNotArrivedError,
        "guardian_not_arrived",
    )


def test_confirmation_before_check_in_is_refused():
    assert_refused(
        expected(), lambda s: s.confirm(meta("t1"), "G1", True, True, PARENTS), ChildNotInCareError, "child_not_in_care"
    )


def test_confirmation_witnessed_by_someone_who_is_not_the_custodian_is_refused():
    assert_refused(
        arrived("G1"),
        lambda s: s.confirm(meta("t2"), "G1", True, True, PARENTS),
        NotCurrentCustodianError,
        "not_current_custodian",
    )


def test_confirmation_witnessed_by_gate_staff_is_refused():
    assert_refused(
        arrived("G1"),
        lambda s: s.confirm(meta("g1"), "G1", True, True, PARENTS),
        NotCurrentCustodianError,
        "not_current_custodian",
    )


def test_confirmation_of_the_same_guardian_twice_is_refused():
    assert_refused(
        confirmed("G1"),
        lambda s: s.confirm(meta("t1"), "G1", True, True, PARENTS),
        AlreadyConfirmedError,
        "already_confirmed",
    )


@pytest.mark.parametrize(
    ("guardian_recognised_child", "child_recognised_guardian"), [(False, True), (True, False), (False, False)]
)
def test_confirmation_mismatch_records_a_refusal_at_confirmation(guardian_recognised_child, child_recognised_guardian):
    state = arrived("G1")
    events = state.confirm(meta("t1"), "G1", guardian_recognised_child, child_recognised_guardian, PARENTS)
    refusal = only_refusal(events)
    assert (refusal.guardian_id, refusal.stage, refusal.reason_code) == ("G1", "confirmation", "confirmation_mismatch")
    assert refusal.authorisation_version == PARENTS.version


def test_a_confirmation_mismatch_leaves_the_child_unconfirmed_and_in_care():
    state = arrived("G1")
    after = applied(state, state.confirm(meta("t1"), "G1", True, False, PARENTS))
    assert (after.status, after.confirmed_guardian_id) == (Status.IN_CARE, None)


# Release to a guardian


def test_release_to_the_confirmed_guardian_ends_custody():
    state = confirmed("G1")
    events = state.release(meta("t1"), "G1", PARENTS)
    assert [type(e) for e in events] == [ChildReleased]
    event = events[0]
    assert (event.guardian_id, event.self_release, event.from_custodian_id, event.authorisation_version) == (
        "G1",
        False,
        "t1",
        PARENTS.version,
    )
    after = applied(state, events)
    assert (after.status, after.custodian_id, after.released_to, after.self_released) == (
        Status.RELEASED,
        None,
        "G1",
        False,
    )


def test_release_by_a_duty_leader_is_allowed():
    events = confirmed("G1").release(meta("d1"), "G1", PARENTS)
    assert [type(e) for e in events] == [ChildReleased]


def test_release_without_confirmation_is_refused():
    assert_refused(arrived("G1"), lambda s: s.release(meta("t1"), "G1", PARENTS), NotConfirmedError, "not_confirmed")


def test_release_to_a_guardian_other_than_the_confirmed_one_is_refused():
    state = confirmed("G1")
    state = applied(state, state.register_arrival(meta("g1"), "G2", PARENTS, "pickup_code", code_hash("G2")))
    assert_refused(state, lambda s: s.release(meta("t1"), "G2", PARENTS), NotConfirmedError, "not_confirmed")


def test_release_by_someone_who_is_not_the_custodian_is_refused():
    assert_refused(
        confirmed("G1"),
        lambda s: s.release(meta("t2"), "G1", PARENTS),
        NotCurrentCustodianError,
        "not_current_custodian",
    )


def test_release_before_check_in_is_refused():
    assert_refused(expected(), lambda s: s.release(meta("t1"), "G1", PARENTS), ChildNotInCareError, "child_not_in_care")


def test_release_to_a_guardian_revoked_after_confirmation_records_a_refusal_at_release():
    state = confirmed("G1")
    now_revoked = revoked(PARENTS, "G1")
    refusal = only_refusal(state.release(meta("t1"), "G1", now_revoked))
    assert (refusal.guardian_id, refusal.stage, refusal.reason_code) == ("G1", "release", "guardian_not_authorised")
    assert refusal.authorisation_version == now_revoked.version > PARENTS.version


def test_a_refused_release_leaves_the_child_in_care_with_the_same_custodian():
    state = confirmed("G1")
    after = applied(state, state.release(meta("t1"), "G1", revoked(PARENTS, "G1")))
    assert (after.status, after.custodian_id, after.released_to) == (Status.IN_CARE, "t1", None)


# Release alone


def test_self_release_at_the_agreed_time_is_allowed():
    alone = leaves_alone_from(time(17, 0))
    state = in_care(alone)
    events = state.release_alone(meta("t1"), alone, time(17, 0))
    assert [type(e) for e in events] == [ChildReleased]
    assert (events[0].guardian_id, events[0].self_release, events[0].authorisation_version) == (
        None,
        True,
        alone.version,
    )
    after = applied(state, events)
    assert (after.status, after.released_to, after.self_released) == (Status.RELEASED, None, True)


def test_self_release_after_the_agreed_time_is_allowed():
    alone = leaves_alone_from(time(17, 0))
    assert [type(e) for e in in_care(alone).release_alone(meta("d1"), alone, time(18, 45))] == [ChildReleased]


def test_self_release_just_before_the_agreed_time_is_refused():
    alone = leaves_alone_from(time(17, 0))
    error = assert_refused(
        in_care(alone),
        lambda s: s.release_alone(meta("t1"), alone, time(16, 59, 59, 999999)),
        TooEarlyForSelfReleaseError,
        "too_early_for_self_release",
    )
    assert "17:00" in str(error)


def test_self_release_is_refused_when_the_agreement_does_not_allow_it():
    assert_refused(
        in_care(PARENTS),
        lambda s: s.release_alone(meta("t1"), PARENTS, time(18, 0)),
        SelfReleaseNotAllowedError,
        "self_release_not_allowed",
    )


def test_self_release_is_refused_once_the_permission_was_withdrawn():
    alone = leaves_alone_from(time(17, 0), base=PARENTS)
    withdrawn = with_guardians(alone, alone.withdraw_self_release(meta("a1")))
    assert_refused(
        in_care(alone),
        lambda s: s.release_alone(meta("t1"), withdrawn, time(18, 0)),
        SelfReleaseNotAllowedError,
        "self_release_not_allowed",
    )


def test_self_release_by_someone_who_is_not_the_custodian_is_refused():
    alone = leaves_alone_from(time(17, 0))
    assert_refused(
        in_care(alone),
        lambda s: s.release_alone(meta("t2"), alone, time(18, 0)),
        NotCurrentCustodianError,
        "not_current_custodian",
    )


def test_self_release_of_a_child_not_in_care_is_refused():
    alone = leaves_alone_from(time(17, 0))
    assert_refused(
        expected(), lambda s: s.release_alone(meta("t1"), alone, time(18, 0)), ChildNotInCareError, "child_not_in_care"
    )


# After release nothing more happens that day


AFTER_RELEASE = {
    "check_in": lambda s: s.check_in(meta("t1"), "t1", "T1", None, PARENTS, ENROLLED),
    "transfer": lambda s: s.transfer(meta("d1"), "t2", "T2"),
    "arrival": lambda s: s.register_arrival(meta("g1"), "G2", PARENTS, "pickup_code", code_hash("G2")),
    "confirmation": lambda s: s.confirm(meta("d1"), "G1", True, True, PARENTS),
    "release": lambda s: s.release(meta("d1"), "G1", PARENTS),
    "release_alone": lambda s: s.release_alone(meta("d1"), leaves_alone_from(time(17, 0)), time(18, 0)),
}


@pytest.mark.parametrize("decide", AFTER_RELEASE.values(), ids=AFTER_RELEASE.keys())
def test_every_custody_action_after_release_is_refused(decide):
    assert_refused(released("G1"), decide, ChildAlreadyReleasedError, "child_already_released")


def test_every_custody_action_after_self_release_is_refused():
    alone = leaves_alone_from(time(17, 0), base=PARENTS)
    state = in_care(alone)
    state = applied(state, state.release_alone(meta("t1"), alone, time(17, 30)))
    assert_refused(state, AFTER_RELEASE["transfer"], ChildAlreadyReleasedError, "child_already_released")


def test_marking_absent_after_release_is_refused():
    error = assert_refused(
        released("G1"),
        lambda s: s.mark_absent(meta("t1"), "ill"),
        ChildAlreadyMarkedError,
        "child_cannot_be_marked_absent",
    )
    assert "released" in str(error)


# Absence


def test_marking_absent_a_child_expected_in_care_is_recorded():
    state = expected()
    events = state.mark_absent(meta("t1"), "ill")
    assert [type(e) for e in events] == [ChildMarkedAbsent]
    assert events[0].reason == "ill"
    assert applied(state, events).status is Status.ABSENT


def test_marking_absent_a_child_in_care_is_refused():
    error = assert_refused(
        in_care(), lambda s: s.mark_absent(meta("t1"), "ill"), ChildAlreadyMarkedError, "child_cannot_be_marked_absent"
    )
    assert "in care" in str(error)


def test_marking_absent_twice_is_refused():
    error = assert_refused(
        absent(), lambda s: s.mark_absent(meta("t1"), "ill"), ChildAlreadyMarkedError, "child_cannot_be_marked_absent"
    )
    assert "absent" in str(error)


def test_an_absent_child_cannot_be_handed_to_a_guardian():
    assert_refused(
        absent(),
        lambda s: s.register_arrival(meta("g1"), "G1", PARENTS, "pickup_code", code_hash("G1")),
        ChildNotInCareError,
        "child_not_in_care",
    )


# Event envelopes and versions


def full_day() -> list[CustodyEvent]:
    """Check-in by t1, transfer to t2, arrival at the gate, confirmation and release by t2: five commands."""
    steps = [
        lambda s: s.check_in(meta("t1", "k1"), "t1", "T1", "h1", PARENTS, ENROLLED),
        lambda s: s.transfer(meta("t1", "k2"), "t2", "T2"),
        lambda s: s.register_arrival(meta("g1", "k3"), "G1", PARENTS, "pickup_code", code_hash("G1")),
        lambda s: s.confirm(meta("t2", "k4"), "G1", True, True, PARENTS),
        lambda s: s.release(meta("d1", "k5"), "G1", PARENTS),
    ]
    state, recorded = expected(), []
    for step in steps:
        events = step(state)
        recorded += events
        state = applied(state, events)
    return recorded


def test_versions_increase_by_one_from_the_first_event():
    assert [e.originator_version for e in full_day()] == [1, 2, 3, 4, 5]


def test_every_event_belongs_to_the_child_day_stream():
    for event in full_day():
        assert event.originator_id == custody_id(SCHOOL, CHILD, DAY)
        assert (event.school_id, event.child_id, event.service_day) == (SCHOOL, CHILD, "2026-12-01")


def test_every_event_carries_who_acted_from_which_device_with_which_key():
    envelopes = [(e.actor_id, e.actor_role, e.device_id, e.idempotency_key) for e in full_day()]
    assert envelopes == [
        ("t1", "teacher", "tablet-t1", "k1"),
        ("t1", "teacher", "tablet-t1", "k2"),
        ("g1", "gate", "tablet-g1", "k3"),
        ("t2", "teacher", "tablet-t2", "k4"),
        ("d1", "duty_leader", "tablet-d1", "k5"),
    ]


def test_every_event_carries_the_device_time_and_the_server_time():
    for event in full_day():
        assert event.timestamp == SERVER_TIME
        assert event.device_time == SERVER_TIME - timedelta(seconds=7)


def test_recorded_refusals_carry_the_envelope_and_the_next_version():
    state = in_care()
    refusal = only_refusal(state.register_arrival(meta("g1", "k9"), "STRANGER", PARENTS, "id_document", None))
    assert (refusal.actor_id, refusal.actor_role, refusal.idempotency_key) == ("g1", "gate", "k9")
    assert (refusal.originator_id, refusal.originator_version) == (state.id, state.version + 1)
    assert (refusal.child_id, refusal.service_day, refusal.timestamp) == (CHILD, "2026-12-01", SERVER_TIME)


def test_the_stream_id_depends_on_school_child_and_service_day():
    ids = {
        custody_id("S1", "C1", DAY),
        custody_id("S2", "C1", DAY),
        custody_id("S1", "C2", DAY),
        custody_id("S1", "C1", DAY + timedelta(days=1)),
    }
    assert len(ids) == 4
    assert Custody.expected("S1", "C1", DAY).id == custody_id("S1", "C1", DAY)


def test_project_rebuilds_the_same_state_as_evolve_from_nothing():
    events = full_day()
    assert project(None, events) == applied(expected(), events)


def test_project_of_no_events_is_nothing():
    assert project(None, []) is None


# evolve never raises and never decides


def one_of_each_event(version: int) -> list[CustodyEvent]:
    common = {
        **meta("t1").fields(),
        "originator_id": custody_id(SCHOOL, CHILD, DAY),
        "originator_version": version,
        "child_id": CHILD,
        "service_day": DAY.isoformat(),
    }
    return [
        ChildCheckedIn(**common, custodian_id="t1", place_code="T1", handed_over_by=None),
        ChildTransferred(
            **common, from_custodian_id="t9", from_place_code="X", to_custodian_id="t2", to_place_code="T2"
        ),
        GuardianArrived(**common, guardian_id="G9", verification="id_document", authorisation_version=3),
        GuardianAndChildConfirmed(
            **common, guardian_id="G9", guardian_recognised_child=True, child_recognised_guardian=True, witness_id="t1"
        ),
        ChildReleased(
            **common,
            guardian_id=None,
            self_release=True,
            from_custodian_id="t1",
            authorisation_version=3,
            emergency=False,
        ),
        ChildMarkedAbsent(**common, reason="ill"),
        ReleaseRefused(**common, guardian_id="G9", stage="release", reason_code="x", authorisation_version=3),
    ]


STATES = {"expected": expected, "in_care": in_care, "confirmed": confirmed, "released": released, "absent": absent}


@pytest.mark.parametrize("make_state", STATES.values(), ids=STATES.keys())
@pytest.mark.parametrize("event", one_of_each_event(version=42), ids=lambda e: type(e).__name__)
def test_evolve_applies_any_event_to_any_state_without_raising(make_state, event):
    after = evolve(make_state(), event)
    assert after.version == 42


def test_evolve_records_a_guardian_arrival_even_on_an_expected_state():
    after = evolve(expected(), one_of_each_event(version=1)[2])
    assert (after.status, after.arrived_guardians, after.version) == (Status.EXPECTED, {"G9"}, 1)


def test_evolve_changes_only_the_version_for_a_recorded_refusal():
    state = confirmed("G1")
    refusal = one_of_each_event(version=state.version + 1)[-1]
    assert evolve(state, refusal) == Custody(**{**vars(state), "version": state.version + 1})


def test_evolve_does_not_change_the_state_it_is_given():
    state = in_care()
    before = copy.deepcopy(state)
    for event in one_of_each_event(version=9):
        evolve(state, event)
    assert state == before


def test_an_unknown_verification_method_is_refused():
    state = in_care()
    with pytest.raises(UnknownVerificationError) as refused:
        state.register_arrival(meta("g1"), "G1", PARENTS, "looks_familiar", None)
    assert refused.value.code == "unknown_verification"
