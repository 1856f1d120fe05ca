"""Staff commands: register a staff member (or a district's regulator), issue and revoke bearer tokens, and
authenticate a token. Tokens are stored as hashes only."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any
from uuid import UUID

from aggregates import staff
from aggregates.base import EventMeta
from aggregates.staff import Role, StaffMember
from service.application.area import Area, Decided
from service.application.context import CommandContext


def token_hash(secret: str) -> str:
    """Tokens are long random strings, so a plain SHA-256 is enough to keep them unusable at rest."""
    return hashlib.sha256(secret.encode()).hexdigest()


def parse_token(token: str) -> tuple[str, str, str] | None:
    """Split a bearer token into staff stream (hex), token id and secret; None if it is not one of ours."""
    parts = token.split(".")
    if len(parts) != 4 or parts[0] != "hs1":
        return None
    return parts[1], parts[2], parts[3]


class StaffCommands(Area):
    """Staff members and their tokens."""

    def register_staff(self, ctx: CommandContext, staff_id: str, role: Role, district_id: str) -> dict[str, Any]:
        """Register a staff member in a school, or a regulator in a district (ctx.school_id is then the district)."""

        def decided(meta: EventMeta) -> Decided:
            member = self.app.load(staff.staff_stream_id(ctx.school_id, staff_id), staff.project)
            member = member or StaffMember.unregistered(ctx.school_id, staff_id)
            return member.register(meta, role, district_id), {"staff_id": staff_id, "role": role.value}

        return self.app.command(ctx, "manage_staff", decided)

    def issue_token(self, ctx: CommandContext, staff_id: str, valid_for: timedelta) -> dict[str, Any]:
        """Issue a bearer token. The plain token is in the first answer only ("token"): the log keeps its hash, and
        a retry of the same request gets the stored answer with "token": null (revoke it and issue another)."""
        secret = secrets.token_urlsafe(32)

        def decided(meta: EventMeta) -> Decided:
            member = self.app.staff_member(ctx.school_id, staff_id)
            token_id, expires_at = secrets.token_hex(4), meta.timestamp + valid_for
            issued = member.issue_token(meta, token_id, token_hash(secret), expires_at)
            return issued, {"staff_id": staff_id, "token_id": token_id, "expires_at": expires_at.isoformat()}

        answer = self.app.command(ctx, "manage_staff", decided)
        if answer["replayed"]:
            return {**answer, "token": None}
        stream = staff.staff_stream_id(ctx.school_id, staff_id)
        return {**answer, "token": f"hs1.{stream.hex}.{answer['token_id']}.{secret}"}

    def revoke_tokens(self, ctx: CommandContext, staff_id: str, reason: str, token_id: str | None) -> dict[str, Any]:
        """Revoke one token or all of a staff member's tokens; the answer says how many were revoked."""

        def decided(meta: EventMeta) -> Decided:
            revoked = self.app.staff_member(ctx.school_id, staff_id).revoke_tokens(meta, reason, token_id)
            return revoked, {"staff_id": staff_id, "revoked": len(revoked)}

        return self.app.command(ctx, "manage_staff", decided)

    def authenticate(self, token: str) -> StaffMember | None:
        """The staff member a bearer token belongs to, if it is live; None otherwise."""
        parsed = parse_token(token)
        if parsed is None:
            return None
        stream_hex, token_id, secret = parsed
        try:
            stream = UUID(hex=stream_hex)
        except ValueError:
            return None
        member = self.app.load(stream, staff.project)
        if member is None or not member.accepts(token_id, token_hash(secret), self.app.clock()):
            return None
        return member
