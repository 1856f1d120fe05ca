"""The school roster (名册): which children the school has, by home class and grade. Names only sealed."""

from __future__ import annotations

from dataclasses import field

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
    starts_on: str | None = field(default=None, kw_only=True)
    """First day in the school's records (the homeroom enrolment's beginDate), YYYY-MM-DD; None: no limit, and on
    events recorded before it was kept."""
    ends_on: str | None = field(default=None, kw_only=True)
    """Last day in the school's records (the homeroom enrolment's endDate); None: no limit."""
    source_id: str | None = field(default=None, kw_only=True)
    """The child's id in the school's records system (OneRoster sourcedId), by which a delta may name them."""


class ChildRosterEntryChanged(RosterEvent):
    """The school's records changed: the child's home class, grade, homeroom teacher, or sealed name and details."""

    home_class: str
    grade: int
    homeroom_teacher_id: str | None
    sealed: str
    """Sealed with the child's key: name, its parts, sex and birth date; empty when the roster gave none."""
    starts_on: str | None = field(default=None, kw_only=True)
    """First day in the school's records, YYYY-MM-DD; None: no limit, and on events recorded before it was kept."""
    ends_on: str | None = field(default=None, kw_only=True)
    """Last day in the school's records; None: no limit."""
    source_id: str | None = field(default=None, kw_only=True)
    """The child's id in the school's records system (OneRoster sourcedId); None: not given."""


class ChildLeftRoster(RosterEvent):
    """The child is no longer in the school's records (left the school); the history stays."""

    reason: str


class PhotoStored(RosterEvent):
    """A photo of the child, or of one of their guardians, was stored, sealed with the child's key outside the log."""

    guardian_id: str | None
    """The guardian in the photo; None: the child."""
    content_type: str
    """image/jpeg, image/png or image/webp."""
    size: int
    """Bytes of the photo."""


class ChildErased(RosterEvent):
    """The child's key was destroyed: their personal data can no longer be read anywhere (PIPL erasure)."""

    reason: str


class RosterRowsApplied(HandoffEvent):
    """Rows of the school's records system (OneRoster) applied by an import: when each last changed, and who the
    people they name are in Handoff."""

    modified: dict[str, str]
    """'file/sourcedId' (e.g. 'users.csv/u-p2') -> the row's dateLastModified as written (ISO 8601)."""
    people: dict[str, str] = field(default_factory=dict, kw_only=True)
    """A person's sourcedId -> their Handoff id (the row's identifier), where the two differ."""
