"""The bureau's witness (c2sp.org/tlog-witness) over HTTP, and the fork test: a school server that rewrites an earlier
event and signs its tree again gets no cosignature, the witness keeps the refused checkpoint as evidence (across a
restart too), and an export from the fork fails both command-line verifiers."""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient

from replay.checkpoints import Checkpoint, load_or_create_signing_key, sign_checkpoint
from replay.cosignatures import cosigned, witness_key
from replay.export import export_bundle
from replay.export_signed import Signer
from replay.merkle import EMPTY_ROOT, TreeBuilder, consistency_proof, leaf_hash
from replay.notes import fingerprint, raw_public_key
from replay.verify import verify_bundle
from replay.witness_store import WitnessStore
from service.application.handoff import Handoff
from service.http.witness_app import create_witness_app
from service.infra.event_log import event_log
from service.infra.settings import Settings
from service.processes.checkpoints import Checkpointer, checkpoints
from service.processes.witness_client import STAND_IN_NAME, StandInWitness, WitnessClient
from service.reads.witnessed import last_witnessed
from service.runtime import witness_client
from tests.support import SCHOOL, ctx, handed_to_guardian
from tests.witness_support import VKEY, body, bureau_witness, served

SCHOOL_KEY = Ed25519PrivateKey.from_private_bytes(bytes(32))
LEAVES = [f"leaf {i}".encode() for i in range(12)]
FORK = "the new tree does not extend the one cosigned: a fork"


def note(size: int, leaves: list[bytes] = LEAVES, key: Ed25519PrivateKey = SCHOOL_KEY, school: str = SCHOOL) -> str:
    tree = TreeBuilder()
    for leaf in leaves[:size]:
        tree.append(leaf)
    return sign_checkpoint(key, school, size, tree.root(), "2026-12-03T16:00:00+08:00").note


def post(client: TestClient, old: int, proof: list[bytes], checkpoint: str) -> tuple[int, str, str]:
    answer = client.post(
        "/add-checkpoint", content=body(old, proof, checkpoint), headers={"content-type": "text/plain"}
    )
    return answer.status_code, answer.text, answer.headers.get("content-type", "")


@pytest.fixture
def witness_http(tmp_path: Path) -> TestClient:
    return TestClient(create_witness_app(bureau_witness(tmp_path / "witness", SCHOOL_KEY)))


def test_the_witness_cosigns_a_tree_that_grows_and_answers_the_protocol_otherwise(
    witness_http: TestClient, tmp_path: Path
) -> None:
    status, line, _ = post(witness_http, 0, [], note(5))
    assert status == 200 and line.startswith("\u2014 witness.test/handoff ")
    assert cosigned(note(5) + line, [witness_key(VKEY)]) is None
    stamp = int.from_bytes(base64.b64decode(line.split(" ")[-1])[4:12], "big")
    assert stamp > 1_700_000_000  # a timestamped cosignature, never zero
    assert post(witness_http, 0, [], note(9)) == (409, "5\n", "text/x.tlog.size")
    assert post(witness_http, 5, consistency_proof(LEAVES[:9], 5), note(9))[0] == 200
    wrong = [leaf_hash(b"x")] * len(consistency_proof(LEAVES[:12], 9))
    assert post(witness_http, 9, wrong, note(12))[:2] == (422, f"bad_consistency_proof: {FORK}\n")
    assert post(witness_http, 9, [], note(9))[0] == 200, "the same tree again is cosigned again"
    fork = [b"other", *LEAVES[1:]]
    assert post(witness_http, 9, [], note(9, fork))[1].startswith("different_root")
    assert post(witness_http, 12, [], note(9))[1].startswith("old_size_too_large")
    assert post(witness_http, 9, [], note(9, key=Ed25519PrivateKey.generate()))[0] == 403
    assert post(witness_http, 0, [], note(3, school="S9"))[0] == 200  # handoff/* follows every school of that key
    other = Ed25519PrivateKey.generate()
    unknown = TestClient(create_witness_app(bureau_witness(tmp_path / "w2", other)))
    assert post(unknown, 0, [], note(3))[0] == 403
    malformed = unknown.post(
        "/add-checkpoint", content=b"old 1\nnot a proof\n\n", headers={"content-type": "text/plain"}
    )
    assert malformed.status_code == 400
    empty = sign_checkpoint(SCHOOL_KEY, "S8", 0, b"\x01" * 32, "2026-12-03T16:00:00+08:00").note
    assert post(witness_http, 0, [], empty)[:2] == (
        422,
        "bad_empty_tree: a tree of size zero has the empty tree's root\n",
    )
    assert post(witness_http, 0, [], sign_checkpoint(SCHOOL_KEY, "S7", 0, EMPTY_ROOT, "t").note)[0] == 200
    kept = witness_http.get(f"/{hashlib.sha256(b'handoff/S1').hexdigest()}/checkpoint")
    assert kept.status_code == 200 and kept.text.startswith(note(9).rpartition("\n\n")[0])


