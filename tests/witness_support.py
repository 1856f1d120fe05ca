"""A witness for the tests: the bureau's witness code with a key of its own, following one school server's key, in
process (`cosign_all`) or served over HTTP (`served`). Bundles must carry its cosignature to verify."""

from __future__ import annotations

import base64
import dataclasses
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from replay.checkpoints import Checkpoint
from replay.cosignatures import witness_vkey
from replay.merkle import consistency_proof
from replay.notes import raw_public_key
from replay.witness import Witness
from replay.witness_store import WitnessStore
from service.http.witness_app import create_witness_app
from service.processes.witness_client import WitnessClient
from tests.support import serve

WITNESS_NAME = "witness.test/handoff"
WITNESS_KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32, 64)))


def bureau_witness(folder: Path, school_key: Ed25519PrivateKey) -> Witness:
    """The tests' witness, keeping its memory in `folder`, following every school signed with `school_key`."""
    logs = [("handoff/*", raw_public_key(school_key))]
    return Witness(WITNESS_NAME, WITNESS_KEY, logs, WitnessStore(folder), lambda: datetime.now(timezone.utc))


VKEY = witness_vkey(WITNESS_NAME, raw_public_key(WITNESS_KEY))


def body(old: int, proof: Sequence[bytes], note: str) -> bytes:
    """An add-checkpoint request body."""
    return (f"old {old}\n" + "".join(base64.b64encode(p).decode() + "\n" for p in proof) + "\n" + note).encode()


def cosign_all(witness: Witness, checkpoints: Sequence[Checkpoint], leaves: Sequence[bytes]) -> list[Checkpoint]:
    """Submit one school's checkpoints, smallest first, as its server would; each comes back cosigned."""
    cosigned, old = [], 0
    for checkpoint in sorted(checkpoints, key=lambda c: c.tree_size):
        proof = consistency_proof(leaves[: checkpoint.tree_size], old)
        line = witness.add_checkpoint(body(old, proof, checkpoint.note))
        cosigned.append(dataclasses.replace(checkpoint, note=checkpoint.note + line))
        old = checkpoint.tree_size
    return cosigned


@contextmanager
def served(witness: Witness) -> Iterator[WitnessClient]:
    """The witness over HTTP on a free port, and a school's client of it."""
    server, thread, url = serve(create_witness_app(witness))
    try:
        yield WitnessClient(url, witness.vkey)
    finally:
        server.should_exit = True
        thread.join(10)
