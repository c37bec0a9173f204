"""The hash chain: canonical bytes of a stored event, its hash, and verification.

Canonical bytes of an event are the JSON object of every exported field except ``hash``,
with keys sorted by code point, no insignificant white space, non-ASCII characters written
as UTF-8 (not escaped) and integers only. In Python that is
``json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()``.
The hash of an event is the lowercase hex SHA-256 of those bytes; ``prev_hash`` (part of the
bytes) is the previous event's hash, or 64 zeros for the first event.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

import msgspec

from events.model import StoredEvent

GENESIS_HASH = "0" * 64
HASH_FORMAT = "sha256-canonical-json-v1"

_encode_str = msgspec.json.encode


def canonical_bytes(
    *,
    position: int,
    stream_id: str,
    version: int,
    type: str,
    schema_version: int,
    event_id: str,
    data: bytes,
    metadata: bytes,
    recorded_at: str,
    prev_hash: str,
) -> bytes:
    """The bytes that are hashed, built from the stored columns (``data``/``metadata`` as stored).

    Keys in sorted order: data, event_id, metadata, position, prev_hash, recorded_at,
    schema_version, stream_id, type, version.
    """
    return b"".join(
        (
            b'{"data":',
            data,
            b',"event_id":',
            _encode_str(event_id),
            b',"metadata":',
            metadata,
            b',"position":',
            str(position).encode(),
            b',"prev_hash":',
            _encode_str(prev_hash),
            b',"recorded_at":',
            _encode_str(recorded_at),
            b',"schema_version":',
            str(schema_version).encode(),
            b',"stream_id":',
            _encode_str(stream_id),
            b',"type":',
            _encode_str(type),
            b',"version":',
            str(version).encode(),
            b"}",
        )
    )


def event_hash(**fields: object) -> str:
    """SHA-256 hex of :func:`canonical_bytes` for the given stored fields."""
    return hashlib.sha256(canonical_bytes(**fields)).hexdigest()  # type: ignore[arg-type]


def stored_hash(event: StoredEvent) -> str:
    """Recompute the hash of a stored event from its content (ignoring its ``hash`` field)."""
    return hashlib.sha256(
        canonical_bytes(
            position=event.position,
            stream_id=event.stream_id,
            version=event.version,
            type=event.type,
            schema_version=event.schema_version,
            event_id=event.event_id,
            data=bytes(event.data),
            metadata=bytes(event.metadata),
            recorded_at=event.recorded_at,
            prev_hash=event.prev_hash,
        )
    ).hexdigest()


@dataclass(frozen=True, slots=True)
class VerifyReport:
    """The outcome of a verification: how many events were checked and the first failure."""

    ok: bool
    count: int
    head_position: int
    head_hash: str
    failed_position: int | None = None
    reason: str | None = None

    def line(self) -> str:
        """One line for people: the count and head hash, or where and why it failed."""
        if self.ok:
            return (
                f"ok: {self.count} events verified, head position {self.head_position},"
                f" head hash {self.head_hash}"
            )
        return f"FAILED at position {self.failed_position}: {self.reason}"


class ChainVerifier:
    """Checks a log fed in position order, one event at a time, and stops at the first fault.

    It re-hashes each event's content, checks the link to the previous hash, that positions are
    contiguous from 1 and that each stream's versions are contiguous from 1.
    """

    def __init__(self) -> None:
        self.count = 0
        self.prev_hash = GENESIS_HASH
        self.expected_position = 1
        self.stream_versions: dict[str, int] = {}
        self.failed_position: int | None = None
        self.reason: str | None = None

    def feed(self, event: StoredEvent) -> bool:
        """Check one more event; return False (and remember why) at the first fault."""
        if self.failed_position is not None:
            return False
        pos = self.expected_position
        if event.position != pos:
            if event.position > pos:
                why = f"gap in positions: expected {pos}, found {event.position} (an event was removed)"
            else:
                why = f"positions out of order: expected {pos}, found {event.position}"
            return self.fail(pos, why)
        if stored_hash(event) != event.hash:
            return self.fail(pos, "content does not match its hash (a stored byte was changed)")
        if event.prev_hash != self.prev_hash:
            return self.fail(pos, "prev_hash does not match the previous event's hash (broken link)")
        want = self.stream_versions.get(event.stream_id, 0) + 1
        if event.version != want:
            return self.fail(
                pos,
                f"stream {event.stream_id!r} version {event.version} where {want} was expected",
            )
        self.stream_versions[event.stream_id] = event.version
        self.prev_hash = event.hash
        self.expected_position += 1
        self.count += 1
        return True

    def fail(self, position: int, reason: str) -> bool:
        """Record a fault found outside :meth:`feed` (e.g. an unreadable record); returns False."""
        self.failed_position = position
        self.reason = reason
        return False

    def report(self) -> VerifyReport:
        return VerifyReport(
            ok=self.failed_position is None,
            count=self.count,
            head_position=self.expected_position - 1,
            head_hash=self.prev_hash,
            failed_position=self.failed_position,
            reason=self.reason,
        )


def verify_events(events: Iterable[StoredEvent]) -> VerifyReport:
    """Verify a whole log given in position order."""
    verifier = ChainVerifier()
    for event in events:
        if not verifier.feed(event):
            break
    return verifier.report()
