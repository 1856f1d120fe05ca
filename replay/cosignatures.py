"""Witness cosignatures (c2sp.org/tlog-cosignature, Ed25519, "cosignature/v1") on checkpoint notes, and the verifier
keys (c2sp.org/signed-note vkeys) that name a school's key and a witness's key in configuration.

A cosignature is one more signature line on the checkpoint note:
``— <witness name> base64(key id || big-endian u64 time || Ed25519 signature)``, the key id SHA-256(name || "\\n" ||
0x04 || key)[:4], over "cosignature/v1\\ntime <time>\\n" followed by the checkpoint's text. Checking is the
bundle's standalone verifier's (`cosigned`), so the server, the witness and a regulator run the same code."""

from __future__ import annotations

import base64

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from replay.notes import raw_public_key
from replay.verify_bundle_standalone import (
    COSIGNATURE_V1,
    ED25519,
    KEY_NAME,
    cosigned,
    cosigner_key_id,
    note_key_id,
    witness_key,
)

__all__ = ["cosign", "cosigned", "parse_school_vkey", "school_vkey", "witness_key", "witness_vkey"]


def cosign(key: Ed25519PrivateKey, name: str, note: str, timestamp: int) -> str:
    """The cosignature line (ending in a newline) of witness `name` on the checkpoint `note`, made at `timestamp`."""
    text = note.rpartition("\n\n")[0] + "\n"
    stamp = timestamp.to_bytes(8, "big")
    signature = key.sign(f"cosignature/v1\ntime {timestamp}\n".encode() + text.encode())
    blob = cosigner_key_id(name, raw_public_key(key)) + stamp + signature
    return f"\u2014 {name} {base64.b64encode(blob).decode()}\n"


def witness_vkey(name: str, public: bytes) -> str:
    """The witness's verifier key, as regulators pin it: <name>+<key id hex>+<base64(0x04 || key)>."""
    return f"{name}+{cosigner_key_id(name, public).hex()}+{base64.b64encode(COSIGNATURE_V1 + public).decode()}"


def school_vkey(public: bytes) -> str:
    """A school server's checkpoint key as a vkey, for the witness's list of logs: handoff+<id>+<base64(0x01||key)>."""
    return f"{KEY_NAME}+{note_key_id(public).hex()}+{base64.b64encode(ED25519 + public).decode()}"


def parse_school_vkey(vkey: str) -> bytes:
    """The raw key of a school vkey (ValueError if it is not one)."""
    name, _, rest = vkey.strip().partition("+")
    key_id, _, blob = rest.partition("+")
    raw = base64.b64decode(blob, validate=True)
    if name != KEY_NAME or len(raw) != 33 or raw[:1] != ED25519 or note_key_id(raw[1:]).hex() != key_id.lower():
        raise ValueError(f"not a school checkpoint key (handoff+keyid+base64): {vkey[:40]!r}")
    return raw[1:]
