"""The checkpoint follower: carries every school's hash tree forward and signs a checkpoint (Ed25519) of each tree
that grew, keeping them in `tree_checkpoints`. Two followers at once are harmless: the progress row is locked."""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Callable
from contextlib import nullcontext
from datetime import datetime
from typing import Any, cast

import psycopg
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from projections.log import EventLog
from replay.checkpoints import Checkpoint, sign_checkpoint
from replay.leaves import Salts
from replay.trees import SchoolTrees
from service.processes.follower import Follower
from service.processes.witness_client import DDL as WITNESS_DDL
from service.processes.witness_client import Submission, WitnessClient

log = logging.getLogger("handoff.checkpoints")

DDL = (
    "CREATE TABLE IF NOT EXISTS tree_progress (id int PRIMARY KEY CHECK (id = 1), position bigint NOT NULL,"
    " states jsonb NOT NULL)",
    "CREATE TABLE IF NOT EXISTS tree_checkpoints (school_id text NOT NULL, tree_size bigint NOT NULL,"
    " root_hex text NOT NULL, made_at text NOT NULL, key_id text NOT NULL, signature_hex text NOT NULL,"
    " PRIMARY KEY (school_id, tree_size))",
    # Progress before checkpoints, as a signing run takes them: a follower starting meanwhile waits, never deadlocks.
    "ALTER TABLE tree_progress ADD COLUMN IF NOT EXISTS leaves text NOT NULL DEFAULT 'stored rows'",
    "INSERT INTO tree_progress VALUES (1, 0, '{}') ON CONFLICT DO NOTHING",
    "ALTER TABLE tree_checkpoints ADD COLUMN IF NOT EXISTS note text NOT NULL DEFAULT ''",  # '' before signed notes
)
SALT_KEY_DDL = (
    # The key the leaves' salts derive from (replay/leaves.py): made once, kept with the log it salts, never shown.
    # Every shard of a deployment keeps the same one (service.runtime.share_salt_key): a moved school keeps its tree.
    "CREATE TABLE IF NOT EXISTS tree_salt_key (id int PRIMARY KEY CHECK (id = 1), key bytea NOT NULL)",
)
LEAVES = "committed v2"
"""The leaf format of replay/leaves.py. Trees of an older format are started again from the first event, and their
checkpoints are kept apart in tree_checkpoints_old (they still prove what the log held, under the old leaves)."""
RESTART = (
    "CREATE TABLE IF NOT EXISTS tree_checkpoints_old (LIKE tree_checkpoints, leaves text NOT NULL)",
    "INSERT INTO tree_checkpoints_old SELECT c.*, p.leaves FROM tree_checkpoints c, tree_progress p",
    "DELETE FROM tree_checkpoints",
    f"UPDATE tree_progress SET position = 0, states = '{{}}', leaves = '{LEAVES}'",
)


class Checkpointer:
    """Signs the trees' heads as the log grows."""

    def __init__(
        self,
        conninfo: str,
        events: EventLog,
        key: Ed25519PrivateKey,
        clock: Callable[[], datetime],
        witness: WitnessClient | None = None,
    ):
        self.conninfo, self.events, self.key, self.clock, self.witness = conninfo, events, key, clock, witness
        with psycopg.connect(conninfo, autocommit=True) as conn, conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(7316002)")
            for statement in DDL + WITNESS_DDL:
                conn.execute(statement)  # type: ignore[arg-type]
            if conn.execute("SELECT leaves FROM tree_progress").fetchall()[0][0] != LEAVES:
                for statement in RESTART:
                    conn.execute(statement)  # type: ignore[arg-type]
        self.salts = Salts(cast(bytes, tree_salt_key(conninfo)))

    def run_once(self, on: psycopg.Connection[Any] | None = None) -> list[Checkpoint]:
        """Carry the trees to the head of the log, sign a checkpoint of every tree that grew, and submit each to the
        witness (after the commit: a slow witness holds no lock)."""
        opened = nullcontext(on) if on is not None else psycopg.connect(self.conninfo, autocommit=True)
        with opened as conn:
            with conn.transaction():
                progress = conn.execute("SELECT position, states FROM tree_progress FOR UPDATE").fetchone()
                position, states = progress or (0, {})  # the row exists: the constructor made it
                trees = SchoolTrees.resume(position, states)
                before = {school: tree.copy() for school, tree in trees.trees.items()}
                added: dict[str, list[bytes]] = {}
                grew = trees.advance(self.events, self.salts, added=added)
                made_at = self.clock().isoformat()
                made = [
                    sign_checkpoint(self.key, s, trees.trees[s].size, trees.trees[s].root(), made_at)
                    for s in sorted(grew)
                ]
                for checkpoint in made:
                    conn.execute(
                        "INSERT INTO tree_checkpoints VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
                        _row(checkpoint),
                    )
                conn.execute(
                    "UPDATE tree_progress SET position = %s, states = %s", (trees.position, json.dumps(trees.states()))
                )
            if self.witness and made:
                Submission(self.witness, self.events, self.salts, before, added).run(conn, made, made_at)
        return made


def tree_salt_key(conninfo: str, adopt: bytes | None = None, make: bool = True) -> bytes | None:
    """The tree salt key kept in this database. Where there is none yet: `adopt` it if given, else make one (or, with
    make=False, answer None)."""
    with psycopg.connect(conninfo, autocommit=True) as conn, conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(7316002)")  # the constructors' lock: one of them makes the table
        for statement in SALT_KEY_DDL:
            conn.execute(statement)  # type: ignore[arg-type]
        if adopt is not None or make:
            fresh = adopt if adopt is not None else secrets.token_bytes(32)
            conn.execute("INSERT INTO tree_salt_key VALUES (1, %s) ON CONFLICT DO NOTHING", (fresh,))
        kept = conn.execute("SELECT key FROM tree_salt_key").fetchall()
        return bytes(kept[0][0]) if kept else None


def checkpoints(conninfo: str, schools: list[str]) -> list[Checkpoint]:
    """The kept checkpoints of these schools, oldest first."""
    return [checkpoint for checkpoint in all_checkpoints(conninfo) if checkpoint.school_id in schools]


def all_checkpoints(conninfo: str) -> list[Checkpoint]:
    """Every kept checkpoint, of every school and district."""
    with psycopg.connect(conninfo) as conn:
        rows = conn.execute(
            "SELECT school_id, tree_size, root_hex, made_at, key_id, signature_hex, note FROM tree_checkpoints"
            " ORDER BY school_id, tree_size"
        ).fetchall()
    return [Checkpoint(*row) for row in rows]


def _row(checkpoint: Checkpoint) -> tuple[Any, ...]:
    return (
        checkpoint.school_id,
        checkpoint.tree_size,
        checkpoint.root_hex,
        checkpoint.made_at,
        checkpoint.key_id,
        checkpoint.signature_hex,
        checkpoint.note,
    )


class CheckpointFollower(Follower):
    """Runs the checkpointer every `interval` seconds (any number at once: the progress row is locked)."""

    name = "checkpoints"

    def __init__(self, checkpointer: Checkpointer, interval: float) -> None:
        super().__init__(checkpointer.conninfo, interval)
        self.checkpointer = checkpointer

    def step(self, conn: psycopg.Connection[Any]) -> None:
        made = self.checkpointer.run_once(conn)
        if made:
            log.info("signed %d checkpoint(s)", len(made))
