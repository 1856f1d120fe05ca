"""Audit export bundles: a folder anyone can check with Python alone (verify.py, a copy of verify_bundle_standalone.py).

events.jsonl holds, per school and in log order, the chosen days' events and, for the events before, between and
after them up to the school's head, and for the stored answers of commands (CommandAnswered: hashes of an
idempotency key, a request and an API answer, which a regulator has no use for), only the hashes of aligned perfect
subtrees (at most two per power of two in
each gap), which rebuild the school's tree without showing those events. An in-range line carries school_id, index
(leaf index), position, in_range, its leaf (see replay/leaves.py: personal fields only as salted commitments) and a
readable copy (see export_tables) that the verifier checks against the leaf field by field; a named export adds the
openings (each commitment's salt and value), a pseudonymised one none, so it holds no real id in any form.
statement.txt, signed last, names the schools, the days, the time, each school's head and the SHA-256 of every
other file: nothing in the bundle is outside a signature.
"""

from __future__ import annotations

import base64
import shutil
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timezone, tzinfo
from pathlib import Path
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from eventsourcing.persistence import Notification

from events.idempotency import CommandAnswered
from events.school import SchoolRegistered
from replay.canonical import canonical_json
from replay.checkpoints import Checkpoint, public_key_pem
from replay.export_signed import (
    Signer,
    checked_heads,
    proofs_of,
    public_checkpoint,
    shown_checkpoints,
    write_statement,
)
from replay.export_tables import Names, Pseudonyms, readable, write_json, write_tables
from replay.leaves import Leaf, Salts, leaf_of, school_of
from replay.merkle import TreeBuilder, tree_hash

PAGE = 1000
NOTES = [
    "statement.txt is signed at export time and holds the SHA-256 of every other file, this one included.",
    "leaf: the event as the hash tree covers it: fields as stored, personal ones as SHA-256(salt || value).",
    "openings (named exports only): each committed field's [salt, value], which opens its commitment.",
    "subtree: [height, hash] of 2**height events left out (outside the days, or stored answers of commands).",
    "event: a readable copy, checked against the leaf; ids in it are pseudonyms of this export when pseudonymised.",
]


class EventSource(Protocol):
    """What an export reads: projections.log.EventLog is one."""

    def page(self, after: int, limit: int) -> Sequence[Notification]: ...
    def decode(self, notification: Notification) -> Any: ...


@dataclass
class Entry:
    """One exported event: its school, leaf index, log position, stored bytes and decoded event."""

    school_id: str
    index: int
    position: int
    opened: Leaf
    event: Any
    in_range: bool = False

    @property
    def leaf(self) -> bytes:
        return self.opened.data


@dataclass
class ExportSummary:
    out: Path
    pseudonymised: bool
    events: int = 0
    events_in_range: int = 0
    counts: dict[str, int] = field(default_factory=dict)  # rows of attendance, releases, refusals, edfi_records
    tree_sizes: dict[str, int] = field(default_factory=dict)
    roots: dict[str, str] = field(default_factory=dict)


def export_bundle(
    events: EventSource,
    out: Path,
    schools: Sequence[str],
    day_from: date,
    day_to: date,
    checkpoints: Sequence[Checkpoint],
    signer: Signer | Ed25519PrivateKey,
    pseudonymise: bool = True,
    names: Names | None = None,
    created_at: datetime | None = None,
    *,
    salts: Salts,
) -> ExportSummary:
    """Write the bundle for `schools` and the days day_from..day_to (inclusive) into `out`, a new or empty folder."""
    signer = signer if isinstance(signer, Signer) else Signer(signer)
    heads = checked_heads(checkpoints, schools, signer)
    newest = {school: found[-1] for school, found in heads.items()}
    entries = _collect(events, {school: head.tree_size for school, head in newest.items()}, salts)
    _check_trees(entries, heads)
    zones = _mark_range(entries, day_from, day_to)
    shown = shown_checkpoints(heads, zones, day_from, day_to)
    alias = Pseudonyms(pseudonymise)
    merged = _write_events(out, entries, shown, alias, None if pseudonymise else names)
    write_json(out / "checkpoints.json", [public_checkpoint(c) for found in shown.values() for c in found])
    (out / "public_key.pem").write_bytes(public_key_pem(signer.key))
    if signer.known:
        earlier = [base64.b64encode(raw).decode() for raw in signer.known]
        write_json(out / "keys.json", {"keys": earlier, "rotations": list(signer.rotations)})
    write_json(out / "proofs.json", proofs_of(entries, shown, newest))
    shutil.copyfile(Path(__file__).with_name("verify_bundle_standalone.py"), out / "verify.py")
    summary = ExportSummary(out, pseudonymise, len(merged), len(merged))
    summary.tree_sizes = {school: head.tree_size for school, head in newest.items()}
    summary.roots = {school: head.root_hex for school, head in newest.items()}
    summary.counts = write_tables(out, ((e.event, zones[e.school_id]) for e in merged), alias)
    made = created_at or datetime.now(timezone.utc)
    _write_manifest(out, summary, (day_from, day_to), made)
    write_statement(out, signer.key, summary, (day_from, day_to), made)
    return summary


