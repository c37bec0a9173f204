"""The export format: JSON Lines in position order, one stored event per line.

Each line is a JSON object with exactly the fields ``position``, ``stream_id``, ``version``,
``type``, ``schema_version``, ``event_id``, ``data``, ``metadata``, ``recorded_at``,
``prev_hash`` and ``hash``, keys sorted, no white space. Anyone can re-verify it with the
rule documented in :mod:`events.hashchain` and the README.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator
from typing import Any

import msgspec

from events.codec import canonical_json
from events.hashchain import VerifyReport
from events.logrules import LogVerifier, RuleBroken, line_body
from events.merkle import EMPTY_ROOT, Accumulator, event_leaf
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


def export_line(event: StoredEvent) -> bytes:
    """One export line (with its newline)."""
    return _line_encoder.encode(event) + b"\n"


def export_lines(events: Iterable[StoredEvent]) -> Iterator[bytes]:
    for event in events:
        yield export_line(event)


def parse_line(line: bytes | str) -> StoredEvent:
    """Read one export line (without its newline) back into a stored event. The line must be
    exactly the line the export writes for it (keys sorted, no white space, data and metadata in
    canonical form): the hash covers the canonical bytes, so a line that only decodes to the same
    values (a duplicated key, added spaces, an escaped character) would hide a change from the
    chain. Raises :class:`RuleBroken` naming the rule (``record``, ``nesting``, ``canonical``)."""
    raw = line.encode() if isinstance(line, str) else bytes(line)
    try:
        record = _record_decoder.decode(raw)
    except RecursionError:
        raise RuleBroken("nesting", "the line is nested too deep", "该行嵌套过深") from None
    except (msgspec.DecodeError, UnicodeDecodeError) as e:
        raise RuleBroken("record", f"not an event record: {e}", f"不是事件记录（{e}）") from None
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
    if raw != export_line(event)[:-1]:
        raise RuleBroken(
            "canonical",
            "its bytes differ from the canonical ones its hash covers (white space, key order, a"
            " repeated key or an escape the canonical form does not use)",
            "其字节与哈希所覆盖的规范字节不同",
        )
    return event


def read_lines(lines: Iterable[bytes | str]) -> Iterator[tuple[int, bytes]]:
    """The numbered lines of an export file as read (each with its newline), without their
    newlines; raises :class:`LineRefused` at the first line that breaks the framing."""
    number, pending = 0, None
    for line in lines:
        if pending is not None:
            yield number, _framed(pending, number, last=False)
        number, pending = number + 1, line.encode() if isinstance(line, str) else bytes(line)
    if pending is not None:
        yield number, _framed(pending, number, last=True)


def _framed(line: bytes, number: int, *, last: bool) -> bytes:
    try:
        return line_body(line, number, last=last)
    except RuleBroken as e:
        raise LineRefused.of(number, e) from None


class LineRefused(ValueError):
    """A line of an export that breaks a rule: its number, the rule's code and why, in English
    and in Chinese."""

    def __init__(self, line_number: int, rule: str, reason: str, reason_zh: str) -> None:
        self.line_number = line_number
        self.rule = rule
        self.reason = reason
        self.reason_zh = reason_zh
        super().__init__(f"line {line_number}: {reason}")

    @classmethod
    def of(cls, line_number: int, error: RuleBroken) -> LineRefused:
        return cls(line_number, error.rule.code, error.reason, error.reason_zh)

    @property
    def message_zh(self) -> str:
        return f"第 {self.line_number} 行：{self.reason_zh}"


def events_of(lines: Iterable[bytes | str], verifier: LogVerifier) -> Iterator[tuple[int, StoredEvent]]:
    """The numbered events of an export file, each checked by ``verifier`` (chain and rules)
    before it is given; raises :class:`LineRefused` naming the first line that breaks a rule."""
    for number, body in read_lines(lines):
        try:
            event = parse_line(body)
        except RuleBroken as e:
            raise LineRefused.of(number, e) from None
        if not verifier.feed(event):
            report = verifier.report()
            where = f"position {report.failed_position}: "
            raise LineRefused(
                number, report.rule or "chain", where + (report.reason or ""), where + (report.reason_zh or "")
            )
        yield number, event


def verify_export(lines: Iterable[bytes | str]) -> VerifyReport:
    """Verify an export file's lines (as read, with their newlines) without any database: the
    framing, the chain and every rule, as ``verify`` checks a database."""
    return verify_export_roots(lines, ())[0]


def verify_export_roots(
    lines: Iterable[bytes | str], sizes: Collection[int]
) -> tuple[VerifyReport, dict[int, bytes]]:
    """:func:`verify_export`, and the Merkle root of the export's first ``size`` events for each
    of ``sizes`` the export reaches (to compare with signed checkpoints)."""
    verifier = LogVerifier()
    tree = Accumulator()
    roots = {0: EMPTY_ROOT} if 0 in sizes else {}
    try:
        for _, event in events_of(lines, verifier):
            tree.add(event_leaf(event.hash))
            if tree.size in sizes:
                roots[tree.size] = tree.root()
    except LineRefused as e:
        report = verifier.report()
        where = report.failed_position or verifier.chain.expected_position
        return report.refused(where, str(e), e.message_zh, e.rule), roots
    return verifier.report(), roots
