"""Enrolment rules (aggregates/enrolment.py): 家长申请 → 班级审核 → 学校复核 → 统筹安排, agreement, withdrawal."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from functools import reduce

import pytest

from aggregates import enrolment as en
from aggregates.base import EventMeta
from aggregates.enrolment import Agreement, Enrolment, Stage, enrolment_id, evolve, project
from events import enrolment as ev
from tests.unit.refusals import assert_refused

SCHOOL, CHILD, TERM = "S1", "C1", "2026-autumn"
FIRST, LAST = date(2026, 9, 1), date(2027, 1, 15)
SERVER_TIME = datetime(2026, 8, 20, 9, 0, tzinfo=timezone.utc)


def meta(key: str = "k1") -> EventMeta:
    return EventMeta(SCHOOL, "a1", "admin", "laptop-a1", key, SERVER_TIME - timedelta(seconds=3), SERVER_TIME)


def applied(state: Enrolment, events: list) -> Enrolment:
    return reduce(evolve, events, state)


STEP = {
    "apply": lambda s: s.apply(meta(), "G1", ["fri", "mon", "mon"], "B1", False, "sealed-notes"),
    "approve_class": lambda s: s.review_by_class(meta(), True, "fine"),
    "reject_class": lambda s: s.review_by_class(meta(), False, "no need"),
    "approve_school": lambda s: s.review_by_school(meta(), True, "fine"),
    "reject_school": lambda s: s.review_by_school(meta(), False, "no places"),
    "arrange": lambda s: s.arrange(meta(), "T1"),
    "sign": lambda s: s.sign_agreement(meta(), "G1", ["G2", "G1", "G2"], None, FIRST, LAST),
    "withdraw": lambda s: s.withdraw(meta(), "moved away"),
}
PATHS = {
    "not_applied": "",
    "applied": "apply",
    "class_rejected": "apply reject_class",
    "class_approved": "apply approve_class",
    "school_rejected": "apply approve_class reject_school",
    "school_approved": "apply approve_class approve_school",
    "arranged": "apply approve_class approve_school arrange",
    "signed": "apply approve_class approve_school arrange sign",
    "signed_unarranged": "apply approve_class approve_school sign",
    "withdrawn": "apply approve_class approve_school arrange sign withdraw",
}


def walk(name: str) -> tuple[Enrolment, list]:
    """The state after the named path's steps, and every event they recorded."""
    state, recorded = Enrolment.none(SCHOOL, CHILD, TERM), []
    for step in PATHS[name].split():
        events = STEP[step](state)
        state, recorded = applied(state, events), recorded + events
    return state, recorded


def at(name: str) -> Enrolment:
    return walk(name)[0]


def one_step(state: Enrolment, step) -> tuple[object, Enrolment]:
    events = step(state)
    assert len(events) == 1
    return events[0], applied(state, events)


# 家长申请


def test_apply_records_the_days_once_each_in_weekday_order():
    event, after = one_step(at("not_applied"), STEP["apply"])
    assert type(event) is ev.CareApplied
    assert (event.guardian_id, event.days, event.sealed) == ("G1", ["mon", "fri"], "sealed-notes")
    assert (after.stage, after.days, after.release_batch) == (Stage.APPLIED, ("mon", "fri"), "B1")
    assert after.self_release_requested is False


@pytest.mark.parametrize("days", [[], ["sat"], ["mon", "sun"], ["Mon"], ["monday"]], ids=repr)
def test_apply_without_weekdays_or_with_an_unknown_day_is_refused(days):
    assert_refused(
        at("not_applied"), lambda s: s.apply(meta(), "G1", days, "B1", False, ""), en.BadDaysError, "bad_days"
    )


def test_apply_accepts_days_given_as_any_iterable():
    event, _ = one_step(at("not_applied"), lambda s: s.apply(meta(), "G1", iter(["wed", "tue"]), "B1", True, ""))
    assert event.days == ["tue", "wed"]


@pytest.mark.parametrize("name", ["applied", "school_approved", "withdrawn"])
def test_applying_twice_in_a_term_is_refused(name):
    assert_refused(at(name), STEP["apply"], en.AlreadyAppliedError, "already_applied")


# 班级审核 and 学校复核


@pytest.mark.parametrize(
    ("step", "from_", "kind", "stage"),
    [
        (STEP["approve_class"], "applied", ev.ApplicationReviewedByClass, Stage.CLASS_APPROVED),
        (STEP["reject_class"], "applied", ev.ApplicationReviewedByClass, Stage.CLASS_REJECTED),
        (STEP["approve_school"], "class_approved", ev.ApplicationReviewedBySchool, Stage.SCHOOL_APPROVED),
        (STEP["reject_school"], "class_approved", ev.ApplicationReviewedBySchool, Stage.SCHOOL_REJECTED),
    ],
    ids=["class_approves", "class_rejects", "school_approves", "school_rejects"],
)
def test_a_review_records_the_decision_and_its_reason(step, from_, kind, stage):
    event, after = one_step(at(from_), step)
    assert type(event) is kind
    assert (after.stage, after.reason) == (stage, event.reason)
    assert after.approved is (stage is Stage.SCHOOL_APPROVED)


@pytest.mark.parametrize("name", ["not_applied", "class_approved", "class_rejected", "school_approved", "withdrawn"])
def test_class_review_out_of_order_is_refused_naming_the_stage(name):
    error = assert_refused(at(name), STEP["approve_class"], en.WrongStageError, "wrong_enrolment_step")
    assert f"'{at(name).stage.value}'" in str(error)


@pytest.mark.parametrize("name", ["not_applied", "applied", "class_rejected", "school_approved", "school_rejected"])
def test_school_review_only_after_class_approval(name):
    assert_refused(at(name), STEP["approve_school"], en.WrongStageError, "wrong_enrolment_step")


