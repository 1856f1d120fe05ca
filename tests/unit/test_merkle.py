"""The per-school hash tree (RFC 6962), its signed checkpoints, and the standalone bundle verifier."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import stat
import subprocess
import sys
from dataclasses import asdict, replace
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from replay import verify_bundle_standalone as standalone
from replay.checkpoints import (
    Checkpoint,
    checkpoint_message,
    key_id,
    load_or_create_signing_key,
    public_key_pem,
    raw_public_key,
    sign_checkpoint,
    verify_checkpoint,
)
from replay.cosignatures import cosign
from replay.merkle import (
    EMPTY_ROOT,
    TreeBuilder,
    consistency_proof,
    consistency_proof_after,
    inclusion_proof,
    leaf_hash,
    tree_hash,
    verify_consistency,
    verify_inclusion,
)
from replay.notes import sign_note
from tests.witness_support import VKEY, WITNESS_KEY, WITNESS_NAME

VERIFIER = Path(__file__).resolve().parents[2] / "replay" / "verify_bundle_standalone.py"

# The certificate-transparency reference test vectors (merkle_tree_test.cc).
LEAVES = [
    bytes.fromhex(h)
    for h in ["", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"]
]
ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
# Reference audit paths and consistency proofs over the same leaves.
INCLUSION_VECTORS = [
    (0, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (5, 8, ["bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (1, 5, ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
]  # fmt: skip
CONSISTENCY_VECTORS = [
    (1, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (6, 8, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 5, ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
]  # fmt: skip

leaf_lists = st.lists(st.binary(max_size=12), max_size=40)
distinct_leaf_lists = st.lists(st.binary(max_size=12), min_size=1, max_size=40, unique=True)


def flipped(value: bytes) -> bytes:
    return bytes([value[0] ^ 1]) + value[1:]


# ---- RFC 6962 reference vectors


@pytest.mark.parametrize("size", range(1, 9))
def test_tree_hash_matches_the_reference_roots(size: int) -> None:
    assert tree_hash(LEAVES[:size]).hex() == ROOTS[size - 1]


def test_the_empty_tree_hashes_to_the_hash_of_nothing() -> None:
    assert tree_hash([]) == TreeBuilder().root() == EMPTY_ROOT
    assert EMPTY_ROOT.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def test_tree_builder_matches_the_reference_roots() -> None:
    builder = TreeBuilder()
    for size, data in enumerate(LEAVES, 1):
        builder.append(data)
        assert (builder.size, builder.root().hex()) == (size, ROOTS[size - 1])


@pytest.mark.parametrize(("index", "size", "path"), INCLUSION_VECTORS)
def test_inclusion_proofs_match_the_reference_paths(index: int, size: int, path: list[str]) -> None:
    proof = inclusion_proof(LEAVES[:size], index)
    assert [p.hex() for p in proof] == path
    assert verify_inclusion(LEAVES[index], index, size, proof, bytes.fromhex(ROOTS[size - 1]))


@pytest.mark.parametrize(("old", "new", "path"), CONSISTENCY_VECTORS)
def test_consistency_proofs_match_the_reference_proofs(old: int, new: int, path: list[str]) -> None:
    proof = consistency_proof(LEAVES[:new], old)
    assert [p.hex() for p in proof] == path
    assert verify_consistency(old, new, bytes.fromhex(ROOTS[old - 1]), bytes.fromhex(ROOTS[new - 1]), proof)


def test_a_leaf_cannot_pass_for_a_node() -> None:
    left, right = leaf_hash(b"a"), leaf_hash(b"b")
    assert tree_hash([left + right]) != tree_hash([b"a", b"b"])


def test_proofs_for_positions_outside_the_tree_are_refused() -> None:
    with pytest.raises(ValueError):
        inclusion_proof(LEAVES[:3], 3)
    with pytest.raises(ValueError):
        consistency_proof(LEAVES[:3], 4)


# ---- properties


@given(leaf_lists)
def test_tree_builder_root_equals_tree_hash_at_every_size(leaves: list[bytes]) -> None:
    builder = TreeBuilder()
    assert builder.root() == tree_hash([])
    for size, data in enumerate(leaves, 1):
        builder.append(data)
        assert builder.size == size
        assert builder.root() == tree_hash(leaves[:size])


@given(distinct_leaf_lists, st.data())
def test_every_inclusion_proof_verifies_and_nothing_else_does(leaves: list[bytes], data: st.DataObject) -> None:
    size, root = len(leaves), tree_hash(leaves)
    index = data.draw(st.integers(0, size - 1), label="index")
    proof = inclusion_proof(leaves, index)
    assert verify_inclusion(leaves[index], index, size, proof, root)
    assert not verify_inclusion(leaves[index] + b"!", index, size, proof, root)
    assert not verify_inclusion(leaves[index], index, size, proof, flipped(root))
    other = data.draw(st.integers(-1, size).filter(lambda i: i != index), label="other index")
    assert not verify_inclusion(leaves[index], other, size, proof, root)
    if proof:
        assert not verify_inclusion(leaves[index], index, size, proof[:-1], root)
        assert not verify_inclusion(leaves[index], index, size, [*proof, root], root)


@given(leaf_lists, st.data())
def test_every_consistency_proof_verifies_and_fails_for_a_wrong_old_root(
    leaves: list[bytes], data: st.DataObject
) -> None:
    new_size = len(leaves)
    old_size = data.draw(st.integers(0, new_size), label="old size")
    old_root, new_root = tree_hash(leaves[:old_size]), tree_hash(leaves)
    proof = consistency_proof(leaves, old_size)
    assert verify_consistency(old_size, new_size, old_root, new_root, proof)
    assert not verify_consistency(old_size, new_size, flipped(old_root), new_root, proof)
    assume(0 < old_size < new_size)  # the empty tree is a prefix of every tree, whatever its root
    assert not verify_consistency(old_size, new_size, old_root, flipped(new_root), proof)
    assert not verify_consistency(new_size, old_size, new_root, old_root, proof)


@given(leaf_lists, st.data())
def test_the_standalone_consistency_check_agrees_with_the_library(leaves: list[bytes], data: st.DataObject) -> None:
    new_size = len(leaves)
    old_size = data.draw(st.integers(0, new_size), label="old size")
    old_root, new_root = tree_hash(leaves[:old_size]), tree_hash(leaves)
    proof = consistency_proof(leaves, old_size)
    for candidate in (old_root, flipped(old_root)):
        expected = verify_consistency(old_size, new_size, candidate, new_root, proof)
        assert standalone.consistency_ok(old_size, new_size, candidate, new_root, proof) is expected


# ---- checkpoints


@pytest.fixture
def signing_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def test_the_checkpoint_message_is_the_documented_text() -> None:
    message = checkpoint_message("school-1", 8, ROOTS[7], "2025-09-01T17:30:00+08:00")
    assert message == f"handoff-checkpoint v1\nschool-1\n8\n{ROOTS[7]}\n2025-09-01T17:30:00+08:00\n".encode()
    with pytest.raises(ValueError):
        checkpoint_message("school\n1", 8, ROOTS[7], "2025-09-01T17:30:00+08:00")


def test_a_signed_checkpoint_verifies(signing_key: Ed25519PrivateKey) -> None:
    checkpoint = sign_checkpoint(signing_key, "school-1", 8, bytes.fromhex(ROOTS[7]), "2025-09-01T17:30:00+08:00")
    public = raw_public_key(signing_key)
    assert checkpoint.root_hex == ROOTS[7]
    assert checkpoint.key_id == key_id(public) and len(checkpoint.key_id) == 16
    assert verify_checkpoint(public, checkpoint)


@pytest.mark.parametrize(
    "change",
    [
        {"school_id": "school-2"},
        {"tree_size": 7},
        {"root_hex": ROOTS[6]},
        {"made_at": "2025-09-01T17:31:00+08:00"},
        {"signature_hex": "00" * 64},
        {"signature_hex": "not hex"},
        {"key_id": "0123456789abcdef"},
    ],
)
def test_a_tampered_checkpoint_fails(signing_key: Ed25519PrivateKey, change: dict[str, object]) -> None:
    checkpoint = sign_checkpoint(signing_key, "school-1", 8, bytes.fromhex(ROOTS[7]), "2025-09-01T17:30:00+08:00")
    assert not verify_checkpoint(raw_public_key(signing_key), replace(checkpoint, **change))


def test_a_checkpoint_fails_under_another_key(signing_key: Ed25519PrivateKey) -> None:
    checkpoint = sign_checkpoint(signing_key, "school-1", 8, bytes.fromhex(ROOTS[7]), "2025-09-01T17:30:00+08:00")
    assert not verify_checkpoint(raw_public_key(Ed25519PrivateKey.generate()), checkpoint)


def test_the_signing_key_is_created_once_readable_by_its_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "checkpoint.pem"
    created = load_or_create_signing_key(path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert raw_public_key(load_or_create_signing_key(path)) == raw_public_key(created)


# ---- the standalone verifier

RFC8032_TEST_1 = {  # RFC 8032 §7.1, TEST 1: the empty message
    "public": "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
    "signature": "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
    "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
}


def test_the_standard_library_ed25519_passes_the_rfc_8032_vector() -> None:
    public, signature = (bytes.fromhex(RFC8032_TEST_1[name]) for name in ("public", "signature"))
    assert standalone.ed25519_ok(public, b"", signature)
    assert not standalone.ed25519_ok(public, b"\x00", signature)
    assert not standalone.ed25519_ok(public, b"", signature[:63] + bytes([signature[63] ^ 1]))


@settings(max_examples=15, deadline=None)
@given(st.binary(max_size=200), st.integers(0, 511))
def test_the_standard_library_ed25519_agrees_with_cryptography(message: bytes, bit: int) -> None:
    key = Ed25519PrivateKey.generate()
    public, signature = raw_public_key(key), key.sign(message)
    assert standalone.ed25519_ok(public, message, signature)
    flipped = bytearray(signature)
    flipped[bit // 8] ^= 1 << (bit % 8)
    assert not standalone.ed25519_ok(public, message, bytes(flipped))
    assert not standalone.ed25519_ok(raw_public_key(Ed25519PrivateKey.generate()), message, signature)


@pytest.mark.parametrize("n", [1, 2, 3, 7, 8, 9, 16, 33, 64])
def test_a_consistency_proof_from_the_trees_carried_forward_is_the_full_one(n: int) -> None:
    """The checkpointer proves consistency to the witness from the old tree's perfect subtrees and the new leaves."""
    leaves = [f"leaf {i}".encode() for i in range(n)]
    for m in range(n + 1):
        old = TreeBuilder()
        for leaf in leaves[:m]:
            old.append(leaf)
        assert consistency_proof_after(old, [leaf_hash(x) for x in leaves[m:]]) == consistency_proof(leaves, m)


