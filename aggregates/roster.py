"""A child's entry on the school roster (名册): home class, grade, homeroom teacher, and sealed name and sex."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from uuid import UUID

from aggregates.base import EventMeta, NotFoundError, RuleBrokenError, Stamp, stamp, stream_id
from events.roster import ChildAddedToRoster, ChildErased, RosterEvent


class ChildStamp(Stamp):
    """The fields every event of this stream carries."""

    child_id: str


class ChildNotFoundError(NotFoundError):
    """The child is not on this school's roster."""

    code = "child_not_found"
    message = "There is no child with this number on the school roster."


class ChildAlreadyOnRosterError(RuleBrokenError):
    """A child is added to the roster once."""

    code = "child_already_on_roster"
    message = "This child is already on the school roster."


class ChildAlreadyErasedError(RuleBrokenError):
    """Erasure happens once."""

    code = "child_already_erased"
    message = "This child's personal data has already been erased."


def roster_entry_id(school_id: str, child_id: str) -> UUID:
    return stream_id("roster", school_id, child_id)


@dataclass(frozen=True)
class RosterEntry:
    id: UUID
    version: int
    school_id: str
    child_id: str
    home_class: str = ""
    grade: int = 0
    homeroom_teacher_id: str | None = None
    sealed: str = ""
    erased: bool = False

    @classmethod
    def absent(cls, school_id: str, child_id: str) -> RosterEntry:
        return cls(roster_entry_id(school_id, child_id), 0, school_id, child_id)

    def add(
        self, meta: EventMeta, home_class: str, grade: int, homeroom_teacher_id: str | None = None, sealed: str = ""
    ) -> list[RosterEvent]:
        if self.version:
            raise ChildAlreadyOnRosterError
        return [
            ChildAddedToRoster(
                **self._stamp(meta),
                home_class=home_class,
                grade=grade,
                homeroom_teacher_id=homeroom_teacher_id,
                sealed=sealed,
            )
        ]

    def erase(self, meta: EventMeta, reason: str) -> list[RosterEvent]:
        """Record the erasure; the service destroys the child's key."""
        if self.erased:
            raise ChildAlreadyErasedError
        return [ChildErased(**self._stamp(meta), reason=reason)]

    def _stamp(self, meta: EventMeta) -> ChildStamp:
        return {**stamp(self.id, self.version, meta), "child_id": self.child_id}


def evolve(state: RosterEntry, event: RosterEvent) -> RosterEntry:
    """Apply one event. Never raises, never decides."""
    state = replace(state, version=event.originator_version)
    match event:
        case ChildAddedToRoster():
            return replace(
                state,
                home_class=event.home_class,
                grade=event.grade,
                homeroom_teacher_id=event.homeroom_teacher_id,
                sealed=event.sealed,
            )
        case ChildErased():
            return replace(state, erased=True)
    return state


def project(state: RosterEntry | None, events: Iterable[RosterEvent]) -> RosterEntry | None:
    for event in events:
        state = evolve(state or RosterEntry.absent(event.school_id, event.child_id), event)
    return state
