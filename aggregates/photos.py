"""Photos of a child and of the guardians who collect them, shown at the release point: which files are accepted.

A photo is personal data. Its bytes are never in the event store: they are sealed with the child's own key in the
personal data store beside it, and erased with the child. The log records only that a photo was stored, by whom,
its type and size."""

from __future__ import annotations

from aggregates.base import DomainError, InvalidCommandError, NotFoundError

PHOTO_LIMIT = 512 * 1024
"""Bytes in one photo: plenty for a face on a 1024×768 screen."""

SIGNATURES = {
    "image/jpeg": lambda data: data.startswith(b"\xff\xd8\xff"),
    "image/png": lambda data: data.startswith(b"\x89PNG\r\n\x1a\n"),
    "image/webp": lambda data: data[:4] == b"RIFF" and data[8:12] == b"WEBP",
}
"""The accepted types, each with the first bytes every file of that type starts with."""


class PhotoTooLargeError(DomainError):
    """A photo is at most PHOTO_LIMIT bytes."""

    status = 413
    code = "photo_too_large"
    message = "The photo is too large: at most 512 KB. Make it smaller (a face at 400×400 pixels is enough)."


class PhotoTypeError(DomainError):
    """Photos are JPEG, PNG or WebP, and the file must be what its type says."""

    status = 415
    code = "photo_type_not_allowed"
    message = "Photos must be JPEG, PNG or WebP files, sent with their own Content-Type."


class EmptyPhotoError(InvalidCommandError):
    """A photo has content."""

    code = "photo_empty"
    message = "The photo file is empty."


class PhotoNotFoundError(NotFoundError):
    """No photo is stored for this child or guardian (or the child was erased)."""

    code = "photo_not_found"
    message = "There is no photo of this person."


def checked_photo(data: bytes, content_type: str) -> str:
    """The photo's type, once the file is a JPEG, PNG or WebP of at most PHOTO_LIMIT bytes that is what it says."""
    if not data:
        raise EmptyPhotoError
    if len(data) > PHOTO_LIMIT:
        raise PhotoTooLargeError
    declared = content_type.split(";")[0].strip().lower()
    matches = SIGNATURES.get(declared)
    if matches is None or not matches(data):
        raise PhotoTypeError
    return declared
