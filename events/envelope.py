"""What every Handoff event carries, besides its stream id, version and server time; and the same fields typed for
the constructors of events (Stamp)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TypedDict, dataclass_transform
from uuid import UUID

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


class Stamp(TypedDict):
    """The fields every event of a stream's next version carries, typed so that each event's constructor, called
    with `**stamp(...)` and its own fields, is checked field by field: the envelope's, as a type checker needs them
    written out for keyword arguments (tests/unit/test_event_envelope.py keeps the two the same)."""

    originator_id: UUID
    originator_version: int
    timestamp: datetime
    school_id: str
    actor_id: str
    actor_role: str
    device_id: str
    idempotency_key: str
    device_time: datetime
    clock_skew_seconds: int | None
