"""Rendering the pages' templates, and keeping rendered pages that will be asked for again.

A page depends on what it shows (a project at one position and date, a page of the register at
one position of the log), on who reads it (role and person), the language and the path; and, per
request, on the CSRF token of the reader's cookie and a fresh key for each form. A page is rendered
with placeholders for those two, kept under its key with a *stamp* (what must be unchanged for the
page to be unchanged: the project's view object, the log's head), and filled in on each request:
a page read again renders nothing. This is the pages' counterpart of the API's ``ViewCache``,
and like it, a hit is exactly the page a fresh rendering would give.
"""

from __future__ import annotations

import html
import secrets
import threading
from collections import OrderedDict
from collections.abc import Hashable
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup, escape

from schemas.text import visible

TEMPLATES = Path(__file__).parent / "templates"


def shown(value: object) -> object:
    """What a page shows of a value: text with every control, bidirectional or zero-width mark
    written as the command line writes it (``\\u202e``), so that stored text (say, a comment
    holding a bidirectional override, which free text may) reorders or hides nothing on the page.
    (Applied to every ``{{ … }}`` before it is escaped; markup that the templates or the code
    built is left alone: the values inside it came through here.)"""
    if isinstance(value, str) and not isinstance(value, Markup):
        return visible(value)
    return value


def field_value(value: object) -> Markup:
    """A form field's value (an ``<input>``'s ``value``, a ``<textarea>``'s text), escaped, with
    those characters written as character references: the page holds none of them, and the field,
    sent again, holds the text as stored."""
    return Markup(visible(str(escape(value)), escape=lambda char: f"&#x{ord(char):x};"))


ENV = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(default=True),
    auto_reload=False,
    trim_blocks=True,
    lstrip_blocks=True,
    finalize=shown,
)
ENV.filters["field_value"] = field_value
#: Where the request's CSRF token and each form's fresh key go (characters no text of a page
#: holds: the templates escape what they show).
CSRF_MARK = "\x00csrf\x00"
KEY_MARK = "\x00key\x00"


def render(template: str, context: dict[str, Any]) -> str:
    """A template rendered with the placeholders for the per-request values."""
    return ENV.get_template(template).render(
        csrf_input=f'<input type="hidden" name="_csrf_token" value="{CSRF_MARK}">',
        form_key=lambda form: Markup(KEY_MARK) + "-" + form,
        **context,
    )


def personalise(page: str, csrf_token: str) -> str:
    """A rendered page with this request's CSRF token and its forms' keys: one fresh key for the
    rendering, followed in each form by the form's name (so no two forms share a key)."""
    if KEY_MARK in page:
        page = page.replace(KEY_MARK, secrets.token_urlsafe(16))
    return page.replace(CSRF_MARK, html.escape(csrf_token))


class PageCache:
    """Rendered pages by key, each valid while its stamp is the same object (or equal value)."""

    def __init__(self, size: int = 1024) -> None:
        self.size = size
        self._items: OrderedDict[Hashable, tuple[object, str]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, stamp: object) -> str | None:
        with self._lock:
            found = self._items.get(key)
            if found is None or not (found[0] is stamp or found[0] == stamp):
                return None
            self._items.move_to_end(key)
            return found[1]

    def put(self, key: Hashable, stamp: object, page: str) -> None:
        with self._lock:
            self._items[key] = (stamp, page)
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)
