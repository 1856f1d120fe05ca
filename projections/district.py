"""The district summary for the education bureau: per school and service day, counts only, never a child.

No table here holds a child id. Counts rest on the custody rules: a child is checked in, released and marked
absent at most once a service day, and only marking absent can come before a check-in, so a check-in that is not
the first event of the child's day turns an absent child into one served."""

from __future__ import annotations

from datetime import date
from typing import Any

from psycopg import Connection, Cursor, sql
from psycopg.rows import dict_row

from events.custody import ChildCheckedIn, ChildMarkedAbsent, ChildReleased, CustodyEvent, ReleaseRefused
from events.school import SchoolRegistered
from projections.base import ReadModel, Tables

district = ReadModel(
    "district",
    [
        "CREATE TABLE {schools} (school_id text PRIMARY KEY, district_id text NOT NULL, time_zone text NOT NULL,"
        " service_ends_at time NOT NULL)",
        "CREATE TABLE {days} (school_id text NOT NULL, service_day date NOT NULL,"
        " children_served int NOT NULL DEFAULT 0, released int NOT NULL DEFAULT 0, absent int NOT NULL DEFAULT 0,"
        " late_pickups int NOT NULL DEFAULT 0, release_refusals int NOT NULL DEFAULT 0,"
        " PRIMARY KEY (school_id, service_day))",
    ],
)

COUNTERS = ("children_served", "released", "absent", "late_pickups", "release_refusals")
LATE = (  # 1 when the release happened after the end of service, on the school's own wall clock
    "(SELECT CASE WHEN (%(time)s::timestamptz AT TIME ZONE time_zone) > (%(day)s::date + service_ends_at)"
    " THEN 1 ELSE 0 END FROM {schools} WHERE school_id = %(school)s)"
)


@district.handles(SchoolRegistered)
def _school(cur: Cursor[Any], t: Tables, e: SchoolRegistered) -> None:
    cur.execute(
        t.format("INSERT INTO {schools} VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING"),
        (e.school_id, e.district_id, e.time_zone, e.service_ends_at),
    )


def _count(cur: Cursor[Any], t: Tables, e: CustodyEvent, **changes: int | sql.Composable) -> None:
    """Add to some of the school's counters for the event's service day."""
    names = list(changes)
    values = [value if isinstance(value, sql.Composable) else sql.Literal(value) for value in changes.values()]
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
        {"school": e.school_id, "day": e.service_day, "time": e.timestamp},
    )


@district.handles(ChildCheckedIn)
def _served(cur: Cursor[Any], t: Tables, e: ChildCheckedIn) -> None:
    _count(cur, t, e, children_served=1, absent=-1 if e.originator_version > 1 else 0)


@district.handles(ChildMarkedAbsent)
def _absent(cur: Cursor[Any], t: Tables, e: ChildMarkedAbsent) -> None:
    _count(cur, t, e, absent=1)


@district.handles(ChildReleased)
def _released(cur: Cursor[Any], t: Tables, e: ChildReleased) -> None:
    _count(cur, t, e, released=1, late_pickups=sql.SQL("COALESCE({}, 0)").format(t.format(LATE)))


@district.handles(ReleaseRefused)
def _refused(cur: Cursor[Any], t: Tables, e: ReleaseRefused) -> None:
    _count(cur, t, e, release_refusals=1)


# Queries

SUMMARY = """
SELECT s.district_id, d.school_id, d.service_day, d.children_served, d.released, d.absent, d.late_pickups,
  d.release_refusals
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
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(t.format(SUMMARY), params)
        return cur.fetchall()
