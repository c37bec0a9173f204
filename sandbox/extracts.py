"""Verifiable register extracts (service layer): one public register entry with what proves it
offline, and the check an outsider makes of it with the registry's verifier key alone.

An extract holds a signed checkpoint (signed now, and kept), every event of the project's stream
up to it (public events whole, private ones withheld, see :mod:`projections.extract`), each with
its RFC 9162 inclusion proof against that checkpoint, the entry as the registry serves it at the
checkpoint's size, and how the entry is replayed from those events.
"""

from __future__ import annotations

import json
from typing import Any, Protocol

import msgspec

from events.checkpoint import CheckpointError, VerifierKey, parse_checkpoint, split_note, verify_checkpoint
from events.codec import EventCodec
from events.errors import UnknownEventTypeError
from events.export import export_line, parse_line
from events.hashchain import stored_hash
from events.logrules import RuleBroken
from events.merkle import Subtrees, event_leaf, inclusion_proof, verify_inclusion
from events.model import RecordedEvent
from events.store import Audit
from projections.extract import (
    PUBLIC_TYPE_NAMES,
    REPLAY,
    ExtractError,
    Withheld,
    is_public,
    replay_entry,
    withhold,
)
from projections.project import fold
from projections.public import RegisterEntry, register_entry
from sandbox.config import Refused
from sandbox.transparency import SignedLog, sign_checkpoint
from schemas.base import Event
from schemas.streams import PROJECT_PREFIX

FORMAT = "sandbox-registry-register-extract-v1"


class ExtractEvent(msgspec.Struct, kw_only=True, omit_defaults=True):
    """One event of the stream: its export record whole (a public event) or withheld (a private
    one), and its inclusion proof against the checkpoint (hex, nearest the leaf first)."""

    position: int
    inclusion: list[str]
    record: dict[str, Any] | None = None
    withheld: Withheld | None = None


class RegisterExtract(msgspec.Struct, kw_only=True):
    """A public register entry and everything needed to check it offline."""

    format: str
    project_id: str
    #: a C2SP signed note holding a C2SP tlog-checkpoint
    checkpoint: str
    tree_size: int
    entry: RegisterEntry
    events: list[ExtractEvent]
    replay: dict[str, str]


class NotOnRegister(Refused):
    """The project is not (or not yet) on the public register."""


class ExtractRefused(Refused):
    """An extract that does not check out, saying what failed."""


class ExtractedLog(SignedLog, Audit, Protocol):
    """What an extract is made from: a log that signs its checkpoints and proves inclusion in
    its tree (:class:`SignedLog`), and gives each event's record exactly as stored."""


def register_extract(store: ExtractedLog, project_id: str) -> RegisterExtract:
    """The extract of a project's public entry, against a checkpoint signed now (and kept)."""
    note = sign_checkpoint(store)
    head = parse_checkpoint(split_note(note)[0])
    stream = store.read_stream(PROJECT_PREFIX + project_id, as_of_position=head.size)
    entry = register_entry(fold(stream))
    if entry is None:
        raise NotOnRegister(
            f"project {project_id} is not on the public register",
            f"项目 {project_id} 不在公开登记册上",
        )

    def prove(tree: Subtrees, _head: int) -> list[list[str]]:
        return [[h.hex() for h in inclusion_proof(tree, e.position - 1, head.size)] for e in stream]

    proofs = store.read_tree(prove)
    events = [
        ExtractEvent(position=e.position, inclusion=proof, record=_record(store, e))
        if is_public(e)
        else ExtractEvent(position=e.position, inclusion=proof, withheld=withhold(e))
        for e, proof in zip(stream, proofs, strict=True)
    ]
    return RegisterExtract(
        format=FORMAT,
        project_id=project_id,
        checkpoint=note,
        tree_size=head.size,
        entry=entry,
        events=events,
        replay=dict(REPLAY),
    )


def _record(store: Audit, event: RecordedEvent[Event]) -> dict[str, Any]:
    """The event's export record, exactly as stored (its hash covers these values)."""
    stored = next(store.iter_stored(after=event.position - 1, batch=1))
    record: dict[str, Any] = msgspec.json.decode(export_line(stored))
    return record


def _refuse(en: str, zh: str) -> ExtractRefused:
    return ExtractRefused(en, zh)


