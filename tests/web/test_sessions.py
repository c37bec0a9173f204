"""Signing in with a token, the session cookie, signing out, and a revoked token's session."""

from __future__ import annotations

from tests.fixtures.api import Api
from tests.fixtures.web import form, sign_in


def test_the_login_form_names_its_input_token(web: Api) -> None:
    page = web.client.get("/login")
    assert page.status_code == 200 and 'name="token"' in page.text


def test_a_wrong_token_gets_the_form_again_with_401(web: Api) -> None:
    r = form(web, "/login", {"token": "sbr_wrong"})
    assert r.status_code == 401
    assert 'name="token"' in r.text and "令牌无效" in r.text
    assert "sbr_session" not in r.headers.get("set-cookie", "")


def test_signing_in_sets_a_strict_http_only_session_cookie(web: Api) -> None:
    r = sign_in(web, "alice")
    cookie = next(c for c in r.headers.get_list("set-cookie") if c.startswith("sbr_session="))
    attributes = {a.strip().split("=")[0].lower() for a in cookie.split(";")[1:]}
    assert {"httponly", "path"} <= attributes
    assert "samesite=strict" in cookie.lower() and "path=/" in cookie.lower()
    assert "secure" not in attributes  # (served over http here)
    assert r.headers["location"] == "/my"  # an applicant lands on its projects


def test_the_session_cookie_is_secure_over_https(web: Api) -> None:
    web.client.get("https://testserver.local/login")
    token = web.client.cookies.get("csrftoken")
    r = web.client.post(
        "https://testserver.local/login",
        data={"token": web.secrets["carol"], "_csrf_token": token},
        follow_redirects=False,
    )
    cookie = next(c for c in r.headers.get_list("set-cookie") if c.startswith("sbr_session="))
    assert "secure" in cookie.lower()


def test_the_page_names_who_is_signed_in_and_signing_out_ends_it(web: Api) -> None:
    sign_in(web, "carol")
    assert "carol" in web.client.get("/").text
    assert form(web, "/logout", {}).status_code == 303
    assert "carol" not in web.client.get("/").text


def test_a_revoked_tokens_session_ends_at_once(web: Api) -> None:
    sign_in(web, "carol")
    assert "carol" in web.client.get("/").text
    web.app.state.tokens.revoke("carol")
    assert "carol" not in web.client.get("/").text


def test_signing_in_goes_back_to_a_local_page_only(web: Api) -> None:
    r = form(web, "/login", {"token": web.secrets["carol"], "next": "//evil.example/"})
    assert r.headers["location"] == "/queue"
    r = form(web, "/login", {"token": web.secrets["carol"], "next": "/register/x"})
    assert r.headers["location"] == "/register/x"


def test_logging_in_without_the_csrf_token_is_refused(web: Api) -> None:
    r = form(web, "/login", {"token": web.secrets["carol"]}, with_csrf=False)
    assert r.status_code == 403 and "sbr_session" not in r.headers.get("set-cookie", "")
