"""Live occupancy: who is on site right now, where, with whom, and who is still waiting for a guardian."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from psycopg import Connection, Cursor
from psycopg.rows import dict_row

from events.custody import (
    ChildCheckedIn,
    ChildMarkedAbsent,
    ChildReleased,
    ChildTransferred,
    GuardianAndChildConfirmed,
    GuardianArrived,
)
from events.roster import ChildAddedToRoster
from events.school import PlaceAdded, SchoolRegistered
from projections.base import ReadModel, Tables

occupancy = ReadModel(
    "occupancy",
    [
        "CREATE TABLE {schools} (school_id text PRIMARY KEY, district_id text NOT NULL, time_zone text NOT NULL,"
        " service_ends_at time NOT NULL)",
        "CREATE TABLE {places} (school_id text NOT NULL, place_code text NOT NULL, kind text NOT NULL,"
        " label_zh text NOT NULL, label_en text NOT NULL, PRIMARY KEY (school_id, place_code))",
        "CREATE TABLE {roster} (school_id text NOT NULL, child_id text NOT NULL, home_class text NOT NULL,"
        " grade int NOT NULL, PRIMARY KEY (school_id, child_id))",
        "CREATE TABLE {children} (school_id text NOT NULL, service_day date NOT NULL, child_id text NOT NULL,"
        " status text NOT NULL, custodian_id text, place_code text, guardian_arrived boolean NOT NULL DEFAULT false,"
        " confirmed boolean NOT NULL DEFAULT false, checked_in_at timestamptz, released_at timestamptz,"
        " released_to text, changed_at timestamptz NOT NULL, PRIMARY KEY (school_id, service_day, child_id))",
        "CREATE INDEX ON {children} (school_id, service_day, place_code)",
    ],
)


@occupancy.handles(SchoolRegistered)
def _school(cur: Cursor[Any], t: Tables, e: SchoolRegistered) -> None:
    cur.execute(
        t.format("INSERT INTO {schools} VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING"),
        (e.school_id, e.district_id, e.time_zone, e.service_ends_at),
    )


@occupancy.handles(PlaceAdded)
def _place(cur: Cursor[Any], t: Tables, e: PlaceAdded) -> None:
    cur.execute(
        t.format("INSERT INTO {places} VALUES (%s, %s, %s, %s, %s) ON CONFLICT DO NOTHING"),
        (e.school_id, e.place_code, e.kind, e.label_zh, e.label_en),
    )


@occupancy.handles(ChildAddedToRoster)
def _roster(cur: Cursor[Any], t: Tables, e: ChildAddedToRoster) -> None:
    cur.execute(
        t.format("INSERT INTO {roster} VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING"),
        (e.school_id, e.child_id, e.home_class, e.grade),
    )


@occupancy.handles(ChildCheckedIn)
def _checked_in(cur: Cursor[Any], t: Tables, e: ChildCheckedIn) -> None:
    cur.execute(
        t.format(
            "INSERT INTO {children} (school_id, service_day, child_id, status, custodian_id, place_code,"
            " checked_in_at, changed_at) VALUES (%s, %s, %s, 'in_care', %s, %s, %s, %s)"
            " ON CONFLICT (school_id, service_day, child_id) DO UPDATE SET status = 'in_care',"
            " custodian_id = excluded.custodian_id, place_code = excluded.place_code,"
            " checked_in_at = excluded.checked_in_at, changed_at = excluded.changed_at"
        ),
        (e.school_id, e.service_day, e.child_id, e.custodian_id, e.place_code, e.timestamp, e.timestamp),
    )


@occupancy.handles(ChildMarkedAbsent)
def _absent(cur: Cursor[Any], t: Tables, e: ChildMarkedAbsent) -> None:
    cur.execute(
        t.format(
            "INSERT INTO {children} (school_id, service_day, child_id, status, changed_at)"
            " VALUES (%s, %s, %s, 'absent', %s) ON CONFLICT (school_id, service_day, child_id)"
            " DO UPDATE SET status = 'absent', changed_at = excluded.changed_at"
        ),
        (e.school_id, e.service_day, e.child_id, e.timestamp),
    )


def _update(cur: Cursor[Any], t: Tables, e: Any, assignments: str, values: tuple[Any, ...]) -> None:
    cur.execute(
        t.format(
            "UPDATE {children} SET " + assignments + ", changed_at = %s"
            " WHERE school_id = %s AND service_day = %s AND child_id = %s"
        ),
        (*values, e.timestamp, e.school_id, e.service_day, e.child_id),
    )


@occupancy.handles(ChildTransferred)
def _transferred(cur: Cursor[Any], t: Tables, e: ChildTransferred) -> None:
    _update(cur, t, e, "custodian_id = %s, place_code = %s", (e.to_custodian_id, e.to_place_code))


@occupancy.handles(GuardianArrived)
def _arrived(cur: Cursor[Any], t: Tables, e: GuardianArrived) -> None:
    _update(cur, t, e, "guardian_arrived = true", ())


@occupancy.handles(GuardianAndChildConfirmed)
def _confirmed(cur: Cursor[Any], t: Tables, e: GuardianAndChildConfirmed) -> None:
    _update(cur, t, e, "confirmed = true", ())


@occupancy.handles(ChildReleased)
def _released(cur: Cursor[Any], t: Tables, e: ChildReleased) -> None:
    released_to = e.guardian_id or "self"
    _update(
        cur,
        t,
        e,
        "status = 'released', custodian_id = NULL, released_at = %s, released_to = %s",
        (e.timestamp, released_to),
    )


# Queries

SUMMARY = """
WITH day AS (SELECT * FROM {children} WHERE school_id = %(school)s AND service_day = %(day)s),
school AS (SELECT * FROM {schools} WHERE school_id = %(school)s)
SELECT
  (SELECT count(*) FROM {roster} WHERE school_id = %(school)s) AS on_roster,
  count(*) FILTER (WHERE status IN ('in_care', 'released')) AS checked_in,
  count(*) FILTER (WHERE status = 'in_care') AS in_care,
  count(*) FILTER (WHERE status = 'in_care' AND guardian_arrived) AS guardian_arrived,
  count(*) FILTER (WHERE status = 'in_care' AND confirmed) AS confirmed,
  count(*) FILTER (WHERE status = 'released') AS released,
  count(*) FILTER (WHERE status = 'absent') AS absent,
  count(*) FILTER (WHERE status = 'in_care' AND {late}) AS waiting_after_end
