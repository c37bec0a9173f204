"""The project state: a pure fold over a project's events.

``evolve(state, recorded)`` takes the recorded event (position, payload, metadata) so every fact
in the state remembers the position of the event that is its evidence. The deciders, the read
models and the as-of views all use this one fold.

How it stays fast: each event type has one handler (found by a dict lookup on the payload's type)
that writes into a :class:`Draft`, a mutable working copy of the state whose sequences are lists.
``fold`` thaws the state once, applies every event and freezes once, so a replay costs no copy of
the state per event and appending to a long history is not quadratic. ``evolve`` is ``fold`` of one
event. A handler never mutates anything the frozen state shares with the draft: the lists and the
``sections`` mapping are copies made by ``thaw``, everything else is replaced, not edited.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Iterable
from typing import Any

import msgspec
from msgspec.structs import replace

from events.model import RecordedEvent
from projections.ledger import EMPTY as EMPTY_LEDGER
from projections.ledger import Ledger, LedgerDraft, record_complaint, record_report
from schemas import events as ev
from schemas.base import Event
from schemas.dates import CHINA
from schemas.events import Decision, Value
from schemas.lifecycle import State
from schemas.tables import every_kind


@functools.lru_cache(maxsize=4096)
def local_date(moment: dt.datetime) -> dt.date:
    """The business date of a moment, in China Standard Time. (Remembered for the last few
    thousand moments: a replay asks it for most events, the events of one command share their
    moment, and the time zone's conversion costs several times the look-up.)"""
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
    size: int | None = None
    media_type: str | None = None


class Attestation(msgspec.Struct, frozen=True, kw_only=True):
    statement: str
    organisation: str
    position: int


class Objection(msgspec.Struct, frozen=True, kw_only=True):
    objection_id: str
    status: str  # open | upheld | dismissed
    position: int
    disposed_position: int | None = None
    #: Who objected, as :func:`objector_key` of their contact ("" before objectors were named).
    objector: str = ""


def objector_key(contact: str | None) -> str:
    """The objector an objection is counted for: their contact, without case or spaces."""
    return "".join((contact or "").split()).casefold()


class PublicText(msgspec.Struct, frozen=True, kw_only=True):
    """The public parts of the statement as a notice published them, and their hash."""

    sha256: str
    published_on: dt.date
    sections: dict[str, dict[str, Value]]
    position: int


class Recommendation(msgspec.Struct, frozen=True, kw_only=True):
    recommendation_id: str
    decision: Decision
    recommender: str
    approvals_required: int
    position: int
    exit_mode: str | None = None
    approvers: tuple[str, ...] = ()
    approval_positions: tuple[int, ...] = ()
    rule_version: str | None = None
    category: str | None = None  # of a recommended termination or revocation
    #: the KPIs of the test plan a graduation waives, and the recommender's reason (see projections.kpis)
    waived_kpis: tuple[str, ...] = ()
    reason: str | None = None


class Waiver(msgspec.Struct, frozen=True, kw_only=True):
    condition_id: str
    by: str
    reason: str
    position: int


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


class Pledge(msgspec.Struct, frozen=True, kw_only=True):
    """One pledge of a data asset, from its registration to its release or realisation."""

    pledge_id: str
    pledgee: str
    registration_no: str
    valued_on: dt.date | None
    registered_on: dt.date
    position: int
    status: str = "registered"  # registered | released | realised
    ended_on: dt.date | None = None
    ended_position: int | None = None


class RegisteredChange(msgspec.Struct, frozen=True, kw_only=True):
    """A change registration (变更登记) of a data asset."""

    change_id: str
    effective_on: dt.date
    position: int


class Breach(msgspec.Struct, frozen=True, kw_only=True):
    criterion_id: str
    action: str
    position: int
    on: dt.date
    evidence: tuple[int, ...] = ()
    #: A disposition proposed (who, what) and awaiting a second person's confirmation.
    proposed: tuple[str, str] | None = None
    #: How a regulator disposed of it (a review or a flag), once they have.
    disposed: str | None = None

    @property
    def awaits_disposition(self) -> bool:
        """A review or a flag no regulator has disposed of yet."""
        return self.action in REVIEW_ACTIONS and self.disposed is None


#: The actions of a breach that a regulator disposes of (the others act by themselves).
REVIEW_ACTIONS = frozenset({"suspension_review", "delisting_review", "flag"})


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
    #: ``"section.field"`` -> the position of the event that last set the field (its evidence).
    field_positions: dict[str, int] = {}
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
    #: Where the notice was published (the channel the case officer named when opening it).
    notice_channel: str | None = None
    published_statements: tuple[tuple[str, dt.date, int], ...] = ()
    public_texts: tuple[PublicText, ...] = ()
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
    #: The running aggregates of the metrics reports and logged complaints (what the exit
    #: criteria read of them, see :mod:`projections.ledger`), not the reports themselves.
    ledger: Ledger = EMPTY_LEDGER
    incidents: tuple[Incident, ...] = ()
    complaints: tuple[Complaint, ...] = ()
    overdue_recorded: tuple[tuple[dt.date, int], ...] = ()
    warnings: tuple[str, ...] = ()
    breaches: tuple[Breach, ...] = ()
    suspension_category: str | None = None
    final_report_position: int | None = None
    final_report_accepted: bool = False
    exit_mode: str | None = None
    exit_users_notified_on: dt.date | None = None
    exit_criterion: str | None = None
    facts: tuple[Fact, ...] = ()
    #: A data asset's pledges, in the order they were registered (at most one outstanding).
    pledges: tuple[Pledge, ...] = ()
    changes: tuple[RegisteredChange, ...] = ()
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


class Draft:
    """A project state being folded: the fields of :class:`ProjectState`, with lists where the
    state has the sequences that events append to. Only this module writes one."""

    project_id: str
    state: State
    version: int
    last_position: int
    program_key: str
    program_ref: str
    program_version: int
    organisation: str
    lead_name: str
    lead_licence_no: str | None
    lead_kind: str
    title: str
    app_type: str
    region: str
    created_on: dt.date | None
    sections: dict[str, dict[str, Value]]
    field_positions: dict[str, int]
    partners: list[Partner]
    documents: list[Document]
    attestations: list[Attestation]
    case_officer: str | None
    submitted_on: dt.date | None
    statement_hash: str | None
    information_requests: int
    assessments: list[tuple[str, str, int]]
    notice_starts: dt.date | None
    notice_ends: dt.date | None
    notice_days: int
    notice_unit: str
    notice_closed_on: dt.date | None
    notice_position: int | None
    notice_channel: str | None
    published_statements: list[tuple[str, dt.date, int]]
    public_texts: list[PublicText]
    comments: int
    objections: list[Objection]
    pending: Recommendation | None
    decisions: list[Recommendation]
    waivers: list[Waiver]
    admitted_on: dt.date | None
    test_started_on: dt.date | None
    planned_end: dt.date | None
    extensions_granted: int
    extension_requested_months: int | None
    extension_request_position: int | None
    extension_deadline_recorded: bool
    ledger: Ledger | LedgerDraft
    incidents: list[Incident]
    complaints: list[Complaint]
    overdue_recorded: list[tuple[dt.date, int]]
    warnings: list[str]
    breaches: list[Breach]
    suspension_category: str | None
    final_report_position: int | None
    final_report_accepted: bool
    exit_mode: str | None
    exit_users_notified_on: dt.date | None
    exit_criterion: str | None
    facts: list[Fact]
    pledges: list[Pledge]
    changes: list[RegisteredChange]
    history: list[StatusChange]
    append_command: str | None
    append_positions: list[int]


#: The fields a draft holds as lists (tuples in the frozen state).
LISTS = tuple(
    name for name, kind in Draft.__annotations__.items() if isinstance(kind, str) and kind.startswith("list[")
)


def thaw(state: ProjectState) -> Draft:
    """A draft to fold events into; ``state`` itself is never changed."""
    values = msgspec.structs.asdict(state)
    for name in LISTS:
        values[name] = list(values[name])
    values["sections"] = dict(values["sections"])
    values["field_positions"] = dict(values["field_positions"])
    draft = Draft.__new__(Draft)
    draft.__dict__ = values
    return draft


def freeze(draft: Draft) -> ProjectState:
    """The frozen state a draft stands for (sharing nothing the draft may still change)."""
    values = dict(draft.__dict__)
    for name in LISTS:
        values[name] = tuple(values[name])
    values["sections"] = dict(values["sections"])
    values["field_positions"] = dict(values["field_positions"])
    if isinstance(draft.ledger, LedgerDraft):
        values["ledger"] = draft.ledger.freeze()
    return ProjectState(**values)


def fold(events: Iterable[RecordedEvent[Event]], state: ProjectState = INITIAL) -> ProjectState:
    """Replay events onto a state (from scratch by default)."""
    draft: Draft | None = None
    for recorded in events:
        if draft is None:
            draft = thaw(state)
        apply(draft, recorded)
    return state if draft is None else freeze(draft)


def evolve(state: ProjectState, recorded: RecordedEvent[Event]) -> ProjectState:
    """Apply one recorded event to a project state. Pure; unknown event types are a bug."""
    return fold((recorded,), state)


Handler = Callable[[Draft, Any, RecordedEvent[Event]], None]
_HANDLERS: dict[type, Handler] = {}


def handler_for(kind: type) -> Handler:
    """The handler of an event type (or of the nearest base class that has one)."""
    found = _HANDLERS.get(kind)
    if found is None:
        base = next((b for b in kind.__mro__ if b in _HANDLERS), None)
        if base is None:
            raise TypeError(f"the project fold does not know {kind.__name__}")
        found = _HANDLERS[kind] = _HANDLERS[base]
    return found


def handled_types() -> frozenset[type]:
    return frozenset(_HANDLERS)


def apply(draft: Draft, recorded: RecordedEvent[Event]) -> None:
    """Apply one recorded event to a draft, in place. If it raises, the draft is spoilt: thaw
    the state again (``fold`` and ``evolve`` never hand out a spoilt draft)."""
    handler = _HANDLERS.get(type(recorded.payload)) or handler_for(type(recorded.payload))
    meta = recorded.metadata
    command = meta.correlation_id
    if command is None or command != draft.append_command:
        draft.append_command = command
        draft.append_positions = []
    handler(draft, recorded.payload, recorded)
    if command is not None and meta.role != "system":
        draft.append_positions.append(recorded.position)
    draft.version = recorded.version
    draft.last_position = recorded.position


def _handles(*kinds: type[Event]) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        for kind in kinds:
            _HANDLERS[kind] = fn
        return fn

    return register


def _on(r: RecordedEvent[Event]) -> dt.date:
    """The business date of the event (only the handlers that record one ask for it)."""
    return local_date(r.metadata.occurred_at)


def _move(d: Draft, to: State, on: dt.date, position: int, category: str | None = None) -> None:
    d.state = to
    d.history.append(StatusChange(state=to, on=on, position=position, category=category))


def _decided(d: Draft, to: State, on: dt.date, position: int) -> None:
    if d.pending is not None:
        d.decisions.append(d.pending)
    d.pending = None
    _move(d, to, on, position)


# -- the handlers, one per event type ---------------------------------------------------------


@_handles(ev.DraftCreated)
def _draft_created(d: Draft, e: ev.DraftCreated, r: RecordedEvent[Event]) -> None:
    on = _on(r)
    d.project_id = e.project_id
    d.program_key = e.program_key
    d.organisation = e.organisation
    d.lead_name = e.lead_name
    d.lead_licence_no = e.lead_licence_no
    d.lead_kind = e.lead_kind
    d.title = e.title
    d.app_type = e.app_type
    d.region = e.region
    d.created_on = on
    _move(d, State.DRAFT, on, r.position)


@_handles(ev.DraftEdited)
def _draft_edited(d: Draft, e: ev.DraftEdited, r: RecordedEvent[Event]) -> None:
    section = dict(d.sections.get(e.section, {}))  # a new mapping: the old one may be shared
    positions = d.field_positions  # (the draft's own: thaw copied it)
    for key, value in e.fields.items():
        if value is None:
            section.pop(key, None)
            positions.pop(f"{e.section}.{key}", None)
        else:
            section[key] = value
            positions[f"{e.section}.{key}"] = r.position
    d.sections[e.section] = section


@_handles(ev.PartnerAdded)
def _partner_added(d: Draft, e: ev.PartnerAdded, r: RecordedEvent[Event]) -> None:
    d.partners.append(
        Partner(organisation=e.organisation, name=e.name, role=e.role, licence_no=e.licence_no, position=r.position)
    )


@_handles(ev.PartnerWithdrawn)
def _partner_withdrawn(d: Draft, e: ev.PartnerWithdrawn, r: RecordedEvent[Event]) -> None:
    d.partners = [replace(p, withdrawn=True) if p.organisation == e.organisation else p for p in d.partners]


@_handles(ev.DocumentAttached)
def _document_attached(d: Draft, e: ev.DocumentAttached, r: RecordedEvent[Event]) -> None:
    d.documents.append(
        Document(
            kind=e.kind,
            sha256=e.sha256,
            title=e.title,
            holder=e.holder,
            issued_on=e.issued_on,
            position=r.position,
            size=e.size,
            media_type=e.media_type,
        )
    )


@_handles(ev.AttestationMade)
def _attestation_made(d: Draft, e: ev.AttestationMade, r: RecordedEvent[Event]) -> None:
    d.attestations.append(Attestation(statement=e.statement, organisation=e.organisation, position=r.position))


@_handles(ev.ApplicationSubmitted)
def _submitted(d: Draft, e: ev.ApplicationSubmitted, r: RecordedEvent[Event]) -> None:
    d.program_ref = e.program_ref
    d.program_version = e.program_version
    d.submitted_on = e.submitted_on
    d.statement_hash = e.statement_hash
    _move(d, State.SUBMITTED, _on(r), r.position)


@_handles(ev.ApplicationWithdrawn)
def _withdrawn(d: Draft, e: ev.ApplicationWithdrawn, r: RecordedEvent[Event]) -> None:
    _move(d, State.WITHDRAWN, _on(r), r.position)


@_handles(ev.IntakeAccepted)
def _intake_accepted(d: Draft, e: ev.IntakeAccepted, r: RecordedEvent[Event]) -> None:
    d.case_officer = d.case_officer or r.metadata.actor
    _move(d, State.UNDER_REVIEW, _on(r), r.position)


@_handles(ev.InformationRequested)
def _information_requested(d: Draft, e: ev.InformationRequested, r: RecordedEvent[Event]) -> None:
    d.information_requests += 1
    _move(d, State.RETURNED_FOR_INFO, _on(r), r.position)


@_handles(ev.InformationSupplied)
def _information_supplied(d: Draft, e: ev.InformationSupplied, r: RecordedEvent[Event]) -> None:
    _move(d, State.SUBMITTED, _on(r), r.position)


@_handles(ev.CaseOfficerAssigned)
def _officer_assigned(d: Draft, e: ev.CaseOfficerAssigned, r: RecordedEvent[Event]) -> None:
    d.case_officer = e.officer


@_handles(ev.AssessmentFiled)
def _assessment_filed(d: Draft, e: ev.AssessmentFiled, r: RecordedEvent[Event]) -> None:
    d.assessments.append((e.topic, e.outcome, r.position))


@_handles(ev.PublicNoticeOpened)
def _notice_opened(d: Draft, e: ev.PublicNoticeOpened, r: RecordedEvent[Event]) -> None:
    d.notice_starts = e.starts_on
    d.notice_ends = e.ends_on
    d.notice_days = e.days
    d.notice_unit = e.unit
    d.notice_closed_on = None
    d.notice_position = r.position
    d.notice_channel = e.channel or None
    if e.public_sha256 is not None:
        d.public_texts.append(
            PublicText(
                sha256=e.public_sha256, published_on=e.starts_on, sections=e.public_statement, position=r.position
            )
        )
    d.published_statements.append((e.statement_hash, e.starts_on, r.position))
    _move(d, State.PUBLIC_NOTICE, _on(r), r.position)


@_handles(ev.CommentReceived)
def _comment(d: Draft, e: ev.CommentReceived, r: RecordedEvent[Event]) -> None:
    d.comments += 1


@_handles(ev.ObjectionFiled)
def _objection_filed(d: Draft, e: ev.ObjectionFiled, r: RecordedEvent[Event]) -> None:
    d.objections.append(
        Objection(
            objection_id=e.objection_id,
            status="open",
            position=r.position,
            objector=objector_key(e.objector_contact),
        )
    )


@_handles(ev.ObjectionDisposed)
def _objection_disposed(d: Draft, e: ev.ObjectionDisposed, r: RecordedEvent[Event]) -> None:
    d.objections = [
        replace(o, status=e.outcome, disposed_position=r.position) if o.objection_id == e.objection_id else o
        for o in d.objections
    ]


@_handles(ev.PublicNoticeClosed)
def _notice_closed(d: Draft, e: ev.PublicNoticeClosed, r: RecordedEvent[Event]) -> None:
    d.notice_closed_on = e.closed_on
    _move(d, State.NOTICE_CLOSED, e.closed_on, r.position)


@_handles(ev.RecommendationMade)
def _recommended(d: Draft, e: ev.RecommendationMade, r: RecordedEvent[Event]) -> None:
    d.pending = Recommendation(
        recommendation_id=e.recommendation_id,
        decision=e.decision,
        recommender=r.metadata.actor,
        approvals_required=e.approvals_required,
        position=r.position,
        exit_mode=e.exit_mode,
        rule_version=r.metadata.rule_version,
        category=e.category,
        waived_kpis=tuple(e.waived_kpis),
        reason=r.metadata.reason,
    )


@_handles(ev.DecisionApproved)
def _approved(d: Draft, e: ev.DecisionApproved, r: RecordedEvent[Event]) -> None:
    pending = d.pending
    if pending is not None:
        d.pending = replace(
            pending,
            approvers=(*pending.approvers, r.metadata.actor),
            approval_positions=(*pending.approval_positions, r.position),
        )


@_handles(ev.ConditionWaived)
def _waived(d: Draft, e: ev.ConditionWaived, r: RecordedEvent[Event]) -> None:
    meta = r.metadata
    d.waivers.append(Waiver(condition_id=e.condition_id, by=meta.actor, reason=meta.reason or "", position=r.position))


@_handles(ev.ProjectAdmitted)
def _admitted(d: Draft, e: ev.ProjectAdmitted, r: RecordedEvent[Event]) -> None:
    on = _on(r)
    _decided(d, State.ADMITTED, on, r.position)
    d.admitted_on = on


@_handles(ev.ApplicationRejected)
def _rejected(d: Draft, e: ev.ApplicationRejected, r: RecordedEvent[Event]) -> None:
    _decided(d, State.REJECTED, _on(r), r.position)


@_handles(ev.ProjectGraduated)
def _graduated(d: Draft, e: ev.ProjectGraduated, r: RecordedEvent[Event]) -> None:
    _decided(d, State.GRADUATED, _on(r), r.position)


@_handles(ev.TestStarted)
def _test_started(d: Draft, e: ev.TestStarted, r: RecordedEvent[Event]) -> None:
    d.test_started_on = e.started_on
    d.planned_end = e.planned_end
    _move(d, State.TESTING, e.started_on, r.position)


def _ledger(d: Draft) -> LedgerDraft:
    """The draft's ledger, made writable on the first report or complaint folded into it."""
    ledger = d.ledger
    if isinstance(ledger, Ledger):
        ledger = d.ledger = LedgerDraft(ledger)
    return ledger


@_handles(ev.MetricsReported)
def _metrics(d: Draft, e: ev.MetricsReported, r: RecordedEvent[Event]) -> None:
    # (its ``kpis_met`` is the applicant's claim: attainment is computed, see projections.kpis)
    record_report(_ledger(d), e.period_start, e.period_end, e.metrics, r.position, _on(r))


@_handles(ev.IncidentReported)
def _incident(d: Draft, e: ev.IncidentReported, r: RecordedEvent[Event]) -> None:
    d.incidents.append(
        Incident(
            incident_id=e.incident_id,
            severity=e.severity,
            kind=e.kind,
            occurred_on=e.occurred_on,
            consumer_loss_yuan=e.consumer_loss_yuan,
            position=r.position,
        )
    )


@_handles(ev.IncidentRemediated)
def _remediated(d: Draft, e: ev.IncidentRemediated, r: RecordedEvent[Event]) -> None:
    on = _on(r)
    d.incidents = [
        replace(i, remediated_on=on, compensated=e.compensated) if i.incident_id == e.incident_id else i
        for i in d.incidents
    ]


@_handles(ev.IncidentReclassified)
def _reclassified(d: Draft, e: ev.IncidentReclassified, r: RecordedEvent[Event]) -> None:
    d.incidents = [replace(i, severity=e.severity) if i.incident_id == e.incident_id else i for i in d.incidents]


@_handles(ev.ComplaintLogged)
def _complaint(d: Draft, e: ev.ComplaintLogged, r: RecordedEvent[Event]) -> None:
    d.complaints.append(Complaint(complaint_id=e.complaint_id, received_on=e.received_on, position=r.position))
    record_complaint(_ledger(d), e.received_on, r.position)


@_handles(ev.ExtensionRequested)
def _extension_requested(d: Draft, e: ev.ExtensionRequested, r: RecordedEvent[Event]) -> None:
    d.extension_requested_months = e.months
    d.extension_request_position = r.position


@_handles(ev.ExtensionGranted)
def _extension_granted(d: Draft, e: ev.ExtensionGranted, r: RecordedEvent[Event]) -> None:
    d.planned_end = e.new_end
    d.extensions_granted += 1
    d.extension_requested_months = None
    d.extension_request_position = None
    d.extension_deadline_recorded = False


@_handles(ev.ExtensionRefused)
def _extension_refused(d: Draft, e: ev.ExtensionRefused, r: RecordedEvent[Event]) -> None:
    d.extension_requested_months = None
    d.extension_request_position = None


@_handles(ev.ThresholdBreached)
def _breached(d: Draft, e: ev.ThresholdBreached, r: RecordedEvent[Event]) -> None:
    # An automatic breach (caused by a command) also rests on the report of that command.
    caused_by = d.append_positions if r.metadata.causation_id is not None else ()
    evidence = tuple(sorted({*e.evidence, *caused_by}))
    d.breaches.append(
        Breach(criterion_id=e.criterion_id, action=e.action, position=r.position, on=_on(r), evidence=evidence)
    )


@_handles(ev.BreachDispositionProposed)
def _disposition_proposed(d: Draft, e: ev.BreachDispositionProposed, r: RecordedEvent[Event]) -> None:
    d.breaches = [
        replace(b, proposed=(r.metadata.actor, e.outcome)) if b.position == e.breach_position else b
        for b in d.breaches
    ]


@_handles(ev.BreachDisposed)
def _breach_disposed(d: Draft, e: ev.BreachDisposed, r: RecordedEvent[Event]) -> None:
    d.breaches = [replace(b, disposed=e.outcome) if b.position == e.breach_position else b for b in d.breaches]


@_handles(ev.WarningIssued)
def _warning(d: Draft, e: ev.WarningIssued, r: RecordedEvent[Event]) -> None:
    d.warnings.append(e.criterion_id)


@_handles(ev.ProjectSuspended)
def _suspended(d: Draft, e: ev.ProjectSuspended, r: RecordedEvent[Event]) -> None:
    d.suspension_category = e.category
    _move(d, State.SUSPENDED, _on(r), r.position, e.category)


@_handles(ev.ProjectReinstated)
def _reinstated(d: Draft, e: ev.ProjectReinstated, r: RecordedEvent[Event]) -> None:
    d.suspension_category = None
    _move(d, State.TESTING, _on(r), r.position)


@_handles(ev.ReportOverdue)
def _overdue(d: Draft, e: ev.ReportOverdue, r: RecordedEvent[Event]) -> None:
    d.overdue_recorded.append((e.due_on, e.days_late))


@_handles(ev.TestPeriodEnded)
def _test_ended(d: Draft, e: ev.TestPeriodEnded, r: RecordedEvent[Event]) -> None:
    _move(d, State.FINAL_EVALUATION, e.ended_on, r.position)


@_handles(ev.ExtensionDeadlinePassed)
def _extension_deadline(d: Draft, e: ev.ExtensionDeadlinePassed, r: RecordedEvent[Event]) -> None:
    d.extension_deadline_recorded = True


@_handles(ev.FinalReportSubmitted)
def _final_report(d: Draft, e: ev.FinalReportSubmitted, r: RecordedEvent[Event]) -> None:
    d.final_report_position = r.position


@_handles(ev.FinalReportAccepted)
def _final_report_accepted(d: Draft, e: ev.FinalReportAccepted, r: RecordedEvent[Event]) -> None:
    d.final_report_accepted = True


@_handles(ev.ExitInitiated)
def _exit_initiated(d: Draft, e: ev.ExitInitiated, r: RecordedEvent[Event]) -> None:
    d.exit_mode = e.mode
    d.exit_users_notified_on = e.users_notified_on
    d.exit_criterion = e.criterion_id
    if d.pending is not None:
        d.decisions.append(d.pending)
    d.pending = None
    _move(d, State.EXIT_IN_PROGRESS, _on(r), r.position, e.criterion_id)


@_handles(ev.ExitConfirmed)
def _exit_confirmed(d: Draft, e: ev.ExitConfirmed, r: RecordedEvent[Event]) -> None:
    _decided(d, State.EXITED, _on(r), r.position)


@_handles(ev.ProjectTerminated)
def _terminated(d: Draft, e: ev.ProjectTerminated, r: RecordedEvent[Event]) -> None:
    _forced_end(d, "terminate")
    _move(d, State.TERMINATED, _on(r), r.position, e.category)


@_handles(ev.ProjectRevoked)
def _revoked(d: Draft, e: ev.ProjectRevoked, r: RecordedEvent[Event]) -> None:
    _forced_end(d, "revoke")
    _move(d, State.REVOKED, _on(r), r.position, e.category)


def _forced_end(d: Draft, decision: str) -> None:
    """A forced ending closes any pending recommendation; it is a decision taken only if it was
    the recommendation of this ending, approved (not when an exit criterion ended the project)."""
    pending = d.pending
    if pending is not None and pending.decision == decision and len(pending.approvers) >= pending.approvals_required:
        d.decisions.append(pending)
    d.pending = None


#: The facts a pledge's life was recorded with before it had events of its own: a log of that
#: time replays into the same pledges (``pledge_enforced`` is the old name of a realisation).
LEGACY_PLEDGE_FACTS = {"pledge_released": "released", "pledge_enforced": "realised"}


@_handles(ev.ExternalFactRecorded)
def _fact(d: Draft, e: ev.ExternalFactRecorded, r: RecordedEvent[Event]) -> None:
    d.facts.append(Fact(trigger=e.trigger, on=e.on, position=r.position))
    if e.trigger == "pledge_registered":
        pledge = Pledge(
            pledge_id=f"pledge-{r.version}",
            pledgee="",
            registration_no=e.detail,
            valued_on=None,
            registered_on=e.on,
            position=r.position,
        )
        d.pledges.append(pledge)
    elif e.trigger in LEGACY_PLEDGE_FACTS:
        outstanding = next((x for x in d.pledges if x.status == "registered"), None)
        ending = outstanding.pledge_id if outstanding else DECLARED_PLEDGE
        _end_pledge(d, ending, LEGACY_PLEDGE_FACTS[e.trigger], e.on, r)


#: The id of the pledge an application declared (``product.pledged``) rather than registered.
DECLARED_PLEDGE = "declared"


@_handles(ev.PledgeRegistered)
def _pledge_registered(d: Draft, e: ev.PledgeRegistered, r: RecordedEvent[Event]) -> None:
    d.pledges.append(
        Pledge(
            pledge_id=e.pledge_id,
            pledgee=e.pledgee,
            registration_no=e.registration_no,
            valued_on=e.valued_on,
            registered_on=e.on,
            position=r.position,
        )
    )


@_handles(ev.PledgeReleased)
def _pledge_released(d: Draft, e: ev.PledgeReleased, r: RecordedEvent[Event]) -> None:
    _end_pledge(d, e.pledge_id, "released", e.on, r)


@_handles(ev.PledgeRealised)
def _pledge_realised(d: Draft, e: ev.PledgeRealised, r: RecordedEvent[Event]) -> None:
    _end_pledge(d, e.pledge_id, "realised", e.on, r)


def declared_pledge(
    product: dict[str, Value], field_positions: dict[str, int], admitted_on: dt.date | None
) -> Pledge | None:
    """The pledge an application declared (``product.pledged``, with its registration number),
    as a pledge registered on the admission; None if none was declared."""
    if product.get("pledged") is not True:
        return None
    return Pledge(
        pledge_id=DECLARED_PLEDGE,
        pledgee="",
        registration_no=str(product.get("pledge_registration_no") or ""),
        valued_on=None,
        registered_on=admitted_on or dt.date.min,
        position=field_positions.get("product.pledged", 0),
    )


def _end_pledge(d: Draft, pledge_id: str, status: str, on: dt.date, r: RecordedEvent[Event]) -> None:
    """End a pledge; the declared one (never registered here) is recorded as it ends."""
    if pledge_id == DECLARED_PLEDGE and all(x.pledge_id != DECLARED_PLEDGE for x in d.pledges):
        declared = declared_pledge(d.sections.get("product", {}), d.field_positions, d.admitted_on or on)
        if declared is not None:
            d.pledges.append(declared)
    d.pledges = [
        replace(x, status=status, ended_on=on, ended_position=r.position)
        if x.pledge_id == pledge_id and x.status == "registered"
        else x
        for x in d.pledges
    ]


@_handles(ev.ChangeRegistered)
def _change_registered(d: Draft, e: ev.ChangeRegistered, r: RecordedEvent[Event]) -> None:
    d.changes.append(RegisteredChange(change_id=e.change_id, effective_on=e.effective_on, position=r.position))


@_handles(ev.DormancyDetected, ev.ProgramVersionPublished, ev.ReferenceDataUpdated)
def _nothing(d: Draft, e: Event, r: RecordedEvent[Event]) -> None:
    """Recorded for the audit trail (dormancy) or not a project's event at all."""


#: A new event type must have its fold before the registry starts at all.
every_kind(_HANDLERS, ev.ALL_EVENTS, "fold")
