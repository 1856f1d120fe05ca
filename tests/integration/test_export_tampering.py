"""The tamper suite: a real export, attacked in every way found so far, checked by both verifiers (the bundle's own
verify.py, run by a plain Python with the expected fingerprint, and `handoff verify`, in-process). Every attack must
be refused; the intact bundle, made read-only, must verify, and nothing may be written into it."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shlex
import stat
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from replay import verify_bundle_standalone as standalone
from replay.checkpoints import note_text, public_key_pem
from replay.cosignatures import cosign
from replay.notes import fingerprint, raw_public_key, sign_note
from replay.verify import verify_bundle
from tests.integration.test_export import DAY1, DAY2, SHANGHAI, World, world  # noqa: F401
from tests.witness_support import VKEY, WITNESS_NAME

Attack = Callable[[Path, "Forger"], None]


class Forger:
    """What an attacker holding the bundle (and maybe a key of their own) can do to it."""

    def __init__(self, key: Ed25519PrivateKey | None = None, school_key: Ed25519PrivateKey | None = None) -> None:
        self.key, self.school_key = key, school_key

    @staticmethod
    def lines(bundle: Path) -> list[dict[str, Any]]:
        return [json.loads(x) for x in (bundle / "events.jsonl").read_text(encoding="utf-8").splitlines()]

    @staticmethod
    def write_lines(bundle: Path, lines: list[dict[str, Any]]) -> None:
        text = "".join(json.dumps(x, ensure_ascii=False, sort_keys=True) + "\n" for x in lines)
        (bundle / "events.jsonl").write_text(text, encoding="utf-8")

    @staticmethod
    def edit_json(bundle: Path, name: str, change: Callable[[Any], None]) -> None:
        value = json.loads((bundle / name).read_text(encoding="utf-8"))
        change(value)
        (bundle / name).write_text(json.dumps(value, ensure_ascii=False), encoding="utf-8")

    def reseal(self, bundle: Path, keep_signatures: bool = False) -> None:
        """Recompute every root and file hash after an edit; sign with the forger's key, or keep the old signatures."""
        statement = (bundle / "statement.txt").read_text(encoding="utf-8")
        old_text, _, old_signature = statement.rpartition("\n\n")
        checkpoints = json.loads((bundle / "checkpoints.json").read_text(encoding="utf-8"))
        heads: dict[str, int] = {}
        for line in self.lines(bundle):
            heads[line["school_id"]] = line["index"] + 2 ** line.get("subtree", [0])[0]
        roots = standalone.check_trees(bundle, {s: (n, b"") for s, n in heads.items()}, checkpoints, standalone.Check())
        for c in checkpoints:
            c["root_hex"] = roots[c["school_id"], c["tree_size"]].hex()
            text = note_text(c["school_id"], c["tree_size"], c["root_hex"], c["made_at"])
            c["note"] = text + "\n" + c["note"].rpartition("\n\n")[2] if keep_signatures else sign_note(self.key, text)
        (bundle / "checkpoints.json").write_text(json.dumps(checkpoints), encoding="utf-8")
        if not keep_signatures:  # a forger with a key of their own makes a whole new bundle, proofs left out
            (bundle / "public_key.pem").write_bytes(public_key_pem(self.key))
            (bundle / "proofs.json").write_text('{"inclusion": [], "consistency": []}', encoding="utf-8")
        lines = [ln for ln in old_text.splitlines() if not ln.startswith(("head ", "file "))]
        lines += [f"head {s} {n} {base64.b64encode(roots[s, n]).decode()}" for s, n in sorted(heads.items())]
        files = sorted(p for p in bundle.iterdir() if p.name != "statement.txt")
        lines += [f"file {p.name} {hashlib.sha256(p.read_bytes()).hexdigest()}" for p in files]
        text = "\n".join(lines) + "\n"
        signed = text + "\n" + old_signature if keep_signatures else sign_note(self.key, text)
        (bundle / "statement.txt").write_text(signed, encoding="utf-8")

    def restate(self, bundle: Path) -> None:
        """The school itself, holding its key, signs a fresh statement over the edited files (its trees stay)."""
        statement = (bundle / "statement.txt").read_text(encoding="utf-8").rpartition("\n\n")[0]
        lines = [ln for ln in statement.splitlines() if not ln.startswith("file ")]
        files = sorted(p for p in bundle.iterdir() if p.name != "statement.txt")
        lines += [f"file {p.name} {hashlib.sha256(p.read_bytes()).hexdigest()}" for p in files]
        assert self.school_key is not None
        (bundle / "statement.txt").write_text(sign_note(self.school_key, "\n".join(lines) + "\n"), encoding="utf-8")


