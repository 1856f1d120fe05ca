"""Single-stream rules that once sat in the service, now decided by their aggregate (no database, milliseconds)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time, timezone
from functools import reduce

import pytest

from aggregates import guardians as gu
from aggregates import school as sc
from aggregates.base import EventMeta
from aggregates.class_forming import FormedClass
from aggregates.custody import ChildAlreadyInCareError, Custody
from aggregates.enrolment import PRIORITY_CATEGORIES, Enrolment, NotEnrolledError, UnknownPriorityCategoryError
from aggregates.guardians import GuardianNotFoundError, GuardianNotOnListError, Guardians
from aggregates.permissions import PERMISSIONS, may
from aggregates.school import NotATemporaryClassError, School
from aggregates.service_day import ServiceDay, WrongRoleForDutyError
from aggregates.staff import Role
from aggregates.temporary_class import NoStaffGivenError, plan_classes
from events.custody import Status
from tests.unit.enrolled import ENROLLED
from tests.unit.refusals import assert_refused

DAY = date(2026, 11, 30)
NOW = datetime(2026, 11, 30, 8, 30, tzinfo=timezone.utc)  # 16:30 in Shanghai


def meta(role: str = "admin") -> EventMeta:
    return EventMeta("S1", "a1", role, "tablet-1", "k1", NOW, NOW)


def school() -> School:
    state = School.unregistered("S1")
    for decide in (
        lambda s: s.register(meta(), "Test School", "D1", "Asia/Shanghai"),
        lambda s: s.add_place(meta(), "T1", "temporary_class", "临时1班", "Class 1"),
        lambda s: s.add_place(meta(), "ROOM", "classroom", "教室", "Room"),
        lambda s: s.add_batch(meta(), "B1", "第一批", "Batch 1", time(16, 0)),
    ):
        state = reduce(sc.evolve, decide(state), state)
    return state


def guardians(*listed: str) -> Guardians:
    state = Guardians.empty("S1", "C1")
    for guardian_id in listed:
        state = reduce(gu.evolve, state.authorise(meta(), guardian_id, "mother", "h", None, None, None, ""), state)
    return state


# Priority categories (Enrolment)


def test_an_application_with_an_unknown_priority_category_is_refused() -> None:
    refused = lambda s: s.apply(meta(), "G1", ["mon"], "B1", False, "sealed", ["rich"])  # noqa: E731
    assert_refused(Enrolment.none("S1", "C1", "T"), refused, UnknownPriorityCategoryError, "unknown_priority_category")


def test_an_application_with_the_four_categories_records_none_of_them_in_clear() -> None:
    applied = Enrolment.none("S1", "C1", "T").apply(meta(), "G1", ["mon"], "B1", False, "sealed", PRIORITY_CATEGORIES)
    assert not any(category in repr(applied[0]) for category in PRIORITY_CATEGORIES)


# Arrangement only into temporary classes (School)


def test_a_child_is_arranged_only_into_a_temporary_class() -> None:
    assert school().require_temporary_class("T1").kind == "temporary_class"
    with pytest.raises(NotATemporaryClassError):
        school().require_temporary_class("ROOM")


# Guardians on the list (Guardians)


def test_an_agreement_names_only_guardians_on_the_list() -> None:
    guardians("G1", "G2").require_all_listed(["G1", "G2", "G1"])
    with pytest.raises(GuardianNotOnListError) as refused:
        guardians("G1").require_all_listed(["G1", "G9"])
    assert refused.value.code == "guardian_not_on_list"


def test_a_guardian_told_about_an_incident_is_on_the_list() -> None:
    guardians("G1").require_listed("G1")
    with pytest.raises(GuardianNotFoundError):
        guardians("G1").require_listed("G9")


# Rota roles (ServiceDay), class codes, teachers and venues (TemporaryClass)

ROLES = {"d1": Role.DUTY_LEADER, "d2": Role.DUTY_LEADER, "g1": Role.GATE, "g2": Role.GATE, "t1": Role.TEACHER}


@pytest.mark.parametrize(
    ("leaders", "guards"), [(["d1", "t1"], ["g1", "g2"]), (["d1", "d2"], ["g1", "t1"]), (["g1", "d2"], ["d1", "g2"])]
)
def test_the_rota_names_duty_leaders_and_guards_by_their_roles(leaders: list[str], guards: list[str]) -> None:
    refused = lambda s: s.open(meta(), leaders, guards, ROLES)  # noqa: E731
    assert_refused(ServiceDay.of("S1", DAY), refused, WrongRoleForDutyError, "wrong_role_for_duty")


def test_a_rota_of_the_right_roles_opens_the_day() -> None:
    assert ServiceDay.of("S1", DAY).open(meta(), ["d1", "d2"], ["g1", "g2"], ROLES)


def formed(count: int) -> list[FormedClass]:
    return [FormedClass(f"G1-{n}", (1,), ("1-1",), (f"C{n}",), "own_class") for n in range(count)]


@pytest.mark.parametrize(("teachers", "venues"), [([], ["V1"]), (["t1"], []), ([], [])])
def test_forming_classes_needs_a_teacher_and_a_venue(teachers: list[str], venues: list[str]) -> None:
    with pytest.raises(NoStaffGivenError):
        plan_classes(formed(2), teachers, venues)


def test_classes_are_numbered_in_order_and_given_teachers_and_venues_in_turn() -> None:
    plans = plan_classes(formed(3), ["t1", "t2"], ["V1"])
    assert [(p.code, p.teacher_id, p.venue, p.label_zh) for p in plans] == [
        ("T01", "t1", "V1", "临时1班"),
        ("T02", "t2", "V1", "临时2班"),
        ("T03", "t1", "V1", "临时3班"),
    ]


# The late-pickup grace period (School)


@pytest.mark.parametrize(("local", "late"), [("16:09", False), ("16:10", True), ("17:00", True)])
def test_a_child_is_late_ten_minutes_after_their_batch_ends(local: str, late: bool) -> None:
    hours, minutes = map(int, local.split(":"))
    now = datetime(2026, 11, 30, hours - 8, minutes, tzinfo=timezone.utc)
    assert school().is_late_pickup("B1", now) is late


def test_a_batch_the_school_does_not_know_is_never_late() -> None:
    assert school().is_late_pickup("B9", datetime(2026, 11, 30, 14, 0, tzinfo=timezone.utc)) is False


# The check-in ordering (Custody)


def test_a_child_not_enrolled_for_today_is_not_checked_in() -> None:
    refused = lambda s: s.check_in(meta("teacher"), "t1", "T1", None, guardians("G1"), Enrolment.none("S1", "C1", "T"))  # noqa: E731
    assert_refused(Custody.expected("S1", "C1", DAY), refused, NotEnrolledError, "not_enrolled")


def test_a_child_already_in_care_is_told_so_before_any_enrolment_question() -> None:
    in_care = replace(Custody.expected("S1", "C1", DAY), status=Status.IN_CARE, custodian_id="t1", place_code="T1")
    refused = lambda s: s.check_in(meta("teacher"), "t2", "T1", None, guardians("G1"), Enrolment.none("S1", "C1", "T"))  # noqa: E731
    assert_refused(in_care, refused, ChildAlreadyInCareError, "child_already_in_care")


def test_an_enrolled_child_is_checked_in() -> None:
    assert Custody.expected("S1", "C1", DAY).check_in(meta("teacher"), "t1", "T1", None, guardians("G1"), ENROLLED)


# Role rules: one list, which the aggregates ask


@pytest.mark.parametrize("action", ["manage_emergency", "record_duty_round", "unlock_code_entry"])
def test_the_aggregates_decide_by_role_from_the_one_list(action: str) -> None:
    assert {role for role in Role if may(role.value, action)} == set(PERMISSIONS[action])
    assert not may("system", action)
