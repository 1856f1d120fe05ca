"""Who is acting and from where: the actor from the token, and the metadata of one command. Which role may do what is
the domain's rule (aggregates/permissions.py); the actor checks it for every command and query."""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from aggregates.base import EventMeta, ForbiddenError
from aggregates.permissions import ACTION_WORDS, PERMISSIONS
from aggregates.staff import Role


class WrongRoleError(ForbiddenError):
    """The actor's role does not allow this action."""

    code = "role_not_allowed"
    message = "Your role ({role}) is not allowed to {action}."


class WrongSchoolError(ForbiddenError):
    """Staff act only for their own school; regulators only within their district."""

    code = "other_school"
    message = "You can only act for your own school."


@dataclass(frozen=True)
class Actor:
    """The authenticated staff member, as their token says."""

    staff_id: str
    role: Role
    scope_id: str
    """The school; for a regulator, the district."""
    district_id: str
    device_id: str | None = None
    """The tablet a PIN session is bound to: its commands must come from there. None for an issued token."""

    def require(self, action: str, school_id: str) -> None:
        """Refuse unless this actor's role allows the action, for their own school."""
        if self.role not in PERMISSIONS[action]:
            raise WrongRoleError(role=self.role.value, action=ACTION_WORDS[action])
        if self.scope_id != school_id:
            raise WrongSchoolError

    def require_province(self, action: str) -> None:
        """Refuse unless the role allows the action for the whole province (there is one per deployment)."""
        if self.role not in PERMISSIONS[action]:
            raise WrongRoleError(role=self.role.value, action=ACTION_WORDS[action])

    def require_district(self, action: str, district_id: str) -> None:
        """Refuse unless the role allows the action for this district."""
        if self.role not in PERMISSIONS[action]:
            raise WrongRoleError(role=self.role.value, action=ACTION_WORDS[action])
        if self.district_id != district_id:
            raise WrongSchoolError("You can only read your own district.")


def system_actor(scope_id: str) -> Actor:
    """The operator at the command line, or a policy: the system, acting as an admin of one school (or district)."""
    return Actor(staff_id="system", role=Role.ADMIN, scope_id=scope_id, district_id="")


@dataclass(frozen=True)
class CommandContext:
    """One command as the client sent it: who, from which device, with which key and body."""

    actor: Actor
    school_id: str
    device_id: str
    device_time: datetime
    idempotency_key: str
    operation: str
    body: dict[str, Any]

    @property
    def fingerprint(self) -> str:
        """Same key with a different operation, actor or body is a different request."""
        canonical = json.dumps(
            [self.operation, self.actor.staff_id, self.body], sort_keys=True, separators=(",", ":"), default=str
        )
        return hashlib.sha256(canonical.encode()).hexdigest()

    def meta(self, now: datetime) -> EventMeta:
        return EventMeta(
            school_id=self.school_id,
            actor_id=self.actor.staff_id,
            actor_role=self.actor.role.value,
            device_id=self.device_id,
            idempotency_key=self.idempotency_key,
            device_time=self.device_time,
            timestamp=now,
        )


def operator_context(school_id: str, actor: Actor | None = None) -> CommandContext:
    """A command context for set-up work run from the command line (the system, unless an actor is given)."""
    now = datetime.now(timezone.utc)
    return CommandContext(actor or system_actor(school_id), school_id, "cli", now, f"cli-{uuid.uuid4()}", "cli", {})
