"""The export format: JSON Lines in position order, one stored event per line.

Each line is a JSON object with exactly the fields ``position``, ``stream_id``, ``version``,
``type``, ``schema_version``, ``event_id``, ``data``, ``metadata``, ``recorded_at``,
``prev_hash`` and ``hash``, keys sorted, no white space. Anyone can re-verify it with the
rule documented in :mod:`events.hashchain` and the README.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import msgspec

from events.codec import canonical_json
from events.hashchain import ChainVerifier, VerifyReport
from events.model import StoredEvent

_line_encoder = msgspec.json.Encoder(order="sorted")


class ExportRecord(msgspec.Struct, forbid_unknown_fields=True):
    """One export line as read back: every field required, nothing else allowed."""

    position: int
    stream_id: str
    version: int
    type: str
    schema_version: int
    event_id: str
    data: Any
    metadata: Any
    recorded_at: str
    prev_hash: str
    hash: str


_record_decoder = msgspec.json.Decoder(ExportRecord)


class ExportFormatError(ValueError):
    """An export line that is not a well-formed event record."""

    def __init__(self, line_number: int, message: str) -> None:
        self.line_number = line_number
        super().__init__(f"line {line_number}: {message}")


def export_line(event: StoredEvent) -> bytes:
    """One export line (with its newline)."""
    return _line_encoder.encode(event) + b"\n"


def export_lines(events: Iterable[StoredEvent]) -> Iterator[bytes]:
    for event in events:
        yield export_line(event)


def parse_line(line: bytes | str, line_number: int) -> StoredEvent:
    """Read one export line back into a stored event. The line must be exactly the line the
    export writes for it (keys sorted, no white space, data and metadata in canonical form):
    the hash covers the canonical bytes, so a line that only decodes to the same values (a
    duplicated key, added spaces, an escaped character) would hide a change from the chain."""
    raw = line.encode() if isinstance(line, str) else bytes(line)
    try:
        record = _record_decoder.decode(raw)
    except (msgspec.DecodeError, UnicodeDecodeError) as e:
        raise ExportFormatError(line_number, f"not an event record: {e}") from e
    event = StoredEvent(
        record.position,
        record.stream_id,
        record.version,
        record.type,
        record.schema_version,
        record.event_id,
        msgspec.Raw(canonical_json(record.data)),
        msgspec.Raw(canonical_json(record.metadata)),
        record.recorded_at,
        record.prev_hash,
        record.hash,
    )
    if raw.removesuffix(b"\n") != export_line(event)[:-1]:
        raise ExportFormatError(
            line_number,
            "not in the export's canonical form (keys sorted, no white space, data and metadata as"
            " stored): its bytes differ from the ones its hash covers",
        )
    return event


def verify_export(lines: Iterable[bytes | str]) -> VerifyReport:
    """Verify an export without any database: the same checks as the store's ``verify``."""
    verifier = ChainVerifier()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            event = parse_line(line, number)
        except ExportFormatError as e:
            verifier.fail(verifier.expected_position, str(e), f"导出文件的行不合格式（{e}）")
            break
        if not verifier.feed(event):
            break
    return verifier.report()
