"""Four processes append concurrently to one SQLite file (atomic appends, positions, idempotency, hash chain).

Afterwards no acknowledged event is lost or duplicated, positions have no gaps, every conflict
surfaced as :class:`ConflictError` (never "database is locked"), and the chain verifies.
"""

from __future__ import annotations

import multiprocessing
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.stores import concurrent_writer, notes, open_sqlite, write

WORKERS = 4
APPENDS = 150

pytestmark = pytest.mark.slow


def test_four_processes_append_without_loss_duplication_or_lock_errors(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    store = open_sqlite(path)  # create the file and schema once, as `init` would
    store.append([write("shared-0", *notes("seed"))], command_id="seed")
    store.close()

    ctx = multiprocessing.get_context("spawn")
    start = ctx.Barrier(WORKERS)
    results: Any = ctx.Queue()
    procs = [
        ctx.Process(target=concurrent_writer, args=(str(path), w, APPENDS, 1000 + w, start, results))
        for w in range(WORKERS)
    ]
    for p in procs:
        p.start()
    reports = [results.get(timeout=300) for _ in procs]
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0

    errors = [e for _, _, _, errs in reports for e in errs]
    assert errors == []  # in particular no "database is locked"
    acknowledged: dict[str, tuple[int, int]] = {"seed": (1, 1)}
    for _, acks, _, _ in reports:
        acknowledged.update(acks)
    assert len(acknowledged) == 1 + WORKERS * APPENDS
    assert sum(c for _, _, c, _ in reports) > 0  # stale expectations did conflict

    store = open_sqlite(path, create=False)
    try:
        events = list(store.iter_all(batch=2000))
        positions = [e.position for e in events]
        assert positions == list(range(1, len(events) + 1))
        by_command: dict[str, list[int]] = {}
        for e in events:
            by_command.setdefault(e.metadata.command_id, []).append(e.position)
        # every event belongs to an acknowledged command, and each acknowledged command's events
        # are in the log exactly once, at the positions it was told
        assert set(by_command) == set(acknowledged)
        for command_id, (first, last) in acknowledged.items():
            assert by_command[command_id] == list(range(first, last + 1)), command_id
        assert Counter(e.event_id for e in events).most_common(1)[0][1] == 1
        for stream in {e.stream_id for e in events}:
            versions = [e.version for e in store.read_stream(stream)]
            assert versions == list(range(1, len(versions) + 1))
        report = store.verify()
        assert report.ok, report.line()
        assert report.count == len(events)
    finally:
        store.close()
