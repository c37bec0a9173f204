"""The history generator: deterministic, the same on both stores, realistic enough to matter."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from events.store import EventStore
from projections.project import fold
from sandbox.synthetic import FATES, PROGRAMS, Simulation, generate, memory_registry, sqlite_registry
from schemas.lifecycle import TERMINAL, State


def _content(store: EventStore) -> list[tuple[Any, ...]]:
    """Everything but the random event ids and the hashes that cover them."""
    return [
        (e.position, e.stream_id, e.version, e.type, e.payload, e.metadata, e.recorded_at)
        for e in store.iter_all(batch=5000)
        if e.stream_id != "registry"
    ]


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), projects=st.integers(1, 4))
def test_same_seed_same_history_on_memory_and_sqlite(
    tmp_path_factory: pytest.TempPathFactory, seed: int, projects: int
) -> None:
    registry, clock = memory_registry()
    first = generate(registry, clock, projects=projects, seed=seed)
    again, clock2 = memory_registry()
    generate(again, clock2, projects=projects, seed=seed)
    assert _content(registry.store) == _content(again.store)
    on_disk, clock3, store = sqlite_registry(tmp_path_factory.mktemp("syn") / "r.db", read_models=False)
    try:
        second = generate(on_disk, clock3, projects=projects, seed=seed)
        assert _content(store) == _content(registry.store)
        assert second.states == first.states and second.head == first.head
        assert store.verify().ok
    finally:
        store.close()


def test_a_larger_history_covers_every_program_path_and_the_chain_verifies() -> None:
    registry, clock = memory_registry()
    ended: list[tuple[int, int]] = []
    result = generate(
        registry, clock, projects=150, seed=2025, long_projects=1, long_events=300, progress=lambda *a: ended.append(a)
    )
    assert ended[-1] == (151, 151) and len(ended) == 151
    assert result.refused == 0
    assert registry.store.verify().ok
    assert set(result.states) <= {s.value for s in TERMINAL}, "run to the end, every life is over"
    assert {"GRADUATED", "EXITED", "REJECTED", "WITHDRAWN", "TERMINATED", "REVOKED"} <= set(result.states)
    types = Counter(e.type for e in registry.store.iter_all(batch=5000))
    for expected in (
        "InformationRequested",
        "AssessmentFiled",
        "CommentReceived",
        "ObjectionFiled",
        "ObjectionDisposed",
        "ConditionWaived",
        "ProjectAdmitted",
        "ApplicationRejected",
        "MetricsReported",
        "ThresholdBreached",
        "BreachDispositionProposed",
        "BreachDisposed",
        "ProjectSuspended",
        "ProjectReinstated",
        "ExtensionGranted",
        "ReportOverdue",
        "WarningIssued",
        "IncidentReported",
        "IncidentRemediated",
        "ComplaintLogged",
        "ExitInitiated",
        "ExitConfirmed",
        "ProjectGraduated",
        "ProjectRevoked",
        "ProjectTerminated",
    ):
        assert types[expected] > 0, expected
    programs = Counter(
        e.payload.program_key  # type: ignore[attr-defined]
        for e in registry.store.iter_all(types=["DraftCreated"])
    )
    assert set(programs) == set(PROGRAMS)
    [long_id] = result.long_project_ids
    assert 280 <= registry.store.stream_version(f"project-{long_id}") <= 320


def test_histories_stop_at_until_with_live_projects_and_resume() -> None:
    registry, clock = memory_registry()
    sim = Simulation(registry, clock, seed=8)
    for n in range(12):
        sim.add_project(on=dt.date(2025, 1, 6) + dt.timedelta(days=7 * n))
    assert sim.run(until=dt.date(2025, 6, 30)) is None
    assert clock.now.date() <= dt.date(2025, 6, 30)
    live = [life for life in sim.lives.values() if life.state.state not in TERMINAL]
    assert live, "mid-2025 some projects are still under review or testing"
    for life in sim.lives.values():
        assert life.state == fold(registry.store.read_stream(f"project-{life.pid}"))
    sim.run()
    assert all(life.state.state in TERMINAL for life in sim.lives.values())


def test_global_ticks_run_the_registry_timers(tmp_path: Path) -> None:
    registry, clock, store = sqlite_registry(tmp_path / "t.db")
    try:
        result = generate(registry, clock, projects=3, seed=5, global_tick_days=7)
        assert result.refused == 0
        closed = [e for e in store.iter_all(types=["PublicNoticeClosed"])]
        assert closed and all(e.metadata.actor == "system" for e in closed)
    finally:
        store.close()


def test_the_generator_refuses_what_it_cannot_do() -> None:
    registry, clock = memory_registry()
    with pytest.raises(ValueError, match="holiday calendar"):
        generate(registry, clock, projects=1, seed=1, start=dt.date(2026, 9, 1))
    generate(registry, clock, projects=1, seed=1, until=dt.date(2025, 2, 1))
    clock.now = clock.now - dt.timedelta(days=20)  # a clock set back behind the log
    with pytest.raises(ValueError, match="already holds events recorded"):
        generate(registry, clock, projects=1, seed=2)
    sim = Simulation(registry, clock, seed=1)
    with pytest.raises(ValueError, match="unknown program"):
        sim.add_project("mortgage-sandbox")
    with pytest.raises(ValueError, match="unknown fate"):
        sim.add_project("data-asset", fate="vanished")
    assert "graduate" in FATES and State.GRADUATED in TERMINAL
