"""Breaches whose action is a review or a flag wait in the regulator's work queue, with a due
date, until a regulator disposes of them; a suspension review needs two persons."""

from __future__ import annotations

import datetime as dt

from projections.project import REVIEW_ACTIONS
from projections.public import REVIEW_LABELS, queue_items
from schemas import commands as c
from schemas.lifecycle import State
from tests.fixtures.world import ALICE, APPROVER, APPROVER2, CAROL_AS_APPROVER, OFFICER, World

USERS = {"users": 3000, "active_users": 1000, "exposure_yuan": 50_000_000}


def complaints_over_the_threshold() -> tuple[World, str, int]:
    """A fintech test whose complaints crossed 5 per 1,000 active users: a suspension review."""
    w = World()
    pid = w.create("fintech-sandbox")
    w.fintech_application(pid)
    w.through_notice(pid)
    w.start_testing(pid)
    w.report_month(pid, USERS)
    for n in range(1, 7):
        w.do(pid, ALICE, c.LogComplaint(complaint_id=f"cp-{n}", category="fees", received_on=w.clock.today))
    [breach] = w.state(pid).breaches
    assert breach.action == "suspension_review"
    return w, pid, breach.position


def queue(w: World, pid: str) -> list[tuple[str, str, dt.date | None]]:
    s = w.state(pid)
    program = w.registry.program(s.program_key, s.program_version)
    return [(i.item, i.role, i.due_on) for i in queue_items(s, program) if i.item.startswith("breach:")]


def test_a_suspension_review_waits_in_the_queue_until_two_persons_dispose_of_it() -> None:
    w, pid, at = complaints_over_the_threshold()
    on = w.state(pid).breaches[0].on
    assert queue(w, pid) == [(f"breach:{at}", "case_officer", on + dt.timedelta(days=10))]

    w.refused(pid, OFFICER, c.DisposeBreach(breach_position=at, outcome="suspend"), "reason_required")
    w.refused(pid, OFFICER, c.DisposeBreach(breach_position=at + 1, outcome="suspend", reason="x"), "unknown_breach")
    w.refused(pid, ALICE, c.DisposeBreach(breach_position=at, outcome="suspend", reason="x"), "wrong_role")
    w.do(pid, OFFICER, c.DisposeBreach(breach_position=at, outcome="suspend", reason="投诉集中于收费，需暂停整改"))
    assert w.state(pid).state == State.TESTING  # proposed only
    assert queue(w, pid) == [(f"breach:{at}", "approver", on + dt.timedelta(days=10))]

    # the proposer, with an approver's token, is still the proposer; a different outcome is not a confirmation
    w.refused(pid, CAROL_AS_APPROVER, c.DisposeBreach(breach_position=at, outcome="suspend", reason="x"), "four_eyes")
    w.refused(pid, APPROVER, c.DisposeBreach(breach_position=at, outcome="no_action", reason="x"),
              "disposition_mismatch")
    before = w.head()
    w.do(pid, APPROVER, c.DisposeBreach(breach_position=at, outcome="suspend", reason="同意暂停"))
    assert w.types_since(pid, before) == ["BreachDisposed", "ProjectSuspended"]
    assert w.state(pid).state == State.SUSPENDED and queue(w, pid) == []
    w.refused(pid, APPROVER2, c.DisposeBreach(breach_position=at, outcome="suspend", reason="x"), "unknown_breach")


def test_a_review_closed_with_no_action_leaves_the_test_running() -> None:
    w, pid, at = complaints_over_the_threshold()
    w.do(pid, OFFICER, c.DisposeBreach(breach_position=at, outcome="no_action", reason="已核实为误报"))
    w.do(pid, APPROVER, c.DisposeBreach(breach_position=at, outcome="no_action", reason="同意"))
    assert w.state(pid).state == State.TESTING and w.state(pid).breaches[0].disposed == "no_action"
    assert queue(w, pid) == []


def test_every_review_action_has_its_words() -> None:
    assert set(REVIEW_LABELS) == REVIEW_ACTIONS


def test_a_flag_or_a_delisting_review_is_disposed_by_one_regulator() -> None:
    import msgspec

    from projections.project import Breach
    from tests.fixtures.pure import PROGRAMS, on_notice, when

    program = PROGRAMS["data-asset"]
    for action in ("flag", "delisting_review"):
        flagged = Breach(criterion_id="da.exit.valuation_age", action=action, position=7, on=dt.date(2025, 3, 3))
        given = msgspec.structs.replace(on_notice("data-asset"), state=State.TESTING, breaches=(flagged,))
        after = when(given, OFFICER, c.DisposeBreach(breach_position=7, outcome="no_action", reason="已重估"), program)
        assert after.breaches[0].disposed == "no_action" and after.state == State.TESTING
