"""Audit export bundles on PostgreSQL: two afternoons, two signed checkpoints, then the bundle a regulator receives.

The bundle must verify with Python alone and fail when one stored byte changes; its readable copies and tables must
show pseudonyms only, stable within a bundle and different in the next. The leaves commit to personal fields through
salted hashes, so a pseudonymised bundle carries them and still holds no real id."""

from __future__ import annotations

import csv
import dataclasses
import importlib
import json
import pkgutil
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from eventsourcing.persistence import StoredEvent

import events
from aggregates.headcounts import headcounts_id
from events.envelope import HandoffEvent
from events.incidents import HeadcountRecorded
from projections.log import EventLog
from replay.checkpoints import Checkpoint, load_or_create_signing_key, sign_checkpoint
from replay.export import ExportSummary, export_bundle
from replay.export_tables import (
    ATTENDANCE,
    INCIDENTS,
    KINDS,
    OMITTED,
    OMITTED_IF_PSEUDONYMISED,
    REFUSALS,
    RELEASES,
)
from replay.leaves import Salts, leaf_bytes, school_of
from replay.merkle import TreeBuilder, consistency_proof
from replay.notes import fingerprint, raw_public_key
from replay.witness import Witness
from service.application.handoff import Handoff
from service.infra.settings import postgres_env
from tests.support import SCHOOL, Clock, ctx, make_handoff, setup_school
from tests.witness_support import VKEY, body, bureau_witness, cosign_all

SHANGHAI = ZoneInfo("Asia/Shanghai")
DAY1, DAY2 = date(2026, 11, 30), date(2026, 12, 1)
VERIFIER = Path(__file__).resolve().parents[2] / "replay" / "verify_bundle_standalone.py"
# Every id the afternoon uses: children, guardians and the stranger, staff. Not inside longer words or hex.
REAL_IDS = re.compile(r"(?<![0-9A-Za-z])(?:C[1-4]|G[1259]|X9|[tgdah][12])(?![0-9A-Za-z])")
PSEUDONYM = re.compile(r"[CGS]-[0-9a-f]{12}")
RECORD = re.compile(r"R-[0-9a-f]{12}")
# Stored fields reviewed as holding no id of a person (codes, times, flags, labels, hashes, free text, sealed data).
PLAIN = set(
    "actor_role approved authorisation_version batch_code child_recognised_guardian class_code days device_id"
    " device_time district_id ends_at ends_on expires_at from_place_code grade guardian_recognised_child home_class"
    " how kind label_en label_zh leave_alone_from name not_before pickup_code_hash place_code places reason"
    " reason_code relation release_batch role school_id sealed season self_release self_release_requested"
    " self_released service_day service_ends_at stage starts_at starts_on status status_code temporary_class term_id"
    " time_zone to_place_code token_hash token_id valid_from valid_until venue verification voids_type voids_version"
    " weekdays day_from day_to pseudonymised roots schools"
    " incident_id summary source note channel reached to outcome wrong_codes findings all_well emergency"
    " what scope limited_device_id count"
    " enrolled_device_id session_device_id signing_device_id locked"
    " reunification_point attempt attempts error next_attempt_at clock_skew_seconds response_version"
    " content_type size".split()
)


