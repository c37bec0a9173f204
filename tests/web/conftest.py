"""Fixtures for the pages: the API's prepared world (a project in every state) and a browser.

The browser is Debian's chromium driven by playwright; it must be installed (``make test`` installs
it): without it the browser tests fail with the reason, never skip.
"""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.api.conftest import Template, template, world, world_copy  # noqa: F401  (fixtures shared with the API tests)
from tests.api.helpers import Api, Clock, copy_db, make_api
from tests.web.browser import CHROMIUM, CHROMIUM_ARGS


@pytest.fixture
def web(template: Template, tmp_path: Path) -> Iterator[Api]:  # noqa: F811
    """A copy of the prepared world of one's own, for the pages."""
    with world_copy(template, tmp_path) as a:
        yield a


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class LiveServer:
    """An app over a copy of the prepared world, served over HTTP by uvicorn in a thread (which
    runs its lifespan), for the browser; ``secrets`` holds every person's token."""

    def __init__(self, prepared: Template, directory: Path) -> None:
        import uvicorn

        db = copy_db(prepared.path, directory / "live.db")
        self.clock = Clock(prepared.world.now)
        self.app, self.secrets = make_api(db, self.clock, prepared.secrets)
        self.world = prepared.world
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        while not self.server.started:  # (readiness, not a timing: the thread says when it listens)
            if not self.thread.is_alive():
                raise RuntimeError("the server did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *_: Any) -> None:
        self.server.should_exit = True
        self.thread.join()


@pytest.fixture
def live(template: Template, tmp_path: Path) -> Iterator[LiveServer]:  # noqa: F811
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
