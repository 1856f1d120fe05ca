"""Incidents by school and service day: which were opened, of what kind, and whether they are still open.

It answers "which incidents does this day have" without reading the log: GET /incidents, the board (every 15 s) and
the day's closing load each incident from its own stream, by the ids found here. Rows hold ids only, never a name."""

from __future__ import annotations

from datetime import date
from typing import Any

from psycopg import Connection, Cursor

from events.incidents import IncidentOpened, IncidentResolved
from projections import catalog
from projections.base import ReadModel, Tables

incidents = ReadModel(
    "incidents",
    [
        "CREATE TABLE {opened} (school_id text NOT NULL, incident_id text NOT NULL, service_day text NOT NULL,"
        " kind text NOT NULL, open boolean NOT NULL, opened_at timestamptz NOT NULL, seq bigserial NOT NULL,"
        " PRIMARY KEY (school_id, incident_id))",
        "CREATE INDEX ON {opened} (school_id, service_day, seq)",
    ],
)


@incidents.handles(IncidentOpened)
def _opened(cur: Cursor[Any], t: Tables, e: IncidentOpened) -> None:
    """In log order, so `seq` is the order they were opened in, in every rebuilt version too."""
    cur.execute(
        t.format("INSERT INTO {opened} VALUES (%s, %s, %s, %s, true, %s) ON CONFLICT DO NOTHING"),
        (e.school_id, e.incident_id, e.service_day, e.kind, e.timestamp),
    )


@incidents.handles(IncidentResolved)
def _resolved(cur: Cursor[Any], t: Tables, e: IncidentResolved) -> None:
    cur.execute(
        t.format("UPDATE {opened} SET open = false WHERE school_id = %s AND incident_id = %s"),
        (e.school_id, e.incident_id),
    )


# Queries


def of_day(conn: Connection[Any], t: Tables, school_id: str, day: date) -> tuple[int, list[str]]:
    """The position this version has reached, then the ids of the school's incidents of that day, as opened.

    The position is read first: rows may then hold events past it, never fewer (the caller reads the log after it
    and drops ids it already has)."""
    reached = catalog.position(conn, incidents.name, t.version)
    rows = conn.execute(
        t.format("SELECT incident_id FROM {opened} WHERE school_id = %s AND service_day = %s ORDER BY seq"),
        (school_id, day.isoformat()),
    ).fetchall()
    return reached, [incident_id for (incident_id,) in rows]
