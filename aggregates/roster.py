"""A child's entry on the school roster (名册): home class, grade, homeroom teacher, and sealed name and sex."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date
from typing import TypedDict
from uuid import UUID

from aggregates.base import EventMeta, NotFoundError, RuleBrokenError, stamp, stream_id
from events.envelope import EventFields
from events.roster import (
    ChildAddedToRoster,
    ChildErased,
    ChildLeftRoster,
    ChildRosterEntryChanged,
    PhotoStored,
    RosterEvent,
)

CHILD_PHOTO = "child"
"""Whose photo: the child's own (a guardian's photo is under the guardian's id)."""


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


class NotInSchoolRecordsError(RuleBrokenError):
    """A child is taken into care only within the enrolment dates the school's records give."""

    code = "not_in_school_records"
    message = "This child cannot be checked in: {why}."


Dates = tuple[date | None, date | None]
"""The first and last day in the school's records; None: no limit."""


class EntryFields(TypedDict):
    """The fields a roster entry's added and changed events share."""

    home_class: str
    grade: int
    homeroom_teacher_id: str | None
    sealed: str
    starts_on: str | None
    ends_on: str | None
    source_id: str | None


def _fields(
    home_class: str, grade: int, teacher: str | None, sealed: str, dates: Dates, source_id: str | None
) -> EntryFields:
    starts_on, ends_on = (day.isoformat() if day else None for day in dates)
    return EntryFields(
        home_class=home_class,
        grade=grade,
        homeroom_teacher_id=teacher,
        sealed=sealed,
        starts_on=starts_on,
        ends_on=ends_on,
        source_id=source_id,
    )


def _read(written: str | None) -> date | None:
    return date.fromisoformat(written) if written else None


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
    left: bool = False
    starts_on: date | None = None
    ends_on: date | None = None
    source_id: str | None = None
    photos: frozenset[str] = frozenset()
    """Whose photos are stored: guardian ids, and CHILD_PHOTO for the child's own."""

    @property
    def on_roster(self) -> bool:
        """In the school's records now: added, and neither left nor erased."""
        return self.version > 0 and not self.left and not self.erased

    def in_records_on(self, day: date) -> bool:
        """Within the enrolment dates the school's records give (a transfer student begins later); no dates: always."""
        return (self.starts_on is None or self.starts_on <= day) and (self.ends_on is None or day <= self.ends_on)

    def require_in_records_on(self, day: date) -> None:
        """Refuse a check-in, saying why, outside the enrolment dates the school's records give."""
        if self.starts_on and day < self.starts_on:
            raise NotInSchoolRecordsError(why=f"in the school's records, this child starts on {self.starts_on}")
        if self.ends_on and day > self.ends_on:
            raise NotInSchoolRecordsError(
                why=f"in the school's records, this child's enrolment ended on {self.ends_on}"
            )

    @classmethod
    def absent(cls, school_id: str, child_id: str) -> RosterEntry:
        return cls(roster_entry_id(school_id, child_id), 0, school_id, child_id)

    def add(
        self,
        meta: EventMeta,
        home_class: str,
        grade: int,
        homeroom_teacher_id: str | None = None,
        sealed: str = "",
        dates: Dates = (None, None),
        source_id: str | None = None,
    ) -> list[RosterEvent]:
        if self.version:
            raise ChildAlreadyOnRosterError
        fields = _fields(home_class, grade, homeroom_teacher_id, sealed, dates, source_id)
        return [ChildAddedToRoster(**self._stamp(meta), **fields)]

    def change(
        self,
        meta: EventMeta,
        home_class: str,
        grade: int,
        homeroom_teacher_id: str | None,
        sealed: str,
        dates: Dates = (None, None),
        source_id: str | None = None,
    ) -> list[RosterEvent]:
        """The school's records changed (a roster sync); a child who had left is back on the roster."""
        if not self.version:
            raise ChildNotFoundError
        if self.erased:
            raise ChildAlreadyErasedError
        fields = _fields(home_class, grade, homeroom_teacher_id, sealed, dates, source_id)
        return [ChildRosterEntryChanged(**self._stamp(meta), **fields)]

    def leave(self, meta: EventMeta, reason: str) -> list[RosterEvent]:
        """The child is gone from the school's records."""
        if not self.on_roster:
            raise ChildNotFoundError
        return [ChildLeftRoster(**self._stamp(meta), reason=reason)]

    def store_photo(self, meta: EventMeta, guardian_id: str | None, content_type: str, size: int) -> list[RosterEvent]:
        """Record a photo of the child (guardian_id None) or of a guardian; the service seals and keeps its bytes."""
        if self.erased:
            raise ChildAlreadyErasedError
        if not self.on_roster:
            raise ChildNotFoundError
        return [PhotoStored(**self._stamp(meta), guardian_id=guardian_id, content_type=content_type, size=size)]

    def erase(self, meta: EventMeta, reason: str) -> list[RosterEvent]:
        """Record the erasure; the service destroys the child's key."""
        if self.erased:
            raise ChildAlreadyErasedError
        return [ChildErased(**self._stamp(meta), reason=reason)]

    def _stamp(self, meta: EventMeta) -> EventFields[RosterEvent]:
        return {**stamp(self.id, self.version, meta), "child_id": self.child_id}


def evolve(state: RosterEntry, event: RosterEvent) -> RosterEntry:
    """Apply one event. Never raises, never decides."""
    state = replace(state, version=event.originator_version)
    match event:
        case ChildAddedToRoster() | ChildRosterEntryChanged():  # a change also puts a child who had left back
            return replace(
                state,
                home_class=event.home_class,
                grade=event.grade,
                homeroom_teacher_id=event.homeroom_teacher_id,
                sealed=event.sealed,
                left=False,
                starts_on=_read(event.starts_on),
                ends_on=_read(event.ends_on),
                source_id=event.source_id,
            )
        case ChildLeftRoster():
            return replace(state, left=True)
        case PhotoStored():
            return replace(state, photos=state.photos | {event.guardian_id or CHILD_PHOTO})
        case ChildErased():
            return replace(state, erased=True, photos=frozenset())
    return state


def project(state: RosterEntry | None, events: Iterable[RosterEvent]) -> RosterEntry | None:
    for event in events:
        state = evolve(state or RosterEntry.absent(event.school_id, event.child_id), event)
    return state
