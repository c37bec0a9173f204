"""The log as a whole: verify its chain and rules, export it, import an export into a new
registry (with the documents' files), and rebuild the read models from it.
"""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

import click
from rich.console import Console
from rich.progress import Progress

from events.export import LineRefused, export_lines
from events.importer import import_log
from events.sqlite import SQLiteEventStore
from projections.read_models import ReadModels
from sandbox.cli.failures import CheckFailed, Failure, cannot_write, opened
from sandbox.cli.group import db_option, main
from sandbox.cli.usage import BadValue
from schemas.text import visible
from schemas.words import plural


@main.command()
@db_option
@click.option("--head", "head", default=None, metavar="POSITION:HASH",
              help="Also check that the log still holds this head, saved from an earlier verify.")
def verify(db: Path | None, head: str | None) -> None:
    """Re-hash every event and check the chain and the log's rules; exit 1 naming the first bad position.

    Example: sandbox-registry verify --db registry.db --head 1234:9f86d0…
    """
    saved = _saved_head(head) if head is not None else None
    with opened(db) as store:
        report = store.verify()
        held = next(store.iter_stored(after=saved[0] - 1, batch=1), None) if saved else None
    if not report.ok:
        raise CheckFailed(report.line())
    click.echo(report.line())
    if saved is not None:
        position, digest = saved
        if held is None or held.position != position:
            raise CheckFailed(
                f"the log ends at position {report.head_position}, before the saved head {position}",
                f"日志止于位置 {report.head_position}，早于保存的末端 {position}",
            )
        if held.hash != digest:
            raise CheckFailed(
                f"position {position} holds {held.hash}, not the saved head hash {digest}",
                f"位置 {position} 的哈希为 {held.hash}，不是保存的末端哈希 {digest}",
            )
        click.echo(f"ok: the log still holds the saved head {position}:{digest}")


def _saved_head(text: str) -> tuple[int, str]:
    position, _, digest = text.partition(":")
    if not position.isdigit() or int(position) < 1 or not re.fullmatch(r"[0-9a-f]{64}", digest):
        raise BadValue(
            "--head",
            f"{text!r} is not POSITION:HASH (a position from 1 and 64 lowercase hex digits)",
            f"{text!r} 不是 POSITION:HASH（从 1 起的位置和 64 位小写十六进制）",
        )
    return int(position), digest


@main.command()
@db_option
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write to this file instead of standard output.",
)
@click.option(
    "--documents",
    "documents_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Also copy every attached document's file into this directory, named by its SHA-256.",
)
def export(db: Path | None, out: Path | None, documents_dir: Path | None) -> None:
    """Write every event as JSON Lines in position order (the auditor's export format).

    With --documents DIR, the stored file of every attached document is copied into DIR under its
    SHA-256 (the hash its DocumentAttached event names), hashed again on the way; a document
    attached by hash alone has no file and is listed.
    Example: sandbox-registry export --db registry.db --out registry.jsonl --documents evidence/
    """
    with opened(db) as store:
        if documents_dir is not None:
            _export_documents(store, Path(store.path), documents_dir)
        if out is None:
            write = sys.stdout.buffer.write
            for line in export_lines(store.iter_stored(batch=5000)):
                write(line)
            sys.stdout.buffer.flush()
            return
        tmp = out.with_name(out.name + ".partial")
        try:
            with tmp.open("wb") as fh:
                count = 0
                for line in export_lines(store.iter_stored(batch=5000)):
                    fh.write(line)
                    count += 1
            tmp.replace(out)
        except OSError as e:
            raise cannot_write(out, e) from e
    click.echo(f"exported {plural(count, 'event')} to {out}", err=True)


def _export_documents(store: SQLiteEventStore, db: Path, target: Path) -> None:
    from sandbox.documents import DocumentStore, attached_hashes, copy_documents

    hashes = attached_hashes(store.iter_all(types=["DocumentAttached"]))
    try:
        copied, missing = copy_documents(hashes, DocumentStore.beside(db), target)
    except OSError as e:
        raise cannot_write(target, e) from e
    _say_copied(copied, f"to {target}", missing, "attached by hash alone (no stored file)")