def test_the_fingerprint_is_forty_digits_in_groups_of_five(signing_key: Ed25519PrivateKey) -> None:
    shown = standalone.fingerprint(raw_public_key(signing_key))
    assert [len(group) for group in shown.split(" ")] == [5] * 8 and shown.replace(" ", "").isdigit()
    assert standalone.pin(shown.replace(" ", "-")) == shown.replace(" ", "")
    assert standalone.pin(base64.b64encode(raw_public_key(signing_key)).decode()) == raw_public_key(signing_key)


def leaf_text(school: str, i: int, note: str = "") -> str:
    """A leaf of the documented form (replay/leaves.py) whose readable copy is `readable(school, i)`."""
    plain = {"timestamp": {"_type_": "datetime_iso", "_data_": "2025-09-01T17:00:00+08:00"}, "note": f"{i}{note}"}
    leaf = {"committed": {}, "plain": plain, "stream": "00" * 32, "topic": f"events.{school}:Noted", "version": i}
    return json.dumps(leaf, sort_keys=True, separators=(",", ":"))


def readable(school: str, i: int) -> dict[str, str]:
    return {"type": "Noted", "server_time": "2025-09-01T17:00:00+08:00", "note": str(i)}


def write_bundle(folder: Path, key: Ed25519PrivateKey) -> dict[str, list[bytes]]:
    """A bundle of two schools with interleaved events, three checkpoints, one proof of each kind, a statement."""
    logs = {school: [leaf_text(school, i).encode() for i in range(n)] for school, n in (("A", 5), ("B", 3))}
    lines = [
        {"school_id": s, "index": i, "leaf": logs[s][i].decode(), "event": readable(s, i)}
        for i in range(5)
        for s in logs
        if i < len(logs[s])
    ]
    made_at = "2025-09-01T17:30:00+08:00"
    heads = [("A", 3), ("A", 5), ("B", 3)]
    checkpoints = [sign_checkpoint(key, s, n, tree_hash(logs[s][:n]), made_at) for s, n in heads]
    cosigned = [c.note + cosign(WITNESS_KEY, WITNESS_NAME, c.note, 1_764_748_800) for c in checkpoints]
    checkpoints = [replace(c, note=note) for c, note in zip(checkpoints, cosigned, strict=True)]
    a_root = tree_hash(logs["A"]).hex()
    proofs = {
        "inclusion": [
            {"school_id": "A", "index": 2, "leaf": logs["A"][2].decode(), "tree_size": 5, "root_hex": a_root,
             "proof": [p.hex() for p in inclusion_proof(logs["A"], 2)]},
        ],
        "consistency": [
            {"school_id": "A", "old_size": 3, "old_root_hex": tree_hash(logs["A"][:3]).hex(), "new_size": 5,
             "new_root_hex": a_root, "proof": [p.hex() for p in consistency_proof(logs["A"], 3)]},
        ],
    }  # fmt: skip
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "events.jsonl").write_text("".join(json.dumps(line, sort_keys=True) + "\n" for line in lines))
    (folder / "checkpoints.json").write_text(json.dumps([asdict(c) for c in checkpoints], indent=2))
    (folder / "public_key.pem").write_bytes(public_key_pem(key))
    (folder / "proofs.json").write_text(json.dumps(proofs, indent=2))
    sign_statement(folder, key, {s: tree_hash(leaves) for s, leaves in logs.items()})
    return logs


