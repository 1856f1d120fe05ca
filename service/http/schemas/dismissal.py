"""API schemas of dismissal at the gate: a pickup code alone registers its guardian for all their children."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from service.application.views import CustodyView
from service.http.schemas.common import CommandRequest, PickupCode


class PickupRequest(CommandRequest):
    pickup_code: PickupCode = Field(description="The guardian's own pickup code; it names the guardian")


class PickupChild(BaseModel):
    child_id: str
    result: Literal["arrived", "already_arrived", "pickup_code_locked", "refused"] = Field(
        description="arrived; already registered; code entry locked for this child (check the identity document); "
        "refused (recorded: e.g. not authorised today)"
    )
    custody: CustodyView


class PickupRefusal(BaseModel):
    code: Literal["pickup_code_unknown", "device_limit_reached", "school_limit_reached"]
    message: str


class PickupResponse(BaseModel):
    outcome: Literal["recorded", "refused"] = Field(
        description="refused: a code nobody holds, or one held back by a limit; the attempt is recorded and counted"
    )
    refusal: PickupRefusal | None
    guardian_id: str | None
    children: list[PickupChild]
    replayed: bool
