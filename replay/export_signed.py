"""What makes an export bundle trustworthy: the keys that may have signed its checkpoints, which checkpoints it shows,
its proofs, and the statement signed last over the heads and every file's hash (see replay/export.py)."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from itertools import pairwise
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from replay.checkpoints import Checkpoint, key_id, verify_checkpoint
from replay.merkle import consistency_proof, inclusion_proof
from replay.notes import raw_public_key, sign_note


class UnknownSigningKeyError(ValueError):
    """A checkpoint names a key this deployment does not know."""


@dataclass(frozen=True)
class Signer:
    """The key that signs the statement, the public keys that may have signed checkpoints, and their rotations."""

    key: Ed25519PrivateKey
    known: tuple[bytes, ...] = ()
    rotations: tuple[str, ...] = ()

    def public_keys(self) -> dict[str, bytes]:
        keys = (raw_public_key(self.key), *self.known)
        return {key_id(raw): raw for raw in keys}


def checked_heads(
    checkpoints: Sequence[Checkpoint], schools: Sequence[str], signer: Signer
) -> dict[str, list[Checkpoint]]:
    """Each school's checkpoints, smallest first, after checking that a key of this deployment signed each."""
    keys = signer.public_keys()
    by_size = sorted(checkpoints, key=lambda c: c.tree_size)
    heads = {school: [c for c in by_size if c.school_id == school] for school in schools}
    for school, found in heads.items():
        if not found:
            raise ValueError(f"school {school} has no checkpoint: its events cannot be exported verifiably")
        unknown = [c for c in found if c.key_id not in keys]
        if unknown:
            raise UnknownSigningKeyError(f"a checkpoint of school {school} names key {unknown[0].key_id}, not known")
        if not all(verify_checkpoint(keys[c.key_id], c) for c in found):
            raise ValueError(f"a checkpoint of school {school} is not signed by the key it names")
    return heads


def public_checkpoint(checkpoint: Checkpoint) -> dict[str, Any]:
    fields = dataclasses.asdict(checkpoint)
    return {name: fields[name] for name in ("school_id", "tree_size", "root_hex", "made_at", "note")}


def shown_checkpoints(
    heads: dict[str, list[Checkpoint]], zones: dict[str, tzinfo], day_from: date, day_to: date
) -> dict[str, list[Checkpoint]]:
    """The signed-note checkpoints made on the chosen days, and each school's newest: a bundle need not carry years."""
    shown: dict[str, list[Checkpoint]] = {}
    for school, found in heads.items():
        made_in = [c for c in found if day_from <= datetime.fromisoformat(c.made_at).astimezone(zones[school]).date()]
        made_in = [c for c in made_in if datetime.fromisoformat(c.made_at).astimezone(zones[school]).date() <= day_to]
        shown[school] = [c for c in found if c.note and (c in made_in or c is found[-1])]
    return shown


def proofs_of(
    entries: dict[str, Any], shown: dict[str, list[Checkpoint]], newest: dict[str, Checkpoint]
) -> dict[str, list[dict[str, Any]]]:
    """Consistency between each school's consecutive checkpoints and to its head; inclusion of its first and last
    in-range events in its head (the proof carries the leaf, which commits to personal fields only)."""
    proofs: dict[str, list[dict[str, Any]]] = {"consistency": [], "inclusion": []}
    for school, found in entries.items():
        leaves, last = [e.leaf for e in found], newest[school]
        chain = [*shown[school], *([] if shown[school] and shown[school][-1] is last else [last])]
        for old, new in pairwise(chain):
            path = [p.hex() for p in consistency_proof(leaves[: new.tree_size], old.tree_size)]
            sizes = {"old_size": old.tree_size, "old_root_hex": old.root_hex, "new_size": new.tree_size}
            proofs["consistency"].append({"school_id": school, **sizes, "new_root_hex": new.root_hex, "proof": path})
        picked = [e.index for e in found if e.in_range]
        for index in sorted({picked[0], picked[-1]}) if picked else []:
            path = [p.hex() for p in inclusion_proof(leaves, index)]
            head = {"tree_size": last.tree_size, "root_hex": last.root_hex, "proof": path}
            proofs["inclusion"].append({"school_id": school, "index": index, "leaf": leaves[index].decode(), **head})
    return proofs


def write_statement(out: Path, key: Ed25519PrivateKey, summary: Any, days: tuple[date, date], made: datetime) -> None:
    """The signed statement: what was exported, when, up to which head, and the hash of every other file."""
    lines = ["handoff-export v3", f"made {made.isoformat()}", f"days {days[0].isoformat()} {days[1].isoformat()}"]
    lines.append(f"pseudonymised {'yes' if summary.pseudonymised else 'no'}")
    for school, size in sorted(summary.tree_sizes.items()):
        lines.append(f"head {school} {size} {base64.b64encode(bytes.fromhex(summary.roots[school])).decode()}")
    for path in sorted(out.iterdir()):
        lines.append(f"file {path.name} {hashlib.sha256(path.read_bytes()).hexdigest()}")
    (out / "statement.txt").write_text(sign_note(key, "\n".join(lines) + "\n"), encoding="utf-8")
