"""The Merkle tree's roots and proofs against RFC 9162 §2.1, checked by an implementation written
here from the RFC's recursive definitions (MTH, PATH, PROOF) and a recursive verifier of its own,
not by the code under test: every tree size up to 70 and every leaf, every pair of sizes, the
tree kept in SQLite by the appends alike, and larger sizes by hypothesis."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from events import merkle
from events.merkletable import SQLiteSubtrees, catch_up, stored_size
from events.sqlite import SQLiteEventStore
from tests.fixtures.merkle_reference import H, mth, path, root_from_inclusion, roots_from_consistency, subproof
from tests.fixtures.stores import drop_triggers, notes, open_sqlite, write


class ListTree:
    """Complete subtrees computed from a list of leaf data (the code under test's interface)."""

    def __init__(self, data: list[bytes]) -> None:
        self.data = data

    def subtree(self, level: int, index: int) -> bytes:
        return mth(self.data[index << level : (index + 1) << level])


def leaf_data(n: int) -> list[bytes]:
    return [H(i.to_bytes(4, "big")) for i in range(n)]


DATA = leaf_data(70)


def check_inclusion(tree: merkle.Subtrees, d: list[bytes], size: int, index: int) -> None:
    proof = merkle.inclusion_proof(tree, index, size)
    root = mth(d[:size])
    assert proof == path(index, d[:size])
    assert root_from_inclusion(index, size, H(b"\x00" + d[index]), proof) == root
    assert merkle.verify_inclusion(H(b"\x00" + d[index]), index, size, proof, root)


def check_consistency(tree: merkle.Subtrees, d: list[bytes], m: int, n: int) -> None:
    proof = merkle.consistency_proof(tree, m, n)
    assert proof == ([] if m == 0 else subproof(m, d[:n], True))
    if m > 0:
        assert roots_from_consistency(m, n, proof, mth(d[:m])) == (mth(d[:m]), mth(d[:n]))
        if m < n:
            assert merkle.verify_consistency(m, n, proof, mth(d[:m]), mth(d[:n]))


@pytest.mark.parametrize("size", range(1, 71))
def test_every_inclusion_and_consistency_proof_up_to_70_leaves(size: int) -> None:
    tree = ListTree(DATA)
    assert merkle.root(tree, size) == mth(DATA[:size])
    for index in range(size):
        check_inclusion(tree, DATA, size, index)
    for m in range(size + 1):
        check_consistency(tree, DATA, m, size)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SQLiteEventStore]:
    """70 events in appends of one, two and three events: the tree kept by the appends."""
    s = open_sqlite(tmp_path_factory.mktemp("merkle") / "tree.db", synchronous="OFF")
    n = 0
    while n < 70:
        count = min(1 + n % 3, 70 - n)
        s.append([write(f"s{n % 4}", *notes(*map(str, range(count))))], command_id=f"c{n}")
        n += count
    yield s
    s.close()


def event_data(store: SQLiteEventStore) -> list[bytes]:
    return [bytes.fromhex(e.hash) for e in store.iter_stored()]


def test_the_tree_kept_by_the_appends_gives_the_rfc_proofs(store: SQLiteEventStore) -> None:
    d = event_data(store)
    assert len(d) == 70 and stored_size(store.connection) == 64
    tree = SQLiteSubtrees(store.connection)
    for size in range(1, 71):
        assert merkle.root(tree, size) == mth(d[:size])
        for index in range(size):
            check_inclusion(tree, d, size, index)
        for m in range(size + 1):
            check_consistency(tree, d, m, size)


def test_a_database_without_the_tree_gets_it_when_opened(store: SQLiteEventStore, tmp_path: Path) -> None:
    """A log written before the tree was kept: the subtrees are computed once, when it opens."""
    copy = tmp_path / "older.db"
    store.connection.execute("VACUUM INTO ?", (str(copy),))
    older = open_sqlite(copy)
    drop_triggers(older.connection)  # a file from before the tree: no rows, no guard on them
    older.connection.execute("DELETE FROM merkle_subtrees")
    older.close()
    reopened = open_sqlite(copy)
    try:
        assert stored_size(reopened.connection) == 64
        with reopened.transaction():
            assert catch_up(reopened.connection) == 0
        assert merkle.root(SQLiteSubtrees(reopened.connection), 70) == mth(event_data(store))
    finally:
        reopened.close()


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_proofs_over_larger_trees(data: st.DataObject) -> None:
    size = data.draw(st.integers(71, 3000), label="size")
    d = LARGE[:size]
    tree = ListTree(d)
    index = data.draw(st.integers(0, size - 1), label="index")
    m = data.draw(st.integers(0, size), label="old size")
    check_inclusion(tree, d, size, index)
    check_consistency(tree, d, m, size)
    # a proof for another leaf, size or root is refused
    proof = merkle.inclusion_proof(tree, index, size)
    other = (index + 1) % size
    if other != index:
        assert not merkle.verify_inclusion(H(b"\x00" + d[other]), index, size, proof, mth(d))


LARGE = leaf_data(3000)
