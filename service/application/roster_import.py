"""Importing a roster file (OneRoster 1.1 CSV bundle or the simple CSV): children and their guardians.

All or nothing: a file with any bad row is refused with every problem and its line, and a good file is applied in
one transaction. Importing the same file again records nothing new; a changed file applies its differences."""

from __future__ import annotations

import tempfile
from pathlib import Path

from aggregates.base import InvalidCommandError
from service.application.oneroster_bundle import read_oneroster
from service.application.oneroster_delta import RosterDelta
from service.application.roster_files import RosterFile, RosterFileError, read_simple_csv


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


def read_uploaded_roster(data: bytes, content_type: str, school_id: str) -> RosterFile | RosterDelta:
    """Read a roster sent over HTTP: a simple CSV (text/csv) or a zipped OneRoster bundle (application/zip)."""
    suffix = UPLOAD_TYPES.get(content_type.split(";")[0].strip().lower())
    if suffix is None:
        raise BadRosterUploadError
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"roster{suffix}"
        path.write_bytes(data)
        return read_roster(path, school_id)


def read_roster(path: Path, school_id: str) -> RosterFile | RosterDelta:
    """Read a OneRoster bundle (folder or .zip) or a simple CSV, refusing it with every problem it has."""
    try:
        found = read_simple_csv(path, school_id) if path.suffix.lower() == ".csv" else read_oneroster(path)
    except RosterFileError as error:
        problems = [{"file": p.file, "line": p.line, "problem": p.message} for p in error.problems]
        raise BadRosterFileError(count=len(problems), problems=problems) from None
    if found.school_id is not None and found.school_id != school_id:  # a delta may carry no school org
        raise WrongSchoolFileError(found=found.school_id, expected=school_id)
    return found
