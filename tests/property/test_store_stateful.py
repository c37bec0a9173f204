"""The store against a plain in-memory model, under random appends (hypothesis stateful).

Appends use right and wrong expected versions, new and repeated command ids, and one or several
streams; after every step every read is checked against the model, and ``verify`` must pass.
The SQLite machine also closes and reopens its file now and then (a restart).
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from events.errors import ConflictError
from events.memory import InMemoryEventStore
from events.model import ANY, NO_STREAM, ExpectedVersion, StreamWrite
from events.sqlite import SQLiteEventStore
from events.store import EventStore
from schemas.base import Event
from tests.fixtures.stores import Noted, Opened, make_codec, new, open_sqlite

STREAMS = ("a", "b", "c", "d")
payloads = st.one_of(
    st.builds(Noted, text=st.text(max_size=8), n=st.integers(-(2**63), 2**63 - 1)),
    st.builds(Opened, name=st.sampled_from(["x", "项目", "z"])),
)
# how the writer states its expectation: right / wrong (by an offset) / any / no_stream
expectations = st.one_of(
    st.just(("right", 0)),
    st.tuples(st.just("wrong"), st.sampled_from([-2, -1, 1, 3])),
    st.just(("any", 0)),
    st.just(("no_stream", 0)),
)
stream_writes = st.lists(
    st.tuples(st.sampled_from(STREAMS), st.lists(payloads, max_size=3), expectations),
    min_size=1,
    max_size=3,
    unique_by=lambda w: w[0],
)


@dataclass
class Model:
    """What the log must contain: (stream, version, payload) in position order."""

    log: list[tuple[str, int, Event]] = field(default_factory=list)
    commands: dict[str, tuple[int, int, dict[str, int]]] = field(default_factory=dict)

    def version(self, stream: str) -> int:
        return sum(1 for s, _, _ in self.log if s == stream)


class StoreMachine(RuleBasedStateMachine):
    backend = "memory"

    def __init__(self) -> None:
        super().__init__()
        self.model = Model()
        self.dir: Path | None = None
        self.store: EventStore = InMemoryEventStore(make_codec())
        self.counter = 0

    @initialize()
    def open(self) -> None:
        if self.backend == "sqlite":
            self.dir = Path(tempfile.mkdtemp(prefix="stateful-"))
            self.store = open_sqlite(self.dir / "events.db", synchronous="OFF")

    def teardown(self) -> None:
        self.store.close()
        if self.dir is not None:
            shutil.rmtree(self.dir, ignore_errors=True)

    def expected_value(self, stream: str, how: tuple[str, int]) -> ExpectedVersion:
        actual = self.model.version(stream)
        kind, offset = how
        if kind == "right":
            return actual
        if kind == "any":
            return ANY
        if kind == "no_stream":
            return NO_STREAM
        return actual + offset if actual + offset >= 0 else actual + 1

    @rule(spec=stream_writes, reuse=st.booleans(), pick=st.integers(0, 10_000))
    def append(self, spec: list[tuple[str, list[Event], tuple[str, int]]], reuse: bool, pick: int) -> None:
        if reuse and self.model.commands:
            command_id = sorted(self.model.commands)[pick % len(self.model.commands)]
        else:
            self.counter += 1
            command_id = f"cmd-{self.counter}"
        writes = [
            StreamWrite(stream, tuple(new(p) for p in events), expected=self.expected_value(stream, how))
            for stream, events, how in spec
        ]
        if command_id in self.model.commands:
            first, last, versions = self.model.commands[command_id]
            result = self.store.append(writes, command_id=command_id)
            assert result.duplicate
            assert (result.first_position, result.last_position) == (first, last)
            assert result.versions == versions
            return
        conflict = None
        for w in writes:
            actual = self.model.version(w.stream_id)
            want = 0 if w.expected == NO_STREAM else w.expected
            if w.expected != ANY and want != actual:
                conflict = (w.stream_id, actual)
                break
        if conflict is not None:
            try:
                self.store.append(writes, command_id=command_id)
            except ConflictError as e:
                assert (e.stream_id, e.actual) == conflict
            else:  # pragma: no cover - a failure
                raise AssertionError(f"expected a conflict on {conflict}")
            assert self.store.command_result(command_id) is None
            return
        result = self.store.append(writes, command_id=command_id)
        first = len(self.model.log) + 1
        for w in writes:
            for e in w.events:
                self.model.log.append((w.stream_id, self.model.version(w.stream_id) + 1, e.payload))
        last = len(self.model.log)
        if last < first:
            first = last = 0
        versions = {w.stream_id: self.model.version(w.stream_id) for w in writes if w.events}
        assert not result.duplicate
        assert (result.first_position, result.last_position) == (first, last)
        assert result.versions == versions
        if last:  # an append that writes nothing changes nothing: repeating it checks again
            self.model.commands[command_id] = (first, last, versions)
        else:
            assert self.store.command_result(command_id) is None

    @precondition(lambda self: self.backend == "sqlite")
    @rule()
    def restart(self) -> None:
        assert isinstance(self.store, SQLiteEventStore)
        path = self.store.path
        self.store.close()
        self.store = open_sqlite(path, create=False, synchronous="OFF")

    @rule(stream=st.sampled_from(STREAMS), lo=st.integers(1, 8), span=st.integers(0, 8))
    def read_a_stream_slice(self, stream: str, lo: int, span: int) -> None:
        got = self.store.read_stream(stream, from_version=lo, to_version=lo + span)
        want = [(v, p) for s, v, p in self.model.log if s == stream and lo <= v <= lo + span]
        assert [(e.version, e.payload) for e in got] == want

    @rule(stream=st.sampled_from(STREAMS), cut=st.integers(0, 40))
    def read_a_stream_as_of(self, stream: str, cut: int) -> None:
        got = self.store.read_stream(stream, as_of_position=cut)
        want = [(v, p) for i, (s, v, p) in enumerate(self.model.log, 1) if s == stream and i <= cut]
        assert [(e.version, e.payload) for e in got] == want

    @rule(after=st.integers(0, 40), limit=st.integers(1, 7), only_opened=st.booleans())
    def read_after(self, after: int, limit: int, only_opened: bool) -> None:
        types = ["Opened"] if only_opened else None
        got = self.store.read_after(after, limit=limit, types=types)
        want = [
            (i, s, v, p)
            for i, (s, v, p) in enumerate(self.model.log, 1)
            if i > after and (types is None or p.event_type in types)
        ][:limit]
        assert [(e.position, e.stream_id, e.version, e.payload) for e in got] == want

    @invariant()
    def every_read_matches_the_model(self) -> None:
        log = self.model.log
        events = list(self.store.iter_all(batch=4))
        assert [(e.position, e.stream_id, e.version, e.payload) for e in events] == [
            (i, s, v, p) for i, (s, v, p) in enumerate(log, 1)
        ]
        head = self.store.head()
        assert head.position == len(log)
        assert head.hash == (events[-1].hash if events else "0" * 64)
        for stream in STREAMS:
            assert self.store.stream_version(stream) == self.model.version(stream)
            assert [(e.version, e.payload) for e in self.store.read_stream(stream)] == [
                (v, p) for s, v, p in log if s == stream
            ]
        for command_id, (first, last, _) in self.model.commands.items():
            recorded = self.store.command_result(command_id)
            assert recorded is not None and (recorded.first_position, recorded.last_position) == (first, last)
        report = self.store.verify()
        assert report.ok, report.line()
        assert report.count == len(log)


class SQLiteMachine(StoreMachine):
    backend = "sqlite"


class MemoryMachine(StoreMachine):
    backend = "memory"


# half the profile's examples (25 under "ci"), each a run of up to 25 steps
MACHINE_SETTINGS = settings(max_examples=max(settings().max_examples // 2, 1), stateful_step_count=25, deadline=None)


@pytest.mark.parametrize("machine", [SQLiteMachine, MemoryMachine], ids=["sqlite", "memory"])
def test_store_matches_the_model(machine: type[StoreMachine]) -> None:
    machine.TestCase.settings = MACHINE_SETTINGS
    machine.TestCase().runTest()
