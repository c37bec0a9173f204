"""The server's timer: it records due timers at start and on every beat, and survives a failed tick."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import sqlite3
from pathlib import Path

import pytest
from litestar.testing import TestClient

from sandbox.api import create_app
from sandbox.api.app import ticking
from sandbox.config import TICK_ENV, default_tick_seconds
from sandbox.registry import open_store
from sandbox.synthetic import SimClock, Simulation, sqlite_registry


class Stop(Exception):
    """Ends the loop under test (the ticker only catches store and domain errors)."""


class FakeRegistry:
    store = None  # a store in memory: no checkpoint to keep

    def __init__(self) -> None:
        self.calls = 0

    def tick(self) -> int:
        self.calls += 1
        if self.calls == 1:
            raise sqlite3.OperationalError("database or disk is full")
        if self.calls == 2:
            return 3
        raise Stop


def test_a_failed_tick_is_logged_and_retried(caplog: pytest.LogCaptureFixture) -> None:
    registry = FakeRegistry()
    with caplog.at_level(logging.INFO, logger="sandbox.api"), pytest.raises(Stop):
        asyncio.run(ticking(registry, 0.001, asyncio.Event()))  # type: ignore[arg-type]
    assert registry.calls == 3
    messages = [r.getMessage() for r in caplog.records]
    assert any("disk is full" in m and "retry" in m for m in messages)
    assert "recorded 3 timer events" in messages


def test_setting_stop_ends_the_ticker_without_another_tick() -> None:
    class Counting:
        calls = 0
        store = None

        def tick(self) -> int:
            self.calls += 1
            return 0

    async def scenario() -> int:
        registry, stop = Counting(), asyncio.Event()
        task = asyncio.create_task(ticking(registry, 3600, stop))  # type: ignore[arg-type]
        stop.set()
        await asyncio.wait_for(task, 10)
        return registry.calls

    assert asyncio.run(scenario()) <= 1


def test_the_app_records_due_timers_when_it_starts(tmp_path: Path) -> None:
    """A project left in public notice past its end: starting the server closes the notice."""
    path = tmp_path / "r.db"
    registry, clock, store = sqlite_registry(path, dt.date(2025, 3, 3))
    sim = Simulation(registry, clock, seed=1)
    pid = sim.add_project("ecny-pilot", fate="graduate")
    sim.run(stop_when=lambda s: s.state.value == "PUBLIC_NOTICE")
    ends = sim.lives[pid].state.notice_ends
    store.close()
    assert ends is not None
    later = SimClock(ends + dt.timedelta(days=3))
    app = create_app(path, clock=later, tick_seconds=3600)
    with TestClient(app) as client:  # the first beat runs at start-up, before serving
        assert client.get("/health").status_code == 200
        store = app.state.store
        assert any(e.type == "PublicNoticeClosed" for e in store.read_stream(f"project-{pid}"))
    with TestClient(create_app(path, clock=later, tick_seconds=3600)):
        pass
    store = open_store(path)
    try:  # exactly once: a second start with the same clock records nothing more
        assert [e.type for e in store.read_stream(f"project-{pid}")].count("PublicNoticeClosed") == 1
    finally:
        store.close()


def test_the_tick_interval_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(TICK_ENV, raising=False)
    assert default_tick_seconds() == 60
    monkeypatch.setenv(TICK_ENV, "0")
    assert default_tick_seconds() == 0
    monkeypatch.setenv(TICK_ENV, "soon")
    with pytest.raises(ValueError, match=TICK_ENV):
        default_tick_seconds()
