"""The ``sandbox-registry`` command line: a thin click layer over the library.

Each command opens the database and calls one library function. Failures are one line on
standard error and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import shutil
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, TypeVar

import click
import msgspec
from rich.console import Console
from rich.progress import Progress
from rich.table import Table
from rich.text import Text

from events.checkpoint import CheckpointError, VerifierKey, verify_checkpoint
from events.errors import StoreError
from events.export import LineRefused, export_lines, verify_export_roots
from events.importer import import_log
from events.sqlite import SQLiteEventStore, utc_now
from projections.read_models import ReadModels
from projections.views import past_refusal, project_view
from sandbox import extracts, transparency
from sandbox.config import (
    ACCESS_LOG_ENV,
    DB_ENV,
    DEFAULT_TICK_SECONDS,
    TICK_ENV,
    HttpSettings,
    Refused,
    default_db_path,
    default_tick_seconds,
)
from sandbox.program_upgrade import upgrade_bundled
from sandbox.registry import init_registry, make_codec, open_store
from sandbox.service import Registry
from sandbox.tokens import ROLES, AlreadyExpired, TokenError, Tokens
from schemas.dates import CHINA, day_moment
from schemas.errors import DomainError
from schemas.lifecycle import State
from schemas.streams import project_stream
from schemas.text import visible
from schemas.words import plural

F = TypeVar("F", bound=Callable[..., Any])

#: Exit codes: 1 = the check failed (e.g. the log does not verify), 2 = cannot run at all.
EXIT_FAILED = 1
EXIT_UNUSABLE = 2


def db_option(fn: F) -> F:
    return click.option(
        "--db",
        "db",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help=f"Registry database file (default: ${DB_ENV}, else ./registry.db).",
    )(fn)


class Failure(click.ClickException):
    """A one-line error: the command cannot run at all (exit 2). Given a Chinese text too, the
    line says it in English, then in Chinese."""

    exit_code = EXIT_UNUSABLE

    def __init__(self, message: str, message_zh: str | None = None) -> None:
        line = message if message_zh is None else f"{message} / {message_zh}"
        super().__init__(visible(line, one_line=True))  # (it may quote a title or an argument)

    @classmethod
    def of(cls, refusal: Refused) -> Failure:
        """The line for a refusal of the service layer, which says it in both languages."""
        return cls(str(refusal), refusal.message_zh)


def cannot_open(path: Path, error: StoreError) -> Failure:
    return Failure(f"cannot open the registry database {path}: {error}", f"无法打开登记库数据库 {path}")


class CheckFailed(Failure):
    """A one-line error: the command ran and its check failed (exit 1)."""

    exit_code = EXIT_FAILED


@contextmanager
def opened(db: Path | None, *, create: bool = False) -> Iterator[SQLiteEventStore]:
    path = db or default_db_path()
    try:
        store = open_store(path, create=create)
    except StoreError as e:
        raise cannot_open(path, e) from e
    try:
        yield store
    except StoreError as e:
        raise Failure(f"{path}: {e}", f"登记库数据库出错：{path}") from e
    except DomainError as e:
        raise CheckFailed(f"{e.code}: {e.message_en}", e.message_zh) from e
    finally:
        store.close()


@contextmanager
def registry_at(db: Path | None, *, clock: Callable[[], dt.datetime] | None = None) -> Iterator[Registry]:
    """The registry over an existing database, with its read models caught up."""
    with opened(db) as store:
        models = ReadModels(store)
        registry = Registry(store, clock=clock or utc_now, read_models=models)
        models.catch_up()
        yield registry


class Shown(Table):
    """A table whose title and cells are shown as they are: every character a terminal would act
    on written as an escape (:func:`schemas.text.visible`), and nothing read as rich's markup (a
    title ``[red]x`` is those six characters)."""

    def __init__(self, title: str) -> None:
        super().__init__(title=Text(visible(title, one_line=True)))

    def add_row(self, *cells: Any, **options: Any) -> None:
        super().add_row(*(Text(visible(str(c))) for c in cells), **options)


@contextmanager
def refusals() -> Iterator[None]:
    """A refusal of the service layer, said as the command line's one-line error (exit 2)."""
    try:
        yield
    except Refused as e:
        raise Failure.of(e) from e


def out() -> Console:
    """Standard output: the terminal's width, or 160 columns when piped; cells fold, never cut."""
    return Console(width=None if sys.stdout.isatty() else 160)


def emit_json(value: Any) -> None:
    """Stable JSON on standard output (UTF-8, keys in a fixed order)."""
    click.echo(msgspec.json.encode(value, order="deterministic").decode())


#: How far ahead of this machine's clock a ``tick --now`` may be without ``--future`` (clock skew).
FUTURE_TOLERANCE = dt.timedelta(minutes=5)


class BadValue(click.BadParameter):
    """A value of an option the command itself refuses, said in English and in Chinese, each
    naming the option."""

    def __init__(self, option: str, message: str, message_zh: str) -> None:
        super().__init__(message, param_hint=option)
        self.option, self.message_zh = option, message_zh

    def format_message(self) -> str:
        return f"{super().format_message()} / {self.option} 的值无效：{self.message_zh}"


