"""Reading a OneRoster 1.1 delta bundle: only the rows that changed since the school's last export, each `active` (new
or changed: the row is the whole record) or `tobedeleted`. Pure. What the changes mean for each child is resolved
against what Handoff holds by roster_delta, in the command that applies them.

A delta never reads an absent row as a change: a student, guardian or class it does not carry stays as it is."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from service.application.oneroster import split
from service.application.roster_files import (
    RELATIONS,
    RosterFileError,
    RosterGuardian,
    RosterStaff,
    RowStamp,
    _Problems,
)

if TYPE_CHECKING:
    from service.application.oneroster_bundle import _Bundle

USERS, ENROLLMENTS = "users.csv", "enrollments.csv"
GRADES = {f"{n:02d}": n for n in range(1, 13)}
SEX = {"female": "female", "male": "male"}
STAMPED = ("users", "enrollments", "demographics")
"""The files whose rows say something about a person: a row no newer than the one applied before is not applied."""
DELTA_IGNORED = (
    "a removed enrolment with no new homeroom one: the child keeps their home class until the records give another",
)


@dataclass(frozen=True)
class Home:
    """A student's homeroom enrolment in the delta; an empty teacher: the class's teacher as Handoff knows it."""

    home_class: str
    home_class_name: str
    homeroom_teacher_id: str | None
    starts_on: str | None
    ends_on: str | None


@dataclass(frozen=True)
class StudentChange:
    """What a delta says about one student; None: it does not say, and the child keeps what Handoff holds."""

    child_id: str
    where: tuple[str, int]  # the file and line that name the student, for problems found against what Handoff holds
    names: tuple[str, str] | None = None  # given, family
    grade: int | None = None
    agents: tuple[RosterGuardian | str, ...] | None = None  # a guardian not in the delta is named by id only
    home: Home | None = None
    demographics: tuple[str | None, str | None] | None = None  # sex, birth date
    source_id: str | None = None  # the student row's sourcedId


@dataclass(frozen=True)
class RosterDelta:
    school_id: str | None  # None when the delta carries no school org
    students: tuple[StudentChange, ...]
    removed: tuple[str, ...]  # people to be deleted: a child leaves, a guardian's authorisations are revoked
    linked: tuple[tuple[str, RosterGuardian], ...]  # (child id, guardian) from a guardian's own row
    class_teachers: tuple[tuple[str, str], ...]  # (home class, teacher id) from a teacher's homeroom enrolment
    staff: tuple[RosterStaff, ...]
    ignored: tuple[str, ...]
    stamps: tuple[RowStamp, ...] = ()
    known_as: tuple[tuple[str, str], ...] = ()  # (sourcedId, Handoff id) of each person whose row gives an identifier
    without: Callable[[frozenset[str]], RosterDelta] | None = field(default=None, compare=False, repr=False)
    """The same delta read again without the rows of the given stamp keys."""


def stamps(bundle: _Bundle) -> tuple[RowStamp, ...]:
    """When each row of the files about people last changed, as the bundle says."""
    rows = ((f"{table}.csv", bundle.tables.get(table, {})) for table in STAMPED)
    found = (
        (file, line, key, row.get("dateLastModified", "")) for file, got in rows for key, (line, row) in got.items()
    )
    return tuple(RowStamp(*row) for row in found if row[3])


def known_as(bundle: _Bundle) -> tuple[tuple[str, str], ...]:
    """Each person whose users row gives an identifier, Handoff's id for them, by sourcedId: a later delta may name
    them by sourcedId alone (a deleted row needs nothing else)."""
    rows = bundle.tables.get("users", {}).values()
    return tuple(
        (row["sourcedId"], row["identifier"])
        for _, row in rows
        if row.get("identifier") not in (None, "", row["sourcedId"])
    )


def read_delta(bundle: _Bundle, ignored: tuple[str, ...]) -> RosterDelta:
    """The changes a checked delta bundle carries, by person; problems go to the bundle's list."""
    reader, without = _Delta(bundle), lambda keys: _without(bundle, ignored, keys)
    school, staff = bundle.school(), bundle.staff()
    linked, removed = reader.guardian_rows()
    changes = reader.student_rows()
    for child_id, (line, home) in reader.homes().items():
        changes[child_id] = _with(changes.get(child_id) or StudentChange(child_id, (ENROLLMENTS, line)), home=home)
    for child_id, (line, found) in reader.demographics().items():
        change = changes.get(child_id) or StudentChange(child_id, ("demographics.csv", line))
        changes[child_id] = _with(change, demographics=found)
    removed += reader.removed_students
    people = (school, tuple(changes.values()), removed, linked, reader.teachers, staff, (*ignored, *DELTA_IGNORED))
    return RosterDelta(*people, stamps(bundle), known_as(bundle), without)


def _without(bundle: _Bundle, ignored: tuple[str, ...], keys: frozenset[str]) -> RosterDelta:
    """The delta read again, leaving out the given rows; refused with every problem that leaves (e.g. an enrolment
    whose class row was left out)."""
    trimmed = copy.copy(bundle)
    trimmed.problems = _Problems()
    trimmed.tables = {
        table: {key: got for key, got in rows.items() if f"{table}.csv/{key}" not in keys}
        for table, rows in bundle.tables.items()
    }
    found = read_delta(trimmed, ignored)
    if trimmed.problems:
        raise RosterFileError(trimmed.problems)
    return found


