"""Commands on one project take turns within a process: threads calling the service at once
never meet a conflict, and an idle project holds no lock."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from sandbox.service import project_stream
from schemas import commands as c
from tests.fixtures.world import ALICE, World


def test_threads_commanding_one_project_at_once_are_each_decided_once(monkeypatch: pytest.MonkeyPatch) -> None:
    w = World()
    pid = w.registry.create_project(
        c.CreateDraft(program_key="ecny-pilot", title="并发", app_type="零售", lead_name="福州示范银行",
                      lead_kind="licensed_institution", region="福州"),
        ALICE,
        command_id="create",
    ).project_id

    decisions: list[str] = []
    prepare = w.registry._prepare

    def counted(*args: Any, **kw: Any) -> Any:
        decisions.append(args[3])  # the command id
        return prepare(*args, **kw)

    monkeypatch.setattr(w.registry, "_prepare", counted)

    def client(i: int) -> list[int]:
        return [
            w.registry.execute(
                pid, c.EditDraft(section="statement", fields={"channels": [f"{i}-{k}"]}), ALICE,
                command_id=f"turns-{i}-{k}",
            ).version
            for k in range(25)
        ]

    with ThreadPoolExecutor(max_workers=8) as pool:
        versions = [v for one in pool.map(client, range(8)) for v in one]
    assert sorted(versions) == list(range(2, 2 + 8 * 25))  # each decided on the last one's state
    commands = Counter(e.metadata.command_id for e in w.store.read_stream(project_stream(pid)))
    assert len(commands) == 1 + 8 * 25 and set(commands.values()) == {1}
    assert len(decisions) == 8 * 25  # none was decided twice: none met a conflict
    assert len(w.registry.turns) == 0  # nobody holds or waits for a turn any more
