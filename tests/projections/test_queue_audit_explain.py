"""The work queue, the audit trail and decision explanations over generated histories."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import msgspec
import pytest

from projections.project import ProjectState
from projections.read_models import DECISIONS
from projections.rules import declared_period, next_report_due
from projections.views import explain
from sandbox.synthetic import Simulation, sqlite_registry
from schemas import events as ev
from schemas.lifecycle import State
from tests.fixtures.histories import History


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Iterator[History]:
    """Forty projects of every program run to their end (admissions, rejections, exits...),
    two of them admitted with a waived condition."""
    registry, clock, store = sqlite_registry(tmp_path_factory.mktemp("audit") / "r.db")
    sim = Simulation(registry, clock, seed=20250601)
    for n in range(40):
        sim.add_project(on=dt.date(2025, 1, 6) + dt.timedelta(days=5 * n))
    for key in ("fintech-sandbox", "data-asset"):
        sim.add_project(key, on=dt.date(2025, 2, 3), fate="graduate", waiver=True)
    sim.run()
    try:
        yield History(registry, clock, store, None, store.path)  # type: ignore[arg-type]
    finally:
        store.close()


def _simulation(tmp_path: Path, seed: int) -> tuple[Simulation, History]:
    registry, clock, store = sqlite_registry(tmp_path / "q.db")
    return Simulation(registry, clock, seed=seed), History(registry, clock, store, None, tmp_path)  # type: ignore[arg-type]


def _waiting_for_approval(s: ProjectState) -> bool:
    return s.state == State.NOTICE_CLOSED and s.pending is not None and s.pending.decision == "admit"


def test_a_project_waiting_for_approval_is_on_the_approvers_queue(tmp_path: Path) -> None:
    sim, h = _simulation(tmp_path, seed=3)
    pid = sim.add_project("fintech-sandbox", fate="graduate")
    assert sim.run(stop_when=_waiting_for_approval) == pid
    state = sim.lives[pid].state
    assert state.pending is not None and state.pending.approvers == ()
    items = [q for q in h.read_models.queue(role="approver") if q["project_id"] == pid]
    rid = state.pending.recommendation_id
    assert [q["item"] for q in items] == [f"approve:{rid}:1", f"approve:{rid}:2"]  # two approvers needed
    assert {q["since_position"] for q in items} == {state.pending.position}
    assert not any(q["project_id"] == pid for q in h.read_models.queue(role="case_officer"))
    # one approval of the two the fintech program asks for: still waiting for the approvers
    assert sim.run(stop_when=lambda s: s.pending is not None and len(s.pending.approvers) == 1) == pid
    assert [q["item"] for q in h.read_models.queue(role="approver") if q["project_id"] == pid] == [f"approve:{rid}:2"]
    # admitted: off the approvers' queue, on the applicant's (start the test)
    assert sim.run(stop_when=lambda s: s.state == State.ADMITTED) == pid
    assert not any(q["project_id"] == pid for q in h.read_models.queue(role="approver"))
    [start] = [q for q in h.read_models.queue(role="applicant") if q["project_id"] == pid]
    assert start["item"] == "start_test"
    # due the day before the declared period ends (a start is refused from its end on): then overdue
    state = sim.lives[pid].state
    begins, end = declared_period(state, h.registry.program(state.program_key, state.program_version))
    assert end is not None and start["due_on"] == (end - dt.timedelta(days=1)).isoformat()
    # ... and not before the declared start, which the item names
    assert begins is not None and begins.isoformat() in start["label_zh"] and begins.isoformat() in start["label_en"]
    [lapsed] = [q for q in h.read_models.queue(role="applicant", today=end) if q["project_id"] == pid]
    assert lapsed["overdue"] is True
    h.store.close()


def test_overdue_items_are_flagged_once_today_is_past_their_due_date(tmp_path: Path) -> None:
    sim, h = _simulation(tmp_path, seed=4)
    pid = sim.add_project("ecny-pilot", fate="graduate")
    assert sim.run(stop_when=lambda s: s.state == State.PUBLIC_NOTICE) == pid
    ends = sim.lives[pid].state.notice_ends
    assert ends is not None
    [notice] = [q for q in h.read_models.queue(role="system") if q["project_id"] == pid]
    assert notice["item"] == "notice_running" and notice["due_on"] == ends.isoformat()
    for today, overdue in ((ends - dt.timedelta(days=1), False), (ends, False), (ends + dt.timedelta(days=1), True)):
        [item] = [q for q in h.read_models.queue(role="system", today=today) if q["project_id"] == pid]
        assert item["overdue"] is overdue, today

    assert sim.run(stop_when=lambda s: s.state == State.TESTING) == pid
    state = sim.lives[pid].state
    due = next_report_due(state, 30)
    assert due is not None
    [report] = [q for q in h.read_models.queue(role="applicant") if q["project_id"] == pid]
    assert report["item"] == "periodic_report" and report["due_on"] == due.isoformat()
    [late] = [
        q for q in h.read_models.queue(role="applicant", today=due + dt.timedelta(days=1)) if q["project_id"] == pid
    ]
    assert late["overdue"] is True
    [on_time] = [q for q in h.read_models.queue(role="applicant", today=due) if q["project_id"] == pid]
    assert on_time["overdue"] is False
    h.store.close()


def test_every_admission_in_the_audit_trail_names_its_recommender_approvers_and_rule(history: History) -> None:
    admissions = [e for e in history.log() if isinstance(e.payload, ev.ProjectAdmitted)]
    assert len(admissions) >= 10
    for event in admissions:
        [row] = history.read_models.audit(after=event.position - 1, limit=1)
        assert row["position"] == event.position and row["type"] == "ProjectAdmitted"
        program = event.metadata.rule_version
        assert program and row["rule_version"] == program
        rec = row["detail"]["recommendation"]
        assert isinstance(event.payload, ev.ProjectAdmitted)
        required = 2 if program.startswith("fintech-sandbox") else 1
        assert rec["decision"] == "admit"
        assert rec["recommender"] == event.payload.recommender
        assert rec["approvers"] == event.payload.approvers
        assert len(rec["approvers"]) == len(set(rec["approvers"])) == required
        assert rec["recommender"] not in rec["approvers"]
        assert row["actor"] == rec["approvers"][-1] and row["role"] == "approver"


def test_the_audit_trail_lists_every_decision_of_a_project_as_the_log_recorded_it(history: History) -> None:
    log = history.log()
    project = next(e.stream_id for e in log if isinstance(e.payload, ev.ProjectAdmitted))
    decisions = [e for e in log if e.stream_id == project and isinstance(e.payload, DECISIONS)]
    rows = history.read_models.audit(project.removeprefix("project-"), limit=1000)
    assert [r["position"] for r in rows] == [e.position for e in decisions]
    for row, event in zip(rows, decisions, strict=True):
        meta = event.metadata
        assert row["type"] == event.type and row["project_id"] == project.removeprefix("project-")
        assert (row["actor"], row["role"], row["organisation"]) == (meta.actor, meta.role, meta.organisation)
        assert (row["rule_version"], row["reason"]) == (meta.rule_version, meta.reason)
        assert row["occurred_at"] == meta.occurred_at.isoformat()
        assert row["recorded_at"] == event.recorded_at.isoformat()
        assert row["detail"]["payload"] == msgspec.json.decode(msgspec.json.encode(event.payload))
    after = rows[1]["position"]
    assert history.read_models.audit(project.removeprefix("project-"), after=after, limit=2) == rows[2:4]


def test_explaining_an_admission_shows_its_rule_version_checklist_and_four_eyes(history: History) -> None:
    admissions = [e for e in history.log() if isinstance(e.payload, ev.ProjectAdmitted)]
    waived = 0
    for event in admissions:
        why = explain(history.store, history.catalog, event.position)
        assert why is not None
        assert why.type == "ProjectAdmitted" and why.state_before == "NOTICE_CLOSED" and why.state_after == "ADMITTED"
        assert why.rule_version == event.metadata.rule_version
        # the legal basis of that very program version
        key, version = str(why.rule_version).split("@")
        assert why.legal_basis and why.legal_basis == history.catalog.program(key, int(version)).legal_basis
        assert why.admission and all(c.status in ("met", "waived") for c in why.admission), [
            (c.id, c.status, c.missing_en) for c in why.admission
        ]
        for condition in why.admission:
            if condition.status == "waived":
                waived += 1
                assert condition.waived_by and condition.waived_by.startswith("approver-")
                assert condition.waiver_reason
        assert why.recommendation is not None
        assert why.recommendation["recommender"] not in why.recommendation["approvers"]
        assert why.recommendation["approvers"] == event.payload.approvers  # type: ignore[attr-defined]
        assert why.four_eyes_kept is True
    assert waived >= 2, "two admissions rest on a waived condition"


def test_explaining_other_decisions(history: History) -> None:
    """Every approval-based decision (admit, reject, graduate, exit) keeps four eyes, and an
    explanation of a non-decision event has no recommendation."""
    decisions = [
        e
        for e in history.log()
        if isinstance(
            e.payload, ev.ProjectAdmitted | ev.ApplicationRejected | ev.ProjectGraduated | ev.DecisionApproved
        )
    ]
    assert {type(e.payload).__name__ for e in decisions} >= {"ProjectAdmitted", "ProjectGraduated", "DecisionApproved"}
    for event in decisions:
        why = explain(history.store, history.catalog, event.position)
        assert why is not None and why.four_eyes_kept is True, (event.position, event.type, why)
    draft = next(e for e in history.log() if e.type == "DraftCreated")
    why = explain(history.store, history.catalog, draft.position)
    assert why is not None and why.recommendation is None and why.four_eyes_kept is None
    assert explain(history.store, history.catalog, 1) is None  # the genesis event is not a project's
    assert explain(history.store, history.catalog, history.head + 1) is None
