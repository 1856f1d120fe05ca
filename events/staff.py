"""Staff members, their role and their access tokens (stored only as hashes)."""

from __future__ import annotations

from datetime import datetime

from events.envelope import HandoffEvent


class StaffEvent(HandoffEvent):
    """An event in a staff member's stream; school_id is the school, or the district for a regulator."""

    staff_id: str


class StaffMemberRegistered(StaffEvent):
    """A staff member was given a role, scoped to one school or, for a regulator, one district."""

    role: str
    district_id: str
    """District of the school, or the regulator's district."""


class StaffTokenIssued(StaffEvent):
    """A bearer token was issued; only its SHA-256 hash is stored."""

    token_id: str
    token_hash: str
    expires_at: datetime


class StaffTokenRevoked(StaffEvent):
    """A token was revoked and is refused from now on."""

    token_id: str
    reason: str
