"""Tables keyed by kind, checked whole when they are built.

The registry dispatches through tables keyed by a type: a command's kind to its decider, a
rule's kind to its check, an event's type to its fold. A kind missing from such a table would
pass unnoticed until a user met it; :func:`every_kind` refuses it when the module that builds
the table is imported, so the registry does not start and every test fails, naming the kinds.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TypeVar

T = TypeVar("T", bound=Mapping[type, object])


class MissingKinds(TypeError):
    """A table keyed by kind lacks an entry for some kinds (named in the message and ``kinds``)."""

    def __init__(self, what: str, kinds: list[str]) -> None:
        super().__init__(f"no {what} for {', '.join(kinds)}")
        self.kinds = kinds


def every_kind(table: T, kinds: Iterable[type], what: str) -> T:
    """``table`` itself, once it is known to hold an entry for each of ``kinds``; otherwise
    :class:`MissingKinds` naming those it lacks (``what`` says what an entry is)."""
    missing = [kind.__name__ for kind in kinds if kind not in table]
    if missing:
        raise MissingKinds(what, missing)
    return table
