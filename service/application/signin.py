"""Sign-in on shared tablets: an admin enrols a tablet once; staff then sign in on it with their staff number and a
short PIN, which an admin or the staff member sets. The session token names the person and the tablet, and commands
under it must come from that tablet, so every event still names both.

Neither the tablet's secret nor a session token goes through the stored-answer path: an answer is kept in the log,
and they must not be. A PIN is kept only as a salted scrypt hash; wrong PINs are counted and locked (aggregates/
signin.py)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta
from typing import Any

from aggregates import signin as rules
from aggregates.base import EventMeta, ForbiddenError
from aggregates.signin import Device, SignInGuard, WrongPinError
from aggregates.staff import Role, StaffMember, StaffNotFoundError
from events.signin import StaffPinSet, StaffSessionStarted
from service.application.area import Area, Decided
from service.application.context import Actor, CommandContext
from service.application.staff import token_hash

SESSION = timedelta(hours=12)
"""A PIN session lasts a shift; the next shift signs in again."""
SCRYPT = {"n": 2**14, "r": 8, "p": 1}


class OwnPinOnlyError(ForbiddenError):
    """Staff set their own PIN; an admin sets anyone's."""

    code = "own_pin_only"
    message = "You can set your own PIN only. Ask the school admin to set another person's PIN."


def pin_hash(pin: str, salt: bytes | None = None) -> str:
    """A salted scrypt hash of a PIN, with its parameters, as stored."""
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(pin.encode(), salt=salt, **SCRYPT)
    return f"scrypt${SCRYPT['n']}${SCRYPT['r']}${SCRYPT['p']}${salt.hex()}${digest.hex()}"


def pin_matches(stored: str, pin: str) -> bool:
    """Whether a PIN matches its stored hash (compared in constant time)."""
    _, n, r, p, salt, digest = stored.split("$")
    tried = hashlib.scrypt(pin.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p))
    return hmac.compare_digest(tried.hex(), digest)


class SignInCommands(Area):
    """Tablet enrolment, PINs and PIN sign-in."""

    def enrol_device(self, ctx: CommandContext) -> dict[str, Any]:
        """Enrol the tablet the request comes from, through the one command path. Its secret is in the first answer
        only: the log keeps its hash, and a retry of the same request gets the stored answer with no secret."""
        secret = secrets.token_urlsafe(32)

        def decided(meta: EventMeta) -> Decided:
            enrolled = self.device(ctx.school_id, ctx.device_id).enrol(meta, token_hash(secret))
            return enrolled, {"device_id": ctx.device_id}

        answer = self.app.command(ctx, "manage_devices", decided)
        return {**answer, "device_secret": None if answer["replayed"] else secret}

    def set_pin(self, ctx: CommandContext, staff_id: str, pin: str) -> dict[str, Any]:
        """Set a staff member's sign-in PIN: an admin for anyone of the school, anyone for themself."""
        ctx.actor.require("set_pin", ctx.school_id)
        if ctx.actor.role is not Role.ADMIN and ctx.actor.staff_id != staff_id:
            raise OwnPinOnlyError

        def decided(meta: EventMeta) -> tuple[list[Any], dict[str, Any]]:
            member = self.app.staff_member(ctx.school_id, staff_id)
            stamp = {**meta.fields(), "originator_id": member.id, "originator_version": member.version + 1}
            return [StaffPinSet(**stamp, staff_id=staff_id, pin_hash=pin_hash(pin))], {"staff_id": staff_id}

        return self.app.command(ctx, "set_pin", decided)

    def sign_in(
        self, school_id: str, device_id: str, device_secret: str, staff_id: str, pin: str, at: datetime
    ) -> dict[str, Any]:
        """A session for the staff member whose PIN this is, on an enrolled tablet; a wrong PIN is counted."""
        self.device(school_id, device_id).require_secret(token_hash(device_secret))
        school = self.app.school(school_id)
        now = self.app.clock()
        guard = self.sign_in_guard(school_id, school.service_day(now))
        guard.require_open(device_id, staff_id)
        member = self._member_or_none(school_id, staff_id)
        if member is None or not member.pin_hash or not pin_matches(member.pin_hash, pin):
            reason = "staff_not_found" if member is None else "wrong_pin" if member.pin_hash else "no_pin"
            actor = Actor("sign-in", Role.ADMIN, school_id, school.district_id)
            meta = CommandContext(actor, school_id, device_id, at, secrets.token_hex(8), "sign-in", {}).meta(now)
            self.app.save(*guard.fail(meta, device_id, staff_id, reason))
            raise WrongPinError(tries_left=max(guard.tries_left(device_id, staff_id) - 1, 0))
        return self._session(member, school_id, device_id, at, now)

    def _session(self, member: StaffMember, school_id: str, device_id: str, at: datetime, now: datetime):
        if member.role is None:  # a stream with a PIN but no registration: nobody to sign in as
            raise StaffNotFoundError(staff_id=member.staff_id)
        actor = Actor(member.staff_id, member.role, school_id, member.district_id)
        meta = CommandContext(actor, school_id, device_id, at, secrets.token_hex(8), "sign-in", {}).meta(now)
        token_id, secret = secrets.token_hex(4), secrets.token_urlsafe(32)
        stamp = {**meta.fields(), "originator_id": member.id, "originator_version": member.version + 1}
        expires_at = now + SESSION
        started = StaffSessionStarted(
            **stamp,
            staff_id=member.staff_id,
            token_id=token_id,
            token_hash=token_hash(secret),
            expires_at=expires_at,
            session_device_id=device_id,
        )
        self.app.save(started)
        token = f"hs1.{member.id.hex}.{token_id}.{secret}"
        return {"token": token, "staff_id": member.staff_id, "role": actor.role.value, "expires_at": expires_at}

    def _member_or_none(self, school_id: str, staff_id: str) -> StaffMember | None:
        try:
            return self.app.staff_member(school_id, staff_id)
        except StaffNotFoundError:
            return None

    def device(self, school_id: str, device_id: str) -> Device:
        found = self.app.load(rules.device_stream_id(school_id, device_id), rules.project_device)
        return found or Device.of(school_id, device_id)

    def sign_in_guard(self, school_id: str, day: Any) -> SignInGuard:
        found = self.app.load(rules.sign_in_guard_id(school_id, day), rules.project_guard)
        return found or SignInGuard.opened(school_id, day)
