"""Importing a roster file (OneRoster 1.1 CSV bundle or the simple CSV): children and their guardians.

All or nothing: a file with any bad row is refused with every problem and its line, and a good file is applied in
one transaction. Importing the same file again records nothing new."""

from __future__ import annotations

import tempfile
from functools import reduce
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aggregates.base import EventMeta, InvalidCommandError
from aggregates.guardians import Guardians
from aggregates.guardians import evolve as guardian_evolve
from aggregates.roster import RosterEntry
from aggregates.roster import project as roster_project
from service.application.context import CommandContext
from service.application.oneroster_bundle import read_oneroster
from service.application.roster_files import RosterChild, RosterFile, RosterFileError, read_simple_csv

if TYPE_CHECKING:
    from service.application.handoff import Handoff


class BadRosterFileError(InvalidCommandError):
    """A roster file with any bad row applies nothing."""

    code = "bad_roster_file"
    message = "The roster file has {count} problem(s); nothing was imported."


class BadRosterUploadError(InvalidCommandError):
    """Rosters are uploaded as a simple CSV or a zipped OneRoster bundle."""

    code = "bad_roster_upload"
    message = "Send the roster as text/csv (simple CSV) or application/zip (OneRoster 1.1 bundle)."


class WrongSchoolFileError(InvalidCommandError):
    """A roster file is imported into the school it describes."""

    code = "roster_of_another_school"
    message = "This roster file is for school {found}, not {expected}."


UPLOAD_TYPES = {
    "text/csv": ".csv",
    "application/zip": ".zip",
    "application/x-zip-compressed": ".zip",  # what Windows browsers send for a .zip
    "application/octet-stream": ".zip",  # what a browser sends when it does not know the type
}


def read_uploaded_roster(data: bytes, content_type: str, school_id: str) -> RosterFile:
    """Read a roster sent over HTTP: a simple CSV (text/csv) or a zipped OneRoster bundle (application/zip)."""
    suffix = UPLOAD_TYPES.get(content_type.split(";")[0].strip().lower())
    if suffix is None:
        raise BadRosterUploadError
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"roster{suffix}"
        path.write_bytes(data)
        return read_roster(path, school_id)


def read_roster(path: Path, school_id: str) -> RosterFile:
    """Read a OneRoster bundle (folder or .zip) or a simple CSV, refusing it with every problem it has."""
    try:
        found = read_simple_csv(path, school_id) if path.suffix.lower() == ".csv" else read_oneroster(path)
    except RosterFileError as error:
        problems = [{"file": p.file, "line": p.line, "problem": p.message} for p in error.problems]
        raise BadRosterFileError(count=len(problems), problems=problems) from None
    if found.school_id != school_id:
        raise WrongSchoolFileError(found=found.school_id, expected=school_id)
    return found


class RosterImport:
    """Applies a parsed roster file to the event store."""

    def import_roster(self: Handoff, ctx: CommandContext, roster: RosterFile) -> dict[str, Any]:
        """Add the children and guardians not yet known, in one transaction; returns what was added."""

        def decided(meta: EventMeta) -> tuple[list[Any], dict[str, Any]]:
            self.school(ctx.school_id)
            recorded: list[Any] = []
            counts = {"children_added": 0, "guardians_added": 0, "children_unchanged": 0}
            for child in roster.children:
                recorded += self._import_child(meta, child, counts)
            return recorded, counts

        return self.command(ctx, "import_roster", decided)

    def import_uploaded_roster(self: Handoff, ctx: CommandContext, data: bytes, content_type: str) -> dict[str, Any]:
        """Import a file sent over HTTP; only a caller allowed to import gets it read at all."""
        ctx.actor.require("import_roster", ctx.school_id)
        return self.import_roster(ctx, read_uploaded_roster(data, content_type, ctx.school_id))

    def _import_child(self: Handoff, meta: EventMeta, child: RosterChild, counts: dict[str, int]) -> list[Any]:
        school_id = meta.school_id
        entry = self._get(RosterEntry.absent(school_id, child.child_id).id, roster_project)
        events: list[Any] = []
        if entry is None:
            name = f"{child.family_name}{child.given_name}"
            sealed = self.personal.seal(school_id, child.child_id, {"name": name, "sex": child.sex})
            events += RosterEntry.absent(school_id, child.child_id).add(
                meta, child.home_class, child.grade, child.homeroom_teacher_id, sealed
            )
            counts["children_added"] += 1
        else:
            counts["children_unchanged"] += 1
        guardians = self.guardians(school_id, child.child_id)
        for guardian in child.guardians:
            if guardian.guardian_id in guardians.authorisations or guardians.is_flagged(guardian.guardian_id):
                continue
            events += self._authorise_imported(meta, guardians, child.child_id, guardian)
            guardians = reduce(guardian_evolve, events[-1:], guardians)
            counts["guardians_added"] += 1
        return events

    def _authorise_imported(self: Handoff, meta: EventMeta, guardians: Guardians, child_id: str, guardian: Any) -> list:
        """Imported guardians have no pickup code yet: they are checked by identity document until given one."""
        name = f"{guardian.family_name}{guardian.given_name}"
        sealed = self.personal.seal(meta.school_id, child_id, {"name": name, "phone": guardian.phone})
        return guardians.authorise(meta, guardian.guardian_id, guardian.relation, "", None, None, None, sealed)
