"""Routes of photos (the release screen shows them): an admin uploads a child's or a guardian's photo as the request
body; staff of the school read it back with their token. The answer is the image, never cached (`no-store`, as
every answer under /api/), and its URL holds ids only."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Response

from service.http.deps import ChildId, Command, CurrentActor, HandoffApp, SchoolId
from service.http.routes.roster import uploaded
from service.http.schemas.common import ErrorResponse, Ref
from service.http.schemas.photos import PhotoStoredAnswer, PhotoUpload

ERRORS = {status: {"model": ErrorResponse} for status in (401, 403, 404, 409, 410, 413, 415, 422)}
photos = APIRouter(prefix="/api/v1/schools/{school_id}/children/{child_id}", responses=ERRORS, tags=["photos"])
TYPES = ("image/jpeg", "image/png", "image/webp")
IMAGE = {type_: {"schema": {"type": "string", "format": "binary"}} for type_ in TYPES}
UPLOAD = {"requestBody": {"required": True, "content": IMAGE}}
SHOWN = {200: {"content": IMAGE, "description": "The photo"}}
GuardianId = Annotated[Ref, Path(description="The guardian in the photo")]
Photo = Annotated[bytes, Depends(uploaded)]
ContentType = Annotated[str, Header(max_length=200)]


@photos.put("/photo", response_model=PhotoStoredAnswer, summary="Store the child's photo", openapi_extra=UPLOAD)
def store_child_photo(
    child_id: ChildId,
    data: Photo,
    device: Annotated[PhotoUpload, Depends()],
    command: Command,
    handoff: HandoffApp,
    content_type: ContentType = "",
) -> dict:
    context = command.context(device.with_photo(data))
    return command.done(handoff.photos.store_photo(context, child_id, None, data, content_type))


@photos.put(
    "/guardians/{guardian_id}/photo",
    response_model=PhotoStoredAnswer,
    summary="Store a guardian's photo (sealed with the child's key)",
    openapi_extra=UPLOAD,
)
def store_guardian_photo(
    child_id: ChildId,
    guardian_id: GuardianId,
    data: Photo,
    device: Annotated[PhotoUpload, Depends()],
    command: Command,
    handoff: HandoffApp,
    content_type: ContentType = "",
) -> dict:
    context = command.context(device.with_photo(data))
    return command.done(handoff.photos.store_photo(context, child_id, guardian_id, data, content_type))


@photos.get("/photo", response_class=Response, responses=SHOWN, summary="The child's photo (staff of the school)")
def child_photo(school_id: SchoolId, child_id: ChildId, actor: CurrentActor, handoff: HandoffApp) -> Response:
    content_type, data = handoff.photos.photo(actor, school_id, child_id, None)
    return Response(data, media_type=content_type)


@photos.get(
    "/guardians/{guardian_id}/photo", response_class=Response, responses=SHOWN, summary="A guardian's photo (staff)"
)
def guardian_photo(
    school_id: SchoolId, child_id: ChildId, guardian_id: GuardianId, actor: CurrentActor, handoff: HandoffApp
) -> Response:
    content_type, data = handoff.photos.photo(actor, school_id, child_id, guardian_id)
    return Response(data, media_type=content_type)
