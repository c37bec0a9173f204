"""The exit criteria: each exit criterion of a program with its status, progress and evidence,
and the report arithmetic they share."""

from __future__ import annotations

import datetime as dt
from typing import get_args

import msgspec

from projections.kpis import graduation_recommendation, kpi_attainment
from projections.ledger import complaint_count, figures_in
from projections.project import ProjectState
from projections.rules.declared import declared_value
from projections.rules.facts import FACTS_READ, pledge_outstanding, unregistered_changes
from projections.rules.outcome import MISPLACED, Outcome, Progress, RuleStatus, breach, exit_check, ok, status_of
from schemas import programs as p
from schemas.dates import months_later
from schemas.lifecycle import IN_TEST, State
from schemas.tables import every_kind


def _window(today: dt.date, days: int) -> dt.date:
    return today - dt.timedelta(days=days - 1)


#: The declared field that names how often the applicant reports (``test_plan``), in days.
CADENCE_FIELD = "reporting_cadence_days"


def report_cadence(state: ProjectState, program: p.ProgramDefinition) -> int:
    """How often, in days, the project reports: the cadence its admitted test plan declares, if
    it is shorter than the program's (a plan may promise more frequent reports, never fewer);
    else the program's."""
    longest = program.durations.report_cadence_days
    declared = declared_value(state, CADENCE_FIELD)
    if isinstance(declared, int) and not isinstance(declared, bool) and 1 <= declared < longest:
        return declared
    return longest


def next_report_due(state: ProjectState, cadence_days: int) -> dt.date | None:
    """The day the next periodic report is due (None before the test starts)."""
    if state.test_started_on is None:
        return None
    last = state.ledger.last_end or state.test_started_on
    if last > dt.date.max - dt.timedelta(days=cadence_days):
        return dt.date.max
    return last + dt.timedelta(days=cadence_days)


#: The exit criteria watched from the admission on, before any test starts: outside facts, and
#: a listed data asset's pledges and changes.
_FROM_ADMISSION = (p.ExternalEvent, p.PledgeRealised, p.ChangeRegistration)


def _check_exit(params: p.Params, state: ProjectState, program: p.ProgramDefinition, today: dt.date) -> Outcome:
    check = EXIT_CHECKS.get(type(params))
    if check is None:
        return MISPLACED["exit"]
    if state.test_started_on is None and not isinstance(params, _FROM_ADMISSION):
        return Outcome(status="not_applicable")
    return check(params, state, program, today)


def _exit_test_period(
    params: p.TestPeriod, state: ProjectState, program: p.ProgramDefinition, today: dt.date
) -> Outcome:
    assert state.test_started_on is not None
    end = state.planned_end or state.test_started_on
    elapsed = (min(today, end) - state.test_started_on).days
    total = (end - state.test_started_on).days
    progress: Progress = {
        "days_elapsed": elapsed,
        "days_total": total,
        "planned_end": end.isoformat(),
        "extensions_granted": state.extensions_granted,
        "max_extensions": params.max_extensions,
    }
    if today >= end:
        return Outcome(status="reached", action="final_evaluation", progress=progress)
    return Outcome(status="ok", progress=progress)


def _exit_graduation(
    params: p.Graduation, state: ProjectState, program: p.ProgramDefinition, today: dt.date
) -> Outcome:
    """Reached once the final report is accepted and every KPI of the test plan is attained
    (computed from the reports, see :mod:`projections.kpis`) or waived by the graduation's
    recommendation."""
    kpis = kpi_attainment(state, program)
    unmet = [k for k in kpis if k.status == "unmet"]
    waived = [k for k in kpis if k.status == "waived"]
    progress: Progress = {
        "kpis_required": len(kpis),
        "kpis_met": sum(k.status == "met" for k in kpis),
        "kpis_waived": len(waived),
        "kpis": [msgspec.to_builtins(k) for k in kpis],
    }
    evidence = {position for k in kpis for position in k.evidence}
    if state.final_report_position:
        evidence.add(state.final_report_position)
    recommendation = graduation_recommendation(state) if waived else None
    if recommendation is not None:
        evidence.add(recommendation.position)
    waived_by = recommendation.recommender if recommendation is not None else None
    reason = recommendation.reason if recommendation is not None else None
    if not unmet and state.final_report_accepted:
        return Outcome(
            status="reached",
            progress=progress,
            evidence=tuple(sorted(evidence)),
            waived_by=waived_by,
            waiver_reason=reason,
        )
    gaps = [k.gap() for k in unmet]
    return Outcome(
        status="ok",
        progress=progress,
        evidence=tuple(sorted(evidence)),
        missing_zh=f"未达成指标：{'；'.join(zh for zh, _ in gaps)}" if unmet else "最终报告尚未通过",
        missing_en=f"KPIs not met: {'; '.join(en for _, en in gaps)}" if unmet else "final report not accepted",
        waived_by=waived_by,
        waiver_reason=reason,
    )


