"""Staff commands: register a staff member (or a district's regulator), issue and revoke bearer tokens, and
authenticate a token. Tokens are stored as hashes only."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import timedelta
from typing import Any
from uuid import UUID

from aggregates import school, staff
from aggregates.base import EventMeta, InvalidCommandError
from aggregates.staff import Role, StaffMember
from service.application.area import Area, Decided
from service.application.context import CommandContext


def token_hash(secret: str) -> str:
    """Tokens are long random strings, so a plain SHA-256 is enough to keep them unusable at rest."""
    return hashlib.sha256(secret.encode()).hexdigest()


TOKEN_FORM = re.compile(r"hs1\.([0-9a-f]{32})\.([0-9a-f]{1,16})\.([A-Za-z0-9_-]{16,128})")
"""What `issue_token` hands out: the staff stream in plain hex, the token id and the URL-safe secret."""

SCHOOL_ROLES = (Role.GATE, Role.TEACHER, Role.DUTY_LEADER, Role.ADMIN)
BUREAU_ROLES = (Role.REGULATOR, Role.PROVINCE_REGULATOR)
"""Registered for a district (or, for the province, its code) by an operator, never by a school."""
"""The roles a school's admin gives; a regulator is registered for a district by an operator."""


class NotASchoolRoleError(InvalidCommandError):
    """A school's admin registers gate staff, teachers, duty leaders and admins, never a regulator."""

    code = "not_a_school_role"
    message = "A school can register gate staff, teachers, duty leaders and admins; {role} is not one of them."


def parse_token(token: str) -> tuple[UUID, str, str] | None:
    """Split a bearer token into staff stream, token id and secret; None if it is not in the form we issue."""
    parts = TOKEN_FORM.fullmatch(token)
    if parts is None:
        return None
    return UUID(hex=parts[1]), parts[2], parts[3]


class StaffCommands(Area):
    """Staff members and their tokens."""

    def register_staff(self, ctx: CommandContext, staff_id: str, role: Role, district_id: str) -> dict[str, Any]:
        """Register a staff member in a registered school, or a regulator in a district (ctx.school_id is then the
        district)."""

        def decided(meta: EventMeta) -> Decided:
            if role not in BUREAU_ROLES and self.app.school(ctx.school_id).district_id != district_id:
                raise school.SchoolInOtherDistrictError(district_id=district_id)
            member = self.app.load(staff.staff_stream_id(ctx.school_id, staff_id), staff.project)
            member = member or StaffMember.unregistered(ctx.school_id, staff_id)
            return member.register(meta, role, district_id), {"staff_id": staff_id, "role": role.value}

        return self.app.command(ctx, "manage_staff", decided)

    def set_up_staff(self, ctx: CommandContext, staff_id: str, role: Role) -> dict[str, Any]:
        """A school's admin registers a member of its staff with a school role, in the school's district."""
        if role not in SCHOOL_ROLES:
            raise NotASchoolRoleError(role=role.value)
        return self.register_staff(ctx, staff_id, role, self.app.school(ctx.school_id).district_id)

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
        stream, token_id, secret = parsed
        member = self.app.load(stream, staff.project)
        if member is None or not member.accepts(token_id, token_hash(secret), self.app.clock()):
            return None
        return member
