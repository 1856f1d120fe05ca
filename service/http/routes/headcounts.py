"""Routes of a place's headcounts (清点人数) and the duty leaders' inspection rounds (值班巡查)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from service.http.deps import Command, HandoffApp
from service.http.schemas.common import ErrorResponse, Ref
from service.http.schemas.headcounts import DutyRoundRequest, DutyRoundResponse, HeadcountRequest, HeadcountResponse

ERRORS = {status: {"model": ErrorResponse} for status in (401, 403, 404, 409, 422)}
headcounts = APIRouter(prefix="/api/v1/schools/{school_id}/places/{place_code}", responses=ERRORS)


@headcounts.post("/headcounts", response_model=HeadcountResponse, summary="Record a headcount (清点人数)")
def headcount(
    place_code: Annotated[Ref, Path()], body: HeadcountRequest, command: Command, handoff: HandoffApp
) -> dict:
    return command.done(handoff.headcounts.record_headcount(command.context(body), place_code, body.present))


@headcounts.post("/duty-rounds", response_model=DutyRoundResponse, summary="Record an inspection round (值班巡查)")
def duty_round(
    place_code: Annotated[Ref, Path()], body: DutyRoundRequest, command: Command, handoff: HandoffApp
) -> dict:
    return command.done(
        handoff.headcounts.record_duty_round(command.context(body), place_code, body.findings, body.all_well)
    )
