"""What free text a person may send, and how text from the log is shown on a terminal.

An applicant's title reaches a regulator's terminal and the public register. So the command
types refuse, in every free-text field, the characters a terminal or a page would act on rather
than show: C0 controls other than tab and newline (``ESC`` starts a colour or cursor sequence,
``BEL`` rings), ``DEL`` and C1 controls (``U+009B`` is a one-character ``ESC [``). (A lone
surrogate never gets this far: the JSON decoder refuses it.) Titles and names, which the
register shows on one line, also refuse the bidirectional overrides and isolates
(U+202A-U+202E, U+2066-U+2069), which reorder what follows them so that a name reads as another,
and the zero-width characters (U+200B-U+200D, U+2060, U+FEFF), which make two names that read
alike differ (free text keeps them: a word joiner has its uses in a paragraph). A program's
definition and the reference data, which the register and the pages publish as names and labels,
are held to the rule of names (:func:`text_fault` with :data:`NAME_PATTERN`).

History recorded before these rules, and text that is not a command's (a token's name, an
argument typed on the command line), may still hold such characters: :func:`visible` writes
them as escapes (``\\x1b``, ``\\u202e``) wherever the command line prints text.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from typing import Annotated

import msgspec

#: Controls a terminal or a page acts on: C0 except tab and newline, DEL, C1. (Escapes that
#: every regular-expression dialect reads alike: the document's readers check the pattern too.)
CONTROLS = r"\x00-\x08\x0b-\x1f\x7f-\x9f"
#: The bidirectional embeddings, overrides and isolates.
BIDI = r"\u202a-\u202e\u2066-\u2069"

#: The zero-width space, non-joiner and joiner, the word joiner and the byte-order mark.
ZERO_WIDTH = r"\u200b-\u200d\u2060\ufeff"

#: Free text: anything but controls (tab and newline are text).
FREE_TEXT_PATTERN = f"^[^{CONTROLS}]*$"
#: A title or a name: free text without bidirectional overrides or zero-width characters either.
NAME_PATTERN = f"^[^{CONTROLS}{BIDI}{ZERO_WIDTH}]*$"

FreeText = Annotated[str, msgspec.Meta(pattern=FREE_TEXT_PATTERN)]
NameText = Annotated[str, msgspec.Meta(pattern=NAME_PATTERN)]

_COMPILED = {pattern: re.compile(pattern) for pattern in (FREE_TEXT_PATTERN, NAME_PATTERN)}


def text_fault(value: object, pattern: str = FREE_TEXT_PATTERN) -> str | None:
    """The rule (free text's, or with ``NAME_PATTERN`` a name's) that a value (a string, or a list
    of them) breaks, in English, or None. For the text inside a union with a list or a mapping,
    where msgspec cannot check a pattern (it crashed the process on one), and for text read
    without a type of its own (a program's definition, reference data)."""
    texts = value if isinstance(value, list) else [value]
    if any(isinstance(t, str) and _COMPILED[pattern].match(t) is None for t in texts):
        return PATTERN_RULES[pattern][0]
    return None


#: The English and Chinese of each rule, for the refusal that names the field (msgspec's own
#: message would quote the pattern).
PATTERN_RULES: dict[str, tuple[str, str]] = {
    FREE_TEXT_PATTERN: (
        "must not contain control characters (other than tab and newline)",
        "不得含控制字符（制表符和换行符除外）",
    ),
    NAME_PATTERN: (
        "must not contain control characters, bidirectional overrides or zero-width characters",
        "不得含控制字符、双向文字覆盖符或零宽字符",
    ),
}

#: Characters shown as escapes: every control, format (bidi, zero-width), line or paragraph
#: separator, surrogate and unassigned code point; tab and newline only in a one-line text.
_HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


def backslashed(char: str) -> str:
    """A character as the command line shows it: ``\\x1b``, ``\\u202e``, ``\\U000e0001``."""
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def visible(text: str, *, one_line: bool = False, escape: Callable[[str], str] = backslashed) -> str:
    """``text`` with every character a terminal would act on, or that would hide or reorder what
    follows (controls, bidirectional and zero-width marks), written as an escape such as
    ``\\x1b`` or ``\\u202e``; with ``one_line``, tab and newline too. ``escape`` writes one
    character (a page's form field writes a character reference instead, which gives the field
    its value back)."""
    if text.isprintable():
        return text  # (the common case: nothing to escape)
    return "".join(
        escape(c)
        if unicodedata.category(c) in _HIDDEN_CATEGORIES and (one_line or c not in "\t\n")
        else c
        for c in text
    )
