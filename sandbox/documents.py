"""Documents stored, not only hashed: a content-addressed store beside the registry database.

An upload (a PDF or an image, at most :data:`MAX_BYTES`) is written under its SHA-256
(``<db>.documents/ab/abcdef…``, atomically: a temporary file renamed into place), and the
``attach_document`` command records its hash, size and media type in the event, so the log says
exactly which bytes were the evidence. A download reads the file and hashes it again: a file
changed on disk is refused (409 ``document_altered``), never served as the evidence it no longer
is. The media type is read from the file's first bytes, not taken from the client.

The API's upload route and the pages' upload form both build the command with
:func:`upload_command` and record it with :func:`attach_upload`; both downloads call
:func:`read_document`: one path to the store.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from collections.abc import Iterable
from pathlib import Path

import msgspec

from events.model import RecordedEvent
from projections.project import ProjectState
from sandbox.service import CommandResult, Registry
from schemas import commands as c
from schemas import events as ev
from schemas.base import Event
from schemas.commands import Actor
from schemas.errors import DomainError
from schemas.validation import explain, invalid

#: The largest document accepted (10 MiB).
MAX_BYTES = 10 * 1024 * 1024
#: The media types accepted, by the bytes their files begin with.
SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)
MEDIA_TYPES = tuple(dict.fromkeys(t for _, t in SIGNATURES))


def media_type_of(data: bytes) -> str | None:
    """The media type a file's first bytes say it is (None: not one the registry takes)."""
    for signature, media_type in SIGNATURES:
        if data.startswith(signature):
            return media_type
    return None


def check_upload(data: bytes) -> str:
    """The upload's media type, or a refusal naming the field ``file`` and the rule."""
    if not data:
        raise DomainError("invalid_value", field="file", rule_zh="不能为空文件", rule_en="must not be empty")
    if len(data) > MAX_BYTES:
        raise DomainError(
            "invalid_value",
            field="file",
            rule_zh=f"不能超过 {MAX_BYTES // (1024 * 1024)} MiB",
            rule_en=f"must be at most {MAX_BYTES // (1024 * 1024)} MiB",
        )
    media_type = media_type_of(data)
    if media_type is None:
        allowed = ", ".join(MEDIA_TYPES)
        raise DomainError(
            "invalid_value",
            field="file",
            rule_zh=f"须为 PDF 或图片（{allowed}）",
            rule_en=f"must be a PDF or an image ({allowed})",
        )
    return media_type


