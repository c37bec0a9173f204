"""What commands print: tables shown as they are, and stable JSON."""

from __future__ import annotations

import sys
from typing import Any

import click
import msgspec
from rich.console import Console
from rich.table import Table
from rich.text import Text

from schemas.text import visible


class Shown(Table):
    """A table whose title and cells are shown as they are: every character a terminal would act
    on written as an escape (:func:`schemas.text.visible`), and nothing read as rich's markup (a
    title ``[red]x`` is those six characters). Its columns, named after the title, fold a long
    cell onto the next line, never cut it."""

    def __init__(self, title: str, *columns: str) -> None:
        super().__init__(title=Text(visible(title, one_line=True)))
        for column in columns:
            self.add_column(column, overflow="fold")

    def add_row(self, *cells: Any, **options: Any) -> None:
        super().add_row(*(Text(visible(str(c))) for c in cells), **options)


def out() -> Console:
    """Standard output: the terminal's width, or 160 columns when piped; cells fold, never cut."""
    return Console(width=None if sys.stdout.isatty() else 160)


def emit_json(value: Any) -> None:
    """Stable JSON on standard output (UTF-8, keys in a fixed order)."""
    click.echo(msgspec.json.encode(value, order="deterministic").decode())
