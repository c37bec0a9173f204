"""The backend-independent part of an append: validate, encode, number, chain and hash.

A backend takes its write lock, asks :func:`plan_rows` for the rows (given the head of the log
and a way to read each stream's version), and writes them. The first event of every append
carries the id :func:`command_event_id` derives from the command id, so the uniqueness of event
ids is what refuses a repeated command: the record of a command is part of the hash-chained log.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Sequence

import msgspec

from events.codec import EventCodec, canonical_json
from events.errors import ConflictError, InvalidAppendError
from events.hashchain import canonical_bytes
from events.model import ANY, NO_STREAM, ExpectedVersion, NewEvent, StreamWrite
from schemas.base import to_utc

#: (type, schema_version, data, metadata) of one event, encoded.
Encoded = tuple[str, int, bytes, bytes]
#: A row in column order: position, stream_id, version, type, schema_version, event_id, data,
#: metadata, recorded_at, prev_hash, hash (data and metadata as text).
Row = tuple[int, str, int, str, int, str, str, str, str, str, str]


_VARIANT = "89ab" * 4


def new_event_id() -> str:
    """A random (version 4, RFC 4122) UUID in its canonical text form. The same value
    ``str(uuid.uuid4())`` gives, made without building a ``uuid.UUID`` on the append path."""
    h = os.urandom(16).hex()
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{_VARIANT[int(h[16], 16)]}{h[17:20]}-{h[20:]}"


#: What :func:`command_event_id` hashes before the command id (UTF-8).
COMMAND_ID_PREFIX = b"sandbox-registry:command:"


def command_event_id(command_id: str) -> str:
    """The event id of the first event a command appends: SHA-256 of :data:`COMMAND_ID_PREFIX`
    and the command id, its first 32 hex digits as a name-based UUID (version 8, RFC 9562).

    Random event ids are version 4, so a derived id never equals one. Anyone holding the export
    can recompute it (the README shows how) and see which event began which command.
    """
    h = hashlib.sha256(COMMAND_ID_PREFIX + command_id.encode()).hexdigest()
    return f"{h[:8]}-{h[8:12]}-8{h[13:16]}-{_VARIANT[int(h[16], 16)]}{h[17:20]}-{h[20:32]}"


def encode_writes(codec: EventCodec, writes: Sequence[StreamWrite], command_id: str) -> list[list[Encoded]]:
    """Check the request's shape and encode every payload and metadata (outside any lock)."""
    if not command_id:
        raise InvalidAppendError("every append needs a command id")
    seen: set[str] = set()
    for write in writes:
        if not write.stream_id:
            raise InvalidAppendError("a stream id must not be empty")
        if write.stream_id in seen:
            raise InvalidAppendError(f"stream {write.stream_id!r} is named twice in one append")
        seen.add(write.stream_id)
        check_expected_form(write.stream_id, write.expected)
    return [[encode_event(codec, new, write.stream_id, command_id) for new in write.events] for write in writes]


def encode_event(codec: EventCodec, new: NewEvent, stream_id: str, command_id: str) -> Encoded:
    """Encode one event's payload and metadata (``occurred_at`` in UTC, the append's command id)."""
    try:
        occurred_at = to_utc(new.metadata.occurred_at)
    except (ValueError, AttributeError, TypeError) as e:
        raise InvalidAppendError(
            f"metadata.occurred_at of a {new.payload.event_type} event for {stream_id!r}"
            f" must be a timezone-aware datetime (got {new.metadata.occurred_at!r})"
        ) from e
    metadata = msgspec.structs.replace(new.metadata, command_id=command_id, occurred_at=occurred_at)
    return (
        new.payload.event_type,
        new.payload.schema_version,
        codec.encode(new.payload),
        canonical_json(metadata),
    )


def check_expected_form(stream_id: str, expected: ExpectedVersion) -> None:
    if expected in (ANY, NO_STREAM):
        return
    if not isinstance(expected, int) or isinstance(expected, bool) or expected < 0:
        raise InvalidAppendError(f"expected version {expected!r} for {stream_id!r} is not valid")


def check_expected(stream_id: str, expected: ExpectedVersion, actual: int) -> None:
    """Raise :class:`ConflictError` unless the stream is at the expected version."""
    if expected == ANY:
        return
    want = 0 if expected == NO_STREAM else expected
    if want != actual:
        raise ConflictError(stream_id, expected, actual)


def plan_rows(
    writes: Sequence[StreamWrite],
    encoded: Sequence[Sequence[Encoded]],
    *,
    position: int,
    prev_hash: str,
    recorded_at: str,
    version_of: Callable[[str], int],
    command_id: str,
) -> tuple[list[Row], dict[str, int]]:
    """Number, chain and hash the events after ``position``; check each expected version.
    The first event gets the id derived from ``command_id``, the others random ones."""
    rows: list[Row] = []
    event_id = command_event_id(command_id)
    versions: dict[str, int] = {}
    sha256 = hashlib.sha256
    for write, events in zip(writes, encoded, strict=True):
        stream_id = write.stream_id
        version = version_of(stream_id)
        check_expected(stream_id, write.expected, version)
        for event_type, schema_version, data, metadata in events:
            if rows:
                event_id = new_event_id()
            position += 1
            version += 1
            digest = sha256(
                canonical_bytes(
                    position=position,
                    stream_id=stream_id,
                    version=version,
                    type=event_type,
                    schema_version=schema_version,
                    event_id=event_id,
                    data=data,
                    metadata=metadata,
                    recorded_at=recorded_at,
                    prev_hash=prev_hash,
                )
            ).hexdigest()
            rows.append(
                (
                    position,
                    stream_id,
                    version,
                    event_type,
                    schema_version,
                    event_id,
                    data.decode(),
                    metadata.decode(),
                    recorded_at,
                    prev_hash,
                    digest,
                )
            )
            prev_hash = digest
        if events:  # a stream named only to check its version is not "written"
            versions[stream_id] = version
    return rows, versions
