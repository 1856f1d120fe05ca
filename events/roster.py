"""The school roster (名册): which children the school has, by home class and grade. Names only sealed."""

from __future__ import annotations

from events.envelope import HandoffEvent


class RosterEvent(HandoffEvent):
    """An event in a child's roster stream."""

    child_id: str


class ChildAddedToRoster(RosterEvent):
    """A child is on the school's roster."""

    home_class: str
    """Home class (原班级) code, e.g. 3-2."""
    grade: int
    homeroom_teacher_id: str | None
    sealed: str
    """Sealed with the child's key: name and sex; empty when the roster gave none."""


class ChildRosterEntryChanged(RosterEvent):
    """The school's records changed: the child's home class, grade, homeroom teacher, or sealed name and details."""

    home_class: str
    grade: int
    homeroom_teacher_id: str | None
    sealed: str
    """Sealed with the child's key: name, its parts, sex and birth date; empty when the roster gave none."""


class ChildLeftRoster(RosterEvent):
    """The child is no longer in the school's records (left the school); the history stays."""

    reason: str


class ChildErased(RosterEvent):
    """The child's key was destroyed: their personal data can no longer be read anywhere (PIPL erasure)."""

    reason: str