def rewrite_an_earlier_event(url: str, hide: bool = True) -> None:
    """What whoever controls the school's server can do: change a stored event in place and sign the trees again."""
    with psycopg.connect(url, autocommit=True) as conn:
        row_id, state = conn.execute(
            "SELECT notification_id, state FROM handoff_events WHERE topic LIKE %s ORDER BY notification_id LIMIT 1",
            ("%ChildCheckedIn%",),
        ).fetchone()  # type: ignore[misc]
        event = json.loads(bytes(state))
        event["device_id"] = "rewritten-later"
        conn.execute(
            "UPDATE handoff_events SET state = %s WHERE notification_id = %s", (json.dumps(event).encode(), row_id)
        )
        conn.execute("DELETE FROM tree_checkpoints WHERE school_id = %s", (SCHOOL,))
        if hide:
            conn.execute("DELETE FROM witness_submissions")  # hide that the witness ever saw the old tree
        conn.execute("UPDATE tree_progress SET position = 0, states = '{}'")


def both_verifiers(bundle: Path, key: str) -> tuple[subprocess.CompletedProcess[str], bool]:
    command = [sys.executable, "-I", str(bundle / "verify.py"), str(bundle), "--key", key, "--witness-key", VKEY]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False), verify_bundle(
        bundle, [key], [VKEY]
    ).ok


def grow_honestly(
    handoff: Handoff, url: str, key: Ed25519PrivateKey, witness: WitnessClient
) -> tuple[Checkpointer, Checkpoint, Checkpoint]:
    """The school's checkpointer and two checkpoints the witness cosigned, the second proven from the first."""
    school = Checkpointer(url, event_log(handoff), key, handoff.clock, witness)
    first = school.run_once()[0]
    handed_to_guardian(handoff)
    return school, first, school.run_once()[0]  # the proof from the first, made from the trees carried forward


def fork(handoff: Handoff, url: str, key: Ed25519PrivateKey, witness: WitnessClient) -> Checkpoint:
    """An earlier event rewritten, the forked log grown on, and its checkpoint submitted (and refused)."""
    rewrite_an_earlier_event(url)
    handoff.care.release(ctx(), "C1", "G1")
    return Checkpointer(url, event_log(handoff), key, handoff.clock, witness).run_once()[0]


def export_the_day(handoff: Handoff, url: str, key: Ed25519PrivateKey, school: Checkpointer, out: Path) -> None:
    day = handoff.clock().date()
    export_bundle(
        event_log(handoff), out, [SCHOOL], day, day, checkpoints(url, [SCHOOL]), Signer(key), salts=school.salts
    )