def sign_statement(folder: Path, key: Ed25519PrivateKey, heads: dict[str, bytes]) -> None:
    sizes = {"A": 5, "B": 3}
    lines = ["handoff-export v3", "made 2025-09-01T18:00:00+08:00", "days 2025-09-01 2025-09-01", "pseudonymised yes"]
    lines += [f"head {s} {sizes[s]} {base64.b64encode(root).decode()}" for s, root in sorted(heads.items())]
    files = sorted(p for p in folder.iterdir() if p.name != "statement.txt")
    lines += [f"file {p.name} {hashlib.sha256(p.read_bytes()).hexdigest()}" for p in files]
    (folder / "statement.txt").write_text(sign_note(key, "\n".join(lines) + "\n"))


def run_verifier(bundle: Path, *keys: str) -> subprocess.CompletedProcess[str]:
    pins = [arg for key in keys for arg in ("--key", key)]
    command = [sys.executable, "-I", str(VERIFIER), str(bundle), *pins, "--witness-key", VKEY]
    return subprocess.run(command, capture_output=True, text=True, timeout=60)


@pytest.fixture
def bundle(tmp_path: Path, signing_key: Ed25519PrivateKey) -> Path:
    write_bundle(tmp_path / "bundle", signing_key)
    return tmp_path / "bundle"


