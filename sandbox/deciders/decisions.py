"""Recommendations and their approvals: admission, rejection, graduation, exits and forced endings."""

from __future__ import annotations

from collections.abc import Sequence
from typing import assert_never

import msgspec

from projections.kpis import KpiAttainment, declared_kpis, kpi_attainment
from projections.project import ProjectState
from projections.rules import (
    admission_checklist,
    declared_period,
    unmet_conditions,
)
from sandbox.deciders.authority import _LIVE, S
from sandbox.deciders.context import Context, handles, next_id
from sandbox.deciders.gates import unmet_refusal
from schemas import commands as c
from schemas import events as ev
from schemas.base import Event
from schemas.errors import DomainError
from schemas.lifecycle import IN_TEST, STATE_LABELS, State
from schemas.programs import Graduation

#: Decisions that need four eyes (the approver is never the recommender, never twice).
FOUR_EYES = frozenset({"admit", "graduate", "exit", "reject", "terminate", "revoke"})
#: The decisions that end a project by force, and the category each records unless one is named.
FORCED_ENDINGS = {"terminate": "regulator", "revoke": "false_materials"}


def _admissible(state: ProjectState, ctx: Context) -> None:
    """Refuse admission unless the notice closed in full, objections are disposed and every
    condition is met or waived."""
    if state.notice_closed_on is None:
        raise DomainError("notice_not_closed")
    open_ids = [o.objection_id for o in state.open_objections]
    if open_ids:
        raise DomainError("objection_open", objections=", ".join(open_ids))
    _, declared_end = declared_period(state, ctx.program)
    if declared_end is not None and declared_end <= ctx.today:  # nothing left to admit it for
        raise DomainError("declared_period_over", declared=declared_end)
    checklist = admission_checklist(state, ctx.program, ctx.ref, ctx.today)
    unmet = unmet_conditions(checklist)
    if unmet:
        raise unmet_refusal("condition_unmet", unmet)


def recommend(command: c.Recommend, s: ProjectState, ctx: Context) -> list[Event]:
    """A recommendation (the first step of every decision that needs an approver)."""
    return [_recommendation(command, s, ctx)]


def _recommendation(command: c.Recommend, s: ProjectState, ctx: Context) -> Event:
    if s.pending is not None and not _lapsed_admission(s, ctx):
        raise DomainError("recommendation_pending")
    if command.decision == "admit" and s.state in (S.UNDER_REVIEW, S.PUBLIC_NOTICE):
        raise DomainError("notice_not_closed")
    _decidable(command.decision, s, "recommend")
    category = command.category
    if command.decision in FORCED_ENDINGS:
        if not command.reason:
            raise DomainError("reason_required")
        category = category or FORCED_ENDINGS[command.decision]
    if command.decision == "admit":
        _admissible(s, ctx)
    waived = tuple(dict.fromkeys(command.waive_kpis))
    if command.decision == "graduate":
        attainment = kpi_attainment(s, ctx.program, waived)
        if waived:
            _check_kpi_waivers(command, waived, s, attainment)
        _graduable(s, ctx, attainment)
    elif waived:
        raise DomainError(
            "invalid_value",
            field="waive_kpis",
            rule_zh="只有出盒推荐可以豁免关键指标",
            rule_en="only a recommendation to graduate waives KPIs",
        )
    return ev.RecommendationMade(
        recommendation_id=next_id("rec", s),
        decision=command.decision,
        approvals_required=ctx.program.approvals_required,
        exit_mode=command.exit_mode or ("forced" if command.decision == "exit" else None),
        category=category,
        waived_kpis=list(waived),
    )


def _check_kpi_waivers(
    command: c.Recommend, waived: tuple[str, ...], s: ProjectState, attainment: Sequence[KpiAttainment]
) -> None:
    """A KPI is waived (by a recommendation to graduate) only with a reason, and only a KPI of
    the test plan that the reports did not attain (``attainment``, computed once)."""
    if not command.reason:
        raise DomainError("reason_required")
    declared = set(declared_kpis(s))
    attained = {k.kpi for k in attainment if k.status == "met"}
    for kpi in waived:
        if kpi not in declared:
            raise DomainError(
                "invalid_value",
                field="waive_kpis",
                rule_zh=f"{kpi} 不是测试方案的关键指标",
                rule_en=f"{kpi} is not a KPI of the test plan",
            )
        if kpi in attained:
            raise DomainError(
                "invalid_value",
                field="waive_kpis",
                rule_zh=f"{kpi} 已达成，无需豁免",
                rule_en=f"{kpi} is attained: there is nothing to waive",
            )


