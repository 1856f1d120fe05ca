"""Routes of the incident record: open, notes, guardian notifications, escalation, links, resolution; the incident
and its timeline."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from service.application.incidents import IncidentView
from service.http.deps import Command, CurrentActor, HandoffApp, SchoolId
from service.http.schemas.common import ErrorResponse, IsoDate, Ref
from service.http.schemas.incidents import (
    EscalationRequest,
    IncidentListResponse,
    IncidentNoteRequest,
    IncidentOpeningRequest,
    IncidentResponse,
    IncidentTimelineResponse,
    LinkRequest,
    NotificationRequest,
    ResolutionRequest,
)

ERRORS = {status: {"model": ErrorResponse} for status in (401, 403, 404, 409, 422)}
IncidentId = Annotated[Ref, Path(description="The incident's id at this school")]
incidents = APIRouter(prefix="/api/v1/schools/{school_id}/incidents", responses=ERRORS)


@incidents.post("", response_model=IncidentResponse, summary="Open an incident")
def open_incident(body: IncidentOpeningRequest, command: Command, handoff: HandoffApp) -> dict:
    return command.done(
        handoff.incidents.open_incident(
            command.context(body), body.kind, body.children, body.staff, body.summary, body.incident_id
        )
    )


@incidents.post("/{incident_id}/notes", response_model=IncidentResponse, summary="Add a note")
def add_note(incident_id: IncidentId, body: IncidentNoteRequest, command: Command, handoff: HandoffApp) -> dict:
    return command.done(handoff.incidents.add_incident_note(command.context(body), incident_id, body.note))


@incidents.post("/{incident_id}/notifications", response_model=IncidentResponse, summary="Record a guardian told")
def notification(incident_id: IncidentId, body: NotificationRequest, command: Command, handoff: HandoffApp) -> dict:
    return command.done(
        handoff.incidents.record_notification(
            command.context(body), incident_id, body.child_id, body.guardian_id, body.channel, body.reached
        )
    )


@incidents.post("/{incident_id}/escalation", response_model=IncidentResponse, summary="Escalate the incident")
def escalation(incident_id: IncidentId, body: EscalationRequest, command: Command, handoff: HandoffApp) -> dict:
    return command.done(handoff.incidents.escalate_incident(command.context(body), incident_id, body.to, body.reason))


@incidents.post("/{incident_id}/links", response_model=IncidentResponse, summary="Link more children or staff")
def links(incident_id: IncidentId, body: LinkRequest, command: Command, handoff: HandoffApp) -> dict:
    return command.done(
        handoff.incidents.link_to_incident(command.context(body), incident_id, body.children, body.staff)
    )


@incidents.post("/{incident_id}/resolution", response_model=IncidentResponse, summary="Resolve with an outcome")
def resolution(incident_id: IncidentId, body: ResolutionRequest, command: Command, handoff: HandoffApp) -> dict:
    return command.done(handoff.incidents.resolve_incident(command.context(body), incident_id, body.outcome))


@incidents.get("", response_model=IncidentListResponse, summary="The day's incidents (事件), open and resolved")
def incident_list(
    school_id: SchoolId,
    actor: CurrentActor,
    handoff: HandoffApp,
    day: Annotated[IsoDate | None, Query(description="Service day; today in the school's time zone if omitted")] = None,
) -> dict[str, Any]:
    on = day or handoff.school(school_id).service_day(handoff.clock())
    return {"school_id": school_id, "service_day": on, "items": handoff.incidents.incidents_on(actor, school_id, on)}


@incidents.get("/{incident_id}", response_model=IncidentResponse, summary="Where the incident stands")
def incident(school_id: SchoolId, incident_id: IncidentId, actor: CurrentActor, handoff: HandoffApp) -> IncidentView:
    return handoff.incidents.incident_view(actor, school_id, incident_id)


@incidents.get(
    "/{incident_id}/timeline", response_model=IncidentTimelineResponse, summary="The incident with its custody records"
)
def timeline(school_id: SchoolId, incident_id: IncidentId, actor: CurrentActor, handoff: HandoffApp) -> dict[str, Any]:
    return handoff.incidents.incident_timeline(actor, school_id, incident_id)
