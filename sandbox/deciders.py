"""The project decider: (command, state, context) -> events, or a refusal.

Pure: the context carries the actor, the program version (bound, or in force for a draft), the
reference data and the current time. Nothing here reads the store or the clock.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from events.codec import canonical_json
from projections.project import ProjectState, local_date
from projections.rules import (
    CADENCE_FIELD,
    ReferenceView,
    admission_checklist,
    applies,
    declared_period,
    exit_criteria,
    known_facts,
    months_later,
    parse_date,
    pledge_outstanding,
    unmet_conditions,
)
from sandbox.policies import consequences, tentative
from schemas import commands as c
from schemas import events as ev
from schemas.base import Event
from schemas.commands import Actor
from schemas.errors import DomainError
from schemas.lifecycle import IN_TEST, PRE_ADMISSION, STATE_LABELS, TERMINAL, Role, State
from schemas.programs import (
    CapBreach,
    Caps,
    DayUnit,
    Notice,
    PeriodMax,
    ProgramDefinition,
    TestPeriod,
    VoluntaryExit,
    WalletTiers,
)
from schemas.reference import CalendarNotCovered
from schemas.validation import Violation, invalid, key_path

A, CO, AS, AP, SY, PU = Role.APPLICANT, Role.CASE_OFFICER, Role.ASSESSOR, Role.APPROVER, Role.SYSTEM, Role.PUBLIC
S = State

_REVIEW = {S.SUBMITTED, S.UNDER_REVIEW, S.PUBLIC_NOTICE, S.NOTICE_CLOSED}
_LIVE = {S.ADMITTED, *IN_TEST, S.FINAL_EVALUATION, S.EXIT_IN_PROGRESS}

#: action -> (roles that may cause it, states it may happen in)
_RULE_ROWS: list[tuple[str, set[Role], set[State] | frozenset[State]]] = [
    ("create_draft", {A}, {S.NONE}),
    ("edit_draft", {A}, {S.DRAFT, S.RETURNED_FOR_INFO}),
    ("add_partner", {A}, {S.DRAFT, S.RETURNED_FOR_INFO}),
    ("withdraw_partner", {A, CO}, {S.DRAFT, S.RETURNED_FOR_INFO, *_LIVE}),
    ("attach_document", {A, CO}, {s for s in State if s not in TERMINAL and s != S.NONE}),
    ("attest", {A}, {S.DRAFT, S.RETURNED_FOR_INFO}),
    ("submit", {A}, {S.DRAFT}),
    ("withdraw", {A}, PRE_ADMISSION),
    ("supply_information", {A}, {S.RETURNED_FOR_INFO}),
    ("accept_intake", {CO}, {S.SUBMITTED}),
    ("request_information", {CO}, {S.SUBMITTED, S.UNDER_REVIEW}),
    ("assign_case_officer", {AP, CO}, {*_REVIEW, S.RETURNED_FOR_INFO, *_LIVE}),
    ("file_assessment", {AS}, {*_REVIEW, *_LIVE}),
    ("open_public_notice", {CO}, {S.UNDER_REVIEW}),
    ("comment", {PU}, {S.PUBLIC_NOTICE}),
    ("object", {PU}, {S.PUBLIC_NOTICE}),
    ("dispose_objection", {CO}, {S.PUBLIC_NOTICE, S.NOTICE_CLOSED}),
    # (and a forced ending: ADMITTED, EXIT_IN_PROGRESS and GRADUATED, see _recommend)
    ("recommend", {CO}, {S.UNDER_REVIEW, S.PUBLIC_NOTICE, S.NOTICE_CLOSED, *_LIVE, S.GRADUATED}),
    ("approve", {AP}, {S.UNDER_REVIEW, S.NOTICE_CLOSED, *_LIVE, S.GRADUATED}),
    ("waive_condition", {AP}, {S.UNDER_REVIEW, S.PUBLIC_NOTICE, S.NOTICE_CLOSED}),
    ("start_test", {A, CO}, {S.ADMITTED}),
    ("report_metrics", {A}, {*IN_TEST, S.FINAL_EVALUATION, S.EXIT_IN_PROGRESS}),
    ("report_incident", {A, CO}, {*IN_TEST, S.FINAL_EVALUATION, S.EXIT_IN_PROGRESS}),
    ("remediate_incident", {A, CO}, {*IN_TEST, S.FINAL_EVALUATION, S.EXIT_IN_PROGRESS}),
    ("log_complaint", {A, CO}, {*IN_TEST, S.FINAL_EVALUATION, S.EXIT_IN_PROGRESS}),
    ("request_extension", {A}, set(IN_TEST)),
    ("grant_extension", {AP}, set(IN_TEST)),
    ("refuse_extension", {AP}, set(IN_TEST)),
    ("suspend", {CO, AP}, {S.TESTING}),
    ("reinstate", {AP}, {S.SUSPENDED}),
    ("submit_final_report", {A}, {S.TESTING, S.FINAL_EVALUATION}),
    ("accept_final_report", {CO, AS}, {S.FINAL_EVALUATION}),
    ("initiate_exit", {A, CO}, {*IN_TEST, S.FINAL_EVALUATION}),
    ("confirm_exit", {CO, AP}, {S.EXIT_IN_PROGRESS}),
    ("record_external_fact", {CO, AP, SY}, {*_REVIEW, *_LIVE, S.GRADUATED}),
]
RULES: dict[str, tuple[frozenset[Role], frozenset[State]]] = {
    name: (frozenset(roles), frozenset(states)) for name, roles, states in _RULE_ROWS
}

#: What only the lead applicant (the licensed institution that created the draft) may do for a
#: project: shape and send the application, choose its partners, and decide the test's course.
#: A technology partner attaches and attests for itself, reports what the test measures and
#: meets (metrics, incidents, complaints), and may withdraw itself, never another partner.
LEAD_ONLY = frozenset(
    {
        "edit_draft",
        "add_partner",
        "submit",
        "withdraw",
        "supply_information",
        "start_test",
        "request_extension",
        "submit_final_report",
        "initiate_exit",
    }
)

#: The fact a partner's withdrawal (or removal) after admission records, for the exit criteria
#: keyed on it (the fintech sandbox's ``fs.exit.licence_lost``: termination).
PARTNER_WITHDRAWN = "partner_withdrawn"

#: Dates a draft declares (start_date, campaign_end_date, ...) may lie at most this many years
#: ahead of today.
DECLARED_YEARS_AHEAD = 3
#: A public notice or an information request's due date may be set at most this far ahead.
SCHEDULE_DAYS_AHEAD = 366
#: No document predates this day (a licence of the 1990s is fine, year 1 is a typo).
EARLIEST_DOCUMENT = dt.date(1900, 1, 1)

#: Decisions that need four eyes (the approver is never the recommender, never twice).
FOUR_EYES = frozenset({"admit", "graduate", "exit", "reject", "terminate", "revoke"})
#: The decisions that end a project by force, and the category each records unless one is named.
FORCED_ENDINGS = {"terminate": "regulator", "revoke": "false_materials"}


@dataclass(frozen=True, slots=True)
class Context:
    """Everything a decision may depend on besides the state and the command."""

    actor: Actor
    now: dt.datetime
    program: ProgramDefinition
    ref: ReferenceView
    project_id: str = ""

    @property
    def today(self) -> dt.date:
        return local_date(self.now)


@dataclass(frozen=True, slots=True)
class Decided:
    """The events a command causes (stamped with the actor) and those the system adds in the
    same append (breaches and their automatic consequences, stamped with the system actor)."""

    events: list[Event]
    automatic: list[Event] = field(default_factory=list)

    @property
    def all(self) -> list[Event]:
        return [*self.events, *self.automatic]


def statement_hash(state: ProjectState) -> str:
    """SHA-256 of the canonical JSON of the innovation statement as it stands."""
    return hashlib.sha256(canonical_json(state.section("statement"))).hexdigest()


def _authorise(command: c.Command, state: ProjectState, ctx: Context) -> None:
    action = command.action
    roles, states = RULES[action]
    if state.state in TERMINAL and state.state not in states:  # only a graduate can still be revoked
        zh, _ = STATE_LABELS[state.state]
        raise DomainError("terminal_state", state=state.state.value, state_zh=zh)
    if ctx.actor.role not in roles:
        raise DomainError("wrong_role", role=ctx.actor.role, action=action)
    if state.state not in states:
        zh, _ = STATE_LABELS[state.state]
        if action in ("comment", "object") and state.state != S.NONE:
            raise DomainError("not_in_notice")
        if state.state == S.NONE:
            raise DomainError("not_found", project_id=ctx.project_id)
        raise DomainError("wrong_state", state=state.state.value, state_zh=zh, action=action)
    if ctx.actor.role == A and state.state != S.NONE:
        if ctx.actor.organisation not in state.applicants():
            raise DomainError("not_your_organisation")
        if action in LEAD_ONLY and ctx.actor.organisation != state.organisation:
            raise DomainError("lead_only", action=action, lead=state.organisation)


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
        raise DomainError(
            "condition_unmet",
            conditions_zh="；".join(f"{u.id} {u.label_zh}（{u.missing_zh}）" for u in unmet),
            conditions_en="; ".join(f"{u.id} {u.label_en} ({u.missing_en})" for u in unmet),
            details=[
                {
                    "id": u.id,
                    "label_zh": u.label_zh,
                    "label_en": u.label_en,
                    "missing_zh": u.missing_zh,
                    "missing_en": u.missing_en,
                }
                for u in unmet
            ],
        )


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


def _next_id(prefix: str, state: ProjectState) -> str:
    return f"{prefix}-{state.version + 1}"


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


# -- date bounds -------------------------------------------------------------------------------
#
# Every date a command carries is bounded relative to ``now`` and to the project's own dates, so
# a typo (year 9999, year 1) is refused with ``date_out_of_range`` naming the field and the rule
# instead of being recorded and making every later evaluation of the project overflow.


def _within(field: str, value: dt.date, earliest: dt.date, latest: dt.date, rule_zh: str, rule_en: str) -> None:
    if not earliest <= value <= latest:
        raise DomainError(
            "date_out_of_range",
            field=field,
            value=value.isoformat(),
            earliest=earliest.isoformat(),
            latest=latest.isoformat(),
            rule_zh=rule_zh,
            rule_en=rule_en,
        )


def _longest_test_months(program: ProgramDefinition) -> int:
    """The longest a test of ``program`` can run: its maximum period plus every extension."""
    rule = next((r.params for r in program.exit if isinstance(r.params, TestPeriod)), None)
    if rule is not None:
        return rule.max_months + rule.max_extensions * rule.extension_months
    d = program.durations
    return d.max_test_months + d.max_extensions * d.extension_months


#: A date as declared (``date.fromisoformat`` would also take ``20260301`` and ``2026-W09-7``).
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _is_date(value: object) -> bool:
    """``YYYY-MM-DD``, and a day that exists."""
    return isinstance(value, str) and _ISO_DATE.match(value) is not None and parse_date(value) is not None


#: The kinds of declared value the rules compute with: (Chinese rule, English rule, test).
_KINDS: dict[str, tuple[str, str, Callable[[object], bool]]] = {
    "date": ("须为日期（YYYY-MM-DD）", "must be a date (YYYY-MM-DD)", _is_date),
    "integer": (
        f"须为 0 至 {c.LARGEST} 之间的整数",
        f"must be a whole number from 0 to {c.LARGEST}",
        lambda v: isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= c.LARGEST,
    ),
    "days": (  # (a cadence: a report every 0 days is none)
        f"须为 1 至 {c.LARGEST} 之间的整数（天数）",
        f"must be a whole number of days from 1 to {c.LARGEST}",
        lambda v: isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= c.LARGEST,
    ),
}


def declared_kind(name: str, program: ProgramDefinition) -> str | None:
    """The kind of value a declared field must hold, if the program's rules compute with it: the
    dates a test period is checked with (and every ``*_date``), and the amounts caps, cap
    breaches and wallet tiers are checked with (and every ``*_yuan``: amounts are whole yuan), and
    the reporting cadence (whole days, at least one)."""
    if name.endswith("_date"):
        return "date"
    if name == CADENCE_FIELD:
        return "days"
    if name.endswith("_yuan"):
        return "integer"
    for rule in (*program.admission, *program.exit):
        match rule.params:
            case PeriodMax() if name in (rule.params.start_field, rule.params.end_field):
                return "date"
            case Caps() if name in rule.params.maximum or name in rule.params.minimum:
                return "integer"
            case CapBreach() if name in rule.params.caps.values():
                return "integer"
            case WalletTiers() if name == rule.params.tier_field:
                return "integer"
    return None


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


def _check_declared_kinds(fields: dict[str, ev.Value], program: ProgramDefinition) -> None:
    """Refuse a declared value the rules could not compute with (``start_date: "next spring"``),
    which the checklist would otherwise show as not declared at all. ``None`` clears a field."""
    wrong = []
    for name, value in fields.items():
        kind = declared_kind(name, program)
        if kind is None or value is None:
            continue
        zh, en, fits = _KINDS[kind]
        if not fits(value):
            wrong.append(Violation(field=key_path("fields", name), rule=en, rule_zh=zh))
    if wrong:
        raise invalid(wrong)


def _check_dates(command: c.Command, s: ProjectState, ctx: Context) -> None:
    """Refuse a date outside the window in which the thing it dates can have happened (or be
    planned): see each rule's text."""
    today, program = ctx.today, ctx.program
    effective = program.effective_from
    admitted = s.admitted_on or s.test_started_on or s.submitted_on or effective
    horizon = months_later(today, _longest_test_months(program))
    match command:
        case c.EditDraft():
            latest = months_later(today, 12 * DECLARED_YEARS_AHEAD)
            for name, value in command.fields.items():
                dated = name.endswith(("_date", "_on")) or (isinstance(value, str) and len(value) == 10)
                day = parse_date(value) if dated else None
                if day is not None:
                    _within(
                        key_path("fields", name),
                        day,
                        effective,
                        latest,
                        f"申报日期不得早于项目类型生效日，也不得晚于今天起 {DECLARED_YEARS_AHEAD} 年",
                        f"a declared date lies between the program's effective date and"
                        f" {DECLARED_YEARS_AHEAD} years from today",
                    )
        case c.AttachDocument() if command.issued_on is not None:
            _within(
                "issued_on",
                command.issued_on,
                EARLIEST_DOCUMENT,
                today,
                "文件出具日期不得晚于今天",
                "a document cannot be issued after today",
            )
        case c.RequestInformation() if command.due_on is not None:
            _within(
                "due_on",
                command.due_on,
                today,
                today + dt.timedelta(days=SCHEDULE_DAYS_AHEAD),
                f"补充材料期限须在今天至 {SCHEDULE_DAYS_AHEAD} 天之内",
                f"the answer is due between today and {SCHEDULE_DAYS_AHEAD} days ahead",
            )
        case c.OpenPublicNotice() if command.starts_on is not None and command.starts_on >= today:
            # (a start in the past keeps its own refusal below)
            _within(
                "starts_on",
                command.starts_on,
                today,
                today + dt.timedelta(days=SCHEDULE_DAYS_AHEAD),
                f"公示开始日期须在今天至 {SCHEDULE_DAYS_AHEAD} 天之内",
                f"the notice starts between today and {SCHEDULE_DAYS_AHEAD} days ahead",
            )
        case c.StartTest() if command.started_on is not None:
            _within(
                "started_on",
                command.started_on,
                admitted,
                today,
                "测试开始日期不得早于准入日期，也不得晚于今天",
                "a test starts on or after its admission and no later than today",
            )
        case c.ReportMetrics():
            started = s.test_started_on or admitted
            _within(
                "period_start",
                command.period_start,
                started,
                today,
                "报告期不得早于测试开始日期，也不得晚于今天",
                "a report period starts on or after the test started and no later than today",
            )
            _within(
                "period_end",
                command.period_end,
                started,
                today,
                "报告期须在测试开始之后结束，且不得晚于今天（只能报告已结束的期间）",
                "a report period ends on or after the test started and no later than today (only a"
                " period that has ended can be reported)",
            )
            if command.occurred_at is not None and command.occurred_at <= ctx.now:  # (the future: below)
                _within(
                    "occurred_at",
                    local_date(command.occurred_at),
                    command.period_end,
                    today,
                    "报告的业务日期不得早于报告期结束日，也不得晚于今天",
                    "a report is dated on or after its period ends and no later than now",
                )
        case c.ReportIncident():
            _within(
                "occurred_on",
                command.occurred_on,
                admitted,
                today,
                "事件发生日期不得早于准入日期，也不得晚于今天",
                "an incident occurs on or after the admission and no later than today",
            )
        case c.LogComplaint():
            _within(
                "received_on",
                command.received_on,
                admitted,
                today,
                "投诉收到日期不得早于准入日期，也不得晚于今天",
                "a complaint is received on or after the admission and no later than today",
            )
        case c.InitiateExit():
            notified = command.users_notified_on
            if notified is not None:
                _within(  # (a fact, not a plan: the notice period is counted from it)
                    "users_notified_on",
                    notified,
                    effective,
                    today,
                    "告知用户日期不得早于项目类型生效日，也不得晚于今天（须已告知）",
                    "users are told between the program's effective date and today (they have been told)",
                )
            if command.planned_exit_on is not None:
                _within(
                    "planned_exit_on",
                    command.planned_exit_on,
                    notified or effective,
                    horizon,
                    "计划退出日期不得早于告知用户日期，也不得晚于最长测试期（含延期）",
                    "the planned exit is on or after users are told and within the longest test period"
                    " (with extensions) from today",
                )
        case c.RecordExternalFact():
            _within(
                "on",
                command.on,
                effective,
                today,
                "外部事实的日期不得早于项目类型生效日，也不得晚于今天",
                "an outside fact is dated between the program's effective date and today",
            )
        case _:
            pass


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


