"""A child's entry on the school roster (名册): home class and grade. Ids only; names come with enrolment."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from uuid import UUID

from aggregates.base import EventMeta, NotFoundError, RuleBrokenError, stream_id
from events.roster import ChildAddedToRoster


class ChildNotFoundError(NotFoundError):
    """The child is not on this school's roster."""

    code = "child_not_found"
    message = "There is no child with this number on the school roster."


class ChildAlreadyOnRosterError(RuleBrokenError):
    """A child is added to the roster once."""

    code = "child_already_on_roster"
    message = "This child is already on the school roster."


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

    @classmethod
    def absent(cls, school_id: str, child_id: str) -> RosterEntry:
        return cls(roster_entry_id(school_id, child_id), 0, school_id, child_id)

    def add(self, meta: EventMeta, home_class: str, grade: int) -> list[ChildAddedToRoster]:
        if self.version:
            raise ChildAlreadyOnRosterError
        return [
            ChildAddedToRoster(
                **meta.fields(),
                originator_id=self.id,
                originator_version=1,
                child_id=self.child_id,
                home_class=home_class,
                grade=grade,
            )
        ]


def evolve(state: RosterEntry, event: ChildAddedToRoster) -> RosterEntry:
    """Apply one event. Never raises, never decides."""
    return replace(state, version=event.originator_version, home_class=event.home_class, grade=event.grade)


def project(state: RosterEntry | None, events: Iterable[ChildAddedToRoster]) -> RosterEntry | None:
    for event in events:
        state = evolve(state or RosterEntry.absent(event.school_id, event.child_id), event)
    return state
