"""The hostile-string corpus on the web pages: a string sent through the API in the fields the pages
show (a title, an applicant's name, a notice channel, an objection, the reasons of decisions, a
statement's field) is either refused with a clean 4xx or, once stored, appears escaped on every page
that shows it: the register, the register's entry, the case page (the applicant's and a regulator's),
the timeline, the queue, the audit trail, the applicant's own list and the draft's steps. No page holds a raw tag or
attribute that came from the text, a control character, a bidirectional override or a zero-width
mark; the text itself is shown as the command line shows it (``\\u202e``), or, in a form's field, as
a character reference that gives the field its stored value back."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings

from schemas.text import visible
from tests.fixtures.api import Api, running
from tests.fixtures.attacks import hostile
from tests.fixtures.web import form

#: What no page may hold as a character: controls (but tab, newline and carriage return),
#: formatting marks (bidirectional, zero-width), surrogates, private and unassigned code points,
#: line and paragraph separators.
FORBIDDEN = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


class _Page(HTMLParser):
    """A page's tags and attributes, its text, and its form fields' values, as a browser reads them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.text: list[str] = []
        self.values: list[str] = []
        self._in_textarea = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))
        self._in_textarea = tag == "textarea"
        self.values += [v for k, v in attrs if k == "value" and v is not None]

    def handle_endtag(self, tag: str) -> None:
        self._in_textarea = False

    def handle_data(self, data: str) -> None:
        (self.values if self._in_textarea else self.text).append(data)


def _read(html: str) -> _Page:
    """The page parsed, after checking that it holds no character a browser would act on rather
    than show, and no script or event handler of its own making."""
    for ch in html:
        assert ch in "\t\n\r" or unicodedata.category(ch) not in FORBIDDEN, (repr(ch), html)
    parsed = _Page()
    parsed.feed(html)
    for tag, attrs in parsed.tags:
        assert tag != "script" or dict(attrs).get("src"), (tag, attrs)
        assert not any(name.startswith("on") for name, _ in attrs), (tag, attrs)
    return parsed


class Pages:
    """Pages read as a person signed in (or not), each checked by ``_read``."""

    def __init__(self, api: Api) -> None:
        self.api = api
        self.sessions: dict[str, str] = {}

    def read(self, path: str, who: str | None = None) -> _Page:
        cookies = self.api.client.cookies
        cookies.delete("sbr_session")
        if who is not None:
            if who not in self.sessions:
                signed = form(self.api, "/login", {"token": self.api.secrets[who]})
                assert signed.status_code == 303, signed.text
                self.sessions[who] = signed.cookies["sbr_session"]
                cookies.delete("sbr_session")
            cookies.set("sbr_session", self.sessions[who])
        try:
            r = self.api.client.get(path)
        finally:
            cookies.delete("sbr_session")
        assert r.status_code == 200, (path, who, r.status_code, r.text[:500])
        return _read(r.text)


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pages]:
    with running(tmp_path_factory.mktemp("pages") / "registry.db") as api:
        yield Pages(api)


def _refused_naming(answer: httpx.Response, fields: set[str]) -> None:
    """A clean 4xx: a problem document naming one of ``fields``."""
    assert 400 <= answer.status_code < 500, answer.text
    problem = answer.json()
    assert problem["message_zh"] and problem["message_en"], problem
    assert {re.split(r"[.\[]", e["field"])[0] for e in problem["errors"]} & fields, problem


def _taken(api: Api, path: str, who: str | None, body: dict[str, Any], fallback: dict[str, Any]) -> bool:
    """Send ``body``; if it is refused (cleanly, naming one of the fields ``fallback`` replaces),
    send it with ``fallback`` instead. Whether the hostile body was taken."""
    answer = api.post(path, who, body)
    if answer.status_code < 300:
        return True
    _refused_naming(answer, set(fallback))
    again = api.post(path, who, {**body, **fallback})
    assert again.status_code < 300, again.text
    return False


def _register_page_of(pages: Pages, pid: str) -> _Page:
    """The page of the register (25 entries to a page, in the order of their ids) listing ``pid``."""
    offset = 0
    while True:
        found = pages.read(f"/?offset={offset}")
        links = {value for _, attrs in found.tags for name, value in attrs if name == "href"}
        if f"/register/{pid}" in links:
            return found
        assert any(link.startswith("/register/") for link in links), f"{pid} is not on the register"
        offset += 25


def _shows(page: _Page, text: str) -> bool:
    return visible(text) in "".join(page.text)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=hostile)
def test_a_hostile_text_is_refused_or_shown_escaped_on_every_page(pages: Pages, text: str) -> None:
    api = pages.api
    names = {"title": text, "app_type": text, "lead_name": text}
    plain = {"title": "小微企业智能信贷服务", "app_type": "金融服务", "lead_name": "福州示范银行"}
    created = api.post("/api/v1/projects", "alice", {
        "program_key": "ecny-pilot", **names, "lead_kind": "licensed_institution", "region": "福州",
        "lead_licence_no": "B0001H235010001"})
    named = created.status_code == 201
    if named:
        pid = created.json()["project_id"]
    else:
        _refused_naming(created, set(names))
        pid = api.create("ecny-pilot", **plain)
    api.ecny_application(pid)
    edit = f"/api/v1/projects/{pid}/edit_draft"
    statement = _taken(api, edit, "alice", {"section": "statement", "fields": {"kyc_responsible": text}},
                       {"fields": {"kyc_responsible": "fzbank"}})
    draft = pages.read(f"/projects/{pid}", "alice")
    step = pages.read(f"/projects/{pid}/draft/statement", "alice")
    if statement and text:
        assert text in step.values  # (the field's value, as stored: saved again, it stays the same)
    api.do(pid, "alice", "edit_draft", {"section": "statement", "fields": {"kyc_responsible": "fzbank"}})
    if named and text.strip():
        assert _shows(draft, text)
        assert _shows(pages.read("/my", "alice"), text)

    api.do(pid, "alice", "submit")
    reasoned = _taken(api, f"/api/v1/projects/{pid}/accept_intake", "carol", {"reason": text}, {"reason": None})
    api.assess(pid)
    channel = _taken(api, f"/api/v1/projects/{pid}/open_public_notice", "carol", {"channel": text}, {"channel": "官网"})
    objection = {"grounds": text, "name": text, "contact": text}
    objected = _taken(api, f"/api/v1/projects/{pid}/object", None, objection,
                      {"grounds": "影响用户权益", "name": "林先生", "contact": "lin@example.cn"})
    _taken(api, f"/api/v1/projects/{pid}/comment", None, {"text": text}, {"text": "支持"})

    entry = pages.read(f"/register/{pid}")
    register = _register_page_of(pages, pid)
    case = pages.read(f"/projects/{pid}", "carol")
    pages.read(f"/projects/{pid}/timeline", "carol")
    pages.read("/queue", "carol")
    audit = pages.read(f"/audit?after={max(0, api.head() - 40)}", "audrey")
    if text.strip():
        if named:
            for page in (entry, register, case):
                assert _shows(page, text)
        if channel:
            assert _shows(entry, text)
        if objected:
            assert _shows(case, text)
        if reasoned:
            assert _shows(audit, text)
