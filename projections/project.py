"""The project state: a pure fold over a project's events.

``evolve(state, recorded)`` takes the recorded event (position, payload, metadata) so every fact
in the state remembers the position of the event that is its evidence. The deciders, the read
models and the as-of views all use this one fold.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import msgspec
from msgspec.structs import replace

from events.model import RecordedEvent
from schemas import events as ev
from schemas.base import Event
from schemas.events import Value
from schemas.lifecycle import State

CHINA = ZoneInfo("Asia/Shanghai")


def local_date(moment: dt.datetime) -> dt.date:
    """The business date of a moment, in China Standard Time."""
    return moment.astimezone(CHINA).date()


class Partner(msgspec.Struct, frozen=True, kw_only=True):
    organisation: str
    name: str
    role: str
    licence_no: str | None
    position: int
    withdrawn: bool = False


class Document(msgspec.Struct, frozen=True, kw_only=True):
    kind: str
    sha256: str
    title: str
    holder: str
    issued_on: dt.date | None
    position: int


class Attestation(msgspec.Struct, frozen=True, kw_only=True):
    statement: str
    organisation: str
    position: int


class Objection(msgspec.Struct, frozen=True, kw_only=True):
    objection_id: str
    status: str  # open | upheld | dismissed
    position: int
    disposed_position: int | None = None


class Recommendation(msgspec.Struct, frozen=True, kw_only=True):
    recommendation_id: str
    decision: str
    recommender: str
    approvals_required: int
    position: int
    exit_mode: str | None = None
    approvers: tuple[str, ...] = ()
    approval_positions: tuple[int, ...] = ()
    rule_version: str | None = None


class Waiver(msgspec.Struct, frozen=True, kw_only=True):
    condition_id: str
    by: str
    reason: str
    position: int


class Report(msgspec.Struct, frozen=True, kw_only=True):
    period_start: dt.date
    period_end: dt.date
    metrics: dict[str, int]
    kpis_met: tuple[str, ...]
    position: int
    reported_on: dt.date


class Incident(msgspec.Struct, frozen=True, kw_only=True):
    incident_id: str
    severity: int
    kind: str
    occurred_on: dt.date
    consumer_loss_yuan: int
    position: int
    remediated_on: dt.date | None = None
    compensated: bool = False


class Complaint(msgspec.Struct, frozen=True, kw_only=True):
    complaint_id: str
    received_on: dt.date
    position: int


class Fact(msgspec.Struct, frozen=True, kw_only=True):
    trigger: str
    on: dt.date
    position: int


class Breach(msgspec.Struct, frozen=True, kw_only=True):
    criterion_id: str
    action: str
    position: int
    on: dt.date
    evidence: tuple[int, ...] = ()


class StatusChange(msgspec.Struct, frozen=True, kw_only=True):
    state: State
    on: dt.date
    position: int
    category: str | None = None


class ProjectState(msgspec.Struct, frozen=True, kw_only=True):
    """Everything the rules and the read models need to know about one project."""

    project_id: str = ""
    state: State = State.NONE
    version: int = 0
    last_position: int = 0
    program_key: str = ""
    program_ref: str = ""
    program_version: int = 0
    organisation: str = ""
    lead_name: str = ""
    lead_licence_no: str | None = None
    lead_kind: str = ""
    title: str = ""
    app_type: str = ""
    region: str = ""
    created_on: dt.date | None = None
    sections: dict[str, dict[str, Value]] = {}
    partners: tuple[Partner, ...] = ()
    documents: tuple[Document, ...] = ()
    attestations: tuple[Attestation, ...] = ()
    case_officer: str | None = None
    submitted_on: dt.date | None = None
    statement_hash: str | None = None
    information_requests: int = 0
    assessments: tuple[tuple[str, str, int], ...] = ()
    notice_starts: dt.date | None = None
    notice_ends: dt.date | None = None
    notice_days: int = 0
    notice_unit: str = "working"
    notice_closed_on: dt.date | None = None
    notice_position: int | None = None
    published_statements: tuple[tuple[str, dt.date, int], ...] = ()
    comments: int = 0
    objections: tuple[Objection, ...] = ()
    pending: Recommendation | None = None
    decisions: tuple[Recommendation, ...] = ()
    waivers: tuple[Waiver, ...] = ()
    admitted_on: dt.date | None = None
    test_started_on: dt.date | None = None
    planned_end: dt.date | None = None
    extensions_granted: int = 0
    extension_requested_months: int | None = None
    extension_request_position: int | None = None
    extension_deadline_recorded: bool = False
    reports: tuple[Report, ...] = ()
    incidents: tuple[Incident, ...] = ()
    complaints: tuple[Complaint, ...] = ()
    overdue_recorded: tuple[tuple[dt.date, int], ...] = ()
    warnings: tuple[str, ...] = ()
    breaches: tuple[Breach, ...] = ()
    suspension_category: str | None = None
    final_report_position: int | None = None
    final_report_kpis: tuple[str, ...] = ()
    final_report_accepted: bool = False
    exit_mode: str | None = None
    exit_users_notified_on: dt.date | None = None
    exit_criterion: str | None = None
    facts: tuple[Fact, ...] = ()
    history: tuple[StatusChange, ...] = ()
    #: The command (correlation id) of the latest event and the positions of the events its
    #: actor caused in that append: an automatic breach recorded in the same append cites them,
    #: since the decider could not know their positions when it wrote the breach.
    append_command: str | None = None
    append_positions: tuple[int, ...] = ()

    @property
    def open_objections(self) -> list[Objection]:
        return [o for o in self.objections if o.status == "open"]

    def section(self, name: str) -> dict[str, Value]:
        return self.sections.get(name, {})

    def applicants(self) -> list[str]:
        """The lead's organisation and every partner still in the project."""
        return [self.organisation, *(p.organisation for p in self.partners if not p.withdrawn)]

    def breached(self, criterion_id: str) -> bool:
        return any(b.criterion_id == criterion_id for b in self.breaches)