def canonical_line(record: dict[str, Any]) -> str:
    """An export record as its export line (without the newline): the README's canonical form."""
    return json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def check_extract(text: bytes, key: VerifierKey, codec: EventCodec) -> RegisterExtract:
    """Check an extract offline: the checkpoint's signature, every event's hash and inclusion
    proof, that the stream is whole (versions 1, 2, 3 …), and that replaying the events gives
    the entry. Returns the extract, or raises :class:`ExtractRefused` naming what failed."""
    try:
        extract = msgspec.json.decode(text, type=RegisterExtract)
    except (msgspec.DecodeError, RecursionError) as e:  # (a value nested too deep to decode)
        raise _refuse(f"not a register extract: {e}", f"不是登记条目证明包：{e}") from e
    if extract.format != FORMAT:
        raise _refuse(f"unknown extract format {extract.format!r}", f"未知的证明包格式 {extract.format!r}")
    try:
        head = verify_checkpoint(extract.checkpoint, key)
    except CheckpointError as e:
        raise _refuse(f"checkpoint: {e}", "检查点未通过校验（签名或格式）") from e
    if head.size != extract.tree_size:
        raise _refuse(
            f"the checkpoint is of {head.size} events, the extract says {extract.tree_size}",
            f"检查点含 {head.size} 个事件，证明包称 {extract.tree_size} 个",
        )
    stream_id = PROJECT_PREFIX + extract.project_id
    items: list[RecordedEvent[Event] | Withheld] = []
    last_position = 0
    for version, item in enumerate(extract.events, start=1):
        where = f"the event at position {item.position}"
        where_zh = f"位置 {item.position} 的事件"
        if item.position <= last_position or not 1 <= item.position <= head.size:
            raise _refuse(f"{where} is out of order or beyond the checkpoint", f"{where_zh}顺序有误或超出检查点")
        last_position = item.position
        if (item.record is None) == (item.withheld is None):
            raise _refuse(f"{where} must be given whole or withheld", f"{where_zh}须完整给出或隐去，二者取一")
        if item.withheld is not None:
            w = item.withheld
            if w.type in PUBLIC_TYPE_NAMES:
                raise _refuse(
                    f"{where} is public ({w.type}) and must be given whole", f"{where_zh}为公开事件，须完整给出"
                )
            claimed, got_version, got_position = w.hash, w.version, w.position
            items.append(w)
        else:
            assert item.record is not None
            recorded = _public_event(item.record, codec, where, where_zh)
            if recorded.stream_id != stream_id:
                raise _refuse(f"{where} is of another stream", f"{where_zh}属于另一事件流")
            claimed, got_version, got_position = recorded.hash, recorded.version, recorded.position
            items.append(recorded)
        if got_position != item.position:
            raise _refuse(f"{where} states position {got_position}", f"{where_zh}所述位置为 {got_position}")
        if got_version != version:
            raise _refuse(
                f"{where} is version {got_version} of the stream where {version} was due (an event is missing)",
                f"{where_zh}是本流第 {got_version} 版，应为第 {version} 版（缺少事件）",
            )
        try:
            proof = [bytes.fromhex(h) for h in item.inclusion]
            leaf = event_leaf(claimed)
        except ValueError as e:
            raise _refuse(f"{where}: a hash is not hex", f"{where_zh}：哈希不是十六进制") from e
        if not verify_inclusion(leaf, item.position - 1, head.size, proof, head.root):
            raise _refuse(
                f"{where}: its inclusion proof does not lead to the checkpoint's root",
                f"{where_zh}：其包含证明不能得出检查点的默克尔根",
            )
    try:
        replayed = replay_entry(extract.project_id, items)
    except ExtractError as e:
        raise _refuse(f"the events cannot be replayed: {e}", "无法重放这些事件（隐去的事件缺少其应述事实）") from e
    served, got = msgspec.to_builtins(extract.entry), msgspec.to_builtins(replayed)
    if served != got:
        fields = sorted(k for k in served if not isinstance(got, dict) or got.get(k) != served.get(k))
        raise _refuse(
            f"replaying the events does not give the entry (fields differ: {', '.join(fields)})",
            f"重放事件得不到该条目（不同的字段：{', '.join(fields)}）",
        )
    return extract


def _public_event(record: dict[str, Any], codec: EventCodec, where: str, where_zh: str) -> RecordedEvent[Event]:
    """A public event's record checked (canonical form, hash) and decoded."""
    try:
        stored = parse_line(canonical_line(record))
    except (RuleBroken, RecursionError) as e:
        raise _refuse(f"{where} is not an export record: {e}", f"{where_zh}不是导出记录") from e
    if stored_hash(stored) != stored.hash:
        raise _refuse(
            f"{where}: its hash is not the SHA-256 of its content (the event was altered)",
            f"{where_zh}：其哈希不是其内容的 SHA-256（事件被改动）",
        )
    if stored.type not in PUBLIC_TYPE_NAMES:
        raise _refuse(f"{where} is of a private type ({stored.type})", f"{where_zh}属非公开类型")
    try:
        return codec.decode(stored)
    except (msgspec.ValidationError, msgspec.DecodeError, UnknownEventTypeError, ValueError) as e:
        raise _refuse(f"{where} does not decode: {e}", f"{where_zh}无法解码") from e
