"""The Merkle tree of the log kept in SQLite: the hashes of its complete subtrees of 16 leaves and
more, written in the transaction of the append that completes them.

A subtree of ``2**level`` leaves starting at leaf ``index * 2**level`` is complete once the log
holds its last leaf, and never changes after. Those of :data:`STORED_LEVEL` (16 leaves) and up
are rows of ``merkle_subtrees``: about one row for every eight events, none for most appends
(one event in sixteen completes a block). Smaller ones are computed from the events' hashes,
one read of at most 16 rows. So a proof at a million events is a few dozen indexed reads
(:mod:`events.merkle` names which), never a pass over the log.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence

from events.checkpoint import CheckpointError, parse_checkpoint, split_note
from events.merkle import event_leaf, node_hash, root_of_leaves

#: The smallest subtree kept as a row: 2**4 = 16 leaves.
STORED_LEVEL = 4
BLOCK = 1 << STORED_LEVEL

STATEMENTS: tuple[str, ...] = (
    """
    CREATE TABLE IF NOT EXISTS merkle_subtrees (
        level INTEGER NOT NULL,
        idx INTEGER NOT NULL,
        hash BLOB NOT NULL,
        PRIMARY KEY (level, idx)
    ) STRICT, WITHOUT ROWID
    """,
    # Signed checkpoints as they were served (on request and on each tick), so that consistency
    # between any two published ones can be shown later. The signing key is never stored here.
    """
    CREATE TABLE IF NOT EXISTS signed_checkpoints (
        id INTEGER PRIMARY KEY,
        tree_size INTEGER NOT NULL,
        key_id TEXT NOT NULL,
        signed_at TEXT NOT NULL,
        note TEXT NOT NULL
    ) STRICT
    """,
)

_INSERT = "INSERT INTO merkle_subtrees (level, idx, hash) VALUES (?, ?, ?)"
_GET = "SELECT hash FROM merkle_subtrees WHERE level = ? AND idx = ?"
_HASHES = "SELECT hash FROM events WHERE position > ? AND position <= ? ORDER BY position"


class MissingSubtree(LookupError):
    """A subtree the tree should hold is not stored (the events and the tree disagree)."""


def _leaves(conn: sqlite3.Connection, start: int, end: int) -> list[bytes]:
    """Leaf hashes of leaves ``[start, end)`` (events at positions ``start + 1`` to ``end``)."""
    hashes = [row[0] for row in conn.execute(_HASHES, (start, end))]
    if len(hashes) != end - start:
        raise MissingSubtree(f"the log holds {len(hashes)} of the events {start + 1} to {end}")
    return [event_leaf(h) for h in hashes]


class SQLiteSubtrees:
    """:class:`events.merkle.Subtrees` over one connection: stored rows, and blocks of 16 leaves
    read from the events (each block read once per instance)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self._blocks: dict[int, list[bytes]] = {}

    def subtree(self, level: int, index: int) -> bytes:
        if level >= STORED_LEVEL:
            row = self._conn.execute(_GET, (level, index)).fetchone()
            if row is None:
                raise MissingSubtree(f"no stored subtree at level {level}, index {index}")
            return bytes(row[0])
        first = index << level
        block_no = first >> STORED_LEVEL
        block = self._blocks.get(block_no)
        if block is None:
            start = block_no * BLOCK
            size = self._conn.execute("SELECT coalesce(max(position), 0) FROM events").fetchone()[0]
            block = self._blocks[block_no] = _leaves(self._conn, start, min(start + BLOCK, size))
        offset = first - block_no * BLOCK
        leaves = block[offset : offset + (1 << level)]
        if len(leaves) != 1 << level:
            raise MissingSubtree(f"the log does not hold leaf {first + (1 << level) - 1}")
        return root_of_leaves(leaves)