def parse_time(value: str | None, option: str) -> dt.datetime | None:
    """A time given on the command line: ISO 8601 (without an offset, China time)."""
    if value is None:
        return None
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError as e:
        raise BadValue(
            option,
            f"{value!r} is not an ISO 8601 time (e.g. 2026-03-01T09:00:00+08:00)",
            f"{value!r} 不是 ISO 8601 时间（例如 2026-03-01T09:00:00+08:00）",
        ) from e
    return moment if moment.tzinfo else moment.replace(tzinfo=CHINA)


Rules = tuple[tuple[re.Pattern[str], str], ...]


def _rules(*rows: tuple[str, str]) -> Rules:
    """(English pattern, Chinese template) rows, compiled to match a whole message."""
    return tuple((re.compile(english, re.DOTALL), chinese) for english, chinese in rows)


#: Chinese for the values click itself refuses (the part of a message after the option's name),
#: tried in order; each English pattern is click's own wording (click 8).
VALUE_RULES_ZH: Rules = _rules(
    (r"(?P<v>.*) is not (?:one of )?(?P<c>'.*')\.", "{v} 不是可选值（{c}）之一"),
    (r"(?P<v>.*) is not a valid integer( range)?\.", "{v} 不是有效的整数"),
    (r"(?P<v>.*) is not a valid float( range)?\.", "{v} 不是有效的数字"),
    (r"(?P<v>.*) is not a valid (?P<t>[\w ]+)\.", "{v} 不是有效的 {t}"),
    (r"(?P<v>.*) is not in the range (?P<r>.*)\.", "{v} 不在范围 {r} 之内"),
    (r"(?:File|Directory|Path) (?P<v>.*) does not exist\.", "{v} 不存在"),
    (r"(?:File|Directory|Path) (?P<v>.*) is a directory\.", "{v} 是目录，须为文件"),
    (r"(?:File|Directory|Path) (?P<v>.*) is a file\.", "{v} 是文件，须为目录"),
    (r"(?:File|Directory|Path) (?P<v>.*) is not readable\.", "{v} 不可读"),
    (r"(?:File|Directory|Path) (?P<v>.*) is not writable\.", "{v} 不可写"),
    (r"(?P<v>.*) does not match the formats? (?P<f>.*)\.", "{v} 不符合格式 {f}"),
    (r"Takes (?P<n>\d+) values but (?P<g>\d+) (?:was|were) given\.", "须给出 {n} 个值，实际给出 {g} 个"),
)

#: click's guess at what was meant, after an unknown option or command.
_SUGGESTION = r"(?:\s+\(?Did you mean (?:one of: )?(?P<suggest>.*?)\?\)?)?"

#: Chinese for click's usage errors as a whole, tried in order (``{value}`` is the refused value's
#: Chinese, from :data:`VALUE_RULES_ZH`).
USAGE_RULES_ZH: Rules = _rules(
    (r"Invalid value for (?P<p>'[^']*'(?: / '[^']*')*|.+?): (?P<rest>.*)", "{p} 的值无效：{value}"),
    (r"Invalid value: (?P<rest>.*)", "值无效：{value}"),
    (r"Missing option (?P<p>'[^']*'(?: / '[^']*')*|\S+?)\.?(?:\s+Choose from:(?P<choices>.*))?", "缺少选项 {p}"),
    (r"Missing argument (?P<p>'[^']*'|\S+?)\.?(?:\s+Choose from:(?P<choices>.*))?", "缺少参数 {p}"),
    (r"Missing parameter:? (?P<p>'[^']*'|\S+?)\.?", "缺少参数 {p}"),
    (r"No such option:? (?P<p>'[^']*'|\S+?)\.?" + _SUGGESTION, "没有选项 {p}"),
    (r"No such command (?P<p>'[^']*'|\S+?)\." + _SUGGESTION, "没有命令 {p}"),
    (r"Missing command\.", "缺少子命令"),
    (r"Option (?P<p>.*) requires an argument\.", "选项 {p} 须给出一个值"),
    (r"Option (?P<p>.*) requires (?P<n>\d+) arguments\.", "选项 {p} 须给出 {n} 个值"),
    (r"Option (?P<p>.*) does not take a value\.", "选项 {p} 不接受值"),
    (r"Got unexpected extra arguments? \((?P<p>.*)\)", "多余的参数：{p}"),
)


def usage_zh(message: str) -> str:
    """The Chinese of one of click's usage errors (its English ``message``); a usage error click
    words in a way not listed above still gets a Chinese sentence, without its details."""
    for pattern, chinese in USAGE_RULES_ZH:
        found = pattern.fullmatch(message)
        if found:
            fields = found.groupdict()
            choices, suggest = fields.pop("choices", None), fields.pop("suggest", None)
            said = chinese.format(value=_value_zh(fields.pop("rest", "")), **fields)
            if choices:  # a missing choice lists them one a line, each followed by a comma
                said += "（可选：" + ", ".join(c.strip(" ,\t\n") for c in choices.split(",") if c.strip()) + "）"
            if suggest:
                said += f"（是否想用 {suggest}？）" if "," not in suggest else f"（是否想用以下之一：{suggest}？）"
            return said
    return "命令行用法有误（参见 --help）"


