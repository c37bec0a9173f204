from __future__ import annotations

from schemas import commands as c
from schemas.lifecycle import State
from tests.fixtures.world import ALICE, OFFICER, World


def test_fintech_application_reaches_testing() -> None:
    w = World()
    pid = w.create("fintech-sandbox")
    w.fintech_application(pid)
    w.through_notice(pid)
    assert w.state(pid).state == State.NOTICE_CLOSED
    w.admit(pid)
    assert w.state(pid).state == State.ADMITTED
    w.do(pid, ALICE, c.StartTest())
    assert w.state(pid).state == State.TESTING
    _ = OFFICER