def _exit_incidents(params: p.Incidents, state: ProjectState, program: p.ProgramDefinition, today: dt.date) -> Outcome:
    matching = [
        i for i in state.incidents if i.severity == params.severity and (not params.kinds or i.kind in params.kinds)
    ]
    evidence_list = [i.position for i in matching]
    overdue = [
        i
        for i in matching
        if params.remediation_days is not None
        and i.remediated_on is None
        and (today - i.occurred_on).days > params.remediation_days
    ]
    progress: Progress = {
        "incidents": len(matching),
        "suspend_at": params.suspend_at,
        "exit_at": params.exit_at,
        "unremediated_over_limit": len(overdue),
    }
    if (params.exit_at is not None and len(matching) >= params.exit_at) or overdue:
        return breach("forced_exit", *evidence_list, **progress)
    if params.suspend_at is not None and len(matching) >= params.suspend_at:
        return breach("suspension", *evidence_list, **progress)
    return ok(*evidence_list, **progress)


def _exit_complaint_rate(
    params: p.ComplaintRate, state: ProjectState, program: p.ProgramDefinition, today: dt.date
) -> Outcome:
    since = _window(today, params.window_days)
    in_window, evidence = complaint_count(state.ledger, since, today)
    total = state.ledger.complaints_total
    users = _latest_metric(state, "active_users")
    rate = in_window * 1000 // users if users else 0
    progress: Progress = {
        "complaints_in_window": in_window,
        "active_users": users,
        "per_mille": rate,
        "limit_per_mille": params.per_mille,
        "total": total,
        "max_total": params.max_total,
    }
    over_rate = users > 0 and in_window * 1000 > params.per_mille * users
    over_total = params.max_total is not None and total > params.max_total
    if over_rate or over_total:
        return breach(params.action, *evidence, **progress)
    return ok(*evidence, **progress)


def _exit_cap_breach(params: p.CapBreach, state: ProjectState, program: p.ProgramDefinition, today: dt.date) -> Outcome:
    over = []
    evidence = []
    progress: Progress = {}
    latest = state.ledger.last
    for metric, boundary in params.caps.items():
        cap = declared_value(state, boundary)
        value = latest.metrics.get(metric) if latest else None
        progress[metric] = value
        progress[boundary] = cap if isinstance(cap, int) else None
        if latest and isinstance(cap, int) and value is not None and value > cap:
            over.append(metric)
            evidence.append(latest.position)
    if over:
        return breach(params.action, *evidence, **progress)
    return ok(**progress)


def _exit_metric_limit(
    params: p.MetricLimit, state: ProjectState, program: p.ProgramDefinition, today: dt.date
) -> Outcome:
    since = _window(today, params.window_days)
    figures = figures_in(state.ledger, params.metric, since, today)
    amount = sum(value for value, _ in figures)
    evidence = [position for value, position in figures if value]
    if params.ratio_of:
        base = sum(value for value, _ in figures_in(state.ledger, params.ratio_of, since, today))
        value = amount * params.scale // base if base else 0
        exceeded = base > 0 and amount * params.scale > params.limit * base
    else:
        value, exceeded = amount, amount > params.limit
    progress: Progress = {"value": value, "limit": params.limit, "window_days": params.window_days}
    if exceeded:
        return breach(params.action, *evidence, **progress)
    return ok(*evidence, **progress)


