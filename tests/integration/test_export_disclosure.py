"""What a pseudonymised bundle discloses: decoded every way a reader could (hex, base64, JSON, recursively), no file
holds a real child, guardian or staff id, a name or a phone; and an erased child's export verifies before and after
the erasure."""

from __future__ import annotations

import base64
import binascii
import csv
import json
import re
from collections.abc import Iterator
from datetime import datetime, time
from pathlib import Path
from typing import Any

from replay.verify import verify_bundle
from tests.integration.test_export import DAY1, DAY2, SHANGHAI, World, checkpoint, world  # noqa: F401
from tests.support import ctx
from tests.witness_support import VKEY

# Every id the afternoons use (children, guardians, the stranger, staff), the added child and guardian, their name
# and phone. Not inside longer words or hex.
SECRETS = re.compile(
    r"(?<![0-9A-Za-z])(?:C[1-5]|G[12569]|X9|[tgdah][12])(?![0-9A-Za-z])|Zhang Xiaoming|Li Hua|13800000042"
)


def decoded(value: Any, depth: int = 0) -> Iterator[str]:
    """Every text a value holds, and every text its strings decode to as JSON, hex or base64, recursively."""
    if depth > 6:
        return
    if isinstance(value, dict):
        for key, item in value.items():
            yield from decoded(key, depth + 1)
            yield from decoded(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            yield from decoded(item, depth + 1)
    elif isinstance(value, str):
        yield value
        for token in {value, *re.split(r"[\s,;:=]+", value)} - {""}:
            yield from _decodings(token, depth)
    elif value is not None:
        yield str(value)


def _decodings(token: str, depth: int) -> Iterator[str]:
    try:
        parsed = json.loads(token)
        if isinstance(parsed, (dict, list, str)) and parsed != token:
            yield from decoded(parsed, depth + 1)
    except ValueError:
        pass
    for decode in (bytes.fromhex, lambda t: base64.b64decode(t, validate=True)):
        try:
            raw = decode(token)
        except (ValueError, binascii.Error):
            continue
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            continue
        if text and text != token:
            yield from decoded(text, depth + 1)


def everything_in(bundle: Path) -> Iterator[tuple[str, str]]:
    for path in sorted(bundle.iterdir()):
        text = path.read_text(encoding="utf-8-sig")
        if path.suffix == ".json":
            found: Any = json.loads(text)
        elif path.suffix == ".jsonl":
            found = [json.loads(line) for line in text.splitlines()]
        elif path.suffix == ".csv":
            found = list(csv.reader(text.splitlines()))
        else:
            found = text.splitlines()
        yield from ((path.name, piece) for piece in decoded(found))


def add_named_child(world: World) -> None:  # noqa: F811
    """C5 with a name, and guardian G6 with a name and a phone, on day 1; then a checkpoint covers them."""
    world.handoff.clock.now = datetime.combine(DAY1, time(18, 0), SHANGHAI)  # type: ignore[attr-defined]
    world.handoff.roster.add_child(ctx("admin"), "C5", "3-1", 3, name="Zhang Xiaoming")
    world.handoff.guardian_list.authorise_guardian(
        ctx("admin"), "C5", "G6", "parent", "2580", name="Li Hua", phone="13800000042"
    )
    world.checkpoints.append(world.witnessed(checkpoint(world.log, world.key, world.handoff.clock())))


def test_no_real_id_name_or_phone_decodes_out_of_a_pseudonymised_bundle(world: World, tmp_path: Path) -> None:  # noqa: F811
    add_named_child(world)
    world.export(tmp_path / "named", pseudonymise=False, names=world.handoff.personal.open)
    named = "\n".join(piece for _, piece in everything_in(tmp_path / "named"))
    assert {"C5", "G6", "Zhang Xiaoming", "Li Hua", "13800000042", "t1"} <= set(SECRETS.findall(named))  # it can see
    world.export(tmp_path / "bundle")
    leaks = {
        (name, found, piece[:300])
        for name, piece in everything_in(tmp_path / "bundle")
        for found in SECRETS.findall(piece)
    }
    assert not {leak for leak in leaks if leak[0] != "verify.py"}
    assert verify_bundle(tmp_path / "bundle", [world.fingerprint()], [VKEY]).ok


def test_an_erased_childs_export_verifies_before_and_after_the_erasure(world: World, tmp_path: Path) -> None:  # noqa: F811
    add_named_child(world)
    before = tmp_path / "before"
    world.export(before, DAY1, DAY1, pseudonymise=False, names=world.handoff.personal.open)
    assert verify_bundle(before, [world.fingerprint()], [VKEY]).ok
    assert "Zhang Xiaoming" in (before / "events.jsonl").read_text(encoding="utf-8")
    world.handoff.clock.now = datetime.combine(DAY2, time(19, 0), SHANGHAI)  # type: ignore[attr-defined]
    world.handoff.roster.erase_child(ctx("admin"), "C5", "left the school; parents asked")
    assert verify_bundle(before, [world.fingerprint()], [VKEY]).ok
    world.checkpoints.append(world.witnessed(checkpoint(world.log, world.key, world.handoff.clock())))
    after = tmp_path / "after"
    world.export(after, DAY1, DAY1, pseudonymise=False, names=world.handoff.personal.open)
    assert verify_bundle(after, [world.fingerprint()], [VKEY]).ok
    text = (after / "events.jsonl").read_text(encoding="utf-8")
    assert "Zhang Xiaoming" not in text and "已删除 (erased)" in text
