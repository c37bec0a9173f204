"""The records the store takes and gives: new events, stored events, decoded events, results."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final, Generic, Literal, TypeVar

import msgspec

from schemas.base import Event, EventMetadata

#: Expected version "any": the append never conflicts on this stream.
ANY: Final = "any"
#: Expected version "no stream yet": the stream must not exist (same as exact version 0).
NO_STREAM: Final = "no_stream"

ExpectedVersion = int | Literal["any", "no_stream"]

E = TypeVar("E", bound=Event)


@dataclass(frozen=True, slots=True)
class NewEvent:
    """An event to append: its payload and metadata. The store assigns everything else."""

    payload: Event
    metadata: EventMetadata


@dataclass(frozen=True, slots=True)
class StreamWrite:
    """Events for one stream within an append, with the version the writer expects the stream at."""

    stream_id: str
    events: tuple[NewEvent, ...]
    expected: ExpectedVersion = ANY


class StoredEvent(msgspec.Struct, frozen=True):
    """One row of the log exactly as stored and exported (see README, "Event format").

    ``data`` and ``metadata`` hold the canonical JSON bytes as stored; the export embeds them
    as JSON objects.
    """

    position: int
    stream_id: str
    version: int
    type: str
    schema_version: int
    event_id: str
    data: msgspec.Raw
    metadata: msgspec.Raw
    recorded_at: str
    prev_hash: str
    hash: str


class RecordedEvent(msgspec.Struct, Generic[E], frozen=True):
    """A stored event decoded into its current payload type and its metadata."""

    position: int
    stream_id: str
    version: int
    type: str
    event_id: str
    payload: E
    metadata: EventMetadata
    recorded_at: datetime
    hash: str


@dataclass(frozen=True, slots=True)
class AppendResult:
    """What an append wrote, or, for a repeated command id, what the first append wrote.

    ``first_position`` and ``last_position`` are 0 when the command appended no event.
    ``versions`` maps each stream written to its version after the append.
    """

    command_id: str
    first_position: int
    last_position: int
    versions: dict[str, int]
    duplicate: bool = False

    @property
    def positions(self) -> range:
        return range(self.first_position, self.last_position + 1) if self.last_position else range(0)


@dataclass(frozen=True, slots=True)
class Head:
    """The end of the log: its last position (0 when empty) and that event's hash."""

    position: int
    hash: str
    recorded_at: str | None = None