def change_leaf(bundle: Path, forger: Forger) -> None:
    lines = forger.lines(bundle)
    line = next(x for x in lines if "leaf" in x and x["event"]["type"] == "ChildReleased")
    line["leaf"] = line["leaf"].replace('"self_release":false', '"self_release":true')
    line["event"]["self_release"] = True  # the readable copy agrees with the changed leaf
    assert '"self_release":true' in line["leaf"]
    forger.write_lines(bundle, lines)


def drop_event(bundle: Path, forger: Forger) -> None:
    lines = forger.lines(bundle)
    del lines[next(i for i, x in enumerate(lines) if "event" in x)]
    forger.write_lines(bundle, lines)


def duplicate_event(bundle: Path, forger: Forger) -> None:
    lines = forger.lines(bundle)
    i = next(i for i, x in enumerate(lines) if "event" in x)
    forger.write_lines(bundle, lines[: i + 1] + lines[i:])


def reorder_events(bundle: Path, forger: Forger) -> None:
    lines = forger.lines(bundle)
    i, j = [k for k, x in enumerate(lines) if "event" in x][:2]
    lines[i], lines[j] = {**lines[j], "index": lines[i]["index"]}, {**lines[i], "index": lines[j]["index"]}
    forger.write_lines(bundle, lines)


def swap_positions(bundle: Path, forger: Forger) -> None:
    lines = forger.lines(bundle)
    check_in = next(x for x in lines if "event" in x and x["event"]["type"] == "ChildCheckedIn")
    release = next(x for x in lines if "event" in x and x["event"]["type"] == "ChildReleased")
    check_in["position"], release["position"] = release["position"], check_in["position"]
    forger.write_lines(bundle, lines)


def flip_checkpoint_signature(bundle: Path, forger: Forger) -> None:
    def flip(checkpoints: list[dict[str, Any]]) -> None:
        text, _, signatures = checkpoints[-1]["note"].rpartition("\n\n")
        own, *cosignatures = signatures.splitlines()  # the school's line first, the witness's after it
        raw = bytearray(base64.b64decode(own.rpartition(" ")[2]))
        raw[10] ^= 1
        own = f"{own.rpartition(' ')[0]} {base64.b64encode(bytes(raw)).decode()}"
        checkpoints[-1]["note"] = text + "\n\n" + "".join(line + "\n" for line in [own, *cosignatures])

    forger.edit_json(bundle, "checkpoints.json", flip)
    forger.reseal(bundle, keep_signatures=True)  # every hash right again: only the flipped signature is wrong


def flip_statement_signature(bundle: Path, forger: Forger) -> None:
    text = (bundle / "statement.txt").read_text(encoding="utf-8")
    i = text.rindex(" ") + 5
    (bundle / "statement.txt").write_text(text[:i] + ("A" if text[i] != "A" else "B") + text[i + 1 :], "utf-8")


def recompute_roots(bundle: Path, forger: Forger) -> None:
    change_leaf(bundle, forger)
    forger.reseal(bundle, keep_signatures=True)


def resign_with_another_key(bundle: Path, forger: Forger) -> None:
    change_leaf(bundle, forger)
    forger.reseal(bundle)


def roll_back(bundle: Path, forger: Forger) -> None:
    """Keep only the first checkpoint and the events up to it: the afternoon after it disappears."""
    checkpoints = json.loads((bundle / "checkpoints.json").read_text(encoding="utf-8"))
    first = checkpoints[0]["tree_size"]
    (bundle / "checkpoints.json").write_text(json.dumps(checkpoints[:1]), encoding="utf-8")
    lines = forger.lines(bundle)
    forger.write_lines(bundle, [x for x in lines if x["index"] < first])


def roll_back_and_reseal(bundle: Path, forger: Forger) -> None:
    roll_back(bundle, forger)
    forger.reseal(bundle, keep_signatures=True)


def drop_statement(bundle: Path, forger: Forger) -> None:
    roll_back(bundle, forger)
    (bundle / "statement.txt").unlink()


def edit_release_time(bundle: Path, forger: Forger) -> None:
    text = (bundle / "releases.csv").read_text(encoding="utf-8-sig")
    (bundle / "releases.csv").write_text(text.replace("16:55:00", "16:15:00"), encoding="utf-8-sig")


