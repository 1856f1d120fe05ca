"""Routes of the roster (名册): import it, read a child's card, erase a child's personal data (PIPL)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request

from service.http.deps import ChildId, Command, CurrentActor, HandoffApp, SchoolId
from service.http.schemas.common import ErrorResponse, PlainAnswer
from service.http.schemas.roster import ChildCardResponse, ErasureRequest, RosterUpload

ERRORS = {status: {"model": ErrorResponse} for status in (401, 403, 404, 409, 410, 422)}
roster = APIRouter(prefix="/api/v1/schools/{school_id}", responses=ERRORS)


@roster.get(
    "/children/{child_id}",
    response_model=ChildCardResponse,
    summary="The child's roster entry (名册), name for school staff",
)
def child_card(school_id: SchoolId, child_id: ChildId, actor: CurrentActor, handoff: HandoffApp) -> dict[str, Any]:
    return handoff.roster.child_card(actor, school_id, child_id)


@roster.post(
    "/children/{child_id}/erasure", response_model=PlainAnswer, summary="Erase the child's personal data (PIPL)"
)
def erasure(child_id: ChildId, body: ErasureRequest, command: Command, handoff: HandoffApp) -> dict:
    return command.done(handoff.roster.erase_child(command.context(body), child_id, body.reason))


async def uploaded(request: Request) -> bytes:
    """The raw request body (routes stay sync; only reading the body is async)."""
    return await request.body()


ROSTER_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "text/csv": {"schema": {"type": "string"}},
            "application/zip": {"schema": {"type": "string", "format": "binary"}},
            "application/x-zip-compressed": {"schema": {"type": "string", "format": "binary"}},
            "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
        },
    }
}


@roster.post(
    "/roster",
    response_model=PlainAnswer,
    summary="Import the roster (名册): simple CSV or zipped OneRoster 1.1",
    openapi_extra=ROSTER_BODY,
)
def import_roster(
    school_id: SchoolId,
    data: Annotated[bytes, Depends(uploaded)],
    device: Annotated[RosterUpload, Depends()],
    command: Command,
    handoff: HandoffApp,
    content_type: Annotated[str, Header(max_length=200)] = "",
    dry_run: Annotated[bool, Query(description="List the changes the file would make; record nothing")] = False,
) -> dict:
    context = command.context(device.with_file(data))
    return command.done(handoff.roster.import_uploaded_roster(context, data, content_type, dry_run))
