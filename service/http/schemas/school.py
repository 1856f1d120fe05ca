"""API schemas of a school's set-up: its places, its staff, and their tokens."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field

from service.http.schemas.common import CommandRequest, Name, Ref

PlaceKind = Literal["classroom", "club_room", "playground", "gate", "release_point"]
SchoolRole = Literal["gate", "teacher", "duty_leader", "admin"]


class PlaceRequest(CommandRequest):
    """A classroom, a venue (club room, playground), the gate or a release point, with its labels in both languages."""

    place_code: Ref
    kind: PlaceKind
    label_zh: Name
    label_en: Name


class StaffRequest(CommandRequest):
    """A member of the school's staff and their role (a regulator is registered by an operator, for a district)."""

    staff_id: Ref
    role: SchoolRole


class TokenRequest(CommandRequest):
    """How long the new token is valid."""

    days: Annotated[int, Field(ge=1, le=366)] = 30


class TokenAnswer(BaseModel):
    """The token is shown in this answer only (absent from the answer to a retry); only its hash is stored."""

    staff_id: str
    token_id: str
    expires_at: str
    token: str | None = None
    replayed: bool
