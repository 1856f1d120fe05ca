"""Reactions a policy could not carry out: parked, one row each, and shown on /health and /metrics.

A policy that is refused (a domain rule says no) must not block the reactions after it, and must not vanish into a
log line either: a missing-child incident that could not open is something a duty leader has to see. The row keeps
which reaction, to what, the school, and the refusal's code and words (ids only, never a name)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg.errors import UndefinedTable

from aggregates.base import DomainError
from service.reads.readside import ReadSide

DDL = (
    "CREATE TABLE IF NOT EXISTS parked_reactions (reaction text NOT NULL, source text NOT NULL,"
    " school_id text NOT NULL, code text NOT NULL, message text NOT NULL, attempts int NOT NULL DEFAULT 1,"
    " first_seen timestamptz NOT NULL DEFAULT now(), last_seen timestamptz NOT NULL DEFAULT now(),"
    " PRIMARY KEY (reaction, source))"
)
SHOWN = 20


@dataclass(frozen=True)
class ParkedReaction:
    """A reaction that was refused: `source` names the event (its log position) or the sweep it answered."""

    reaction: str
    source: str
    school_id: str
    code: str
    message: str
    attempts: int
    first_seen: datetime
    last_seen: datetime


def park(conn: psycopg.Connection[Any], reaction: str, source: str, school_id: str, refusal: DomainError) -> None:
    """Keep the refusal (again: one row per reaction and source, counting the attempts)."""
    conn.execute(
        "INSERT INTO parked_reactions (reaction, source, school_id, code, message) VALUES (%s, %s, %s, %s, %s)"
        " ON CONFLICT (reaction, source) DO UPDATE SET attempts = parked_reactions.attempts + 1, last_seen = now(),"
        " message = excluded.message",
        (reaction, source, school_id, refusal.code, refusal.text[:500]),
    )


def parked(read: ReadSide, limit: int = SHOWN) -> tuple[int, list[ParkedReaction]]:
    """How many reactions are parked, and the newest `limit` of them."""
    with read.pool.connection() as conn:
        try:
            (count,) = conn.execute("SELECT count(*) FROM parked_reactions").fetchone() or (0,)
            rows = conn.execute(
                "SELECT reaction, source, school_id, code, message, attempts, first_seen, last_seen"
                " FROM parked_reactions ORDER BY last_seen DESC LIMIT %s",
                (limit,),
            ).fetchall()
        except UndefinedTable:  # the policies have not run yet
            return 0, []
    return count, [ParkedReaction(*row) for row in rows]
