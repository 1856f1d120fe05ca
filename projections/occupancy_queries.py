"""Queries over the live occupancy read model: totals against the children expected that day, places, classes,
children, and who is still waiting after their release batch has ended."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from psycopg import Connection
from psycopg.rows import dict_row

from projections.base import Tables

IN_RECORDS = """NOT EXISTS (SELECT 1 FROM {roster} r WHERE r.school_id = e.school_id AND r.child_id = e.child_id
    AND (%(day)s::date < r.starts_on OR %(day)s::date > r.ends_on))"""
"""The enrolment `e`'s child is in the school's records that day: within the roster's enrolment dates, as
RosterEntry.in_records_on decides them (and check-in refuses outside them)."""

EXPECTED = (
    """
SELECT e.child_id, e.temporary_class, e.release_batch FROM {enrolments} e
WHERE e.school_id = %(school)s AND e.signed AND NOT e.withdrawn AND %(day)s BETWEEN e.starts_on AND e.ends_on
  AND lower(to_char(%(day)s::date, 'dy')) = ANY (e.days) AND """
    + IN_RECORDS
    + "\n"
)
"""Enrolled for the day (agreement signed, the day among theirs) and in the school's records that day."""

LOCAL_NOW = "(%(now)s AT TIME ZONE (SELECT time_zone FROM {schools} WHERE school_id = %(school)s))"

SUMMARY = (
    """
WITH day AS (SELECT * FROM {children} WHERE school_id = %(school)s AND service_day = %(day)s),
expected AS ("""
    + EXPECTED
    + """),
batch_end AS (SELECT x.child_id, b.ends_at FROM expected x
  JOIN {batches} b ON b.school_id = %(school)s AND b.batch_code = x.release_batch)
SELECT
  (SELECT count(*) FROM {roster} WHERE school_id = %(school)s) AS on_roster,
  (SELECT count(*) FROM expected) AS expected,
  (SELECT count(*) FROM expected x WHERE NOT EXISTS (SELECT 1 FROM day d WHERE d.child_id = x.child_id))
    AS expected_not_seen,
  count(*) FILTER (WHERE status IN ('in_care', 'released')) AS checked_in,
  count(*) FILTER (WHERE status = 'in_care') AS in_care,
  count(*) FILTER (WHERE status = 'in_care' AND guardian_arrived) AS guardian_arrived,
  count(*) FILTER (WHERE status = 'in_care' AND confirmed) AS confirmed,
  count(*) FILTER (WHERE status = 'released') AS released,
  count(*) FILTER (WHERE status = 'absent') AS absent,
  count(*) FILTER (WHERE status = 'in_care' AND {late}) AS waiting_after_end,
  count(*) FILTER (WHERE status = 'in_care' AND """
    + LOCAL_NOW
    + """ > %(day)s + (SELECT ends_at FROM batch_end be
    WHERE be.child_id = day.child_id)) AS waiting_after_batch
FROM day
"""
)

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

BY_CLASS = (
    """
WITH expected AS ("""
    + EXPECTED
    + """)
SELECT x.temporary_class, count(*) AS expected,
  count(c.child_id) FILTER (WHERE c.status IN ('in_care', 'released')) AS present,
  count(c.child_id) FILTER (WHERE c.status = 'absent') AS absent,
  count(*) FILTER (WHERE c.child_id IS NULL) AS not_seen,
  count(c.child_id) FILTER (WHERE c.status = 'in_care') AS in_care
FROM expected x LEFT JOIN {children} c
  ON c.school_id = %(school)s AND c.service_day = %(day)s AND c.child_id = x.child_id
GROUP BY x.temporary_class ORDER BY x.temporary_class
"""
)

CHILDREN = """
SELECT c.child_id, r.home_class, r.grade, c.status, c.custodian_id, c.place_code, c.guardian_arrived, c.confirmed,
  c.checked_in_at, c.released_at, NULLIF(c.released_to, 'self') AS released_to,
  coalesce(c.released_to = 'self', false) AS self_released, c.changed_at
FROM {children} c LEFT JOIN {roster} r ON r.school_id = c.school_id AND r.child_id = c.child_id
WHERE c.school_id = %(school)s AND c.service_day = %(day)s
  AND (%(place)s::text IS NULL OR c.place_code = %(place)s)
  AND (%(status)s::text IS NULL OR c.status = %(status)s)
  AND (%(child)s::text IS NULL OR c.child_id = %(child)s)
  AND (NOT %(waiting)s OR (c.status = 'in_care' AND c.guardian_arrived))
ORDER BY c.child_id LIMIT %(limit)s OFFSET %(offset)s
"""


def late_condition(t: Tables) -> Any:
    """True when the school's service has ended, on its own wall clock."""
    return t.format(LOCAL_NOW + " > (%(day)s + (SELECT service_ends_at FROM {schools} WHERE school_id = %(school)s))")


def summary(conn: Connection[Any], t: Tables, school: str, day: date, now: datetime) -> dict[str, Any]:
    """Counts for one school and day against the children expected, with the places and classes."""
    params = {"school": school, "day": day, "now": now}
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(t.format(SUMMARY, late=late_condition(t)), params)
        totals = cur.fetchone() or {}
        cur.execute(t.format(BY_PLACE), params)
        places = cur.fetchall()
        cur.execute(t.format(BY_CLASS), params)
        classes = cur.fetchall()
    not_seen = totals["on_roster"] - totals["checked_in"] - totals["absent"]
    return {**totals, "not_seen": not_seen, "places": places, "classes": classes}


def expected_children(conn: Connection[Any], t: Tables, school: str, day: date) -> list[str]:
    """The children expected on one day, in order."""
    rows = t.rows(conn, EXPECTED + " ORDER BY e.child_id", {"school": school, "day": day})
    return [row["child_id"] for row in rows]


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
    return t.rows(conn, CHILDREN, params)