def _value_zh(message: str) -> str:
    for pattern, chinese in VALUE_RULES_ZH:
        found = pattern.fullmatch(message)
        if found:
            return chinese.format(**found.groupdict())
    return "不符合该选项的要求"


class BilingualUsageError(click.UsageError):
    """A usage error whose lines are all in English and Chinese: the usage, the hint to ask for
    help and the error itself."""

    def show(self, file: IO[Any] | None = None) -> None:
        stream = file if file is not None else sys.stderr
        color = self.ctx.color if self.ctx is not None else None
        if self.ctx is not None:
            asked = f"'{self.ctx.command_path} {max(self.ctx.help_option_names, key=len)}'"
            hint = f"Try {asked} for help. / 用 {asked} 查看帮助。"
            click.echo(f"{self.ctx.get_usage()}\n{hint}\n", file=stream, color=color)
        click.echo(f"Error: {self.format_message()}", file=stream, color=color)


def bilingual(error: click.UsageError) -> click.UsageError:
    """A usage error said in English, then in Chinese (the command's own :class:`BadValue` says
    both already)."""
    if isinstance(error, click.exceptions.NoArgsIsHelpError | BilingualUsageError):
        return error  # (the help, asked for by giving no arguments; or said in both already)
    message = error.format_message()
    if not isinstance(error, BadValue):  # (click's own words: a value typed in Chinese is still English)
        message = f"{' '.join(message.split())} / {usage_zh(message)}"  # (one line: click lists choices one a line)
    return BilingualUsageError(visible(message, one_line=True), ctx=error.ctx)  # (it may quote an argument)


class BilingualGroup(click.Group):
    """The command group whose usage errors (a missing option, a value outside its choices, an
    unknown option: click's own words) are said in English and in Chinese, as every other
    failure of the command line. Each is raised while the arguments of the group or of one of
    its commands are parsed, so it passes through :meth:`make_context` or :meth:`invoke`."""

    def make_context(
        self, info_name: str | None, args: list[str], parent: click.Context | None = None, **extra: Any
    ) -> click.Context:
        try:
            return super().make_context(info_name, args, parent, **extra)
        except click.UsageError as e:
            raise bilingual(e) from e

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.UsageError as e:
            raise bilingual(e) from e


