"""Every page names things in the reader's language: states, roles, programs, actions, event
types, rules and topics come from the bilingual sources, never as the raw keys the API uses
(``technology_partner``, ``ecny-pilot``). Identifiers a reader may need to quote (a problem's
code, a hash, a project id) are shown as code and are not text."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from schemas.labels import EVENT_LABELS
from tests.fixtures.api import Api
from tests.fixtures.api_world import World
from tests.fixtures.pages import PAGES
from tests.fixtures.web import sign_in, sign_out
from tests.fixtures.words import SNAKE

#: Single-word keys and the program keys that must never be shown raw.
RAW_WORDS = re.compile(r"\b(?:ecny-pilot|fintech-sandbox|data-asset|lead)\b|\b(?:[a-z]+-){1,2}[a-z]+@\d+\b")
#: An event's type as stored (``ProjectAdmitted``): a page names it in words.
EVENT_TYPES = re.compile(r"\b(?:" + "|".join(EVENT_LABELS) + r")\b")

EXTRA_PAGES = [
    (None, lambda w: "/no-such-page"),
    ("carol", lambda w: f"/projects/{w['closed']}"),
    ("carol", lambda w: f"/projects/{w['testing']}"),
    ("ada", lambda w: f"/projects/{w['closed']}"),
    ("alice", lambda w: f"/projects/{w['testing']}"),
    ("audrey", lambda w: f"/projects/{w['testing']}/timeline"),
    (None, lambda w: f"/register/{w['testing']}"),
    (None, lambda w: f"/register/{w['suspended']}"),
]


class _Visible(HTMLParser):
    """The text a reader sees: not inside ``code``, ``script``, ``style`` or an attribute."""

    HIDDEN = frozenset({"code", "script", "style", "svg"})

    def __init__(self) -> None:
        super().__init__()
        self.depth = 0
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.HIDDEN:
            self.depth += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in self.HIDDEN and self.depth:
            self.depth -= 1

    def handle_data(self, data: str) -> None:
        if not self.depth:
            self.parts.append(data)


def visible(html: str) -> str:
    parser = _Visible()
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split())


def written_by_applicants(web: Api) -> set[str]:
    """The keys that only the applicants' own words hold: a document's title is theirs (the
    sample applications title a document by its kind), shown as written. The programs' rule
    texts name fields and documents by their labels, so they allow no key."""
    registry = web.app.state.registry
    titles = [e.payload.title for e in registry.store.iter_all(types=["DocumentAttached"])]
    return {word for text in titles for word in SNAKE.findall(text)}


def raw_keys(html: str, allowed: set[str], lang: str) -> list[str]:
    seen = visible(html)
    words = set(RAW_WORDS.findall(seen)) | set(EVENT_TYPES.findall(seen))
    if lang == "en":  # ("lead" is an English word; a raw role shows as one in Chinese text)
        words.discard("lead")
    return sorted((set(SNAKE.findall(seen)) - allowed) | words)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_no_page_shows_a_raw_key(web: Api, world: World, lang: str) -> None:
    found: dict[str, list[str]] = {}
    allowed = written_by_applicants(web)
    signed: str | None = None
    for who, path in [*PAGES, *EXTRA_PAGES]:
        target = path(world)
        if who != signed:
            sign_out(web)
            if who is not None:
                sign_in(web, who)
            signed = who
        html = web.client.get(target, params={"lang": lang}, headers={"Accept": "text/html"}).text
        if keys := raw_keys(html, allowed, lang):
            found[f"{who} {target}"] = keys
    assert found == {}, "\n".join(f"{k}: {v}" for k, v in found.items())
