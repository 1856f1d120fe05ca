"""Signed tree heads: a school's hash tree size and root at a moment, signed with the deployment's Ed25519 key.

A checkpoint is a c2sp.org/tlog-checkpoint signed note (see replay/notes.py)::

    handoff/<school_id>
    <tree_size in decimal>
    <root, base64>
    time <made_at, ISO 8601>

    — handoff <base64 of key id and signature>

and a witness's cosignature lines (c2sp.org/tlog-cosignature, replay/cosignatures.py) follow the school's own once the
witness answers. Checkpoints signed before notes (no `note`) signed
the text "handoff-checkpoint v1\n<school_id>\n<tree_size>\n<root_hex>\n<made_at>\n"; they still verify here, but
bundles carry only notes.
"""

from __future__ import annotations

import base64
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from replay.notes import open_note, raw_public_key, sign_note

MESSAGE_HEADER = "handoff-checkpoint v1"


@dataclass(frozen=True)
class Checkpoint:
    """A signed statement that a school's tree had `tree_size` leaves and root `root_hex` at `made_at`."""

    school_id: str
    tree_size: int
    root_hex: str
    made_at: str
    key_id: str
    signature_hex: str
    note: str = ""


def checkpoint_message(school_id: str, tree_size: int, root_hex: str, made_at: str) -> bytes:
    """The exact bytes a checkpoint signs (format in the module docstring)."""
    if any("\n" in field or "\r" in field for field in (school_id, made_at)):
        raise ValueError("a school id or a time in a checkpoint cannot contain a line break")
    if tree_size < 0 or len(root_hex) != 64 or root_hex != root_hex.lower():
        raise ValueError("a checkpoint needs a non-negative size and a 64-digit lowercase hex root")
    bytes.fromhex(root_hex)
    return f"{MESSAGE_HEADER}\n{school_id}\n{tree_size}\n{root_hex}\n{made_at}\n".encode()


def note_text(school_id: str, tree_size: int, root_hex: str, made_at: str) -> str:
    """The text a checkpoint's note signs."""
    checkpoint_message(school_id, tree_size, root_hex, made_at)  # the same checks
    return f"handoff/{school_id}\n{tree_size}\n{base64.b64encode(bytes.fromhex(root_hex)).decode()}\ntime {made_at}\n"


def public_key_pem(private_key: Ed25519PrivateKey) -> bytes:
    """The public half of `private_key` as a SubjectPublicKeyInfo PEM, as shipped in export bundles."""
    return private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def key_id(public_key_bytes: bytes) -> str:
    """The first 16 hex digits of SHA-256 of the raw public key."""
    return hashlib.sha256(public_key_bytes).hexdigest()[:16]


def sign_checkpoint(
    private_key: Ed25519PrivateKey, school_id: str, tree_size: int, root: bytes, made_at: str
) -> Checkpoint:
    """Sign the tree head (school_id, tree_size, root, made_at)."""
    root_hex = root.hex()
    note = sign_note(private_key, note_text(school_id, tree_size, root_hex, made_at))
    signature = base64.b64decode(note.rsplit(" ", 1)[1])[4:]
    return Checkpoint(
        school_id, tree_size, root_hex, made_at, key_id(raw_public_key(private_key)), signature.hex(), note
    )


def verify_checkpoint(public_key_bytes: bytes, checkpoint: Checkpoint) -> bool:
    """True when `checkpoint` was signed by the raw Ed25519 public key given and names that key."""
    if checkpoint.key_id != key_id(public_key_bytes):
        return False
    if checkpoint.note:
        text = note_text(checkpoint.school_id, checkpoint.tree_size, checkpoint.root_hex, checkpoint.made_at)
        own = [ln for ln in checkpoint.note.splitlines() if ln.startswith("\u2014 handoff ")]  # not a witness's
        signed = bool(own) and base64.b64decode(own[0].rsplit(" ", 1)[-1])[4:].hex() == checkpoint.signature_hex
        return signed and open_note(checkpoint.note, [public_key_bytes]) == text
    try:
        message = checkpoint_message(
            checkpoint.school_id, checkpoint.tree_size, checkpoint.root_hex, checkpoint.made_at
        )
        public_key = Ed25519PublicKey.from_public_bytes(public_key_bytes)
        public_key.verify(bytes.fromhex(checkpoint.signature_hex), message)
    except (InvalidSignature, ValueError):
        return False
    return True


def load_signing_key(path: Path) -> Ed25519PrivateKey:
    """The Ed25519 private key in the unencrypted PEM file at `path`."""
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path} holds a {type(key).__name__}, not an Ed25519 private key")
    return key


def load_or_create_signing_key(path: Path) -> Ed25519PrivateKey:
    """The Ed25519 key in the PEM file at `path`, made first (readable by the owner only) when there is none."""
    if path.exists():
        return load_signing_key(path)
    key = Ed25519PrivateKey.generate()
    try:
        write_signing_key(path, key)
    except FileExistsError:  # another process made it first: use theirs
        return load_signing_key(path)
    return key


def write_signing_key(path: Path, key: Ed25519PrivateKey) -> None:
    """Write `key` to a new PEM file at `path`, readable by the owner only (FileExistsError if there is one)."""
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as file:
        file.write(pem)
