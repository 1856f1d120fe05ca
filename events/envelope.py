"""What every Handoff event carries, besides its stream id, version and server time; and the fields of an event
class typed for the constructors of events (EventFields)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, dataclass_transform

from eventsourcing.domain import DomainEvent


@dataclass_transform(frozen_default=True, field_specifiers=(field,))
class DataclassEvent(DomainEvent):
    """Tells the type checker what eventsourcing's metaclass does at run time: every subclass is a frozen
    dataclass, so each event's constructor is checked field by field."""


@dataclass(frozen=True)
class Envelope:
    """Who did what, from where and when: what every event carries besides its stream id, version and server time,
    and what a command's metadata (aggregates.base.EventMeta) holds for the events it records."""

    school_id: str
    """School the event belongs to (the district's code for district-level events)."""
    actor_id: str
    """Staff reference of the person who acted, taken from their token."""
    actor_role: str
    """Role the actor held when acting: gate, teacher, duty_leader, admin, regulator or system."""
    device_id: str
    """Device (tablet, CLI) the command came from."""
    idempotency_key: str
    """The client's Idempotency-Key for the command that recorded this event."""
    device_time: datetime
    """The device's own clock when the action happened; the server time is authoritative."""


class HandoffEvent(DataclassEvent, Envelope):
    """Base of every stored event: the envelope, and its clock skew. `timestamp` (from DomainEvent) is the server
    time."""

    clock_skew_seconds: int | None = field(default=None, kw_only=True)
    """Server time minus device time when the event was recorded, in seconds (positive: the device is behind).
    None on events recorded before it was kept."""


class EventFields:
    """`EventFields[SomeEvent]`: the fields of that event class, as the keyword arguments of its constructor that a
    stream stamps on every event (the envelope, the library's originator id, version and timestamp, the clock skew,
    and the stream's own, e.g. a custody stream's child and day). The fields are declared once, on the event classes:
    for mypy this is the TypedDict of those fields (scripts/mypy_event_fields.py), so each constructor called with
    `**stamp` and its own fields is checked field by field; at run time, a plain dict."""

    def __class_getitem__(cls, event: type[HandoffEvent]) -> Any:
        return dict[str, Any]
