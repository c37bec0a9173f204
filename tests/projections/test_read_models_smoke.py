from __future__ import annotations

import datetime as dt
from pathlib import Path

from projections.read_models import ReadModels
from sandbox.registry import init_registry, open_store
from sandbox.service import Registry
from schemas import commands as c
from tests.fixtures.world import ALICE, Clock, World


def test_read_models_follow_and_rebuild_equal(tmp_path: Path) -> None:
    clock = Clock(dt.datetime(2025, 3, 3, 10, tzinfo=dt.UTC))
    store = open_store(tmp_path / "r.db", create=True, clock=clock)
    init_registry(store, clock=clock)
    rm = ReadModels(store)
    w = World.__new__(World)
    w.clock = clock
    w.store = store  # type: ignore[assignment]
    w.registry = Registry(store, clock=clock, read_models=rm)
    w.registry.install_bundled()
    import itertools
    w._ids = itertools.count(1)
    pid = w.create("fintech-sandbox")
    w.fintech_application(pid)
    w.through_notice(pid)
    w.admit(pid)
    w.do(pid, ALICE, c.StartTest())
    incremental = rm.dump()
    assert incremental["rm_projects"][0][0] == pid
    assert rm.register_entry(pid) is not None
    rm.rebuild()
    assert rm.dump() == incremental