def _with(change: StudentChange, **fields: object) -> StudentChange:
    return StudentChange(**(vars(change) | fields))  # type: ignore[arg-type]


class _Delta:
    """The rows of a delta bundle, read by person."""

    def __init__(self, bundle: _Bundle) -> None:
        self.bundle, self.need = bundle, bundle.problems.require
        self.users = bundle.tables.get("users", {})
        self.removed_students: tuple[str, ...] = ()
        self.teachers: tuple[tuple[str, str], ...] = ()

    def person(self, sourced_id: str) -> str:
        """A person's Handoff id: their identifier when the delta carries their row, else the sourcedId (which the
        roster entry keeps for a child)."""
        line, row = self.users.get(sourced_id, (0, {}))
        return row.get("identifier") or sourced_id

    def student_rows(self) -> dict[str, StudentChange]:
        found = {}
        for line, row in self.users.values():
            if row["status"] == "tobedeleted" or row["role"] != "student":
                continue
            child_id, grades = self.bundle.external_id(USERS, line, row), split(row["grades"])
            ok = len(grades) == 1 and grades[0] in GRADES
            self.need(ok, USERS, line, f"grades {row['grades']!r}: expected one of 01..12")
            agents = tuple(self.agent(line, agent) for agent in split(row["agentSourcedIds"]))
            names = (row["givenName"], row["familyName"])
            grade = GRADES.get(grades[0]) if ok else 0
            found[child_id] = StudentChange(child_id, (USERS, line), names, grade, agents, source_id=row["sourcedId"])
        return found

    def agent(self, line: int, sourced_id: str) -> RosterGuardian | str:
        entry = self.users.get(sourced_id)
        if entry is None or entry[1]["status"] == "tobedeleted":
            return self.person(sourced_id)
        role = entry[1]["role"]
        message = f"agent {sourced_id!r} has role {role!r}: expected parent, guardian or relative"
        self.need(role in RELATIONS, USERS, line, message)
        return self.bundle.guardian(*entry) if role in RELATIONS else sourced_id

    def guardian_rows(self) -> tuple[tuple[tuple[str, RosterGuardian], ...], tuple[str, ...]]:
        """Guardians a guardian's own row links to students, and everyone to be deleted but students."""
        linked: list[tuple[str, RosterGuardian]] = []
        removed: list[str] = []
        students: list[str] = []
        for line, row in self.users.values():
            if row["status"] == "tobedeleted":
                (students if row["role"] == "student" else removed).append(self.person(row["sourcedId"]))
            elif row["role"] in RELATIONS:
                guardian = self.bundle.guardian(line, row)
                linked += [(self.person(student), guardian) for student in split(row["agentSourcedIds"])]
        self.removed_students = tuple(students)
        return tuple(linked), tuple(removed)

    def homes(self) -> dict[str, tuple[int, Home]]:
        """Each student's new homeroom enrolment; the homeroom teachers the delta names."""
        classes = self.bundle.tables.get("classes", {})
        found: dict[str, tuple[int, dict[str, str], str, str]] = {}
        teachers: dict[str, list[tuple[bool, str]]] = {}
        enrolments = self.bundle.tables.get("enrollments", {}).values()
        for line, row in (entry for entry in enrolments if entry[1]["status"] != "tobedeleted"):
            room = classes.get(row["classSourcedId"], (0, {}))[1]
            message = f"class {row['classSourcedId']!r} is not in classes.csv: a delta sends it with its enrolments"
            self.need(bool(room) or row["role"] != "student", ENROLLMENTS, line, message)
            if room.get("classType") != "homeroom" or room.get("status") == "tobedeleted":
                continue
            code, person = room.get("classCode") or room["title"], self.person(row["userSourcedId"])
            if row["role"] == "student":
                first = found.get(person, [0])[0]
                message = f"student {person!r} has a second homeroom enrolment (first on line {first})"
                self.need(person not in found, ENROLLMENTS, line, message)
                found[person] = (line, row, code, room["title"])
            elif row["role"] == "teacher" and row["userSourcedId"] in self.users:  # else only the sourcedId is known
                teachers.setdefault(code, []).append((row["primary"] != "true", person))
        self.teachers = tuple((code, min(rows)[1]) for code, rows in teachers.items())  # the primary teacher first
        named = dict(self.teachers)
        return {
            child: (line, Home(code, title, named.get(code, ""), row["beginDate"] or None, row["endDate"] or None))
            for child, (line, row, code, title) in found.items()
        }

    def demographics(self) -> dict[str, tuple[int, tuple[str | None, str | None]]]:
        rows = self.bundle.tables.get("demographics", {})
        return {
            self.person(key): (line, (SEX.get(row["sex"]), row["birthDate"] or None))
            for key, (line, row) in rows.items()
            if row["status"] != "tobedeleted"
        }
