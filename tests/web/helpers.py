"""Driving the pages as a browser without JavaScript would: cookies, the CSRF field, forms."""

from __future__ import annotations

import re
from typing import Any

import httpx

from tests.api.helpers import Api

CSRF = "csrftoken"


def csrf(api: Api) -> str:
    """The CSRF token of the client's cookie (a GET of any page sets it)."""
    if CSRF not in api.client.cookies:
        api.client.get("/login")
    return str(api.client.cookies[CSRF])


def form(api: Api, path: str, data: dict[str, Any], *, with_csrf: bool = True) -> httpx.Response:
    """POST a form as the page does (urlencoded, with its CSRF field), not following redirects."""
    body = {**data, **({"_csrf_token": csrf(api)} if with_csrf else {})}
    return api.client.post(path, data=body, follow_redirects=False)


def sign_in(api: Api, who: str) -> httpx.Response:
    response = form(api, "/login", {"token": api.secrets[who]})
    assert response.status_code == 303, response.text
    return response


def sign_out(api: Api) -> None:
    form(api, "/logout", {})


def text(html: str) -> str:
    """The page's text, tags dropped and whitespace collapsed (for asserting what a reader sees)."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
