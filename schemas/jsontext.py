"""JSON text read strictly: a repeated key in an object is refused, not resolved.

Python's ``json`` and msgspec both keep the last of two values under one key, while other
readers keep the first or refuse; so two readers of one request (or of one exported line) could
see two different things. Whoever reads JSON from outside asks :func:`repeated_key` first.
"""

from __future__ import annotations

import json
from typing import Any


class _Repeated(Exception):
    def __init__(self, key: str) -> None:
        self.key = key


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise _Repeated(key)
        seen[key] = value
    return seen


def repeated_key(data: bytes) -> str | None:
    """The first key found twice in one object of the UTF-8 JSON ``data``, or None. Text that is
    not UTF-8 JSON has none (its decoder refuses it on its own terms)."""
    if b'"' not in data:
        return None
    try:
        json.loads(data.decode("utf-8"), object_pairs_hook=_pairs)
    except _Repeated as e:
        return e.key
    except (ValueError, RecursionError):
        return None
    return None
