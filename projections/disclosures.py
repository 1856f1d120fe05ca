"""The disclosure log (披露记录): every audit export, once per school it covered, with who made it, for whom, when,
why, which days, whether names were left out, and the tree head the bundle was checked against.

A school's admin reads their school's rows; the district's regulator reads the rows of every school of the district
(a district export is one disclosure, shown under each of its schools). Rows hold staff references, never a child."""

from __future__ import annotations

from typing import Any

from psycopg import Connection, Cursor
from psycopg.types.json import Jsonb

from events.audit import AuditExportMade
from events.school import SchoolRegistered
from projections.base import ReadModel, Tables

disclosures = ReadModel(
    "disclosures",
    [
        "CREATE TABLE {schools} (school_id text PRIMARY KEY, district_id text NOT NULL)",
        "CREATE TABLE {exports} (disclosure_id text NOT NULL, school_id text NOT NULL, made_at timestamptz NOT NULL,"
        " actor_id text NOT NULL, actor_role text NOT NULL, requested_by text NOT NULL, reason text NOT NULL,"
        " day_from text NOT NULL, day_to text NOT NULL, pseudonymised boolean NOT NULL, schools jsonb NOT NULL,"
        " head jsonb, seq bigserial NOT NULL, PRIMARY KEY (disclosure_id, school_id))",
        "CREATE INDEX ON {exports} (school_id, seq)",
    ],
)


@disclosures.handles(SchoolRegistered)
def _school(cur: Cursor[Any], t: Tables, e: SchoolRegistered) -> None:
    cur.execute(t.format("INSERT INTO {schools} VALUES (%s, %s) ON CONFLICT DO NOTHING"), (e.school_id, e.district_id))


@disclosures.handles(AuditExportMade)
def _export(cur: Cursor[Any], t: Tables, e: AuditExportMade) -> None:
    """One row per school the export covered, in log order (`seq`)."""
    for school in dict.fromkeys(e.schools):
        cur.execute(
            t.format(
                "INSERT INTO {exports} (disclosure_id, school_id, made_at, actor_id, actor_role, requested_by, reason,"
                " day_from, day_to, pseudonymised, schools, head)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING"
            ),
            (
                str(e.originator_id),
                school,
                e.timestamp,
                e.actor_id,
                e.actor_role,
                e.requested_by,
                e.reason,
                e.day_from,
                e.day_to,
                e.pseudonymised,
                Jsonb(e.schools),
                Jsonb(e.roots.get(school)),
            ),
        )


COLUMNS = "disclosure_id, made_at, actor_id, actor_role, requested_by, reason, day_from, day_to, pseudonymised, schools"
OF_SCHOOL = f"""
SELECT {COLUMNS}, head FROM {{exports}} WHERE school_id = %(school)s ORDER BY seq DESC LIMIT %(limit)s OFFSET %(offset)s
"""
OF_DISTRICT = f"""
SELECT {COLUMNS} FROM (
  SELECT DISTINCT ON (disclosure_id) {COLUMNS}, seq FROM {{exports}}
  WHERE school_id IN (SELECT school_id FROM {{schools}} WHERE district_id = %(district)s) ORDER BY disclosure_id, seq
) found ORDER BY seq DESC LIMIT %(limit)s OFFSET %(offset)s
"""


def of_school(conn: Connection[Any], t: Tables, school: str, limit: int = 100, offset: int = 0) -> list[dict[str, Any]]:
    """The school's disclosures, newest first, each with the school's tree head the bundle carried."""
    return t.rows(conn, OF_SCHOOL, {"school": school, "limit": limit, "offset": offset})


def of_district(
    conn: Connection[Any], t: Tables, district: str, limit: int = 100, offset: int = 0
) -> list[dict[str, Any]]:
    """The disclosures that covered any school of the district, newest first, each once."""
    return t.rows(conn, OF_DISTRICT, {"district": district, "limit": limit, "offset": offset})
