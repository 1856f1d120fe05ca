"""Sign-in on shared tablets: a tablet enrolled once by an admin, a short PIN per staff member (stored only as a
scrypt hash), the sessions it opens (each naming the person and the tablet), and the failed tries, counted per
tablet and per staff number for the school's service day, with the lock they lead to."""

from __future__ import annotations

from datetime import datetime

from events.envelope import HandoffEvent
from events.staff import StaffEvent


class DeviceEnrolled(HandoffEvent):
    """An admin enrolled a tablet for staff sign-in; only the SHA-256 hash of its random secret is stored.
    Enrolling it again replaces the secret (the old one is refused from then on)."""

    enrolled_device_id: str
    secret_hash: str


class StaffPinSet(StaffEvent):
    """A staff member's sign-in PIN was set (by an admin, or by the member); only its scrypt hash is stored."""

    pin_hash: str
    """scrypt$<n>$<r>$<p>$<salt hex>$<hash hex>."""


class StaffSessionStarted(StaffEvent):
    """A staff member signed in with their PIN on an enrolled tablet: a session token bound to that tablet."""

    token_id: str
    token_hash: str
    expires_at: datetime
    session_device_id: str
    """The enrolled tablet the session belongs to; commands under it must come from this device."""


class SignInGuardEvent(HandoffEvent):
    """An event in a school's sign-in guard stream for one service day."""

    service_day: str


class SignInFailed(SignInGuardEvent):
    """A wrong PIN (or a staff number without one), counted for the tablet and the staff number."""

    signing_device_id: str
    staff_id: str
    reason_code: str
    """wrong_pin, no_pin or staff_not_found."""


class SignInLocked(SignInGuardEvent):
    """A limit of failed sign-ins was reached: PIN sign-in is locked for the rest of the day for the staff number
    (scope=staff) or the tablet (scope=device)."""

    scope: str
    locked: str
    """The staff number or the device id locked."""
    count: int
