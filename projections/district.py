"""The district summary for the education bureau: per school and service day, counts only, never a child.

Incidents count on the day they happened: all of them, missing children and unauthorised pickup attempts apart, and
how many of that day's incidents are still open (a resolution, whenever it comes, counts against the incident's own
day, found in `incidents`, which holds no child either).

No table here holds a child id. Counts rest on the custody rules: a child is checked in, released and marked
absent at most once a service day, unless a correction voids that record; only the latest record is corrected and a
correction is never corrected, so before a check-in a child's day is pairs of (record, correction) and at most one
absence still standing. A check-in at an even version therefore turns an absent child into one served.

A correction counts in `corrections` and undoes what the voided record had counted: a check-in (one child served
less, and absent again if it came after an absence), a release, an absence, a refusal.

Late pickups follow the one late-pickup rule (`School.is_late_pickup`: still in care 10 minutes after the end of the
child's release batch): they are the day's late-pickup incidents, which the policy process opens by that rule, one
per child. Release refusals are attempts: repeated refusals for one child and one person are one incident."""

from __future__ import annotations

from datetime import date
from typing import Any

from psycopg import Connection, Cursor, sql

from events.custody import (
    ChildCheckedIn,
    ChildMarkedAbsent,
    ChildReleased,
    CustodyCorrected,
    CustodyEvent,
    ReleaseRefused,
)
from events.incidents import IncidentOpened, IncidentResolved
from events.school import SchoolRegistered
from projections import catalog
from projections.base import ReadModel, Tables

district = ReadModel(
    "district",
    [
        "CREATE TABLE {schools} (school_id text PRIMARY KEY, district_id text NOT NULL, time_zone text NOT NULL,"
        " service_ends_at time NOT NULL)",
        "CREATE TABLE {days} (school_id text NOT NULL, service_day date NOT NULL,"
        " children_served int NOT NULL DEFAULT 0, released int NOT NULL DEFAULT 0, absent int NOT NULL DEFAULT 0,"
        " late_pickups int NOT NULL DEFAULT 0, release_refusals int NOT NULL DEFAULT 0,"
        " corrections int NOT NULL DEFAULT 0, incidents int NOT NULL DEFAULT 0,"
        " missing_child_incidents int NOT NULL DEFAULT 0, unauthorised_pickup_incidents int NOT NULL DEFAULT 0,"
        " incidents_open int NOT NULL DEFAULT 0, PRIMARY KEY (school_id, service_day))",
        "CREATE TABLE {incidents} (school_id text NOT NULL, incident_id text NOT NULL, service_day date NOT NULL,"
        " kind text NOT NULL, open boolean NOT NULL, PRIMARY KEY (school_id, incident_id))",
    ],
)

COUNTERS = (
    "children_served",
    "released",
    "absent",
    "late_pickups",
    "release_refusals",
    "corrections",
    "incidents",
    "missing_child_incidents",
    "unauthorised_pickup_incidents",
    "incidents_open",
)
KIND_COUNTERS = {
    "missing_child": "missing_child_incidents",
    "unauthorised_pickup_attempt": "unauthorised_pickup_incidents",
    "late_pickup": "late_pickups",
}
UNDO = {  # what a voided record had counted
    "ChildCheckedIn": {"children_served": -1},
    "ChildMarkedAbsent": {"absent": -1},
    "ChildReleased": {"released": -1},
    "ReleaseRefused": {"release_refusals": -1},
}


@district.handles(SchoolRegistered)
def _school(cur: Cursor[Any], t: Tables, e: SchoolRegistered) -> None:
    cur.execute(
        t.format("INSERT INTO {schools} VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING"),
        (e.school_id, e.district_id, e.time_zone, e.service_ends_at),
    )


def _count(cur: Cursor[Any], t: Tables, e: CustodyEvent | IncidentOpened, **changes: int) -> None:
    """Add to some of the school's counters for the event's service day."""
    names = list(changes)
    values = [sql.Literal(value) for value in changes.values()]
    cur.execute(
        t.format(
            "INSERT INTO {days} (school_id, service_day, {columns}) VALUES (%(school)s, %(day)s, {values})"
            " ON CONFLICT (school_id, service_day) DO UPDATE SET {updates}",
            columns=sql.SQL(", ").join(map(sql.Identifier, names)),
            values=sql.SQL(", ").join(values),
            updates=sql.SQL(", ").join(
                sql.SQL("{0} = {1}.{0} + excluded.{0}").format(sql.Identifier(name), t.days) for name in names
            ),
        ),
        {"school": e.school_id, "day": e.service_day},
    )


@district.handles(ChildCheckedIn)
def _served(cur: Cursor[Any], t: Tables, e: ChildCheckedIn) -> None:
    _count(cur, t, e, children_served=1, absent=-1 if e.originator_version % 2 == 0 else 0)


@district.handles(ChildMarkedAbsent)
def _absent(cur: Cursor[Any], t: Tables, e: ChildMarkedAbsent) -> None:
    _count(cur, t, e, absent=1)


