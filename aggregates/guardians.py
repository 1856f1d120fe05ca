"""Who may collect a child: authorised guardians (possibly time-bounded) and self-release permission.

The aggregate version rises on every change; releases record the version they relied on."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, time
from uuid import UUID

from aggregates.base import EventMeta, InvalidCommandError, NotFoundError, RuleBrokenError, stamp, stream_id
from events.envelope import EventFields
from events.guardians import (
    GuardianAuthorisationRevoked,
    GuardianAuthorised,
    GuardiansEvent,
    PersonFlagged,
    PersonFlagLifted,
    PickupCodeChanged,
    SelfReleaseAllowed,
    SelfReleaseWithdrawn,
)


class GuardianAlreadyAuthorisedError(RuleBrokenError):
    """The person is already on the child's authorised list."""

    code = "guardian_already_authorised"
    message = "This guardian is already authorised to collect the child."


class GuardianNotFoundError(NotFoundError):
    """The person is not on the child's authorised list."""

    code = "guardian_not_found"
    message = "This guardian is not on the child's list of authorised guardians."


class GuardianNotOnListError(InvalidCommandError):
    """An agreement names only guardians already on the child's list."""

    code = "guardian_not_on_list"
    message = "Add {guardian_id} to the child's guardians before naming them in the agreement."


class PersonIsFlaggedError(RuleBrokenError):
    """A flagged person cannot be authorised, nor flagged twice."""

    code = "person_flagged"
    message = "This person is flagged as not allowed to collect the child."


class PersonNotFlaggedError(NotFoundError):
    """Only a flag that exists can be lifted."""

    code = "person_not_flagged"
    message = "This person is not flagged for this child."


class BadAuthorisationPeriodError(InvalidCommandError):
    """The authorisation ends before it starts."""

    code = "bad_authorisation_period"
    message = "The authorisation must not end before it starts."


def guardians_id(school_id: str, child_id: str) -> UUID:
    return stream_id("guardians", school_id, child_id)


@dataclass(frozen=True)
class Authorisation:
    """One guardian's standing permission to collect the child."""

    guardian_id: str
    relation: str
    pickup_code_hash: str
    valid_from: date | None
    valid_until: date | None
    photo_ref: str | None = None
    sealed: str = ""

    def holds_on(self, day: date) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_until is None or day <= self.valid_until
        )


@dataclass(frozen=True)
class Guardians:
    """The child's authorised guardians and self-release permission, at one version."""

    id: UUID
    version: int
    school_id: str
    child_id: str
    authorisations: dict[str, Authorisation] = field(default_factory=dict)
    self_release_not_before: time | None = None
    flagged: frozenset[str] = frozenset()
    """People who must never collect the child."""

    @classmethod
    def empty(cls, school_id: str, child_id: str) -> Guardians:
        return cls(id=guardians_id(school_id, child_id), version=0, school_id=school_id, child_id=child_id)

    def is_authorised(self, guardian_id: str, day: date) -> bool:
        """Whether this person may collect the child on the given service day (never a flagged person)."""
        found = self.authorisations.get(guardian_id)
        return guardian_id not in self.flagged and found is not None and found.holds_on(day)

    def require_listed(self, guardian_id: str) -> None:
        """Refuse a person who is not on the child's list (e.g. told about an incident)."""
        if guardian_id not in self.authorisations:
            raise GuardianNotFoundError

    def require_all_listed(self, guardian_ids: Iterable[str]) -> None:
        """Refuse an agreement that names anyone not yet on the child's list."""
        for guardian_id in sorted(set(guardian_ids)):
            if guardian_id not in self.authorisations:
                raise GuardianNotOnListError(guardian_id=guardian_id)

    def is_flagged(self, person_id: str) -> bool:
        return person_id in self.flagged

    def pickup_code_matches(self, guardian_id: str, code_hash: str) -> bool:
        found = self.authorisations.get(guardian_id)
        return found is not None and found.pickup_code_hash == code_hash

    def may_leave_alone_at(self, local_time: time) -> bool:
        return self.self_release_not_before is not None and local_time >= self.self_release_not_before

    def has_pickup_arrangement(self, day: date) -> bool:
        """Someone may collect the child that day, or the child may leave alone."""
        held = any(a.holds_on(day) for a in self.authorisations.values())
        return held or self.self_release_not_before is not None

    # Decisions

    def authorise(
        self,
        meta: EventMeta,
        guardian_id: str,
        relation: str,
        pickup_code_hash: str,
        valid_from: date | None = None,
        valid_until: date | None = None,
        photo_ref: str | None = None,
        sealed: str = "",
    ) -> list[GuardiansEvent]:
        if guardian_id in self.authorisations:
            raise GuardianAlreadyAuthorisedError
        if guardian_id in self.flagged:
            raise PersonIsFlaggedError
        if valid_from and valid_until and valid_until < valid_from:
            raise BadAuthorisationPeriodError
        return [
            GuardianAuthorised(
                **self._stamp(meta),
                guardian_id=guardian_id,
                relation=relation,
                pickup_code_hash=pickup_code_hash,
                valid_from=valid_from.isoformat() if valid_from else None,
                valid_until=valid_until.isoformat() if valid_until else None,
                photo_ref=photo_ref,
                sealed=sealed,
            )
        ]

    def revoke(self, meta: EventMeta, guardian_id: str, reason: str) -> list[GuardiansEvent]:
        if guardian_id not in self.authorisations:
            raise GuardianNotFoundError
        return [GuardianAuthorisationRevoked(**self._stamp(meta), guardian_id=guardian_id, reason=reason)]

    def change_pickup_code(self, meta: EventMeta, guardian_id: str, code_hash: str) -> list[GuardiansEvent]:
        """Give an authorised guardian a new pickup code; the old one stops working."""
        if guardian_id not in self.authorisations:
            raise GuardianNotFoundError
        return [PickupCodeChanged(**self._stamp(meta), guardian_id=guardian_id, pickup_code_hash=code_hash)]

    def flag(self, meta: EventMeta, person_id: str, reason: str, sealed: str) -> list[GuardiansEvent]:
        """Flag a person who must never collect the child; any authorisation of theirs stops holding."""
        if person_id in self.flagged:
            raise PersonIsFlaggedError
        return [PersonFlagged(**self._stamp(meta), person_id=person_id, reason=reason, sealed=sealed)]

    def lift_flag(self, meta: EventMeta, person_id: str, reason: str) -> list[GuardiansEvent]:
        if person_id not in self.flagged:
            raise PersonNotFlaggedError
        return [PersonFlagLifted(**self._stamp(meta), person_id=person_id, reason=reason)]

    def allow_self_release(self, meta: EventMeta, not_before: time) -> list[GuardiansEvent]:
        return [SelfReleaseAllowed(**self._stamp(meta), not_before=not_before.isoformat(timespec="seconds"))]

    def withdraw_self_release(self, meta: EventMeta) -> list[GuardiansEvent]:
        if self.self_release_not_before is None:
            return []
        return [SelfReleaseWithdrawn(**self._stamp(meta))]

    def _stamp(self, meta: EventMeta) -> EventFields[GuardiansEvent]:
        return {**stamp(self.id, self.version, meta), "child_id": self.child_id}


