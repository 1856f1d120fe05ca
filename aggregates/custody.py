"""Custody of one child on one service day: the handoff rules (无缝衔接).

Statuses: expected (nothing recorded yet) → in care → released, or expected → absent. An absent child who turns
up late may still be checked in. Release is final for the service day: a child is never readmitted the same
day, so there is never a second release (a child who comes back is a matter for the duty leader).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, time
from typing import Any
from uuid import UUID

from aggregates.base import EventMeta, ForbiddenError, InvalidCommandError, RuleBrokenError, stamp, stream_id
from aggregates.enrolment import Enrolment
from aggregates.guardians import Guardians
from aggregates.permissions import may
from aggregates.staff import Role
from events.custody import (
    ChildCheckedIn,
    ChildMarkedAbsent,
    ChildReleased,
    ChildTransferred,
    ConfirmationMismatchReviewed,
    CustodyCorrected,
    CustodyEvent,
    GuardianAndChildConfirmed,
    GuardianArrived,
    PickupCodeEntryLocked,
    PickupCodeEntryUnlocked,
    ReleaseRefused,
    Status,
)
from events.envelope import EventFields


class ChildAlreadyInCareError(RuleBrokenError):
    """A child is checked in at most once a day."""

    code = "child_already_in_care"
    message = "This child is already checked in to after-school care today."


class ChildAlreadyReleasedError(RuleBrokenError):
    """After release nothing more happens to the child that day."""

    code = "child_already_released"
    message = "This child has already been released today."


class ChildNotInCareError(RuleBrokenError):
    """Transfers, arrivals, confirmations and releases need the child in care."""

    code = "child_not_in_care"
    message = "This child is not in after-school care right now."


class ChildAlreadyMarkedError(RuleBrokenError):
    """Only a child not yet seen today can be marked absent."""

    code = "child_cannot_be_marked_absent"
    message = "This child cannot be marked absent: they are already {status} today."


class NoPickupArrangementError(RuleBrokenError):
    """A child is taken into care only if someone may collect them, or they may leave alone."""

    code = "no_pickup_arrangement"
    message = "Nobody is authorised to collect this child today, so they cannot be checked in."


class NotCurrentCustodianError(ForbiddenError):
    """Only the adult who has the child, or a duty leader, may hand the child on."""

    code = "not_current_custodian"
    message = "Only the teacher who has this child now, or a duty leader, can do this."


class TransferToSameError(InvalidCommandError):
    """A transfer must change the responsible adult or the place."""

    code = "transfer_changes_nothing"
    message = "The child is already with this adult at this place."


class UnknownVerificationError(InvalidCommandError):
    """A guardian is verified by pickup code or by an identity document."""

    code = "unknown_verification"
    message = "Verify the guardian by pickup code or by identity document."


VERIFICATIONS = ("pickup_code", "id_document")


class GuardianAlreadyArrivedError(RuleBrokenError):
    """A guardian's arrival is registered once."""

    code = "guardian_already_arrived"
    message = "This guardian's arrival is already registered."


class GuardianNotArrivedError(RuleBrokenError):
    """Confirmation comes only after that guardian's arrival."""

    code = "guardian_not_arrived"
    message = "Register this guardian's arrival at the gate before the confirmation."


class AlreadyConfirmedError(RuleBrokenError):
    """Guardian and child confirm each other once."""

    code = "already_confirmed"
    message = "This guardian and child have already confirmed each other."


class NotConfirmedError(RuleBrokenError):
    """Release comes only after guardian and child confirmed each other."""

    code = "not_confirmed"
    message = "The guardian and the child must confirm each other in front of the teacher before release."


class SelfReleaseNotAllowedError(RuleBrokenError):
    """Only a child whose agreement allows it may leave alone."""

    code = "self_release_not_allowed"
    message = "This child may not leave alone: wait for an authorised guardian."


class TooEarlyForSelfReleaseError(RuleBrokenError):
    """Self-release only at or after the agreed time."""

    code = "too_early_for_self_release"
    message = "This child may leave alone only from {not_before}."


class NothingToCorrectError(RuleBrokenError):
    """Only the latest record of a child's day is corrected, and a correction is not corrected again."""

    code = "nothing_to_correct"
    message = "Only the latest record of this child's day can be corrected, and not a correction itself."


