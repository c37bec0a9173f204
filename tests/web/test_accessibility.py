"""Every page passes axe-core with no serious or critical violation, in Chinese and English."""

from __future__ import annotations

from typing import Any

import pytest

from tests.fixtures.servers import LiveServer
from tests.web.browser import accessible, sign_in

#: (who is signed in, path as a function of the world)
PAGES: list[tuple[str | None, Any]] = [
    (None, lambda w: "/"),
    (None, lambda w: f"/register/{w['notice']}"),
    (None, lambda w: "/login"),
    (None, lambda w: "/register/no-such-project"),  # the 404 page
    ("alice", lambda w: "/my"),
    ("alice", lambda w: f"/projects/{w['draft']}"),
    ("alice", lambda w: f"/projects/{w['draft']}/draft/statement"),
    ("alice", lambda w: f"/projects/{w['draft']}/draft/documents"),
    ("alice", lambda w: f"/projects/{w['draft']}/draft/attestations"),
    ("alice", lambda w: f"/projects/{w['draft']}/draft/submit"),
    ("carol", lambda w: f"/projects/{w['closed2']}"),
    ("carol", lambda w: "/queue"),
    ("carol", lambda w: "/dashboard"),
    ("carol", lambda w: f"/projects/{w['testing']}/metrics"),
    ("carol", lambda w: "/my"),  # the 403 page
    ("audrey", lambda w: "/audit?verify=true"),
    ("audrey", lambda w: f"/projects/{w['admitted']}/timeline"),
]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_page_is_accessible(page: Any, live: LiveServer, lang: str) -> None:
    signed = None
    for who, path in PAGES:
        if who != signed:
            if signed is not None:
                page.context.clear_cookies()
            if who is not None:
                sign_in(page, live.secrets[who])
                page.wait_for_load_state()
            signed = who
        page.goto(path(live.world) + ("&" if "?" in path(live.world) else "?") + f"lang={lang}")
        accessible(page)
