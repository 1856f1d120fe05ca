"""A staff member: role, scope (school, or district for a regulator) and access tokens, stored as hashes."""

from __future__ import annotations

import hmac
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from aggregates.base import EventMeta, NotFoundError, RuleBrokenError, stamp, stream_id
from events.envelope import EventFields
from events.signin import StaffPinSet, StaffSessionStarted
from events.staff import StaffEvent, StaffMemberRegistered, StaffTokenIssued, StaffTokenRevoked


class Role(StrEnum):
    GATE = "gate"
    TEACHER = "teacher"
    DUTY_LEADER = "duty_leader"
    ADMIN = "admin"
    REGULATOR = "regulator"
    PROVINCE_REGULATOR = "province_regulator"


CUSTODIAN_ROLES = frozenset({Role.GATE, Role.TEACHER, Role.DUTY_LEADER})


class StaffNotFoundError(NotFoundError):
    """No such staff member at this school."""

    code = "staff_not_found"
    message = "There is no staff member {staff_id} at this school."


class StaffAlreadyRegisteredError(RuleBrokenError):
    """A staff member is registered once per scope."""

    code = "staff_already_registered"
    message = "Staff member {staff_id} is already registered with role {role}."


class CannotHoldCustodyError(RuleBrokenError):
    """Children can only be handed to gate staff, teachers or duty leaders."""

    code = "cannot_hold_custody"
    message = "Staff member {staff_id} cannot be responsible for children (role {role})."


class TokenNotFoundError(NotFoundError):
    """The staff member has no such token."""

    code = "token_not_found"
    message = "No such token."


def staff_stream_id(scope_id: str, staff_id: str) -> UUID:
    """Staff are keyed by school (or district, for regulators) and staff reference."""
    return stream_id("staff", scope_id, staff_id)


@dataclass(frozen=True)
class Token:
    token_hash: str
    expires_at: datetime
    revoked: bool = False
    device_id: str | None = None
    """The tablet a PIN session is bound to; None for a token an admin issued."""


@dataclass(frozen=True)
class StaffMember:
    id: UUID
    version: int
    scope_id: str
    staff_id: str
    role: Role | None = None
    district_id: str = ""
    tokens: dict[str, Token] = field(default_factory=dict)
    pin_hash: str = ""
    """The sign-in PIN's salted scrypt hash; empty until one is set."""

    @classmethod
    def unregistered(cls, scope_id: str, staff_id: str) -> StaffMember:
        return cls(staff_stream_id(scope_id, staff_id), 0, scope_id, staff_id)

    def accepts(self, token_id: str, token_hash: str, now: datetime) -> bool:
        """Whether a presented token is one of this member's live tokens."""
        token = self.tokens.get(token_id)
        if token is None or token.revoked or token.expires_at <= now:
            return False
        return hmac.compare_digest(token.token_hash, token_hash)

    def device_of(self, token_id: str) -> str | None:
        """The tablet a session token is bound to (None for a token an admin issued)."""
        token = self.tokens.get(token_id)
        return token.device_id if token else None

    def require_custodian(self) -> None:
        if self.role not in CUSTODIAN_ROLES:
            raise CannotHoldCustodyError(staff_id=self.staff_id, role=self.role)

    # Decisions

    def register(self, meta: EventMeta, role: Role, district_id: str) -> list[StaffEvent]:
        if self.version:
            raise StaffAlreadyRegisteredError(staff_id=self.staff_id, role=self.role)
        return [StaffMemberRegistered(**self._stamp(meta), role=role.value, district_id=district_id)]

    def issue_token(self, meta: EventMeta, token_id: str, token_hash: str, expires_at: datetime) -> list[StaffEvent]:
        return [StaffTokenIssued(**self._stamp(meta), token_id=token_id, token_hash=token_hash, expires_at=expires_at)]

    def revoke_tokens(self, meta: EventMeta, reason: str, token_id: str | None = None) -> list[StaffEvent]:
        """Revoke one token, or every live one."""
        if token_id is not None and token_id not in self.tokens:
            raise TokenNotFoundError
        chosen = [token_id] if token_id else [t for t, token in self.tokens.items() if not token.revoked]
        return [
            StaffTokenRevoked(**self._stamp(meta, later=n), token_id=t, reason=reason) for n, t in enumerate(chosen)
        ]

    def _stamp(self, meta: EventMeta, later: int = 0) -> EventFields[StaffEvent]:
        """The stamp of the next event, or of the one `later` events after it (several recorded at once)."""
        return {**stamp(self.id, self.version + later, meta), "staff_id": self.staff_id}


def evolve(state: StaffMember, event: StaffEvent) -> StaffMember:
    """Apply one event. Never raises, never decides."""
    state = replace(state, version=event.originator_version)
    match event:
        case StaffMemberRegistered():
            return replace(state, role=Role(event.role), district_id=event.district_id)
        case StaffTokenIssued():
            token = Token(event.token_hash, event.expires_at)
            return replace(state, tokens={**state.tokens, event.token_id: token})
        case StaffSessionStarted():
            token = Token(event.token_hash, event.expires_at, device_id=event.session_device_id)
            return replace(state, tokens={**state.tokens, event.token_id: token})
        case StaffPinSet():
            return replace(state, pin_hash=event.pin_hash)
        case StaffTokenRevoked() if event.token_id in state.tokens:
            revoked = replace(state.tokens[event.token_id], revoked=True)
            return replace(state, tokens={**state.tokens, event.token_id: revoked})
    return state


def project(state: StaffMember | None, events: Iterable[StaffEvent]) -> StaffMember | None:
    """Rebuild a staff member; None for a stream of another kind (a crafted token can name any stream)."""
    for event in events:
        if not isinstance(event, StaffEvent):
            return None
        if state is None:
            state = StaffMember.unregistered(event.school_id, event.staff_id)
        state = evolve(state, event)
    return state