WRONG_CODES_BEFORE_LOCK = 3


class PickupCodeLockedError(RuleBrokenError):
    """After three wrong pickup codes for a child, code entry is locked until a duty leader lifts it."""

    code = "pickup_code_locked"
    message = (
        "Pickup-code entry for this child is locked after repeated wrong codes. Check the guardian's identity "
        "document, or ask the duty leader to lift the lock."
    )


class OnlyDutyLeaderUnlocksError(ForbiddenError):
    """Only a duty leader lifts a pickup-code lock."""

    code = "only_duty_leader_unlocks"
    message = "Only a duty leader can lift the pickup-code lock."


class CodeEntryNotLockedError(RuleBrokenError):
    """Only a lock that is on can be lifted."""

    code = "code_entry_not_locked"
    message = "Pickup-code entry for this child is not locked."


class NoSelfReleaseInEmergencyError(RuleBrokenError):
    """In emergency mode every child is handed to an authorised guardian at the reunification point."""

    code = "no_self_release_in_emergency"
    message = "The school is in emergency mode: children do not leave alone. Hand the child to an authorised guardian."


class DayClosedError(RuleBrokenError):
    """A closed service day takes no child into care; children carried on by an open incident still leave."""

    code = "day_closed"
    message = "Today's after-school service is closed: no child can be checked in. Call the duty leader."


class ConfirmationUnderReviewError(RuleBrokenError):
    """After a failed mutual confirmation, that guardian may not collect the child until a duty leader reviews it."""

    code = "confirmation_under_review"
    message = (
        "This guardian and the child did not recognise each other earlier today. Do not release the child; a "
        "duty leader must review it first."
    )


class OnlyDutyLeaderReviewsError(ForbiddenError):
    """Only a duty leader reviews a failed mutual confirmation."""

    code = "only_duty_leader_reviews"
    message = "Only a duty leader can review a failed confirmation."


class NoMismatchToReviewError(RuleBrokenError):
    """Only a failed confirmation not yet reviewed can be reviewed."""

    code = "no_mismatch_to_review"
    message = "There is no failed confirmation of this guardian and child waiting for review."


def custody_id(school_id: str, child_id: str, service_day: date) -> UUID:
    return stream_id("custody", school_id, child_id, service_day.isoformat())


