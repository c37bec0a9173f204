"""The public register's pages over HTTP: search, an entry, comments and objections, CSRF."""

from __future__ import annotations

from tests.fixtures.api import Api
from tests.fixtures.api_world import World
from tests.fixtures.web import form, text


def test_the_register_lists_projects_that_reached_notice_and_not_drafts(web: Api, world: World) -> None:
    page = web.client.get("/")
    assert page.status_code == 200
    assert f"/register/{world['notice']}" in page.text
    assert f"/register/{world['draft']}" not in page.text
    assert "公示与名录" in page.text  # Chinese by default


def test_search_and_filters_narrow_the_register(web: Api, world: World) -> None:
    everything = web.client.get("/").text
    testing = web.client.get("/", params={"state": "TESTING"}).text
    assert f"/register/{world['testing']}" in testing
    assert f"/register/{world['notice']}" not in testing and f"/register/{world['notice']}" in everything
    title = web.view(world["notice"])["title"]
    found = web.client.get("/", params={"q": title}).text
    assert f"/register/{world['notice']}" in found
    assert "没有符合条件的项目" in web.client.get("/", params={"q": "no-such-title-anywhere"}).text


def test_an_htmx_search_swaps_only_the_results(web: Api) -> None:
    fragment = web.client.get("/", headers={"HX-Request": "true", "HX-Target": "results"})
    assert fragment.status_code == 200
    assert "<html" not in fragment.text and "<table" in fragment.text


def test_an_entry_shows_its_public_parts_and_the_forms_during_notice(web: Api, world: World) -> None:
    page = web.client.get(f"/register/{world['notice']}")
    assert page.status_code == 200
    assert 'name="grounds"' in page.text and 'name="text"' in page.text
    assert "剩余工作日" in page.text
    assert "SECRET" not in page.text  # the private parts of the statement never show


def test_a_draft_is_not_on_the_register(web: Api, world: World) -> None:
    assert web.client.get(f"/register/{world['draft']}").status_code == 404


def test_an_objection_from_the_form_is_recorded(web: Api, world: World) -> None:
    pid = world["notice"]
    before = web.client.get(f"/api/v1/register/{pid}").json()["objections"]["total"]
    web.client.get(f"/register/{pid}")
    anonymous = form(web, f"/register/{pid}/object", {"grounds": "受理网点覆盖不足", "_key": "k0"})
    assert anonymous.status_code == 422 and "invalid_value" in anonymous.text  # shown beside the form
    assert web.client.get(f"/api/v1/register/{pid}").json()["objections"]["total"] == before
    named = {"grounds": "受理网点覆盖不足", "name": "陈女士", "contact": "chen@example.cn", "_key": "k1"}
    r = form(web, f"/register/{pid}/object", named)
    assert r.status_code == 303 and r.headers["location"] == f"/register/{pid}?sent=object"
    assert web.client.get(f"/api/v1/register/{pid}").json()["objections"]["total"] == before + 1


def test_a_form_sent_twice_with_its_key_is_one_command(web: Api, world: World) -> None:
    pid = world["notice"]
    before = web.client.get(f"/api/v1/register/{pid}").json()["comments"]
    for _ in range(2):
        assert form(web, f"/register/{pid}/comment", {"text": "支持", "_key": "same"}).status_code == 303
    assert web.client.get(f"/api/v1/register/{pid}").json()["comments"] == before + 1


def test_a_refused_form_shows_the_problem_beside_the_field_and_records_nothing(web: Api, world: World) -> None:
    pid = world["notice"]
    before = web.client.get(f"/api/v1/register/{pid}").json()["comments"]
    r = form(web, f"/register/{pid}/comment", {"text": ""})
    assert r.status_code == 400
    assert 'aria-invalid="true"' in r.text and 'id="err-text"' in r.text
    assert web.client.get(f"/api/v1/register/{pid}").json()["comments"] == before


def test_a_form_without_its_csrf_token_is_refused_and_changes_nothing(web: Api, world: World) -> None:
    pid = world["notice"]
    before = web.client.get(f"/api/v1/register/{pid}").json()["comments"]
    r = form(web, f"/register/{pid}/comment", {"text": "跨站请求"}, with_csrf=False)
    assert r.status_code == 403
    assert "csrf_failed" in r.text
    assert web.client.get(f"/api/v1/register/{pid}").json()["comments"] == before


def test_the_api_is_outside_the_pages_csrf_check(web: Api, world: World) -> None:
    assert web.post(f"/api/v1/projects/{world['notice']}/comment", "pat", {"text": "API 意见"}).status_code == 200


def test_english_with_the_switch_is_remembered_in_a_cookie(web: Api) -> None:
    first = web.client.get("/", params={"lang": "en"})
    assert "Public register" in first.text and "公示与名录" not in text(first.text).replace("中文", "")
    assert "lang=en" in first.headers["set-cookie"]
    assert "Public register" in web.client.get("/").text
    assert "公示与名录" in web.client.get("/", params={"lang": "zh"}).text
