"""The log made provable to anyone (service layer): the signing key beside the database, signed
checkpoints (made on request and kept on each tick), and inclusion and consistency proofs.

The key never enters the database, an export or a log line: it is a file of its own, mode 0600,
created by ``init`` (``<database>.signing-key``, or the file ``$SANDBOX_REGISTRY_SIGNING_KEY``
names). Its name is the log's origin, the first line of every checkpoint.

Each function asks for the narrowest port it needs: the proofs, the log's Merkle tree
(:class:`events.store.TreeLog`); the key, a log kept in a file (:class:`FileLog`); a signed
checkpoint, both (:class:`SignedLog`). The SQLite store is all three; a store in memory is none.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

import msgspec

from events.checkpoint import Checkpoint, CheckpointError, SigningKey
from events.merkle import Subtrees, consistency_proof, inclusion_proof, root, verify_consistency
from events.sqlite import format_recorded_at, utc_now
from events.store import EventReader, TreeLog
from sandbox.config import Refused
from schemas.registry import REGISTRY_STREAM, RegistryCreated
from schemas.words import plural

KEY_ENV = "SANDBOX_REGISTRY_SIGNING_KEY"
ORIGIN_ENV = "SANDBOX_REGISTRY_ORIGIN"


class FileLog(EventReader, Protocol):
    """A log kept in a file: its signing key is kept beside it (see :func:`key_path`)."""

    @property
    def path(self) -> Path: ...


@runtime_checkable
class SignedLog(FileLog, TreeLog, Protocol):
    """A log in a file whose tree is kept: what signing a checkpoint of it needs."""


def key_path(db: Path) -> Path:
    """``$SANDBOX_REGISTRY_SIGNING_KEY`` if set, else the file beside the database."""
    named = os.environ.get(KEY_ENV)
    return Path(named) if named else db.with_name(db.name + ".signing-key")


def origin(store: EventReader) -> str:
    """The log's name: ``$SANDBOX_REGISTRY_ORIGIN``, else ``sandbox-registry/<registry id>`` of
    the genesis event."""
    named = os.environ.get(ORIGIN_ENV)
    if named:
        return named
    for event in store.iter_stream(REGISTRY_STREAM, to_version=1):
        if isinstance(event.payload, RegistryCreated):
            return f"sandbox-registry/{event.payload.registry_id}"
    raise Refused("the registry has no genesis event: run init first", "登记库没有创世事件：请先运行 init")


def ensure_key(store: FileLog) -> tuple[Path, bool]:
    """The signing key's file, created (mode 0600) if there is none; and whether it was created."""
    path = key_path(store.path)
    if path.exists():
        return path, False
    try:
        key = SigningKey.generate(origin(store))
    except CheckpointError as e:
        raise Refused(
            f"${ORIGIN_ENV} cannot name a signing key: {e}",
            f"${ORIGIN_ENV} 不能作为签名密钥的名称（不得为空，不得含空格或 '+'）",
        ) from e
    return path, write_key(path, key.text())