@district.handles(ChildReleased)
def _released(cur: Cursor[Any], t: Tables, e: ChildReleased) -> None:
    _count(cur, t, e, released=1)


@district.handles(ReleaseRefused)
def _refused(cur: Cursor[Any], t: Tables, e: ReleaseRefused) -> None:
    _count(cur, t, e, release_refusals=1)


@district.handles(CustodyCorrected)
def _corrected(cur: Cursor[Any], t: Tables, e: CustodyCorrected) -> None:
    changes = {"corrections": 1, **UNDO.get(e.voids_type, {})}
    if e.voids_type == "ChildCheckedIn" and e.status == "absent":
        changes["absent"] = 1  # the voided check-in had counted the absent child as served
    _count(cur, t, e, **changes)


@district.handles(IncidentOpened)
def _incident_opened(cur: Cursor[Any], t: Tables, e: IncidentOpened) -> None:
    """Incidents count on the day they happened, by kind; `incidents_open` until they are resolved."""
    cur.execute(
        t.format("INSERT INTO {incidents} VALUES (%s, %s, %s, %s, true) ON CONFLICT DO NOTHING"),
        (e.school_id, e.incident_id, e.service_day, e.kind),
    )
    kind: dict[str, int] = {KIND_COUNTERS[e.kind]: 1} if e.kind in KIND_COUNTERS else {}
    _count(cur, t, e, incidents=1, incidents_open=1, **kind)


@district.handles(IncidentResolved)
def _incident_resolved(cur: Cursor[Any], t: Tables, e: IncidentResolved) -> None:
    """The incident's own day has one open incident less (it may have been resolved days later)."""
    cur.execute(
        t.format(
            "WITH closed AS (UPDATE {incidents} SET open = false WHERE school_id = %(school)s"
            " AND incident_id = %(incident)s AND open RETURNING service_day)"
            " UPDATE {days} d SET incidents_open = d.incidents_open - 1 FROM closed"
            " WHERE d.school_id = %(school)s AND d.service_day = closed.service_day"
        ),
        {"school": e.school_id, "incident": e.incident_id},
    )


# Queries

SUMMARY = """
SELECT s.district_id, d.school_id, d.service_day, d.children_served, d.released, d.absent, d.late_pickups,
  d.release_refusals, d.corrections, d.incidents, d.missing_child_incidents, d.unauthorised_pickup_incidents,
  d.incidents_open
FROM {days} d JOIN {schools} s ON s.school_id = d.school_id
WHERE s.district_id = %(district)s AND d.service_day BETWEEN %(day_from)s AND %(day_to)s
  AND (%(school)s::text IS NULL OR d.school_id = %(school)s)
ORDER BY d.service_day, d.school_id
"""


def summary(
    conn: Connection[Any], t: Tables, district: str, day_from: date, day_to: date, school: str | None = None
) -> list[dict[str, Any]]:
    """Counts per school and service day in one district, from `day_from` to `day_to` inclusive."""
    params = {"district": district, "day_from": day_from, "day_to": day_to, "school": school}
    return t.rows(conn, SUMMARY, params)


COUNTS = (
    "children_served", "released", "absent", "late_pickups", "release_refusals", "corrections", "incidents",
    "missing_child_incidents", "unauthorised_pickup_incidents", "incidents_open",
)  # fmt: skip
"""The summary's counts, each a sum over schools and days in the province view."""
PROVINCE = (
    "SELECT s.district_id, count(DISTINCT s.school_id) AS schools, "
    + ", ".join(f"coalesce(sum(d.{name}), 0)::bigint AS {name}" for name in COUNTS)
    + " FROM {schools} s LEFT JOIN {days} d ON d.school_id = s.school_id"
    " AND d.service_day BETWEEN %(day_from)s AND %(day_to)s"
    " WHERE %(districts)s::text[] IS NULL OR s.district_id = ANY(%(districts)s) GROUP BY 1 ORDER BY 1"
)


def per_district(
    conn: Connection[Any], t: Tables, day_from: date, day_to: date, districts: list[str] | None = None
) -> list[dict[str, Any]]:
    """Each district's counts summed over its schools and days (only `districts`, if given): the province view."""
    params = {"day_from": day_from, "day_to": day_to, "districts": districts}
    return t.rows(conn, PROVINCE, params)


def schools_of(conn: Connection[Any], t: Tables, district: str) -> list[str]:
    """The schools registered in one district, by code."""
    found = t.rows(
        conn, "SELECT school_id FROM {schools} WHERE district_id = %(district)s ORDER BY 1", {"district": district}
    )
    return [row["school_id"] for row in found]


def schools(conn: Connection[Any], t: Tables) -> tuple[int, list[str]]:
    """The position this version has reached, then every registered school (read in that order, as in
    `incidents.of_day`)."""
    reached = catalog.position(conn, district.name, t.version)
    return reached, [school_id for (school_id,) in conn.execute(t.format("SELECT school_id FROM {schools}"))]
