"""Fixtures for the API tests: a fresh app over a temporary database with a clock moved by hand,
and copies of one prepared world (a project in every state) for tests that need many states."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fixtures.api import Api, running
from tests.fixtures.templates import Template, world_copy


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    """A new registry (bundled programs installed) with a token for every person."""
    with running(tmp_path / "registry.db") as a:
        yield a


@pytest.fixture
def world_api(template: Template, tmp_path: Path) -> Iterator[Api]:
    """A copy of the prepared world of one's own, to change."""
    with world_copy(template, tmp_path) as a:
        yield a


@pytest.fixture(scope="module")
def shared_world_api(template: Template, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    """A copy of the prepared world shared by a module's tests, which must not change it."""
    with world_copy(template, tmp_path_factory.mktemp("shared")) as a:
        yield a


logging.getLogger("httpx").setLevel(logging.WARNING)  # one INFO line per request drowns the failures
