"""Deciders of the test: its start, reports, incidents and complaints, extensions, suspension, outside facts."""

from __future__ import annotations

from projections.project import ProjectState
from projections.rules import declared_period, known_facts, outstanding_pledge
from sandbox.deciders.assets import COMMAND_FACTS
from sandbox.deciders.authority import AP, S
from sandbox.deciders.context import Context, handles
from schemas import commands as c
from schemas import events as ev
from schemas.base import Event
from schemas.dates import months_later
from schemas.errors import DomainError
from schemas.lifecycle import STATE_LABELS
from schemas.words import plural


def start_test(command: c.StartTest, s: ProjectState, ctx: Context) -> list[Event]:
    today = ctx.today
    program = ctx.program
    started = command.started_on or today
    declared_start, declared_end = declared_period(s, program)
    if declared_start is not None and started < declared_start:  # before the admitted period
        raise DomainError("before_declared_start", declared=declared_start, started=started)
    if declared_end is not None and today >= declared_end:  # the admitted period is over
        raise DomainError("after_declared_end", declared=declared_end)
    limit = months_later(started, program.test_period().max_months)
    planned = limit
    if declared_end is not None and declared_end < limit:
        planned = declared_end
    return [ev.TestStarted(started_on=started, planned_end=planned)]


def report_metrics(command: c.ReportMetrics, s: ProjectState, ctx: Context) -> list[Event]:
    if command.occurred_at is not None and command.occurred_at > ctx.now:
        raise DomainError(
            "invalid_value",
            field="occurred_at",
            rule_zh="报告可以补报（业务时间早于现在），但不能晚于现在",
            rule_en="a report may be back-dated, never dated in the future",
        )
    if command.period_end < command.period_start:
        raise DomainError(
            "invalid_value",
            field="period_end",
            rule_zh="报告期结束不得早于开始",
            rule_en="the period must end on or after its start",
        )
    return [
        ev.MetricsReported(
            period_start=command.period_start,
            period_end=command.period_end,
            metrics=dict(command.metrics),
            kpis_met=list(command.kpis_met),
        )
    ]


def remediate_incident(command: c.RemediateIncident, s: ProjectState, ctx: Context) -> list[Event]:
    if command.incident_id not in {i.incident_id for i in s.incidents if i.remediated_on is None}:
        raise DomainError("unknown_incident", incident_id=command.incident_id)
    return [ev.IncidentRemediated(incident_id=command.incident_id, compensated=command.compensated)]


def log_complaint(command: c.LogComplaint, s: ProjectState, ctx: Context) -> list[Event]:
    if command.complaint_id in {x.complaint_id for x in s.complaints}:
        raise DomainError("duplicate_id", id=command.complaint_id)
    return [
        ev.ComplaintLogged(
            complaint_id=command.complaint_id, category=command.category, received_on=command.received_on
        )
    ]


def request_extension(command: c.RequestExtension, s: ProjectState, ctx: Context) -> list[Event]:
    _check_extension_request(command, s, ctx)
    return [ev.ExtensionRequested(months=command.months)]


def grant_extension(command: c.GrantExtension, s: ProjectState, ctx: Context) -> list[Event]:
    if s.extension_requested_months is None or s.planned_end is None:
        raise DomainError("no_extension_request")
    new_end = months_later(s.planned_end, s.extension_requested_months)
    return [ev.ExtensionGranted(months=s.extension_requested_months, new_end=new_end)]


def refuse_extension(command: c.RefuseExtension, s: ProjectState, ctx: Context) -> list[Event]:
    if s.extension_requested_months is None:
        raise DomainError("no_extension_request")
    return [ev.ExtensionRefused()]


def suspend(command: c.Suspend, s: ProjectState, ctx: Context) -> list[Event]:
    return [ev.ProjectSuspended(category=command.category)]


def reinstate(command: c.Reinstate, s: ProjectState, ctx: Context) -> list[Event]:
    return [ev.ProjectReinstated()]


def dispose_breach(command: c.DisposeBreach, s: ProjectState, ctx: Context) -> list[Event]:
    """Close a review or a flag; a suspension review needs two persons (proposed, then confirmed
    by an approver who did not propose it), and a suspension a test that is running."""
    breach = next((b for b in s.breaches if b.position == command.breach_position and b.awaits_disposition), None)
    if breach is None:
        raise DomainError("unknown_breach", position=command.breach_position)
    if not command.reason:
        raise DomainError("reason_required")
    if command.outcome == "suspend" and s.state != S.TESTING:
        zh, _ = STATE_LABELS[s.state]
        raise DomainError("wrong_state", state=s.state.value, state_zh=zh, action="dispose_breach (suspend)")
    if breach.action == "suspension_review":
        if breach.proposed is None:
            return [
                ev.BreachDispositionProposed(
                    breach_position=breach.position, criterion_id=breach.criterion_id, outcome=command.outcome
                )
            ]
        proposer, proposed = breach.proposed
        if ctx.actor.id == proposer:
            raise DomainError("four_eyes", who=ctx.actor.id)
        if ctx.actor.role != AP:
            raise DomainError("wrong_role", role=ctx.actor.role, action="dispose_breach (confirm)")
        if proposed != command.outcome:
            raise DomainError("disposition_mismatch", proposed=proposed, outcome=command.outcome)
    disposed: list[Event] = [
        ev.BreachDisposed(breach_position=breach.position, criterion_id=breach.criterion_id, outcome=command.outcome)
    ]
    if command.outcome == "suspend":
        disposed.append(ev.ProjectSuspended(criterion_id=breach.criterion_id, category="breach_review"))
    return disposed


