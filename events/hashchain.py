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
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import msgspec

from events.model import StoredEvent
from schemas.words import plural

GENESIS_HASH = "0" * 64
#: A row of the events table in column order, ``data`` and ``metadata`` as bytes or text.
StoredRow = Sequence[Any]
HASH_FORMAT = "sha256-canonical-json-v1"

_encode_str = msgspec.json.encode


#: The canonical bytes as one %-template, keys in sorted order: data, event_id, metadata,
#: position, prev_hash, recorded_at, schema_version, stream_id, type, version. Strings go in
#: JSON-encoded, ``data`` and ``metadata`` as stored, integers in decimal.
_CANONICAL = (
    b'{"data":%b,"event_id":%b,"metadata":%b,"position":%d,"prev_hash":%b,"recorded_at":%b,'
    b'"schema_version":%d,"stream_id":%b,"type":%b,"version":%d}'
)
_CANONICAL_ANY = _CANONICAL.replace(b"%d", b"%b")


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
    """The bytes that are hashed, built from the stored columns (``data``/``metadata`` as stored)."""
    enc = _encode_str
    if position.__class__ is int and schema_version.__class__ is int and version.__class__ is int:
        return _CANONICAL % (
            data,
            enc(event_id),
            metadata,
            position,
            enc(prev_hash),
            enc(recorded_at),
            schema_version,
            enc(stream_id),
            enc(type),
            version,
        )
    # Not an event the store wrote (say a REAL or TEXT where an integer belongs): each value as
    # its own JSON, so that no look-alike (1.0, 1.5 with "%d", "1", true) hashes like the integer.
    return _CANONICAL_ANY % (
        data,
        enc(event_id),
        metadata,
        enc(position),
        enc(prev_hash),
        enc(recorded_at),
        enc(schema_version),
        enc(stream_id),
        enc(type),
        enc(version),
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
    reason_zh: str | None = None
    #: The code of the rule broken (``chain``, or one of :data:`events.logrules.RULES`).
    rule: str | None = None

    def refused(self, position: int, reason: str, reason_zh: str, rule: str | None) -> VerifyReport:
        """This report's count and head, failed at ``position`` (why, in English and in Chinese)."""
        return VerifyReport(False, self.count, self.head_position, self.head_hash, position, reason, reason_zh, rule)

    def line(self) -> str:
        """One line for people: the count and head hash, or where and why it failed (in English,
        then in Chinese)."""
        if self.ok:
            return (
                f"ok: {plural(self.count, 'event')} verified, head position {self.head_position},"
                f" head hash {self.head_hash}"
            )
        where = self.failed_position
        return f"FAILED at position {where}: {self.reason} / 校验失败于位置 {where}：{self.reason_zh}"


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
        self.reason_zh: str | None = None

    def feed(self, event: StoredEvent) -> bool:
        """Check one more event; return False (and remember why) at the first fault."""
        if self.failed_position is not None:
            return False
        pos = self.expected_position
        if event.position != pos:
            if event.position > pos:
                return self.fail(
                    pos,
                    f"gap in positions: expected {pos}, found {event.position} (an event was removed)",
                    f"位置不连续：应为 {pos}，实为 {event.position}（有事件被删除）",
                )
            return self.fail(
                pos,
                f"positions out of order: expected {pos}, found {event.position}",
                f"位置顺序错乱：应为 {pos}，实为 {event.position}",
            )
        if stored_hash(event) != event.hash:
            return self.fail(
                pos,
                "content does not match its hash (a stored byte was changed)",
                "内容与其哈希不符（存储的字节被改动）",
            )
        if event.prev_hash != self.prev_hash:
            return self.fail(
                pos,
                "prev_hash does not match the previous event's hash (broken link)",
                "prev_hash 与前一事件的哈希不符（链接断裂）",
            )
        want = self.stream_versions.get(event.stream_id, 0) + 1
        if event.version != want:
            return self.fail(
                pos,
                f"stream {event.stream_id!r} version {event.version} where {want} was expected",
                f"流 {event.stream_id!r} 的版本为 {event.version}，应为 {want}",
            )
        self.stream_versions[event.stream_id] = event.version
        self.prev_hash = event.hash
        self.expected_position += 1
        self.count += 1
        return True

    def feed_rows(self, rows: Iterable[StoredRow]) -> bool:
        """Check more events given as rows of the events table in column order (position,
        stream_id, version, type, schema_version, event_id, data, metadata, recorded_at,
        prev_hash, hash; ``data`` and ``metadata`` as stored bytes or as text); False at the
        first fault.

        The same checks and the same report as :meth:`feed` row by row, without building a
        :class:`StoredEvent` per row: a row that fails any check here, or is not shaped like a
        row the store writes, is handed to :meth:`feed`, which decides and says why.
        """
        if self.failed_position is not None:
            return False
        sha256 = hashlib.sha256
        enc = _encode_str
        template = _CANONICAL
        versions = self.stream_versions
        expected = self.expected_position
        prev = self.prev_hash
        count = self.count
        for row in rows:
            try:
                pos, sid, ver, typ, sv, eid, data, md, rec, prev_hash, digest = row
                ok = (
                    pos.__class__ is int
                    and ver.__class__ is int
                    and sv.__class__ is int
                    and pos == expected
                    and prev_hash == prev
                    and ver == versions.get(sid, 0) + 1
                    and sha256(
                        template
                        % (
                            data if data.__class__ is bytes else data.encode(),
                            enc(eid),
                            md if md.__class__ is bytes else md.encode(),
                            pos,
                            enc(prev_hash),
                            enc(rec),
                            sv,
                            enc(sid),
                            enc(typ),
                            ver,
                        )
                    ).hexdigest()
                    == digest
                )
            except (TypeError, ValueError, AttributeError):
                ok = False
            if ok:
                versions[sid] = ver
                prev = digest
                expected += 1
                count += 1
                continue
            self.expected_position, self.prev_hash, self.count = expected, prev, count
            if not self.feed(_stored_event(row)):
                return False
            expected, prev, count = self.expected_position, self.prev_hash, self.count
        self.expected_position, self.prev_hash, self.count = expected, prev, count
        return True

    def fail(self, position: int, reason: str, reason_zh: str) -> bool:
        """Record a fault (in English and in Chinese), also one found outside :meth:`feed` (e.g.
        an unreadable record); returns False."""
        self.failed_position = position
        self.reason = reason
        self.reason_zh = reason_zh
        return False

    def report(self) -> VerifyReport:
        return VerifyReport(
            ok=self.failed_position is None,
            count=self.count,
            head_position=self.expected_position - 1,
            head_hash=self.prev_hash,
            failed_position=self.failed_position,
            reason=self.reason,
            reason_zh=self.reason_zh,
        )


def _stored_event(row: StoredRow) -> StoredEvent:
    """A row of the events table (data and metadata as bytes or text) as a :class:`StoredEvent`."""
    position, stream_id, version, type_, schema_version, event_id, data, metadata, *rest = row
    recorded_at, prev_hash, hash_ = rest
    return StoredEvent(
        position,
        stream_id,
        version,
        type_,
        schema_version,
        event_id,
        msgspec.Raw(data if isinstance(data, bytes) else data.encode()),
        msgspec.Raw(metadata if isinstance(metadata, bytes) else metadata.encode()),
        recorded_at,
        prev_hash,
        hash_,
    )


def verify_events(events: Iterable[StoredEvent]) -> VerifyReport:
    """Verify a whole log given in position order."""
    verifier = ChainVerifier()
    for event in events:
        if not verifier.feed(event):
            break
    return verifier.report()
