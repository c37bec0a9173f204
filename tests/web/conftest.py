"""Fixtures for the pages: the API's prepared world (a project in every state) and a browser.

The browser is Debian's chromium driven by playwright; it must be installed (``make test`` installs
it): without it the browser tests fail with the reason, never skip.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.api import Api
from tests.fixtures.browser import CHROMIUM, CHROMIUM_ARGS
from tests.fixtures.servers import LiveServer
from tests.fixtures.templates import Template, world_copy


@pytest.fixture
def web(template: Template, tmp_path: Path) -> Iterator[Api]:
    """A copy of the prepared world of one's own, for the pages."""
    with world_copy(template, tmp_path) as a:
        yield a


@pytest.fixture
def live(template: Template, tmp_path: Path) -> Iterator[LiveServer]:
    """The world's app served on a free port."""
    with LiveServer(template, tmp_path) as server:
        yield server


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's chromium under playwright; a clear failure, never a skip, when it is missing."""
    if shutil.which(CHROMIUM) is None and not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium and fonts-noto-cjk (make test does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser: Any, live: LiveServer) -> Iterator[Any]:
    """A fresh browser context on the live server; any request leaving it (a CDN) fails the test."""
    context = browser.new_context(base_url=live.url, locale="zh-CN")
    leaks: list[str] = []
    context.route(
        "**/*",
        lambda route: (
            route.continue_()
            if route.request.url.startswith(live.url)
            else (leaks.append(route.request.url), route.abort())
        ),
    )
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    yield pg
    context.close()
    assert not leaks, f"requests left the server: {leaks}"
    assert not errors, f"script errors: {errors}"
