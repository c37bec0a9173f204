"""A projection that crashes part-way resumes exactly where it stopped.

The read models commit their rows with their checkpoint, one chunk of batches per transaction.
A crash inside a batch (after some of its rows were written) must leave the tables as of the
last committed chunk, and a fresh reader catching up from there must give the same tables as an
uninterrupted run, with its checkpoint at the head.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from events.model import RecordedEvent
from events.sqlite import SQLiteEventStore
from projections.read_models import READER, ReadModels
from sandbox.registry import open_store
from sandbox.synthetic import Simulation, sqlite_registry
from schemas.base import Event
from tests.fixtures.histories import fold_prefix, sqlite_history


class Crash(Exception):
    """The injected failure."""


class Log:
    """A generated log file without read models, and the tables of an uninterrupted run."""

    def __init__(self, path: Path, expected: dict[str, list[Any]], head: int) -> None:
        self.path, self.expected, self.head = path, expected, head

    def __iter__(self) -> Iterator[Any]:
        return iter((self.path, self.expected, self.head))

    def __repr__(self) -> str:
        return f"Log({self.path.name}, head={self.head})"


@pytest.fixture(scope="module")
def log_file(tmp_path_factory: pytest.TempPathFactory) -> Log:
    folder = tmp_path_factory.mktemp("crash")
    pristine, reference = folder / "log.db", folder / "reference.db"
    with sqlite_history(seed=424242, projects=12, read_models=False) as h:
        h.store.connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        shutil.copy(h.path, pristine)
    shutil.copy(pristine, reference)
    store = open_store(reference)
    try:
        rm = ReadModels(store)
        rm.catch_up()
        expected = rm.dump()
        head = store.head().position
        assert rm.position == head
    finally:
        store.close()
    return Log(pristine, expected, head)


def _copy(source: Path, tmp: Path) -> Path:
    target = tmp / "copy.db"
    shutil.copy(source, target)
    return target


def _crashing(rm: ReadModels, after_events: int, keep: int) -> None:
    """Make ``rm.apply`` write the first ``keep`` events of the batch that contains the
    ``after_events``-th event, then raise (a crash in the middle of a batch)."""
    original = rm.apply
    seen = 0

    def apply(db: Any, events: Sequence[RecordedEvent[Event]]) -> None:
        nonlocal seen
        if seen + len(events) >= after_events:
            original(db, events[: min(keep, len(events))])
            raise Crash(f"crashed after {seen + min(keep, len(events))} events")
        seen += len(events)
        original(db, events)

    rm.apply = apply  # type: ignore[method-assign]


def _consistent_with_checkpoint(store: SQLiteEventStore, rm: ReadModels) -> None:
    """Tables as of the checkpoint: every stored state is the fold up to it."""
    checkpoint = store.checkpoint(READER)
    log = list(store.iter_all(batch=5000))
    expected = fold_prefix(log, checkpoint)
    stored = {row[0] for row in rm.dump()["project_states"]}
    assert stored == set(expected)
    for pid, state in expected.items():
        assert rm.state(pid) == state, pid
    audit_positions = [row[0] for row in rm.dump()["rm_audit"]]
    assert all(p <= checkpoint for p in audit_positions)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    fraction=st.floats(0.0, 1.0),
    keep=st.integers(0, 50),
    batch=st.sampled_from([1, 7, 64, 500, 5000]),
    chunk=st.sampled_from([1, 100, 50_000]),
    restart=st.booleans(),
    cache_size=st.sampled_from([1, 3, 50_000]),
)
def test_a_crash_mid_batch_then_resuming_equals_an_uninterrupted_run(
    log_file: Log, fraction: float, keep: int, batch: int, chunk: int, restart: bool, cache_size: int
) -> None:
    source, expected, head = log_file
    with TemporaryDirectory() as tmp:
        store = open_store(_copy(source, Path(tmp)))
        try:
            rm = ReadModels(store, cache_size=cache_size)
            _crashing(rm, max(1, int(head * fraction)), keep)
            with pytest.raises(Crash):
                rm.catch_up(batch=batch, chunk=chunk)
            assert store.checkpoint(READER) < head
            _consistent_with_checkpoint(store, rm)
            if restart:  # the process restarts: a fresh reader resumes from the checkpoint
                store = open_store_again(store)
                resumed = ReadModels(store, cache_size=cache_size)
            else:  # the same reader (and its cache of states) tries again
                del rm.apply  # type: ignore[method-assign]
                resumed = rm
            resumed.catch_up(batch=batch, chunk=chunk)
            assert resumed.dump() == expected
            assert resumed.position == head == store.head().position
        finally:
            store.close()


def open_store_again(store: SQLiteEventStore) -> SQLiteEventStore:
    """The same database through the connection a restarted process would open."""
    store.close()
    return open_store(store.path)


def test_a_crash_during_rebuild_resumes_to_the_same_tables(log_file: Log, tmp_path: Path) -> None:
    source, expected, head = log_file
    store = open_store(_copy(source, tmp_path))
    rm = ReadModels(store)
    rm.catch_up()
    _crashing(rm, head // 2, 3)
    with pytest.raises(Crash):
        rm.rebuild(batch=50, chunk=50)
    assert 0 < store.checkpoint(READER) < head
    _consistent_with_checkpoint(store, rm)
    store = open_store_again(store)
    ReadModels(store).catch_up()
    assert ReadModels(store).dump() == expected
    assert store.checkpoint(READER) == head
    store.close()


_KILLER = """
import os, sys
from projections.read_models import ReadModels
from sandbox.registry import open_store

store = open_store(sys.argv[1])
rm = ReadModels(store)
original, seen, limit = rm.apply, [0], int(sys.argv[2])

def apply(db, events):
    if seen[0] + len(events) >= limit:
        original(db, events[:5])
        os._exit(9)  # the process dies in the middle of a transaction: no rollback, no close
    seen[0] += len(events)
    original(db, events)

rm.apply = apply
rm.catch_up(batch=40, chunk=80)
"""


def test_a_killed_process_leaves_the_last_committed_batch_and_resumes(log_file: Log, tmp_path: Path) -> None:
    source, expected, head = log_file
    path = _copy(source, tmp_path)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    done = subprocess.run([sys.executable, "-c", _KILLER, str(path), str(head // 3)], env=env, check=False)
    assert done.returncode == 9
    store = open_store(path)
    try:
        checkpoint = store.checkpoint(READER)
        assert 0 < checkpoint < head and checkpoint % 80 == 0
        rm = ReadModels(store)
        _consistent_with_checkpoint(store, rm)
        rm.catch_up()
        assert rm.dump() == expected
        assert store.checkpoint(READER) == head
        assert store.verify().ok
    finally:
        store.close()


def test_a_reader_whose_checkpoint_another_reader_moved_does_not_use_its_stale_states(tmp_path: Path) -> None:
    registry, clock, store = sqlite_registry(tmp_path / "two.db")
    first = registry.read_models
    assert first is not None
    second = ReadModels(store)
    sim = Simulation(registry, clock, seed=99)
    for n in range(6):
        sim.add_project("fintech-sandbox", on=dt.date(2025, 1, 6) + dt.timedelta(days=3 * n), fate="graduate")
    sim.run(until=dt.date(2025, 4, 1))
    registry.read_models = second  # another process's reader takes over for a while
    sim.run(until=dt.date(2025, 8, 1))
    registry.read_models = first
    sim.run()
    try:
        assert first.position == store.head().position
        incremental = first.dump()
        first.rebuild()
        assert first.dump() == incremental
    finally:
        store.close()
