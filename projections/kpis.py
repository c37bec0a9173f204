"""KPI attainment: what the reports achieved against the targets the admitted test plan declares.

Graduation (出盒) is earned, not claimed: a metrics report's or the final report's ``kpis_met``
list is the applicant's claim and counts for nothing here. Each KPI the test plan names
(``test_plan.kpis``) is computed as the program's graduation rule defines it (see
:class:`schemas.programs.Kpi`): the metric's figures of every period added up (``cumulative``)
or the latest period's figure (``latest_period``), from the running aggregates of the project's
reports (:mod:`projections.ledger`), against the whole number the plan declares in the KPI's
``target_field``, as a floor or a ceiling. A KPI that is not attained may be waived only in a
graduation's recommendation, with a reason, and so only by two persons (the case officer who
recommends and an approver who is not the same person): the waiver travels with the decision.
"""

from __future__ import annotations

import msgspec

from projections.project import ProjectState, Recommendation
from schemas import programs as p
from schemas.labels import field_label

#: The section of the declared application that holds the test plan: its KPIs and their targets.
PLAN = "test_plan"


class KpiAttainment(msgspec.Struct, frozen=True, kw_only=True):
    """One KPI of the test plan: how it is computed, its target, what the reports achieved, and
    its evidence (the positions of the reports whose figures count, and of the edit that
    declared the target). ``status``: ``met``, ``unmet`` or ``waived``. ``kind`` is None when the
    program version does not define the KPI (it cannot be computed), ``target`` None when the
    plan declares none, ``achieved`` None when nothing was reported for its metric."""

    kpi: str
    label_zh: str
    label_en: str
    metric: str | None
    kind: str | None
    direction: str
    target: int | None
    achieved: int | None
    status: str
    evidence: tuple[int, ...] = ()

    def gap(self) -> tuple[str, str]:
        """Why it is not met, in Chinese and English, the KPI named by its label."""
        zh, en = self.label_zh, self.label_en
        if self.kind is None:
            return f"{zh}：本版本规则未定义其计算方式", f"{en}: this program version does not define it"
        if self.target is None:
            return f"{zh}：测试方案未声明目标值", f"{en}: the test plan declares no target"
        achieved_zh = "未报告" if self.achieved is None else str(self.achieved)
        achieved_en = "nothing reported" if self.achieved is None else str(self.achieved)
        bound_zh, bound_en = ("不高于", "at most") if self.direction == "at_most" else ("不低于", "at least")
        return (
            f"{zh}：实际 {achieved_zh}，目标{bound_zh} {self.target}",
            f"{en}: {achieved_en}, target {bound_en} {self.target}",
        )


def declared_kpis(state: ProjectState) -> list[str]:
    """The KPIs the test plan names, in its order."""
    kpis = state.section(PLAN).get("kpis")
    return [str(k) for k in kpis] if isinstance(kpis, list) else []


def graduation_rule(program: p.ProgramDefinition) -> p.Graduation:
    """The program's graduation parameters (the KPIs it defines), or none defined."""
    return next((r.params for r in program.exit if isinstance(r.params, p.Graduation)), p.Graduation())


def graduation_recommendation(state: ProjectState) -> Recommendation | None:
    """The graduation recommended and not yet decided, else the last graduation decided: its
    waivers are the KPIs waived."""
    pending = state.pending
    if pending is not None and pending.decision == "graduate":
        return pending
    return next((d for d in reversed(state.decisions) if d.decision == "graduate"), None)


def kpi_attainment(
    state: ProjectState, program: p.ProgramDefinition, waived: tuple[str, ...] | None = None
) -> list[KpiAttainment]:
    """Each KPI of the test plan, computed (see the module's docstring). ``waived``: the KPIs a
    graduation's recommendation waives (by default those of the project's own recommendation)."""
    if waived is None:
        recommendation = graduation_recommendation(state)
        waived = recommendation.waived_kpis if recommendation is not None else ()
    definitions = graduation_rule(program).kpis
    ledger = state.ledger
    out = []
    for kpi in declared_kpis(state):
        definition = definitions.get(kpi)
        if definition is None:
            label_zh, label_en = field_label(kpi)  # (a KPI the program does not define, named in words)
            out.append(
                KpiAttainment(
                    kpi=kpi,
                    label_zh=label_zh,
                    label_en=label_en,
                    metric=None,
                    kind=None,
                    direction="at_least",
                    target=None,
                    achieved=None,
                    status="waived" if kpi in waived else "unmet",
                )
            )
            continue
        declared = state.section(PLAN).get(definition.target_field)
        target = declared if isinstance(declared, int) and not isinstance(declared, bool) else None
        evidence: list[int] = []
        declared_at = state.field_positions.get(f"{PLAN}.{definition.target_field}")
        if target is not None and declared_at is not None:
            evidence.append(declared_at)
        metric = definition.metric
        achieved: int | None
        if definition.kind == "cumulative":
            achieved = ledger.totals.get(metric)
            evidence += [period.figures[metric][1] for period in ledger.periods.values() if metric in period.figures]
        else:
            latest = ledger.latest.get(metric)
            achieved = latest[0] if latest is not None else None
            evidence += [latest[1]] if latest is not None else []
        met = (
            target is not None
            and achieved is not None
            and (achieved <= target if definition.direction == "at_most" else achieved >= target)
        )
        out.append(
            KpiAttainment(
                kpi=kpi,
                label_zh=definition.label_zh,
                label_en=definition.label_en,
                metric=metric,
                kind=definition.kind,
                direction=definition.direction,
                target=target,
                achieved=achieved,
                status="met" if met else "waived" if kpi in waived else "unmet",
                evidence=tuple(sorted(evidence)),
            )
        )
    return out
