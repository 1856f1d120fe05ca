"""Which version of each read model is live, how far each version has got, and which events made a handler fail."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg import Connection

CATALOG_DDL = (
    "CREATE TABLE IF NOT EXISTS projection_versions ("
    " projection text PRIMARY KEY, active_version int NOT NULL, switched_at timestamptz NOT NULL DEFAULT now())",
    "CREATE TABLE IF NOT EXISTS projection_positions ("
    " projection text NOT NULL, version int NOT NULL, position bigint NOT NULL DEFAULT 0,"
    " tables_created boolean NOT NULL DEFAULT false,"
    " updated_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (projection, version))",
    "CREATE TABLE IF NOT EXISTS projection_failures ("
    " projection text NOT NULL, version int NOT NULL, position bigint NOT NULL, topic text NOT NULL,"
    " error text NOT NULL, attempts int NOT NULL DEFAULT 1, first_seen timestamptz NOT NULL DEFAULT now(),"
    " last_seen timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (projection, version, position))",
    # one school's event that a handler can never apply is parked here, so that every other school's views go on
    "CREATE TABLE IF NOT EXISTS projection_parked ("
    " projection text NOT NULL, version int NOT NULL, position bigint NOT NULL, topic text NOT NULL,"
    " school_id text, error text NOT NULL, parked_at timestamptz NOT NULL DEFAULT now(),"
    " PRIMARY KEY (projection, version, position))",
)
SWITCH_CHANNEL = "handoff_projection_switch"
DDL_LOCK = 7_316_001
"""Advisory lock taken while creating tables, so that processes starting together do not race."""


@dataclass(frozen=True)
class Failure:
    """An event a handler could not apply: the projection waits at it and retries; it is never skipped."""

    projection: str
    version: int
    position: int
    topic: str
    error: str
    attempts: int
    first_seen: datetime
    last_seen: datetime


def lock_ddl(conn: Connection[Any]) -> None:
    conn.execute("SELECT pg_advisory_xact_lock(%s)", (DDL_LOCK,))


def ensure_catalog(conn: Connection[Any]) -> None:
    with conn.transaction():
        lock_ddl(conn)
        for statement in CATALOG_DDL:
            conn.execute(statement)  # type: ignore[arg-type]


def active_version(conn: Connection[Any], projection: str) -> int | None:
    row = conn.execute("SELECT active_version FROM projection_versions WHERE projection = %s", (projection,)).fetchone()
    return row[0] if row else None


def newest_version(conn: Connection[Any], projection: str) -> int:
    row = conn.execute("SELECT max(version) FROM projection_positions WHERE projection = %s", (projection,)).fetchone()
    return row[0] or 0 if row else 0


def activate(conn: Connection[Any], projection: str, version: int) -> None:
    conn.execute(
        "INSERT INTO projection_versions (projection, active_version) VALUES (%s, %s) ON CONFLICT (projection)"
        " DO UPDATE SET active_version = excluded.active_version, switched_at = now()",
        (projection, version),
    )
    conn.execute("SELECT pg_notify(%s, %s)", (SWITCH_CHANNEL, f"{projection}:{version}"))


def register_version(conn: Connection[Any], projection: str, version: int, tables_created: bool = False) -> None:
    conn.execute(
        "INSERT INTO projection_positions (projection, version, tables_created) VALUES (%s, %s, %s)"
        " ON CONFLICT (projection, version) DO UPDATE"
        " SET tables_created = projection_positions.tables_created OR excluded.tables_created",
        (projection, version, tables_created),
    )


def has_tables(conn: Connection[Any], projection: str, version: int) -> bool:
    row = conn.execute(
        "SELECT tables_created FROM projection_positions WHERE projection = %s AND version = %s", (projection, version)
    ).fetchone()
    return bool(row and row[0])


def position(conn: Connection[Any], projection: str, version: int) -> int:
    row = conn.execute(
        "SELECT position FROM projection_positions WHERE projection = %s AND version = %s", (projection, version)
    ).fetchone()
    return row[0] if row else 0


def record_failure(conn: Connection[Any], projection: str, version: int, at: int, topic: str, error: str) -> None:
    conn.execute(
        "INSERT INTO projection_failures (projection, version, position, topic, error) VALUES (%s, %s, %s, %s, %s)"
        " ON CONFLICT (projection, version, position) DO UPDATE SET attempts = projection_failures.attempts + 1,"
        " last_seen = now(), error = excluded.error",
        (projection, version, at, topic, error[:500]),
    )


def attempts(conn: Connection[Any], projection: str, version: int, at: int) -> int:
    """How often the event at this position has failed already."""
    row = conn.execute(
        "SELECT attempts FROM projection_failures WHERE projection = %s AND version = %s AND position = %s",
        (projection, version, at),
    ).fetchone()
    return row[0] if row else 0


def park(
    conn: Connection[Any], projection: str, version: int, at: int, topic: str, school: str | None, error: str
) -> None:
    conn.execute(
        "INSERT INTO projection_parked (projection, version, position, topic, school_id, error)"
        " VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
        (projection, version, at, topic, school, error[:500]),
    )


@dataclass(frozen=True)
class Parked:
    """Events of the live version that were parked: how many, and the newest."""

    count: int
    position: int
    topic: str
    school_id: str | None
    error: str
    parked_at: datetime


def parked(conn: Connection[Any]) -> dict[str, Parked]:
    rows = conn.execute(
        "SELECT DISTINCT ON (p.projection) p.projection, count(*) OVER (PARTITION BY p.projection), p.position,"
        " p.topic, p.school_id, p.error, p.parked_at FROM projection_parked p JOIN projection_versions v"
        " ON v.projection = p.projection AND v.active_version = p.version ORDER BY p.projection, p.position DESC"
    ).fetchall()
    return {row[0]: Parked(*row[1:]) for row in rows}


def clear_failures(conn: Connection[Any], projection: str, version: int, upto: int) -> None:
    """Failures at or before a position that has now been applied are over."""
    conn.execute(
        "DELETE FROM projection_failures WHERE projection = %s AND version = %s AND position <= %s",
        (projection, version, upto),
    )


def failures(conn: Connection[Any]) -> list[Failure]:
    rows = conn.execute(
        "SELECT f.projection, f.version, f.position, f.topic, f.error, f.attempts, f.first_seen, f.last_seen"
        " FROM projection_failures f JOIN projection_versions v"
        " ON v.projection = f.projection AND v.active_version = f.version ORDER BY f.projection"
    ).fetchall()
    return [Failure(*row) for row in rows]