def _collect(events: EventSource, sizes: dict[str, int], salts: Salts) -> dict[str, list[Entry]]:
    """Each school's first `sizes[school]` events, in log order."""
    found: dict[str, list[Entry]] = {school: [] for school in sizes}
    page = events.page(0, PAGE)
    while page and any(len(found[school]) < size for school, size in sizes.items()):
        for note in page:
            school = school_of(note)
            if school in found and len(found[school]) < sizes[school]:
                leaf = leaf_of(note, salts)
                found[school].append(Entry(school, len(found[school]), note.id, leaf, events.decode(note)))
        page = events.page(page[-1].id, PAGE)
    return found


def _check_trees(entries: dict[str, list[Entry]], heads: dict[str, list[Checkpoint]]) -> None:
    """Refuse to export a log whose tree does not match every checkpoint given."""
    for school, found in entries.items():
        tree, sizes = TreeBuilder(), {c.tree_size for c in heads[school]}
        roots = {0: tree.root().hex()}
        for entry in found:
            tree.append(entry.leaf)
            roots |= {tree.size: tree.root().hex()} if tree.size in sizes else {}
        wrong = [c.tree_size for c in heads[school] if roots.get(c.tree_size) != c.root_hex]
        if wrong:
            raise ValueError(f"school {school}: the log does not match its checkpoint of {wrong[0]} events")


def _mark_range(entries: dict[str, list[Entry]], day_from: date, day_to: date) -> dict[str, tzinfo]:
    """Set each entry's in_range from its service day (or local server date), never for a stored answer; each
    school's time zone."""
    if day_from > day_to:
        raise ValueError(f"the days run from {day_from} to {day_to}: the first comes after the last")
    zones: dict[str, tzinfo] = {}
    for school, found in entries.items():
        registered = next((e.event for e in found if isinstance(e.event, SchoolRegistered)), None)
        zone = zones[school] = ZoneInfo(registered.time_zone) if registered else timezone.utc
        for entry in found:  # a stored answer repeats its command's events, with only the client's keys besides
            shown = not isinstance(entry.event, CommandAnswered)
            entry.in_range = shown and day_from <= _day(entry.event, zone) <= day_to
    return zones


def _day(event: Any, zone: tzinfo) -> date:
    day = getattr(event, "service_day", None)
    return date.fromisoformat(day) if isinstance(day, str) else event.timestamp.astimezone(zone).date()


def _write_events(
    out: Path,
    entries: dict[str, list[Entry]],
    shown: dict[str, list[Checkpoint]],
    alias: Pseudonyms,
    names: Names | None,
) -> list[Entry]:
    """events.jsonl in log order: the in-range events, and subtree hashes for the rest (see the module docstring)."""
    if out.exists() and any(out.iterdir()):
        raise FileExistsError(f"{out} is not empty: an export goes into a new folder")
    out.mkdir(parents=True, exist_ok=True)
    lines: list[tuple[int, dict[str, Any]]] = []
    kept: list[Entry] = []
    for school, found in entries.items():
        cuts = {c.tree_size for c in shown[school]}
        for entry, subtree in _runs(found, cuts):
            if entry is None:
                lines.append((subtree[0], {"school_id": school, "index": subtree[0], "subtree": subtree[1:]}))
                continue
            kept.append(entry)
            line = {"school_id": school, "index": entry.index, "position": entry.position, "in_range": True}
            line |= {"leaf": entry.opened.text} | ({"openings": entry.opened.openings} if names else {})
            line["event"] = readable(entry.event, school, alias, names, entry.opened.fields)
            lines.append((entry.position, line))
    positions = {(e.school_id, e.index): e.position for found in entries.values() for e in found}
    lines.sort(key=lambda pair: positions[pair[1]["school_id"], pair[1]["index"]])
    with (out / "events.jsonl").open("wb") as file:
        for _, line in lines:
            file.write(canonical_json(line) + b"\n")
    return sorted(kept, key=lambda e: e.position)


def _runs(found: list[Entry], cuts: set[int]) -> Iterator[tuple[Entry | None, list[Any]]]:
    """The in-range entries one by one, and each run of others as aligned perfect subtrees (index, height, hash)."""
    start = 0
    for i in range(len(found) + 1):
        if i == len(found) or found[i].in_range or i in cuts:
            yield from ((None, block) for block in _blocks(found, start, i))
            start = i + (i < len(found) and found[i].in_range)
            if i < len(found) and found[i].in_range:
                yield found[i], []


def _blocks(found: list[Entry], lo: int, hi: int) -> Iterator[list[Any]]:
    while lo < hi:
        height = (lo & -lo).bit_length() - 1 if lo else (hi - lo).bit_length() - 1
        while lo + (1 << height) > hi:
            height -= 1
        yield [lo, height, tree_hash([e.leaf for e in found[lo : lo + (1 << height)]]).hex()]
        lo += 1 << height


def _write_manifest(out: Path, summary: ExportSummary, days: tuple[date, date], created_at: datetime) -> None:
    trees = {s: {"tree_size": n, "root_hex": summary.roots[s]} for s, n in summary.tree_sizes.items()}
    counts = {"events_in_range": summary.events_in_range, **summary.counts}
    manifest: dict[str, Any] = {"format": "handoff-export v3", "created_at": created_at.isoformat(), "schools": trees}
    manifest |= {"days": {"from": days[0].isoformat(), "to": days[1].isoformat()}, "counts": counts}
    manifest |= {"pseudonymised": summary.pseudonymised, "notes": NOTES}
    write_json(out / "manifest.json", manifest)
