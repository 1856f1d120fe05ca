"""A school submits each checkpoint it signs to the bureau's witness (c2sp.org/tlog-witness), with a consistency
proof from the last size the witness cosigned, and adds the cosignature lines it answers to the kept checkpoint, so
exports carry them. Every answer is kept in `witness_submissions` (a refusal is also logged, without personal data)."""

from __future__ import annotations

import base64
import logging
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import psycopg

from projections.log import EventLog
from replay.checkpoints import Checkpoint, load_or_create_signing_key
from replay.cosignatures import cosigned, witness_key
from replay.leaves import Salts
from replay.merkle import TreeBuilder, consistency_proof_after, consistency_proof_of_hashes
from replay.trees import school_leaf_hashes
from replay.witness import Witness, WitnessRefusal
from replay.witness_store import WitnessStore

log = logging.getLogger("handoff.witness")
STAND_IN_NAME = "stand-in.witness.local/handoff"

DDL = (
    "CREATE TABLE IF NOT EXISTS witness_submissions (school_id text NOT NULL, tree_size bigint NOT NULL,"
    " at text NOT NULL, status int NOT NULL, outcome text NOT NULL)",
    "CREATE INDEX IF NOT EXISTS witness_submissions_school ON witness_submissions (school_id, at)",
)


@dataclass(frozen=True)
class WitnessClient:
    """The witness at `url` (its submission prefix), whose cosignatures are checked against `vkey`."""

    url: str
    vkey: str
    timeout: float = 10.0

    def submit(self, old: int, proof: Sequence[bytes], note: str) -> tuple[int, str]:
        """POST add-checkpoint; the status and body (0 and the error's name when the witness cannot be reached)."""
        body = f"old {old}\n" + "".join(base64.b64encode(p).decode() + "\n" for p in proof) + "\n" + note
        request = urllib.request.Request(
            self.url.rstrip("/") + "/add-checkpoint", body.encode(), {"Content-Type": "text/plain"}, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:  # noqa: S310 (a configured URL)
                return answer.status, answer.read(65536).decode("utf-8", "replace")
        except urllib.error.HTTPError as refusal:
            return refusal.code, refusal.read(65536).decode("utf-8", "replace")
        except (OSError, ValueError) as error:
            return 0, type(error).__name__

    def cosignatures(self, note: str, body: str) -> str:
        """The lines of a 200 answer that are cosignatures of `note` by the pinned witness (others are ignored)."""
        pinned = [witness_key(self.vkey)]
        return "".join(line + "\n" for line in body.splitlines() if cosigned(note + line + "\n", pinned) is None)


@dataclass(frozen=True)
class StandInWitness(WitnessClient):
    """A witness run inside the school's own process, for the demo and development only: it proves nothing about
    the school (whoever runs the school runs it too); the bureau's witness is a separate service."""

    witness: Witness | None = None

    @classmethod
    def kept_in(cls, folder: Path, school_key: bytes) -> StandInWitness:
        """The stand-in whose key and memory are in `folder`, following every school signed with `school_key`."""
        key = load_or_create_signing_key(folder / "witness-key.pem")
        found = Witness(STAND_IN_NAME, key, [("handoff/*", school_key)], WitnessStore(folder), _now)
        return cls("in-process", found.vkey, witness=found)

    def submit(self, old: int, proof: Sequence[bytes], note: str) -> tuple[int, str]:
        assert self.witness is not None
        body = f"old {old}\n" + "".join(base64.b64encode(p).decode() + "\n" for p in proof) + "\n" + note
        try:
            return 200, self.witness.add_checkpoint(body.encode())
        except WitnessRefusal as refusal:
            size = refusal.known_size
            return refusal.status, f"{size}\n" if size is not None else f"{refusal.code}: {refusal.message}\n"


def _now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class Submission:
    """What a submission needs: the trees before this run and the new leaves' hashes, by school."""

    client: WitnessClient
    events: EventLog
    salts: Salts
    before: dict[str, TreeBuilder]
    added: dict[str, list[bytes]]

    def run(self, conn: psycopg.Connection[Any], made: Sequence[Checkpoint], at: str) -> None:
        """Submit each new checkpoint; keep the answer and, when cosigned, the cosignature on the checkpoint."""
        for checkpoint in made:
            status, outcome = self._submit(conn, checkpoint)
            conn.execute(
                "INSERT INTO witness_submissions VALUES (%s, %s, %s, %s, %s)",
                (checkpoint.school_id, checkpoint.tree_size, at, status, outcome),
            )
            if status != 200:
                log.warning("the witness did not cosign school %s at size %d: %s %s",
                            checkpoint.school_id, checkpoint.tree_size, status, outcome)  # fmt: skip

    def _submit(self, conn: psycopg.Connection[Any], checkpoint: Checkpoint) -> tuple[int, str]:
        school = checkpoint.school_id
        old = last_cosigned(conn, school)
        if old > checkpoint.tree_size:  # the tree was started again smaller: the witness would call it a fork
            return 0, "smaller_than_witnessed"
        before = self.before.get(school, TreeBuilder())
        if old == before.size:
            proof = consistency_proof_after(before, self.added.get(school, []))
        else:
            proof = self._proof_from_log(school, old, checkpoint.tree_size)
        status, body = self.client.submit(old, proof, checkpoint.note)
        if status == 409 and body.strip().isdigit() and int(body) <= checkpoint.tree_size:
            old = int(body)
            proof = self._proof_from_log(school, old, checkpoint.tree_size)
            status, body = self.client.submit(old, proof, checkpoint.note)
        if status != 200:
            return status, body.split(":", 1)[0].strip()[:80] or str(status)
        lines = self.client.cosignatures(checkpoint.note, body)
        if not lines:
            return 502, "not_cosigned_by_the_pinned_witness"
        conn.execute(
            "UPDATE tree_checkpoints SET note = note || %s WHERE school_id = %s AND tree_size = %s AND note = %s",
            (lines, school, checkpoint.tree_size, checkpoint.note),
        )
        return 200, "cosigned"

    def _proof_from_log(self, school: str, old: int, size: int) -> list[bytes]:
        """The proof from `old`, when the witness is behind the last run: the school's leaves read again."""
        return consistency_proof_of_hashes(school_leaf_hashes(self.events, self.salts, school, size), old)


def last_cosigned(conn: psycopg.Connection[Any], school: str) -> int:
    """The size of the school's newest checkpoint the witness cosigned (0 for none)."""
    row = conn.execute(
        "SELECT max(tree_size) FROM witness_submissions WHERE school_id = %s AND status = 200", (school,)
    ).fetchone()
    return int(row[0]) if row and row[0] is not None else 0
