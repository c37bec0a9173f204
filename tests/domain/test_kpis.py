"""Graduation is earned, not claimed: each KPI's attainment is computed from the reported metrics
against the target the admitted test plan declares, and a KPI not attained is waived only with a
reason in a graduation's recommendation, which two persons decide."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from msgspec.structs import replace

from projections.kpis import KpiAttainment, kpi_attainment
from projections.rules import exit_criteria
from projections.views import explain
from sandbox.deciders import Context, decide, decisions
from schemas import commands as c
from schemas import events as ev
from schemas.errors import DomainError
from schemas.lifecycle import State
from schemas.programs import Graduation
from tests.fixtures.world import ALICE, APPROVER, OFFICER, World, sha

CLAIMED = ["transactions", "wallets_opened"]


def _pilot_in_final_evaluation(transactions: int) -> tuple[World, str, list[int]]:
    """An e-CNY pilot that declared 120,000 transactions and 20,000 wallets, reported
    ``transactions`` in all (claiming every KPI met each time) and 25,000 wallets, and whose
    final report (claiming every KPI too) was accepted. Returns the reports' positions."""
    w = World()
    pid = w.create("ecny-pilot")
    w.ecny_application(pid)
    w.do(pid, ALICE, c.EditDraft(section="test_plan", fields={"transactions_target": 120_000}))
    w.through_notice(pid)
    w.admit(pid)
    w.do(pid, ALICE, c.StartTest())
    positions = [w.report_month(pid, {"transactions": transactions // 2, "wallets_opened": 12_500}, CLAIMED)
                 .positions[0] for _ in range(2)]
    # a correction of the last period replaces its figures: it is not added to them
    end = w.clock.today
    positions[-1] = w.do(pid, ALICE, c.ReportMetrics(
        period_start=end - dt.timedelta(days=29), period_end=end,
        metrics={"transactions": transactions - transactions // 2, "wallets_opened": 12_500}, kpis_met=CLAIMED,
    )).positions[0]
    planned_end = w.state(pid).planned_end
    assert planned_end is not None
    w.clock.to(planned_end)
    w.tick()
    assert w.state(pid).state == State.FINAL_EVALUATION
    w.do(pid, ALICE, c.SubmitFinalReport(sha256=sha("final"), summary="全部指标达成", kpis_met=CLAIMED))
    w.do(pid, OFFICER, c.AcceptFinalReport())
    return w, pid, positions


def _context(w: World, pid: str, actor: c.Actor) -> Context:
    s = w.state(pid)
    program = w.registry.program(s.program_key, s.program_version)
    return Context(actor=actor, now=w.clock.now, program=program, ref=w.registry.reference(), project_id=pid)


def test_a_claim_is_not_attainment_the_decider_refuses_a_graduation_short_of_a_target() -> None:
    # given a pilot that reported 2,000 of its declared 120,000 transactions, claiming every KPI
    w, pid, _ = _pilot_in_final_evaluation(2_000)
    state = w.state(pid)
    # when the case officer recommends graduation, then the pure decider refuses it
    with pytest.raises(DomainError) as refused:
        decide(c.Recommend(decision="graduate"), state, _context(w, pid, OFFICER))
    assert refused.value.code == "kpis_unmet"
    assert "transactions (cumulative): 2000, target at least 120000" in refused.value.message_en
    assert "交易笔数（累计）：实际 2000，目标不低于 120000" in refused.value.message_zh
    assert "wallets opened" not in refused.value.message_en  # 25,000 of 20,000: attained
    assert [d["kpi"] for d in refused.value.details] == ["transactions"]


def test_the_graduation_criterion_shows_each_kpi_with_target_achieved_and_evidence() -> None:
    w, pid, reports = _pilot_in_final_evaluation(2_000)
    s = w.state(pid)
    program = w.registry.program(s.program_key, s.program_version)
    graduation = next(x for x in exit_criteria(s, program, w.clock.today) if x.id == "ec.exit.graduation")
    assert graduation.status == "ok" and "transactions (cumulative)" in graduation.missing_en
    assert (graduation.progress["kpis_required"], graduation.progress["kpis_met"]) == (2, 1)
    kpis = {k["kpi"]: k for k in graduation.progress["kpis"]}  # type: ignore[union-attr]
    target_edit = s.field_positions["test_plan.transactions_target"]
    assert kpis["transactions"] == {
        "kpi": "transactions", "label_zh": "交易笔数（累计）", "label_en": "transactions (cumulative)",
        "metric": "transactions", "kind": "cumulative", "direction": "at_least", "target": 120_000,
        "achieved": 2_000, "status": "unmet", "evidence": tuple(sorted([target_edit, *reports])),
    }
    assert (kpis["wallets_opened"]["achieved"], kpis["wallets_opened"]["status"]) == (25_000, "met")
    assert set(reports) <= set(graduation.evidence)


@pytest.mark.parametrize(("kind", "achieved"), [("cumulative", 120_000), ("latest_period", 60_000)])
def test_the_program_data_says_whether_a_kpi_adds_every_period_or_reads_the_latest(
    kind: str, achieved: int
) -> None:
    w, pid, _ = _pilot_in_final_evaluation(120_000)
    s = w.state(pid)
    program = w.registry.program(s.program_key, s.program_version)
    [rule] = [r for r in program.exit if isinstance(r.params, Graduation)]
    params = rule.params
    assert isinstance(params, Graduation)
    kpis = {**params.kpis, "transactions": replace(params.kpis["transactions"], kind=kind)}
    graduation = replace(rule, params=replace(params, kpis=kpis))
    changed = replace(program, exit=tuple(graduation if r is rule else r for r in program.exit))
    [transactions] = [k for k in kpi_attainment(s, changed) if k.kpi == "transactions"]
    assert transactions.achieved == achieved
    assert transactions.status == ("met" if kind == "cumulative" else "unmet")


def test_a_kpi_is_waived_only_with_a_reason_in_the_graduation_and_the_waiver_is_explained() -> None:
    w, pid, _ = _pilot_in_final_evaluation(2_000)
    head = w.head()
    w.refused(pid, OFFICER, c.Recommend(decision="graduate", waive_kpis=["transactions"]), "reason_required")
    for kpi, rule in (("wallets_opened", "attained"), ("merchants_live", "not a KPI")):
        e = w.refused(pid, OFFICER, c.Recommend(decision="graduate", waive_kpis=[kpi], reason="试点区域调整"),
                      "invalid_value")
        assert rule in e.message_en and kpi in e.message_en
    w.refused(pid, OFFICER, c.Recommend(decision="exit", waive_kpis=["transactions"], reason="r"), "invalid_value")
    assert w.head() == head

    # with a reason, the recommendation waives it; the approver decides, never the recommender
    reason = "受疫情影响交易量不足，其余风险指标良好"
    w.do(pid, OFFICER, c.Recommend(decision="graduate", waive_kpis=["transactions"], reason=reason))
    s = w.state(pid)
    program = w.registry.program(s.program_key, s.program_version)
    graduation = next(x for x in exit_criteria(s, program, w.clock.today) if x.id == "ec.exit.graduation")
    assert graduation.status == "reached" and graduation.progress["kpis_waived"] == 1
    assert (graduation.waived_by, graduation.waiver_reason) == (OFFICER.id, reason)
    recommended = w.events(pid)[-1]
    assert recommended.position in graduation.evidence
    result = w.do(pid, APPROVER, c.Approve(decision="graduate"))
    assert "ProjectGraduated" in result.event_types and w.state(pid).state == State.GRADUATED

    # the explained decision carries the waiver: what was waived, why, by whom, approved by whom
    graduated = next(e for e in w.events(pid) if isinstance(e.payload, ev.ProjectGraduated))
    explained = explain(w.store, w.registry.catalog, graduated.position)
    assert explained is not None and explained.four_eyes_kept is True
    assert explained.recommendation is not None
    assert explained.recommendation["waived_kpis"] == ["transactions"]
    assert explained.recommendation["waiver_reason"] == reason
    assert explained.recommendation["recommender"] == OFFICER.id
    assert explained.recommendation["approvers"] == [APPROVER.id]
    waived = next(x for x in explained.exit if x.id == "ec.exit.graduation")
    assert [k["status"] for k in waived.progress["kpis"]] == ["waived", "met"]  # type: ignore[union-attr]


def test_a_graduation_with_a_waiver_computes_the_attainment_once(monkeypatch: pytest.MonkeyPatch) -> None:
    # given a pilot short of its transactions target, in final evaluation
    w, pid, _ = _pilot_in_final_evaluation(2_000)
    state, ctx = w.state(pid), _context(w, pid, OFFICER)
    computed: list[tuple[str, ...] | None] = []

    def counting(*args: Any) -> list[KpiAttainment]:
        computed.append(args[2])
        return kpi_attainment(*args)

    monkeypatch.setattr(decisions, "kpi_attainment", counting)
    # when the case officer recommends graduation waiving it
    command = c.Recommend(decision="graduate", waive_kpis=["transactions"], reason="试点区域调整")
    [recommended] = decide(command, state, ctx).events
    # then the waiver is checked and the graduation decided on one computation of the KPIs
    assert isinstance(recommended, ev.RecommendationMade) and recommended.waived_kpis == ["transactions"]
    assert computed == [("transactions",)]
