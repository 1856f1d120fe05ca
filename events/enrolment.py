"""Enrolment of one child for one term (家长申请 → 班级审核 → 学校复核 → 统筹安排), and the safety agreement.

Personal data (the applying guardian's notes, priority categories) is only ever stored sealed with the child's
own key; erasing the child destroys that key."""

from __future__ import annotations

from events.envelope import HandoffEvent


class EnrolmentEvent(HandoffEvent):
    """An event in a child's enrolment stream for one term."""

    child_id: str
    term_id: str


class CareApplied(EnrolmentEvent):
    """A guardian applied, in writing, for after-school care (家长申请). Participation is voluntary."""

    guardian_id: str
    days: list[str]
    """Weekdays asked for: mon, tue, wed, thu, fri."""
    release_batch: str
    """Code of the release batch (弹性离校) asked for."""
    self_release_requested: bool
    sealed: str
    """Sealed with the child's key: priority categories and the application's notes."""


class ApplicationReviewedByClass(EnrolmentEvent):
    """The homeroom teacher reviewed the application (班级审核)."""

    approved: bool
    reason: str


class ApplicationReviewedBySchool(EnrolmentEvent):
    """The school reviewed the application (学校复核)."""

    approved: bool
    reason: str


class ChildArranged(EnrolmentEvent):
    """The school arranged the child into care (统筹安排): the temporary class they normally join."""

    temporary_class: str


class SafetyAgreementSigned(EnrolmentEvent):
    """The guardian and the school signed the safety responsibility agreement (安全责任书)."""

    signed_by: str
    """The guardian who signed."""
    authorised_guardians: list[str]
    """Guardians the agreement names as allowed to collect the child."""
    leave_alone_from: str | None
    """Local time (HH:MM:SS) from which the child may leave alone; None if never."""
    starts_on: str
    ends_on: str
    """Dates (ISO) the agreement covers."""


class EnrolmentWithdrawn(EnrolmentEvent):
    """The child no longer takes part in after-school care this term."""

    reason: str
