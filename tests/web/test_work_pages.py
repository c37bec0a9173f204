"""Signed-in pages over HTTP: who may open them, the applicant's draft, the decision panel."""

from __future__ import annotations

import hashlib
import re

import pytest

from tests.fixtures.api import Api
from tests.fixtures.api_world import World
from tests.fixtures.web import csrf, form, sign_in, text


@pytest.mark.parametrize("path", ["/my", "/queue", "/dashboard", "/audit"])
def test_a_signed_in_page_sends_a_stranger_to_the_sign_in_form(web: Api, path: str) -> None:
    r = web.client.get(path, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/login?next={path}"


@pytest.mark.parametrize(
    ("who", "path", "status"),
    [
        ("alice", "/my", 200),
        ("carol", "/my", 403),
        ("carol", "/queue", 200),
        ("audrey", "/queue", 200),
        ("alice", "/queue", 403),
        ("pat", "/queue", 403),
    ],
)
def test_each_role_opens_its_pages_only(web: Api, who: str, path: str, status: int) -> None:
    sign_in(web, who)
    assert web.client.get(path).status_code == status


def test_an_applicant_sees_its_own_projects_and_not_anothers(web: Api, world: World) -> None:
    sign_in(web, "alice")
    mine = web.client.get("/my").text
    assert f"/projects/{world['draft']}" in mine and f"/projects/{world.other_project}" not in mine
    assert web.client.get(f"/projects/{world['draft']}").status_code == 200
    assert web.client.get(f"/projects/{world.other_project}").status_code == 404  # never confirmed


def test_the_public_may_not_open_a_case(web: Api, world: World) -> None:
    sign_in(web, "pat")
    assert web.client.get(f"/projects/{world['notice']}").status_code == 403


APPROVE_BLOCKED = re.compile(
    r'<p class="error" id="approve-blocked">([^<]+)</p>\s*'
    r'<button type="submit" disabled aria-describedby="approve-blocked">'
)


def test_the_recommender_sees_approve_disabled_with_the_reason_in_both_languages(web: Api, world: World) -> None:
    pid = world["closed"]  # carol recommended it
    sign_in(web, "carol")
    zh = APPROVE_BLOCKED.search(web.client.get(f"/projects/{pid}").text)
    assert zh and zh.group(1) == "推荐人不能批准自己的推荐（四眼原则）"
    en = APPROVE_BLOCKED.search(web.client.get(f"/projects/{pid}", params={"lang": "en"}).text)
    assert en and en.group(1) == "the recommender may not approve their own recommendation (four eyes)"
    refused = form(web, f"/projects/{pid}/act/approve", {"decision": "admit"})  # sent anyway: refused
    assert refused.status_code == 403 and web.state(pid) == "NOTICE_CLOSED"
    sign_in(web, "ada")
    page = web.client.get(f"/projects/{pid}").text
    assert "/act/approve" in page and "approve-blocked" not in page  # an approver may


def test_the_queue_lists_what_waits_with_overdue_items_marked(web: Api) -> None:
    sign_in(web, "carol")
    page = web.client.get("/queue")
    rows = web.get("/api/v1/queue", "carol").json()
    assert len(rows) > 0 and page.text.count("<tr") == len(rows) + 1
    assert text(page.text).count("已逾期") == sum(1 for r in rows if r["overdue"])


def test_a_case_form_without_csrf_is_refused_and_changes_nothing(web: Api, world: World) -> None:
    sign_in(web, "carol")
    pid = world["submitted"]
    version = web.view(pid)["version"]
    r = form(web, f"/projects/{pid}/act/accept_intake", {}, with_csrf=False)
    assert r.status_code == 403
    assert web.view(pid)["version"] == version
    assert form(web, f"/projects/{pid}/act/accept_intake", {}).status_code == 303
    assert web.view(pid)["state"] == "UNDER_REVIEW"


def test_a_page_read_again_shows_what_changed_meanwhile(web: Api, world: World) -> None:
    sign_in(web, "carol")
    pid = world["submitted"]
    before = web.client.get(f"/projects/{pid}").text
    assert web.client.get(f"/projects/{pid}").text.count("已提交") == before.count("已提交")  # (kept)
    web.do(pid, "carol", "accept_intake")  # through the API, not the page
    after = web.client.get(f"/projects/{pid}").text
    assert 'class="state s-under_review"' in after and 'class="state s-submitted"' in before


def test_each_rendering_gives_its_forms_fresh_keys_and_the_readers_csrf_token(web: Api, world: World) -> None:
    sign_in(web, "carol")
    pages = [web.client.get(f"/projects/{world['submitted']}").text for _ in range(2)]
    keys = [re.findall(r'name="_key" value="([^"]+)"', p) for p in pages]
    assert keys[0] and set(keys[0]).isdisjoint(keys[1])
    assert len(set(keys[0])) == len(keys[0])  # no two forms of a page share a key
    token = web.client.cookies["csrftoken"]
    assert all(f'name="_csrf_token" value="{token}"' in p for p in pages)


def test_a_document_uploaded_on_the_page_is_stored_and_downloads_as_sent(web: Api, world: World) -> None:
    sign_in(web, "alice")
    pid = world["draft"]
    web.client.get(f"/projects/{pid}")
    content = b"%PDF-1.7\n" + "风险补偿金证明".encode()
    r = web.client.post(
        f"/projects/{pid}/documents",
        data={"kind": "risk_compensation_plan", "title": "风险补偿金证明", "_csrf_token": csrf(web), "_key": "u1"},
        files={"file": ("plan.pdf", content, "application/pdf")},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    sha = hashlib.sha256(content).hexdigest()
    page = web.client.get(f"/projects/{pid}").text
    assert f'href="/projects/{pid}/documents/{sha}"' in page
    assert web.client.get(f"/projects/{pid}/documents/{sha}").content == content


def test_an_upload_that_is_not_a_pdf_or_an_image_is_shown_beside_the_file_input(web: Api, world: World) -> None:
    sign_in(web, "alice")
    pid = world["draft"]
    version = web.view(pid, "alice")["version"]
    web.client.get(f"/projects/{pid}")
    r = web.client.post(
        f"/projects/{pid}/documents",
        data={"kind": "risk_compensation_plan", "title": "说明", "_csrf_token": csrf(web)},
        files={"file": ("notes.txt", b"plain text", "text/plain")},
        follow_redirects=False,
    )
    assert r.status_code == 422 and 'id="err-file"' in r.text
    assert web.view(pid, "alice")["version"] == version
