"""Roster commands (名册): add a child, import a roster file (all or nothing; a re-import applies the differences,
see roster_sync), erase a child's personal data; and the child's card. Names are sealed with the child's own key."""

from __future__ import annotations

from typing import Any

from aggregates import roster
from aggregates.base import EventMeta
from aggregates.roster import RosterEntry
from service.application.area import Area, Decided
from service.application.context import Actor, CommandContext
from service.application.oneroster_delta import RosterDelta
from service.application.personal_data import ERASED
from service.application.roster_files import RosterFile
from service.application.roster_import import read_uploaded_roster
from service.application.roster_sync import RosterSync


class RosterCommands(Area):
    """The school roster: children, their sealed names, imports and erasure."""

    def add_child(
        self,
        ctx: CommandContext,
        child_id: str,
        home_class: str,
        grade: int,
        *,
        name: str | None = None,
        sex: str | None = None,
        homeroom_teacher_id: str | None = None,
    ) -> dict[str, Any]:
        """Put a child on the school roster; the name and sex are sealed with the child's own key."""

        def decided(meta: EventMeta) -> Decided:
            self.app.school(ctx.school_id)
            entry = self.app.load(roster.roster_entry_id(ctx.school_id, child_id), roster.project)
            entry = entry or RosterEntry.absent(ctx.school_id, child_id)
            sealed = self.app.personal.seal(ctx.school_id, child_id, {"name": name, "sex": sex}) if name or sex else ""
            added = entry.add(meta, home_class, grade, homeroom_teacher_id, sealed)
            return added, {"child_id": child_id, "home_class": home_class, "grade": grade}

        return self.app.command(ctx, "add_child", decided)

    def erase_child(self, ctx: CommandContext, child_id: str, reason: str) -> dict[str, Any]:
        """Erase a child's personal data: record the erasure, then destroy their key.

        Recorded first, so that no key is destroyed without its record; any later request (a retry, or a new one
        refused as already erased) destroys a key that an interrupted erasure left behind."""
        if self.app.roster_entry(ctx.school_id, child_id).erased:
            self.app.personal.erase(ctx.school_id, child_id)

        def decided(meta: EventMeta) -> Decided:
            recorded = self.app.roster_entry(ctx.school_id, child_id).erase(meta, reason)
            return recorded, {"child_id": child_id, "erased": True}

        answer = self.app.command(ctx, "erase_child", decided)
        self.app.personal.erase(ctx.school_id, child_id)
        return answer

    def child_card(self, actor: Actor, school_id: str, child_id: str) -> dict[str, Any]:
        """The roster entry, with the child's name for school staff, or that it was erased."""
        actor.require("read_child_day", school_id)
        entry = self.app.roster_entry(school_id, child_id)
        opened = (
            self.app.personal.open(school_id, child_id, entry.sealed) if entry.sealed and not entry.erased else None
        )
        return {
            "child_id": child_id,
            "home_class": entry.home_class,
            "grade": entry.grade,
            "homeroom_teacher_id": entry.homeroom_teacher_id,
            "name": ERASED if entry.erased else (opened or {}).get("name"),
            "erased": entry.erased,
        }

    def import_roster(
        self, ctx: CommandContext, roster: RosterFile | RosterDelta, dry_run: bool = False
    ) -> dict[str, Any]:
        """Apply the file in one transaction (or, with dry_run, only list its changes); returns a line per change."""
        return RosterSync(self.app).sync_roster(ctx, roster, dry_run)

    def import_uploaded_roster(
        self, ctx: CommandContext, data: bytes, content_type: str, dry_run: bool = False
    ) -> dict[str, Any]:
        """Import a file sent over HTTP; only a caller allowed to import gets it read at all."""
        ctx.actor.require("import_roster", ctx.school_id)
        return self.import_roster(ctx, read_uploaded_roster(data, content_type, ctx.school_id), dry_run)
