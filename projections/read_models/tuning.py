"""The read models' performance machinery: how the writer upserts its rows, the length of a
rebuild's batches and chunks, and the cyclic garbage collector paused while it runs. ``bench/projections.py``
measures each against the simple version: the upserts against sqlite-utils' ``upsert_all``
(``upsert_*`` and ``piece_upsert``), the pause against the same rebuild without it
(``piece_gc_pause``), the promotion of what the rebuild leaves alive against the collection
that would walk it (``piece_gc_promote``), and the rebuild's short batches against batches of
2,000 events (``piece_batch``).
"""

from __future__ import annotations

import gc
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any


class Upsert:
    """Insert rows into a read-model table, or update the row with their key (the first column)
    in place: one prepared ``INSERT ... ON CONFLICT DO UPDATE`` bound with ``executemany``.

    Not ``INSERT OR REPLACE``: that deletes the old row and inserts anew, which for rows of
    kilobytes (states, register entries) rebalances B-tree pages on every event; updating in
    place was the largest single cut in a command's CPU time (the server's CPU per request in
    ``bench/http.py``). Not sqlite-utils' ``upsert_all`` either: it looks the table up, opens a
    savepoint and builds its statements on every call, which a command pays for each table it
    writes (``bench/projections.py`` times both)."""

    __slots__ = ("columns", "sql", "table")

    def __init__(self, table: str, columns: Sequence[str]) -> None:
        self.table = table
        self.columns = tuple(columns)
        key, *rest = self.columns
        self.sql = (
            f"INSERT INTO {table} ({', '.join(self.columns)}) VALUES ({', '.join('?' * len(self.columns))})"
            f" ON CONFLICT ({key}) DO UPDATE SET {', '.join(f'{c} = excluded.{c}' for c in rest)}"
        )

    def __call__(self, conn: sqlite3.Connection, rows: Iterable[Sequence[Any]]) -> None:
        """Write ``rows`` (tuples in the order of :attr:`columns`, made as they are taken if
        an iterator gives them) inside the caller's transaction."""
        conn.executemany(self.sql, rows)


@contextmanager
def collector_paused(*, promote: bool = True) -> Iterator[None]:
    """Pause the cyclic collector for the block, and resume it after if it was running. A
    rebuild allocates millions of objects (decoded events, folded states, rows) that hold no
    cycle: collecting them as they go only costs time.

    With ``promote``, what the block leaves alive (the reader's cache of folded states: hundreds
    of thousands of tuples, dicts and structs) is moved to the collector's oldest generation as
    it resumes, as if it had survived the collections it skipped. Otherwise the first collection
    after the pause walks all of it, to free nothing. Only when nothing is frozen already (a
    server freezes what it holds when it starts; that is left as it is)."""
    running = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if running:
            if promote and not gc.get_freeze_count():
                gc.freeze()  # every tracked object, out of the young generations...
                gc.unfreeze()  # ...and back, into the oldest
            gc.enable()


#: The events a rebuild reads, decodes and folds per batch: few enough that a batch's decoded
#: events are still in the CPU's cache when they are folded and freed (with 2,000, most of a
#: batch has left the cache by then). ``bench/projections.py`` measures it against 2,000
#: (``piece_batch``).
REBUILD_BATCH = 250


def even_chunk(events: int, chunk: int) -> int:
    """The length of the chunks a rebuild of ``events`` events takes: as few equal chunks as
    can each stay within an eighth over ``chunk``. So a log slightly longer than a chunk is one
    chunk, not a chunk and a short tail that would rewrite the rows of every project it touched
    (and commit once more) for a few events."""
    count = max(1, -(-events * 8 // (chunk * 9)))
    return max(1, -(-events // count))
