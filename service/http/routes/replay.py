"""Replay routes for investigators: custody as it stood at an instant, recomputed from the event log."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from service.http.deps import CurrentActor, HandoffApp, SchoolId
from service.http.schemas.common import ErrorResponse, HistoryEntry, IsoDate, IsoInstant, Ref
from service.reads import replay as replay_queries

ERRORS = {s: {"model": ErrorResponse} for s in (401, 403, 404, 422)}
replay = APIRouter(prefix="/api/v1/schools/{school_id}/replay", responses=ERRORS)

At = Annotated[IsoInstant, Query(description="The instant, ISO 8601 with its offset, e.g. 2026-11-30T16:45+08:00")]
Minutes = Annotated[int, Query(ge=0, le=240, description="Minutes (0-240)")]


class ReplayedCustody(BaseModel):
    child_id: str
    status: str
    custodian_id: str | None
    place_code: str | None
    arrived_guardians: list[str]
    confirmed_guardian_id: str | None
    released_to: str | None
    self_released: bool
    version: int
    last_change: str | None = Field(description="Server time of the last event folded in; null if none was")


class ReplayedState(BaseModel):
    school_id: str
    at: datetime
    service_day: date
    children: list[ReplayedCustody]


class ReplayedChildDay(BaseModel):
    school_id: str
    child_id: str
    service_day: date
    events: list[HistoryEntry]


class WindowEntry(HistoryEntry):
    position: int = Field(description="Position in the event log (commit order)")
    child_id: str
    service_day: date
    chain: dict[str, str | None] | None = Field(description="Custodian before and after, for custody changes")


class ReplayedWindow(BaseModel):
    school_id: str
    at: datetime
    from_: datetime = Field(alias="from")
    to: datetime
    child_id: str | None
    events: list[WindowEntry]


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


class IncidentSummary(BaseModel):
    incident_id: str
    kind: str
    service_day: date
    summary: str
    children: list[str] = Field(description="Named at opening or linked later")
    staff: list[str]
    opened_at: datetime
    opened_by: str
    resolved_at: datetime | None
    outcome: str | None
    source: str | None


class ChainLink(BaseModel):
    server_time: str
    type: str
    from_: str | None = Field(alias="from")
    to: str | None
    place_code: str | None
    actor_id: str


class IncidentWindowEntry(HistoryEntry):
    position: int = Field(description="Position in the event log (commit order)")
    record: str = Field(description="incident or custody")
    child_id: str | None


class ReplayedIncident(BaseModel):
    school_id: str
    incident: IncidentSummary
    from_: datetime = Field(alias="from")
    to: datetime
    at_opening: list[ReplayedCustody] = Field(description="Each child's custody when the incident opened")
    custody_chain: dict[str, list[ChainLink]] = Field(description="Per child: who had them, up to the window's end")
    events: list[IncidentWindowEntry] = Field(
        description="The incident's and its children's records, in server-time order"
    )


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
