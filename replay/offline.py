"""Replay without the school's server: the stored events of an export bundle, ready to load into memory."""

from __future__ import annotations

import json
from pathlib import Path
from uuid import UUID

from eventsourcing.persistence import StoredEvent

from replay.leaves import leaf_fields


def bundle_events(bundle: Path) -> list[StoredEvent]:
    """Every event of the bundle as it was stored, in log order, rebuilt from the leaves the trees cover."""
    lines = (bundle / "events.jsonl").read_text(encoding="utf-8").splitlines()
    records = sorted((json.loads(line) for line in lines if line.strip()), key=lambda record: record["position"])
    return [_stored(bytes.fromhex(record["leaf"])) for record in records]


def _stored(leaf: bytes) -> StoredEvent:
    fields = leaf_fields(leaf)
    return StoredEvent(UUID(hex=fields["stream"]), fields["version"], fields["topic"], fields["state"])
