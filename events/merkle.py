"""The log as an RFC 9162 Merkle tree: hashes, proofs and their verification (pure functions).

Leaf *i* (0-based) is the event at position *i* + 1; its leaf data are the 32 bytes of that
event's ``hash``. Leaf hash = SHA-256(0x00 ‖ data), node hash = SHA-256(0x01 ‖ left ‖ right),
and a tree of *n* leaves splits at the largest power of two below *n* (RFC 9162 §2.1.1).

The proofs are computed over a :class:`Subtrees`: any source of the hashes of *complete aligned*
subtrees (2^level leaves starting at a multiple of 2^level). Every range the RFC's recursion
names is a run of such subtrees, so a proof at a million leaves needs about forty of them, never
a pass over the leaves (:mod:`events.merkletable` keeps them in SQLite).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from typing import Protocol

_sha256 = hashlib.sha256
EMPTY_ROOT = _sha256(b"").digest()


def leaf_hash(data: bytes) -> bytes:
    """RFC 9162 leaf hash of ``data`` (here: the 32 bytes of an event's hash)."""
    return _sha256(b"\x00" + data).digest()


def event_leaf(event_hash: str) -> bytes:
    """The leaf hash of the event whose ``hash`` (lowercase hex) is given."""
    return _sha256(b"\x00" + bytes.fromhex(event_hash)).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return _sha256(b"\x01" + left + right).digest()


def split(n: int) -> int:
    """The largest power of two smaller than ``n`` (``n`` ≥ 2): where a tree of ``n`` splits."""
    return 1 << ((n - 1).bit_length() - 1)


class Subtrees(Protocol):
    """Hashes of complete aligned subtrees of the log's tree."""

    def subtree(self, level: int, index: int) -> bytes:
        """The root of leaves ``[index * 2**level, (index + 1) * 2**level)``."""
        ...


def range_root(tree: Subtrees, start: int, end: int) -> bytes:
    """MTH of leaves ``[start, end)``, where ``start`` is a multiple of the power of two at
    or above ``end - start`` (true of every range the RFC's recursion names)."""
    n = end - start
    if n & (n - 1) == 0:
        level = n.bit_length() - 1
        return tree.subtree(level, start >> level)
    k = split(n)
    return node_hash(range_root(tree, start, start + k), range_root(tree, start + k, end))


def root(tree: Subtrees, size: int) -> bytes:
    """The root hash of the tree of the first ``size`` leaves (SHA-256 of nothing when empty)."""
    return EMPTY_ROOT if size == 0 else range_root(tree, 0, size)


def inclusion_proof(tree: Subtrees, index: int, size: int) -> list[bytes]:
    """PATH(index, D[0:size]) of RFC 9162 §2.1.3.1, nearest the leaf first."""
    if not 0 <= index < size:
        raise ValueError(f"leaf {index} is not in a tree of {size}")
    path: list[bytes] = []
    start, end = 0, size
    while end - start > 1:
        k = split(end - start)
        if index < start + k:
            path.append(range_root(tree, start + k, end))
            end = start + k
        else:
            path.append(range_root(tree, start, start + k))
            start += k
    path.reverse()
    return path


def consistency_proof(tree: Subtrees, old: int, new: int) -> list[bytes]:
    """PROOF(old, D[0:new]) of RFC 9162 §2.1.4.1 (empty when ``old`` is 0 or equals ``new``)."""
    if not 0 <= old <= new:
        raise ValueError(f"no consistency proof from {old} to {new}")
    if old in (0, new):
        return []
    proof: list[bytes] = []
    start, end, m, whole = 0, new, old, True
    while True:
        n = end - start
        if m == n:
            if not whole:
                proof.append(range_root(tree, start, end))
            break
        k = split(n)
        if m <= k:
            proof.append(range_root(tree, start + k, end))
            end = start + k
        else:
            proof.append(range_root(tree, start, start + k))
            start, m, whole = start + k, m - k, False
    proof.reverse()
    return proof


def verify_inclusion(leaf: bytes, index: int, size: int, proof: Sequence[bytes], root_hash: bytes) -> bool:
    """RFC 9162 §2.1.3.2: whether ``proof`` shows leaf hash ``leaf`` at ``index`` under ``root_hash``."""
    if index >= size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn & 1 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root_hash


def verify_consistency(old: int, new: int, proof: Sequence[bytes], old_root: bytes, new_root: bytes) -> bool:
    """RFC 9162 §2.1.4.2: whether ``proof`` shows the tree of ``old`` leaves (``old_root``) is a
    prefix of the tree of ``new`` leaves (``new_root``)."""
    if old > new:
        return False
    if old == new:
        return not proof and old_root == new_root
    if old == 0:
        return not proof
    if not proof:
        return False
    path = list(proof)
    if old & (old - 1) == 0:  # a power of two: the old root is the first node
        path.insert(0, old_root)
    fn, sn = old - 1, new - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn & 1 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == old_root and sr == new_root and sn == 0


class Accumulator:
    """The root of a tree whose leaves arrive one at a time, in O(log n) memory: the roots of
    its complete subtrees, largest first (what :func:`root` gives for the same leaves)."""

    def __init__(self) -> None:
        self.size = 0
        self._stack: list[bytes] = []

    def add(self, leaf: bytes) -> None:
        stack = self._stack
        stack.append(leaf)
        n = self.size
        while n & 1:
            right = stack.pop()
            stack[-1] = node_hash(stack[-1], right)
            n >>= 1
        self.size += 1

    def extend(self, leaves: Iterable[bytes]) -> None:
        for leaf in leaves:
            self.add(leaf)

    def root(self) -> bytes:
        if not self._stack:
            return EMPTY_ROOT
        r = self._stack[-1]
        for left in reversed(self._stack[:-1]):
            r = node_hash(left, r)
        return r


def root_of_leaves(leaves: Sequence[bytes]) -> bytes:
    """MTH of a list of leaf hashes (all of them in memory)."""
    acc = Accumulator()
    acc.extend(leaves)
    return acc.root()
