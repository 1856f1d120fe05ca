"""A child's day, event by event: every custody event with who recorded it, on which device, and when.

Entries are in server order (the version in the child's stream); the device's time is shown beside it, and an entry
whose device clock was off by more than the tolerance is flagged `device_clock_skewed`.

A correction is an entry of its own (its details name the voided version and type, and the reason); the voided
entry stays, as it stays in the log."""

from __future__ import annotations

import dataclasses
from datetime import date
from typing import Any

from psycopg import Connection, Cursor, sql
from psycopg.types.json import Jsonb

from events.custody import (
    CustodyEvent,
)
from projections.base import ReadModel, Tables

CLOCK_SKEW_TOLERANCE = sql.Literal(300)
"""Seconds a device's clock may be off the server's before the views flag its records (`device_clock_skewed`)."""

timeline = ReadModel(
    "timeline",
    [
        "CREATE TABLE {entries} (school_id text NOT NULL, service_day date NOT NULL, child_id text NOT NULL,"
        " version int NOT NULL, event_type text NOT NULL, server_time timestamptz NOT NULL,"
        " device_time timestamptz NOT NULL, actor_id text NOT NULL, actor_role text NOT NULL,"
        " device_id text NOT NULL, details jsonb NOT NULL, clock_skew_seconds bigint,"
        " PRIMARY KEY (school_id, service_day, child_id, version))",
    ],
)

ENVELOPE = frozenset(field.name for field in dataclasses.fields(CustodyEvent))
"""Fields every custody event carries; `details` holds the rest, the event's own."""


def details(event: CustodyEvent) -> dict[str, Any]:
    """The event's own fields (never the envelope), as JSON values."""
    return {field.name: getattr(event, field.name) for field in dataclasses.fields(event) if field.name not in ENVELOPE}


@timeline.handles(*CustodyEvent.__subclasses__())
def _entry(cur: Cursor[Any], t: Tables, e: CustodyEvent) -> None:
    cur.execute(
        t.format(
            "INSERT INTO {entries} VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
            " ON CONFLICT (school_id, service_day, child_id, version) DO NOTHING"
        ),
        (
            e.school_id,
            e.service_day,
            e.child_id,
            e.originator_version,
            type(e).__name__,
            e.timestamp,
            e.device_time,
            e.actor_id,
            e.actor_role,
            e.device_id,
            Jsonb(details(e)),
            e.clock_skew_seconds,
        ),
    )


# Queries

CHILD_DAY = """
SELECT version, event_type, server_time, device_time, actor_id, actor_role, device_id, details, clock_skew_seconds,
  coalesce(abs(clock_skew_seconds) > {tolerance}, false) AS device_clock_skewed
FROM {entries}
WHERE school_id = %(school)s AND service_day = %(day)s AND child_id = %(child)s
ORDER BY version
"""


def child_day(conn: Connection[Any], t: Tables, school: str, day: date, child: str) -> list[dict[str, Any]]:
    """Every custody event of one child on one service day, in the order they happened to the child."""
    params = {"school": school, "day": day, "child": child}
    return t.rows(conn, CHILD_DAY, params, tolerance=CLOCK_SKEW_TOLERANCE)
