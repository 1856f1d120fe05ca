"""Routes of a school's set-up, for its admin: places, staff, and staff tokens. The school itself is registered by
an operator on the command line (`handoff school register`)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Path

from aggregates.staff import Role
from service.http.deps import Command, HandoffApp
from service.http.schemas.common import ErrorResponse, PlainAnswer, Ref
from service.http.schemas.school import PlaceRequest, StaffRequest, TokenAnswer, TokenRequest

ERRORS = {status: {"model": ErrorResponse} for status in (401, 403, 404, 409, 422)}
school = APIRouter(prefix="/api/v1/schools/{school_id}", responses=ERRORS)


@school.post("/places", response_model=PlainAnswer, summary="Add a classroom, venue, the gate or a release point")
def add_place(body: PlaceRequest, command: Command, handoff: HandoffApp) -> dict:
    return command.done(
        handoff.setup.add_place(command.context(body), body.place_code, body.kind, body.label_zh, body.label_en)
    )


@school.post("/staff", response_model=PlainAnswer, summary="Register a member of the school's staff")
def add_staff(body: StaffRequest, command: Command, handoff: HandoffApp) -> dict:
    return command.done(handoff.staff.set_up_staff(command.context(body), body.staff_id, Role(body.role)))


@school.post("/staff/{staff_id}/tokens", response_model=TokenAnswer, summary="Issue a staff token (shown once)")
def issue_token(staff_id: Annotated[Ref, Path()], body: TokenRequest, command: Command, handoff: HandoffApp) -> dict:
    return command.done(handoff.staff.issue_token(command.context(body), staff_id, timedelta(days=body.days)))
