"""Pickup-code guessing and unknown persons at school scale: one stream per school and service day counts wrong
codes and arrivals by persons not on a child's list, per device and for the school, and holds further attempts
back once a limit is reached (an identity-document check still works).

The child's own lock (three wrong codes) stops guessing one child's code; these limits stop guessing across
children: with 4-digit codes, 650 guesses a day over a school's children gave about a 6% chance of a hit. Every
path that checks a pickup code or an arriving person goes through `GateGuard.check` and `GateGuard.count`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from types import MappingProxyType
from uuid import UUID

from aggregates.base import EventMeta, stamp, stream_id
from events.envelope import EventFields
from events.gate_guard import (
    GateAttemptHeldBack,
    GateGuardEvent,
    GateLimitReached,
    UnknownPersonCounted,
    WrongPickupCodeCounted,
)

LIMITS = {
    ("pickup_code", "device"): 5,
    ("pickup_code", "school"): 20,
    ("unknown_person", "device"): 10,
    ("unknown_person", "school"): 30,
}
"""Per service day: wrong codes, and arrivals by persons not on the list, from one device and in the whole school."""

HELD_BACK_MESSAGES = {
    "pickup_code_locked": "Pickup-code entry for this child is locked after repeated wrong codes. Check the "
    "guardian's identity document, or ask the duty leader to lift the lock.",
    "device_limit_reached": "This tablet has reached today's limit of failed pickup checks. Check the guardian's "
    "identity document and call the duty leader.",
    "school_limit_reached": "The school has reached today's limit of failed pickup checks. Check the guardian's "
    "identity document and call the duty leader.",
}
"""Plain words for an attempt that was recorded and held back, by reason code."""


def gate_guard_id(school_id: str, service_day: date) -> UUID:
    return stream_id("gate-guard", school_id, service_day.isoformat())


@dataclass(frozen=True)
class GateGuard:
    """Today's counts and limits for one school's gate."""

    id: UUID
    version: int
    school_id: str
    service_day: date
    counts: Mapping[tuple[str, str], int] = field(default_factory=lambda: MappingProxyType({}))
    """(what, device_id) and (what, "") for the school -> how many were counted."""
    limited: frozenset[tuple[str, str]] = frozenset()
    """(what, device_id), or (what, "") for the whole school, held back for the rest of the day."""

    @classmethod
    def opened(cls, school_id: str, service_day: date) -> GateGuard:
        return cls(gate_guard_id(school_id, service_day), 0, school_id, service_day)

    def check(self, meta: EventMeta, what: str, child_id: str, person_id: str) -> list[GateAttemptHeldBack]:
        """The attempt, recorded as held back, if a limit holds it back; nothing otherwise."""
        if (what, "") in self.limited:
            return self.hold_back(meta, child_id, person_id, "school_limit_reached")
        if (what, meta.device_id) in self.limited:
            return self.hold_back(meta, child_id, person_id, "device_limit_reached")
        return []

    def hold_back(self, meta: EventMeta, child_id: str, person_id: str, reason_code: str) -> list[GateAttemptHeldBack]:
        """Record an attempt that a lock or a limit held back."""
        stamp = self._stamp(meta, 1)
        return [GateAttemptHeldBack(**stamp, child_id=child_id, person_id=person_id, reason_code=reason_code)]

    def count(self, meta: EventMeta, what: str, child_id: str, person_id: str) -> list[GateGuardEvent]:
        """Count a failed check; reaching a limit holds that kind of attempt back for the device or the school."""
        counted = WrongPickupCodeCounted if what == "pickup_code" else UnknownPersonCounted
        recorded: list[GateGuardEvent] = [counted(**self._stamp(meta, 1), child_id=child_id, person_id=person_id)]
        for scope, device in (("device", meta.device_id), ("school", "")):
            count = self.counts.get((what, device), 0) + 1
            if count >= LIMITS[(what, scope)] and (what, device) not in self.limited:
                stamp = self._stamp(meta, len(recorded) + 1)
                recorded.append(
                    GateLimitReached(**stamp, what=what, scope=scope, limited_device_id=device, count=count)
                )
        return recorded

    def _stamp(self, meta: EventMeta, offset: int) -> EventFields[GateGuardEvent]:
        """The stamp of the offset-th event recorded now (1 for the first)."""
        return {**stamp(self.id, self.version + offset - 1, meta), "service_day": self.service_day.isoformat()}


def evolve(state: GateGuard, event: GateGuardEvent) -> GateGuard:
    """Apply one event. Never raises, never decides."""
    state = replace(state, version=event.originator_version)
    match event:
        case WrongPickupCodeCounted() | UnknownPersonCounted():
            what = "pickup_code" if isinstance(event, WrongPickupCodeCounted) else "unknown_person"
            counts = dict(state.counts)
            for key in ((what, event.device_id), (what, "")):
                counts[key] = counts.get(key, 0) + 1
            return replace(state, counts=MappingProxyType(counts))
        case GateLimitReached():
            return replace(state, limited=state.limited | {(event.what, event.limited_device_id)})
    return state


def project(state: GateGuard | None, events: Iterable[GateGuardEvent]) -> GateGuard | None:
    for event in events:
        if not isinstance(event, GateGuardEvent):
            return None
        if state is None:
            state = GateGuard.opened(event.school_id, date.fromisoformat(event.service_day))
        state = evolve(state, event)
    return state
