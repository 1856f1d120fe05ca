"""A temporary class (临时班) of a term: its temporary-class teacher, venue and children, never more than 40."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from uuid import UUID

from aggregates.base import EventMeta, InvalidCommandError, RuleBrokenError, stamp, stream_id
from aggregates.class_forming import FormedClass
from events.envelope import EventFields, HandoffEvent
from events.planning import (
    ChildMovedIntoClass,
    ChildMovedOutOfClass,
    ClassTeacherAssigned,
    TemporaryClassEvent,
    TemporaryClassFormed,
)

CLASS_LIMIT = 40


class NoStaffGivenError(InvalidCommandError):
    """Forming classes needs at least one teacher and one venue."""

    code = "no_teachers_or_venues"
    message = "Give at least one temporary-class teacher and one venue."


@dataclass(frozen=True)
class ClassPlan:
    """A formed class with its term code (T01, T02, …), labels, teacher and venue."""

    code: str
    label_zh: str
    label_en: str
    teacher_id: str
    venue: str
    formed: FormedClass


def plan_classes(formed: Sequence[FormedClass], teachers: Sequence[str], venues: Sequence[str]) -> list[ClassPlan]:
    """Number the formed classes T01, T02, … and give them teachers and venues in turn (round robin)."""
    if not teachers or not venues:
        raise NoStaffGivenError
    return [
        ClassPlan(
            f"T{n + 1:02d}",
            f"临时{n + 1}班",
            f"Temporary class {n + 1}",
            teachers[n % len(teachers)],
            venues[n % len(venues)],
            group,
        )
        for n, group in enumerate(formed)
    ]


class ClassFullError(RuleBrokenError):
    """A temporary class never holds more than 40 children."""

    code = "class_full"
    message = "Temporary class {class_code} already has {limit} children."


class ClassAlreadyFormedError(RuleBrokenError):
    """A class code is formed once per term."""

    code = "class_already_formed"
    message = "Temporary class {class_code} is already formed for this term."


class NotInClassError(RuleBrokenError):
    """Only a child in the class can be moved out of it."""

    code = "not_in_class"
    message = "This child is not in temporary class {class_code}."


@dataclass(frozen=True)
class TemporaryClass:
    """One temporary class of a term: its teacher, venue and children (at most 40)."""

    id: UUID
    version: int
    term_id: str
    class_code: str
    teacher_id: str = ""
    venue: str = ""
    children: frozenset[str] = field(default_factory=frozenset)
    how: str = ""

    @classmethod
    def of(cls, school_id: str, term_id: str, class_code: str) -> TemporaryClass:
        return cls(stream_id("temporary-class", school_id, term_id, class_code), 0, term_id, class_code)

    def form(
        self, meta: EventMeta, teacher_id: str, venue: str, children: Sequence[str], how: str
    ) -> list[HandoffEvent]:
        if self.version:
            raise ClassAlreadyFormedError(class_code=self.class_code)
        if len(set(children)) > CLASS_LIMIT:
            raise ClassFullError(class_code=self.class_code, limit=CLASS_LIMIT)
        return [
            TemporaryClassFormed(
                **self._stamp(meta), teacher_id=teacher_id, venue=venue, children=sorted(set(children)), how=how
            )
        ]

    def move_in(self, meta: EventMeta, child_id: str) -> list[HandoffEvent]:
        if len(self.children - {child_id}) >= CLASS_LIMIT:
            raise ClassFullError(class_code=self.class_code, limit=CLASS_LIMIT)
        return [ChildMovedIntoClass(**self._stamp(meta), child_id=child_id)]

    def move_out(self, meta: EventMeta, child_id: str) -> list[HandoffEvent]:
        if child_id not in self.children:
            raise NotInClassError(class_code=self.class_code)
        return [ChildMovedOutOfClass(**self._stamp(meta), child_id=child_id)]

    def assign_teacher(self, meta: EventMeta, teacher_id: str) -> list[HandoffEvent]:
        return [ClassTeacherAssigned(**self._stamp(meta), teacher_id=teacher_id)]

    def _stamp(self, meta: EventMeta) -> EventFields[TemporaryClassEvent]:
        return {**stamp(self.id, self.version, meta), "term_id": self.term_id, "class_code": self.class_code}


def evolve(state: TemporaryClass, event: HandoffEvent) -> TemporaryClass:
    """Apply one event. Never raises, never decides."""
    state = replace(state, version=event.originator_version)
    match event:
        case TemporaryClassFormed():
            return replace(
                state, teacher_id=event.teacher_id, venue=event.venue, children=frozenset(event.children), how=event.how
            )
        case ChildMovedIntoClass():
            return replace(state, children=state.children | {event.child_id})
        case ChildMovedOutOfClass():
            return replace(state, children=state.children - {event.child_id})
        case ClassTeacherAssigned():
            return replace(state, teacher_id=event.teacher_id)
    return state


def project(state: TemporaryClass | None, events: Iterable[HandoffEvent]) -> TemporaryClass | None:
    for event in events:
        if state is None:
            state = TemporaryClass(
                event.originator_id, 0, getattr(event, "term_id", ""), getattr(event, "class_code", "")
            )
        state = evolve(state, event)
    return state
