"""Tables keyed by kind, checked whole when they are built.

The registry dispatches through tables keyed by a type or a literal: a command's kind to its
decider, a rule's kind to its check, an event's type to its fold, a breach's action to its rank.
A kind missing from such a table would pass unnoticed until a user met it; :func:`every_kind`
refuses it when the module that builds the table is imported, so the registry does not start and
every test fails, naming the kinds.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from typing import Any, TypeVar

T = TypeVar("T", bound=Mapping[Any, object])


class MissingKinds(TypeError):
    """A table keyed by kind lacks an entry for some kinds (named in the message and ``kinds``)."""

    def __init__(self, what: str, kinds: list[str]) -> None:
        super().__init__(f"no {what} for {', '.join(kinds)}")
        self.kinds = kinds


def every_kind(table: T, kinds: Iterable[Hashable], what: str) -> T:
    """``table`` itself, once it is known to hold an entry for each of ``kinds`` (types, or the
    values of a ``Literal``); otherwise :class:`MissingKinds` naming those it lacks (``what``
    says what an entry is)."""
    missing = [kind.__name__ if isinstance(kind, type) else str(kind) for kind in kinds if kind not in table]
    if missing:
        raise MissingKinds(what, missing)
    return table