def write_key(path: Path, text: str) -> bool:
    """Write a key file whole or not at all, never readable by others, never over another file;
    whether it was written (False: a file of that name was there first).

    The text goes to a temporary file beside ``path``, created with mode 0600 (so no moment
    exists when another user may read it), flushed to disk, then linked to ``path``: the link
    fails if ``path`` exists, so a key is never replaced, and a reader sees no file or the whole
    key, never part of one (as a crash during the write leaves no key at all)."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as e:
        raise Refused(f"cannot create the signing key {path}: {e.strerror}", f"无法创建签名密钥 {path}") from e
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.link(temporary, path)
    except FileExistsError:
        return False
    except OSError as e:
        raise Refused(f"cannot create the signing key {path}: {e.strerror}", f"无法创建签名密钥 {path}") from e
    finally:
        temporary.unlink(missing_ok=True)
    return True


def load_key(store: FileLog) -> SigningKey:
    path = key_path(store.path)
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise Refused(
            f"no signing key at {path}: run sandbox-registry init (it creates one) or set ${KEY_ENV}",
            f"{path} 没有签名密钥：请运行 sandbox-registry init（会创建一个）或设置 ${KEY_ENV}",
        ) from None
    except OSError as e:
        raise Refused(f"cannot read the signing key {path}: {e.strerror}", f"无法读取签名密钥 {path}") from e
    try:
        return SigningKey.parse(text)
    except CheckpointError as e:
        raise Refused(f"the signing key {path} is not usable: {e}", f"签名密钥 {path} 不可用") from e


def tree_head(store: TreeLog, name: str, size: int | None = None) -> Checkpoint:
    """The tree head of the log named ``name`` at ``size`` (the head of the log when None)."""

    def read(tree: Subtrees, head: int) -> Checkpoint:
        n = head if size is None else size
        _within(n, 0, head, "tree_size")
        return Checkpoint(name, n, root(tree, n))

    return store.read_tree(read)


def sign_checkpoint(store: SignedLog) -> str:
    """A signed checkpoint of the log's head, kept if it is not the last one kept (same size,
    same key), so that consistency between any two published checkpoints can be shown later."""
    return _signed(store)[0]


def _signed(store: SignedLog) -> tuple[str, bool]:
    key = load_key(store)
    head = tree_head(store, key.name)  # the origin line is the key's name, as C2SP recommends
    note = key.sign(head.text())
    kept = store.keep_checkpoint(note, key.verifier.id.hex(), format_recorded_at(utc_now()), head.size)
    return note, kept


def keep_on_tick(store: EventReader) -> bool:
    """After a tick: keep a signed checkpoint of the head if a signing key is there and the head
    moved since the last one kept (a registry without a key, created before keys were, or a
    store in memory, is passed over); whether one was kept."""
    if not isinstance(store, SignedLog) or not key_path(store.path).exists():
        return False
    return _signed(store)[1]


@dataclass(frozen=True, slots=True)
class InclusionProof:
    tree_size: int
    leaf_index: int
    hashes: list[str]


@dataclass(frozen=True, slots=True)
class ConsistencyProof:
    from_size: int
    to_size: int
    hashes: list[str]


class OutOfRange(Refused):
    """A position or tree size the log does not (yet) hold, naming the parameter."""

    def __init__(self, field: str, message: str, message_zh: str) -> None:
        super().__init__(message, message_zh)
        self.field = field


def _within(value: int, low: int, high: int, name: str) -> None:
    if not low <= value <= high:
        raise OutOfRange(
            name,
            f"{name} must be from {low} to {high}, not {value} (the log holds {plural(high, 'event')})"
            if name in ("tree_size", "to")
            else f"{name} must be from {low} to {high}, not {value}",
            f"{name} 须在 {low} 到 {high} 之间，而不是 {value}",
        )


def prove_inclusion(store: TreeLog, position: int, tree_size: int | None = None) -> InclusionProof:
    """The inclusion proof of the event at ``position`` (leaf ``position - 1``) in the tree of
    ``tree_size`` leaves (the head when None)."""

    def read(tree: Subtrees, head: int) -> InclusionProof:
        size = head if tree_size is None else tree_size
        _within(size, 1, head, "tree_size")
        _within(position, 1, size, "position")
        hashes = inclusion_proof(tree, position - 1, size)
        return InclusionProof(size, position - 1, [h.hex() for h in hashes])

    return store.read_tree(read)


def prove_consistency(store: TreeLog, old: int, new: int | None = None) -> ConsistencyProof:
    """The consistency proof from the tree of ``old`` leaves to that of ``new`` (the head when None)."""

    def read(tree: Subtrees, head: int) -> ConsistencyProof:
        to = head if new is None else new
        _within(to, 0, head, "to")
        _within(old, 0, to, "from")
        hashes = consistency_proof(tree, old, to)
        return ConsistencyProof(old, to, [h.hex() for h in hashes])

    return store.read_tree(read)


class ConsistencyRefused(Refused):
    """A consistency proof that does not show one checkpoint's tree is a prefix of another's."""


class _ServedConsistency(msgspec.Struct, rename={"from_size": "from", "to_size": "to"}):
    """A consistency proof as the API serves it."""

    from_size: int
    to_size: int
    hashes: list[str]


_consistency_decoder = msgspec.json.Decoder(_ServedConsistency)


def check_consistency(old: Checkpoint, new: Checkpoint, proof_json: bytes) -> None:
    """Check a consistency proof, as ``/api/v1/audit/proof/consistency`` serves it, between two
    (already verified) checkpoints of one log: its sizes are theirs, and the RFC 9162 §2.1.4.2
    verification leads from the older root to the newer."""
    try:
        proof = _consistency_decoder.decode(proof_json)
        hashes = [bytes.fromhex(h) for h in proof.hashes]
    except (msgspec.DecodeError, ValueError) as e:
        raise ConsistencyRefused(
            f"not a consistency proof (a JSON object of from, to and hex hashes): {e}",
            f"不是一致性证明（应为含 from、to 与十六进制哈希的 JSON 对象）：{e}",
        ) from e
    if (proof.from_size, proof.to_size) != (old.size, new.size):
        raise ConsistencyRefused(
            f"the proof is from {proof.from_size} to {proof.to_size} events; the checkpoints are of"
            f" {old.size} and {new.size}",
            f"该证明从 {proof.from_size} 到 {proof.to_size} 个事件；检查点为 {old.size} 与 {new.size} 个事件",
        )
    if old.origin != new.origin:
        raise ConsistencyRefused(
            f"the checkpoints are of two logs ({old.origin}, {new.origin})",
            f"两个检查点属于不同的日志（{old.origin}、{new.origin}）",
        )
    if not verify_consistency(old.size, new.size, hashes, old.root, new.root):
        raise ConsistencyRefused(
            f"the proof does not show that the tree of {plural(old.size, 'event')} is a prefix of the tree of"
            f" {new.size}: the log was rewritten, or the proof or a checkpoint is not the one served",
            f"该证明不能表明 {old.size} 个事件的树是 {new.size} 个事件的树的前缀："
            "日志被改写，或证明、检查点并非所发布者",
        )