def _lapsed_admission(s: ProjectState, ctx: Context) -> bool:
    """Whether the pending recommendation is an admission that can no longer be approved (its
    declared period is over): a new recommendation, a rejection, replaces it."""
    if s.pending is None or s.pending.decision != "admit":
        return False
    _, declared_end = declared_period(s, ctx.program)
    return declared_end is not None and declared_end <= ctx.today


def _graduable(s: ProjectState, ctx: Context, attainment: Sequence[KpiAttainment]) -> None:
    """Refuse a graduation before the final report is accepted, or while a KPI of the test plan
    is neither attained nor waived (``attainment``: computed from the reports, see
    projections.kpis; for programs with a graduation criterion)."""
    if not s.final_report_accepted:
        raise DomainError("final_report_missing")
    graduation = any(isinstance(rule.params, Graduation) for rule in ctx.program.exit)
    if graduation and s.test_started_on is not None:
        unmet = [k for k in attainment if k.status == "unmet"]
        if unmet:
            gaps = [k.gap() for k in unmet]
            raise DomainError(
                "kpis_unmet",
                kpis="; ".join(en for _, en in gaps),
                kpis_zh="；".join(zh for zh, _ in gaps),
                details=[msgspec.to_builtins(k) for k in unmet],
            )


#: decision -> the states it may be recommended and approved in
DECIDABLE: dict[str, frozenset[State]] = {
    "admit": frozenset({S.NOTICE_CLOSED}),
    "reject": frozenset({S.UNDER_REVIEW, S.NOTICE_CLOSED}),
    "graduate": frozenset({S.FINAL_EVALUATION}),
    "exit": frozenset({*IN_TEST, S.FINAL_EVALUATION}),
    # forced endings: a test that must stop now (licence lost, designation withdrawn), and an
    # admission or graduation obtained with false materials, found out at any point from the
    # admission on (a revocation recommended during the test may be approved after it ended)
    "terminate": frozenset(_LIVE),
    "revoke": frozenset({S.ADMITTED, *IN_TEST, S.FINAL_EVALUATION, S.GRADUATED}),
}


def _decidable(decision: str, s: ProjectState, step: str) -> None:
    """Refuse a decision in a state it cannot be taken in: recommended there, or approved after
    the project moved on (a test period that ended while a revocation waited for approval)."""
    if s.state not in DECIDABLE[decision]:
        zh, _ = STATE_LABELS[s.state]
        raise DomainError("wrong_state", state=s.state.value, state_zh=zh, action=f"{step} {decision}")


def approve(command: c.Approve, s: ProjectState, ctx: Context) -> list[Event]:
    """One approval of the pending recommendation; the last one required takes the decision."""
    pending = s.pending
    if pending is None:
        raise DomainError("no_pending_recommendation")
    if pending.decision != command.decision:
        raise DomainError("recommendation_mismatch", pending=pending.decision, decision=command.decision)
    _decidable(pending.decision, s, "approve")
    me = ctx.actor.id
    if command.decision in FOUR_EYES and (me == pending.recommender or me in pending.approvers):
        raise DomainError("four_eyes", who=me)
    number = len(pending.approvers) + 1
    approved: list[Event] = [
        ev.DecisionApproved(
            recommendation_id=pending.recommendation_id, decision=pending.decision, approval_number=number
        )
    ]
    if number < pending.approvals_required:
        return approved
    approvers = [*pending.approvers, me]
    rid, recommender = pending.recommendation_id, pending.recommender
    match pending.decision:
        case "admit":
            _admissible(s, ctx)
            return [*approved, ev.ProjectAdmitted(recommendation_id=rid, recommender=recommender, approvers=approvers)]
        case "reject":
            return [
                *approved,
                ev.ApplicationRejected(recommendation_id=rid, recommender=recommender, approvers=approvers),
            ]
        case "graduate":
            _graduable(s, ctx, kpi_attainment(s, ctx.program, pending.waived_kpis))
            return [
                *approved,
                ev.ProjectGraduated(recommendation_id=rid, recommender=recommender, approvers=approvers),
            ]
        case "exit":
            if s.state == S.FINAL_EVALUATION:
                return [*approved, ev.ExitConfirmed()]
            return [*approved, ev.ExitInitiated(mode="forced", criterion_id=None)]
        case "terminate":
            return [*approved, ev.ProjectTerminated(category=pending.category or FORCED_ENDINGS["terminate"])]
        case "revoke":
            return [*approved, ev.ProjectRevoked(category=pending.category or FORCED_ENDINGS["revoke"])]
        case _:
            assert_never(pending.decision)


#: The decider of each command kind of this stage.
DECIDERS = dict([handles(c.Recommend, recommend), handles(c.Approve, approve)])
