"""Leaves over salted commitments (replay/leaves.py): the tree holds no real id, each commitment opens with its salt,
and a named bundle's openings give back the stored event exactly."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass

import pytest

from replay.leaves import COMMITTED, Salts, commitment, leaf_of, stored_row

SALTS = Salts(b"k" * 32)
STATE = {
    "school_id": "S1",
    "child_id": "C1",
    "guardian_id": "G1",
    "actor_id": "t1",
    "idempotency_key": "key-1",
    "self_release": False,
    "sealed": "v1.abc",
    "timestamp": {"_type_": "datetime_iso", "_data_": "2026-11-30T08:55:00+00:00"},
}


@dataclass
class Row:
    originator_id: uuid.UUID
    originator_version: int
    topic: str
    state: bytes


def row(version: int = 1, **changes: object) -> Row:
    stream = uuid.uuid5(uuid.NAMESPACE_URL, "S1/C1/2026-11-30")
    return Row(stream, version, "events.custody:ChildReleased", json.dumps(STATE | changes).encode())


def test_the_leaf_holds_no_personal_value_and_every_commitment_opens() -> None:
    one = row()
    leaf = leaf_of(one, SALTS)
    document = json.loads(leaf.text)
    for secret in ("C1", "G1", "t1", "key-1", "v1.abc", one.originator_id.hex):
        assert secret not in leaf.text
    assert set(document["committed"]) == {"child_id", "guardian_id", "actor_id", "idempotency_key", "sealed"}
    assert document["plain"] == {k: v for k, v in STATE.items() if k not in COMMITTED}
    for name, (salt, value) in leaf.openings.items():
        committed = document["stream"] if name == "stream" else document["committed"][name]
        assert commitment(bytes.fromhex(salt), value) == committed


def test_salts_are_fresh_per_field_and_per_event_but_rebuild_the_same_tree() -> None:
    first, second = leaf_of(row(1), SALTS), leaf_of(row(2), SALTS)
    salts = [salt for leaf in (first, second) for salt, _ in leaf.openings.values()]
    assert len(set(salts)) == len(salts)
    assert json.loads(first.text)["committed"]["child_id"] != json.loads(second.text)["committed"]["child_id"]
    assert leaf_of(row(1), SALTS) == first
    assert leaf_of(row(1), Salts(b"o" * 32)).text != first.text


def test_a_changed_personal_field_changes_the_leaf() -> None:
    assert leaf_of(row(guardian_id="G2"), SALTS).text != leaf_of(row(), SALTS).text


def test_the_openings_give_back_the_stored_row() -> None:
    one = row()
    again = stored_row(leaf_of(one, SALTS).text, leaf_of(one, SALTS).openings)
    assert (again["stream"], again["version"], again["topic"]) == (one.originator_id.hex, 1, one.topic)
    assert json.loads(again["state"]) == STATE


def test_a_short_salt_key_is_refused() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        Salts(b"short")
