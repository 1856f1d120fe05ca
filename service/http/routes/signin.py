"""Routes of sign-in on shared tablets: an admin enrols a tablet, a PIN is set, staff sign in with it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from service.http.deps import Command, HandoffApp, SchoolId
from service.http.schemas.common import ErrorResponse, Ref
from service.http.schemas.signin import (
    DeviceEnrolment,
    DeviceEnrolmentRequest,
    PinRequest,
    PinSet,
    SignInRequest,
    SignInResponse,
)

ERRORS = {status: {"model": ErrorResponse} for status in (401, 403, 404, 409, 422, 429)}
signin = APIRouter(prefix="/api/v1/schools/{school_id}", responses=ERRORS, tags=["sign-in"])


@signin.post("/devices", response_model=DeviceEnrolment, summary="Enrol this tablet for PIN sign-in (admin)")
def enrol_device(body: DeviceEnrolmentRequest, command: Command, handoff: HandoffApp) -> dict:
    return handoff.signin.enrol_device(command.context(body))


@signin.put("/staff/{staff_id}/pin", response_model=PinSet, summary="Set a staff member's sign-in PIN")
def set_pin(staff_id: Annotated[Ref, Path()], body: PinRequest, command: Command, handoff: HandoffApp) -> dict:
    return command.done(handoff.signin.set_pin(command.context(body), staff_id, body.pin))


@signin.post("/sign-in", response_model=SignInResponse, summary="Sign in with staff number and PIN")
def sign_in(school_id: SchoolId, body: SignInRequest, handoff: HandoffApp) -> dict:
    return handoff.signin.sign_in(
        school_id, body.device_id, body.device_secret, body.staff_id, body.pin, body.device_time
    )
