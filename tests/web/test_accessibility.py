"""Every page passes axe-core with no serious or critical violation, in Chinese and English."""

from __future__ import annotations

from typing import Any

import pytest

from tests.fixtures.browser import accessible, sign_in
from tests.fixtures.pages import PAGES
from tests.fixtures.servers import LiveServer

#: (who is signed in, path as a function of the world)


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
