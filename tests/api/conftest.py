"""Fixtures for the API tests: a fresh app over a temporary database with a clock moved by hand,
and copies of one prepared world (a project in every state) for tests that need many states."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.api.helpers import Api, Clock, copy_db, running
from tests.api.world import World, build


@dataclass(frozen=True)
class Template:
    path: Path
    world: World
    secrets: dict[str, str]


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    """A new registry (bundled programs installed) with a token for every person."""
    with running(tmp_path / "registry.db") as a:
        yield a


@pytest.fixture(scope="session")
def template(tmp_path_factory: pytest.TempPathFactory) -> Template:
    """The prepared world, built once through the API and closed (so its file can be copied)."""
    path = tmp_path_factory.mktemp("template") / "world.db"
    with running(path) as a:
        world = build(a)
        secrets = dict(a.secrets)
    return Template(path, world, secrets)


@contextmanager
def world_copy(template: Template, directory: Path) -> Iterator[Api]:
    """A running app over a fresh copy of the prepared world, at the world's time."""
    db = copy_db(template.path, directory / f"copy-{len(list(directory.iterdir()))}.db")
    with running(db, Clock(template.world.now), template.secrets) as a:
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


@pytest.fixture
def world(template: Template) -> World:
    return template.world


logging.getLogger("httpx").setLevel(logging.WARNING)  # one INFO line per request drowns the failures
