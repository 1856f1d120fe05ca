"""API schemas of replayed state: the school or a child as of an instant, a window of records, an incident's
chain."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, Field

from replay.state import CustodyRow, EventEntry


class ReplayedState(BaseModel):
    school_id: str
    at: datetime
    service_day: date
    children: list[CustodyRow]


class ReplayedChildDay(BaseModel):
    school_id: str
    child_id: str
    service_day: date
    events: list[EventEntry]


class WindowEntry(EventEntry):
    position: Annotated[int, Field(description="Position in the event log (commit order)")]
    child_id: str
    service_day: date
    chain: Annotated[dict[str, str | None] | None, Field(description="Custodian before and after, for custody changes")]


class ReplayedWindow(BaseModel):
    school_id: str
    at: datetime
    from_: datetime = Field(alias="from")
    to: datetime
    child_id: str | None
    events: list[WindowEntry]


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


class IncidentWindowEntry(EventEntry):
    position: Annotated[int, Field(description="Position in the event log (commit order)")]
    record: Annotated[str, Field(description="incident or custody")]
    child_id: str | None


class ReplayedIncident(BaseModel):
    school_id: str
    incident: IncidentSummary
    from_: datetime = Field(alias="from")
    to: datetime
    at_opening: list[CustodyRow] = Field(description="Each child's custody when the incident opened")
    custody_chain: dict[str, list[ChainLink]] = Field(description="Per child: who had them, up to the window's end")
    events: list[IncidentWindowEntry] = Field(
        description="The incident's and its children's records, in server-time order"
    )
