"""Fixtures for the security tests: a fresh app over a temporary database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fixtures.api import Api, running


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    """A new registry (bundled programs installed) with a token for every person."""
    with running(tmp_path / "registry.db") as a:
        yield a