def _recommend(command: c.Recommend, s: ProjectState, ctx: Context) -> Event:
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
    if command.decision == "graduate":
        _graduable(s, ctx)
    return ev.RecommendationMade(
        recommendation_id=_next_id("rec", s),
        decision=command.decision,
        approvals_required=ctx.program.approvals_required,
        exit_mode=command.exit_mode or ("forced" if command.decision == "exit" else None),
        category=category,
    )


def _lapsed_admission(s: ProjectState, ctx: Context) -> bool:
    """Whether the pending recommendation is an admission that can no longer be approved (its
    declared period is over): a new recommendation, a rejection, replaces it."""
    if s.pending is None or s.pending.decision != "admit":
        return False
    _, declared_end = declared_period(s, ctx.program)
    return declared_end is not None and declared_end <= ctx.today


def _graduable(s: ProjectState, ctx: Context) -> None:
    if not s.final_report_accepted:
        raise DomainError("final_report_missing")
    for status in exit_criteria(s, ctx.program, ctx.today):
        if status.id and status.status == "ok" and status.missing_en.startswith("KPIs not met"):
            raise DomainError("kpis_unmet", kpis=status.missing_en.removeprefix("KPIs not met: "))


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


def _approve(command: c.Approve, s: ProjectState, ctx: Context) -> list[Event]:
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
            _graduable(s, ctx)
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
    raise TypeError(pending.decision)
