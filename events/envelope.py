"""What every Handoff event carries, besides its stream id, version and server time."""

from __future__ import annotations

from dataclasses import field
from datetime import datetime
from typing import dataclass_transform

from eventsourcing.domain import DomainEvent


@dataclass_transform(frozen_default=True, field_specifiers=(field,))
class DataclassEvent(DomainEvent):
    """Tells the type checker what eventsourcing's metaclass does at run time: every subclass is a frozen
    dataclass, so each event's constructor is checked field by field."""


class HandoffEvent(DataclassEvent):
    """Base of every stored event. `timestamp` (from DomainEvent) is the server time."""

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
    clock_skew_seconds: int | None = field(default=None, kw_only=True)
    """Server time minus device time when the event was recorded, in seconds (positive: the device is behind).
    None on events recorded before it was kept."""