FROM day
"""

BY_PLACE = """
SELECT c.place_code, p.kind, p.label_zh, p.label_en,
  count(*) AS in_care,
  count(*) FILTER (WHERE c.guardian_arrived) AS guardian_arrived,
  count(*) FILTER (WHERE c.confirmed) AS confirmed,
  array_agg(DISTINCT c.custodian_id) AS custodians
FROM {children} c LEFT JOIN {places} p ON p.school_id = c.school_id AND p.place_code = c.place_code
WHERE c.school_id = %(school)s AND c.service_day = %(day)s AND c.status = 'in_care'
GROUP BY c.place_code, p.kind, p.label_zh, p.label_en ORDER BY c.place_code
"""

CHILDREN = """
SELECT c.child_id, r.home_class, r.grade, c.status, c.custodian_id, c.place_code, c.guardian_arrived, c.confirmed,
  c.checked_in_at, c.released_at, c.released_to, c.changed_at
FROM {children} c LEFT JOIN {roster} r ON r.school_id = c.school_id AND r.child_id = c.child_id
WHERE c.school_id = %(school)s AND c.service_day = %(day)s
  AND (%(place)s::text IS NULL OR c.place_code = %(place)s)
  AND (%(status)s::text IS NULL OR c.status = %(status)s)
  AND (%(child)s::text IS NULL OR c.child_id = %(child)s)
  AND (NOT %(waiting)s OR (c.status = 'in_care' AND c.guardian_arrived))
ORDER BY c.child_id LIMIT %(limit)s OFFSET %(offset)s
"""


def late_condition(t: Tables, now: datetime) -> Any:
    """True when the school's service has ended, on its own wall clock."""
    return t.format(
        "((%(now)s AT TIME ZONE (SELECT time_zone FROM {schools} WHERE school_id = %(school)s))"
        " > (%(day)s + (SELECT service_ends_at FROM {schools} WHERE school_id = %(school)s)))"
    )


def summary(conn: Connection[Any], t: Tables, school: str, day: date, now: datetime) -> dict[str, Any]:
    """Counts for one school and day, with the places children are in now."""
    params = {"school": school, "day": day, "now": now}
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(t.format(SUMMARY, late=late_condition(t, now)), params)
        totals = cur.fetchone() or {}
        cur.execute(t.format(BY_PLACE), params)
        places = cur.fetchall()
    return {**totals, "not_seen": totals["on_roster"] - totals["checked_in"] - totals["absent"], "places": places}


def children(
    conn: Connection[Any],
    t: Tables,
    school: str,
    day: date,
    *,
    place: str | None = None,
    status: str | None = None,
    child: str | None = None,
    waiting_for_pickup: bool = False,
    limit: int = 100,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """Children of one school and day, with their custodian and place, filtered and paginated."""
    params = {
        "school": school,
        "day": day,
        "place": place,
        "status": status,
        "child": child,
        "waiting": waiting_for_pickup,
        "limit": limit,
        "offset": offset,
    }
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(t.format(CHILDREN), params)
        return cur.fetchall()