def _import_documents(store: SQLiteEventStore, db: Path, source: Path) -> None:
    from sandbox.documents import DocumentMismatch, DocumentStore, attached_hashes, import_documents

    hashes = attached_hashes(store.iter_all(types=["DocumentAttached"]))
    try:
        copied, missing = import_documents(hashes, source, DocumentStore.beside(db))
    except DocumentMismatch as e:
        raise CheckFailed(
            f"refused {e.path}: its bytes hash to {e.actual}, not to the SHA-256 its name says",
            f"拒绝导入 {e.path}：文件内容的 SHA-256 为 {e.actual}，与文件名不符",
        ) from e
    except OSError as e:
        raise Failure(f"cannot copy the documents from {source}: {e.strerror or e}", f"无法从 {source} 复制材料") from e
    _say_copied(copied, f"from {source}", missing, f"with no file in {source}")


def _say_copied(copied: int, where: str, missing: list[str], why_missing: str) -> None:
    """On standard error: how many documents' files were copied, and those that had none."""
    click.echo(f"copied {plural(copied, 'document')} {where}", err=True)
    if missing:
        click.echo(f"{plural(len(missing), 'document')} {why_missing}: {', '.join(missing)}", err=True)


@main.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--db",
    "db",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="The NEW database to create (must not exist yet).",
)
@click.option(
    "--documents",
    "documents_dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="Also copy in the attached documents' files from this directory (as export --documents wrote it).",
)
def import_(file: Path, db: Path, documents_dir: Path | None) -> None:
    """Rebuild a registry from an export, re-verifying every hash; refuses a file that does not verify.

    With --documents DIR, the file of every attached document is copied from DIR (each named by
    its SHA-256, as export --documents writes them) into the new registry's document store, each
    hashed again first: a file whose bytes do not match its name refuses the whole import, naming
    the file. A document with no file in DIR is listed (it stays attached by hash alone).
    Example: sandbox-registry import registry.jsonl --db restored.db --documents evidence/
    """
    from sandbox.documents import DocumentStore

    if db.exists():
        raise Failure(f"{db} already exists; import only into a new database", f"{db} 已存在；只能导入到新数据库")
    documents_root = DocumentStore.beside(db).root
    documents_existed = documents_root.exists()
    try:
        with opened(db, create=True) as store:
            with file.open("rb") as fh, Progress(console=Console(stderr=True), transient=True) as progress:
                task = progress.add_task("importing", total=None)
                count = import_log(store, fh, progress=lambda n: progress.advance(task, n))
            if documents_dir is not None:
                _import_documents(store, db, documents_dir)
            ReadModels(store).catch_up()
            head = store.head()
    except BaseException as e:
        # whatever stopped it (a refused line, a full disk, ^C), the new file does not stay
        for suffix in ("", "-wal", "-shm"):
            Path(str(db) + suffix).unlink(missing_ok=True)
        if not documents_existed:  # (documents copied in before the refusal)
            shutil.rmtree(documents_root, ignore_errors=True)
        if isinstance(e, LineRefused):
            raise CheckFailed(f"refused {file}: {e}", f"拒绝导入 {file}：{e.message_zh}") from e
        raise
    click.echo(f"imported {plural(count, 'event')} into {db}; head position {head.position}, head hash {head.hash}")


@main.command()
@db_option
def rebuild(db: Path | None) -> None:
    """Drop every read model and replay the whole log into them (with a progress bar).

    Every event the read models could not fold, and every project whose rows they could not
    derive, is listed on stderr, and the exit status is then 1.
    Example: sandbox-registry rebuild --db registry.db
    """
    with opened(db) as store:
        models = ReadModels(store)
        total = store.head().position
        # Redrawn when the rebuild reports progress (about a hundred times a rebuild), not by a
        # refresh thread of its own.
        with Progress(console=Console(stderr=True), auto_refresh=False) as progress:
            task = progress.add_task("rebuilding read models", total=total)

            def advance(n: int) -> None:
                progress.advance(task, n)
                progress.refresh()

            models.rebuild(progress=advance)
        failures = models.failures()
    click.echo(f"rebuilt read models from {plural(total, 'event')}")
    for f in failures:
        what = "the event was skipped" if f.stage == "fold" else "the project's rows are stale"
        line = f"position {f.position} ({f.type}, project {f.project_id}): {f.error}; {what}"
        click.echo(visible(line, one_line=True), err=True)
    if failures:
        count = len(failures)
        raise CheckFailed(f"read-model failures: {count} (listed above)", f"读模型失败 {count} 处（见上）")
