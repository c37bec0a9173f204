"""The ``sandbox-registry`` command line: a thin click layer over the library.

Each command opens the database and calls one library function. Failures are one line on
standard error and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import click

from events.errors import StoreError
from events.export import export_lines
from events.sqlite import SQLiteEventStore
from sandbox.config import DB_ENV, default_db_path
from sandbox.registry import init_registry, open_store
from sandbox.service import Registry

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
    """A one-line error: the command cannot run at all (exit 2)."""

    exit_code = EXIT_UNUSABLE


class CheckFailed(click.ClickException):
    """A one-line error: the command ran and its check failed (exit 1)."""

    exit_code = EXIT_FAILED


@contextmanager
def opened(db: Path | None, *, create: bool = False) -> Iterator[SQLiteEventStore]:
    path = db or default_db_path()
    try:
        store = open_store(path, create=create)
    except StoreError as e:
        raise Failure(f"cannot open the registry database {path}: {e}") from e
    try:
        yield store
    except StoreError as e:
        raise Failure(f"{path}: {e}") from e
    finally:
        store.close()


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
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
        click.echo(f"{store.path}: {state}; {head.position} events, head hash {head.hash}")


@main.command()
@db_option
def verify(db: Path | None) -> None:
    """Re-hash every event and check the chain; exit 1 naming the first bad position.

    Example: sandbox-registry verify --db registry.db
    """
    with opened(db) as store:
        report = store.verify()
    if not report.ok:
        raise CheckFailed(report.line())
    click.echo(report.line())


@main.command()
@db_option
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write to this file instead of standard output.",
)
def export(db: Path | None, out: Path | None) -> None:
    """Write every event as JSON Lines in position order (the auditor's export format).

    Example: sandbox-registry export --db registry.db --out registry.jsonl
    """
    with opened(db) as store:
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
            raise Failure(f"cannot write {out}: {e.strerror or e}") from e
    click.echo(f"exported {count} events to {out}", err=True)


if __name__ == "__main__":  # pragma: no cover
    main()