def afternoons(h: Handoff) -> dict[date, list[tuple[str, Callable[[], Any]]]]:
    """Day 1: C1 handed to G1 after a stranger (X9) is refused (an incident, C2 linked, resolved), C2 leaves alone,
    an incident with an id that names C2 is opened. Day 2: C2 is checked in by mistake,
    corrected, then marked absent; C1 goes with G2 (a refusal and a confirmation entered too early are corrected)."""
    return {
        DAY1: [
            ("16:30", lambda: h.care.check_in(ctx(), "C1", "T1", None, "h1")),
            ("16:32", lambda: h.care.check_in(ctx("teacher2"), "C2", "T2", None, None)),
            ("16:45", lambda: h.care.register_arrival(ctx("gate"), "C1", "X9", "id_document", None)),
            (
                "16:46",
                lambda: h.incidents.open_incident(ctx("gate"), "unauthorised_pickup_attempt", ["C1"], [], "X", "x-1"),
            ),
            ("16:47", lambda: h.incidents.link_to_incident(ctx("duty_leader"), "x-1", ["C2"], [])),
            ("16:50", lambda: h.care.register_arrival(ctx("gate"), "C1", "G1", "pickup_code", "1234")),
            ("16:52", lambda: h.care.confirm(ctx(), "C1", "G1", True, True)),
            ("16:55", lambda: h.care.release(ctx(), "C1", "G1")),
            ("17:00", lambda: h.incidents.resolve_incident(ctx("duty_leader"), "x-1", "Stranger left")),
            ("17:05", lambda: h.care.release(ctx("teacher2"), "C2", None)),
            (
                "17:06",
                lambda: h.incidents.open_incident(
                    ctx("teacher2"), "other", [], [], "Lights out in T2", "late-S1-C2-d1"
                ),
            ),
        ],
        DAY2: [
            ("16:29", lambda: h.care.check_in(ctx(), "C2", "T1", None, None)),
            ("16:30", lambda: h.care.correct(ctx("duty_leader"), "C2", DAY2, "wrong child")),
            ("16:30", lambda: h.care.check_in(ctx(), "C1", "T1", None, None)),
            ("16:31", lambda: h.care.mark_absent(ctx(), "C2", "sick")),
            ("17:10", lambda: h.care.register_arrival(ctx("gate"), "C1", "X9", "id_document", None)),
            ("17:11", lambda: h.care.correct(ctx("duty_leader"), "C1", DAY2, "entered for the wrong child")),
            ("17:20", lambda: h.care.register_arrival(ctx("gate"), "C1", "G2", "pickup_code", "5678")),
            ("17:21", lambda: h.care.confirm(ctx(), "C1", "G2", True, False)),
            ("17:21", lambda: h.care.correct(ctx("duty_leader"), "C1", DAY2, "the child had not answered yet")),
            ("17:22", lambda: h.care.confirm(ctx(), "C1", "G2", True, True)),
            ("17:25", lambda: h.care.release(ctx(), "C1", "G2")),
        ],
    }


@dataclass
class World:
    handoff: Handoff
    log: EventLog
    key: Ed25519PrivateKey
    checkpoints: list[Checkpoint]
    witness: Witness

    def witnessed(self, checkpoint: Checkpoint) -> Checkpoint:
        """`checkpoint`, submitted to the witness after the newest one, with its cosignature."""
        old = max(c.tree_size for c in self.checkpoints)
        proof = consistency_proof(school_leaves(self.log)[: checkpoint.tree_size], old)
        line = self.witness.add_checkpoint(body(old, proof, checkpoint.note))
        return dataclasses.replace(checkpoint, note=checkpoint.note + line)

    def export(self, out: Path, day_from: date = DAY1, day_to: date = DAY2, **options: Any) -> ExportSummary:
        signer = options.pop("signer", self.key)
        return export_bundle(
            self.log, out, [SCHOOL], day_from, day_to, self.checkpoints, signer, salts=SALTS, **options
        )

    def fingerprint(self) -> str:
        return fingerprint(raw_public_key(self.key))


SALTS = Salts(bytes(range(32)))


def school_rows(log: EventLog) -> list[Any]:
    rows, page = [], log.page(0, 500)
    while page:
        rows += [n for n in page if school_of(n) == SCHOOL]
        page = log.page(page[-1].id, 500)
    return rows


def school_leaves(log: EventLog) -> list[bytes]:
    return [leaf_bytes(row, SALTS) for row in school_rows(log)]


def checkpoint(log: EventLog, key: Ed25519PrivateKey, made_at: datetime) -> Checkpoint:
    tree = TreeBuilder()
    for leaf in school_leaves(log):
        tree.append(leaf)
    return sign_checkpoint(key, SCHOOL, tree.size, tree.root(), made_at.isoformat())


