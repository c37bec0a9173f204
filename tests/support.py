"""Shared helpers for the event-store tests: small test events, a codec, a settable clock and
builders for appends. Importable from worker processes (the multi-process test spawns them)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlite_utils

from events.codec import EventCodec
from events.memory import InMemoryEventStore
from events.model import ANY, ExpectedVersion, NewEvent, StreamWrite
from events.sqlite import SQLiteEventStore
from events.store import EventStore
from schemas.base import Event, EventMetadata

#: The fixed business time of test events (tz-aware, so it is accepted).
OCCURRED_AT = datetime(2024, 5, 1, 9, 30, tzinfo=UTC)
BACKENDS = ("sqlite", "memory")


class Opened(Event, frozen=True, kw_only=True):
    """Test event: a stream was opened under a name."""

    name: str


class Noted(Event, frozen=True, kw_only=True):
    """Test event: a note with a number."""

    text: str
    n: int = 0


class Tagged(Event, frozen=True, kw_only=True):
    """Test event with nested values, for canonical-encoding properties."""

    label: str
    attrs: dict[str, int | str] = {}
    items: tuple[int | str, ...] = ()


TEST_TYPES: tuple[type[Event], ...] = (Opened, Noted, Tagged)


def make_codec() -> EventCodec:
    return EventCodec(TEST_TYPES)


class Clock:
    """A clock the test moves by hand (it may even go backwards)."""

    def __init__(self, start: datetime = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now = self.now + timedelta(**delta)
        return self.now

    def set(self, moment: datetime) -> datetime:
        self.now = moment
        return moment


def meta(**overrides: Any) -> EventMetadata:
    """Event metadata with sensible test defaults and a fixed tz-aware ``occurred_at``."""
    fields: dict[str, Any] = {"actor": "tester", "role": "officer", "occurred_at": OCCURRED_AT}
    fields.update(overrides)
    return EventMetadata(**fields)


def new(payload: Event, **metadata: Any) -> NewEvent:
    return NewEvent(payload, meta(**metadata))


def write(stream_id: str, *payloads: Event, expected: ExpectedVersion = ANY) -> StreamWrite:
    """A stream write of the given payloads with default metadata."""
    return StreamWrite(stream_id, tuple(new(p) for p in payloads), expected=expected)


def notes(*texts: str) -> tuple[Noted, ...]:
    return tuple(Noted(text=t, n=i) for i, t in enumerate(texts))


def open_sqlite(path: Path | str, **kwargs: Any) -> SQLiteEventStore:
    return SQLiteEventStore(path, make_codec(), **kwargs)


def open_store(backend: str, tmp_path: Path, **kwargs: Any) -> EventStore:
    """A fresh store of the named backend (SQLite in a real file under ``tmp_path``)."""
    if backend == "sqlite":
        return open_sqlite(tmp_path / "events.db", **kwargs)
    if backend == "memory":
        return InMemoryEventStore(make_codec(), **kwargs)
    raise ValueError(backend)


def insert_row(tx: Any, table: str, row: dict[str, Any]) -> None:
    """Write a projection row through whatever transaction handle the backend hands a handler:
    a ``sqlite_utils.Database`` (SQLite) or a dict of lists (in-memory)."""
    if isinstance(tx, sqlite_utils.Database):
        tx[table].insert(row, pk="position")
    else:
        tx.setdefault(table, []).append(dict(row))


def table_rows(store: EventStore, table: str) -> list[dict[str, Any]]:
    """The rows a handler wrote, in position order, whatever the backend."""
    if isinstance(store, SQLiteEventStore):
        if not store.db[table].exists():
            return []
        return sorted(store.db[table].rows, key=lambda r: r["position"])
    assert isinstance(store, InMemoryEventStore)
    return sorted((dict(r) for r in store.tables.get(table, [])), key=lambda r: r["position"])


def raw_connection(path: Path | str) -> sqlite3.Connection:
    """A plain sqlite3 connection, as an attacker with the file would have."""
    return sqlite3.connect(str(path), isolation_level=None)


def drop_triggers(conn: sqlite3.Connection) -> None:
    names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")]
    for name in names:
        conn.execute(f'DROP TRIGGER "{name}"')


def summary(events: Iterable[Any]) -> list[tuple[int, str, int, str, Event]]:
    """(position, stream, version, type, payload) of recorded events, for comparisons."""
    return [(e.position, e.stream_id, e.version, e.type, e.payload) for e in events]


def crash_during_catch_up(path: str, reader: str, batch: int, crash_on_call: int) -> None:
    """Child-process body: project events into table ``rows`` and die hard (``os._exit``, no
    clean-up, no rollback) in the middle of the ``crash_on_call``-th batch."""
    import os

    from events.store import catch_up

    store = open_sqlite(path, create=False)
    calls = 0

    def handler(db: Any, events: Any) -> None:
        nonlocal calls
        calls += 1
        for i, e in enumerate(events):
            db["rows"].insert({"position": e.position, "stream": e.stream_id, "version": e.version}, pk="position")
            if calls == crash_on_call and i == len(events) // 2:
                os._exit(3)

    catch_up(store, reader, handler, batch=batch)
    os._exit(0)  # pragma: no cover - the crash comes first


def concurrent_writer(path: str, worker: int, appends: int, seed: int, start: Any, results: Any) -> None:
    """Child-process body of the multi-process test.

    Appends ``appends`` commands to the worker's own stream, to shared streams, or to both at
    once, stating the version it last read (sometimes a deliberately stale one); on a conflict it
    re-reads and retries the same command id. Reports which command ids were acknowledged, with
    their positions, how many conflicts it saw, and any other error (there must be none).
    """
    import random

    from events.errors import ConflictError

    rng = random.Random(seed)
    acknowledged: dict[str, tuple[int, int]] = {}
    conflicts = 0
    errors: list[str] = []
    store = open_sqlite(path, create=False)
    start.wait()
    try:
        for i in range(appends):
            command_id = f"w{worker}-{i}"
            roll = rng.random()
            if roll < 0.4:
                streams = [f"own-{worker}"]
            elif roll < 0.8:
                streams = [f"shared-{rng.randrange(2)}"]
            else:
                streams = [f"own-{worker}", "shared-0"]
            stale = rng.random() < 0.15
            while True:
                versions = {s: store.stream_version(s) for s in streams}
                writes = []
                for s in streams:
                    expected: ExpectedVersion = versions[s]
                    if stale and versions[s] > 0:
                        expected = versions[s] - 1
                    elif rng.random() < 0.1:
                        expected = ANY
                    events = tuple(new(Noted(text=f"{command_id}/{s}", n=k)) for k in range(rng.randint(1, 3)))
                    writes.append(StreamWrite(s, events, expected=expected))
                try:
                    result = store.append(writes, command_id=command_id)
                except ConflictError:
                    conflicts += 1
                    stale = False
                    continue
                acknowledged[command_id] = (result.first_position, result.last_position)
                break
            if rng.random() < 0.05:  # a client retry of an acknowledged command
                again = store.append(writes, command_id=command_id)
                if not again.duplicate or (again.first_position, again.last_position) != acknowledged[command_id]:
                    errors.append(f"retry of {command_id} gave {again}")
    except Exception as e:  # anything but a conflict is a failure of the test
        errors.append(f"{type(e).__module__}.{type(e).__name__}: {e}")
    finally:
        store.close()
        results.put((worker, acknowledged, conflicts, errors))
