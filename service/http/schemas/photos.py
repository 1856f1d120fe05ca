"""API schemas of photos: the device fields of an upload (the body is the image) and the answer."""

from __future__ import annotations

import hashlib

from pydantic import BaseModel

from service.http.schemas.common import CommandRequest


class PhotoUpload(CommandRequest):
    """The device fields of a photo upload, given as query parameters (the body is the image)."""

    def with_photo(self, data: bytes) -> UploadedPhoto:
        """The command, with the photo's hash, so that a key reused for another photo is refused."""
        return UploadedPhoto(
            device_id=self.device_id, device_time=self.device_time, sha256=hashlib.sha256(data).hexdigest()
        )


class UploadedPhoto(CommandRequest):
    sha256: str


class PhotoStoredAnswer(BaseModel):
    child_id: str
    guardian_id: str | None
    content_type: str
    size: int
    replayed: bool = False