def _exit_compensation(
    params: p.Compensation, state: ProjectState, program: p.ProgramDefinition, today: dt.date
) -> Outcome:
    uncompensated = [
        i
        for i in state.incidents
        if i.consumer_loss_yuan > 0
        and not (i.compensated and i.remediated_on and (i.remediated_on - i.occurred_on).days <= params.days)
        and (today - i.occurred_on).days > params.days
    ]
    pending = [i for i in state.incidents if i.consumer_loss_yuan > 0 and not i.compensated]
    progress: Progress = {"losses_pending": len(pending), "late": len(uncompensated), "days": params.days}
    if uncompensated:
        return breach(params.action, *(i.position for i in uncompensated), **progress)
    return ok(*(i.position for i in pending), **progress)


def _exit_report_timeliness(
    params: p.ReportTimeliness, state: ProjectState, program: p.ProgramDefinition, today: dt.date
) -> Outcome:
    due = next_report_due(state, report_cadence(state, program))
    assert due is not None
    days_late = (today - due).days
    progress: Progress = {"next_due": due.isoformat(), "days_late": max(days_late, 0)}
    # The evidence is the event the due date counts from (the last report, or the start
    # of the test): each missed due date is its own breach, warned about once.
    basis = _report_basis(state)
    if state.state not in IN_TEST:
        return Outcome(status="ok", progress=progress)
    if days_late > params.suspension_days:
        return breach("suspension", basis, **progress)
    if days_late > params.warning_days:
        return Outcome(status="warning", action="warning", evidence=(basis,), progress=progress)
    return ok(basis, **progress)


def last_activity(state: ProjectState) -> dt.date:
    """The last day a running test was active: the later of its start, the end of the last
    period it reported transactions or trades for, and its last trade recorded as a fact. The
    dormancy criterion counts idle days from it, and its ``DormancyDetected`` records it."""
    assert state.test_started_on is not None
    active = state.ledger.active_until
    trades = [f.on for f in state.facts if f.trigger in FACTS_READ[p.Dormancy]]
    return max([*trades, state.test_started_on, *([active] if active else [])])


def _exit_dormancy(params: p.Dormancy, state: ProjectState, program: p.ProgramDefinition, today: dt.date) -> Outcome:
    if state.state not in IN_TEST:  # only a running test can be dormant
        return Outcome(status="not_applicable")
    last = last_activity(state)
    idle = (today - last).days
    progress: Progress = {"last_activity": last.isoformat(), "idle_days": idle, "limit_days": params.days}
    if idle > params.days:
        return breach(params.action, **progress)
    return ok(**progress)


def _exit_valuation_age(
    params: p.ValuationAge, state: ProjectState, program: p.ProgramDefinition, today: dt.date
) -> Outcome:
    pledged = pledge_outstanding(state)
    valuations = [d for d in state.documents if d.kind == "valuation_report" and d.issued_on]
    latest_val = max(valuations, key=lambda d: d.issued_on or dt.date.min, default=None)
    progress: Progress = {
        "pledged": "yes" if pledged else "no",
        "valuation_on": latest_val.issued_on.isoformat() if latest_val and latest_val.issued_on else None,
    }
    if pledged and (
        latest_val is None or latest_val.issued_on is None or months_later(latest_val.issued_on, params.months) < today
    ):
        return breach(params.action, *([latest_val.position] if latest_val else []), **progress)
    return ok(*([latest_val.position] if latest_val else []), **progress)


def _exit_external_event(
    params: p.ExternalEvent, state: ProjectState, program: p.ProgramDefinition, today: dt.date
) -> Outcome:
    evidence = [f.position for f in state.facts if f.trigger in params.triggers]
    if evidence:
        return breach(params.action, *evidence, triggers=len(evidence))
    return ok(triggers=0)


def _exit_pledge_realised(
    params: p.PledgeRealised, state: ProjectState, program: p.ProgramDefinition, today: dt.date
) -> Outcome:
    realised = [x.ended_position or x.position for x in state.pledges if x.status == "realised"]
    if realised:
        return breach(params.action, *realised, realised=len(realised))
    return ok(*(x.position for x in state.pledges), realised=0, pledges=len(state.pledges))


def _exit_change_registration(
    params: p.ChangeRegistration, state: ProjectState, program: p.ProgramDefinition, today: dt.date
) -> Outcome:
    unregistered = unregistered_changes(state)
    if unregistered:
        return breach(params.action, *unregistered, unregistered=len(unregistered))
    return ok(*(x.position for x in state.changes), unregistered=0, registered=len(state.changes))


