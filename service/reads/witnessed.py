"""When each school's log was last witnessed: the newest cosigned submission, and the newest answer of any kind, from
the checkpoint process's `witness_submissions` (see service/processes/witness_client.py). A school that stops
submitting, or whose checkpoints the witness refuses, shows an old time or none."""

from __future__ import annotations

from typing import Any

from psycopg import Connection


def last_witnessed(conn: Connection[Any], tables: Any, schools: list[str]) -> dict[str, dict[str, Any]]:
    """Per school: `at` (the newest cosigned checkpoint's time, None if never), `tree_size`, and the newest answer's
    `outcome` ("cosigned", or the witness's refusal code, or "unreachable"-like error names)."""
    found: dict[str, dict[str, Any]] = {school: {"at": None, "tree_size": None, "outcome": None} for school in schools}
    if conn.execute("SELECT to_regclass('witness_submissions') IS NULL").fetchone() != (False,):
        return found  # no checkpoint was ever submitted here
    rows = conn.execute(
        "SELECT school_id, max(at) FILTER (WHERE status = 200), max(tree_size) FILTER (WHERE status = 200),"
        " (array_agg(outcome ORDER BY at DESC, tree_size DESC))[1] FROM witness_submissions WHERE school_id = ANY(%s)"
        " GROUP BY school_id",
        (schools,),
    ).fetchall()
    for school, at, size, outcome in rows:
        found[school] = {"at": at, "tree_size": size, "outcome": outcome}
    return found
