"""The one place where a command's failures become one line on standard error and a non-zero
exit: a refusal of the service layer (:func:`refusals`), a domain error or a store that cannot
open or fails (:func:`opened`, which every command's database goes through).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from events.errors import StoreError
from events.sqlite import SQLiteEventStore, utc_now
from projections.read_models import ReadModels
from sandbox.config import Refused, default_db_path
from sandbox.registry import open_store
from sandbox.service import Registry
from schemas.errors import DomainError
from schemas.text import visible

#: Exit codes: 1 = the check failed (e.g. the log does not verify), 2 = cannot run at all.
EXIT_FAILED = 1
EXIT_UNUSABLE = 2


class Failure(click.ClickException):
    """A one-line error: the command cannot run at all (exit 2). Given a Chinese text too, the
    line says it in English, then in Chinese."""

    exit_code = EXIT_UNUSABLE

    def __init__(self, message: str, message_zh: str | None = None) -> None:
        line = message if message_zh is None else f"{message} / {message_zh}"
        super().__init__(visible(line, one_line=True))  # (it may quote a title or an argument)

    @classmethod
    def of(cls, refusal: Refused, about: Path | None = None) -> Failure:
        """The line for a refusal of the service layer, which says it in both languages; ``about``,
        the file it refused, is named first."""
        return cls(str(refusal) if about is None else f"{about}: {refusal}", refusal.message_zh)


def cannot_open(path: Path, error: StoreError) -> Failure:
    return Failure(f"cannot open the registry database {path}: {error}", f"无法打开登记库数据库 {path}")


def cannot_write(path: Path, error: OSError) -> Failure:
    return Failure(f"cannot write {path}: {error.strerror or error}", f"无法写入 {path}")


class CheckFailed(Failure):
    """A one-line error: the command ran and its check failed (exit 1)."""

    exit_code = EXIT_FAILED


def no_project(project: str, *, then: bool = False) -> CheckFailed:
    """No project of that id (``then``: not at the time or position asked for)."""
    if then:
        return CheckFailed(f"no project {project} at that moment", f"该时点没有项目 {project}")
    return CheckFailed(f"no project {project}", f"没有项目 {project}")


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


@contextmanager
def refusals(failure: type[Failure] = Failure, *, about: Path | None = None) -> Iterator[None]:
    """A refusal of the service layer, said as the command line's one-line error: a
    :class:`Failure` (exit 2), or a :class:`CheckFailed` (exit 1) where what was refused is what
    the command checks; ``about`` names the file it refused."""
    try:
        yield
    except Refused as e:
        raise failure.of(e, about) from e
