"""Signed checkpoints of every school's hash tree, kept in PostgreSQL as the log grows."""

from __future__ import annotations

import threading
from pathlib import Path

import psycopg

from replay.checkpoints import load_or_create_signing_key, raw_public_key, verify_checkpoint
from replay.leaves import Salts, leaf_bytes, school_of
from replay.merkle import consistency_proof, tree_hash, verify_consistency
from service.application.handoff import Handoff
from service.infra.event_log import event_log
from service.processes.checkpoints import Checkpointer, checkpoints
from tests.support import SCHOOL, ctx, handed_to_guardian


def leaves_of(handoff: Handoff, school: str, salts: Salts) -> list[bytes]:
    rows = handoff.recorder.select_notifications(1, 1_000_000)
    return [leaf_bytes(row, salts) for row in rows if school_of(row) == school]


def test_checkpoints_are_signed_match_the_trees_and_stay_consistent(
    postgres_handoff: Handoff, fresh_postgres_url: str, tmp_path: Path
) -> None:
    key = load_or_create_signing_key(tmp_path / "key.pem")
    checkpointer = Checkpointer(fresh_postgres_url, event_log(postgres_handoff), key, postgres_handoff.clock)
    first = {c.school_id: c for c in checkpointer.run_once()}
    assert SCHOOL in first and all(verify_checkpoint(raw_public_key(key), c) for c in first.values())
    assert first[SCHOOL].root_hex == tree_hash(leaves_of(postgres_handoff, SCHOOL, checkpointer.salts)).hex()
    assert checkpointer.run_once() == [], "nothing new, nothing signed"
    handed_to_guardian(postgres_handoff)
    postgres_handoff.care.release(ctx(), "C1", "G1")
    second = {c.school_id: c for c in checkpointer.run_once()}
    assert set(second) == {SCHOOL}
    leaves = leaves_of(postgres_handoff, SCHOOL, checkpointer.salts)
    assert second[SCHOOL].tree_size == len(leaves) > first[SCHOOL].tree_size
    proof = consistency_proof(leaves, first[SCHOOL].tree_size)
    assert verify_consistency(
        first[SCHOOL].tree_size,
        second[SCHOOL].tree_size,
        bytes.fromhex(first[SCHOOL].root_hex),
        bytes.fromhex(second[SCHOOL].root_hex),
        proof,
    )
    kept = checkpoints(fresh_postgres_url, [SCHOOL])
    assert [c.tree_size for c in kept] == [first[SCHOOL].tree_size, second[SCHOOL].tree_size]


def test_two_followers_at_once_sign_each_tree_head_once(
    postgres_handoff: Handoff, fresh_postgres_url: str, tmp_path: Path
) -> None:
    key = load_or_create_signing_key(tmp_path / "key.pem")
    made: list[int] = []

    def follow() -> None:
        checkpointer = Checkpointer(fresh_postgres_url, event_log(postgres_handoff), key, postgres_handoff.clock)
        made.append(len(checkpointer.run_once()))

    threads = [threading.Thread(target=follow) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    kept = checkpoints(fresh_postgres_url, [SCHOOL])
    assert sorted(made)[0] == 0 and len(kept) == 1


def test_trees_of_the_older_leaf_format_start_again_and_their_checkpoints_are_kept_apart(
    postgres_handoff: Handoff, fresh_postgres_url: str, tmp_path: Path
) -> None:
    key = load_or_create_signing_key(tmp_path / "key.pem")
    first = Checkpointer(fresh_postgres_url, event_log(postgres_handoff), key, postgres_handoff.clock)
    old = {c.school_id: c for c in first.run_once()}
    with psycopg.connect(fresh_postgres_url, autocommit=True) as conn:  # as a deployment of the stored-row leaves
        conn.execute("UPDATE tree_progress SET leaves = 'stored rows'")
        conn.execute("UPDATE tree_checkpoints SET root_hex = repeat('ab', 32)")
    again = Checkpointer(fresh_postgres_url, event_log(postgres_handoff), key, postgres_handoff.clock)
    assert again.salts.key == first.salts.key, "the salt key is made once"
    assert checkpoints(fresh_postgres_url, [SCHOOL]) == []
    made = {c.school_id: c for c in again.run_once()}
    assert made[SCHOOL].tree_size == old[SCHOOL].tree_size
    assert made[SCHOOL].root_hex == tree_hash(leaves_of(postgres_handoff, SCHOOL, again.salts)).hex()
    with psycopg.connect(fresh_postgres_url) as conn:
        kept = conn.execute("SELECT school_id, root_hex, leaves FROM tree_checkpoints_old").fetchall()
    assert (SCHOOL, "ab" * 32, "stored rows") in kept


def test_a_follower_starting_while_another_signs_waits_instead_of_deadlocking(
    postgres_handoff: Handoff, fresh_postgres_url: str, tmp_path: Path
) -> None:
    """Its set-up takes the tables in the order a signing run does (progress, then checkpoints)."""
    key = load_or_create_signing_key(tmp_path / "key.pem")
    Checkpointer(fresh_postgres_url, event_log(postgres_handoff), key, postgres_handoff.clock)
    started: list[Checkpointer] = []
    with psycopg.connect(fresh_postgres_url) as signing:  # a run_once half-way: progress row locked
        signing.execute("SELECT position FROM tree_progress FOR UPDATE")
        second = threading.Thread(
            target=lambda: started.append(
                Checkpointer(fresh_postgres_url, event_log(postgres_handoff), key, postgres_handoff.clock)
            )
        )
        second.start()
        second.join(1)
        signing.execute("INSERT INTO tree_checkpoints VALUES ('S9', 1, repeat('00', 32), 'now', 'k', 's', '')")
        signing.commit()
    second.join(10)
    assert started and checkpoints(fresh_postgres_url, ["S9"])
