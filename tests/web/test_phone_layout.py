"""The case page at phone width (375 px): the project's state, its checklist and its evidence come
first and the actions after them, and nothing scrolls sideways."""

from __future__ import annotations

from typing import Any

import pytest

from tests.fixtures.browser import sign_in
from tests.fixtures.servers import LiveServer

PHONE = {"width": 375, "height": 812}


def _top(page: Any, selector: str) -> float:
    box = page.locator(selector).first.bounding_box()
    assert box is not None, f"{selector} is not shown"
    top: float = box["y"]
    return top


def _no_sideways_scroll(page: Any) -> None:
    wide = page.evaluate("document.documentElement.scrollWidth")
    assert wide <= PHONE["width"], f"the page is {wide} px wide at {PHONE['width']} px"


@pytest.mark.parametrize(("who", "project"), [("carol", "testing"), ("alice", "testing"), ("carol", "notice")])
def test_the_case_page_on_a_phone_shows_state_checklist_and_evidence_before_the_actions(
    page: Any, live: LiveServer, who: str, project: str
) -> None:
    page.set_viewport_size(PHONE)
    sign_in(page, live.secrets[who])
    page.wait_for_load_state()
    for lang in ("zh", "en"):
        page.goto(f"/projects/{live.world[project]}?lang={lang}")
        state, checklist, panel = _top(page, "h1 + p .state"), _top(page, "#checklist"), _top(page, "#panel")
        assert state < checklist < panel
        if page.locator("#documents").count():
            assert checklist < _top(page, "#documents") < panel
        if page.locator("#evidence section").count():
            assert _top(page, "#evidence section") < panel
        _no_sideways_scroll(page)
