"""Route of dismissal at the gate: the pickup code alone (家长到达 by code), for every child of its guardian."""

from __future__ import annotations

from fastapi import APIRouter

from service.http.deps import Command, HandoffApp
from service.http.schemas.common import ErrorResponse
from service.http.schemas.dismissal import PickupRequest, PickupResponse

ERRORS = {status: {"model": ErrorResponse} for status in (401, 403, 404, 409, 422)}
dismissal = APIRouter(prefix="/api/v1/schools/{school_id}", responses=ERRORS, tags=["dismissal"])


@dismissal.post(
    "/pickups", response_model=PickupResponse, summary="A pickup code alone: its guardian, for all their children"
)
def pickup(body: PickupRequest, command: Command, handoff: HandoffApp) -> dict:
    return command.done(handoff.dismissal.register_arrival_by_code(command.context(body), body.pickup_code))
