"""An in-memory event store with the same contract as the SQLite one.

Used by fast domain tests and as the second backend of the contract suite, which keeps the
port honest. Handlers given to :meth:`InMemoryEventStore.process` receive a dict of "tables" that
is restored if the handler raises, so exactly-once holds here too.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any, Unpack

import msgspec

from events.appending import encode_writes, plan_rows
from events.codec import EventCodec
from events.errors import StoreError
from events.hashchain import GENESIS_HASH, VerifyReport, verify_events
from events.model import AppendResult, Head, RecordedEvent, StoredEvent, StreamWrite
from events.sqlite import Clock, format_recorded_at, utc_now
from events.store import BatchHandler, Snapshot, StreamCut, Unreadable
from schemas.base import Event, EventMetadata

_metadata_decoder = msgspec.json.Decoder(EventMetadata)


class InMemoryEventStore:
    """The whole log in a Python list; one lock serialises writers."""

    def __init__(self, codec: EventCodec, *, clock: Clock = utc_now) -> None:
        self.codec = codec
        self._clock = clock
        self._lock = threading.RLock()
        self._events: list[StoredEvent] = []
        self._streams: dict[str, list[int]] = {}
        self._commands: dict[str, tuple[int, int]] = {}
        self._checkpoints: dict[str, int] = {}
        self._snapshots: dict[str, tuple[int, Snapshot]] = {}  # stream -> (schema, snapshot)
        self.tables: dict[str, Any] = {}

    def close(self) -> None:
        pass

    def append(self, writes: Sequence[StreamWrite], *, command_id: str) -> AppendResult:
        encoded = encode_writes(self.codec, writes, command_id)
        with self._lock:
            if command_id in self._commands:
                result = self.command_result(command_id)
                assert result is not None
                return result
            head = self.head()
            now = max(format_recorded_at(self._clock()), head.recorded_at or "")
            rows, versions = plan_rows(
                writes,
                encoded,
                position=head.position,
                prev_hash=head.hash,
                recorded_at=now,
                version_of=self.stream_version,
                command_id=command_id,
            )
            for row in rows:
                stored = StoredEvent(
                    *row[:6], msgspec.Raw(row[6].encode()), msgspec.Raw(row[7].encode()), *row[8:]
                )
                self._events.append(stored)
                self._streams.setdefault(stored.stream_id, []).append(stored.position)
            if not rows:  # as in SQLite, where the first event is the record: nothing to repeat
                return AppendResult(command_id, 0, 0, versions)
            first, last = rows[0][0], rows[-1][0]
            self._commands[command_id] = (first, last)
            return AppendResult(command_id, first, last, versions)

    def command_result(self, command_id: str) -> AppendResult | None:
        with self._lock:
            if command_id not in self._commands:
                return None
            first, last = self._commands[command_id]
            versions: dict[str, int] = {}
            for event in self._events[first - 1 : last]:
                versions[event.stream_id] = event.version
            return AppendResult(command_id, first, last, versions, duplicate=True)

    def stream_version(self, stream_id: str) -> int:
        return len(self._streams.get(stream_id, ()))

    def _decode(self, stored: StoredEvent) -> RecordedEvent[Event]:
        return self.codec.decode(stored)

    def read_stream(self, stream_id: str, **cut: Unpack[StreamCut]) -> list[RecordedEvent[Event]]:
        return list(self.iter_stream(stream_id, **cut))

    def iter_stream(
        self,
        stream_id: str,
        *,
        from_version: int = 1,
        to_version: int | None = None,
        as_of_position: int | None = None,
        as_of_time: datetime | None = None,
    ) -> Iterator[RecordedEvent[Event]]:
        cut = format_recorded_at(as_of_time) if as_of_time is not None else None
        with self._lock:
            stored = [
                e
                for e in (self._events[p - 1] for p in self._streams.get(stream_id, ()))
                if e.version >= from_version
                and (to_version is None or e.version <= to_version)
                and (as_of_position is None or e.position <= as_of_position)
                and (cut is None or e.recorded_at <= cut)
            ]
        return map(self._decode, stored)

    def read_after(
        self, position: int, *, limit: int = 1000, types: Sequence[str] | None = None
    ) -> list[RecordedEvent[Event]]:
        wanted = set(types) if types else None
        out = []
        with self._lock:
            tail = self._events[max(position, 0) :]
        for stored in tail:
            if wanted is None or stored.type in wanted:
                out.append(self._decode(stored))
                if len(out) >= limit:
                    break
        return out

    def iter_all(
        self, *, after: int = 0, batch: int = 200, types: Sequence[str] | None = None
    ) -> Iterator[RecordedEvent[Event]]:
        while events := self.read_after(after, limit=batch, types=types):
            yield from events
            after = events[-1].position

    def iter_stored(self, *, after: int = 0, batch: int = 1000) -> Iterator[StoredEvent]:
        with self._lock:
            tail = self._events[max(after, 0) :]
        yield from tail

    def head(self) -> Head:
        with self._lock:
            if not self._events:
                return Head(0, GENESIS_HASH, None)
            last = self._events[-1]
            return Head(last.position, last.hash, last.recorded_at)

    def types_after(self, position: int, types: Sequence[str]) -> tuple[int, bool]:
        wanted = set(types)
        with self._lock:
            tail = self._events[max(position, 0) :]
            return len(self._events), any(e.type in wanted for e in tail)

    def position_at(self, moment: datetime) -> int:
        cut = format_recorded_at(moment)
        with self._lock:
            return sum(1 for e in self._events if e.recorded_at <= cut)

    def verify(self) -> VerifyReport:
        return verify_events(self.iter_stored())

    def checkpoint(self, name: str) -> int:
        return self._checkpoints.get(name, 0)

    def read_snapshot(self, stream_id: str, schema: int, *, upto: int | None = None) -> Snapshot | None:
        kept = self._snapshots.get(stream_id)
        if kept is None or kept[0] != schema or (upto is not None and kept[1].position > upto):
            return None
        return kept[1]

    def keep_snapshots(self, schema: int, snapshots: Iterable[tuple[str, Snapshot]]) -> None:
        with self._lock:
            self._snapshots.update((stream, (schema, snapshot)) for stream, snapshot in snapshots)

    def process(
        self,
        name: str,
        handler: BatchHandler,
        *,
        batch: int = 500,
        types: Sequence[str] | None = None,
        unreadable: Unreadable | None = None,
    ) -> int:
        with self._lock:
            after = self.checkpoint(name)
            window = self._events[after : after + batch]
            if not window:
                return 0
            wanted = set(types) if types else None
            saved, kept = copy.deepcopy(self.tables), dict(self._snapshots)
            try:
                events = []
                for stored in window:
                    if wanted is not None and stored.type not in wanted:
                        continue
                    try:
                        events.append(self._decode(stored))
                    except (StoreError, msgspec.MsgspecError) as e:
                        if unreadable is None:
                            raise
                        unreadable(stored.position, stored.stream_id, stored.type, e)
                if events:
                    handler(self.tables, events)
            except BaseException:
                self.tables, self._snapshots = saved, kept
                raise
            self._checkpoints[name] = window[-1].position
            return len(window)
