"""The outbox view: every message to guardians, whether it is delivered, how many tries it took, the last error.

The notifier reads it to find the messages that are due (it then checks each against the message's own stream
before sending, since a view can lag). Duty leaders and admins read it to see failures: a message that keeps
failing stays here, marked failing, until the gateway takes it."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from psycopg import Connection, Cursor
from psycopg.rows import dict_row

from events.notifications import GuardianMessageDelivered, GuardianMessageDeliveryFailed, GuardianMessageQueued
from projections.base import ReadModel, Tables

outbox = ReadModel(
    "outbox",
    [
        "CREATE TABLE {messages} (school_id text NOT NULL, message_id text NOT NULL, kind text NOT NULL,"
        " child_id text NOT NULL, service_day date NOT NULL, recipients int NOT NULL,"
        " queued_at timestamptz NOT NULL, status text NOT NULL, attempts int NOT NULL DEFAULT 0,"
        " last_error text, next_attempt_at timestamptz, delivered_at timestamptz, channel text,"
        " PRIMARY KEY (school_id, message_id))",
        "CREATE INDEX ON {messages} (COALESCE(next_attempt_at, queued_at)) WHERE status <> 'delivered'",
        "CREATE INDEX ON {messages} (school_id, service_day)",
    ],
)


@outbox.handles(GuardianMessageQueued)
def _queued(cur: Cursor[Any], t: Tables, e: GuardianMessageQueued) -> None:
    cur.execute(
        t.format(
            "INSERT INTO {messages} (school_id, message_id, kind, child_id, service_day, recipients, queued_at,"
            " status) VALUES (%s, %s, %s, %s, %s, %s, %s, 'queued') ON CONFLICT DO NOTHING"
        ),
        (e.school_id, e.message_id, e.kind, e.child_id, e.service_day, len(e.guardians), e.timestamp),
    )


@outbox.handles(GuardianMessageDeliveryFailed)
def _failed(cur: Cursor[Any], t: Tables, e: GuardianMessageDeliveryFailed) -> None:
    cur.execute(
        t.format(
            "UPDATE {messages} SET status = 'failing', attempts = %s, last_error = %s, next_attempt_at = %s,"
            " channel = %s WHERE school_id = %s AND message_id = %s AND status <> 'delivered'"
        ),
        (e.attempt, e.error, e.next_attempt_at, e.channel, e.school_id, e.message_id),
    )


@outbox.handles(GuardianMessageDelivered)
def _delivered(cur: Cursor[Any], t: Tables, e: GuardianMessageDelivered) -> None:
    cur.execute(
        t.format(
            "UPDATE {messages} SET status = 'delivered', attempts = %s, delivered_at = %s, next_attempt_at = NULL,"
            " channel = %s WHERE school_id = %s AND message_id = %s"
        ),
        (e.attempts, e.timestamp, e.channel, e.school_id, e.message_id),
    )


# Queries

COLUMNS = (
    "school_id, message_id, kind, child_id, service_day, recipients, queued_at, status, attempts, last_error,"
    " next_attempt_at, delivered_at, channel"
)


def due(conn: Connection[Any], t: Tables, now: datetime, limit: int = 100) -> list[tuple[str, str]]:
    """(school, message) of the undelivered messages whose next try is due, oldest first."""
    rows = conn.execute(
        t.format(
            "SELECT school_id, message_id FROM {messages} WHERE status <> 'delivered'"
            " AND COALESCE(next_attempt_at, queued_at) <= %s ORDER BY COALESCE(next_attempt_at, queued_at) LIMIT %s"
        ),
        (now, limit),
    ).fetchall()
    return [(school, message) for school, message in rows]


def listing(
    conn: Connection[Any], t: Tables, school_id: str, day: date, status: str | None = None
) -> list[dict[str, Any]]:
    """A school's messages of one service day, oldest first, optionally only those in one status."""
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            t.format(
                "SELECT " + COLUMNS + " FROM {messages} WHERE school_id = %s AND service_day = %s"
                " AND (%s::text IS NULL OR status = %s) ORDER BY queued_at, message_id"
            ),
            (school_id, day, status, status),
        )
        return cur.fetchall()


def backlog(conn: Connection[Any], t: Tables) -> dict[str, int]:
    """How many messages wait, per status (queued, failing), over every school: for the metrics."""
    rows = conn.execute(
        t.format("SELECT status, count(*) FROM {messages} WHERE status <> 'delivered' GROUP BY status")
    ).fetchall()
    return {"queued": 0, "failing": 0} | dict(rows)
