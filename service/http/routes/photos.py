"""Routes of photos (the release screen shows them): an admin uploads a child's or a guardian's photo as the request
body; staff of the school read it back with their token. The answer is the image, never cached (`no-store`, as
every answer under /api/), and its URL holds ids only."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

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


@dataclass
class PhotoCall:
    """What a photo upload brings besides whose photo it is: the image, the device's fields, the command and the
    declared type."""

    data: Photo
    device: Annotated[PhotoUpload, Depends()]
    command: Command
    handoff: HandoffApp
    content_type: ContentType = ""

    def store(self, child_id: str, guardian_id: str | None) -> dict[str, Any]:
        """Store the photo of the child, or of one of the child's guardians, sealed with the child's key."""
        context = self.command.context(self.device.with_photo(self.data))
        stored = self.handoff.photos.store_photo(context, child_id, guardian_id, self.data, self.content_type)
        return self.command.done(stored)


Upload = Annotated[PhotoCall, Depends()]


@photos.put("/photo", response_model=PhotoStoredAnswer, summary="Store the child's photo", openapi_extra=UPLOAD)
def store_child_photo(child_id: ChildId, upload: Upload) -> dict[str, Any]:
    return upload.store(child_id, None)


@photos.put(
    "/guardians/{guardian_id}/photo",
    response_model=PhotoStoredAnswer,
    summary="Store a guardian's photo (sealed with the child's key)",
    openapi_extra=UPLOAD,
)
def store_guardian_photo(child_id: ChildId, guardian_id: GuardianId, upload: Upload) -> dict[str, Any]:
    return upload.store(child_id, guardian_id)


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
