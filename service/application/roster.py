"""Roster commands (名册): add a child, import a roster file (all or nothing), erase a child's personal data; and
the child's card. Names are sealed with the child's own key."""

from __future__ import annotations

from functools import reduce
from typing import Any

from aggregates import roster
from aggregates.base import EventMeta
from aggregates.guardians import Guardians
from aggregates.guardians import evolve as guardian_evolve
from aggregates.roster import RosterEntry
from aggregates.roster import project as roster_project
from service.application.area import Area, Decided
from service.application.context import Actor, CommandContext
from service.application.personal_data import ERASED
from service.application.roster_files import RosterChild, RosterFile
from service.application.roster_import import read_uploaded_roster


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
        """Erase a child's personal data by destroying their key; the erasure itself is recorded."""

        def decided(meta: EventMeta) -> tuple[list[Any], dict[str, Any]]:
            entry = self.app.roster_entry(ctx.school_id, child_id)
            recorded = entry.erase(meta, reason)
            self.app.personal.erase(ctx.school_id, child_id)
            return recorded, {"child_id": child_id, "erased": True}

        return self.app.command(ctx, "erase_child", decided)

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

    def import_roster(self, ctx: CommandContext, roster: RosterFile) -> dict[str, Any]:
        """Add the children and guardians not yet known, in one transaction; returns what was added."""

        def decided(meta: EventMeta) -> tuple[list[Any], dict[str, Any]]:
            self.app.school(ctx.school_id)
            recorded: list[Any] = []
            counts = {"children_added": 0, "guardians_added": 0, "children_unchanged": 0}
            for child in roster.children:
                recorded += self._import_child(meta, child, counts)
            return recorded, counts

        return self.app.command(ctx, "import_roster", decided)

    def import_uploaded_roster(self, ctx: CommandContext, data: bytes, content_type: str) -> dict[str, Any]:
        """Import a file sent over HTTP; only a caller allowed to import gets it read at all."""
        ctx.actor.require("import_roster", ctx.school_id)
        return self.import_roster(ctx, read_uploaded_roster(data, content_type, ctx.school_id))

    def _import_child(self, meta: EventMeta, child: RosterChild, counts: dict[str, int]) -> list[Any]:
        school_id = meta.school_id
        entry = self.app.load(RosterEntry.absent(school_id, child.child_id).id, roster_project)
        events: list[Any] = []
        if entry is None:
            name = f"{child.family_name}{child.given_name}"
            sealed = self.app.personal.seal(school_id, child.child_id, {"name": name, "sex": child.sex})
            events += RosterEntry.absent(school_id, child.child_id).add(
                meta, child.home_class, child.grade, child.homeroom_teacher_id, sealed
            )
            counts["children_added"] += 1
        else:
            counts["children_unchanged"] += 1
        guardians = self.app.guardians(school_id, child.child_id)
        for guardian in child.guardians:
            if guardian.guardian_id in guardians.authorisations or guardians.is_flagged(guardian.guardian_id):
                continue
            events += self._authorise_imported(meta, guardians, child.child_id, guardian)
            guardians = reduce(guardian_evolve, events[-1:], guardians)
            counts["guardians_added"] += 1
        return events

    def _authorise_imported(self, meta: EventMeta, guardians: Guardians, child_id: str, guardian: Any) -> list:
        """Imported guardians have no pickup code yet: they are checked by identity document until given one."""
        name = f"{guardian.family_name}{guardian.given_name}"
        sealed = self.app.personal.seal(meta.school_id, child_id, {"name": name, "phone": guardian.phone})
        return guardians.authorise(meta, guardian.guardian_id, guardian.relation, "", None, None, None, sealed)