@dataclass(frozen=True)
class Custody:
    """Where one child is and who has them, on one service day."""

    id: UUID
    version: int
    school_id: str
    child_id: str
    service_day: date
    status: Status = Status.EXPECTED
    custodian_id: str | None = None
    place_code: str | None = None
    arrived_guardians: frozenset[str] = frozenset()
    confirmed_guardian_id: str | None = None
    released_to: str | None = None
    self_released: bool = False
    wrong_codes: int = 0
    """Wrong pickup codes since the day began or the last unlock."""
    code_entry_locked: bool = False
    corrected: frozenset[int] = frozenset()
    """Versions of records that a later correction voided; they stay in the log."""
    under_review: frozenset[tuple[str, int]] = frozenset()
    """Guardians whose mutual confirmation with the child failed and no duty leader has reviewed yet, each with the
    version of the refusal (a correction that voids that refusal lifts it too)."""

    def is_under_review(self, guardian_id: str) -> bool:
        return any(guardian == guardian_id for guardian, _ in self.under_review)

    @classmethod
    def expected(cls, school_id: str, child_id: str, service_day: date) -> Custody:
        return cls(custody_id(school_id, child_id, service_day), 0, school_id, child_id, service_day)

    # Decisions: each checks every rule first, then returns the events to record.

    def check_in(
        self,
        meta: EventMeta,
        custodian_id: str,
        place_code: str,
        handed_over_by: str | None,
        guardians: Guardians,
        enrolment: Enrolment,
        day_closed: bool = False,
    ) -> list[CustodyEvent]:
        """Take the child into care, with a named adult at a named place, never once the day has closed. A child not
        in care yet must be enrolled for today (approved, agreement signed and covering today); that is checked
        before the day's own state."""
        if self.status is not Status.IN_CARE:
            enrolment.require_in_care_on(self.service_day)
        self._refuse_unless_checkin_possible()
        if day_closed:
            raise DayClosedError
        if not guardians.has_pickup_arrangement(self.service_day):
            raise NoPickupArrangementError
        return [
            ChildCheckedIn(
                **self._stamp(meta), custodian_id=custodian_id, place_code=place_code, handed_over_by=handed_over_by
            )
        ]

    def transfer(self, meta: EventMeta, to_custodian_id: str, to_place_code: str) -> list[CustodyEvent]:
        """Hand the child from the current adult and place to another named adult and place."""
        self._require_in_care()
        self._require_custodian_or_duty_leader(meta)
        if (to_custodian_id, to_place_code) == (self.custodian_id, self.place_code):
            raise TransferToSameError
        return [
            ChildTransferred(
                **self._stamp(meta),
                from_custodian_id=self.custodian_id or "",
                from_place_code=self.place_code or "",
                to_custodian_id=to_custodian_id,
                to_place_code=to_place_code,
            )
        ]

    def register_arrival(
        self, meta: EventMeta, guardian_id: str, guardians: Guardians, verification: str, code_hash: str | None
    ) -> list[CustodyEvent]:
        """Check an arriving person against the authorised list; a person not on it produces a refusal."""
        if verification not in VERIFICATIONS:
            raise UnknownVerificationError
        self._require_in_care()
        if guardian_id in self.arrived_guardians:
            raise GuardianAlreadyArrivedError
        if guardians.is_flagged(guardian_id):
            return self._refusal(meta, guardian_id, "arrival", "person_flagged", guardians)
        if not guardians.is_authorised(guardian_id, self.service_day):
            return self._refusal(meta, guardian_id, "arrival", "guardian_not_authorised", guardians)
        if verification == "pickup_code" and self.code_entry_locked:
            raise PickupCodeLockedError
        if verification == "pickup_code" and not guardians.pickup_code_matches(guardian_id, code_hash or ""):
            return self._wrong_code(meta, guardian_id, guardians)
        return [
            GuardianArrived(
                **self._stamp(meta),
                guardian_id=guardian_id,
                verification=verification,
                authorisation_version=guardians.version,
            )
        ]

    def confirm(
        self,
        meta: EventMeta,
        guardian_id: str,
        guardian_recognised_child: bool,
        child_recognised_guardian: bool,
        guardians: Guardians,
    ) -> list[CustodyEvent]:
        """Record that guardian and child recognised each other in front of the teacher; a mismatch is refused."""
        self._require_in_care()
        if guardian_id not in self.arrived_guardians:
            raise GuardianNotArrivedError
        self._require_custodian_or_duty_leader(meta)
        if self.confirmed_guardian_id == guardian_id:
            raise AlreadyConfirmedError
        if self.is_under_review(guardian_id):
            raise ConfirmationUnderReviewError
        if not (guardian_recognised_child and child_recognised_guardian):
            return self._refusal(meta, guardian_id, "confirmation", "confirmation_mismatch", guardians)
        return [
            GuardianAndChildConfirmed(
                **self._stamp(meta),
                guardian_id=guardian_id,
                guardian_recognised_child=True,
                child_recognised_guardian=True,
                witness_id=meta.actor_id,
            )
        ]

    def release(
        self, meta: EventMeta, guardian_id: str, guardians: Guardians, emergency: bool = False
    ) -> list[CustodyEvent]:
        """Release the child to the confirmed guardian, if that guardian is still authorised now."""
        self._require_in_care()
        self._require_custodian_or_duty_leader(meta)
        if self.confirmed_guardian_id != guardian_id:
            raise NotConfirmedError
        if self.is_under_review(guardian_id):
            raise ConfirmationUnderReviewError
        if guardians.is_flagged(guardian_id):
            return self._refusal(meta, guardian_id, "release", "person_flagged", guardians)
        if not guardians.is_authorised(guardian_id, self.service_day):
            return self._refusal(meta, guardian_id, "release", "guardian_not_authorised", guardians)
        return [self._released(meta, guardian_id, guardians, emergency)]

    def release_alone(
        self, meta: EventMeta, guardians: Guardians, local_time: time, emergency: bool = False
    ) -> list[CustodyEvent]:
        """Let the child leave alone, where the agreement allows it and the agreed time has come (never in an
        emergency: every child is then handed to an authorised guardian at the reunification point)."""
        self._require_in_care()
        self._require_custodian_or_duty_leader(meta)
        if emergency:
            raise NoSelfReleaseInEmergencyError
        if guardians.self_release_not_before is None:
            raise SelfReleaseNotAllowedError
        if not guardians.may_leave_alone_at(local_time):
            raise TooEarlyForSelfReleaseError(
                not_before=guardians.self_release_not_before.isoformat(timespec="minutes")
            )
        return [self._released(meta, None, guardians)]

    def mark_absent(self, meta: EventMeta, reason: str) -> list[CustodyEvent]:
        """Record that a child expected in care is not there today."""
        if self.status is not Status.EXPECTED:
            raise ChildAlreadyMarkedError(status=self.status.value.replace("_", " "))
        return [ChildMarkedAbsent(**self._stamp(meta), reason=reason)]

    def unlock_code_entry(self, meta: EventMeta, reason: str) -> list[CustodyEvent]:
        """A duty leader lifts the pickup-code lock."""
        if not may(meta.actor_role, "unlock_code_entry"):
            raise OnlyDutyLeaderUnlocksError
        if not self.code_entry_locked:
            raise CodeEntryNotLockedError
        return [PickupCodeEntryUnlocked(**self._stamp(meta), reason=reason)]

    def review_mismatch(self, meta: EventMeta, guardian_id: str, reason: str) -> list[CustodyEvent]:
        """A duty leader reviews a failed mutual confirmation; only then may that guardian confirm again."""
        if meta.actor_role != "duty_leader":
            raise OnlyDutyLeaderReviewsError
        if not self.is_under_review(guardian_id):
            raise NoMismatchToReviewError
        return [ConfirmationMismatchReviewed(**self._stamp(meta), guardian_id=guardian_id, reason=reason)]

    def _wrong_code(self, meta: EventMeta, guardian_id: str, guardians: Guardians) -> list[CustodyEvent]:
        """A wrong code is a refusal; the third since the last unlock also locks code entry."""
        refused = self._refusal(meta, guardian_id, "arrival", "pickup_code_wrong", guardians)
        if self.wrong_codes + 1 < WRONG_CODES_BEFORE_LOCK:
            return refused
        after_refusal: EventFields[CustodyEvent] = {**self._stamp(meta), "originator_version": self.version + 2}
        locked = PickupCodeEntryLocked(**after_refusal, wrong_codes=self.wrong_codes + 1)
        return [*refused, locked]

    def correct(self, meta: EventMeta, voids: CustodyEvent, reason: str, before: Custody) -> list[CustodyEvent]:
        """Void the latest record (e.g. a check-in entered for the wrong child); `before` is the custody before it."""
        if self.version == 0 or voids.originator_version != self.version or isinstance(voids, CustodyCorrected):
            raise NothingToCorrectError
        return [
            CustodyCorrected(
                **self._stamp(meta),
                voids_version=voids.originator_version,
                voids_type=type(voids).__name__,
                reason=reason,
                status=before.status,
                custodian_id=before.custodian_id,
                place_code=before.place_code,
                arrived_guardians=sorted(before.arrived_guardians),
                confirmed_guardian_id=before.confirmed_guardian_id,
                released_to=before.released_to,
                self_released=before.self_released,
            )
        ]

    # Rules shared by several decisions

    def _refuse_unless_checkin_possible(self) -> None:
        if self.status is Status.IN_CARE:
            raise ChildAlreadyInCareError
        if self.status is Status.RELEASED:
            raise ChildAlreadyReleasedError

    def _require_in_care(self) -> None:
        if self.status is Status.RELEASED:
            raise ChildAlreadyReleasedError
        if self.status is not Status.IN_CARE:
            raise ChildNotInCareError

    def _require_custodian_or_duty_leader(self, meta: EventMeta) -> None:
        if meta.actor_id != self.custodian_id and meta.actor_role != Role.DUTY_LEADER:
            raise NotCurrentCustodianError

    def _released(
        self, meta: EventMeta, guardian_id: str | None, guardians: Guardians, emergency: bool = False
    ) -> ChildReleased:
        return ChildReleased(
            **self._stamp(meta),
            emergency=emergency,
            guardian_id=guardian_id,
            self_release=guardian_id is None,
            from_custodian_id=self.custodian_id or "",
            authorisation_version=guardians.version,
        )

    def _refusal(
        self, meta: EventMeta, guardian_id: str, stage: str, reason_code: str, guardians: Guardians
    ) -> list[CustodyEvent]:
        return [
            ReleaseRefused(
                **self._stamp(meta),
                guardian_id=guardian_id,
                stage=stage,
                reason_code=reason_code,
                authorisation_version=guardians.version,
            )
        ]

    def _stamp(self, meta: EventMeta) -> EventFields[CustodyEvent]:
        return {
            **stamp(self.id, self.version, meta),
            "child_id": self.child_id,
            "service_day": self.service_day.isoformat(),
        }


