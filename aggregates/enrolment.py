"""Enrolment of one child for one term: application, class review, school review, arrangement, safety agreement,
withdrawal. Only a child whose application the school approved and whose agreement is signed is taken into care.
Nothing enrols a child automatically: every step is a person's decision."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, time
from enum import StrEnum
from uuid import UUID

from aggregates.base import EventMeta, InvalidCommandError, RuleBrokenError, stamp, stream_id
from events.enrolment import (
    ApplicationReviewedByClass,
    ApplicationReviewedBySchool,
    CareApplied,
    ChildArranged,
    EnrolmentEvent,
    EnrolmentWithdrawn,
    SafetyAgreementSigned,
)
from events.envelope import EventFields

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")
PRIORITY_CATEGORIES = ("disability", "left_behind", "migrant_worker_family", "financial_difficulty")
"""残疾儿童、留守儿童、随迁子女、家庭经济困难学生: sensitive, shown to admins only (the event holds them sealed)."""


class Stage(StrEnum):
    NOT_APPLIED = "not_applied"
    APPLIED = "applied"
    CLASS_APPROVED = "class_approved"
    CLASS_REJECTED = "class_rejected"
    SCHOOL_APPROVED = "school_approved"
    SCHOOL_REJECTED = "school_rejected"
    ARRANGED = "arranged"
    WITHDRAWN = "withdrawn"


class AlreadyAppliedError(RuleBrokenError):
    """A child applies once per term."""

    code = "already_applied"
    message = "An application for this child and term already exists."


class WrongStageError(RuleBrokenError):
    """Each step follows the one before it: apply, class review, school review, arrangement."""

    code = "wrong_enrolment_step"
    message = "This step is not possible now: the application is at stage '{stage}'."


class BadDaysError(InvalidCommandError):
    """Days are weekdays, at least one."""

    code = "bad_days"
    message = "Choose at least one weekday: mon, tue, wed, thu, fri."


class AgreementAlreadySignedError(RuleBrokenError):
    """The safety agreement is signed once per term."""

    code = "agreement_already_signed"
    message = "The safety agreement for this term is already signed."


class BadAgreementError(InvalidCommandError):
    """An agreement names at least one guardian, or lets the child leave alone, and ends after it starts."""

    code = "bad_agreement"
    message = (
        "The agreement must name who collects the child (or let the child leave alone) and not end before it starts."
    )


class UnknownPriorityCategoryError(InvalidCommandError):
    """Priority categories are the four the policy names."""

    code = "unknown_priority_category"
    message = "Priority categories are: disability, left_behind, migrant_worker_family, financial_difficulty."


class NotEnrolledError(RuleBrokenError):
    """Only an approved child with a signed safety agreement is taken into care."""

    code = "not_enrolled"
    message = "This child cannot be checked in: {why}."


def enrolment_id(school_id: str, child_id: str, term_id: str) -> UUID:
    return stream_id("enrolment", school_id, child_id, term_id)


@dataclass(frozen=True)
class Agreement:
    signed_by: str
    authorised_guardians: tuple[str, ...]
    leave_alone_from: time | None
    starts_on: date
    ends_on: date


@dataclass(frozen=True)
class Enrolment:
    """Where one child's enrolment for one term stands."""

    id: UUID
    version: int
    school_id: str
    child_id: str
    term_id: str
    stage: Stage = Stage.NOT_APPLIED
    days: tuple[str, ...] = ()
    release_batch: str = ""
    self_release_requested: bool = False
    temporary_class: str | None = None
    agreement: Agreement | None = None
    sealed: str = ""
    reason: str = ""

    @classmethod
    def none(cls, school_id: str, child_id: str, term_id: str) -> Enrolment:
        return cls(enrolment_id(school_id, child_id, term_id), 0, school_id, child_id, term_id)

    @property
    def approved(self) -> bool:
        return self.stage in (Stage.SCHOOL_APPROVED, Stage.ARRANGED)

    def require_in_care_on(self, day: date) -> None:
        """Refuse, saying why, unless the child may be taken into care on this day."""
        why = self._why_not_on(day)
        if why:
            raise NotEnrolledError(why=why)

    def _why_not_on(self, day: date) -> str | None:
        if self.stage is Stage.NOT_APPLIED:
            return "no application for after-school care this term"
        if self.stage is Stage.WITHDRAWN:
            return "withdrawn from after-school care"
        if not self.approved:
            return "the application is not approved"
        if self.agreement is None:
            return "the safety agreement is not signed"
        if not self.agreement.starts_on <= day <= self.agreement.ends_on:
            return "the safety agreement does not cover today"
        return None

    # Decisions

    def apply(
        self,
        meta: EventMeta,
        guardian_id: str,
        days: Iterable[str],
        release_batch: str,
        self_release: bool,
        sealed: str,
        priority: Iterable[str] = (),
    ) -> list[EnrolmentEvent]:
        """A guardian's application; `priority` is checked here and recorded only inside `sealed`."""
        if set(priority) - set(PRIORITY_CATEGORIES):
            raise UnknownPriorityCategoryError
        if self.stage is not Stage.NOT_APPLIED:
            raise AlreadyAppliedError
        asked = set(days)
        chosen = [d for d in WEEKDAYS if d in asked]
        if not chosen or asked - set(WEEKDAYS):
            raise BadDaysError
        return [
            CareApplied(
                **self._stamp(meta),
                guardian_id=guardian_id,
                days=chosen,
                release_batch=release_batch,
                self_release_requested=self_release,
                sealed=sealed,
            )
        ]

    def review_by_class(self, meta: EventMeta, approved: bool, reason: str) -> list[EnrolmentEvent]:
        self._require_stage(Stage.APPLIED)
        return [ApplicationReviewedByClass(**self._stamp(meta), approved=approved, reason=reason)]

    def review_by_school(self, meta: EventMeta, approved: bool, reason: str) -> list[EnrolmentEvent]:
        self._require_stage(Stage.CLASS_APPROVED)
        return [ApplicationReviewedBySchool(**self._stamp(meta), approved=approved, reason=reason)]

    def arrange(self, meta: EventMeta, temporary_class: str) -> list[EnrolmentEvent]:
        self._require_stage(Stage.SCHOOL_APPROVED, Stage.ARRANGED)
        return [ChildArranged(**self._stamp(meta), temporary_class=temporary_class)]

    def sign_agreement(
        self,
        meta: EventMeta,
        signed_by: str,
        guardians: Iterable[str],
        leave_alone_from: time | None,
        starts_on: date,
        ends_on: date,
    ) -> list[EnrolmentEvent]:
        self._require_stage(Stage.SCHOOL_APPROVED, Stage.ARRANGED)
        if self.agreement is not None:
            raise AgreementAlreadySignedError
        named = sorted(set(guardians))
        if (not named and leave_alone_from is None) or ends_on < starts_on:
            raise BadAgreementError
        return [
            SafetyAgreementSigned(
                **self._stamp(meta),
                signed_by=signed_by,
                authorised_guardians=named,
                leave_alone_from=leave_alone_from.isoformat(timespec="seconds") if leave_alone_from else None,
                starts_on=starts_on.isoformat(),
                ends_on=ends_on.isoformat(),
            )
        ]

    def withdraw(self, meta: EventMeta, reason: str) -> list[EnrolmentEvent]:
        if self.stage in (Stage.NOT_APPLIED, Stage.WITHDRAWN):
            raise WrongStageError(stage=self.stage.value)
        return [EnrolmentWithdrawn(**self._stamp(meta), reason=reason)]

    def _require_stage(self, *allowed: Stage) -> None:
        if self.stage not in allowed:
            raise WrongStageError(stage=self.stage.value)

    def _stamp(self, meta: EventMeta) -> EventFields[EnrolmentEvent]:
        return {**stamp(self.id, self.version, meta), "child_id": self.child_id, "term_id": self.term_id}


