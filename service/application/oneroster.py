"""The OneRoster 1.1 CSV binding, as tables: every file's columns in the order the specification gives them, which are
required, and what each may hold (IMS Global, OneRoster v1.1 CSV Tables, section 3). Pure.

`check_row` reports a row's problems against its table; the bundle reader (roster_files) adds the checks across rows
and files: uniqueness of sourcedId, references, the manifest."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime

STATUS = ("active", "tobedeleted")
ROLES = ("administrator", "aide", "guardian", "parent", "proctor", "relative", "student", "teacher")
GRADES = ("IT", "PR", "PK", "TK", "KG", *(f"{n:02d}" for n in range(1, 14)), "PS", "UG", "Other")
BOOLEAN = ("true", "false")
FILES = (  # every file a manifest names, with absent, bulk or delta
    "academicSessions categories classes classResources courses courseResources demographics enrollments lineItems "
    "orgs resources results users"
).split()
MODES = ("absent", "bulk", "delta")

# Formats: "text", "date" (YYYY-MM-DD), "datetime" (ISO 8601 with a time), "year" (YYYY), "grades" (a list of grade
# codes), "list" (a comma-separated list of references), or a tuple: the enumeration's values.
REQUIRED, OPTIONAL = True, False
HEAD = (("sourcedId", REQUIRED, "text"), ("status", OPTIONAL, STATUS), ("dateLastModified", OPTIONAL, "datetime"))
DELTA_REQUIRED = ("status", "dateLastModified")
RACE = "americanIndianOrAlaskaNative asian blackOrAfricanAmerican nativeHawaiianOrOtherPacificIslander white"
TABLES: dict[str, tuple[tuple[str, bool, str | tuple[str, ...]], ...]] = {
    "academicSessions": HEAD
    + (
        ("title", REQUIRED, "text"),
        ("type", REQUIRED, ("gradingPeriod", "semester", "schoolYear", "term")),
        ("startDate", REQUIRED, "date"),
        ("endDate", REQUIRED, "date"),
        ("parentSourcedId", OPTIONAL, "text"),
        ("schoolYear", REQUIRED, "year"),
    ),
    "orgs": HEAD
    + (
        ("name", REQUIRED, "text"),
        ("type", REQUIRED, ("department", "school", "district", "local", "state", "national")),
        ("identifier", OPTIONAL, "text"),
        ("parentSourcedId", OPTIONAL, "text"),
    ),
    "courses": HEAD
    + (
        ("schoolYearSourcedId", OPTIONAL, "text"),
        ("title", REQUIRED, "text"),
        ("courseCode", OPTIONAL, "text"),
        ("grades", OPTIONAL, "grades"),
        ("orgSourcedId", REQUIRED, "text"),
        ("subjects", OPTIONAL, "text"),
        ("subjectCodes", OPTIONAL, "text"),
    ),
    "classes": HEAD
    + (
        ("title", REQUIRED, "text"),
        ("grades", OPTIONAL, "grades"),
        ("courseSourcedId", REQUIRED, "text"),
        ("classCode", OPTIONAL, "text"),
        ("classType", REQUIRED, ("homeroom", "scheduled")),
        ("location", OPTIONAL, "text"),
        ("schoolSourcedId", REQUIRED, "text"),
        ("termSourcedIds", REQUIRED, "list"),
        ("subjects", OPTIONAL, "text"),
        ("subjectCodes", OPTIONAL, "text"),
        ("periods", OPTIONAL, "text"),
    ),
    "users": HEAD
    + (
        ("enabledUser", REQUIRED, BOOLEAN),
        ("orgSourcedIds", REQUIRED, "list"),
        ("role", REQUIRED, ROLES),
        ("username", REQUIRED, "text"),
        ("userIds", OPTIONAL, "text"),
        ("givenName", REQUIRED, "text"),
        ("familyName", REQUIRED, "text"),
        ("middleName", OPTIONAL, "text"),
        ("identifier", OPTIONAL, "text"),
        ("email", OPTIONAL, "text"),
        ("sms", OPTIONAL, "text"),
        ("phone", OPTIONAL, "text"),
        ("agentSourcedIds", OPTIONAL, "list"),
        ("grades", OPTIONAL, "grades"),
        ("password", OPTIONAL, "text"),
    ),
    "enrollments": HEAD
    + (
        ("classSourcedId", REQUIRED, "text"),
        ("schoolSourcedId", REQUIRED, "text"),
        ("userSourcedId", REQUIRED, "text"),
        ("role", REQUIRED, ROLES),
        ("primary", OPTIONAL, BOOLEAN),
        ("beginDate", OPTIONAL, "date"),
        ("endDate", OPTIONAL, "date"),
    ),
    "demographics": HEAD
    + (
        ("birthDate", OPTIONAL, "date"),
        ("sex", OPTIONAL, ("female", "male", "other", "unspecified")),
        *((race, OPTIONAL, BOOLEAN) for race in RACE.split()),
        ("demographicRaceTwoOrMoreRaces", OPTIONAL, BOOLEAN),
        ("hispanicOrLatinoEthnicity", OPTIONAL, BOOLEAN),
        ("countryOfBirthCode", OPTIONAL, "text"),
        ("stateOfBirthAbbreviation", OPTIONAL, "text"),
        ("cityOfBirth", OPTIONAL, "text"),
        ("publicSchoolResidenceStatus", OPTIONAL, "text"),
    ),
}
SPANS = {"academicSessions": (("startDate", "endDate"),), "enrollments": (("beginDate", "endDate"),)}
"""Dates that begin and end a span: the end is not before the beginning."""
READ = ("academicSessions", "orgs", "courses", "classes", "users", "enrollments", "demographics")
"""The files Handoff reads (the rest are gradebook and resource files, about marks and learning materials)."""
NEEDED = ("orgs", "users", "classes", "enrollments")
"""The files a bundle must hold for Handoff: the school, its people, the home classes and who is in which."""
REFERENCES: dict[str, dict[str, str]] = {  # file: column -> the file whose sourcedId it names
    "academicSessions": {"parentSourcedId": "academicSessions"},
    "orgs": {"parentSourcedId": "orgs"},
    "courses": {"schoolYearSourcedId": "academicSessions", "orgSourcedId": "orgs"},
    "classes": {"courseSourcedId": "courses", "schoolSourcedId": "orgs", "termSourcedIds": "academicSessions"},
    "users": {"orgSourcedIds": "orgs", "agentSourcedIds": "users"},
    "enrollments": {"classSourcedId": "classes", "schoolSourcedId": "orgs", "userSourcedId": "users"},
    "demographics": {"sourcedId": "users"},
}


def split(value: str) -> list[str]:
    """A multi-value field: comma-separated, spaces around the values ignored."""
    return [part.strip() for part in value.split(",") if part.strip()]


def columns(table: str) -> list[str]:
    return [name for name, _, _ in TABLES[table]]


def kind(table: str, column: str) -> str | tuple[str, ...]:
    return next(found for name, _, found in TABLES[table] if name == column)


def check_row(table: str, row: dict[str, str], delta: bool = False) -> list[str]:
    """The problems of one row against its file's table: empty required fields, then malformed values. In a delta
    file every row says its status and when it changed, and a row to be deleted needs nothing else."""
    spec = TABLES[table]
    if delta:
        spec = tuple((name, required or name in DELTA_REQUIRED, kind) for name, required, kind in spec)
        spec = spec[: len(HEAD)] if row.get("status") == "tobedeleted" else spec
    problems = []
    if empty := [name for name, required, _ in spec if required and not row.get(name)]:
        problems.append("empty required fields: " + ", ".join(empty))
    for name, _, kind in spec:
        if (value := row.get(name, "")) and (why := _malformed(kind, value)):
            problems.append(f"{name} {value!r}: {why}")
    for first, last in SPANS.get(table, ()):
        written = [row.get(first, ""), row.get(last, "")]
        if all(written) and not any(_malformed("date", value) for value in written) and written[1] < written[0]:
            problems.append(f"{last} {row[last]!r} is before {first} {row[first]!r}")
    return problems


def _malformed(kind: str | tuple[str, ...], value: str) -> str | None:
    if isinstance(kind, tuple):
        return None if value in kind else "expected one of " + ", ".join(kind)
    if kind == "grades":
        unknown = [grade for grade in split(value) if grade not in GRADES]
        return "unknown grade codes " + ", ".join(unknown) if unknown else None
    if kind == "date":
        ok = re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value) and _parses(date.fromisoformat, value)
        return None if ok else "expected a date written YYYY-MM-DD"
    if kind == "datetime":
        written = re.match(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T", value)
        ok = written and _parses(datetime.fromisoformat, value.replace("Z", "+00:00"))
        return None if ok else "expected an ISO 8601 date and time, e.g. 2026-08-25T08:00:00.000Z"
    if kind == "year":
        return None if re.fullmatch(r"[0-9]{4}", value) else "expected a year written YYYY"
    return None


def _parses(parse: Callable[[str], object], value: str) -> bool:
    try:
        parse(value)
    except ValueError:
        return False
    return True