def evolve(state: Custody, event: CustodyEvent) -> Custody:
    """Apply one event. Never raises, never decides: it runs again on every replay."""
    return replace(state, version=event.originator_version, **changes(state, event))


def changes(state: Custody, event: CustodyEvent) -> dict[str, Any]:
    """What the event changes, as fields of the state (one `replace` per event; replay applies them to a mutable
    copy of the state, as it folds thousands of events)."""
    match event:
        case ChildCheckedIn():
            return {"status": Status.IN_CARE, "custodian_id": event.custodian_id, "place_code": event.place_code}
        case ChildTransferred():
            return {"custodian_id": event.to_custodian_id, "place_code": event.to_place_code}
        case GuardianArrived():
            return {"arrived_guardians": state.arrived_guardians | {event.guardian_id}}
        case GuardianAndChildConfirmed():
            return {"confirmed_guardian_id": event.guardian_id}
        case ChildReleased():
            return {
                "status": Status.RELEASED,
                "custodian_id": None,
                "released_to": event.guardian_id,
                "self_released": event.self_release,
            }
        case ChildMarkedAbsent():
            return {"status": Status.ABSENT}
        case ReleaseRefused() if event.reason_code == "pickup_code_wrong":
            return {"wrong_codes": state.wrong_codes + 1}
        case ReleaseRefused() if event.reason_code == "confirmation_mismatch":
            return {"under_review": state.under_review | {(event.guardian_id, event.originator_version)}}
        case ConfirmationMismatchReviewed():
            return {"under_review": frozenset(r for r in state.under_review if r[0] != event.guardian_id)}
        case PickupCodeEntryLocked():
            return {"code_entry_locked": True}
        case PickupCodeEntryUnlocked():
            return {"code_entry_locked": False, "wrong_codes": 0}
        case CustodyCorrected():
            return {
                "status": Status(event.status),
                "custodian_id": event.custodian_id,
                "place_code": event.place_code,
                "arrived_guardians": frozenset(event.arrived_guardians),
                "confirmed_guardian_id": event.confirmed_guardian_id,
                "released_to": event.released_to,
                "self_released": event.self_released,
                "corrected": state.corrected | {event.voids_version},
                "under_review": frozenset(r for r in state.under_review if r[1] != event.voids_version),
            }
    return {}


def project(state: Custody | None, events: Iterable[CustodyEvent]) -> Custody | None:
    """Rebuild custody from its events (the repository's projector function)."""
    for event in events:
        if state is None:
            state = Custody.expected(event.school_id, event.child_id, date.fromisoformat(event.service_day))
        state = evolve(state, event)
    return state


REFUSAL_MESSAGES = {
    "guardian_not_authorised": "This person is not on the child's authorised list today. Do not release the child; "
    "call the duty leader.",
    "pickup_code_wrong": "The pickup code is wrong. Do not release the child; check the guardian's identity again.",
    "person_flagged": "This person must not collect the child (flagged by the school). Do not release the child; "
    "call the duty leader at once.",
    "confirmation_mismatch": "The guardian and the child did not both recognise each other. Do not release the "
    "child; call the duty leader.",
}
"""Plain words for each recorded release refusal, by reason code."""