# 统筹安排


def test_arrange_after_school_approval_assigns_the_temporary_class():
    event, after = one_step(at("school_approved"), STEP["arrange"])
    assert (type(event), event.temporary_class) == (ev.ChildArranged, "T1")
    assert (after.stage, after.temporary_class, after.approved) == (Stage.ARRANGED, "T1", True)


def test_re_arranging_an_arranged_child_moves_them():
    _, after = one_step(at("arranged"), lambda s: s.arrange(meta(), "T2"))
    assert (after.stage, after.temporary_class) == (Stage.ARRANGED, "T2")


@pytest.mark.parametrize("name", ["not_applied", "applied", "class_approved", "school_rejected", "withdrawn"])
def test_arrange_only_after_school_approval(name):
    assert_refused(at(name), STEP["arrange"], en.WrongStageError, "wrong_enrolment_step")


# 安全责任书


@pytest.mark.parametrize("name", ["school_approved", "arranged"])
def test_sign_agreement_records_guardians_once_each_sorted_and_the_dates(name):
    event, after = one_step(at(name), STEP["sign"])
    assert type(event) is ev.SafetyAgreementSigned
    assert (event.authorised_guardians, event.leave_alone_from) == (["G1", "G2"], None)
    assert (event.starts_on, event.ends_on) == ("2026-09-01", "2027-01-15")
    assert after.agreement == Agreement("G1", ("G1", "G2"), None, FIRST, LAST)


def test_an_agreement_letting_the_child_leave_alone_needs_no_guardian():
    event, after = one_step(at("arranged"), lambda s: s.sign_agreement(meta(), "G1", [], time(17, 30), FIRST, LAST))
    assert event.leave_alone_from == "17:30:00"
    assert after.agreement.leave_alone_from == time(17, 30)


@pytest.mark.parametrize(
    ("guardians", "alone", "ends_on"),
    [([], None, LAST), (["G1"], None, FIRST - timedelta(days=1)), ([], time(17), FIRST - timedelta(days=1))],
    ids=["nobody_collects", "ends_before_start", "both"],
)
def test_an_agreement_naming_nobody_or_ending_before_it_starts_is_refused(guardians, alone, ends_on):
    assert_refused(
        at("arranged"),
        lambda s: s.sign_agreement(meta(), "G1", guardians, alone, FIRST, ends_on),
        en.BadAgreementError,
        "bad_agreement",
    )


def test_the_agreement_is_signed_only_once():
    assert_refused(at("signed"), STEP["sign"], en.AgreementAlreadySignedError, "agreement_already_signed")


@pytest.mark.parametrize("name", ["not_applied", "applied", "class_approved", "class_rejected", "school_rejected"])
def test_the_agreement_is_signed_only_after_school_approval(name):
    assert_refused(at(name), STEP["sign"], en.WrongStageError, "wrong_enrolment_step")


# Withdrawal


@pytest.mark.parametrize("name", ["applied", "class_rejected", "signed"])
def test_withdraw_records_the_reason_and_ends_the_enrolment(name):
    event, after = one_step(at(name), STEP["withdraw"])
    assert (type(event), event.reason) == (ev.EnrolmentWithdrawn, "moved away")
    assert (after.stage, after.reason, after.approved) == (Stage.WITHDRAWN, "moved away", False)


@pytest.mark.parametrize("name", ["not_applied", "withdrawn"], ids=["before_applying", "twice"])
def test_withdraw_before_applying_or_twice_is_refused(name):
    assert_refused(at(name), STEP["withdraw"], en.WrongStageError, "wrong_enrolment_step")


# Who may be taken into care on a day


@pytest.mark.parametrize(
    ("name", "day", "why"),
    [
        ("not_applied", FIRST, "no application"),
        *[(name, FIRST, "not approved") for name in ("applied", "class_approved", "class_rejected", "school_rejected")],
        *[(name, FIRST, "agreement is not signed") for name in ("school_approved", "arranged")],
        ("withdrawn", FIRST, "withdrawn"),
        *[("signed", day, "does not cover") for day in (FIRST - timedelta(days=1), LAST + timedelta(days=1))],
    ],
)
def test_taking_into_care_is_refused_saying_why(name, day, why):
    error = assert_refused(at(name), lambda s: s.require_in_care_on(day), en.NotEnrolledError, "not_enrolled")
    assert why in str(error) and str(error).startswith("This child cannot be checked in: ")


@pytest.mark.parametrize("name", ["signed", "signed_unarranged"])
@pytest.mark.parametrize("day", [FIRST, LAST], ids=["first_day", "last_day"])
def test_taking_into_care_is_allowed_from_the_first_to_the_last_day_of_the_agreement(name, day):
    assert at(name).require_in_care_on(day) is None


# Events, versions, evolve


def test_every_event_carries_child_and_term_and_versions_rise_by_one():
    events = walk("withdrawn")[1]
    assert [e.originator_version for e in events] == [1, 2, 3, 4, 5, 6]
    for event in events:
        assert event.originator_id == enrolment_id(SCHOOL, CHILD, TERM)
        assert (event.school_id, event.child_id, event.term_id, event.actor_id) == (SCHOOL, CHILD, TERM, "a1")


def test_project_rebuilds_the_state_evolve_reaches():
    state, events = walk("withdrawn")
    assert project(None, events) == state
    assert project(None, []) is None


@pytest.mark.parametrize("name", list(PATHS))
@pytest.mark.parametrize("event", walk("withdrawn")[1], ids=lambda e: type(e).__name__)
def test_evolve_applies_any_event_to_any_state_without_raising(name, event):
    assert evolve(at(name), event).version == event.originator_version
