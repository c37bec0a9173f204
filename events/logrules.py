"""The rules every event of a log obeys beyond its hash chain, stated once for ``import``, the
export's verification and the database's ``verify``.

The chain (:mod:`events.hashchain`) proves that nothing inside a log changed since it was
written; these rules say what a log this registry writes looks like, so that a file someone
rewrote and re-chained is still refused when it holds what the registry never writes: a float,
a time in another form or running backwards, a metadata key missing or added, an event id
repeated, or an append not begun by the id derived from its command id. Each refusal names the
rule (its ``code``) in English and in Chinese; the README lists the rules in this order.

An *append* is a run of consecutive events whose ``metadata.command_id`` is the same. Its first
event carries the id :func:`events.appending.command_event_id` derives from that command id,
every other event a random (version 4) UUID. Logs written before the ids were derived begin
with appends whose first id is random: such appends are allowed only before the log's first
derived id (every log this release creates begins with one, so it has none).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import msgspec

from events.appending import command_event_id
from events.hashchain import ChainVerifier, StoredRow, VerifyReport
from events.model import StoredEvent


@dataclass(frozen=True, slots=True)
class Rule:
    """One rule of the log: a stable code and what it says, in English and in Chinese."""

    code: str
    en: str
    zh: str


def _rule(code: str, en: str, zh: str) -> Rule:
    return Rule(code, en, zh)


#: Every rule, in the order the README lists them.
RULES: dict[str, Rule] = {
    r.code: r
    for r in (
        _rule("framing", "lines end in LF, the file ends in one, no BOM, no blank line",
              "每行以 LF 结尾，文件以换行结束，无 BOM，无空行"),
        _rule("record", "a line is one JSON object with exactly the eleven event fields",
              "每行是一个恰好含十一个事件字段的 JSON 对象"),
        _rule("nesting", "no value is nested deeper than the JSON decoder reads",
              "取值的嵌套层数不超过 JSON 解码器可读的上限"),
        _rule("canonical", "the line is exactly its canonical bytes with the hash in its sorted place",
              "该行恰为其规范字节（hash 位于排序后的位置）"),
        _rule("chain", "positions, stream versions, prev_hash and hash as the hash chain specifies",
              "位置、流版本、prev_hash 与 hash 符合哈希链规范"),
        _rule("integers_only", "every number in data and metadata is an integer (no fraction, no exponent)",
              "data 与 metadata 中的数字均为整数（无小数、无指数）"),
        _rule("data_object", "data is a JSON object", "data 是 JSON 对象"),
        _rule("metadata_keys", "metadata has exactly its ten keys, each of its type",
              "metadata 恰好含十个键，且各为规定类型"),
        _rule("occurred_at_form", "metadata.occurred_at is a UTC time YYYY-MM-DDTHH:MM:SS[.ffffff]Z",
              "metadata.occurred_at 为 UTC 时间 YYYY-MM-DDTHH:MM:SS[.ffffff]Z"),
        _rule("recorded_at_form", "recorded_at is a UTC time YYYY-MM-DDTHH:MM:SS.ffffffZ",
              "recorded_at 为 UTC 时间 YYYY-MM-DDTHH:MM:SS.ffffffZ"),
        _rule("recorded_at_order", "recorded_at never decreases along the log", "recorded_at 沿日志从不减小"),
        _rule("event_id_form", "event_id is a UUID in lowercase 8-4-4-4-12 form",
              "event_id 为小写 8-4-4-4-12 形式的 UUID"),
        _rule("event_id_unique", "no two events share an event_id", "任何两个事件的 event_id 都不相同"),
        _rule("command_once", "a command id begins one append only", "一个命令 id 只开始一次追加"),
        _rule("first_event_id", "the first event of an append carries the id derived from its command id",
              "每次追加的第一个事件带有由其命令 id 派生的 id"),
        _rule("other_event_id", "every other event of an append has a random (version 4) id",
              "追加中的其他事件带有随机（第 4 版）id"),
    )
}


class RuleBroken(ValueError):
    """An event (or a line) that breaks a rule: which rule, and the particulars, in both languages."""

    def __init__(self, code: str, detail: str = "", detail_zh: str = "") -> None:
        self.rule = RULES[code]
        self.detail = detail
        self.detail_zh = detail_zh or detail
        super().__init__(self.reason)

    @property
    def reason(self) -> str:
        tail = f": {self.detail}" if self.detail else ""
        return f"rule {self.rule.code} ({self.rule.en}){tail}"

    @property
    def reason_zh(self) -> str:
        tail = f"：{self.detail_zh}" if self.detail_zh else ""
        return f"规则 {self.rule.code}（{self.rule.zh}）{tail}"


# -- the file ---------------------------------------------------------------------------------

_BOM = b"\xef\xbb\xbf"


def line_body(line: bytes, number: int, *, last: bool) -> bytes:
    """A line of an export file as read (with its newline), without the newline; raises
    :class:`RuleBroken` for a line that breaks the framing. ``last``: no line follows it."""
    if number == 1 and line.startswith(_BOM):
        raise RuleBroken("framing", "the file begins with a byte order mark", "文件以字节顺序标记开头")
    if not line.endswith(b"\n"):
        if last:
            raise RuleBroken("framing", "the file does not end with a newline", "文件未以换行结束")
        raise RuleBroken("framing", "a line ends without LF", "该行未以 LF 结尾")
    body = line[:-1]
    if body.endswith(b"\r"):
        raise RuleBroken("framing", "the line ends in CR LF, not LF", "该行以 CR LF 而非 LF 结尾")
    if not body.strip():
        raise RuleBroken("framing", "a blank line", "空行")
    return body


# -- one event --------------------------------------------------------------------------------


class _Float(Exception):
    """Raised by the decoder at the first number that is not an integer."""


def _refuse_float(text: str) -> Any:
    raise _Float(text)


class _Metadata(msgspec.Struct, forbid_unknown_fields=True):
    """Stored metadata exactly: every key present, nothing else (the key set of
    :class:`schemas.base.EventMetadata`, whose encoder writes every field)."""

    actor: str
    role: str
    occurred_at: str
    organisation: str | None
    command_id: str
    correlation_id: str | None
    causation_id: str | None
    reason: str | None
    rule_version: str | None
    attachments: list[str]


_data_decoder = msgspec.json.Decoder(dict[str, Any], float_hook=_refuse_float)


def _decode_data(raw: bytes) -> Any:
    try:
        return _data_decoder.decode(raw)
    except msgspec.ValidationError as e:
        raise RuleBroken("data_object", str(e), f"data 不是 JSON 对象（{e}）") from None

_any_decoder = msgspec.json.Decoder(float_hook=_refuse_float)
_metadata_decoder = msgspec.json.Decoder(_Metadata)

_UTC_TIME = r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}"
_OCCURRED_AT = re.compile(_UTC_TIME + r"(?:\.\d{6})?Z")
_RECORDED_AT = re.compile(_UTC_TIME + r"\.\d{6}Z")
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_RANDOM_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")


def _is_time(text: str, form: re.Pattern[str]) -> bool:
    if form.fullmatch(text) is None:
        return False
    try:
        datetime.fromisoformat(text)
    except ValueError:
        return False
    return True


def _check_form(event_id: str) -> None:
    if _UUID.fullmatch(event_id) is None:
        raise RuleBroken("event_id_form", repr(event_id))


def decode_json(raw: bytes, what: str, decode: Callable[[bytes], Any]) -> Any:
    """Decode ``data`` or ``metadata`` (named ``what``) under the rules on numbers and nesting."""
    try:
        return decode(raw)
    except _Float as e:
        raise RuleBroken("integers_only", f"{what} holds the number {e}", f"{what} 含有数字 {e}") from None
    except RecursionError:
        raise RuleBroken("nesting", f"{what} is nested too deep", f"{what} 嵌套过深") from None


def metadata_of(raw: bytes) -> _Metadata:
    """The stored metadata, checked for its keys and their types; when it fails, whether the
    cause is a float or too deep a nesting, which break rules of their own."""
    try:
        return _metadata_decoder.decode(raw)
    except (msgspec.DecodeError, RecursionError) as e:
        decode_json(raw, "metadata", _any_decoder.decode)  # raises for a float or a deep nesting
        raise RuleBroken("metadata_keys", str(e), f"metadata 不合规定（{e}）") from None


class LogRules:
    """Checks the rules, one event at a time in position order (after its chain was checked).

    It remembers what the rules need across events: the last ``recorded_at``, every event id
    with its position, the command id of the append under way and whether a derived first id
    has been seen yet.
    """

    def __init__(self) -> None:
        self.last_recorded_at = ""
        self.last_occurred_at = ""  # the last one checked (an append's events usually share it)
        self.event_ids: dict[str, int] = {}
        self.legacy_commands: dict[str, int] = {}
        self.command_id: str | None = None
        self.derived = False

    def check(self, position: int, event_id: str, data: bytes, metadata: bytes, recorded_at: str) -> None:
        """Raise :class:`RuleBroken` if the event at ``position`` breaks a rule; else remember it.

        (``verify`` runs this for every event: a value equal to the last one checked, as the
        times of one append are, is not parsed again.)"""
        decode_json(data, "data", _decode_data)
        meta = metadata_of(metadata)
        occurred_at = meta.occurred_at
        if occurred_at != self.last_occurred_at:
            if not _is_time(occurred_at, _OCCURRED_AT):
                raise RuleBroken("occurred_at_form", repr(occurred_at))
            self.last_occurred_at = occurred_at
        if recorded_at != self.last_recorded_at:
            if not _is_time(recorded_at, _RECORDED_AT):
                raise RuleBroken("recorded_at_form", repr(recorded_at))
            if recorded_at < self.last_recorded_at:
                raise RuleBroken(
                    "recorded_at_order",
                    f"{recorded_at} is before the previous event's {self.last_recorded_at}",
                    f"{recorded_at} 早于前一事件的 {self.last_recorded_at}",
                )
        command_id = meta.command_id
        if command_id != self.command_id:
            self._begin(position, event_id, command_id)
        elif _RANDOM_UUID.fullmatch(event_id) is None:
            _check_form(event_id)
            raise RuleBroken("other_event_id", repr(event_id))
        earlier = self.event_ids.get(event_id)
        if earlier is not None:
            raise RuleBroken(
                "event_id_unique", f"{event_id} is the id of position {earlier}", f"{event_id} 已是位置 {earlier} 的 id"
            )
        self.event_ids[event_id] = position
        self.last_recorded_at = recorded_at
        self.command_id = command_id

    def _begin(self, position: int, event_id: str, command_id: str) -> None:
        """The event begins an append of ``command_id``: check its id and that the command is new."""
        derived = command_event_id(command_id)
        earlier = self.event_ids.get(derived, self.legacy_commands.get(command_id))
        if earlier is not None:
            raise RuleBroken(
                "command_once",
                f"command {command_id!r} already began the append at position {earlier}",
                f"命令 {command_id!r} 已在位置 {earlier} 开始过一次追加",
            )
        if event_id == derived:
            self.derived = True
            return
        _check_form(event_id)
        if self.derived or _RANDOM_UUID.fullmatch(event_id) is None:
            raise RuleBroken(
                "first_event_id",
                f"{event_id} where the command {command_id!r} gives {derived}",
                f"应为由命令 {command_id!r} 派生的 {derived}，实为 {event_id}",
            )
        self.legacy_commands[command_id] = position


class LogVerifier:
    """The hash chain and the rules together, for a log fed in position order: what
    ``verify``, the export's verification and ``import`` check, with one report."""

    def __init__(self) -> None:
        self.chain = ChainVerifier()
        self.rules = LogRules()
        self.broken: VerifyReport | None = None

    def feed(self, event: StoredEvent) -> bool:
        """Check one more event; False (and remember why) at the first fault."""
        if self.broken is not None or not self.chain.feed(event):
            return False
        return self._check(event.position, event.event_id, bytes(event.data), bytes(event.metadata),
                           event.recorded_at, event.prev_hash)

    def feed_rows(self, rows: Sequence[StoredRow]) -> bool:
        """:meth:`feed` for rows of the events table in column order (see
        :meth:`ChainVerifier.feed_rows`): the chain over the batch, then the rules over the rows
        before the chain's first fault, so that the first fault of either is the one reported."""
        if self.broken is not None:
            return False
        chained = self.chain.feed_rows(rows)
        end = self.chain.expected_position
        for pos, _sid, _ver, _typ, _sv, eid, data, md, rec, prev_hash, _hash in rows:
            if pos >= end:
                break
            if not self._check(pos, eid, _bytes(data), _bytes(md), rec, prev_hash):
                return False
        return chained

    def _check(self, position: int, event_id: str, data: bytes, metadata: bytes, recorded_at: str,
               prev_hash: str) -> bool:
        try:
            self.rules.check(position, event_id, data, metadata, recorded_at)
        except RuleBroken as e:
            self.fail(position, prev_hash, e)
            return False
        return True

    def fail(self, position: int, prev_hash: str, error: RuleBroken) -> None:
        """Record a broken rule at ``position`` (whose predecessor's hash is ``prev_hash``)."""
        self.broken = VerifyReport(
            ok=False,
            count=position - 1,
            head_position=position - 1,
            head_hash=prev_hash,
            failed_position=position,
            reason=error.reason,
            reason_zh=error.reason_zh,
            rule=error.rule.code,
        )

    def report(self) -> VerifyReport:
        if self.broken is not None:
            return self.broken
        report = self.chain.report()
        if report.ok or report.failed_position is None:
            return report
        return report.refused(
            report.failed_position, f"rule chain: {report.reason}", f"规则 chain：{report.reason_zh}", "chain"
        )


def _bytes(value: bytes | str) -> bytes:
    return value if value.__class__ is bytes else value.encode()  # type: ignore[union-attr]