def evolve(state: Guardians, event: GuardiansEvent) -> Guardians:
    """Apply one event. Never raises, never decides: it runs again on every replay."""
    state = replace(state, version=event.originator_version)
    match event:
        case GuardianAuthorised():
            authorisation = Authorisation(
                guardian_id=event.guardian_id,
                relation=event.relation,
                pickup_code_hash=event.pickup_code_hash,
                valid_from=date.fromisoformat(event.valid_from) if event.valid_from else None,
                valid_until=date.fromisoformat(event.valid_until) if event.valid_until else None,
                photo_ref=event.photo_ref,
                sealed=event.sealed,
            )
            return replace(state, authorisations={**state.authorisations, event.guardian_id: authorisation})
        case GuardianAuthorisationRevoked():
            remaining = {k: v for k, v in state.authorisations.items() if k != event.guardian_id}
            return replace(state, authorisations=remaining)
        case PickupCodeChanged() if event.guardian_id in state.authorisations:
            changed = replace(state.authorisations[event.guardian_id], pickup_code_hash=event.pickup_code_hash)
            return replace(state, authorisations={**state.authorisations, event.guardian_id: changed})
        case PersonFlagged():
            return replace(state, flagged=state.flagged | {event.person_id})
        case PersonFlagLifted():
            return replace(state, flagged=state.flagged - {event.person_id})
        case SelfReleaseAllowed():
            return replace(state, self_release_not_before=time.fromisoformat(event.not_before))
        case SelfReleaseWithdrawn():
            return replace(state, self_release_not_before=None)
    return state


def project(state: Guardians | None, events: Iterable[GuardiansEvent]) -> Guardians | None:
    """Rebuild the guardian list from its events (the repository's projector function)."""
    for event in events:
        if state is None:
            state = Guardians.empty(event.school_id, event.child_id)
        state = evolve(state, event)
    return state


def weak_pickup_code(code: str) -> bool:
    """A code anyone would try first: one digit repeated (0000), digits in steps of one or two (1234, 9876, 2468,
    7890), or a repeated block (1212, 123123)."""
    digits = [int(d) for d in code]
    steps = {(b - a) % 10 for a, b in zip(digits, digits[1:], strict=False)}
    if len(steps) <= 1 and steps <= {0, 1, 2, 8, 9}:
        return True
    return any(len(code) % n == 0 and code == code[:n] * (len(code) // n) for n in range(1, len(code) // 2 + 1))
