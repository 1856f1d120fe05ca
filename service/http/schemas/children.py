"""API schemas of a child's custody day: check-in, transfer, arrival, confirmation, release, absence, correction."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, StrictBool, model_validator

from replay.state import EventEntry
from service.application.views import CustodyView
from service.http.schemas.common import CommandRequest, PickupCode, Reason, Ref


class CheckInRequest(CommandRequest):
    place_code: Ref = Field(description="Temporary class or venue the child is checked in to")
    custodian_id: Ref | None = Field(
        default=None, description="Adult who takes the child; the acting staff member if omitted"
    )
    handed_over_by: Ref | None = Field(default=None, description="Homeroom teacher handing the child over")


class TransferRequest(CommandRequest):
    to_custodian_id: Ref = Field(description="The adult who takes the child over")
    to_place_code: Ref = Field(description="Where the child goes")


class GuardianArrivalRequest(CommandRequest):
    guardian_id: Ref
    verification: Literal["pickup_code", "id_document"]
    pickup_code: PickupCode | None = None

    @model_validator(mode="after")
    def _code_goes_with_pickup_code_check(self) -> GuardianArrivalRequest:
        if (self.verification == "pickup_code") != (self.pickup_code is not None):
            raise ValueError("give pickup_code exactly when verification is pickup_code")
        return self


class ConfirmationRequest(CommandRequest):
    guardian_id: Ref
    guardian_recognised_child: StrictBool
    child_recognised_guardian: StrictBool


class ReleaseRequest(CommandRequest):
    guardian_id: Ref | None = Field(default=None, description="The confirmed guardian the child leaves with")
    self_release: StrictBool = Field(default=False, description="The child leaves alone, as the agreement allows")

    @model_validator(mode="after")
    def _guardian_or_self_release(self) -> ReleaseRequest:
        if (self.guardian_id is None) != self.self_release:
            raise ValueError("give either guardian_id or self_release: true")
        return self


class AbsenceRequest(CommandRequest):
    reason: Reason


class CorrectionRequest(CommandRequest):
    """Why the latest record was a mistake (it stays in the log, marked as corrected)."""

    reason: Reason


class CodeUnlockRequest(CommandRequest):
    """Why the duty leader lifts the pickup-code lock after repeated wrong codes."""

    reason: Reason


class MismatchReviewRequest(CommandRequest):
    """What the duty leader found about a failed mutual confirmation of this guardian and child."""

    guardian_id: Ref
    reason: Reason


class Refusal(BaseModel):
    code: str
    message: str


class CommandResponse(BaseModel):
    outcome: Literal["recorded", "refused"] = Field(description="refused: a release refusal was recorded")
    refusal: Refusal | None
    recorded: list[str] = Field(description="Types of the events recorded")
    custody: CustodyView
    replayed: bool = Field(description="True when this is the stored answer to an earlier request with the same key")


class ChildDayResponse(BaseModel):
    custody: CustodyView
    history: list[EventEntry]
