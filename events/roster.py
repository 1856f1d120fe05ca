"""The school roster (名册): which children the school has, by home class and grade. Ids only."""

from __future__ import annotations

from events.envelope import HandoffEvent


class ChildAddedToRoster(HandoffEvent):
    """A child is on the school's roster."""

    child_id: str
    home_class: str
    """Home class (原班级) code, e.g. 3-2."""
    grade: int