def evolve(state: Enrolment, event: EnrolmentEvent) -> Enrolment:
    """Apply one event. Never raises, never decides."""
    state = replace(state, version=event.originator_version)
    match event:
        case CareApplied():
            return replace(
                state,
                stage=Stage.APPLIED,
                days=tuple(event.days),
                release_batch=event.release_batch,
                self_release_requested=event.self_release_requested,
                sealed=event.sealed,
            )
        case ApplicationReviewedByClass():
            stage = Stage.CLASS_APPROVED if event.approved else Stage.CLASS_REJECTED
            return replace(state, stage=stage, reason=event.reason)
        case ApplicationReviewedBySchool():
            stage = Stage.SCHOOL_APPROVED if event.approved else Stage.SCHOOL_REJECTED
            return replace(state, stage=stage, reason=event.reason)
        case ChildArranged():
            return replace(state, stage=Stage.ARRANGED, temporary_class=event.temporary_class)
        case SafetyAgreementSigned():
            return replace(state, agreement=_agreement(event))
        case EnrolmentWithdrawn():
            return replace(state, stage=Stage.WITHDRAWN, reason=event.reason)
    return state


def _agreement(event: SafetyAgreementSigned) -> Agreement:
    alone = time.fromisoformat(event.leave_alone_from) if event.leave_alone_from else None
    return Agreement(
        event.signed_by,
        tuple(event.authorised_guardians),
        alone,
        date.fromisoformat(event.starts_on),
        date.fromisoformat(event.ends_on),
    )


def project(state: Enrolment | None, events: Iterable[EnrolmentEvent]) -> Enrolment | None:
    for event in events:
        state = evolve(state or Enrolment.none(event.school_id, event.child_id, event.term_id), event)
    return state
