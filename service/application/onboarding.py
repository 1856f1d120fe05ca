"""Setting a school up after an operator registered it: its places, its staff and their tokens, over HTTP or the
command line, each through the one command path (role check, idempotency, one transaction)."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from aggregates import staff
from aggregates.base import EventMeta, InvalidCommandError
from aggregates.staff import Role, StaffMember
from service.application.administration import token_hash
from service.application.context import CommandContext

if TYPE_CHECKING:
    from service.application.handoff import Handoff

SCHOOL_ROLES = (Role.GATE, Role.TEACHER, Role.DUTY_LEADER, Role.ADMIN)
"""The roles a school's admin gives; a regulator is registered for a district by an operator."""


class NotASchoolRoleError(InvalidCommandError):
    """A school's admin registers gate staff, teachers, duty leaders and admins, never a regulator."""

    code = "not_a_school_role"
    message = "A school can register gate staff, teachers, duty leaders and admins; {role} is not one of them."


class OnboardingCommands:
    """A registered school's places and staff, and its staff's tokens."""

    def set_up_place(
        self: Handoff, ctx: CommandContext, place_code: str, kind: str, label_zh: str, label_en: str
    ) -> dict[str, Any]:
        """Add a classroom, a venue, the gate or a release point to the school."""

        def decided(meta: EventMeta) -> tuple[list[Any], dict[str, Any]]:
            recorded = self.school(ctx.school_id).add_place(meta, place_code, kind, label_zh, label_en)
            return recorded, {"place_code": place_code, "kind": kind, "label_zh": label_zh, "label_en": label_en}

        return self.command(ctx, "set_up_school", decided)

    def set_up_staff(self: Handoff, ctx: CommandContext, staff_id: str, role: Role) -> dict[str, Any]:
        """Register a member of the school's staff with their role."""
        if role not in SCHOOL_ROLES:
            raise NotASchoolRoleError(role=role.value)

        def decided(meta: EventMeta) -> tuple[list[Any], dict[str, Any]]:
            district_id = self.school(ctx.school_id).district_id
            member = self._get(staff.staff_stream_id(ctx.school_id, staff_id), staff.project)
            member = member or StaffMember.unregistered(ctx.school_id, staff_id)
            return member.register(meta, role, district_id), {"staff_id": staff_id, "role": role.value}

        return self.command(ctx, "manage_staff", decided)

    def issue_staff_token(self: Handoff, ctx: CommandContext, staff_id: str, valid_for: timedelta) -> dict[str, Any]:
        """Issue a token for a member of the school's staff. The token is in this answer only: the stored answer, and
        so the answer to a retry, leave it out, and only its hash is kept."""
        token_id, secret = secrets.token_hex(4), secrets.token_urlsafe(32)

        def decided(meta: EventMeta) -> tuple[list[Any], dict[str, Any]]:
            member = self.staff_member(ctx.school_id, staff_id)
            expires = meta.timestamp + valid_for
            recorded = member.issue_token(meta, token_id, token_hash(secret), expires)
            return recorded, {"staff_id": staff_id, "token_id": token_id, "expires_at": expires.isoformat()}

        answer = self.command(ctx, "manage_staff", decided)
        if answer["replayed"]:
            return answer
        stream = staff.staff_stream_id(ctx.school_id, staff_id)
        return {**answer, "token": f"hs1.{stream.hex}.{token_id}.{secret}"}
