"""Words for messages a person reads: counts with their noun in the right number.

Chinese needs none (a count takes no plural); these helpers keep the English of the refusals,
the rule outcomes and the command line as careful as the Chinese. A field is named by its label
(``schemas.labels.field_label``), never by its key.
"""

from __future__ import annotations

import string
from typing import Any

#: Nouns whose plural is not the noun with an ``s``.
IRREGULAR = {"entry": "entries", "query": "queries"}


def plural(count: int, noun: str) -> str:
    """``1 project``, ``0 projects``, ``2 days``: the count and its noun in the right number."""
    if count == 1:
        return f"{count} {noun}"
    return f"{count} {IRREGULAR.get(noun, noun + 's')}"


class CountingFormatter(string.Formatter):
    """``str.format_map`` with one more format spec: ``{days:~day}`` is :func:`plural` of the
    value (``1 day``, ``5 days``), so a message template counts in the right number. A value
    that is not a whole number is shown as it is, with the noun in the plural."""

    def format_field(self, value: Any, format_spec: str) -> str:
        if format_spec.startswith("~"):
            noun = format_spec[1:]
            if isinstance(value, int) and not isinstance(value, bool):
                return plural(value, noun)
            return f"{value} {IRREGULAR.get(noun, noun + 's')}"
        return str(super().format_field(value, format_spec))


COUNTING = CountingFormatter()