def _exit_voluntary_exit(
    params: p.VoluntaryExit, state: ProjectState, program: p.ProgramDefinition, today: dt.date
) -> Outcome:
    if state.exit_mode == "voluntary":
        notified = state.exit_users_notified_on
        return Outcome(
            status="reached",
            progress={"users_notified_on": notified.isoformat() if notified else None},
        )
    return Outcome(status="not_applicable")


#: The check of each kind of exit criterion, by the type of its parameters: one for every kind
#: (a new kind without its check stops the import).
EXIT_CHECKS = dict(
    [
        exit_check(p.TestPeriod, _exit_test_period),
        exit_check(p.Graduation, _exit_graduation),
        exit_check(p.Incidents, _exit_incidents),
        exit_check(p.ComplaintRate, _exit_complaint_rate),
        exit_check(p.CapBreach, _exit_cap_breach),
        exit_check(p.MetricLimit, _exit_metric_limit),
        exit_check(p.Compensation, _exit_compensation),
        exit_check(p.ReportTimeliness, _exit_report_timeliness),
        exit_check(p.Dormancy, _exit_dormancy),
        exit_check(p.ValuationAge, _exit_valuation_age),
        exit_check(p.PledgeRealised, _exit_pledge_realised),
        exit_check(p.ChangeRegistration, _exit_change_registration),
        exit_check(p.ExternalEvent, _exit_external_event),
        exit_check(p.VoluntaryExit, _exit_voluntary_exit),
    ]
)
every_kind(EXIT_CHECKS, get_args(p.ExitParams), "exit check")


def _report_basis(state: ProjectState) -> int:
    """The position of the report whose period the next report is due after, or of the test's
    start when nothing has been reported yet (0 while that report is not stored yet)."""
    if state.ledger.reports:
        return state.ledger.basis
    return next((h.position for h in state.history if h.state == State.TESTING), 0)


def _latest_metric(state: ProjectState, metric: str) -> int:
    """The metric's figure in the last report that gave it (0 if none did)."""
    figure = state.ledger.last_values.get(metric)
    return figure[0] if figure is not None else 0


#: The kinds of exit criterion that are goals: they are reached (or do not apply), never breached
#: or warned about, so a command's consequences need not evaluate them.
GOALS: tuple[type[p.Params], ...] = (p.TestPeriod, p.Graduation, p.VoluntaryExit)


def exit_criteria(
    state: ProjectState,
    program: p.ProgramDefinition,
    today: dt.date,
    *,
    skip: tuple[type[p.Params], ...] = (),
) -> list[RuleStatus]:
    """Each exit criterion of the program with its status, progress and evidence positions
    (except those whose kind is in ``skip``)."""
    out = []
    for rule in program.exit:
        if skip and isinstance(rule.params, skip):
            continue
        outcome = _check_exit(rule.params, state, program, today)
        remediated = _remediated(state, rule.id, outcome)
        out.append(status_of(rule, outcome, status="remediated") if remediated else status_of(rule, outcome))
    return out


#: The states a project resumes in once a breach that suspended it was dealt with.
_RESUMED = frozenset({State.TESTING, State.FINAL_EVALUATION, State.GRADUATED})


def _remediated(state: ProjectState, criterion_id: str, outcome: Outcome) -> bool:
    """Whether a breach was dealt with: it was recorded, every fact it rests on is one that
    record covers (nothing newer), every incident among them is remediated, and the project was
    reinstated (or moved on to its final evaluation or graduation) after it. Its status is then
    ``remediated``, not ``breached`` for the rest of the project's life; a new fact breaches
    it anew."""
    if outcome.status != "breached" or not outcome.evidence:
        return False
    recorded = [b.position for b in state.breaches if b.criterion_id == criterion_id]
    if not recorded:
        return False
    last = max(recorded)
    if any(p == 0 or p > last for p in outcome.evidence):
        return False
    if any(i.remediated_on is None for i in state.incidents if i.position in outcome.evidence):
        return False
    return any(h.position > last and h.state in _RESUMED for h in state.history)