@pytest.fixture
def pinned(signing_key: Ed25519PrivateKey) -> str:
    return standalone.fingerprint(raw_public_key(signing_key))


def test_the_standalone_verifier_uses_only_the_standard_library() -> None:
    imported = {line.split()[1] for line in VERIFIER.read_text().splitlines() if line.startswith(("import ", "from "))}
    assert {name.split(".")[0] for name in imported} <= sys.stdlib_module_names


def test_a_good_bundle_verifies_against_its_pinned_key_only(bundle: Path, pinned: str) -> None:
    result = run_verifier(bundle, pinned)
    assert result.returncode == 0, result.stdout + result.stderr
    report = result.stdout
    assert "school A: checkpoint of 5 events (2025-09-01T17:30:00+08:00): ok" in report
    assert "school B: 3 events reach the head of 3 signed at export: ok" in report
    assert "school A: inclusion proof of event 2 in the tree of 5: ok" in report
    assert "consistency proof from the tree of 3" in report and "to 5: ok" in report
    assert "VERIFIED: every file, tree, proof and signature checks out." in report
    unpinned = run_verifier(bundle)
    assert unpinned.returncode == 1 and "no expected key was given" in unpinned.stdout
    other = standalone.fingerprint(raw_public_key(Ed25519PrivateKey.generate()))
    assert "is NOT the key expected" in run_verifier(bundle, other).stdout


