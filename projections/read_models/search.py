"""Search by any part of a project's title or applicants, Chinese or Latin.

A query is cut at whitespace into terms, and a project matches when every term is part of its
title or of its applicants' names and organisation codes (Latin letters in any case). Terms of
three characters or more are looked up in the trigram full-text index of ``rm_search``; SQLite's
trigram tokenizer matches nothing for a shorter one, and two-character words are common in
Chinese (福州, 银行), so those are matched with ``LIKE`` over the same columns (a scan of one
small row per project). :func:`matches` states the same rule in Python, for the register as it
stood in the past (replayed, not read from the tables).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from projections.public import PublicApplicant, RegisterEntry

#: Terms at least this long are looked up in the trigram index.
TRIGRAM = 3


def terms(query: str | None) -> list[str]:
    """The terms of a query (none for a blank one)."""
    return query.split() if query else []


def _like(term: str) -> str:
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _phrase(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def search_clause(found: Sequence[str], column: str = "id") -> tuple[str, list[Any]]:
    """A condition on ``column`` (a project id) that holds for the projects every term of
    ``found`` matches, and its parameters."""
    long = [t for t in found if len(t) >= TRIGRAM]
    short = [t for t in found if len(t) < TRIGRAM]
    where: list[str] = []
    params: list[Any] = []
    if long:
        where.append("rowid IN (SELECT rowid FROM rm_search_fts WHERE rm_search_fts MATCH ?)")
        params.append(" AND ".join(_phrase(t) for t in long))
    for term in short:
        where.append("(title LIKE ? ESCAPE '\\' OR applicants LIKE ? ESCAPE '\\')")
        params += [_like(term), _like(term)]
    return f"{column} IN (SELECT id FROM rm_search WHERE {' AND '.join(where)})", params


def applicants_text(applicants: Iterable[PublicApplicant]) -> str:
    """The applicants' names and organisation codes as one searched column, a line each (so no
    term, which holds no whitespace, matches across two of them)."""
    return "\n".join(f"{a.organisation}\n{a.name}" for a in applicants)


def matches(found: Sequence[str], title: str, applicants: str) -> bool:
    """Whether every term is part of the title or of the applicants (the rule the index and
    ``LIKE`` apply, Latin letters in any case)."""
    title, applicants = _fold(title), _fold(applicants)
    return all(_fold(t) in title or _fold(t) in applicants for t in found)


def register_matches(
    entry: RegisterEntry,
    found: Sequence[str],
    *,
    program: str | None = None,
    state: str | None = None,
    region: str | None = None,
) -> bool:
    """Whether a register entry passes the register's filters and matches every term."""
    return (
        (program is None or entry.program_key == program)
        and (state is None or entry.status == state)
        and (region is None or entry.region == region)
        and matches(found, entry.title, applicants_text(entry.applicants))
    )


def _fold(text: str) -> str:
    """ASCII letters in lower case, as SQLite's ``LIKE`` and the trigram tokenizer compare them."""
    return text.translate(_ASCII_LOWER)


_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
