"""The ``sandbox-registry`` group and the options its commands share."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from sandbox.cli.usage import BadValue, BilingualGroup
from sandbox.config import DB_ENV
from schemas.dates import CHINA

F = TypeVar("F", bound=Callable[..., Any])


def db_option(fn: F) -> F:
    return click.option(
        "--db",
        "db",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help=f"Registry database file (default: ${DB_ENV}, else ./registry.db).",
    )(fn)


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


@click.group(cls=BilingualGroup, context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Sandbox Registry: an event-sourced registry for regulatory sandboxes and pilots."""
