"""The project decider: (command, state, context) -> events, or a refusal.

Pure: the context carries the actor, the program version (bound, or in force for a draft), the
reference data and the current time. Nothing here reads the store or the clock.
"""

from __future__ import annotations

import datetime as dt

from projections.project import ProjectState, local_date
from projections.rules import (
    ReferenceView,
    applies,
    declared_period,
    known_facts,
    months_later,
    pledge_outstanding,
)
from sandbox.deciders.authority import _LIVE, CO, A, _authorise
from sandbox.deciders.bounds import _check_dates, _check_declared_kinds, _slip
from sandbox.deciders.context import Context, Decided, _next_id, statement_hash
from sandbox.deciders.decisions import _approve, _recommend
from sandbox.policies import consequences, tentative
from schemas import commands as c
from schemas import events as ev
from schemas.base import Event
from schemas.errors import DomainError
from schemas.programs import (
    DayUnit,
    Notice,
    ProgramDefinition,
    TestPeriod,
    VoluntaryExit,
)
from schemas.reference import CalendarNotCovered

#: The fact a partner's withdrawal (or removal) after admission records, for the exit criteria
#: keyed on it (the fintech sandbox's ``fs.exit.licence_lost``: termination).
PARTNER_WITHDRAWN = "partner_withdrawn"


def decide(command: c.Command, state: ProjectState, ctx: Context) -> Decided:
    """Decide a project command. Raises :class:`DomainError` when it is refused."""
    _authorise(command, state, ctx)
    try:
        events = _decide(command, state, ctx)
    except CalendarNotCovered as e:  # a working-day count ran into a year without holiday data
        raise DomainError("calendar_not_covered", year=e.year) from e
    automatic: list[Event] = []
    if isinstance(
        command, c.ReportMetrics | c.ReportIncident | c.LogComplaint | c.RecordExternalFact | c.WithdrawPartner
    ):
        after = tentative(state, events, ctx.actor.id, ctx.actor.role, ctx.now)
        automatic = consequences(after, ctx.program, ctx.today)
    return Decided(events, automatic)


def tick(state: ProjectState, program: ProgramDefinition, ref: ReferenceView, now: dt.datetime) -> list[Event]:
    """Every timer event due at ``now`` and the consequences of criteria crossed by time alone."""
    from sandbox.policies import due_events

    today = local_date(now)
    timers = due_events(state, program, ref, today)
    after = tentative(state, timers, "system", "system", now)
    return [*timers, *consequences(after, program, today)]



def _notice_rule(program: ProgramDefinition, state: ProjectState) -> tuple[int, DayUnit]:
    for rule in program.admission:
        if isinstance(rule.params, Notice) and applies(state, rule.params.when_field, rule.params.when_value):
            return rule.params.days, rule.params.unit
    return program.durations.notice_days, program.durations.notice_unit


def _max_test_months(program: ProgramDefinition) -> int:
    for rule in program.exit:
        if isinstance(rule.params, TestPeriod):
            return rule.params.max_months
    return program.durations.max_test_months