def grow(conn: sqlite3.Connection, size: int, new_hashes: Sequence[str]) -> None:
    """Store the subtrees that events ``size + 1 …`` (their hashes, in order) complete; call it in
    the transaction that appends them, after the insert (earlier leaves of a block are read)."""
    end = size + len(new_hashes)
    first_block, last_block = size // BLOCK, end // BLOCK
    if first_block == last_block:
        return
    start = first_block * BLOCK
    leaves = _leaves(conn, start, size) if size > start else []
    leaves += [event_leaf(h) for h in new_hashes[: last_block * BLOCK - size]]
    made: dict[tuple[int, int], bytes] = {}
    for b in range(first_block, last_block):
        offset = (b - first_block) * BLOCK
        made[(STORED_LEVEL, b)] = root_of_leaves(leaves[offset : offset + BLOCK])
    level, lo, hi = STORED_LEVEL, first_block, last_block
    while hi // 2 > lo // 2:
        for j in range(lo // 2, hi // 2):
            left = made.get((level, 2 * j))
            if left is None:
                row = conn.execute(_GET, (level, 2 * j)).fetchone()
                if row is None:
                    raise MissingSubtree(f"no stored subtree at level {level}, index {2 * j}")
                left = bytes(row[0])
            made[(level + 1, j)] = node_hash(left, made[(level, 2 * j + 1)])
        level, lo, hi = level + 1, lo // 2, hi // 2
    conn.executemany(_INSERT, [(lv, i, h) for (lv, i), h in made.items()])


def stored_size(conn: sqlite3.Connection) -> int:
    """How many leaves the stored blocks cover (a multiple of 16)."""
    row = conn.execute(
        "SELECT coalesce(max(idx) + 1, 0) FROM merkle_subtrees WHERE level = ?", (STORED_LEVEL,)
    ).fetchone()
    return int(row[0]) * BLOCK


def catch_up(conn: sqlite3.Connection, *, batch: int = 65536) -> int:
    """Store the subtrees of events the tree does not cover yet (a database written before the
    tree was kept, or loaded by hand); returns how many events were added. Call it inside a
    write transaction."""
    head = conn.execute("SELECT coalesce(max(position), 0) FROM events").fetchone()[0]
    size = stored_size(conn)
    added = 0
    while head // BLOCK > size // BLOCK:
        upto = min(head, size + batch)
        hashes = [row[0] for row in conn.execute(_HASHES, (size, upto))]
        grow(conn, size, hashes)
        added += len(hashes)
        size = upto
    return added


class TreeCheck:
    """The tree recomputed from the events' hashes as ``verify`` reads them: every complete
    subtree the table should hold is compared with its row (so no proof is served from a tree the
    events no longer give), and the root at the size of every kept signed checkpoint with the
    checkpoint's (so the log still has every head it signed)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.fault: tuple[int, str, str] | None = None
        self._size = 0
        self._stack: list[bytes] = []  # the roots of the complete subtrees so far, largest first
        self._stored = {(lv, i): bytes(h) for lv, i, h in conn.execute("SELECT level, idx, hash FROM merkle_subtrees")}
        self._kept: dict[int, list[tuple[int, bytes]]] = {}
        for kept_id, note in conn.execute("SELECT id, note FROM signed_checkpoints ORDER BY id"):
            try:
                head = parse_checkpoint(split_note(note)[0])
            except CheckpointError:
                self.fault = self.fault or _fault(
                    0,
                    f"the kept checkpoint {kept_id} is not a signed checkpoint",
                    f"所保存的检查点 {kept_id} 不是签名检查点",
                )
                continue
            self._kept.setdefault(head.size, []).append((kept_id, head.root))

    def feed(self, hashes: Iterable[str]) -> None:
        """The hashes of the next events, in position order (already verified)."""
        stack, stored, kept = self._stack, self._stored, self._kept
        for h in hashes:
            index = self._size
            stack.append(event_leaf(h))
            n, level = index, 0
            while n & 1:
                right = stack.pop()
                stack[-1] = node_hash(stack[-1], right)
                n >>= 1
                level += 1
                if level >= STORED_LEVEL and self.fault is None and stored.get((level, index >> level)) != stack[-1]:
                    first = (index >> level << level) + 1
                    self.fault = _fault(
                        first,
                        f"the stored Merkle subtree of events {first} to {index + 1} is not the one they give"
                        " (a stored subtree was changed or is missing)",
                        f"存储的事件 {first} 至 {index + 1} 的默克尔子树与事件不符（存储的子树被改动或缺失）",
                    )
            self._size = size = index + 1
            if size in kept and self.fault is None:
                root = self._root()
                for kept_id, signed in kept[size]:
                    if signed != root:
                        self.fault = _fault(
                            size,
                            f"the first {size} events no longer have the root of the signed checkpoint kept as"
                            f" {kept_id}",
                            f"前 {size} 个事件的默克尔根已不是所保存的签名检查点 {kept_id} 的根",
                        )

    def _root(self) -> bytes:
        r = self._stack[-1]
        for left in reversed(self._stack[:-1]):
            r = node_hash(left, r)
        return r

    def finish(self) -> tuple[int, str, str] | None:
        """The first fault: (position, why in English, why in Chinese), or None."""
        if self.fault is not None:
            return self.fault
        beyond = max(self._kept, default=0)
        if beyond > self._size:
            return _fault(
                self._size + 1,
                f"a signed checkpoint of {beyond} events was kept; the log ends at {self._size} (events were removed)",
                f"已保存 {beyond} 个事件的签名检查点，但日志止于 {self._size}（有事件被删除）",
            )
        return None


def _fault(position: int, en: str, zh: str) -> tuple[int, str, str]:
    return position, en, zh
