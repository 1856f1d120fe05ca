"""Routes of emergency mode (应急预案): enter it, leave it, and the live roll of every child on site."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from service.http.deps import Command, CurrentActor, HandoffApp, SchoolId
from service.http.schemas.common import ErrorResponse, PlainAnswer
from service.http.schemas.emergency import EmergencyEndRequest, EmergencyRequest

ERRORS = {status: {"model": ErrorResponse} for status in (401, 403, 404, 409, 410, 422)}
emergency = APIRouter(prefix="/api/v1/schools/{school_id}", responses=ERRORS)


@emergency.post("/emergency", response_model=PlainAnswer, summary="Enter emergency mode (应急预案), duty leader")
def enter_emergency(body: EmergencyRequest, command: Command, handoff: HandoffApp) -> dict:
    return command.done(handoff.emergency.enter_emergency(command.context(body), body.reunification_point, body.reason))


@emergency.post("/emergency/end", response_model=PlainAnswer, summary="Leave emergency mode, duty leader")
def leave_emergency(body: EmergencyEndRequest, command: Command, handoff: HandoffApp) -> dict:
    return command.done(handoff.emergency.leave_emergency(command.context(body), body.reason))


@emergency.get("/emergency/roll", response_model=dict[str, Any], summary="Live roll: every child on site and custodian")
def emergency_roll(school_id: SchoolId, actor: CurrentActor, handoff: HandoffApp) -> dict[str, Any]:
    return handoff.emergency.emergency_roll(actor, school_id)