def test_a_tampered_event_line_is_reported_against_its_school(
    bundle: Path, pinned: str, signing_key: Ed25519PrivateKey
) -> None:
    lines = (bundle / "events.jsonl").read_text().splitlines()
    index = next(i for i, line in enumerate(lines) if json.loads(line)["school_id"] == "B")
    event = json.loads(lines[index])
    event["leaf"], event["event"]["note"] = leaf_text("B", 0, ", changed"), "0, changed"
    lines[index] = json.dumps(event, sort_keys=True)
    (bundle / "events.jsonl").write_text("\n".join(lines) + "\n")
    result = run_verifier(bundle, pinned)
    assert result.returncode == 1 and "events.jsonl is the file signed: was CHANGED after the export" in result.stdout
    original = {school: [leaf_text(school, i).encode() for i in range(n)] for school, n in (("A", 5), ("B", 3))}
    sign_statement(bundle, signing_key, {school: tree_hash(leaves) for school, leaves in original.items()})
    result = run_verifier(bundle, pinned)  # even re-signed by the right key, the trees do not match the checkpoints
    assert result.returncode == 1
    assert "school B: checkpoint of 3 events (2025-09-01T17:30:00+08:00): does NOT verify" in result.stdout
    assert "school A: checkpoint of 5 events (2025-09-01T17:30:00+08:00): ok" in result.stdout


def test_a_wrong_proof_fails(bundle: Path, pinned: str) -> None:
    proofs = json.loads((bundle / "proofs.json").read_text())
    proofs["inclusion"][0]["index"] = 3
    proofs["consistency"][0]["old_root_hex"] = ROOTS[2]
    (bundle / "proofs.json").write_text(json.dumps(proofs))
    result = run_verifier(bundle, pinned)
    assert result.returncode == 1
    assert "inclusion proof of event 3 in the tree of 5: is WRONG" in result.stdout
    assert "to 5: is WRONG" in result.stdout


def test_an_unreadable_bundle_fails_in_plain_words(tmp_path: Path, pinned: str) -> None:
    result = run_verifier(tmp_path, pinned)
    assert result.returncode == 1
    assert "the bundle cannot be read" in result.stdout
    assert "Traceback" not in result.stderr


def test_the_checkpoint_dataclass_round_trips_through_the_bundle_json(signing_key: Ed25519PrivateKey) -> None:
    checkpoint = sign_checkpoint(signing_key, "A", 0, EMPTY_ROOT, "2025-09-01T17:30:00+08:00")
    assert Checkpoint(**json.loads(json.dumps(asdict(checkpoint)))) == checkpoint
    assert verify_checkpoint(raw_public_key(signing_key), checkpoint)
