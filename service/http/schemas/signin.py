"""API schemas of sign-in on shared tablets: enrolling a tablet, setting a PIN, signing in with one."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field, StringConstraints

from aggregates.guardians import weak_pickup_code
from service.http.schemas.common import CommandRequest, DeviceTime, Ref, Request

Pin = Annotated[str, StringConstraints(pattern=r"^[0-9]{6}$")]
"""Six digits."""


def _hard_to_guess(pin: str) -> str:
    if weak_pickup_code(pin):
        raise ValueError("this PIN is too easy to guess (one digit repeated, digits in sequence, or a repeated block)")
    return pin


NewPin = Annotated[Pin, AfterValidator(_hard_to_guess)]


class DeviceEnrolmentRequest(CommandRequest):
    """The tablet to enrol is the one the request names (`device_id`), signed in as an admin."""


class DeviceEnrolment(BaseModel):
    device_id: str
    device_secret: str | None = Field(
        description="Shown once: the tablet keeps it and sends it with every PIN sign-in; null in the stored answer to"
        " a retried request (enrol the tablet again, with a new Idempotency-Key, for a new secret)"
    )


class PinRequest(CommandRequest):
    pin: NewPin = Field(description="Six digits, not one anyone would try first")


class PinSet(BaseModel):
    staff_id: str
    replayed: bool


class SignInRequest(Request):
    device_id: Ref
    device_secret: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{16,128}$")]
    device_time: DeviceTime = Field(description="The tablet's clock, with its offset")
    staff_id: Ref = Field(description="The staff number")
    pin: Pin


class SignInResponse(BaseModel):
    token: str = Field(description="A session token for this staff member on this tablet only")
    staff_id: str
    role: str
    expires_at: datetime