INITIAL = ProjectState()


def _move(state: ProjectState, to: State, on: dt.date, position: int, category: str | None = None) -> ProjectState:
    return replace(
        state,
        state=to,
        history=(*state.history, StatusChange(state=to, on=on, position=position, category=category)),
    )


def _decided(state: ProjectState, to: State, on: dt.date, position: int) -> ProjectState:
    done = state.decisions + ((state.pending,) if state.pending else ())
    return replace(_move(state, to, on, position), pending=None, decisions=done)


def evolve(state: ProjectState, recorded: RecordedEvent[Event]) -> ProjectState:
    """Apply one recorded event to a project state. Pure; unknown event types are a bug."""
    command = recorded.metadata.correlation_id
    if command is None or command != state.append_command:
        state = replace(state, append_command=command, append_positions=())
    state = _apply(state, recorded)
    if command is not None and recorded.metadata.role != "system":
        state = replace(state, append_positions=(*state.append_positions, recorded.position))
    return replace(state, version=recorded.version, last_position=recorded.position)


def _apply(s: ProjectState, r: RecordedEvent[Event]) -> ProjectState:
    e = r.payload
    pos = r.position
    meta = r.metadata
    on = local_date(meta.occurred_at)
    match e:
        case ev.DraftCreated():
            s = replace(
                s,
                project_id=e.project_id,
                program_key=e.program_key,
                organisation=e.organisation,
                lead_name=e.lead_name,
                lead_licence_no=e.lead_licence_no,
                lead_kind=e.lead_kind,
                title=e.title,
                app_type=e.app_type,
                region=e.region,
                created_on=on,
            )
            return _move(s, State.DRAFT, on, pos)
        case ev.DraftEdited():
            section = {**s.section(e.section)}
            for key, value in e.fields.items():
                if value is None:
                    section.pop(key, None)
                else:
                    section[key] = value
            return replace(s, sections={**s.sections, e.section: section})
        case ev.PartnerAdded():
            partner = Partner(
                organisation=e.organisation, name=e.name, role=e.role, licence_no=e.licence_no, position=pos
            )
            return replace(s, partners=(*s.partners, partner))
        case ev.PartnerWithdrawn():
            partners = tuple(replace(p, withdrawn=True) if p.organisation == e.organisation else p for p in s.partners)
            return replace(s, partners=partners)
        case ev.DocumentAttached():
            doc = Document(
                kind=e.kind,
                sha256=e.sha256,
                title=e.title,
                holder=e.holder,
                issued_on=e.issued_on,
                position=pos,
            )
            return replace(s, documents=(*s.documents, doc))
        case ev.AttestationMade():
            att = Attestation(statement=e.statement, organisation=e.organisation, position=pos)
            return replace(s, attestations=(*s.attestations, att))
        case ev.ApplicationSubmitted():
            s = replace(
                s,
                program_ref=e.program_ref,
                program_version=e.program_version,
                submitted_on=e.submitted_on,
                statement_hash=e.statement_hash,
            )
            return _move(s, State.SUBMITTED, on, pos)
        case ev.ApplicationWithdrawn():
            return _move(s, State.WITHDRAWN, on, pos)
        case ev.IntakeAccepted():
            s = replace(s, case_officer=s.case_officer or meta.actor)
            return _move(s, State.UNDER_REVIEW, on, pos)
        case ev.InformationRequested():
            s = replace(s, information_requests=s.information_requests + 1)
            return _move(s, State.RETURNED_FOR_INFO, on, pos)
        case ev.InformationSupplied():
            return _move(s, State.SUBMITTED, on, pos)
        case ev.CaseOfficerAssigned():
            return replace(s, case_officer=e.officer)
        case ev.AssessmentFiled():
            return replace(s, assessments=(*s.assessments, (e.topic, e.outcome, pos)))
        case ev.PublicNoticeOpened():
            s = replace(
                s,
                notice_starts=e.starts_on,
                notice_ends=e.ends_on,
                notice_days=e.days,
                notice_unit=e.unit,
                notice_closed_on=None,
                notice_position=pos,
                published_statements=(*s.published_statements, (e.statement_hash, e.starts_on, pos)),
            )
            return _move(s, State.PUBLIC_NOTICE, on, pos)
        case ev.CommentReceived():
            return replace(s, comments=s.comments + 1)
        case ev.ObjectionFiled():
            return replace(
                s,
                objections=(
                    *s.objections,
                    Objection(objection_id=e.objection_id, status="open", position=pos),
                ),
            )
        case ev.ObjectionDisposed():
            objections = tuple(
                replace(o, status=e.outcome, disposed_position=pos) if o.objection_id == e.objection_id else o
                for o in s.objections
            )
            return replace(s, objections=objections)
        case ev.PublicNoticeClosed():
            s = replace(s, notice_closed_on=e.closed_on)
            return _move(s, State.NOTICE_CLOSED, e.closed_on, pos)
        case ev.RecommendationMade():
            rec = Recommendation(
                recommendation_id=e.recommendation_id,
                decision=e.decision,
                recommender=meta.actor,
                approvals_required=e.approvals_required,
                position=pos,
                exit_mode=e.exit_mode,
                rule_version=meta.rule_version,
            )
            return replace(s, pending=rec)
        case ev.DecisionApproved():
            if s.pending is None:
                return s
            pending = replace(
                s.pending,
                approvers=(*s.pending.approvers, meta.actor),
                approval_positions=(*s.pending.approval_positions, pos),
            )
            return replace(s, pending=pending)
        case ev.ConditionWaived():
            waiver = Waiver(condition_id=e.condition_id, by=meta.actor, reason=meta.reason or "", position=pos)
            return replace(s, waivers=(*s.waivers, waiver))
        case ev.ProjectAdmitted():
            return replace(_decided(s, State.ADMITTED, on, pos), admitted_on=on)
        case ev.ApplicationRejected():
            return _decided(s, State.REJECTED, on, pos)
        case ev.ProjectGraduated():
            return _decided(s, State.GRADUATED, on, pos)
        case ev.TestStarted():
            s = replace(s, test_started_on=e.started_on, planned_end=e.planned_end)
            return _move(s, State.TESTING, e.started_on, pos)
        case ev.MetricsReported():
            report = Report(
                period_start=e.period_start,
                period_end=e.period_end,
                metrics=e.metrics,
                kpis_met=tuple(e.kpis_met),
                position=pos,
                reported_on=on,
            )
            return replace(s, reports=(*s.reports, report))
        case ev.IncidentReported():
            incident = Incident(
                incident_id=e.incident_id,
                severity=e.severity,
                kind=e.kind,
                occurred_on=e.occurred_on,
                consumer_loss_yuan=e.consumer_loss_yuan,
                position=pos,
            )
            return replace(s, incidents=(*s.incidents, incident))
        case ev.IncidentRemediated():
            incidents = tuple(
                replace(i, remediated_on=on, compensated=e.compensated) if i.incident_id == e.incident_id else i
                for i in s.incidents
            )
            return replace(s, incidents=incidents)
        case ev.ComplaintLogged():
            complaint = Complaint(complaint_id=e.complaint_id, received_on=e.received_on, position=pos)
            return replace(s, complaints=(*s.complaints, complaint))
        case ev.ExtensionRequested():
            return replace(s, extension_requested_months=e.months, extension_request_position=pos)
        case ev.ExtensionGranted():
            return replace(
                s,
                planned_end=e.new_end,
                extensions_granted=s.extensions_granted + 1,
                extension_requested_months=None,
                extension_request_position=None,
                extension_deadline_recorded=False,
            )
        case ev.ExtensionRefused():
            return replace(s, extension_requested_months=None, extension_request_position=None)
        case ev.ThresholdBreached():
            # An automatic breach (caused by a command) also rests on the report of that command.
            caused_by = s.append_positions if meta.causation_id is not None else ()
            evidence = tuple(sorted({*e.evidence, *caused_by}))
            breach = Breach(criterion_id=e.criterion_id, action=e.action, position=pos, on=on, evidence=evidence)
            return replace(s, breaches=(*s.breaches, breach))
        case ev.WarningIssued():
            return replace(s, warnings=(*s.warnings, e.criterion_id))
        case ev.ProjectSuspended():
            s = replace(s, suspension_category=e.category)
            return _move(s, State.SUSPENDED, on, pos, e.category)
        case ev.ProjectReinstated():
            s = replace(s, suspension_category=None)
            return _move(s, State.TESTING, on, pos)
        case ev.ReportOverdue():
            return replace(s, overdue_recorded=(*s.overdue_recorded, (e.due_on, e.days_late)))
        case ev.TestPeriodEnded():
            return _move(s, State.FINAL_EVALUATION, e.ended_on, pos)
        case ev.ExtensionDeadlinePassed():
            return replace(s, extension_deadline_recorded=True)
        case ev.DormancyDetected():
            return s
        case ev.FinalReportSubmitted():
            return replace(s, final_report_position=pos, final_report_kpis=tuple(e.kpis_met))
        case ev.FinalReportAccepted():
            return replace(s, final_report_accepted=True)
        case ev.ExitInitiated():
            s = replace(
                s,
                exit_mode=e.mode,
                exit_users_notified_on=e.users_notified_on,
                exit_criterion=e.criterion_id,
                pending=None,
                decisions=s.decisions + ((s.pending,) if s.pending else ()),
            )
            return _move(s, State.EXIT_IN_PROGRESS, on, pos, e.criterion_id)
        case ev.ExitConfirmed():
            return _decided(s, State.EXITED, on, pos)
        case ev.ProjectTerminated():
            return _move(replace(s, pending=None), State.TERMINATED, on, pos, e.category)
        case ev.ProjectRevoked():
            return _move(replace(s, pending=None), State.REVOKED, on, pos, e.category)
        case ev.ExternalFactRecorded():
            return replace(s, facts=(*s.facts, Fact(trigger=e.trigger, on=e.on, position=pos)))
        case ev.ProgramVersionPublished() | ev.ReferenceDataUpdated():
            return s
        case _:
            raise TypeError(f"the project fold does not know {type(e).__name__}")


def fold(events: list[RecordedEvent[Event]], state: ProjectState = INITIAL) -> ProjectState:
    """Replay events onto a state (from scratch by default)."""
    for recorded in events:
        state = evolve(state, recorded)
    return state