def record_external_fact(command: c.RecordExternalFact, s: ProjectState, ctx: Context) -> list[Event]:
    program = ctx.program
    # a fact of a name no rule reads is recorded as information; one a letter or two from
    # such a name is a slip (pilot_area_withdrawm), which would leave a forced exit undone
    known = known_facts(program)
    near = [] if command.trigger in known else [k for k in known if _slip(command.trigger, k)]
    if near:
        raise DomainError(
            "invalid_value",
            field="trigger",
            rule_zh=f"与规则读取的外部事实 {near[0]} 相近而不同：若指该事实，请用其名称"
            "（其他名称的事实只作记录，不触发任何规则）",
            rule_en=f"is close to {near[0]}, a fact the program's rules read, but is not it: name that"
            " fact if it is meant (a fact of another name is recorded and triggers no rule)",
        )
    if command.trigger in COMMAND_FACTS:  # a pledge's life and a change have commands of their own
        raise DomainError(
            "invalid_value",
            field="trigger",
            rule_zh=f"{command.trigger} 须以命令 {COMMAND_FACTS[command.trigger]} 办理，不作为外部事实登记",
            rule_en=f"{command.trigger} is recorded with the command {COMMAND_FACTS[command.trigger]},"
            " not as an outside fact",
        )
    pledge = outstanding_pledge(s)
    if command.trigger == "cancellation_requested" and pledge is not None:  # 注销 needs no pledge
        raise DomainError("pledge_outstanding", registration_no=pledge.registration_no or pledge.pledge_id)
    return [ev.ExternalFactRecorded(trigger=command.trigger, detail=command.detail, on=command.on)]


def _check_extension_request(command: c.RequestExtension, s: ProjectState, ctx: Context) -> None:
    period = ctx.program.test_period()
    max_ext, max_months, before = period.max_extensions, period.extension_months, period.request_days_before_end
    if s.extensions_granted >= max_ext:
        raise DomainError(
            "extension_not_allowed", why_zh=f"最多延期 {max_ext} 次", why_en=f"at most {plural(max_ext, 'extension')}"
        )
    if s.extension_requested_months is not None:
        raise DomainError("extension_not_allowed", why_zh="已有待处理的延期申请", why_en="a request is already pending")
    if command.months > max_months:
        raise DomainError(
            "extension_not_allowed",
            why_zh=f"延期不得超过 {max_months} 个月",
            why_en=f"at most {plural(max_months, 'month')}",
        )
    assert s.planned_end is not None
    if (s.planned_end - ctx.today).days < before:
        raise DomainError(
            "extension_not_allowed",
            why_zh=f"须在测试结束前至少 {before} 天申请",
            why_en=f"requests must come at least {plural(before, 'day')} before the end ({s.planned_end})",
        )


def _slip(name: str, meant: str) -> bool:
    """Whether ``name`` is ``meant`` mistyped: as many words (``_``-separated), and at most two
    letters added, dropped, changed or swapped (``cancellation_rejected`` is another fact than
    ``cancellation_requested``, ``pledge_renewed`` than ``pledge_released``)."""
    if name.count("_") != meant.count("_"):
        return False
    # optimal string alignment distance, row by row
    before: list[int] = []
    row = list(range(len(meant) + 1))
    for i, a in enumerate(name, 1):
        current = [i] + [0] * len(meant)
        for j, b in enumerate(meant, 1):
            current[j] = min(row[j] + 1, current[j - 1] + 1, row[j - 1] + (a != b))
            if i > 1 and j > 1 and a == meant[j - 2] and name[i - 2] == b:
                current[j] = min(current[j], before[j - 2] + 1)
        before, row = row, current
    return row[-1] <= 2


#: The decider of each command kind of this stage.
DECIDERS = dict(
    [
        handles(c.StartTest, start_test),
        handles(c.ReportMetrics, report_metrics),
        handles(c.RemediateIncident, remediate_incident),
        handles(c.LogComplaint, log_complaint),
        handles(c.RequestExtension, request_extension),
        handles(c.GrantExtension, grant_extension),
        handles(c.RefuseExtension, refuse_extension),
        handles(c.Suspend, suspend),
        handles(c.Reinstate, reinstate),
        handles(c.DisposeBreach, dispose_breach),
        handles(c.RecordExternalFact, record_external_fact),
    ]
)
