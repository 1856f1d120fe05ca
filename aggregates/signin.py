"""Sign-in on shared tablets: enrolled devices and the day's guard against PIN guessing.

A 6-digit PIN has a million values; with 5 wrong PINs per staff number and 10 per tablet a day (then locked for
the day, and every try recorded), guessing one is out of reach. An admin's bearer token still works where PIN
sign-in is locked."""

from __future__ import annotations

import hmac
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from types import MappingProxyType
from uuid import UUID

from aggregates.base import DomainError, EventMeta, stamp, stream_id
from events.signin import DeviceEnrolled, SignInFailed, SignInGuardEvent, SignInLocked

LIMITS = {"staff": 5, "device": 10}
"""Failed sign-ins a service day before PIN sign-in is locked for the rest of it: per staff number, per tablet."""


class DeviceNotEnrolledError(DomainError):
    """PIN sign-in works only on a tablet an admin enrolled, with its secret."""

    status = 401
    code = "device_not_enrolled"
    message = "This tablet is not enrolled for sign-in with a PIN. Ask the school admin to enrol it."


class WrongPinError(DomainError):
    """The staff number and PIN must match a staff member's PIN."""

    status = 401
    code = "wrong_pin"
    message = "The staff number or the PIN is wrong. {tries_left} more tries today before it is locked."
    answered = ("tries_left",)


class SignInLockedError(DomainError):
    """After too many wrong PINs, PIN sign-in is locked for the day for that staff number or tablet."""

    status = 429
    code = "sign_in_locked"
    message = (
        "Too many wrong PINs today: sign-in with a PIN is locked for this {what} until tomorrow. "
        "Ask the school admin to sign you in."
    )


def device_stream_id(school_id: str, device_id: str) -> UUID:
    return stream_id("device", school_id, device_id)


def sign_in_guard_id(school_id: str, day: date) -> UUID:
    return stream_id("sign-in-guard", school_id, day.isoformat())


@dataclass(frozen=True)
class Device:
    """A tablet enrolled for PIN sign-in at one school."""

    id: UUID
    version: int
    school_id: str
    device_id: str
    secret_hash: str = ""

    @classmethod
    def of(cls, school_id: str, device_id: str) -> Device:
        return cls(device_stream_id(school_id, device_id), 0, school_id, device_id)

    def enrol(self, meta: EventMeta, secret_hash: str) -> list[DeviceEnrolled]:
        """Enrol the tablet (again: a new secret replaces the old one)."""
        return [
            DeviceEnrolled(
                **stamp(self.id, self.version, meta), enrolled_device_id=self.device_id, secret_hash=secret_hash
            )
        ]

    def require_secret(self, secret_hash: str) -> None:
        if not self.secret_hash or not hmac.compare_digest(self.secret_hash, secret_hash):
            raise DeviceNotEnrolledError


def evolve_device(state: Device, event: DeviceEnrolled) -> Device:
    return replace(state, version=event.originator_version, secret_hash=event.secret_hash)


def project_device(state: Device | None, events: Iterable[DeviceEnrolled]) -> Device | None:
    for event in events:
        if not isinstance(event, DeviceEnrolled):
            return None
        state = evolve_device(state or Device.of(event.school_id, event.enrolled_device_id), event)
    return state


@dataclass(frozen=True)
class SignInGuard:
    """Today's failed sign-ins at one school, per tablet and per staff number, and what is locked."""

    id: UUID
    version: int
    school_id: str
    service_day: date
    counts: Mapping[tuple[str, str], int] = field(default_factory=lambda: MappingProxyType({}))
    """(scope, device id or staff number) -> failed sign-ins today."""
    locked: frozenset[tuple[str, str]] = frozenset()

    @classmethod
    def opened(cls, school_id: str, day: date) -> SignInGuard:
        return cls(sign_in_guard_id(school_id, day), 0, school_id, day)

    def require_open(self, device_id: str, staff_id: str) -> None:
        """Refuse a try while the staff number or the tablet is locked (nothing to record: nothing was checked)."""
        for scope, key in (("staff", staff_id), ("device", device_id)):
            if (scope, key) in self.locked:
                raise SignInLockedError(what="staff number" if scope == "staff" else "tablet")

    def tries_left(self, device_id: str, staff_id: str) -> int:
        """How many more failures before a lock, for this staff number on this tablet."""
        return min(LIMITS[s] - self.counts.get((s, k), 0) for s, k in (("staff", staff_id), ("device", device_id)))

    def fail(self, meta: EventMeta, device_id: str, staff_id: str, reason_code: str) -> list[SignInGuardEvent]:
        """Record a failed sign-in; reaching a limit locks the staff number or the tablet for the day."""
        day = self.service_day.isoformat()
        recorded: list[SignInGuardEvent] = [
            SignInFailed(
                **stamp(self.id, self.version, meta),
                service_day=day,
                signing_device_id=device_id,
                staff_id=staff_id,
                reason_code=reason_code,
            )
        ]
        for scope, key in (("staff", staff_id), ("device", device_id)):
            count = self.counts.get((scope, key), 0) + 1
            if count >= LIMITS[scope] and (scope, key) not in self.locked:
                stamped = stamp(self.id, self.version + len(recorded), meta)
                recorded.append(SignInLocked(**stamped, service_day=day, scope=scope, locked=key, count=count))
        return recorded


def evolve_guard(state: SignInGuard, event: SignInGuardEvent) -> SignInGuard:
    """Apply one event. Never raises, never decides."""
    state = replace(state, version=event.originator_version)
    match event:
        case SignInFailed():
            counts = dict(state.counts)
            for key in (("staff", event.staff_id), ("device", event.signing_device_id)):
                counts[key] = counts.get(key, 0) + 1
            return replace(state, counts=MappingProxyType(counts))
        case SignInLocked():
            return replace(state, locked=state.locked | {(event.scope, event.locked)})
    return state


def project_guard(state: SignInGuard | None, events: Iterable[SignInGuardEvent]) -> SignInGuard | None:
    for event in events:
        if not isinstance(event, SignInGuardEvent):
            return None
        if state is None:
            state = SignInGuard.opened(event.school_id, date.fromisoformat(event.service_day))
        state = evolve_guard(state, event)
    return state
