"""The rebuild's performance machinery: the length of its chunks, and the cyclic garbage
collector paused while it runs (``bench/projections.py`` measures the pause against the same
rebuild without it, as ``piece_gc_pause``).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cyclic collector for the block, and resume it after if it was running. A
    rebuild allocates millions of objects (decoded events, folded states, rows) that hold no
    cycle: collecting them as they go only costs time."""
    running = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if running:
            gc.enable()


def even_chunk(events: int, chunk: int) -> int:
    """The length of the chunks a rebuild of ``events`` events takes: as few equal chunks as
    can each stay within an eighth over ``chunk``. So a log slightly longer than a chunk is one
    chunk, not a chunk and a short tail that would rewrite the rows of every project it touched
    (and commit once more) for a few events."""
    count = max(1, -(-events * 8 // (chunk * 9)))
    return max(1, -(-events // count))
