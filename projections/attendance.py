"""Daily attendance (考勤): who was present in after-school care, where they were checked in, and how they left.

A child checked in is present, in the temporary class they were checked in to; a child marked absent and never
checked in that day is absent. An absent child who turns up late and is checked in is present.

A correction restores the day as it was before the voided record: a child no longer seen that day has no row, a
child back in care is present and not released, a child whose late check-in was voided is absent again."""

from __future__ import annotations

from datetime import date
from typing import Any

from psycopg import Connection, Cursor

from events.custody import ChildCheckedIn, ChildMarkedAbsent, ChildReleased, CustodyCorrected
from events.roster import ChildAddedToRoster, ChildRosterEntryChanged
from projections.base import ReadModel, Tables

attendance = ReadModel(
    "attendance",
    [
        "CREATE TABLE {roster} (school_id text NOT NULL, child_id text NOT NULL, home_class text NOT NULL,"
        " grade int NOT NULL, PRIMARY KEY (school_id, child_id))",
        "CREATE TABLE {days} (school_id text NOT NULL, service_day date NOT NULL, child_id text NOT NULL,"
        " status text NOT NULL, place_code text, absence_reason text, checked_in_at timestamptz,"
        " released_at timestamptz, released_how text, PRIMARY KEY (school_id, service_day, child_id))",
        "CREATE INDEX ON {days} (school_id, service_day, place_code)",
    ],
)


@attendance.handles(ChildAddedToRoster)
def _roster(cur: Cursor[Any], t: Tables, e: ChildAddedToRoster) -> None:
    cur.execute(
        t.format("INSERT INTO {roster} VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING"),
        (e.school_id, e.child_id, e.home_class, e.grade),
    )


@attendance.handles(ChildRosterEntryChanged)
def _roster_changed(cur: Cursor[Any], t: Tables, e: ChildRosterEntryChanged) -> None:
    cur.execute(
        t.format("UPDATE {roster} SET home_class = %s, grade = %s WHERE school_id = %s AND child_id = %s"),
        (e.home_class, e.grade, e.school_id, e.child_id),
    )


@attendance.handles(ChildCheckedIn)
def _present(cur: Cursor[Any], t: Tables, e: ChildCheckedIn) -> None:
    cur.execute(
        t.format(
            "INSERT INTO {days} (school_id, service_day, child_id, status, place_code, checked_in_at)"
            " VALUES (%s, %s, %s, 'present', %s, %s) ON CONFLICT (school_id, service_day, child_id)"
            " DO UPDATE SET status = 'present', place_code = excluded.place_code,"
            " checked_in_at = excluded.checked_in_at"
        ),
        (e.school_id, e.service_day, e.child_id, e.place_code, e.timestamp),
    )


@attendance.handles(ChildMarkedAbsent)
def _absent(cur: Cursor[Any], t: Tables, e: ChildMarkedAbsent) -> None:
    cur.execute(  # only a child not yet seen that day can be marked absent: presence is never overwritten
        t.format(
            "INSERT INTO {days} (school_id, service_day, child_id, status, absence_reason)"
            " VALUES (%s, %s, %s, 'absent', %s) ON CONFLICT (school_id, service_day, child_id) DO NOTHING"
        ),
        (e.school_id, e.service_day, e.child_id, e.reason),
    )


@attendance.handles(ChildReleased)
def _released(cur: Cursor[Any], t: Tables, e: ChildReleased) -> None:
    cur.execute(
        t.format(
            "UPDATE {days} SET released_at = %s, released_how = %s"
            " WHERE school_id = %s AND service_day = %s AND child_id = %s"
        ),
        (e.timestamp, "self" if e.self_release else "guardian", e.school_id, e.service_day, e.child_id),
    )


KEY = " WHERE school_id = %s AND service_day = %s AND child_id = %s"
RESTORE = {  # by the status after a correction; a release is final, so "released" is never restored
    "expected": "DELETE FROM {days}" + KEY,
    "in_care": "UPDATE {days} SET status = 'present', released_at = NULL, released_how = NULL" + KEY,
    "absent": "UPDATE {days} SET status = 'absent', place_code = NULL, checked_in_at = NULL, released_at = NULL,"
    " released_how = NULL" + KEY,
}


@attendance.handles(CustodyCorrected)
def _corrected(cur: Cursor[Any], t: Tables, e: CustodyCorrected) -> None:
    if e.status in RESTORE:
        cur.execute(t.format(RESTORE[e.status]), (e.school_id, e.service_day, e.child_id))


# Queries

BY_CHILD = """
SELECT d.child_id, r.home_class, r.grade, d.status, d.place_code, d.absence_reason, d.checked_in_at,
  d.released_at, d.released_how
FROM {days} d LEFT JOIN {roster} r ON r.school_id = d.school_id AND r.child_id = d.child_id
WHERE d.school_id = %(school)s AND d.service_day = %(day)s
  AND (%(place)s::text IS NULL OR d.place_code = %(place)s)
  AND (%(child)s::text IS NULL OR d.child_id = %(child)s)
ORDER BY d.child_id LIMIT %(limit)s OFFSET %(offset)s
"""

BY_CLASS = """
SELECT place_code, count(*) AS present, count(released_at) AS released, count(*) - count(released_at) AS still_in_care
FROM {days}
WHERE school_id = %(school)s AND service_day = %(day)s AND status = 'present'
GROUP BY place_code ORDER BY place_code
"""

BY_HOME_CLASS = """
SELECT r.home_class, r.grade, count(*) AS on_roster,
  count(*) FILTER (WHERE d.status = 'present') AS present,
  count(*) FILTER (WHERE d.status = 'absent') AS absent,
  count(*) FILTER (WHERE d.status IS NULL) AS not_seen
FROM {roster} r LEFT JOIN {days} d
  ON d.school_id = r.school_id AND d.child_id = r.child_id AND d.service_day = %(day)s
WHERE r.school_id = %(school)s
GROUP BY r.home_class, r.grade ORDER BY r.grade, r.home_class
"""


def by_child(
    conn: Connection[Any],
    t: Tables,
    school: str,
    day: date,
    place: str | None = None,
    child: str | None = None,
    *,
    limit: int = 100,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """Attendance of each child seen (present or absent) on one day, optionally of one check-in place or child."""
    params = {"school": school, "day": day, "place": place, "child": child, "limit": limit, "offset": offset}
    return t.rows(conn, BY_CHILD, params)


def by_class(conn: Connection[Any], t: Tables, school: str, day: date) -> list[dict[str, Any]]:
    """Per temporary class (the place children were checked in to): present, released, still in care."""
    return t.rows(conn, BY_CLASS, {"school": school, "day": day})


def by_home_class(conn: Connection[Any], t: Tables, school: str, day: date) -> list[dict[str, Any]]:
    """Per home class on the roster: children on it, present, absent, and not seen at all that day."""
    return t.rows(conn, BY_HOME_CLASS, {"school": school, "day": day})
