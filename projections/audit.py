"""The safety audit trail: every change of custody, from whom to whom, where, when and on which device.

A check-in passes the child from the homeroom teacher (when known) to a custodian at a place; a transfer from one
custodian and place to another; a release from the custodian, at the place the child was last taken to, to a
guardian, or to 'self' when the child leaves alone.

A correction that voids one of these changes is a change of its own (kind 'correction', the reason in `note`): from
whoever had the child after the voided change, where it left the child, back to the custodian and place before it,
or to nobody (to_party NULL) when the child is no longer in care. The voided change stays in the trail. Corrections
of records that changed no custody (arrivals, confirmations, refusals, absences) are not custody changes: they are
in the timeline only.

The trail is in server order; a change recorded from a device whose clock was off by more than the tolerance is
flagged `device_clock_skewed`, with the skew in seconds."""

from __future__ import annotations

from datetime import date
from typing import Any

from psycopg import Connection, Cursor

from events.custody import ChildCheckedIn, ChildReleased, ChildTransferred, CustodyCorrected, CustodyEvent
from projections.base import ReadModel, Tables, custody_row
from projections.timeline import CLOCK_SKEW_TOLERANCE

audit = ReadModel(
    "audit",
    [
        "CREATE TABLE {changes} (school_id text NOT NULL, service_day date NOT NULL, child_id text NOT NULL,"
        " version int NOT NULL, kind text NOT NULL, from_party text, from_place text, to_party text, to_place text,"
        " server_time timestamptz NOT NULL, device_time timestamptz NOT NULL, device_id text NOT NULL,"
        " actor_id text NOT NULL, actor_role text NOT NULL, note text, clock_skew_seconds bigint,"
        " PRIMARY KEY (school_id, service_day, child_id, version))",
        "CREATE INDEX ON {changes} (school_id, server_time)",
    ],
)

INSERT = (
    "INSERT INTO {changes} VALUES (%(school)s, %(day)s, %(child)s, %(version)s, %(kind)s, %(from_party)s,"
    # a release names no place: it happens where the child was last taken to
    " COALESCE(%(from_place)s::text, (SELECT to_place FROM {changes} WHERE school_id = %(school)s"
    " AND service_day = %(day)s AND child_id = %(child)s AND version < %(version)s ORDER BY version DESC LIMIT 1)),"
    " %(to_party)s, %(to_place)s, %(server_time)s, %(device_time)s, %(device)s, %(actor)s, %(role)s, NULL, %(skew)s)"
    " ON CONFLICT (school_id, service_day, child_id, version) DO NOTHING"
)
CORRECTION = (  # from where the voided change left the child (a release leaves no place: where it happened)
    "INSERT INTO {changes} SELECT school_id, service_day, child_id, %(version)s, 'correction', to_party,"
    " COALESCE(to_place, from_place), %(to_party)s, %(to_place)s, %(server_time)s, %(device_time)s, %(device)s,"
    " %(actor)s, %(role)s, %(note)s, %(skew)s FROM {changes} WHERE school_id = %(school)s AND service_day = %(day)s"
    " AND child_id = %(child)s AND version = %(voids)s"
    " ON CONFLICT (school_id, service_day, child_id, version) DO NOTHING"
)


def _record(cur: Cursor[Any], t: Tables, e: CustodyEvent, kind: str, **change: Any) -> None:
    cur.execute(t.format(INSERT), _params(e, kind, **change))


def _params(e: CustodyEvent, kind: str, **change: Any) -> dict[str, Any]:
    return custody_row(e, kind) | {
        "from_place": None,
        "to_place": None,
        "server_time": e.timestamp,
        "device_time": e.device_time,
        "device": e.device_id,
        "actor": e.actor_id,
        "role": e.actor_role,
        "skew": e.clock_skew_seconds,
        **change,
    }


@audit.handles(ChildCheckedIn)
def _checked_in(cur: Cursor[Any], t: Tables, e: ChildCheckedIn) -> None:
    _record(cur, t, e, "check_in", from_party=e.handed_over_by, to_party=e.custodian_id, to_place=e.place_code)


@audit.handles(ChildTransferred)
def _transferred(cur: Cursor[Any], t: Tables, e: ChildTransferred) -> None:
    _record(
        cur,
        t,
        e,
        "transfer",
        from_party=e.from_custodian_id,
        from_place=e.from_place_code,
        to_party=e.to_custodian_id,
        to_place=e.to_place_code,
    )


@audit.handles(ChildReleased)
def _released(cur: Cursor[Any], t: Tables, e: ChildReleased) -> None:
    _record(cur, t, e, "release", from_party=e.from_custodian_id, to_party=e.guardian_id or "self")


@audit.handles(CustodyCorrected)
def _corrected(cur: Cursor[Any], t: Tables, e: CustodyCorrected) -> None:
    restored = {"to_party": e.custodian_id, "to_place": e.place_code if e.custodian_id else None}
    cur.execute(t.format(CORRECTION), _params(e, "correction", **restored, voids=e.voids_version, note=e.reason))


# Queries

CHANGES = """
SELECT service_day, child_id, version, kind, from_party, from_place, to_party, to_place, server_time, device_time,
  device_id, actor_id, actor_role, note, clock_skew_seconds,
  coalesce(abs(clock_skew_seconds) > {tolerance}, false) AS device_clock_skewed
FROM {changes}
WHERE school_id = %(school)s
  AND (%(day)s::date IS NULL OR service_day = %(day)s)
  AND (%(child)s::text IS NULL OR child_id = %(child)s)
ORDER BY server_time, child_id, version LIMIT %(limit)s OFFSET %(offset)s
"""


def custody_changes(
    conn: Connection[Any],
    t: Tables,
    school: str,
    day: date | None = None,
    child: str | None = None,
    *,
    limit: int = 100,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """Changes of custody in one school, optionally of one day or one child, oldest first."""
    params = {"school": school, "day": day, "child": child, "limit": limit, "offset": offset}
    return t.rows(conn, CHANGES, params, tolerance=CLOCK_SKEW_TOLERANCE)
