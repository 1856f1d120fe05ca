"""The school's gate guard for one service day: wrong pickup codes and arrivals of persons not on a child's list,
counted per school and per device, and what is held back once a limit is reached."""

from __future__ import annotations

from events.envelope import HandoffEvent


class GateGuardEvent(HandoffEvent):
    """An event in a school's gate-guard stream for one service day."""

    service_day: str
    """The school's local date, YYYY-MM-DD."""


class WrongPickupCodeCounted(GateGuardEvent):
    """A wrong pickup code (the refusal itself is on the child's day), counted for the device and the school."""

    child_id: str
    person_id: str


class UnknownPersonCounted(GateGuardEvent):
    """An arrival by a person not on the child's authorised list, counted for the device and the school."""

    child_id: str
    person_id: str


class GateLimitReached(GateGuardEvent):
    """A limit was reached: pickup-code entry (what=pickup_code) or arrivals by unknown persons (what=unknown_person)
    are held back for the device (scope=device) or the whole school (scope=school) for the rest of the day."""

    what: str
    scope: str
    limited_device_id: str
    """The device held back; empty for the whole school."""
    count: int


class GateAttemptHeldBack(GateGuardEvent):
    """An attempt made while a lock or a limit held it back: recorded, and not checked against any code or list."""

    child_id: str
    person_id: str
    reason_code: str
    """pickup_code_locked (the child's lock), device_limit_reached or school_limit_reached."""
