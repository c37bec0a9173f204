"""Errors answer a browser with a page and the API's clients with a problem document: an unknown
path, a method a path does not take, a bug in a page's handler."""

from __future__ import annotations

import pytest

from sandbox.web.controllers import public
from tests.fixtures.api import Api
from tests.fixtures.web import text

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
CLIENT = {"Accept": "application/json"}


def test_an_unknown_page_is_a_bilingual_html_404_with_a_way_back_to_the_register(web: Api) -> None:
    zh = web.client.get("/no-such-page", headers=BROWSER)
    assert zh.status_code == 404
    assert zh.headers["content-type"].startswith("text/html")
    assert "页面不存在" in text(zh.text) and 'href="/"' in zh.text
    en = web.client.get("/no-such-page", params={"lang": "en"}, headers=BROWSER)
    assert en.status_code == 404 and "Not found" in text(en.text) and "Public register" in text(en.text)


def test_an_unknown_path_is_a_problem_document_for_a_client_that_does_not_ask_for_html(web: Api) -> None:
    r = web.client.get("/no-such-page", headers=CLIENT)
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["status"] == 404


def test_the_api_answers_problem_json_even_to_a_browser(web: Api) -> None:
    for path in ("/api/v1/no-such-resource", "/api/v1/register/no-such-project"):
        r = web.client.get(path, headers=BROWSER)
        assert r.status_code == 404, path
        assert r.headers["content-type"].startswith("application/problem+json"), path
    wrong_method = web.client.delete("/api/v1/register", headers=BROWSER)
    assert wrong_method.status_code == 405
    assert wrong_method.headers["content-type"].startswith("application/problem+json")


def test_a_method_a_page_does_not_take_is_an_html_405(web: Api) -> None:
    r = web.client.delete("/", headers=BROWSER)
    assert r.status_code == 405
    assert r.headers["content-type"].startswith("text/html")
    assert "不支持此操作" in text(r.text) and 'href="/"' in r.text


def test_a_bug_in_a_page_is_an_html_500_that_shows_no_internals(web: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_: object, **__: object) -> None:
        raise RuntimeError("internal detail that must not show")

    monkeypatch.setattr(public, "search_register", broken)
    r = web.client.get("/", params={"q": "x"}, headers=BROWSER)
    assert r.status_code == 500
    assert r.headers["content-type"].startswith("text/html")
    assert "internal_error" in r.text and "出错了" in text(r.text)
    assert "internal detail" not in r.text and "Traceback" not in r.text