def edit_edfi(bundle: Path, forger: Forger) -> None:
    forger.edit_json(bundle, "attendance.edfi.json", lambda records: records[0].update(eventDate="2026-11-29"))


def edit_readable_copy(bundle: Path, forger: Forger) -> None:
    lines = forger.lines(bundle)
    next(x for x in lines if "event" in x and x["event"]["type"] == "ChildReleased")["event"]["self_release"] = True
    forger.write_lines(bundle, lines)


def edit_readable_copy_restated(bundle: Path, forger: Forger) -> None:
    """The school shows a release as a self-release and signs the statement again: only the leaf tells."""
    edit_readable_copy(bundle, forger)
    forger.restate(bundle)


def swap_salts(bundle: Path, forger: Forger) -> None:
    """Two openings of one event trade salts: neither opens its commitment any more."""
    lines = forger.lines(bundle)
    line = next(x for x in lines if "openings" in x and x["event"]["type"] == "ChildReleased")
    openings = line["openings"]
    openings["child_id"][0], openings["guardian_id"][0] = openings["guardian_id"][0], openings["child_id"][0]
    forger.write_lines(bundle, lines)
    forger.restate(bundle)


def replace_commitment(bundle: Path, forger: Forger) -> None:
    """The school commits a release to another guardian (a true commitment and opening of that guardian's id), shows
    that guardian in the readable copy, and signs the statement again: the tree its checkpoints signed disagrees."""
    lines = forger.lines(bundle)
    line = next(x for x in lines if "openings" in x and x["event"]["type"] == "ChildReleased")
    leaf, salt = json.loads(line["leaf"]), line["openings"]["guardian_id"][0]
    leaf["committed"]["guardian_id"] = hashlib.sha256(bytes.fromhex(salt) + b'"G9"').hexdigest()
    line["leaf"] = json.dumps(leaf, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    line["openings"]["guardian_id"][1] = line["event"]["guardian_id"] = "G9"
    forger.write_lines(bundle, lines)
    forger.restate(bundle)


def edit_in_range(bundle: Path, forger: Forger) -> None:
    lines = forger.lines(bundle)
    next(x for x in lines if "event" in x)["in_range"] = False
    forger.write_lines(bundle, lines)


def edit_manifest(bundle: Path, forger: Forger) -> None:
    forger.edit_json(bundle, "manifest.json", lambda manifest: manifest.update(pseudonymised=True))


def add_a_file(bundle: Path, forger: Forger) -> None:
    (bundle / "notes.csv").write_text("学生 (child)\nC-000000000000\n", encoding="utf-8")


def splice_from_another_export(bundle: Path, forger: Forger) -> None:
    other = forger.lines(bundle.parent / "day1")
    lines = forger.lines(bundle)
    i = next(i for i, x in enumerate(lines) if "event" in x)
    lines[i] = next(x for x in other if "event" in x and x["event"]["type"] == lines[i]["event"]["type"])
    forger.write_lines(bundle, lines)


def without_cosignatures(note: str) -> str:
    return "".join(line + "\n" for line in note.splitlines() if not line.startswith(f"\u2014 {WITNESS_NAME} "))


def strip_cosignature(bundle: Path, forger: Forger) -> None:
    """The school takes the witness's cosignature off its head checkpoint (a fork has none) and signs again."""
    forger.edit_json(bundle, "checkpoints.json", lambda cs: cs[-1].update(note=without_cosignatures(cs[-1]["note"])))
    forger.restate(bundle)


def cosign_with_an_unpinned_key(bundle: Path, forger: Forger) -> None:
    """The school cosigns its fork itself, under the witness's name, with a key of its own."""
    assert forger.key is not None

    def cosign_it(checkpoints: list[dict[str, Any]]) -> None:
        note = without_cosignatures(checkpoints[-1]["note"])
        checkpoints[-1]["note"] = note + cosign(forger.key, WITNESS_NAME, note, 1_800_000_000)

    forger.edit_json(bundle, "checkpoints.json", cosign_it)
    forger.restate(bundle)


def move_cosignature_from_another_root(bundle: Path, forger: Forger) -> None:
    """The witness's true cosignature of an earlier checkpoint, put on the head."""

    def move(checkpoints: list[dict[str, Any]]) -> None:
        earlier = checkpoints[0]["note"].splitlines()[-1]
        checkpoints[-1]["note"] = without_cosignatures(checkpoints[-1]["note"]) + earlier + "\n"

    forger.edit_json(bundle, "checkpoints.json", move)
    forger.restate(bundle)


SCHOOL_KEYS: dict[Path, Ed25519PrivateKey] = {}
RESTATED: dict[Attack, str] = {
    edit_readable_copy_restated: "shows self_release NOT as its leaf holds it",
    swap_salts: "has an opening that does NOT open its commitment",
    replace_commitment: "events reach the head of",
    strip_cosignature: "cosigned by a pinned witness: is NOT (cosignature_missing)",
    cosign_with_an_unpinned_key: "cosigned by a pinned witness: is NOT (cosignature_unpinned)",
    move_cosignature_from_another_root: "cosigned by a pinned witness: is NOT (cosignature_invalid)",
}
ATTACKS = [
    change_leaf,
    drop_event,
    duplicate_event,
    reorder_events,
    splice_from_another_export,
    swap_positions,
    flip_checkpoint_signature,
    flip_statement_signature,
    recompute_roots,
    resign_with_another_key,
    roll_back,
    roll_back_and_reseal,
    drop_statement,
    edit_release_time,
    edit_edfi,
    edit_readable_copy,
    edit_readable_copy_restated,
    swap_salts,
    replace_commitment,
    edit_in_range,
    edit_manifest,
    add_a_file,
    strip_cosignature,
    cosign_with_an_unpinned_key,
    move_cosignature_from_another_root,
]


@pytest.fixture
def exported(world: World, tmp_path: Path) -> Iterator[tuple[Path, str]]:  # noqa: F811
    bundle = tmp_path / "bundle"
    world.export(bundle, pseudonymise=False, names=lambda school, child, token: {"name": "x"})
    world.export(tmp_path / "day1", DAY1, DAY1, pseudonymise=False, names=lambda school, child, token: None)
    SCHOOL_KEYS[bundle] = world.key
    yield bundle, world.fingerprint()


def both_verifiers(bundle: Path, key: str) -> tuple[subprocess.CompletedProcess[str], bool]:
    command = [sys.executable, "-I", str(bundle / "verify.py"), str(bundle), "--key", key, "--witness-key", VKEY]
    standalone_run = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    return standalone_run, verify_bundle(bundle, [key], [VKEY]).ok


def test_the_intact_bundle_verifies_read_only_and_nothing_is_written(exported: tuple[Path, str]) -> None:
    bundle, key = exported
    before = {p.name: p.read_bytes() for p in bundle.iterdir()}
    for path in [bundle, *bundle.iterdir()]:
        path.chmod(stat.S_IMODE(path.stat().st_mode) & ~0o222)
    try:
        run, ok = both_verifiers(bundle, key)
    finally:
        for path in [bundle, *bundle.iterdir()]:
            path.chmod(stat.S_IMODE(path.stat().st_mode) | 0o200)
    assert run.returncode == 0 and ok, run.stdout + run.stderr
    assert "VERIFIED: every file, tree, proof and signature checks out." in run.stdout
    assert {p.name: p.read_bytes() for p in bundle.iterdir()} == before


@pytest.mark.parametrize("attack", ATTACKS, ids=[attack.__name__ for attack in ATTACKS])
def test_every_attack_is_refused_by_both_verifiers(exported: tuple[Path, str], attack: Attack) -> None:
    bundle, key = exported
    assert both_verifiers(bundle, key)[1]
    attack(bundle, Forger(Ed25519PrivateKey.generate(), SCHOOL_KEYS[bundle]))
    run, ok = both_verifiers(bundle, key)
    assert run.returncode == 1 and not ok, run.stdout
    assert "NOT VERIFIED" in run.stdout and "Traceback" not in run.stderr
    if attack in RESTATED:  # the school's own statement is signed: what catches it is the leaf or the tree
        assert "statement.txt is signed by an accepted key: ok" in run.stdout
        assert "was CHANGED after the export" not in run.stdout
        assert RESTATED[attack] in run.stdout, run.stdout


LINE_ATTACKS = [
    change_leaf,
    drop_event,
    duplicate_event,
    reorder_events,
    splice_from_another_export,
    swap_positions,
    edit_readable_copy,
    edit_readable_copy_restated,
    swap_salts,
    replace_commitment,
    edit_in_range,
]


@pytest.mark.parametrize("attack", [None, *LINE_ATTACKS], ids=["intact", *(a.__name__ for a in LINE_ATTACKS)])
def test_events_read_in_pieces_by_two_processes_give_the_same_report(
    exported: tuple[Path, str], attack: Attack | None, capsys: pytest.CaptureFixture[str]
) -> None:
    bundle, key = exported
    if attack is not None:
        attack(bundle, Forger(Ed25519PrivateKey.generate(), SCHOOL_KEYS[bundle]))
    assert (bundle / "events.jsonl").stat().st_size > 20 * 1000  # pieces of 1,000 bytes cut lines in the middle
    reports = []
    for jobs, piece in ((1, standalone.PIECE), (2, 1000)):  # whole, then in pieces by two processes
        verdict = standalone.verify(bundle, [standalone.pin(key)], jobs, piece, [standalone.witness_key(VKEY)])
        reports.append((verdict, capsys.readouterr().out))
    alone = (  # a process with no other thread forks its readers; one with threads (maybe this one) spawns them
        "import sys; from pathlib import Path; from replay.verify_bundle_standalone import pin, verify, witness_key;"
        "sys.exit(verify(Path(sys.argv[1]), [pin(sys.argv[2])], 2, 1000, [witness_key(sys.argv[3])]))"
    )
    forked = subprocess.run(
        [sys.executable, "-c", alone, str(bundle), key, VKEY], capture_output=True, text=True, timeout=120, check=False
    )
    reports.append((forked.returncode, forked.stdout))
    assert reports[0] == reports[1] == reports[2], forked.stderr
    assert reports[0][0] == (0 if attack is None else 1), reports[0][1]


def test_a_pseudonymised_copy_is_checked_against_its_leaf(world: World, tmp_path: Path) -> None:  # noqa: F811
    """A pseudonymised bundle carries the leaves (commitments, no salts): a readable copy the school edits after the
    fact, under a statement it signs again, is refused leaf by leaf."""
    bundle = tmp_path / "bundle"
    world.export(bundle)
    assert both_verifiers(bundle, world.fingerprint())[1]
    edit_readable_copy_restated(bundle, Forger(school_key=world.key))
    run, ok = both_verifiers(bundle, world.fingerprint())
    assert run.returncode == 1 and not ok and RESTATED[edit_readable_copy_restated] in run.stdout, run.stdout


def test_a_forgery_with_its_own_key_fails_even_against_that_key_for_want_of_the_witness(
    exported: tuple[Path, str],
) -> None:
    """Everything a forger signs checks out against the forger's own fingerprint, but the head checkpoint is not one
    the witness cosigned: a regulator tricked into pinning the wrong school key still refuses it."""
    bundle, key = exported
    forger = Forger(Ed25519PrivateKey.generate())
    resign_with_another_key(bundle, forger)
    run, ok = both_verifiers(bundle, fingerprint(raw_public_key(forger.key)))
    assert run.returncode == 1 and not ok, run.stdout
    assert "statement.txt is signed by an accepted key: ok" in run.stdout
    problems = [line for line in run.stdout.split("NOT VERIFIED:")[1].splitlines() if line.startswith("  - ")]
    assert len(problems) == 1 and "cosigned by a pinned witness: is NOT (cosignature_missing)" in problems[0], problems
    assert run.stdout.rstrip().endswith("\nreasons: cosignature_missing")
    assert not both_verifiers(bundle, key)[1]


def test_the_offline_replay_uses_the_verified_order(exported: tuple[Path, str]) -> None:
    from replay.offline import bundle_events

    bundle, _ = exported
    before = [(e.originator_id, e.originator_version) for e in bundle_events(bundle)]
    swap_positions(bundle, Forger())
    assert [(e.originator_id, e.originator_version) for e in bundle_events(bundle)] == before


def test_the_readme_procedure_works_with_only_python_and_the_bundle(world: World, tmp_path: Path) -> None:  # noqa: F811
    """The README's regulator steps, run literally: a folder holding only the bundle, a bare environment, the
    fingerprint as the school would read it out."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    block = readme.split("<!-- regulator-procedure -->", 1)[1].split("```sh\n", 1)[1].split("```", 1)[0]
    desk = tmp_path / "regulator"
    world.export(desk / "bundle")  # pseudonymised, as a regulator gets it
    for command in filter(str.strip, block.splitlines()):
        argv = shlex.split(command.replace("<fingerprint>", world.fingerprint()).replace("<witness-key>", VKEY))
        assert argv[0] == "python3"
        env = {"PATH": os.environ["PATH"]}
        done = subprocess.run([sys.executable, "-I", *argv[1:]], cwd=desk, env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "VERIFIED: every file, tree, proof and signature checks out." in done.stdout
