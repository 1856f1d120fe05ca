"""The bureau's witness (c2sp.org/tlog-witness): it cosigns a school's checkpoint only when the checkpoint is signed
by that school's key and extends, by a valid consistency proof, the last checkpoint it cosigned for that log. So a
school server that rewrites its history cannot get the new tree cosigned, and a regulator who pins the witness's key
refuses bundles without its cosignature. Every refusal of a validly signed checkpoint is kept as evidence."""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from replay.cosignatures import cosign, parse_school_vkey, witness_vkey
from replay.merkle import EMPTY_ROOT, verify_consistency
from replay.notes import open_note, raw_public_key
from replay.witness_store import WitnessStore

OLD_LINE = re.compile(r"old (0|[1-9][0-9]{0,18})")
SIZE_LINE = re.compile(r"0|[1-9][0-9]{0,18}")


class WitnessRefusal(Exception):
    """A checkpoint the witness does not cosign: the HTTP status the protocol asks for, and a stable code."""

    def __init__(self, status: int, code: str, message: str, known_size: int | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.known_size = status, code, message, known_size


@dataclass(frozen=True)
class Request:
    old: int
    proof: list[bytes]
    note: str
    origin: str
    size: int
    root: bytes


def parse(body: bytes) -> Request:
    """An add-checkpoint body: "old <size>", up to 63 proof lines (base64), an empty line, the checkpoint note."""
    try:
        head, sep, note = body.decode("utf-8").partition("\n\n")
        lines = head.split("\n")
        old = OLD_LINE.fullmatch(lines[0])
        proof = [base64.b64decode(line, validate=True) for line in lines[1:]]
        origin, size, root = note.split("\n")[:3]
        root_bytes = base64.b64decode(root, validate=True)
    except (UnicodeDecodeError, ValueError, binascii.Error):
        raise WitnessRefusal(400, "malformed", "not an add-checkpoint request (c2sp.org/tlog-witness)") from None
    if not sep or not old or len(proof) > 63 or any(len(p) != 32 for p in proof) or len(root_bytes) != 32:
        raise WitnessRefusal(400, "malformed", "not an add-checkpoint request (c2sp.org/tlog-witness)")
    if not SIZE_LINE.fullmatch(size):
        raise WitnessRefusal(400, "malformed", "the checkpoint's size is not a decimal number")
    return Request(int(old.group(1)), proof, note, origin, int(size), root_bytes)


@dataclass
class Witness:
    """Named `name`, signing with `key`; `logs` are (origin, school key) pairs, an origin ending in * a prefix."""

    name: str
    key: Ed25519PrivateKey
    logs: Sequence[tuple[str, bytes]]
    store: WitnessStore
    clock: Callable[[], datetime]

    @property
    def vkey(self) -> str:
        """What regulators pin (`--witness-key`)."""
        return witness_vkey(self.name, raw_public_key(self.key))

    def add_checkpoint(self, body: bytes) -> str:
        """The cosignature line for a checkpoint that extends what this witness saw of its log; else WitnessRefusal."""
        request = parse(body)
        keys = [key for origin, key in self.logs if _matches(origin, request.origin)]
        if not keys:
            raise WitnessRefusal(404, "unknown_log", f"this witness does not follow the log {request.origin[:80]!r}")
        if open_note(request.note, keys) is None:
            raise WitnessRefusal(403, "bad_signature", "the checkpoint is not signed by the school's known key")
        with self.store.locked() as state:
            try:
                _check(request, state.get(request.origin))
            except WitnessRefusal as refusal:
                self.store.keep_refused(_evidence(request, refusal, self.clock()))
                raise
            now = self.clock()
            line = cosign(self.key, self.name, request.note, int(now.timestamp()))
            cosigned = request.note + line
            state[request.origin] = {
                "size": request.size, "root": base64.b64encode(request.root).decode(), "note": cosigned,
                "at": now.isoformat(),
            }  # fmt: skip
        return line

    def latest(self, origin_hash: str) -> str | None:
        """The newest checkpoint cosigned for the log whose origin hashes (SHA-256, hex) to `origin_hash`."""
        for origin, kept in self.store.state().items():
            if hashlib.sha256(origin.encode()).hexdigest() == origin_hash:
                return str(kept["note"])
        return None


def _matches(pattern: str, origin: str) -> bool:
    return origin.startswith(pattern[:-1]) if pattern.endswith("*") else origin == pattern


def _check(request: Request, kept: dict[str, Any] | None) -> None:
    """The protocol's checks against the last cosigned checkpoint of this log (None: never cosigned one)."""
    known = int(kept["size"]) if kept else 0
    known_root = base64.b64decode(kept["root"]) if kept else EMPTY_ROOT
    if request.old > request.size:
        raise WitnessRefusal(400, "old_size_too_large", "the old size is larger than the checkpoint's")
    if request.old != known:
        raise WitnessRefusal(409, "old_size_mismatch", f"the last cosigned size is {known}", known_size=known)
    if request.size == 0 and request.root != EMPTY_ROOT:
        raise WitnessRefusal(422, "bad_empty_tree", "a tree of size zero has the empty tree's root")
    if request.old == 0 and request.proof:
        raise WitnessRefusal(422, "bad_consistency_proof", "from size zero the proof must be empty")
    if request.old == request.size and request.root != known_root:
        raise WitnessRefusal(422, "different_root", "another root for a tree size already cosigned: a fork")
    if request.old and not verify_consistency(request.old, request.size, known_root, request.root, request.proof):
        raise WitnessRefusal(422, "bad_consistency_proof", "the new tree does not extend the one cosigned: a fork")


def _evidence(request: Request, refusal: WitnessRefusal, at: datetime) -> dict[str, Any]:
    """A refused, validly signed checkpoint as kept: the school's own signed words, and why they were refused."""
    return {
        "at": at.isoformat(), "origin": request.origin, "status": refusal.status, "code": refusal.code,
        "old": request.old, "size": request.size, "note": request.note,
        "proof": [base64.b64encode(p).decode() for p in request.proof],
    }  # fmt: skip


def read_logs(text: str) -> list[tuple[str, bytes]]:
    """The witness's list of logs: lines "<origin> <school vkey>" ("handoff/S1 handoff+…", "handoff/* handoff+…");
    empty lines and lines starting with # are skipped."""
    logs = []
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            origin, _, vkey = line.strip().partition(" ")
            logs.append((origin, parse_school_vkey(vkey)))
    return logs
