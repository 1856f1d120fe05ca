"""API schemas of the roster (名册): a child's card, the uploaded roster file, erasure of a child's personal data."""

from __future__ import annotations

import hashlib

from pydantic import BaseModel

from service.http.schemas.common import CommandRequest, Reason


class ChildCardResponse(BaseModel):
    child_id: str
    home_class: str
    grade: int
    homeroom_teacher_id: str | None
    name: str | None
    erased: bool


class RosterUpload(CommandRequest):
    """The device fields of a roster upload, given as query parameters (the body is the file)."""

    def with_file(self, data: bytes) -> UploadedRoster:
        """The command, with the file's hash, so that a key reused for another file is refused."""
        return UploadedRoster(
            device_id=self.device_id, device_time=self.device_time, sha256=hashlib.sha256(data).hexdigest()
        )


class UploadedRoster(CommandRequest):
    sha256: str


class ErasureRequest(CommandRequest):
    """Why the child's personal data is erased (PIPL); the custody records stay, without names."""

    reason: Reason
