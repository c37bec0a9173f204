"""Fixtures shared by the store tests: the test codec, a settable clock and a store per backend."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from events.codec import EventCodec
from events.store import EventStore
from tests.fixtures import statuses, stores

#: The prepared world's fixtures (``template``, ``world``), for the API and the web tests.
pytest_plugins = ["tests.fixtures.templates"]

settings.register_profile(
    "ci",
    deadline=None,
    max_examples=50,
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
)
settings.register_profile("thorough", deadline=None, max_examples=1000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(scope="session", autouse=True)
def every_status_seen_is_documented() -> Iterator[None]:
    """Across the whole run, every status an app answered on a route of the OpenAPI document is
    declared there for that route and method (see :mod:`tests.fixtures.statuses`); checked when the run
    ends, as an error of its last test."""
    with statuses.watching() as seen:
        yield
    if any(path.startswith(("/api/", "/health")) for _, path, _ in seen):
        missing = statuses.undocumented(seen, statuses.served_document())
        assert not missing, f"statuses the server answered that the OpenAPI document does not declare: {missing}"


@pytest.fixture
def codec() -> EventCodec:
    return stores.make_codec()


@pytest.fixture
def clock() -> stores.Clock:
    return stores.Clock()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "events.db"


@pytest.fixture(params=stores.BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def store(backend: str, tmp_path: Path, clock: stores.Clock) -> Iterator[EventStore]:
    """The contract suite's store: every test using it runs once per backend."""
    s = stores.open_store(backend, tmp_path, clock=clock)
    try:
        yield s
    finally:
        s.close()
