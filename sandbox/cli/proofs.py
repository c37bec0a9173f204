"""What proves the log: signed checkpoints, RFC 9162 proofs, a register entry's offline proof,
and the auditor's checks of them without the registry's database.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import click

from events.checkpoint import CheckpointError, VerifierKey, verify_checkpoint
from events.export import verify_export_roots
from sandbox import extracts, transparency
from sandbox.cli.failures import CheckFailed, opened, refusals
from sandbox.cli.group import F, db_option, main
from sandbox.cli.output import emit_json
from sandbox.cli.usage import BadValue
from sandbox.registry import make_codec
from schemas.words import plural


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


def key_option(*, required: bool) -> Callable[[F], F]:
    """``--key``, as every audit command takes it."""
    said = "The registry's verifier key (name+id+key), or a file holding it."
    return click.option("--key", "vkey", required=required, default=None, help=said)


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
@key_option(required=False)
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
        with refusals(CheckFailed, about=proof_file):
            transparency.check_consistency(old, new, proof_file.read_bytes())
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
@key_option(required=True)
def audit_entry(bundle: Path, vkey: str) -> None:
    """Check a register entry's proof offline (from `register-proof` or /register/ID/proof): the
    checkpoint's signature, every event's hash and inclusion proof, that no event of the stream is
    missing, and that replaying the events gives the entry. Exit 1 naming what failed.

    Example: sandbox-registry audit entry entry.json --key "$(cat vkey)"
    """
    key = _verifier_key(vkey)
    with refusals(CheckFailed, about=bundle):
        extract = extracts.check_extract(bundle.read_bytes(), key, make_codec())
    whole = sum(1 for e in extract.events if e.record is not None)
    click.echo(
        f"ok: the entry of project {extract.project_id} ({extract.entry.status}) is what its events give;"
        f" {plural(whole, 'public event')} whole and {plural(len(extract.events) - whole, 'withheld event')},"
        f" each in the signed checkpoint of {plural(extract.tree_size, 'event')}"
    )
