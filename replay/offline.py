"""Replay without the school's server: the stored events of an export bundle, ready to load into memory."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent

from replay.leaves import stored_row


class NoStoredEventsError(ValueError):
    """A pseudonymised bundle cannot be replayed: its leaves hold personal fields only as commitments."""


def bundle_events(bundle: Path) -> list[StoredEvent]:
    """Every stored event of a named bundle, rebuilt from the leaves the trees cover and their openings, in each
    school's tree order (the verified order: `position` is only a readable field, covered by the statement's hash)."""
    lines = (bundle / "events.jsonl").read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines if line.strip()]
    if any("event" in record and "openings" not in record for record in records):
        raise NoStoredEventsError("this bundle is pseudonymised: it holds no stored events to replay")
    records = sorted((r for r in records if "leaf" in r), key=lambda record: (record["school_id"], record["index"]))
    return [_stored(record["leaf"], record["openings"]) for record in records]


def _stored(leaf: str, openings: dict[str, list[Any]]) -> StoredEvent:
    fields = stored_row(leaf, openings)
    return StoredEvent(UUID(hex=fields["stream"]), fields["version"], fields["topic"], fields["state"])