class DocumentStore:
    """Files named by their SHA-256 under one directory."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @classmethod
    def beside(cls, db_path: str | Path) -> DocumentStore:
        """The store of the registry database at ``db_path``: ``<db>.documents`` next to it."""
        path = Path(db_path)
        return cls(path.with_name(path.name + ".documents"))

    def path(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256

    def put(self, data: bytes) -> str:
        """Store ``data``; returns its SHA-256 (storing the same bytes twice keeps one file)."""
        digest = hashlib.sha256(data).hexdigest()
        target = self.path(digest)
        if target.exists():
            return digest
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{digest}.{secrets.token_hex(4)}.partial")
        with partial.open("wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        partial.replace(target)
        return digest

    def has(self, sha256: str) -> bool:
        return self.path(sha256).is_file()

    def read(self, sha256: str) -> bytes | None:
        """The stored bytes, hashed again: None if absent; a refusal if they no longer match."""
        try:
            data = self.path(sha256).read_bytes()
        except FileNotFoundError:
            return None
        if hashlib.sha256(data).hexdigest() != sha256:
            raise DomainError("document_altered", sha256=sha256)
        return data


def upload_command(data: bytes, *, kind: str, title: str, holder: str | None) -> c.AttachDocument:
    """The ``attach_document`` command an upload stands for (its hash, size and media type), or
    the refusal naming every field that is wrong (the file's too)."""
    media_type = check_upload(data)
    body = {
        "kind": kind,
        "sha256": hashlib.sha256(data).hexdigest(),
        "title": title,
        "holder": holder or None,
        "size": len(data),
        "media_type": media_type,
    }
    try:
        return msgspec.convert(body, c.AttachDocument)
    except msgspec.ValidationError:
        raise invalid(explain(c.AttachDocument, body)) from None


async def attach_upload(
    registry: Registry,
    documents: DocumentStore,
    actor: Actor,
    project_id: str,
    data: bytes,
    command: c.AttachDocument,
    *,
    command_id: str,
    expected_version: int | None = None,
) -> CommandResult:
    """Store an upload and attach it to the project, decided for ``actor`` as a reader of the
    project. The file is stored first: a refused command leaves an unreferenced file, never an
    event naming a file that is not there."""
    documents.put(data)
    result: CommandResult = await registry.execute_async(
        project_id, command, actor, command_id=command_id, expected_version=expected_version, reader=actor
    )
    return result


class DocumentNotFound(Exception):
    """A document a project does not have, or whose file is not stored: answered as the HTTP
    layer's 404 ``not_found`` (``sandbox.api.problems``), in both languages."""

    def __init__(self, project_id: str, sha256: str) -> None:
        super().__init__(f"project {project_id} has no stored document {sha256}")
        self.message_zh = f"项目 {project_id} 没有已存储的文件 {sha256}"


def read_document(state: ProjectState, documents: DocumentStore, sha256: str) -> tuple[bytes, str]:
    """A document of the project (bytes and media type), re-checked against its hash."""
    attached = next((d for d in state.documents if d.sha256 == sha256), None)
    data = documents.read(sha256) if attached is not None else None
    if attached is None or data is None:
        raise DocumentNotFound(state.project_id, sha256)
    return data, attached.media_type or media_type_of(data) or "application/octet-stream"


def attached_hashes(events: Iterable[RecordedEvent[Event]]) -> list[str]:
    """The SHA-256 of every document the events attach, each once, in the order attached."""
    seen: dict[str, None] = {}
    for event in events:
        if isinstance(event.payload, ev.DocumentAttached):
            seen.setdefault(event.payload.sha256)
    return list(seen)


def copy_documents(hashes: Iterable[str], documents: DocumentStore, target: Path) -> tuple[int, list[str]]:
    """Copy the named documents into ``target`` (each as a file named by its SHA-256, its bytes
    hashed again on the way); returns how many were copied and the hashes with no file in the
    store (attached by hash alone, or lost)."""
    target.mkdir(parents=True, exist_ok=True)
    copied, missing = 0, []
    for sha256 in hashes:
        data = documents.read(sha256)
        if data is None:
            missing.append(sha256)
            continue
        (target / sha256).write_bytes(data)
        copied += 1
    return copied, missing


class DocumentMismatch(Exception):
    """A file offered for import whose bytes do not hash to the SHA-256 its name says."""

    def __init__(self, path: Path, actual: str) -> None:
        self.path = path
        self.actual = actual
        super().__init__(f"{path}: its bytes hash to {actual}, not to its name")


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def import_documents(hashes: Iterable[str], source: Path, documents: DocumentStore) -> tuple[int, list[str]]:
    """Copy the named documents from ``source`` (a directory that ``export --documents`` wrote:
    each file named by its SHA-256) into the store. Every file is hashed first: one whose bytes
    do not match its name refuses the whole import (:class:`DocumentMismatch`) before anything is
    copied; the store hashes each again as it writes it. Returns how many were copied and the
    hashes with no file in ``source``."""
    present: list[tuple[str, Path]] = []
    missing: list[str] = []
    for sha256 in hashes:
        path = source / sha256
        if not path.is_file():
            missing.append(sha256)
            continue
        actual = _sha256_of(path)
        if actual != sha256:
            raise DocumentMismatch(path, actual)
        present.append((sha256, path))
    for sha256, path in present:
        stored = documents.put(path.read_bytes())
        if stored != sha256:  # (changed since it was checked)
            raise DocumentMismatch(path, stored)
    return len(present), missing