@pytest.fixture
def world(fresh_postgres_url: str, tmp_path: Path) -> Iterator[World]:
    clock = Clock()
    h = make_handoff(postgres_env(fresh_postgres_url), clock)
    try:
        setup_school(h)
        log, key, made = EventLog(h.recorder, h.mapper), load_or_create_signing_key(tmp_path / "key.pem"), []
        for day, steps in afternoons(h).items():
            for hhmm, step in steps:
                clock.now = datetime.combine(day, time.fromisoformat(hhmm), SHANGHAI)
                step()
            made.append(checkpoint(log, key, clock.now))
        witness = bureau_witness(tmp_path / "witness", key)
        made = cosign_all(witness, made, school_leaves(log))
        h.roster.add_child(ctx("admin"), "C4", "3-2", 3)  # after the newest checkpoint: must stay out of every bundle
        yield World(h, log, key, made[::-1], witness)
    finally:
        h.close()


def verify(bundle: Path, key: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-I", str(bundle / "verify.py"), str(bundle), "--key", key, "--witness-key", VKEY]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


def lines(bundle: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (bundle / "events.jsonl").read_text(encoding="utf-8").splitlines()]


def stored(line: dict[str, Any], rows: list[Any]) -> dict[str, Any]:
    """The stored event state of a line, read from the school's log (a pseudonymised bundle holds no opening)."""
    return json.loads(rows[line["index"]].state)


def shown_ids(bundle: Path, log: EventLog) -> dict[str, set[str]]:
    """Each real child, guardian and releasing staff id, mapped to what the readable copies show for it."""
    found: dict[str, set[str]] = {}
    leaves = school_rows(log)
    for line in (line for line in lines(bundle) if "event" in line):
        for name in ("child_id", "guardian_id", "from_custodian_id"):
            if line["event"].get(name) is not None:
                found.setdefault(stored(line, leaves)[name], set()).add(line["event"][name])
    return found


def table(bundle: Path, name: str) -> list[list[str]]:
    with (bundle / name).open(encoding="utf-8-sig", newline="") as file:
        return list(csv.reader(file))


def test_the_bundle_verifies_and_a_changed_byte_does_not(world: World, tmp_path: Path) -> None:
    summary = world.export(tmp_path / "bundle")
    bundle = tmp_path / "bundle"
    files = {p.name for p in bundle.iterdir()}
    assert files == {
        "events.jsonl",
        "checkpoints.json",
        "public_key.pem",
        "proofs.json",
        "verify.py",
        "manifest.json",
        "statement.txt",
    } | {"attendance.csv", "releases.csv", "refusals.csv", "incidents.csv", "attendance.edfi.json"}
    assert (bundle / "verify.py").read_bytes() == VERIFIER.read_bytes()
    newest = max(world.checkpoints, key=lambda c: c.tree_size)
    assert summary.tree_sizes == {SCHOOL: newest.tree_size} and summary.roots == {SCHOOL: newest.root_hex}
    # C4 and its stored answer (set-up commands take the one command path) came after the checkpoint
    assert len(school_leaves(world.log)) == newest.tree_size + 2
    covered = [line["index"] for line in lines(bundle)], [2 ** line.get("subtree", [0])[0] for line in lines(bundle)]
    assert sum(covered[1]) == newest.tree_size and sorted(covered[0]) == covered[0] and not covered[0][0]
    # the commands' stored answers (idempotency keys, API answers) are only hashes: nothing a regulator has use for
    shown = [line["event"]["type"] for line in lines(bundle) if "event" in line]
    assert "ChildReleased" in shown and "CommandAnswered" not in shown
    result = verify(bundle, world.fingerprint())
    assert result.returncode == 0, result.stdout
    assert "consistency proof" in result.stdout
    assert "VERIFIED" in result.stdout

    text = (bundle / "events.jsonl").read_text(encoding="utf-8").splitlines()
    at = [n for n, line in enumerate(text) if "leaf" in json.loads(line)][3]
    tampered = json.loads(text[at])  # one digit of the stream's commitment in a leaf
    tampered["leaf"] = re.sub(r'"stream":"(.)', lambda m: f'"stream":"{"7" if m[1] != "7" else "8"}', tampered["leaf"])
    text[at] = json.dumps(tampered)
    (bundle / "events.jsonl").write_text("\n".join(text) + "\n", encoding="utf-8")
    result = verify(bundle, world.fingerprint())
    assert result.returncode == 1 and "was CHANGED after the export" in result.stdout and "does NOT" in result.stdout


def test_pseudonyms_are_stable_in_a_bundle_and_differ_between_bundles(world: World, tmp_path: Path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    world.export(first)
    world.export(second)
    ids, again = shown_ids(first, world.log), shown_ids(second, world.log)
    assert {"C1", "C2", "G1", "G2", "X9"} <= set(ids)
    assert all(len(shown) == 1 and PSEUDONYM.fullmatch(next(iter(shown))) for shown in ids.values())
    assert len({next(iter(shown)) for shown in ids.values()}) == len(ids)  # no two ids share a pseudonym
    assert all(ids[real].isdisjoint(again[real]) for real in ids)
    children = {row[2] for name in ("attendance.csv", "releases.csv") for row in table(first, name)[1:]}
    assert children == ids["C1"] | ids["C2"]


def test_no_real_id_anywhere_in_a_pseudonymised_bundle(world: World, tmp_path: Path) -> None:
    bundle = tmp_path / "bundle"
    world.export(bundle)
    for path in bundle.iterdir():
        if path.name not in {"verify.py", "public_key.pem"}:  # code and key hold no ids
            assert not REAL_IDS.findall(path.read_text(encoding="utf-8-sig")), path.name
    assert not any("openings" in line for line in lines(bundle))


def test_every_stored_field_is_either_an_id_shown_as_a_pseudonym_or_reviewed_as_plain() -> None:
    """A new event field must be classified here before it can reach a pseudonymised bundle unreviewed."""
    fields = {f.name for kind in all_event_types() for f in dataclasses.fields(kind)}
    unreviewed = fields - set(KINDS) - OMITTED - OMITTED_IF_PSEUDONYMISED - PLAIN
    assert not unreviewed


def all_event_types() -> set[type[HandoffEvent]]:
    found: set[type[HandoffEvent]] = set()
    for module in pkgutil.iter_modules(events.__path__):
        members = vars(importlib.import_module(f"events.{module.name}")).values()
        found |= {m for m in members if isinstance(m, type) and issubclass(m, HandoffEvent)}
    return found


def test_the_tables_match_the_afternoons(world: World, tmp_path: Path) -> None:
    bundle = tmp_path / "bundle"
    summary = world.export(bundle)
    ids = {real: next(iter(shown)) for real, shown in shown_ids(bundle, world.log).items()}
    c1, c2, g1, g2, x9, t1, t2 = (ids[real] for real in ("C1", "C2", "G1", "G2", "X9", "t1", "t2"))
    day1, day2 = DAY1.isoformat(), DAY2.isoformat()
    assert table(bundle, "attendance.csv") == [
        ATTENDANCE,
        [SCHOOL, day1, c1, "present", "16:30:00", "16:55:00", "guardian"],
        [SCHOOL, day1, c2, "present", "16:32:00", "17:05:00", "self"],
        [SCHOOL, day2, c1, "present", "16:30:00", "17:25:00", "guardian"],
        [SCHOOL, day2, c2, "absent", "", "", ""],
    ]
    version = str(world.handoff.guardians(SCHOOL, "C1").version)
    assert table(bundle, "releases.csv") == [
        RELEASES,
        [SCHOOL, day1, c1, "16:55:00", g1, t1, version],
        [SCHOOL, day1, c2, "17:05:00", "self", t2, str(world.handoff.guardians(SCHOOL, "C2").version)],
        [SCHOOL, day2, c1, "17:25:00", g2, t1, version],
    ]
    assert table(bundle, "refusals.csv") == [
        REFUSALS,
        [SCHOOL, day1, c1, "16:45:00", x9, "arrival", "guardian_not_authorised"],
    ]
    incidents = table(bundle, "incidents.csv")
    assert incidents[0] == INCIDENTS and all(RECORD.fullmatch(row[2]) for row in incidents[1:])
    assert [row[:2] + row[3:] for row in incidents[1:]] == [
        [
            SCHOOL,
            day1,
            "unauthorised_pickup_attempt",
            "16:46:00",
            f"{c1};{c2}",
            "resolved",
            "17:00:00",
            "Stranger left",
        ],  # noqa: E501
        [SCHOOL, day1, "other", "17:06:00", "", "open", "", ""],
    ]
    assert summary.counts == {"attendance": 4, "releases": 3, "refusals": 1, "incidents": 2, "edfi_records": 4}
    assert (bundle / "attendance.csv").read_bytes().startswith("\ufeff学校 (school)".encode())


EDFI_REQUIRED = {"attendanceEventCategoryDescriptor", "eventDate", "studentReference", "programReference"}
EDFI_REQUIRED |= {"educationOrganizationReference"}
EDFI_OPTIONAL = {"programAttendanceDuration", "_ext"}


def check_edfi(record: dict[str, Any]) -> None:
    """The fields and shapes chosen for Ed-Fi StudentProgramAttendanceEvent (see replay/export_tables.py)."""
    assert EDFI_REQUIRED <= set(record) <= EDFI_REQUIRED | EDFI_OPTIONAL
    category = "uri://ed-fi.org/AttendanceEventCategoryDescriptor#"
    assert record["attendanceEventCategoryDescriptor"] in {category + "In Attendance", category + "Excused Absence"}
    date.fromisoformat(record["eventDate"])
    student = record["studentReference"]
    assert set(student) == {"studentUniqueId"} and PSEUDONYM.fullmatch(student["studentUniqueId"])
    program = record["programReference"]
    assert program == {
        "educationOrganizationId": record["educationOrganizationReference"]["educationOrganizationId"],
        "programName": "After-school service 课后服务",
        "programTypeDescriptor": "uri://ed-fi.org/ProgramTypeDescriptor#Extended Day/Child Care Services",
    }
    assert record["educationOrganizationReference"] == {"educationOrganizationId": SCHOOL}
    if "programAttendanceDuration" in record:
        assert isinstance(record["programAttendanceDuration"], int) and record["programAttendanceDuration"] >= 0
    for value in record.get("_ext", {"handoff": {}})["handoff"].values():
        time.fromisoformat(value)


def test_the_edfi_records_have_the_chosen_shape(world: World, tmp_path: Path) -> None:
    bundle = tmp_path / "bundle"
    world.export(bundle)
    records = json.loads((bundle / "attendance.edfi.json").read_text(encoding="utf-8"))
    for record in records:
        check_edfi(record)
    rows = table(bundle, "attendance.csv")[1:]
    assert len(records) == len(rows)
    for record, row in zip(records, rows, strict=True):
        times = record.get("_ext", {"handoff": {}})["handoff"]
        assert [record["eventDate"], record["studentReference"]["studentUniqueId"]] == row[1:3]
        assert [times.get("arrivalTime", ""), times.get("departureTime", "")] == row[4:6]
        assert ("In Attendance" in record["attendanceEventCategoryDescriptor"]) == (row[3] == "present")
    assert records[0]["programAttendanceDuration"] == 25


def test_one_day_with_names_opens_only_the_children_of_that_day(world: World, tmp_path: Path) -> None:
    bundle = tmp_path / "bundle"
    names = lambda school, child, token: None if child == "C2" else {"name": f"name of {child}"}  # noqa: E731
    summary = world.export(bundle, DAY2, DAY2, pseudonymise=False, names=names)
    found = lines(bundle)
    in_range = [x for x in found if "event" in x]
    assert summary.events_in_range == len(in_range) and all(x["in_range"] and "leaf" in x for x in in_range)
    assert {x["event"]["service_day"] for x in in_range if "service_day" in x["event"]} == {DAY2.isoformat()}
    assert {x["event"]["type"] for x in in_range} >= {"ChildCheckedIn", "ChildReleased", "CustodyCorrected"}
    assert [row[1] for row in table(bundle, "attendance.csv")[1:]] == [DAY2.isoformat()] * 2
    assert [row[2] for row in table(bundle, "attendance.csv")[1:]] == ["C1", "C2"]
    proofs = json.loads((bundle / "proofs.json").read_text(encoding="utf-8"))
    assert [p["index"] for p in proofs["inclusion"]] == [in_range[0]["index"], in_range[-1]["index"]]
    assert verify(bundle, world.fingerprint()).returncode == 0
    manifest = json.loads((bundle / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["pseudonymised"] is False and manifest["days"] == {"from": "2026-12-01", "to": "2026-12-01"}


def test_exports_that_could_not_be_verified_are_refused(world: World, tmp_path: Path) -> None:
    other = load_or_create_signing_key(tmp_path / "other.pem")
    newest = max(world.checkpoints, key=lambda c: c.tree_size)
    forged = sign_checkpoint(world.key, SCHOOL, newest.tree_size, bytes(32), newest.made_at)
    foreign = sign_checkpoint(other, SCHOOL, newest.tree_size, bytes.fromhex(newest.root_hex), newest.made_at)
    for checkpoints, schools, problem in [
        ([forged], [SCHOOL], "does not match"),
        ([foreign], [SCHOOL], "not known"),
        (world.checkpoints, [SCHOOL, "S2"], "no checkpoint"),
    ]:
        with pytest.raises(ValueError, match=problem):
            export_bundle(world.log, tmp_path / "refused", schools, DAY1, DAY2, checkpoints, world.key, salts=SALTS)
    assert not (tmp_path / "refused").exists()
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    with pytest.raises(FileExistsError):
        world.export(tmp_path / "full")


def test_an_event_stored_in_an_older_shape_is_shown_as_stored_and_verifies(world: World, tmp_path: Path) -> None:
    """A headcount stored before it kept `missing` and `extra` (events.incidents.HeadcountRecorded's version 1) is
    read with them derived; its readable copy must still show the leaf's fields, and the bundle verify."""
    now = datetime.combine(DAY2, time(17, 30), SHANGHAI)
    envelope = {"school_id": SCHOOL, "actor_id": "d1", "actor_role": "duty_leader", "device_id": "tablet-1"}
    counted = HeadcountRecorded(
        originator_id=headcounts_id(SCHOOL, DAY2, "T1"),
        originator_version=1,
        timestamp=now,
        **envelope,
        idempotency_key="k-old",
        device_time=now,
        place_code="T1",
        service_day=DAY2.isoformat(),
        expected=["C1", "C2"],
        present=["C1"],
        missing=["C2"],
        extra=[],
    )
    h = world.handoff
    stored = h.mapper.to_stored_event(counted)
    state = h.mapper.transcoder.decode(stored.state)
    for name in ("missing", "extra", "class_version"):
        state.pop(name)
    old = StoredEvent(stored.originator_id, 1, stored.topic, h.mapper.transcoder.encode(state))
    h.recorder.insert_events([old])
    world.checkpoints.insert(0, world.witnessed(checkpoint(world.log, world.key, now)))

    world.export(tmp_path / "bundle")
    (shown,) = [
        line["event"] for line in lines(tmp_path / "bundle") if line.get("event", {}).get("type") == "HeadcountRecorded"
    ]
    assert [len(shown["expected"]), len(shown["present"])] == [2, 1]
    assert all(PSEUDONYM.fullmatch(child) for child in [*shown["expected"], *shown["present"]])
    result = verify(tmp_path / "bundle", world.fingerprint())
    assert result.returncode == 0, result.stdout
    assert shown["missing"] is None and shown["extra"] is None  # not in the stored event: not shown as if it were