@click.group(cls=BilingualGroup, context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Sandbox Registry: an event-sourced registry for regulatory sandboxes and pilots."""


@main.command()
@db_option
def init(db: Path | None) -> None:
    """Create the registry database and record its genesis event (safe to run again).

    Example: sandbox-registry init --db registry.db
    """
    with opened(db, create=True) as store:
        result = init_registry(store)
        published = Registry(store).install_bundled()
        head = store.head()
        state = "already initialised" if result.duplicate and not published else "initialised"
        click.echo(f"{store.path}: {state}; {plural(head.position, 'event')}, head hash {head.hash}")
        with refusals():
            key, created = transparency.ensure_key(store)
        click.echo(f"checkpoint signing key: {key} ({'created, mode 0600' if created else 'kept'})")


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


@main.command("register-proof")
@db_option
@click.argument("project_id", metavar="ID")
def register_proof(db: Path | None, project_id: str) -> None:
    """A public register entry with what proves it offline (the API's /register/ID/proof): a
    checkpoint signed now, the project's public events whole and its private ones withheld, each
    with its inclusion proof, and the entry. Check it with `sandbox-registry audit entry`.

    Example: sandbox-registry register-proof 7f3c… > entry.json
    """
    with opened(db) as store, refusals():
        extract = extracts.register_extract(store, project_id)
    emit_json(extract)


@main.command()
@db_option
@click.option("--key", "show_key", is_flag=True, help="Print the verifier key instead (name+id+key).")
def checkpoint(db: Path | None, show_key: bool) -> None:
    """Print a signed checkpoint of the log's head (C2SP signed note), and keep it.

    Example: sandbox-registry checkpoint --db registry.db > head.checkpoint
    """
    with opened(db) as store, refusals():
        key = transparency.load_key(store)
        text = key.verifier.text() + "\n" if show_key else transparency.sign_checkpoint(store)
    click.echo(text, nl=False)


@main.group()
def prove() -> None:
    """RFC 9162 proofs over the log's Merkle tree, as JSON (the API's form)."""


@prove.command("inclusion")
@db_option
@click.argument("position", type=click.IntRange(1, 2**53 - 1))
@click.option("--tree-size", type=click.IntRange(1, 2**53 - 1), default=None, help="Tree size (default: the head).")
def prove_inclusion(db: Path | None, position: int, tree_size: int | None) -> None:
    """The inclusion proof of the event at POSITION. Example: sandbox-registry prove inclusion 42"""
    with opened(db) as store, refusals():
        proof = transparency.prove_inclusion(store, position, tree_size)
    emit_json({"tree_size": proof.tree_size, "leaf_index": proof.leaf_index, "hashes": proof.hashes})


@prove.command("consistency")
@db_option
@click.argument("old", metavar="FROM", type=click.IntRange(0, 2**53 - 1))
@click.argument("new", metavar="[TO]", type=click.IntRange(0, 2**53 - 1), required=False)
def prove_consistency(db: Path | None, old: int, new: int | None) -> None:
    """The consistency proof from tree size FROM to TO (default: the head).
    Example: sandbox-registry prove consistency 100 250"""
    with opened(db) as store, refusals():
        proof = transparency.prove_consistency(store, old, new)
    emit_json({"from": proof.from_size, "to": proof.to_size, "hashes": proof.hashes})


@main.group()
def audit() -> None:
    """Checks an auditor makes without the registry's database."""


def _verifier_key(vkey: str) -> VerifierKey:
    """``--key``: a verifier key, or a file holding one."""
    try:
        return VerifierKey.parse(Path(vkey).read_text() if Path(vkey).is_file() else vkey)
    except CheckpointError as e:
        raise BadValue("--key", str(e), "不是有效的验证公钥") from e


@audit.command("verify")
@click.argument(
    "export_file", metavar="[EXPORT]", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option(
    "--checkpoint",
    "checkpoints",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A signed checkpoint to check against the export (give two to check their consistency).",
)
@click.option("--key", "vkey", default=None, help="The registry's verifier key (name+id+key), or a file holding it.")
@click.option(
    "--proof",
    "proof_file",
    default=None,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A consistency proof between the two checkpoints (as /api/v1/audit/proof/consistency serves it).",
)
def audit_verify(
    export_file: Path | None, checkpoints: tuple[Path, ...], vkey: str | None, proof_file: Path | None
) -> None:
    """Verify an export (framing, chain, rules), the checkpoints' signatures, and that the export's
    Merkle tree has each checkpoint's root at its size; two checkpoints of one export are consistent.
    Without the export, two checkpoints and --proof: that the proof shows the earlier checkpoint's
    tree is a prefix of the later one's (RFC 9162 §2.1.4.2).

    Example: sandbox-registry audit verify registry.jsonl --checkpoint head.checkpoint --key "$(cat vkey)"

    Example: sandbox-registry audit verify --checkpoint old.checkpoint --checkpoint new.checkpoint
    --proof consistency.json --key "$(cat vkey)"
    """
    if checkpoints and vkey is None:
        raise BadValue(
            "--key", "a checkpoint is checked with the registry's verifier key", "核对检查点需要登记库的验证公钥"
        )
    if proof_file is not None and len(checkpoints) != 2:
        raise BadValue(
            "--proof",
            "a consistency proof is checked between two --checkpoint files",
            "一致性证明须与两个 --checkpoint 文件一起核对",
        )
    if export_file is None and proof_file is None:
        raise BadValue(
            "EXPORT", "give an export, or two checkpoints and --proof", "请给出导出文件，或两个检查点及 --proof"
        )
    heads = []
    if vkey is not None:
        key = _verifier_key(vkey)
        for file in checkpoints:
            try:
                heads.append((file, verify_checkpoint(file.read_text(encoding="utf-8"), key)))
            except (CheckpointError, UnicodeDecodeError) as e:
                raise CheckFailed(f"checkpoint {file}: {e}", f"检查点 {file} 未通过校验") from e
    if proof_file is not None:
        (_, old), (_, new) = sorted(heads, key=lambda fh: fh[1].size)
        try:
            transparency.check_consistency(old, new, proof_file.read_bytes())
        except Refused as e:
            raise CheckFailed(f"{proof_file}: {e}", e.message_zh) from e
        click.echo(
            f"ok: the checkpoints of {old.size} and {new.size} events are signed and consistent:"
            f" the tree of {plural(old.size, 'event')} is a prefix of the tree of {new.size}"
        )
    if export_file is None:
        return
    with export_file.open("rb") as fh:
        report, roots = verify_export_roots(fh, {h.size for _, h in heads})
    if not report.ok:
        raise CheckFailed(report.line())
    click.echo(report.line())
    for file, head in heads:
        if head.size > report.count:
            raise CheckFailed(
                f"checkpoint {file} is of {plural(head.size, 'event')}; the export holds {report.count}",
                f"检查点 {file} 含 {head.size} 个事件；导出文件只有 {report.count} 个",
            )
        if roots[head.size] != head.root:
            raise CheckFailed(
                f"checkpoint {file}: the export's first {plural(head.size, 'event')} have another Merkle root",
                f"检查点 {file}：导出文件前 {head.size} 个事件的默克尔根与之不同",
            )
        events = plural(head.size, "event")
        click.echo(f"ok: checkpoint {file} ({head.origin}, {events}) is signed and matches the export")
    if len(heads) > 1:
        click.echo(
            "ok: the checkpoints are consistent: each is the tree of a prefix of this one export"
            f" ({', '.join(str(h.size) for _, h in sorted(heads, key=lambda fh: fh[1].size))} events)"
        )




@audit.command("entry")
@click.argument("bundle", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--key", "vkey", required=True, help="The registry's verifier key (name+id+key), or a file holding it.")
def audit_entry(bundle: Path, vkey: str) -> None:
    """Check a register entry's proof offline (from `register-proof` or /register/ID/proof): the
    checkpoint's signature, every event's hash and inclusion proof, that no event of the stream is
    missing, and that replaying the events gives the entry. Exit 1 naming what failed.

    Example: sandbox-registry audit entry entry.json --key "$(cat vkey)"
    """
    key = _verifier_key(vkey)
    try:
        extract = extracts.check_extract(bundle.read_bytes(), key, make_codec())
    except extracts.ExtractRefused as e:
        raise CheckFailed(f"{bundle}: {e}", e.message_zh) from e
    whole = sum(1 for e in extract.events if e.record is not None)
    click.echo(
        f"ok: the entry of project {extract.project_id} ({extract.entry.status}) is what its events give;"
        f" {plural(whole, 'public event')} whole and {plural(len(extract.events) - whole, 'withheld event')},"
        f" each in the signed checkpoint of {plural(extract.tree_size, 'event')}"
    )
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
            raise Failure(f"cannot write {out}: {e.strerror or e}", f"无法写入 {out}") from e
    click.echo(f"exported {plural(count, 'event')} to {out}", err=True)


def _export_documents(store: SQLiteEventStore, db: Path, target: Path) -> None:
    from sandbox.documents import DocumentStore, attached_hashes, copy_documents

    hashes = attached_hashes(store.iter_all(types=["DocumentAttached"]))
    try:
        copied, missing = copy_documents(hashes, DocumentStore.beside(db), target)
    except OSError as e:
        raise Failure(f"cannot write {target}: {e.strerror or e}", f"无法写入 {target}") from e
    click.echo(f"copied {plural(copied, 'document')} to {target}", err=True)
    if missing:
        listed = ", ".join(missing)
        click.echo(f"{plural(len(missing), 'document')} attached by hash alone (no stored file): {listed}", err=True)


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
    click.echo(f"copied {plural(copied, 'document')} from {source}", err=True)
    if missing:
        listed = ", ".join(missing)
        click.echo(f"{plural(len(missing), 'document')} with no file in {source}: {listed}", err=True)


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
@click.option("--projects", default=0, show_default=True, type=click.IntRange(0, 100_000),
              help="Synthetic projects with full histories to add beside the named stories.")
@click.option("--seed", default=2025, show_default=True, type=int, help="Seed for the synthetic projects.")
@click.option("--tokens/--no-tokens", default=True, show_default=True,
              help="Also issue a token for one demo user of each role and print them.")
def demo(db: Path | None, projects: int, seed: int, tokens: bool) -> None:
    """Build a new registry of believable pilots, through the same commands as the API.

    Ten named projects across the three programs (graduated, in test, rejected, withdrawn,
    suspended and reinstated, forced out, an objection upheld...) lived over simulated months
    from January 2025 to yesterday, plus N synthetic ones. The database must not exist yet.
    Example: sandbox-registry demo --db demo.db --projects 200 --seed 7
    """
    from sandbox.demo import DemoRefused, build_demo

    path = db or default_db_path()
    with Progress(console=Console(stderr=True)) as progress:
        task = progress.add_task("living the demo projects", total=None)

        def advance(ended: int, total: int) -> None:
            progress.update(task, completed=ended, total=total)

        try:
            result = build_demo(path, projects=projects, seed=seed, progress=advance)
        except DemoRefused as e:
            raise Failure.of(e) from e
    with opened(path) as store, refusals():
        transparency.ensure_key(store)
    table = Shown(f"{path}: {plural(result.head, 'event')} up to {result.until}")
    table.add_column("project")
    table.add_column("story")
    for label, pid in result.stories.items():
        table.add_row(pid, label)
    console = out()
    console.print(table)
    click.echo("states: " + ", ".join(f"{state} {n}" for state, n in result.states.items()))
    if tokens:
        _print_demo_tokens(path)


def _print_demo_tokens(path: Path) -> None:
    from sandbox.demo import demo_tokens

    with opened(path) as store:
        issued = demo_tokens(Tokens(store.db))
    click.echo("demo tokens, shown once (`sandbox-registry token demo` issues fresh ones):")
    for name, role, org, secret in issued:  # plain lines: a token must copy whole
        click.echo(f"  {role:<13} {name:<14} {org or '':<7} {secret}")


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
        # Redrawn by hand, not by rich's refresh thread: a rebuild splits a long log between
        # forked processes only while no other thread runs (see ReadModels.rebuild).
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


@main.command()
@db_option
@click.option("--now", "now_text", default=None, help="Record the timers due at this time (ISO 8601; default: now).")
@click.option(
    "--future",
    is_flag=True,
    help="Allow a --now later than this machine's clock: a demonstration, whose timer events say they occurred then.",
)
@click.option(
    "--project",
    "projects",
    multiple=True,
    metavar="ID",
    help="Only this project's timers (repeatable; default: every project of the registry).",
)
def tick(db: Path | None, now_text: str | None, future: bool, projects: tuple[str, ...]) -> None:
    """Record every timer that has come due: notices closing, test periods ending, reports overdue.

    Running it twice for the same time records nothing new. A time later than this machine's
    clock is refused unless --future is given: the timer events would record as facts (a notice
    closed, a report overdue) what has not happened yet. With --project, only that project's
    timers are recorded (a demonstration moves one project's clock, not the whole registry's).
    Example: sandbox-registry tick --project 3f2a9c1b7d4e --now 2026-03-01T09:00:00+08:00
    """
    now = parse_time(now_text, "--now")
    if now is not None and not future and now > dt.datetime.now(dt.UTC) + FUTURE_TOLERANCE:
        raise BadValue(
            "--now",
            f"{now_text} is later than this machine's clock; timers record what has happened (add --future for a"
            " demonstration)",
            f"{now_text} 晚于本机时间；计时事件只记录已发生的事（演示时可加 --future）",
        )
    skipped: list[str] = []
    with registry_at(db) as registry:
        unknown = [p for p in projects if registry.load(p).state == State.NONE]
        if unknown:
            raise CheckFailed(f"no project {', '.join(unknown)}", f"没有项目 {', '.join(unknown)}")
        written = registry.tick(now, project_ids=projects or None, skipped=skipped)
        with refusals():
            signed = transparency.keep_on_tick(registry.store)
    click.echo(f"recorded {plural(written, 'timer event')}" + ("; checkpoint kept" if signed else ""))
    if skipped:
        raise CheckFailed(
            f"the timers of {', '.join(skipped)} could not be evaluated (see the log); the others were recorded",
            f"项目 {', '.join(skipped)} 的计时无法计算（见日志），其余项目已记录",
        )


@main.command()
@db_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON (a list of programs) instead of tables.")
def programs(db: Path | None, as_json: bool) -> None:
    """The programs and their versions, with every admission condition and exit criterion.

    Example: sandbox-registry programs --json
    """
    with registry_at(db) as registry:
        definitions = [d for key in registry.program_keys() for d in registry.program_versions(key)]
    if as_json:
        emit_json(
            [
                {
                    "key": d.key,
                    "version": d.version,
                    "kind": d.kind,
                    "name_zh": d.name_zh,
                    "name_en": d.name_en,
                    "effective_from": d.effective_from,
                    "approvals_required": d.approvals_required,
                    "admission": [{**_rule(r), "stage": r.stage} for r in d.admission],
                    "exit": [_rule(r) for r in d.exit],
                    "incident_severity": msgspec.to_builtins(d.incident_severity),
                    "assessment_topics": msgspec.to_builtins(d.assessment_topics),
                    "public_fields": msgspec.to_builtins(d.public_fields),
                }
                for d in definitions
            ]
        )
        return
    console = out()
    for d in definitions:
        table = Shown(f"{d.name_zh} / {d.name_en} — {d.ref} (from {d.effective_from})")
        for column in ("", "id", "中文", "English", "kind"):
            table.add_column(column, overflow="fold")
        for label, rules in (("admission", d.admission), ("exit", d.exit)):
            for r in rules:
                table.add_row(label, r.id, r.label_zh, r.label_en, r.kind)
        console.print(table)


@main.command("upgrade")
@db_option
@click.option("--effective-from", "effective_from", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="The day the new versions take effect (YYYY-MM-DD, today or later; default: today, China time).")
def upgrade_programs(db: Path | None, effective_from: dt.datetime | None) -> None:
    """Publish each bundled program whose rules differ from the registry's latest version as
    its next version (a registry created by an earlier release). Projects already submitted
    keep the version they bound to; drafts and later submissions take the new one.

    Example: sandbox-registry upgrade --effective-from 2027-01-01
    """
    today = utc_now().astimezone(CHINA).date()
    with registry_at(db) as registry:
        published = upgrade_bundled(registry, effective_from.date() if effective_from else today, today)
    for d in published:
        click.echo(f"{d.ref}: published, in force from {d.effective_from} / 已发布，自 {d.effective_from} 起生效")
    if not published:
        click.echo("every program is up to date with the bundled definitions / 各项目类型均已是随附的最新定义")


def _rule(rule: Any) -> dict[str, Any]:
    return {
        "id": rule.id,
        "label_zh": rule.label_zh,
        "label_en": rule.label_en,
        "kind": rule.kind,
        "params": msgspec.to_builtins(rule.params),
    }


@main.command()
@db_option
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list instead of a table.")
@click.option("--program", default=None, help="Only this program key.")
@click.option(
    "--state",
    default=None,
    type=click.Choice([s.value for s in State if s is not State.NONE], case_sensitive=False),
    help="Only this lifecycle state (e.g. TESTING).",
)
@click.option("--applicant", default=None, help="Only projects of this organisation, as lead or partner.")
@click.option("--region", default=None, help="Only this region.")
@click.option(
    "--search",
    default=None,
    help="Only projects with every word of TEXT in their title or applicants (any part, Chinese or Latin).",
    metavar="TEXT",
)
@click.option("--limit", default=200, show_default=True, type=click.IntRange(1, 100000))
def projects(
    db: Path | None,
    as_json: bool,
    program: str | None,
    state: str | None,
    applicant: str | None,
    region: str | None,
    search: str | None,
    limit: int,
) -> None:
    """The projects, filtered: id, title, program, state, applicant.

    Example: sandbox-registry projects --search '福州 银行' --state TESTING --json
    """
    state = state.upper() if state else None
    with registry_at(db) as registry:
        assert registry.read_models is not None
        if program is not None and program not in registry.program_keys():
            keys = ", ".join(registry.program_keys())
            raise Failure(f"no program {program!r}; the programs are {keys}", f"没有项目类别 {program!r}；现有：{keys}")
        _, rows = registry.read_models.projects(
            program=program, state=state, applicant=applicant, region=region, search=search, limit=limit
        )
    items = [
        {
            "id": r["id"],
            "title": r["title"],
            "program": r["program_key"],
            "program_version": r["program_version"],
            "state": r["state"],
            "state_zh": r["state_zh"],
            "state_en": r["state_en"],
            "applicant": r["applicant"],
            "region": r["region"],
            "submitted_on": r["submitted_on"],
            **({} if applicant is None else {"applicant_role": "lead" if r["applicant"] == applicant else "partner"}),
        }
        for r in rows
    ]
    if as_json:
        emit_json(items)
        return
    table = Shown(plural(len(items), "project"))
    for column in ("id", "title", "program", "state", "applicant", "region"):
        table.add_column(column, overflow="fold")
    for i in items:
        lead = i["applicant"]
        if i.get("applicant_role") == "partner":  # the organisation asked for is not the lead here
            lead = f"{lead} ({applicant}: partner / 合作机构)"
        table.add_row(i["id"], i["title"], i["program"], f"{i['state_zh']} {i['state']}", lead, i["region"])
    out().print(table)


@main.command()
@db_option
@click.argument("project")
@click.option(
    "--as-of",
    "as_of",
    default=None,
    help="As it stood at this recorded time (ISO 8601), or at the end of this date in China (YYYY-MM-DD).",
)
@click.option(
    "--position",
    type=click.IntRange(0),
    default=None,
    help="As it stood at this global position (at most the head; not with --as-of).",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def show(db: Path | None, project: str, as_of: str | None, position: int | None, as_json: bool) -> None:
    """One project: state, admission checklist and exit criteria, now or as of a time or position.

    Example: sandbox-registry show 3f2a9c1b7d4e --position 120 --json
    """
    # a bare date is the end of that day in China (``schemas.dates.day_moment``, as in the API)
    at = (day_moment(as_of) if as_of is not None else None) or parse_time(as_of, "--as-of")
    with registry_at(db) as registry:
        head = registry.store.head().position if position is not None else 0
        refused = past_refusal(at is not None, position, head, ("--as-of", "--position"))
        if refused is not None:
            raise BadValue("--position", *refused)
        view = project_view(registry.store, registry.catalog, project, position=position, at=at, now=utc_now())
    if view is None:
        then = at or position is not None
        raise CheckFailed(
            f"no project {project}" + (" at that moment" if then else ""),
            ("该时点" if then else "") + f"没有项目 {project}",
        )
    if as_json:
        value = msgspec.to_builtins(view)
        emit_json(value)
        return
    console = out()
    console.print(Text.assemble((visible(view.title, one_line=True), "bold"), f"  {view.id}  {view.program_ref}"))
    line = f"{view.state_zh} / {view.state_en}   applicant {view.applicant}   as of position {view.as_of_position}"
    console.print(Text(visible(line, one_line=True)))
    for title, statuses in (("admission 准入条件", view.admission), ("exit 退出标准", view.exit)):
        table = Shown(title)
        for column in ("id", "status", "中文", "English", "progress / missing", "evidence"):
            table.add_column(column, overflow="fold")
        for s in statuses:
            note = s.missing_en or ", ".join(f"{k}={v}" for k, v in s.progress.items() if not isinstance(v, list))
            table.add_row(s.id, s.status, s.label_zh, s.label_en, note, " ".join(map(str, s.evidence)))
        console.print(table)


@main.command()
@db_option
@click.argument("project")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list of events.")
def history(db: Path | None, project: str, as_json: bool) -> None:
    """The timeline of a project's events with actors, roles and reasons.

    Example: sandbox-registry history 3f2a9c1b7d4e
    """
    with opened(db) as store:
        events = store.read_stream(project_stream(project))
    if not events:
        raise CheckFailed(f"no project {project}", f"没有项目 {project}")
    rows = [
        {
            "position": e.position,
            "version": e.version,
            "type": e.type,
            "occurred_at": e.metadata.occurred_at,
            "recorded_at": e.recorded_at,
            "actor": e.metadata.actor,
            "role": e.metadata.role,
            "organisation": e.metadata.organisation,
            "reason": e.metadata.reason,
            "rule_version": e.metadata.rule_version,
            "data": msgspec.to_builtins(e.payload),
        }
        for e in events
    ]
    if as_json:
        emit_json(rows)
        return
    table = Shown(f"project {project}: {plural(len(rows), 'event')}")
    for column in ("pos", "occurred", "recorded", "event", "actor (role)", "reason"):
        table.add_column(column, overflow="fold")
    for r in rows:
        table.add_row(
            str(r["position"]),
            r["occurred_at"].astimezone(CHINA).strftime("%Y-%m-%d %H:%M"),
            r["recorded_at"].astimezone(CHINA).strftime("%Y-%m-%d %H:%M"),
            r["type"],
            f"{r['actor']} ({r['role']})",
            r["reason"] or "",
        )
    out().print(table)


@main.group()
def user() -> None:
    """Add and list users: the persons tokens belong to, with the roles granted to them."""


@user.command("add")
@db_option
@click.argument("user_id")
@click.option("--name", "display_name", required=True, help="The person's display name.")
@click.option("--org", default=None, help="The organisation they act for (required with the applicant role).")
@click.option("--role", "roles", type=click.Choice(ROLES), multiple=True, required=True,
              help="A role granted to them (repeat for several).")
def user_add(db: Path | None, user_id: str, display_name: str, org: str | None, roles: tuple[str, ...]) -> None:
    """Add a person. Their tokens (``token create --user``) act in one of their roles each; four
    eyes compare persons, so they never approve what they recommended, whichever token they use.

    Example: sandbox-registry user add li.wei --name 李伟 --role case_officer --role approver
    """
    with opened(db) as store:
        try:
            info = Tokens(store.db).add_user(user_id=user_id, display_name=display_name, roles=roles, organisation=org)
        except TokenError as e:
            raise CheckFailed.of(e) from e
    click.echo(f"added {info.id} ({info.display_name}): {', '.join(info.roles)}")


@user.command("list")
@db_option
def user_list(db: Path | None) -> None:
    """List users and the roles granted to them.

    Example: sandbox-registry user list
    """
    with opened(db) as store:
        rows = Tokens(store.db).users()
    table = Shown(plural(len(rows), "user"))
    for column in ("id", "name", "organisation", "roles", "created"):
        table.add_column(column, overflow="fold")
    for u in rows:
        table.add_row(u.id, u.display_name, u.organisation or "", ", ".join(u.roles), u.created_at)
    out().print(table)


@main.group()
def token() -> None:
    """Create, list and revoke API tokens."""


@token.command("create")
@db_option
@click.option("--role", type=click.Choice(ROLES), required=True, help="The role the token acts in.")
@click.option("--user", "user_id", default=None,
              help="The person the token belongs to (a user, recorded as the actor); the role must be theirs.")
@click.option("--name", default=None,
              help="The token's name (default <user>.<role>); without --user, also the actor it records.")
@click.option("--org", default=None, help="The organisation an applicant acts for (required for applicants).")
@click.option("--expires", default=None, help="Expiry time (ISO 8601).")
def token_create(
    db: Path | None, role: str, user_id: str | None, name: str | None, org: str | None, expires: str | None
) -> None:
    """Create a token and print it once (only its hash is stored).

    Example: sandbox-registry token create --user li.wei --role approver
    """
    with opened(db) as store:
        try:
            expires_at = parse_time(expires, "--expires")
            secret, _ = Tokens(store.db).create(
                name=name, role=role, organisation=org, user=user_id, expires_at=expires_at
            )
        except AlreadyExpired as e:
            raise BadValue("--expires", str(e), e.message_zh) from e
        except TokenError as e:
            raise CheckFailed.of(e) from e
    click.echo(secret)


@token.command("demo")
@db_option
def token_demo(db: Path | None) -> None:
    """Issue fresh tokens for the demo's users, one of each role (revoking their earlier ones).

    Example: sandbox-registry token demo --db demo.db
    """
    _print_demo_tokens(db or default_db_path())


@token.command("list")
@db_option
def token_list(db: Path | None) -> None:
    """List tokens (never their secrets).

    Example: sandbox-registry token list
    """
    with opened(db) as store:
        rows = Tokens(store.db).list()
    table = Shown(plural(len(rows), "token"))
    for column in ("id", "name", "user", "role", "organisation", "created", "expires", "revoked"):
        table.add_column(column, overflow="fold")
    for t in rows:
        table.add_row(
            t.id,
            t.name,
            t.user_id or t.name,
            t.role,
            t.organisation or "",
            t.created_at,
            t.expires_at or "",
            t.revoked_at or "",
        )
    out().print(table)


@token.command("revoke")
@db_option
@click.argument("name_or_id")
def token_revoke(db: Path | None, name_or_id: str) -> None:
    """Revoke a token by its name or id.

    Example: sandbox-registry token revoke alice
    """
    with opened(db) as store:
        if not Tokens(store.db).revoke(name_or_id):
            raise CheckFailed(f"no live token named {name_or_id}", f"没有名为 {name_or_id} 的有效令牌")
    click.echo(f"revoked {visible(name_or_id, one_line=True)}")


@main.command()
@db_option
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--tick-seconds",
    default=None,
    type=click.FloatRange(0),
    help=f"Record due timers every N seconds (0: never; default ${TICK_ENV}, else {DEFAULT_TICK_SECONDS:g}).",
)
@click.option(
    "--access-log/--no-access-log",
    default=None,
    help=f"One JSON line per request on standard error (default ${ACCESS_LOG_ENV}, else on).",
)
def serve(db: Path | None, host: str, port: int, tick_seconds: float | None, access_log: bool | None) -> None:
    """Serve the API and its documentation page (http://HOST:PORT/schema).

    Example: sandbox-registry serve --port 8000 --no-access-log
    """
    from sandbox.api import create_app, run_server

    path = db or default_db_path()
    with refusals():
        every = default_tick_seconds() if tick_seconds is None else tick_seconds
        settings = HttpSettings.from_env()
    if access_log is not None:
        settings = dataclasses.replace(settings, access_log=access_log)
    try:
        app = create_app(path, tick_seconds=every, settings=settings)
    except StoreError as e:
        raise cannot_open(path, e) from e
    click.echo(f"serving {path} on http://{host}:{port}  (API /api/v1, docs /schema)", err=True)
    run_server(app, host, port, timeout_graceful_shutdown=30)


if __name__ == "__main__":  # pragma: no cover
    main()
