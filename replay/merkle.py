"""RFC 6962 (Certificate Transparency) Merkle tree hashing over a school's stored events, standard library only.

Leaves are hashed from their data here (0x00 prefix), interior nodes with a 0x01 prefix, so a leaf can never be
passed off as a node. Proofs are built as RFC 6962 §2.1.1-2.1.2 describe and checked with the RFC 9162 §2.1.3.2 and
§2.1.4.2 algorithms, which need only the proof, the sizes and the roots.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from typing import Any

EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(data: bytes) -> bytes:
    """SHA-256(0x00 || data): the hash of one leaf."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 || left || right): the hash of an interior node."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def _mth(hashes: Sequence[bytes], lo: int, hi: int) -> bytes:
    """MTH of the leaves whose hashes are hashes[lo:hi] (hi > lo)."""
    if hi - lo == 1:
        return hashes[lo]
    k = _split(hi - lo)
    return node_hash(_mth(hashes, lo, lo + k), _mth(hashes, lo + k, hi))


def tree_hash(leaves: Sequence[bytes]) -> bytes:
    """The Merkle tree hash (RFC 6962 §2.1 MTH) of the leaf data, SHA-256(b"") for no leaves."""
    if not leaves:
        return EMPTY_ROOT
    hashes = [leaf_hash(data) for data in leaves]
    return _mth(hashes, 0, len(hashes))


def _path(hashes: Sequence[bytes], m: int, lo: int, hi: int) -> list[bytes]:
    """RFC 6962 PATH(m, D[lo:hi]), leaf first."""
    if hi - lo == 1:
        return []
    k = _split(hi - lo)
    if m < k:
        return _path(hashes, m, lo, lo + k) + [_mth(hashes, lo + k, hi)]
    return _path(hashes, m - k, lo + k, hi) + [_mth(hashes, lo, lo + k)]


def inclusion_proof(leaves: Sequence[bytes], index: int) -> list[bytes]:
    """The audit path (RFC 6962 §2.1.1) proving leaf `index` is in the tree of all `leaves`."""
    if not 0 <= index < len(leaves):
        raise ValueError(f"leaf index {index} is outside a tree of {len(leaves)} leaves")
    hashes = [leaf_hash(data) for data in leaves]
    return _path(hashes, index, 0, len(hashes))


def verify_inclusion(leaf_data: bytes, index: int, tree_size: int, proof: Sequence[bytes], root: bytes) -> bool:
    """True when `proof` shows `leaf_data` is leaf `index` of the tree of `tree_size` leaves with `root`."""
    if not 0 <= index < tree_size:
        return False
    fn, sn, r = index, tree_size - 1, leaf_hash(leaf_data)
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and r == root


def _subproof(mth: Callable[[int, int], bytes], m: int, lo: int, hi: int, complete: bool) -> list[bytes]:
    """RFC 6962 SUBPROOF(m, D[lo:hi], b), with `mth(lo, hi)` giving MTH(D[lo:hi])."""
    if m == hi - lo:
        return [] if complete else [mth(lo, hi)]
    k = _split(hi - lo)
    if m <= k:
        return _subproof(mth, m, lo, lo + k, complete) + [mth(lo + k, hi)]
    return _subproof(mth, m - k, lo + k, hi, False) + [mth(lo, lo + k)]


def consistency_proof(leaves: Sequence[bytes], old_size: int) -> list[bytes]:
    """The proof (RFC 6962 §2.1.2) that the first `old_size` leaves are a prefix of all `leaves`."""
    return consistency_proof_of_hashes([leaf_hash(data) for data in leaves], old_size)


def consistency_proof_of_hashes(hashes: Sequence[bytes], old_size: int) -> list[bytes]:
    """`consistency_proof` from the leaves' hashes."""
    if not 0 <= old_size <= len(hashes):
        raise ValueError(f"old size {old_size} is outside 0..{len(hashes)}")
    if old_size in (0, len(hashes)):
        return []
    return _subproof(lambda lo, hi: _mth(hashes, lo, hi), old_size, 0, len(hashes), True)


def consistency_proof_after(old: TreeBuilder, new_hashes: Sequence[bytes]) -> list[bytes]:
    """The same proof from the old tree's perfect subtrees and the hashes of the leaves appended since: every node a
    proof needs lies either wholly among the new leaves or is a run of the old tree's perfect subtrees."""
    m, n = old.size, old.size + len(new_hashes)
    if m in (0, n):
        return []
    spans, start = [], 0
    for height, h in old._stack:
        spans.append((start, start + (1 << height), h))
        start += 1 << height

    def mth(lo: int, hi: int) -> bytes:
        if lo >= m:
            return _mth(new_hashes, lo - m, hi - m)
        run = [h for a, b, h in spans if lo <= a and b <= hi]
        r = run[-1]
        for h in reversed(run[:-1]):
            r = node_hash(h, r)
        return r

    return _subproof(mth, m, 0, n, True)


def verify_consistency(old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]) -> bool:
    """True when `proof` shows the tree (old_size, old_root) is a prefix of the tree (new_size, new_root)."""
    if not 0 <= old_size <= new_size:
        return False
    if old_size in (0, new_size):
        return not proof and old_root == (EMPTY_ROOT if old_size == 0 else new_root)
    if not proof:
        return False
    return _consistency_walk(old_size, new_size, old_root, proof) == (old_root, new_root, 0)


def _consistency_walk(
    old_size: int, new_size: int, old_root: bytes, proof: Sequence[bytes]
) -> tuple[bytes | None, bytes | None, int]:
    """RFC 9162 §2.1.4.2 steps 1-5 for 0 < old_size < new_size: the (old root, new root, sn) the proof leads to."""
    path = [old_root, *proof] if old_size & (old_size - 1) == 0 else list(proof)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return None, None, sn
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return fr, sr, sn


class TreeBuilder:
    """Appends leaves one at a time, keeping only the O(log n) roots of the perfect subtrees seen so far."""

    def __init__(self) -> None:
        self._stack: list[tuple[int, bytes]] = []  # (height, hash), heights strictly decreasing
        self._size = 0

    @property
    def size(self) -> int:
        """How many leaves have been appended."""
        return self._size

    def append(self, data: bytes) -> None:
        """Add one leaf's data at the right edge of the tree."""
        self.append_hash(leaf_hash(data))

    def append_hash(self, h: bytes) -> None:
        """Add one leaf, given its hash, at the right edge of the tree."""
        height = 0
        while self._stack and self._stack[-1][0] == height:
            h = node_hash(self._stack.pop()[1], h)
            height += 1
        self._stack.append((height, h))
        self._size += 1

    def copy(self) -> TreeBuilder:
        """A builder that carries on from here independently."""
        return TreeBuilder.resume({"size": self._size, "stack": [[h, x.hex()] for h, x in self._stack]})

    def state(self) -> dict[str, object]:
        """What it takes to carry on later: the size and the perfect subtrees' roots."""
        return {"size": self._size, "stack": [[height, h.hex()] for height, h in self._stack]}

    @classmethod
    def resume(cls, state: dict[str, Any]) -> TreeBuilder:
        """A builder that carries on from `state()` (read back from JSON)."""
        builder = cls()
        builder._size = int(state["size"])
        builder._stack = [(int(height), bytes.fromhex(h)) for height, h in state["stack"]]
        return builder

    def root(self) -> bytes:
        """The tree hash of the leaves appended so far (equal to `tree_hash` over them)."""
        if not self._stack:
            return EMPTY_ROOT
        r = self._stack[-1][1]
        for _, h in reversed(self._stack[:-1]):
            r = node_hash(h, r)
        return r
