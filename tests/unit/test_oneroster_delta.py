"""Reading a OneRoster 1.1 delta bundle: only the rows that changed, each with its status and time; a row to be
deleted needs nothing else; an absent row changes nothing. What the changes mean is resolved against the roster in
tests/api/test_roster_sync_over_http.py."""

from __future__ import annotations

from pathlib import Path

from service.application.oneroster_bundle import read_oneroster
from service.application.oneroster_delta import Home, RosterDelta, StudentChange
from service.application.roster_files import RosterGuardian
from tests.unit.test_roster_files import Files, bundle, enrol, expect, klass, problems, user, write_bundle

WHEN = "2026-10-08T09:00:00.000Z"
MANIFEST = "manifest.csv"
STAMP = {"dateLastModified": WHEN}


def delta(**rows: list[dict[str, str]]) -> Files:
    """A delta bundle of the given files; every other file absent."""
    manifest = [row | {"value": "absent"} if "file." in row["propertyName"] else row for row in bundle()[MANIFEST]]
    for row in manifest:
        if row["propertyName"][5:] in rows:
            row["value"] = "delta"
    return {MANIFEST: manifest} | {f"{name}.csv": found for name, found in rows.items()}


def test_a_delta_is_read_as_changes_by_person(tmp_path: Path) -> None:
    files = delta(
        users=[
            {"sourcedId": "usr-p2", "status": "tobedeleted", "dateLastModified": WHEN},  # nothing else needed
            user("usr-s1", "student", "Alicia", "Example", identifier="S-0001", grades="03", agentSourcedIds="usr-p1"),
            user("usr-p5", "parent", "Pia", "Example", phone="555-0105", agentSourcedIds="usr-s2"),
        ],
        classes=[klass("hr-3-9", "Grade 3 Class 9", "3-9", "homeroom", "03") | {"status": "active"} | STAMP],
        enrollments=[enrol("enr-x", "hr-3-9", "usr-s3", "student", beginDate="2026-10-12", endDate="")],
    )
    found = read_oneroster(write_bundle(tmp_path / "delta", files))
    assert isinstance(found, RosterDelta) and found.school_id is None
    assert found.removed == ("usr-p2",)
    assert found.linked == (("usr-s2", RosterGuardian("usr-p5", "Pia", "Example", "parent", "555-0105")),)
    alicia = StudentChange("S-0001", ("users.csv", 3), ("Alicia", "Example"), 3, ("usr-p1",), source_id="usr-s1")
    moved = StudentChange("usr-s3", ("enrollments.csv", 2), home=Home("3-9", "Grade 3 Class 9", "", "2026-10-12", None))
    assert found.students == (alicia, moved)


def test_a_delta_row_says_its_status_and_time_and_an_enrolment_comes_with_its_class(tmp_path: Path) -> None:
    files = delta(
        users=[user("usr-s1", "student", "Alicia", "Example", grades="03", dateLastModified="")],
        enrollments=[enrol("enr-x", "hr-3-9", "usr-s1", "student")],
    )
    expect(
        problems(lambda: read_oneroster(write_bundle(tmp_path / "delta", files))),
        ("users.csv", 2, "empty required fields: dateLastModified"),
        ("enrollments.csv", 2, "class 'hr-3-9' is not in classes.csv"),
    )
