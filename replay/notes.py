"""Signed notes (c2sp.org/signed-note) with the deployment's Ed25519 key: checkpoints (c2sp.org/tlog-checkpoint), the
export statement and key rotations are all notes, so one small parser, here or in a browser, checks them all.

Signing uses `cryptography`; checking uses the bundle's own standalone verifier, so that the server and a regulator
run the same code."""

from __future__ import annotations

import base64

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from replay.verify_bundle_standalone import KEY_NAME, fingerprint, note_key_id, open_note

__all__ = ["fingerprint", "open_note", "raw_public_key", "sign_note"]


def raw_public_key(private_key: Ed25519PrivateKey) -> bytes:
    """The 32 raw bytes of the public half of `private_key`."""
    return private_key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def sign_note(private_key: Ed25519PrivateKey, text: str) -> str:
    """`text` (lines, each ending in a newline, no control characters) as a note signed by `private_key`."""
    if not text.endswith("\n") or any(ord(ch) < 0x20 and ch != "\n" for ch in text):
        raise ValueError("a note's text ends with a newline and holds no other control character")
    signature = note_key_id(raw_public_key(private_key)) + private_key.sign(text.encode())
    return f"{text}\n\u2014 {KEY_NAME} {base64.b64encode(signature).decode()}\n"
