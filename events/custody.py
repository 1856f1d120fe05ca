"""Custody of one child on one service day. Ids only: never names or phone numbers."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from events.envelope import HandoffEvent


class Status(StrEnum):
    """Where a child's custody stands on a service day."""

    EXPECTED = "expected"
    IN_CARE = "in_care"
    RELEASED = "released"
    ABSENT = "absent"


class CustodyEvent(HandoffEvent):
    """An event in a child's custody stream for one service day."""

    child_id: str
    """The child's reference in the school roster."""
    service_day: str
    """The school's local date (ISO), which never splits at UTC midnight."""


class ChildCheckedIn(CustodyEvent):
    """The child was handed into after-school care and counted."""

    custodian_id: str
    """Staff member who took the child into care."""
    place_code: str
    """Temporary class or venue the child was checked in to."""
    handed_over_by: str | None
    """Homeroom teacher who handed the child over, when known."""


class ChildTransferred(CustodyEvent):
    """A two-party handover from one responsible adult and place to another."""

    from_custodian_id: str
    from_place_code: str
    to_custodian_id: str
    to_place_code: str


class GuardianArrived(CustodyEvent):
    """An authorised guardian arrived and was verified against the authorised list."""

    guardian_id: str
    verification: str
    """How the guardian was verified: pickup_code or id_document."""
    authorisation_version: int
    """Version of the child's guardian authorisations the check relied on."""


class GuardianAndChildConfirmed(CustodyEvent):
    """The guardian recognised the child and the child the guardian, in front of a teacher."""

    guardian_id: str
    guardian_recognised_child: bool
    child_recognised_guardian: bool
    witness_id: str
    """Staff member in front of whom both confirmations were given."""


class ChildReleased(CustodyEvent):
    """The child left care: with a confirmed, authorised guardian, or alone where the agreement allows."""

    guardian_id: str | None
    """The guardian the child left with; None for a self-release."""
    self_release: bool
    from_custodian_id: str
    authorisation_version: int
    """Version of the child's guardian authorisations that allowed the release."""
    emergency: bool
    """Released at a reunification point while the school was in emergency mode."""


class ChildMarkedAbsent(CustodyEvent):
    """The child was expected in care but is not there today."""

    reason: str


class ReleaseRefused(CustodyEvent):
    """A pickup was refused: the child stays in care."""

    guardian_id: str
    """Who tried to collect the child (as presented at the gate)."""
    stage: str
    """arrival, confirmation or release."""
    reason_code: str
    """Stable code of the reason, e.g. guardian_not_authorised."""
    authorisation_version: int


@dataclass(frozen=True)
class CustodyState:
    """A child's custody as people read it: status, who has them and where, who is at the gate, how they left. The
    custody a correction restores, and (with the child and the version) what answers and replay show of it."""

    status: Status
    custodian_id: str | None
    place_code: str | None
    arrived_guardians: list[str]
    confirmed_guardian_id: str | None
    released_to: str | None
    self_released: bool


class CustodyCorrected(CustodyEvent, CustodyState):
    """The latest record was a mistake: it is kept, and this one restores the custody as it was before it (its
    CustodyState fields)."""

    voids_version: int
    """Version of the mistaken event in this stream (it stays in the log, marked as corrected)."""
    voids_type: str
    reason: str


class PickupCodeEntryLocked(CustodyEvent):
    """Too many wrong pickup codes for this child today: code entry is locked until a duty leader lifts it."""

    wrong_codes: int


class PickupCodeEntryUnlocked(CustodyEvent):
    """A duty leader lifted the pickup-code lock."""

    reason: str


class ConfirmationMismatchReviewed(CustodyEvent):
    """A duty leader reviewed a failed mutual confirmation; that guardian may confirm again."""

    guardian_id: str
    """The guardian whose confirmation with the child had failed."""
    reason: str
    """What the duty leader found."""
