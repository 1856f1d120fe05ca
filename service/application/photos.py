"""Photos of a child and of their guardians, for the release screen: an admin stores one (sealed with the child's
key beside it, never in the log), staff of the school see it, and erasing the child deletes it."""

from __future__ import annotations

from typing import Any

from aggregates.base import EventMeta
from aggregates.guardians import GuardianNotFoundError
from aggregates.photos import PhotoNotFoundError, checked_photo
from aggregates.roster import CHILD_PHOTO
from service.application.area import Area, Decided
from service.application.context import Actor, CommandContext


class PhotoCommands(Area):
    """Storing and showing the photos of a child and of their guardians."""

    def store_photo(
        self, ctx: CommandContext, child_id: str, guardian_id: str | None, data: bytes, content_type: str
    ) -> dict[str, Any]:
        """Keep a photo of the child (guardian_id None) or of one of their guardians, replacing any earlier one."""

        def decided(meta: EventMeta) -> Decided:
            kind = checked_photo(data, content_type)  # after the role check: a caller not allowed learns nothing
            entry = self.app.roster_entry(ctx.school_id, child_id)
            if (
                guardian_id is not None
                and guardian_id not in self.app.guardians(ctx.school_id, child_id).authorisations
            ):
                raise GuardianNotFoundError
            recorded = entry.store_photo(meta, guardian_id, kind, len(data))
            self.app.personal.keep_photo(ctx.school_id, child_id, guardian_id or CHILD_PHOTO, kind, data)
            return recorded, {"child_id": child_id, "guardian_id": guardian_id, "content_type": kind, "size": len(data)}

        return self.app.command(ctx, "store_photo", decided)

    def photo(self, actor: Actor, school_id: str, child_id: str, guardian_id: str | None) -> tuple[str, bytes]:
        """The photo's type and bytes, for staff of the school; none stored, or the child erased: not found."""
        actor.require("read_child_day", school_id)
        self.app.roster_entry(school_id, child_id)
        found = self.app.personal.photo(school_id, child_id, guardian_id or CHILD_PHOTO)
        if found is None:
            raise PhotoNotFoundError
        return found
