"""What the hash tree is built over: each stored event as a leaf document that commits to its personal fields.

A leaf is the UTF-8 of the JSON text (sorted keys, no spaces, not ASCII-escaped)::

    {"committed": {field: commitment}, "plain": {field: stored value}, "stream": commitment, "topic": topic,
     "version": version}

Fields that name a person or a record (ids, tokens and request hashes, sealed data, stream references) are committed
as SHA-256(salt || value as the same JSON), with a 16-byte salt of their own per field per event: HMAC-SHA256 under
the deployment's salt key (kept in PostgreSQL beside the trees) of stream, version and field. The stream id is
committed too (it is derived from a child's id and day). Every other field is plain, as stored. So a bundle can show
a leaf, and the verifier can check the readable copy against it field by field, without any real id in the tree; a
named bundle adds the salts and values (the openings) so each commitment can be opened. Sealed personal data is
committed as its sealed token, so erasing a child (destroying the key) changes no leaf and every tree still verifies.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any, Protocol
from uuid import UUID

from replay.export_tables import KINDS, OMITTED, OMITTED_IF_PSEUDONYMISED

SALT_BYTES = 16
COMMITTED = frozenset({*KINDS, *OMITTED, *OMITTED_IF_PSEUDONYMISED, "sealed"} - {"timestamp"})
"""Stored fields the tree holds only as salted commitments: ids of people and records, secrets' hashes, request
fingerprints and answers, references to streams, sealed personal data (see export_tables for each list)."""


class StoredRow(Protocol):
    @property
    def originator_id(self) -> UUID | str: ...
    @property
    def originator_version(self) -> int: ...
    @property
    def topic(self) -> str: ...
    @property
    def state(self) -> bytes: ...


def text_of(value: Any) -> bytes:
    """The JSON bytes a commitment and a leaf hash (sorted keys, no spaces, UTF-8)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def commitment(salt: bytes, value: Any) -> str:
    """SHA-256(salt || value as JSON), hex."""
    return hashlib.sha256(salt + text_of(value)).hexdigest()


class Salts:
    """Each committed field's salt, derived from the deployment's salt key, so the trees can be rebuilt from the log."""

    def __init__(self, key: bytes) -> None:
        if len(key) < 32:
            raise ValueError("a salt key has at least 32 bytes")
        self.key = key

    def salt(self, stream: str, version: int, field: str) -> bytes:
        message = f"{stream}\x1f{version}\x1f{field}".encode()
        return hmac.new(self.key, message, hashlib.sha256).digest()[:SALT_BYTES]


@dataclass(frozen=True)
class Leaf:
    """One event's leaf document (its text is what the tree hashes) and the openings of its commitments."""

    text: str
    openings: dict[str, list[Any]]  # field ("stream" for the stream id) -> [salt hex, stored value]
    fields: frozenset[str] = frozenset()
    """The fields the stored row holds, plain or committed (not the stream id)."""

    @property
    def data(self) -> bytes:
        return self.text.encode()


def leaf_of(row: StoredRow, salts: Salts) -> Leaf:
    """The leaf of one stored event (its state must be plain JSON)."""
    stream = row.originator_id.hex if isinstance(row.originator_id, UUID) else str(row.originator_id)
    version, state = row.originator_version, json.loads(row.state)
    openings: dict[str, tuple[bytes, Any]] = {"stream": (salts.salt(stream, version, "stream"), stream)}
    openings |= {name: (salts.salt(stream, version, name), state.pop(name)) for name in COMMITTED & state.keys()}
    committed = {name: commitment(salt, value) for name, (salt, value) in openings.items()}
    document = {"stream": committed.pop("stream"), "version": version, "topic": row.topic}
    document |= {"plain": state, "committed": committed}
    opened = {name: [salt.hex(), value] for name, (salt, value) in openings.items()}
    return Leaf(text_of(document).decode(), opened, frozenset({*state, *committed}))


def leaf_bytes(row: StoredRow, salts: Salts) -> bytes:
    """The bytes the tree hashes for one stored event."""
    return leaf_of(row, salts).data


def stored_row(leaf_text: str, openings: dict[str, list[Any]]) -> dict[str, Any]:
    """The stored row back from a leaf and all its openings (for offline replay of a named export)."""
    document = json.loads(leaf_text)
    state = document["plain"] | {name: opening[1] for name, opening in openings.items() if name != "stream"}
    return {
        "stream": openings["stream"][1],
        "version": document["version"],
        "topic": document["topic"],
        "state": text_of(state),
    }


def school_of(row: StoredRow) -> str:
    """The school (or district, for district-level events) a stored event belongs to, read from its state."""
    return str(json.loads(row.state)["school_id"])
