"""Replay routes for investigators: custody as it stood at an instant, recomputed from the event log."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from service.http.deps import CurrentActor, HandoffApp, SchoolId
from service.http.schemas.common import ErrorResponse, IsoDate, IsoInstant, Ref
from service.http.schemas.replay import ReplayedChildDay, ReplayedIncident, ReplayedState, ReplayedWindow
from service.reads import replay as replay_queries

ERRORS = {s: {"model": ErrorResponse} for s in (401, 403, 404, 422)}
replay = APIRouter(prefix="/api/v1/schools/{school_id}/replay", responses=ERRORS)

At = Annotated[IsoInstant, Query(description="The instant, ISO 8601 with its offset, e.g. 2026-11-30T16:45+08:00")]
Minutes = Annotated[int, Query(ge=0, le=240, description="Minutes (0-240)")]


@replay.get("/state", response_model=ReplayedState, summary="Every child's custody as it stood at an instant")
def state_at(school_id: SchoolId, at: At, actor: CurrentActor, handoff: HandoffApp) -> dict[str, Any]:
    return replay_queries.custody_at(handoff, actor, school_id, at)


@replay.get("/children/{child_id}", response_model=ReplayedChildDay, summary="A child's day, from the event log")
def child_day(
    school_id: SchoolId,
    child_id: Annotated[Ref, Path()],
    day: Annotated[IsoDate, Query()],
    actor: CurrentActor,
    handoff: HandoffApp,
) -> dict[str, Any]:
    return replay_queries.child_day(handoff, actor, school_id, child_id, day)


@replay.get(
    "/window", response_model=ReplayedWindow, response_model_by_alias=True, summary="Custody events around an instant"
)
def window(
    school_id: SchoolId,
    at: At,
    actor: CurrentActor,
    handoff: HandoffApp,
    before: Minutes = 15,
    after: Minutes = 15,
    child: Annotated[Ref | None, Query()] = None,
) -> dict[str, Any]:
    return replay_queries.window(handoff, actor, school_id, at, before, after, child)


@replay.get(
    "/incidents/{incident_id}",
    response_model=ReplayedIncident,
    response_model_by_alias=True,
    summary="The window around an incident, with the custody chain",
)
def incident(
    school_id: SchoolId,
    incident_id: Annotated[Ref, Path()],
    actor: CurrentActor,
    handoff: HandoffApp,
    before: Minutes = 30,
    after: Minutes = 30,
) -> dict[str, Any]:
    return replay_queries.incident(handoff, actor, school_id, incident_id, before, after)
