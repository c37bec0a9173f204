"""Encoding and decoding of event payloads, with upcasters for old schema versions.

Payloads are encoded to canonical JSON (sorted keys, compact, UTF-8) so the stored bytes are
the hashed bytes. Decoding goes through a registry keyed by (type, schema version): the current
version decodes straight into its Struct; an older one is decoded to plain data, passed through
the chain of upcasters up to the current version, then converted.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

import msgspec

from events.errors import UnknownEventTypeError
from events.model import RecordedEvent, StoredEvent
from schemas.base import Event, EventMetadata

Upcaster = Callable[[dict[str, Any]], dict[str, Any]]

#: The one encoder for every stored JSON value: deterministic key order for dicts and Structs.
_canonical = msgspec.json.Encoder(order="sorted")
_metadata_decoder = msgspec.json.Decoder(EventMetadata)


def canonical_json(value: object) -> bytes:
    """Canonical JSON bytes of a value: keys sorted, compact, UTF-8, as hashed."""
    return _canonical.encode(value)


def parse_recorded_at(text: str) -> datetime:
    return datetime.fromisoformat(text)


class EventCodec:
    """The registry of event types and their upcasters."""

    def __init__(
        self, types: Iterable[type[Event]] = (), upcasters: Mapping[tuple[str, int], Upcaster] | None = None
    ) -> None:
        self._types: dict[str, type[Event]] = {}
        self._decoders: dict[tuple[str, int], msgspec.json.Decoder[Any]] = {}
        self._upcasters: dict[tuple[str, int], Upcaster] = dict(upcasters or {})
        for cls in types:
            self.register(cls)

    def register(self, cls: type[Event]) -> type[Event]:
        """Register a payload type at its current ``schema_version``; usable as a decorator."""
        existing = self._types.get(cls.event_type)
        if existing is not None and existing is not cls:
            if existing.schema_version >= cls.schema_version:
                raise ValueError(f"event type {cls.event_type!r} is already registered")
            self._decoders.pop((cls.event_type, existing.schema_version), None)
        self._types[cls.event_type] = cls
        self._decoders[(cls.event_type, cls.schema_version)] = msgspec.json.Decoder(cls)
        return cls

    def register_all(self, types: Iterable[type[Event]]) -> None:
        for cls in types:
            self.register(cls)

    def upcaster(self, event_type: str, from_version: int) -> Callable[[Upcaster], Upcaster]:
        """Register a function that turns ``from_version`` data into ``from_version + 1`` data."""

        def wrap(fn: Upcaster) -> Upcaster:
            self._upcasters[(event_type, from_version)] = fn
            return fn

        return wrap

    def add_upcaster(self, event_type: str, from_version: int, fn: Upcaster) -> None:
        self._upcasters[(event_type, from_version)] = fn

    def type_for(self, event_type: str) -> type[Event]:
        try:
            return self._types[event_type]
        except KeyError:
            raise UnknownEventTypeError(f"no payload type registered for {event_type!r}") from None

    def knows(self, event_type: str) -> bool:
        return event_type in self._types

    def encode(self, payload: Event) -> bytes:
        """Canonical JSON of a payload; its type must be registered."""
        if self._types.get(payload.event_type) is not type(payload):
            raise UnknownEventTypeError(f"event type {payload.event_type!r} is not registered")
        return _canonical.encode(payload)

    def decoder_for(self, event_type: str, schema_version: int) -> Callable[[bytes | str], Event]:
        """A function decoding stored data of this type and schema version, as
        :meth:`decode_payload` would (the same result and the same errors, raised on the call).

        For the current version it is the type's own msgspec decoder; for a batch of rows, look
        it up once per (type, version) rather than once per row.
        """
        decoder = self._decoders.get((event_type, schema_version))
        if decoder is not None:
            return decoder.decode
        return functools.partial(self.decode_payload, event_type, schema_version)

    def decode_payload(self, event_type: str, schema_version: int, data: bytes | str) -> Event:
        """Decode stored data of any known schema version into the current payload type."""
        decoder = self._decoders.get((event_type, schema_version))
        if decoder is not None:
            result: Event = decoder.decode(data)
            return result
        cls = self.type_for(event_type)
        if schema_version > cls.schema_version:
            raise UnknownEventTypeError(
                f"{event_type!r} schema version {schema_version} is newer than this registry knows"
                f" ({cls.schema_version})"
            )
        value: dict[str, Any] = msgspec.json.decode(data)
        for version in range(schema_version, cls.schema_version):
            step = self._upcasters.get((event_type, version))
            if step is None:
                raise UnknownEventTypeError(
                    f"no upcaster for {event_type!r} from schema version {version} to {version + 1}"
                )
            value = step(value)
        return msgspec.convert(value, cls)

    def decode(self, stored: StoredEvent) -> RecordedEvent[Event]:
        """Decode a stored event into its current payload type and its metadata."""
        return RecordedEvent(
            position=stored.position,
            stream_id=stored.stream_id,
            version=stored.version,
            type=stored.type,
            event_id=stored.event_id,
            payload=self.decode_payload(stored.type, stored.schema_version, bytes(stored.data)),
            metadata=_metadata_decoder.decode(stored.metadata),
            recorded_at=parse_recorded_at(stored.recorded_at),
            hash=stored.hash,
        )
