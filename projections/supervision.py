"""The supervision record (看管记录): which staff member had which children, where, when, and what happened.

One entry per custody event that involves a custodian, naming the staff member in charge after it (kind
'in_charge'); a transfer also names the one who handed the child over, and a release the one who let the child go
(kind 'handed_over'). Arrivals, confirmations and refusals name the child's custodian at the time, which a small
table of each child's current custodian and place keeps. A correction names the custodian after it (kind
'in_charge'), or, when it leaves the child with no custodian, the one who had the child until then ('handed_over')."""

from __future__ import annotations

from datetime import date
from typing import Any

from psycopg import Connection, Cursor

from events.custody import (
    ChildCheckedIn,
    ChildReleased,
    ChildTransferred,
    CustodyCorrected,
    CustodyEvent,
    GuardianAndChildConfirmed,
    GuardianArrived,
    ReleaseRefused,
)
from projections.base import ReadModel, Tables, custody_row

supervision = ReadModel(
    "supervision",
    [
        "CREATE TABLE {current} (school_id text NOT NULL, service_day date NOT NULL, child_id text NOT NULL,"
        " staff_id text NOT NULL, place_code text NOT NULL, PRIMARY KEY (school_id, service_day, child_id))",
        "CREATE TABLE {entries} (school_id text NOT NULL, service_day date NOT NULL, child_id text NOT NULL,"
        " version int NOT NULL, kind text NOT NULL, staff_id text NOT NULL, place_code text,"
        " event_type text NOT NULL, server_time timestamptz NOT NULL,"
        " PRIMARY KEY (school_id, service_day, child_id, version, kind))",
        "CREATE INDEX ON {entries} (school_id, service_day, staff_id)",
    ],
)

KEY = "school_id = %(school)s AND service_day = %(day)s AND child_id = %(child)s"
ENTRY = (
    "INSERT INTO {entries} VALUES (%(school)s, %(day)s, %(child)s, %(version)s, %(kind)s, %(staff)s, %(place)s,"
    " %(type)s, %(time)s) ON CONFLICT DO NOTHING"
)
CURRENT_ENTRY = (  # the child's custodian and place when the event happened
    "INSERT INTO {entries} SELECT school_id, service_day, child_id, %(version)s, %(kind)s, staff_id, place_code,"
    " %(type)s, %(time)s FROM {current} WHERE " + KEY + " ON CONFLICT DO NOTHING"
)
RELEASE_ENTRY = ENTRY.replace(  # a release happens where the child is
    "%(place)s", "(SELECT place_code FROM {current} WHERE " + KEY + ")"
)
SET_CURRENT = (
    "INSERT INTO {current} VALUES (%(school)s, %(day)s, %(child)s, %(staff)s, %(place)s)"
    " ON CONFLICT (school_id, service_day, child_id) DO UPDATE SET staff_id = excluded.staff_id,"
    " place_code = excluded.place_code"
)


def _params(e: CustodyEvent, kind: str = "in_charge", **more: Any) -> dict[str, Any]:
    return custody_row(e, kind) | {
        "type": type(e).__name__,
        "time": e.timestamp,
        **more,
    }


@supervision.handles(ChildCheckedIn)
def _checked_in(cur: Cursor[Any], t: Tables, e: ChildCheckedIn) -> None:
    params = _params(e, staff=e.custodian_id, place=e.place_code)
    cur.execute(t.format(ENTRY), params)
    cur.execute(t.format(SET_CURRENT), params)


@supervision.handles(ChildTransferred)
def _transferred(cur: Cursor[Any], t: Tables, e: ChildTransferred) -> None:
    cur.execute(t.format(ENTRY), _params(e, "handed_over", staff=e.from_custodian_id, place=e.from_place_code))
    params = _params(e, staff=e.to_custodian_id, place=e.to_place_code)
    cur.execute(t.format(ENTRY), params)
    cur.execute(t.format(SET_CURRENT), params)


@supervision.handles(GuardianArrived, GuardianAndChildConfirmed, ReleaseRefused)
def _with_custodian(cur: Cursor[Any], t: Tables, e: CustodyEvent) -> None:
    cur.execute(t.format(CURRENT_ENTRY), _params(e))


@supervision.handles(ChildReleased)
def _released(cur: Cursor[Any], t: Tables, e: ChildReleased) -> None:
    params = _params(e, "handed_over", staff=e.from_custodian_id)
    cur.execute(t.format(RELEASE_ENTRY), params)
    cur.execute(t.format("DELETE FROM {current} WHERE " + KEY), params)


@supervision.handles(CustodyCorrected)
def _corrected(cur: Cursor[Any], t: Tables, e: CustodyCorrected) -> None:
    if e.custodian_id:
        params = _params(e, staff=e.custodian_id, place=e.place_code)
        cur.execute(t.format(ENTRY), params)
        cur.execute(t.format(SET_CURRENT), params)
        return
    params = _params(e, "handed_over")
    cur.execute(t.format(CURRENT_ENTRY), params)
    cur.execute(t.format("DELETE FROM {current} WHERE " + KEY), params)


# Queries

BY_STAFF = """
SELECT staff_id, place_code, min(server_time) AS first_time, max(server_time) AS last_time,
  count(DISTINCT child_id) AS children, count(*) AS events
FROM {entries}
WHERE school_id = %(school)s AND service_day = %(day)s
  AND (%(staff)s::text IS NULL OR staff_id = %(staff)s)
  AND (%(place)s::text IS NULL OR place_code = %(place)s)
GROUP BY staff_id, place_code ORDER BY staff_id, first_time, place_code
"""

ENTRIES = """
SELECT staff_id, kind, place_code, child_id, version, event_type, server_time
FROM {entries}
WHERE school_id = %(school)s AND service_day = %(day)s AND (%(staff)s::text IS NULL OR staff_id = %(staff)s)
ORDER BY server_time, child_id, version, kind LIMIT %(limit)s OFFSET %(offset)s
"""


def by_staff(
    conn: Connection[Any], t: Tables, school: str, day: date, staff: str | None = None, place: str | None = None
) -> list[dict[str, Any]]:
    """Per staff member and place on one day: first and last event, how many children, how many events."""
    return t.rows(conn, BY_STAFF, {"school": school, "day": day, "staff": staff, "place": place})


def entries(
    conn: Connection[Any],
    t: Tables,
    school: str,
    day: date,
    staff: str | None = None,
    *,
    limit: int = 100,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """The supervision entries of one day, optionally of one staff member, in the order they happened."""
    params = {"school": school, "day": day, "staff": staff, "limit": limit, "offset": offset}
    return t.rows(conn, ENTRIES, params)
