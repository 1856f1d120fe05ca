"""API schemas of the incident record, one per direction. Free text must hold no names or phone numbers."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StrictBool, StringConstraints
from typing_extensions import NotRequired

from aggregates.incidents import KINDS
from replay.state import EventEntry
from service.application.incidents import IncidentView
from service.http.schemas.common import CommandRequest, NoControlCharacters, Reason, Ref

Kind = Literal[KINDS]  # type: ignore[valid-type]  # the aggregate's kinds, in its order
FreeText = Annotated[str, NoControlCharacters, StringConstraints(min_length=1, max_length=1000, strip_whitespace=True)]
People = Annotated[list[Ref], Field(max_length=40)]
NO_PERSONAL_DATA = "Free text: write no names, phone numbers or other personal data"


class IncidentOpeningRequest(CommandRequest):
    kind: Kind
    children: People = Field(default=[], description="Children involved; at least one unless kind is other")
    staff: People = Field(default=[], description="Staff involved")
    summary: FreeText = Field(description=NO_PERSONAL_DATA)
    incident_id: Ref | None = Field(default=None, description="Chosen by the device; a new id if omitted")


class IncidentNoteRequest(CommandRequest):
    note: FreeText = Field(description=NO_PERSONAL_DATA)


class NotificationRequest(CommandRequest):
    child_id: Ref = Field(description="A child linked to the incident")
    guardian_id: Ref = Field(description="A guardian on that child's list")
    channel: Literal["phone", "message", "in_person"]
    reached: StrictBool = Field(description="false records an attempt that did not reach the guardian")


class EscalationRequest(CommandRequest):
    to: Literal["duty_leader", "principal", "police", "medical", "district"]
    reason: Reason = Field(description=NO_PERSONAL_DATA)


class LinkRequest(CommandRequest):
    children: People = []
    staff: People = []


class ResolutionRequest(CommandRequest):
    outcome: FreeText = Field(description=NO_PERSONAL_DATA)


class IncidentResponse(IncidentView):
    replayed: NotRequired[Annotated[bool | None, Field(description="On commands: the stored answer to a retried key")]]


class TimelineEntry(EventEntry):
    record: Literal["incident", "custody"]
    child_id: Annotated[str | None, Field(description="The child of a custody record, or of a guardian notification")]


class IncidentListResponse(BaseModel):
    school_id: str
    service_day: date
    items: list[IncidentResponse] = Field(description="The day's incidents, open or resolved, as they were opened")


class IncidentTimelineResponse(BaseModel):
    incident: IncidentResponse
    timeline: list[TimelineEntry] = Field(description="In server-time order")
