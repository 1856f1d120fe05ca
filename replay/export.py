"""Audit export bundles: a folder anyone can check with Python alone (verify.py, a copy of verify_bundle_standalone.py).

Each school's WHOLE log, from leaf 0 to its newest given checkpoint (later events are left out: nothing unsigned),
goes into events.jsonl as RFC 8785 lines in log order: school_id, index (leaf index in the school's tree), position,
leaf (hex of the stored bytes), in_range (service day, or local date of the server time, in day_from..day_to) and a
readable copy (see export_tables). Leaves cannot be pseudonymised, as the tree is over them: they hold the stored ids
(personal data stays sealed in them), so even a pseudonymised bundle is personal data and must be handled as such.
"""

from __future__ import annotations

import dataclasses
import hashlib
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timezone, tzinfo
from itertools import pairwise
from pathlib import Path
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from cryptography.hazmat.primitives import serialization
from eventsourcing.persistence import Notification

from events.school import SchoolRegistered
from replay.canonical import canonical_json
from replay.checkpoints import Checkpoint, verify_checkpoint
from replay.export_tables import Names, Pseudonyms, readable, write_json, write_tables
from replay.leaves import leaf_bytes, school_of
from replay.merkle import TreeBuilder, consistency_proof, inclusion_proof

PAGE = 1000
NOTES = [
    "leaf: the event exactly as stored (hex). The hash tree covers it and nothing else. It is NOT pseudonymised.",
    "event: a readable copy, not covered by the tree; ids in it are pseudonyms of this export when pseudonymised.",
    "files_sha256 only helps spot damage in transit: the manifest is not signed, the checkpoints are.",
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
    leaf: bytes
    event: Any
    in_range: bool = False


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
    public_key_pem: bytes,
    pseudonymise: bool = True,
    names: Names | None = None,
    created_at: datetime | None = None,
) -> ExportSummary:
    """Write the bundle for `schools` and the days day_from..day_to (inclusive) into `out`, a new or empty folder."""
    heads = _heads(checkpoints, schools, public_key_pem)
    newest = {school: found[-1] for school, found in heads.items()}
    entries = _collect(events, {school: head.tree_size for school, head in newest.items()})
    _check_trees(entries, heads)
    zones = _mark_range(entries, day_from, day_to)
    alias = Pseudonyms(pseudonymise)
    merged = _write_events(out, entries, alias, None if pseudonymise else names)
    write_json(out / "checkpoints.json", [dataclasses.asdict(c) for found in heads.values() for c in found])
    (out / "public_key.pem").write_bytes(public_key_pem)
    write_json(out / "proofs.json", _proofs(entries, heads))
    shutil.copyfile(Path(__file__).with_name("verify_bundle_standalone.py"), out / "verify.py")
    summary = ExportSummary(out, pseudonymise, len(merged), sum(e.in_range for e in merged))
    summary.tree_sizes = {school: head.tree_size for school, head in newest.items()}
    summary.roots = {school: head.root_hex for school, head in newest.items()}
    summary.counts = write_tables(out, ((e.event, zones[e.school_id]) for e in merged if e.in_range), alias)
    _write_manifest(out, summary, (day_from, day_to), created_at or datetime.now(timezone.utc))
    return summary


def _heads(checkpoints: Sequence[Checkpoint], schools: Sequence[str], pem: bytes) -> dict[str, list[Checkpoint]]:
    """Each school's checkpoints, smallest first, after checking that the key shipped in the bundle signed them."""
    public = serialization.load_pem_public_key(pem)
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    by_size = sorted(checkpoints, key=lambda c: c.tree_size)
    heads = {school: [c for c in by_size if c.school_id == school] for school in schools}
    for school, found in heads.items():
        if not found:
            raise ValueError(f"school {school} has no checkpoint: its events cannot be exported verifiably")
        if not all(verify_checkpoint(raw, c) for c in found):
            raise ValueError(f"a checkpoint of school {school} is not signed by the public key given")
    return heads


