"""Staff commands: register a staff member (or a district's regulator), issue and revoke bearer tokens, and
authenticate a token. Tokens are stored as hashes only."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from uuid import UUID

from aggregates import staff
from aggregates.staff import Role, StaffMember
from service.application.area import Area
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

    def register_staff(self, ctx: CommandContext, staff_id: str, role: Role, district_id: str) -> None:
        """Register a staff member in a school, or a regulator in a district (ctx.school_id is then the district)."""
        member = self.app.load(staff.staff_stream_id(ctx.school_id, staff_id), staff.project)
        member = member or StaffMember.unregistered(ctx.school_id, staff_id)
        self.app.save(*member.register(ctx.meta(self.app.clock()), role, district_id))

    def issue_token(self, ctx: CommandContext, staff_id: str, valid_for: timedelta) -> str:
        """Issue a bearer token; the plain token is returned once and only its hash is stored."""
        member = self.app.staff_member(ctx.school_id, staff_id)
        token_id, secret = secrets.token_hex(4), secrets.token_urlsafe(32)
        now = self.app.clock()
        self.app.save(*member.issue_token(ctx.meta(now), token_id, token_hash(secret), now + valid_for))
        return f"hs1.{member.id.hex}.{token_id}.{secret}"

    def revoke_tokens(self, ctx: CommandContext, staff_id: str, reason: str, token_id: str | None) -> int:
        """Revoke one token or all of a staff member's tokens; returns how many were revoked."""
        member = self.app.staff_member(ctx.school_id, staff_id)
        recorded = member.revoke_tokens(ctx.meta(self.app.clock()), reason, token_id)
        self.app.save(*recorded)
        return len(recorded)

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
