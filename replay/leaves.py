"""What the hash tree is built over: each event exactly as stored, in a canonical byte form.

A leaf is the canonical JSON (sorted keys, no spaces, UTF-8) of the stored row: the stream id (hex), its version,
the topic and the stored state (base64). Personal data inside the state is sealed with the child's key, so erasing
a child (destroying the key) changes no stored byte and every tree still verifies."""

from __future__ import annotations

import base64
import json
from typing import Any, Protocol
from uuid import UUID


class StoredRow(Protocol):
    @property
    def originator_id(self) -> UUID | str: ...
    @property
    def originator_version(self) -> int: ...
    @property
    def topic(self) -> str: ...
    @property
    def state(self) -> bytes: ...


def leaf_bytes(row: StoredRow) -> bytes:
    """The bytes the tree hashes for one stored event."""
    stream = row.originator_id.hex if isinstance(row.originator_id, UUID) else str(row.originator_id)
    document = {
        "stream": stream,
        "version": row.originator_version,
        "topic": row.topic,
        "state": base64.b64encode(row.state).decode("ascii"),
    }
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def leaf_fields(leaf: bytes) -> dict[str, Any]:
    """The stored row back from its leaf bytes (for offline replay of an export)."""
    document = json.loads(leaf)
    return {**document, "state": base64.b64decode(document["state"])}


def school_of(row: StoredRow) -> str:
    """The school (or district, for district-level events) a stored event belongs to, read from its state."""
    return str(json.loads(row.state)["school_id"])