def _collect(events: EventSource, sizes: dict[str, int]) -> dict[str, list[Entry]]:
    """Each school's first `sizes[school]` events, in log order."""
    found: dict[str, list[Entry]] = {school: [] for school in sizes}
    page = events.page(0, PAGE)
    while page and any(len(found[school]) < size for school, size in sizes.items()):
        for note in page:
            school = school_of(note)
            if school in found and len(found[school]) < sizes[school]:
                found[school].append(Entry(school, len(found[school]), note.id, leaf_bytes(note), events.decode(note)))
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
    """Set each entry's in_range from its service day (or local server date); each school's time zone."""
    if day_from > day_to:
        raise ValueError(f"the days run from {day_from} to {day_to}: the first comes after the last")
    zones: dict[str, tzinfo] = {}
    for school, found in entries.items():
        registered = next((e.event for e in found if isinstance(e.event, SchoolRegistered)), None)
        zone = zones[school] = ZoneInfo(registered.time_zone) if registered else timezone.utc
        for entry in found:
            day = getattr(entry.event, "service_day", None)
            day = date.fromisoformat(day) if isinstance(day, str) else entry.event.timestamp.astimezone(zone).date()
            entry.in_range = day_from <= day <= day_to
    return zones


def _write_events(out: Path, entries: dict[str, list[Entry]], alias: Pseudonyms, names: Names | None) -> list[Entry]:
    """events.jsonl in log order; sealed data opens (when `names`) only for children seen in the chosen days."""
    if out.exists() and any(out.iterdir()):
        raise FileExistsError(f"{out} is not empty: an export goes into a new folder")
    out.mkdir(parents=True, exist_ok=True)
    merged = sorted((e for found in entries.values() for e in found), key=lambda e: e.position)
    seen = {(e.school_id, getattr(e.event, "child_id", None)) for e in merged if e.in_range}
    with (out / "events.jsonl").open("wb") as file:
        for e in merged:
            opener = names if (e.school_id, getattr(e.event, "child_id", None)) in seen else None
            line = {"school_id": e.school_id, "index": e.index, "position": e.position, "leaf": e.leaf.hex()}
            line |= {"in_range": e.in_range, "event": readable(e.event, e.school_id, alias, opener)}
            file.write(canonical_json(line) + b"\n")
    return merged


def _proofs(entries: dict[str, list[Entry]], heads: dict[str, list[Checkpoint]]) -> dict[str, list[dict[str, Any]]]:
    """Consistency between each school's consecutive checkpoints; inclusion of its first and last in-range events
    in its newest checkpoint (the format verify.py reads)."""
    proofs: dict[str, list[dict[str, Any]]] = {"consistency": [], "inclusion": []}
    for school, found in entries.items():
        leaves, last = [e.leaf for e in found], heads[school][-1]
        for old, new in pairwise(heads[school]):
            path = [p.hex() for p in consistency_proof(leaves[: new.tree_size], old.tree_size)]
            sizes = {"old_size": old.tree_size, "old_root_hex": old.root_hex, "new_size": new.tree_size}
            proofs["consistency"].append({"school_id": school, **sizes, "new_root_hex": new.root_hex, "proof": path})
        picked = [e.index for e in found if e.in_range]
        for index in sorted({picked[0], picked[-1]}) if picked else []:
            path = [p.hex() for p in inclusion_proof(leaves, index)]
            head = {"tree_size": last.tree_size, "root_hex": last.root_hex, "proof": path}
            proofs["inclusion"].append({"school_id": school, "index": index, "leaf": leaves[index].hex(), **head})
    return proofs


def _write_manifest(out: Path, summary: ExportSummary, days: tuple[date, date], created_at: datetime) -> None:
    files = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(out.iterdir()) if p.is_file()}
    trees = {s: {"tree_size": n, "root_hex": summary.roots[s]} for s, n in summary.tree_sizes.items()}
    counts = {"events": summary.events, "events_in_range": summary.events_in_range, **summary.counts}
    manifest: dict[str, Any] = {"format": "handoff-export v1", "created_at": created_at.isoformat(), "schools": trees}
    manifest |= {"days": {"from": days[0].isoformat(), "to": days[1].isoformat()}, "counts": counts}
    manifest |= {"pseudonymised": summary.pseudonymised, "files_sha256": files, "notes": NOTES}
    write_json(out / "manifest.json", manifest)
