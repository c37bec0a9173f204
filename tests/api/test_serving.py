"""How the API is served: the collector is tuned while uvicorn runs, and restored afterwards."""

from __future__ import annotations

import gc
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from sandbox.api import create_app, run_server
from sandbox.api.app import SERVING_GC_THRESHOLD


def test_the_collector_is_tuned_while_serving_and_restored_after(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = create_app(tmp_path / "registry.db")
    seen: dict[str, Any] = {}

    def fake_run(served: object, **options: Any) -> None:
        seen.update(options, app=served, threshold=gc.get_threshold(), frozen=gc.get_freeze_count())

    monkeypatch.setattr(uvicorn, "run", fake_run)
    before = gc.get_threshold()
    assert before != SERVING_GC_THRESHOLD
    run_server(app, "127.0.0.1", 8123, timeout_graceful_shutdown=5)
    assert seen["app"] is app
    assert (seen["host"], seen["port"], seen["timeout_graceful_shutdown"]) == ("127.0.0.1", 8123, 5)
    assert seen["threshold"] == SERVING_GC_THRESHOLD
    assert seen["frozen"] > 0  # the app and everything loaded before it are out of the collector's way
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


def test_the_collector_is_restored_when_serving_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def failing_run(served: object, **options: Any) -> None:
        raise OSError("address already in use")

    monkeypatch.setattr(uvicorn, "run", failing_run)
    before = gc.get_threshold()
    with pytest.raises(OSError, match="address already in use"):
        run_server(create_app(tmp_path / "registry.db"), "127.0.0.1", 8123)
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0