def test_a_forked_log_is_refused_by_the_witness_even_after_a_restart_and_its_export_fails(
    postgres_handoff: Handoff, fresh_postgres_url: str, tmp_path: Path
) -> None:
    key = load_or_create_signing_key(tmp_path / "key.pem")
    handoff, url = postgres_handoff, fresh_postgres_url
    with served(bureau_witness(tmp_path / "witness", key)) as client:
        school, first, second = grow_honestly(handoff, url, key, client)
        cosignatures = {c.tree_size: c.note for c in checkpoints(url, [SCHOOL])}
        assert all(cosigned(cosignatures[c.tree_size], [witness_key(VKEY)]) is None for c in (first, second))
        export_the_day(handoff, url, key, school, tmp_path / "honest")
        assert both_verifiers(tmp_path / "honest", fingerprint(raw_public_key(key)))[1]

        forked = fork(handoff, url, key, client)
        assert forked.tree_size > second.tree_size
        with psycopg.connect(url) as conn:
            answers = conn.execute("SELECT status, outcome FROM witness_submissions").fetchall()
        assert answers == [(422, "bad_consistency_proof")]  # after a 409 named the size it cosigned
        evidence = client_store(tmp_path).refused()
        assert [(e["code"], e["note"]) for e in evidence][-1] == ("bad_consistency_proof", forked.note)
        export_the_day(handoff, url, key, school, tmp_path / "fork")
        run, ok = both_verifiers(tmp_path / "fork", fingerprint(raw_public_key(key)))
        assert run.returncode == 1 and not ok and "is NOT (cosignature_missing)" in run.stdout, run.stdout

    with served(bureau_witness(tmp_path / "witness", key)) as restarted:  # the same memory, a new process
        handoff.care.check_in(ctx(), "C2", "T1", None, None)
        Checkpointer(url, event_log(handoff), key, handoff.clock, restarted).run_once()
        with psycopg.connect(url) as conn:
            last = conn.execute("SELECT status, outcome FROM witness_submissions ORDER BY at DESC LIMIT 1").fetchone()
        assert last == (422, "bad_consistency_proof")
        assert client_store(tmp_path).state()[f"handoff/{SCHOOL}"]["size"] == second.tree_size
        assert len(client_store(tmp_path).refused()) >= 2


def client_store(tmp_path: Path) -> WitnessStore:
    return WitnessStore(tmp_path / "witness")


def test_the_demo_stand_in_witness_cosigns_inside_the_process(
    postgres_handoff: Handoff, fresh_postgres_url: str, tmp_path: Path
) -> None:
    key = load_or_create_signing_key(tmp_path / "key.pem")
    settings = Settings(data_dir=tmp_path, signing_key_file=tmp_path / "key.pem", witness_stand_in=True)
    stand_in = witness_client(settings)
    assert isinstance(stand_in, StandInWitness) and stand_in.vkey.startswith(STAND_IN_NAME + "+")
    Checkpointer(fresh_postgres_url, event_log(postgres_handoff), key, postgres_handoff.clock, stand_in).run_once()
    assert cosigned(checkpoints(fresh_postgres_url, [SCHOOL])[-1].note, [witness_key(stand_in.vkey)]) is None
    with pytest.raises(ValueError, match="HANDOFF_WITNESS_STAND_IN"):
        Settings(environment="production", secret_key="s" * 40, witness_stand_in=True)


def test_the_district_reads_when_each_school_was_last_witnessed(
    postgres_handoff: Handoff, fresh_postgres_url: str, tmp_path: Path
) -> None:
    key = load_or_create_signing_key(tmp_path / "key.pem")
    stand_in = StandInWitness.kept_in(tmp_path / "stand-in", raw_public_key(key))
    made = Checkpointer(fresh_postgres_url, event_log(postgres_handoff), key, postgres_handoff.clock, stand_in)
    with psycopg.connect(fresh_postgres_url) as conn:
        assert last_witnessed(conn, None, ["S1"]) == {"S1": {"at": None, "tree_size": None, "outcome": None}}
    handed_to_guardian(postgres_handoff)
    (checkpoint,) = made.run_once()
    rewrite_an_earlier_event(fresh_postgres_url, hide=False)
    postgres_handoff.clock.now += timedelta(minutes=5)  # type: ignore[attr-defined]
    postgres_handoff.care.release(ctx(), "C1", "G1")
    made.run_once()  # refused: the witness saw another history
    with psycopg.connect(fresh_postgres_url) as conn:
        found = last_witnessed(conn, None, ["S1", "S2"])
    assert found["S1"] == {
        "at": checkpoint.made_at,
        "tree_size": checkpoint.tree_size,
        "outcome": "bad_consistency_proof",
    }
    assert found["S2"] == {"at": None, "tree_size": None, "outcome": None}