def _decide(command: c.Command, s: ProjectState, ctx: Context) -> list[Event]:
    if isinstance(command, c.EditDraft):
        _check_declared_kinds(command.fields, ctx.program)
    _check_dates(command, s, ctx)
    actor = ctx.actor
    today = ctx.today
    program = ctx.program
    match command:
        case c.CreateDraft():
            if actor.organisation is None:
                raise DomainError(
                    "invalid_value",
                    field="organisation",
                    rule_zh="申请机构必须属于某一机构",
                    rule_en="an applicant must belong to an organisation",
                )
            if command.program_key != program.key:
                raise DomainError("unknown_program", program=command.program_key)
            return [
                ev.DraftCreated(
                    project_id=ctx.project_id,
                    program_key=command.program_key,
                    title=command.title,
                    app_type=command.app_type,
                    organisation=actor.organisation,
                    lead_name=command.lead_name,
                    lead_licence_no=command.lead_licence_no,
                    lead_kind=command.lead_kind,
                    region=command.region,
                )
            ]
        case c.EditDraft():
            return [ev.DraftEdited(section=command.section, fields=command.fields)]
        case c.AddPartner():
            if command.organisation in s.applicants():
                raise DomainError("duplicate_id", id=command.organisation)
            return [
                ev.PartnerAdded(
                    organisation=command.organisation,
                    name=command.name,
                    role=command.role,
                    licence_no=command.licence_no,
                )
            ]
        case c.WithdrawPartner():
            if actor.role == A and actor.organisation not in (s.organisation, command.organisation):
                raise DomainError("lead_only", action="withdraw_partner", lead=s.organisation)
            if command.organisation not in s.applicants() or command.organisation == s.organisation:
                raise DomainError(
                    "invalid_value",
                    field="organisation",
                    rule_zh="只能退出现有合作机构",
                    rule_en="only a current partner can withdraw",
                )
            withdrawn: list[Event] = [ev.PartnerWithdrawn(organisation=command.organisation)]
            if s.state in _LIVE:
                # Once admitted, a partner leaving is a fact the exit criteria watch (the fintech
                # sandbox terminates a test whose partner withdraws); before admission it only
                # changes the application, which is then assessed without that partner.
                withdrawn.append(
                    ev.ExternalFactRecorded(
                        trigger=PARTNER_WITHDRAWN,
                        on=today,
                        detail=f"partner {command.organisation} withdrew or was removed",
                    )
                )
            return withdrawn
        case c.AttachDocument():
            holder = command.holder or (actor.organisation if actor.role == A else s.organisation) or s.organisation
            if actor.role == A and holder != actor.organisation:
                raise DomainError("not_your_organisation")
            if holder not in s.applicants() and actor.role == A:
                raise DomainError("not_your_organisation")
            return [
                ev.DocumentAttached(
                    kind=command.kind,
                    sha256=command.sha256,
                    title=command.title,
                    holder=holder,
                    issued_on=command.issued_on,
                )
            ]
        case c.Attest():
            org = command.organisation or actor.organisation or ""
            if org != actor.organisation:
                raise DomainError("not_your_organisation")
            return [ev.AttestationMade(statement=command.statement, organisation=org, text=command.text)]
        case c.Submit():
            return [
                ev.ApplicationSubmitted(
                    program_ref=program.ref,
                    program_version=program.version,
                    submitted_on=today,
                    statement_hash=statement_hash(s),
                )
            ]
        case c.Withdraw():
            return [ev.ApplicationWithdrawn()]
        case c.SupplyInformation():
            return [ev.InformationSupplied(summary=command.summary)]
        case c.AcceptIntake():
            return [ev.IntakeAccepted()]
        case c.RequestInformation():
            return [ev.InformationRequested(items=list(command.items), due_on=command.due_on)]
        case c.AssignCaseOfficer():
            return [ev.CaseOfficerAssigned(officer=command.officer)]
        case c.FileAssessment():
            return [
                ev.AssessmentFiled(
                    topic=command.topic, outcome=command.outcome, summary=command.summary, sha256=command.sha256
                )
            ]
        case c.OpenPublicNotice():
            starts = command.starts_on or today
            if starts < today:
                raise DomainError(
                    "invalid_value",
                    field="starts_on",
                    rule_zh="公示开始日期不得早于今天",
                    rule_en="the notice cannot start in the past",
                )
            days, unit = _notice_rule(program, s)
            ends = ctx.ref.add_working_days(starts, days) if unit == "working" else starts + dt.timedelta(days=days)
            return [
                ev.PublicNoticeOpened(
                    starts_on=starts,
                    ends_on=ends,
                    days=days,
                    unit=unit,
                    statement_hash=statement_hash(s),
                    channel=command.channel,
                )
            ]
        case c.Comment():
            return [ev.CommentReceived(comment_id=_next_id("cmt", s), text=command.text)]
        case c.Object():
            return [ev.ObjectionFiled(objection_id=_next_id("obj", s), grounds=command.grounds)]
        case c.DisposeObjection():
            if command.objection_id not in {o.objection_id for o in s.open_objections}:
                raise DomainError("unknown_objection", objection_id=command.objection_id)
            return [ev.ObjectionDisposed(objection_id=command.objection_id, outcome=command.outcome)]
        case c.Recommend():
            return [_recommend(command, s, ctx)]
        case c.Approve():
            return _approve(command, s, ctx)
        case c.WaiveCondition():
            if not command.reason:
                raise DomainError("reason_required")
            if command.condition_id not in {r.id for r in program.admission}:
                raise DomainError("unknown_condition", condition_id=command.condition_id)
            return [ev.ConditionWaived(condition_id=command.condition_id)]
        case c.StartTest():
            started = command.started_on or today
            declared_start, declared_end = declared_period(s, program)
            if declared_start is not None and started < declared_start:  # before the admitted period
                raise DomainError("before_declared_start", declared=declared_start, started=started)
            if declared_end is not None and today >= declared_end:  # the admitted period is over
                raise DomainError("after_declared_end", declared=declared_end)
            limit = months_later(started, _max_test_months(program))
            planned = limit
            if declared_end is not None and declared_end < limit:
                planned = declared_end
            return [ev.TestStarted(started_on=started, planned_end=planned)]
        case c.ReportMetrics():
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
        case c.ReportIncident():
            if command.incident_id in {i.incident_id for i in s.incidents}:
                raise DomainError("duplicate_id", id=command.incident_id)
            return [
                ev.IncidentReported(
                    incident_id=command.incident_id,
                    severity=command.severity,
                    kind=command.kind,
                    occurred_on=command.occurred_on,
                    consumer_loss_yuan=command.consumer_loss_yuan,
                    description=command.description,
                )
            ]
        case c.RemediateIncident():
            if command.incident_id not in {i.incident_id for i in s.incidents if i.remediated_on is None}:
                raise DomainError("unknown_incident", incident_id=command.incident_id)
            return [ev.IncidentRemediated(incident_id=command.incident_id, compensated=command.compensated)]
        case c.LogComplaint():
            if command.complaint_id in {x.complaint_id for x in s.complaints}:
                raise DomainError("duplicate_id", id=command.complaint_id)
            return [
                ev.ComplaintLogged(
                    complaint_id=command.complaint_id, category=command.category, received_on=command.received_on
                )
            ]
        case c.RequestExtension():
            _check_extension_request(command, s, ctx)
            return [ev.ExtensionRequested(months=command.months)]
        case c.GrantExtension():
            if s.extension_requested_months is None or s.planned_end is None:
                raise DomainError("no_extension_request")
            new_end = months_later(s.planned_end, s.extension_requested_months)
            return [ev.ExtensionGranted(months=s.extension_requested_months, new_end=new_end)]
        case c.RefuseExtension():
            if s.extension_requested_months is None:
                raise DomainError("no_extension_request")
            return [ev.ExtensionRefused()]
        case c.Suspend():
            return [ev.ProjectSuspended(category=command.category)]
        case c.Reinstate():
            return [ev.ProjectReinstated()]
        case c.SubmitFinalReport():
            return [
                ev.FinalReportSubmitted(sha256=command.sha256, summary=command.summary, kpis_met=list(command.kpis_met))
            ]
        case c.AcceptFinalReport():
            if s.final_report_position is None:
                raise DomainError("final_report_missing")
            return [ev.FinalReportAccepted()]
        case c.InitiateExit():
            if command.mode == "forced":
                if actor.role != CO:
                    raise DomainError("wrong_role", role=actor.role, action="initiate_exit (forced)")
                return [_recommend(c.Recommend(decision="exit", exit_mode="forced"), s, ctx)]
            if actor.role != A:
                raise DomainError("wrong_role", role=actor.role, action="initiate_exit (voluntary)")
            if s.pending is not None:  # a regulator's decision waits (a forced ending, say): first that
                raise DomainError("recommendation_pending")
            notice_days = next((r.params.notice_days for r in program.exit if isinstance(r.params, VoluntaryExit)), 30)
            notified_on = command.users_notified_on
            exit_on = command.planned_exit_on
            if notified_on is None or exit_on is None or (exit_on - notified_on).days < notice_days:
                raise DomainError("exit_notice_too_short", days=notice_days)
            return [ev.ExitInitiated(mode="voluntary", users_notified_on=notified_on, planned_exit_on=exit_on)]
        case c.ConfirmExit():
            if s.exit_mode == "voluntary" and s.exit_users_notified_on is not None:
                notice_days = next(
                    (r.params.notice_days for r in program.exit if isinstance(r.params, VoluntaryExit)), 30
                )
                if (today - s.exit_users_notified_on).days < notice_days:
                    raise DomainError("exit_notice_too_short", days=notice_days)
            return [ev.ExitConfirmed()]
        case c.RecordExternalFact():
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
            if command.trigger == "cancellation_requested" and pledge_outstanding(s):  # 注销 needs no pledge
                raise DomainError("pledge_outstanding")
            return [ev.ExternalFactRecorded(trigger=command.trigger, detail=command.detail, on=command.on)]
        case _:
            raise TypeError(f"no decider for {type(command).__name__}")



def _check_extension_request(command: c.RequestExtension, s: ProjectState, ctx: Context) -> None:
    d = ctx.program.durations
    rule = next((r.params for r in ctx.program.exit if isinstance(r.params, TestPeriod)), None)
    max_ext = rule.max_extensions if rule else d.max_extensions
    max_months = rule.extension_months if rule else d.extension_months
    before = rule.request_days_before_end if rule else d.extension_request_days_before_end
    if s.extensions_granted >= max_ext:
        raise DomainError(
            "extension_not_allowed", why_zh=f"最多延期 {max_ext} 次", why_en=f"at most {max_ext} extension(s)"
        )
    if s.extension_requested_months is not None:
        raise DomainError("extension_not_allowed", why_zh="已有待处理的延期申请", why_en="a request is already pending")
    if command.months > max_months:
        raise DomainError(
            "extension_not_allowed", why_zh=f"延期不得超过 {max_months} 个月", why_en=f"at most {max_months} months"
        )
    assert s.planned_end is not None
    if (s.planned_end - ctx.today).days < before:
        raise DomainError(
            "extension_not_allowed",
            why_zh=f"须在测试结束前至少 {before} 天申请",
            why_en=f"requests must come at least {before} days before the end ({s.planned_end})",
        )
