"""Domain events: every fact the registry records about programs, reference data and projects.

Events are past-tense facts, frozen, and stored under their class name. Adding a field needs a
default; anything else is a new ``schema_version`` with an upcaster (see ``events/codec.py``).
Amounts are integers (yuan or fen, as the field name says), never floats.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar, Literal

from schemas.base import Event, Sha256
from schemas.programs import ProgramDefinition

#: A declared value in a section of the application (no floats: amounts are integers).
Value = str | int | bool | list[str] | None
Section = Literal["statement", "boundaries", "test_plan", "product"]
Decision = Literal["admit", "reject", "graduate", "exit", "terminate", "revoke"]
PartnerRole = Literal["licensed_institution", "technology_partner", "operator", "data_merchant"]
Severity = Literal[1, 2, 3]


# -- programs and reference data ------------------------------------------------------------


class ProgramVersionPublished(Event, frozen=True, kw_only=True):
    """A program version came into force (stream ``program-<key>``). ``changes`` says what
    differs from the previous version; earlier versions stay bound to their projects.
    Schema version 2: the test period and its extensions left the durations for the
    ``test_period`` exit criterion alone; version 3: so did the days a report may be late, for
    the ``report_timeliness`` criterion (see :mod:`schemas.upgrades`)."""

    schema_version: ClassVar[int] = 3

    definition: ProgramDefinition
    changes: list[str] = []


class ReferenceDataUpdated(Event, frozen=True, kw_only=True):
    """A reference-data set was replaced by a new version (stream ``reference-<dataset>``):
    pilot areas, operators, wallet tiers or the holiday calendar. ``records`` is the whole set
    as published, so any past version can be read as it stood."""

    dataset: Literal["pilot_areas", "operators", "wallet_tiers", "holidays"]
    records: list[dict[str, Any]]
    changes: list[str] = []


# -- drafting ----------------------------------------------------------------------------------


class DraftCreated(Event, frozen=True, kw_only=True):
    """An applicant started a draft application for a program."""

    project_id: str
    program_key: str
    title: str
    app_type: str
    organisation: str
    lead_name: str
    lead_licence_no: str | None = None
    lead_kind: Literal["licensed_institution", "technology_company", "operator", "data_merchant", "other"]
    region: str


class DraftEdited(Event, frozen=True, kw_only=True):
    """Fields of one section of the application were set (a ``None`` value clears a field)."""

    section: Section
    fields: dict[str, Value]


class PartnerAdded(Event, frozen=True, kw_only=True):
    """A co-applicant or technology partner joined the application."""

    organisation: str
    name: str
    role: PartnerRole
    licence_no: str | None = None


class PartnerWithdrawn(Event, frozen=True, kw_only=True):
    """A partner left the project."""

    organisation: str


class DocumentAttached(Event, frozen=True, kw_only=True):
    """Evidence was attached: its kind, content hash and title, and whose document it is."""

    kind: str
    sha256: Sha256
    title: str
    holder: str
    issued_on: dt.date | None = None
    #: The stored file's size and media type, for an upload (None: attached by hash alone, and
    #: every event written before documents were stored).
    size: int | None = None
    media_type: str | None = None


class AttestationMade(Event, frozen=True, kw_only=True):
    """An applicant attested a statement (e.g. no violations in the last three years)."""

    statement: str
    organisation: str
    text: str = ""


# -- intake and review -----------------------------------------------------------------------


class ApplicationSubmitted(Event, frozen=True, kw_only=True):
    """The application was submitted and bound to the program version in force that day."""

    program_ref: str
    program_version: int
    submitted_on: dt.date
    statement_hash: Sha256


class ApplicationWithdrawn(Event, frozen=True, kw_only=True):
    """The applicant withdrew before admission."""


class IntakeAccepted(Event, frozen=True, kw_only=True):
    """A case officer accepted the application for review."""


class InformationRequested(Event, frozen=True, kw_only=True):
    """The regulator asked for more information; the application went back to the applicant."""

    items: list[str]
    due_on: dt.date | None = None


class InformationSupplied(Event, frozen=True, kw_only=True):
    """The applicant answered an information request and resubmitted."""

    summary: str


class CaseOfficerAssigned(Event, frozen=True, kw_only=True):
    """A case officer was assigned to the project."""

    officer: str


class AssessmentFiled(Event, frozen=True, kw_only=True):
    """An assessor filed an assessment (never shown on the public register)."""

    topic: str
    outcome: Literal["favourable", "unfavourable", "needs_work"]
    summary: str
    sha256: Sha256 | None = None


class PublicNoticeOpened(Event, frozen=True, kw_only=True):
    """The public notice (公示) opened for a fixed window; the statement version is published."""

    starts_on: dt.date
    ends_on: dt.date
    days: int
    unit: Literal["working", "calendar"]
    statement_hash: Sha256
    channel: str = ""
    #: The statement's public parts as published (section -> field -> value: the fields the
    #: program's ``public_fields`` names, never a person's name), and the SHA-256 of their
    #: canonical JSON so that a printed copy can be checked. Empty in notices recorded before.
    public_statement: dict[str, dict[str, Value]] = {}
    public_sha256: Sha256 | None = None


class CommentReceived(Event, frozen=True, kw_only=True):
    """A member of the public commented during the notice (the commenter stays anonymous)."""

    comment_id: str
    text: str


class ObjectionFiled(Event, frozen=True, kw_only=True):
    """A member of the public objected during the notice, giving a name and a contact that only
    regulators and the auditor read (none in objections recorded before they were required)."""

    objection_id: str
    grounds: str
    objector_name: str | None = None
    objector_contact: str | None = None


class ObjectionDisposed(Event, frozen=True, kw_only=True):
    """The regulator disposed of an objection."""

    objection_id: str
    outcome: Literal["upheld", "dismissed"]


class PublicNoticeClosed(Event, frozen=True, kw_only=True):
    """The notice window ended (recorded by the system timer)."""

    closed_on: dt.date


class RecommendationMade(Event, frozen=True, kw_only=True):
    """A case officer recommended a decision; it waits for approval (four eyes)."""

    recommendation_id: str
    decision: Decision
    approvals_required: int
    exit_mode: Literal["voluntary", "forced"] | None = None
    #: why a termination or revocation is recommended (e.g. ``designation_withdrawn``)
    category: str | None = None
    #: the KPIs a graduation waives (the reason is the event's); none in logs from before waivers
    waived_kpis: list[str] = []


class DecisionApproved(Event, frozen=True, kw_only=True):
    """An approver approved a pending recommendation."""

    recommendation_id: str
    decision: Decision
    approval_number: int


class ConditionWaived(Event, frozen=True, kw_only=True):
    """An admission condition was waived, with the reason (in the metadata) and who waived it."""

    condition_id: str


# -- decisions -------------------------------------------------------------------------------


class ProjectAdmitted(Event, frozen=True, kw_only=True):
    """The project was admitted to the program after all approvals."""

    recommendation_id: str
    recommender: str
    approvers: list[str]


class ApplicationRejected(Event, frozen=True, kw_only=True):
    """The application was rejected after all approvals."""

    recommendation_id: str
    recommender: str
    approvers: list[str]


class ProjectGraduated(Event, frozen=True, kw_only=True):
    """The project graduated (出盒) after all approvals."""

    recommendation_id: str
    recommender: str
    approvers: list[str]


# -- testing ---------------------------------------------------------------------------------


class TestStarted(Event, frozen=True, kw_only=True):
    """The test began; it is planned to end on ``planned_end``."""

    started_on: dt.date
    planned_end: dt.date


class MetricsReported(Event, frozen=True, kw_only=True):
    """A periodic metrics report (e.g. active_users, exposure_yuan, transactions, complaints,
    payment_failures, fraud_cases, trades) for a period; ``kpis_met`` lists KPIs achieved."""

    period_start: dt.date
    period_end: dt.date
    metrics: dict[str, int]
    kpis_met: list[str] = []


class IncidentReported(Event, frozen=True, kw_only=True):
    """An incident. ``severity`` is derived from its facts (kind, consumer loss, outage length)
    by the program's definition (severity 1: fund loss, data breach or an outage over 4 hours),
    ``basis`` says which fact decided it, and ``reported_severity`` is what the reporter said, if
    anything (kept, never used). An event of earlier days holds the reporter's severity only."""

    incident_id: str
    severity: Severity
    kind: str
    occurred_on: dt.date
    consumer_loss_yuan: int = 0
    description: str = ""
    outage_minutes: int | None = None
    reported_severity: Severity | None = None
    basis: str = ""


class IncidentReclassified(Event, frozen=True, kw_only=True):
    """A regulator reclassified an incident's severity, with a reason (in the metadata)."""

    incident_id: str
    severity: Severity
    previous: Severity


class IncidentRemediated(Event, frozen=True, kw_only=True):
    """An incident was remediated (and, where there was a loss, consumers compensated)."""

    incident_id: str
    compensated: bool = True


class ComplaintLogged(Event, frozen=True, kw_only=True):
    """A consumer complaint."""

    complaint_id: str
    category: str
    received_on: dt.date


class ExtensionRequested(Event, frozen=True, kw_only=True):
    """The applicant asked to extend the test."""

    months: int


class ExtensionGranted(Event, frozen=True, kw_only=True):
    """The regulator extended the test to ``new_end``."""

    months: int
    new_end: dt.date


class ExtensionRefused(Event, frozen=True, kw_only=True):
    """The regulator refused the extension request."""


class ThresholdBreached(Event, frozen=True, kw_only=True):
    """An exit criterion of the bound program was crossed; ``figures`` shows the numbers and
    ``evidence`` the positions of the reports that crossed it."""

    criterion_id: str
    action: str
    figures: dict[str, int | str]
    evidence: list[int] = []


class BreachDispositionProposed(Event, frozen=True, kw_only=True):
    """A regulator proposed how to dispose of a breach whose action is a suspension review; a
    second person (an approver) confirms it (four eyes)."""

    breach_position: int
    criterion_id: str
    outcome: Literal["no_action", "suspend"]


class BreachDisposed(Event, frozen=True, kw_only=True):
    """A regulator disposed of a breach whose action is a review or a flag (the breach at
    ``breach_position``): no further action, or the test suspended (recorded with it)."""

    breach_position: int
    criterion_id: str
    outcome: Literal["no_action", "suspend"]


class WarningIssued(Event, frozen=True, kw_only=True):
    """A formal warning (e.g. a periodic report over 10 days late)."""

    criterion_id: str


class ProjectSuspended(Event, frozen=True, kw_only=True):
    """The test was suspended (by a regulator, or automatically by a breached criterion)."""

    criterion_id: str | None = None
    category: str


class ProjectReinstated(Event, frozen=True, kw_only=True):
    """The suspension was lifted and the test resumed."""


class ReportOverdue(Event, frozen=True, kw_only=True):
    """A periodic report is overdue (recorded by the system timer)."""

    due_on: dt.date
    days_late: int


class TestPeriodEnded(Event, frozen=True, kw_only=True):
    """The test period reached its end; the project moved to final evaluation."""

    ended_on: dt.date


class ExtensionDeadlinePassed(Event, frozen=True, kw_only=True):
    """The last day to ask for an extension passed (recorded by the system timer)."""

    deadline: dt.date


class DormancyDetected(Event, frozen=True, kw_only=True):
    """No transaction or trade for more than the criterion's number of days (recorded by the
    timer with the breach and its consequence): ``days`` idle since ``last_activity_on``."""

    criterion_id: str
    last_activity_on: dt.date
    days: int


class FinalReportSubmitted(Event, frozen=True, kw_only=True):
    """The applicant filed the final report."""

    sha256: Sha256
    summary: str
    kpis_met: list[str] = []


class FinalReportAccepted(Event, frozen=True, kw_only=True):
    """The regulator accepted the final report."""


# -- exit ------------------------------------------------------------------------------------


class ExitInitiated(Event, frozen=True, kw_only=True):
    """Exit began: voluntary (users told on ``users_notified_on``) or forced."""

    mode: Literal["voluntary", "forced"]
    criterion_id: str | None = None
    users_notified_on: dt.date | None = None
    planned_exit_on: dt.date | None = None


class ExitConfirmed(Event, frozen=True, kw_only=True):
    """The regulator confirmed the exit is complete."""

    outcome: Literal["exited"] = "exited"


class ProjectTerminated(Event, frozen=True, kw_only=True):
    """The project was terminated (licence lost, partner withdrew, designation withdrawn)."""

    criterion_id: str | None = None
    category: str


class ProjectRevoked(Event, frozen=True, kw_only=True):
    """Admission or graduation was revoked (false materials, objection upheld)."""

    criterion_id: str | None = None
    category: str


class ExternalFactRecorded(Event, frozen=True, kw_only=True):
    """A regulator recorded an outside fact an exit criterion watches: licence lost, pilot area
    or operator withdrawn, pledge released or enforced, source authorisation lapsed, budget
    exhausted, valuation renewed, trade made, change registered."""

    trigger: str
    detail: str = ""
    on: dt.date


# -- data assets: pledges and change registrations --------------------------------------------


class PledgeRegistered(Event, frozen=True, kw_only=True):
    """A data asset was pledged (质押登记) to ``pledgee`` under ``registration_no``, on the
    strength of the valuation report ``valuation_sha256`` issued on ``valued_on``. At most one
    pledge is outstanding at a time; the asset stays registered and listed."""

    pledge_id: str
    pledgee: str
    registration_no: str
    valuation_sha256: str
    valued_on: dt.date
    on: dt.date


class PledgeReleased(Event, frozen=True, kw_only=True):
    """The pledge was released (质押解除): the encumbrance ends, the asset stays registered and
    listed and may be pledged again. ``pledge_id`` ``declared`` is the pledge the application
    declared (``product.pledged``)."""

    pledge_id: str
    on: dt.date


class PledgeRealised(Event, frozen=True, kw_only=True):
    """The pledgee realised the pledge (质权实现); what follows is the program's rule (the
    ``pledge_realised`` exit criterion: the project closes)."""

    pledge_id: str
    on: dt.date


class ChangeRegistered(Event, frozen=True, kw_only=True):
    """A change to the data asset was registered (变更登记) before it takes effect on
    ``effective_on``: a material change recorded on or after that day is covered by it."""

    change_id: str
    description: str
    effective_on: dt.date


PROJECT_EVENTS: tuple[type[Event], ...] = (
    DraftCreated,
    DraftEdited,
    PartnerAdded,
    PartnerWithdrawn,
    DocumentAttached,
    AttestationMade,
    ApplicationSubmitted,
    ApplicationWithdrawn,
    IntakeAccepted,
    InformationRequested,
    InformationSupplied,
    CaseOfficerAssigned,
    AssessmentFiled,
    PublicNoticeOpened,
    CommentReceived,
    ObjectionFiled,
    ObjectionDisposed,
    PublicNoticeClosed,
    RecommendationMade,
    DecisionApproved,
    ConditionWaived,
    ProjectAdmitted,
    ApplicationRejected,
    ProjectGraduated,
    TestStarted,
    MetricsReported,
    IncidentReported,
    IncidentRemediated,
    IncidentReclassified,
    ComplaintLogged,
    ExtensionRequested,
    ExtensionGranted,
    ExtensionRefused,
    ThresholdBreached,
    BreachDispositionProposed,
    BreachDisposed,
    WarningIssued,
    ProjectSuspended,
    ProjectReinstated,
    ReportOverdue,
    TestPeriodEnded,
    ExtensionDeadlinePassed,
    DormancyDetected,
    FinalReportSubmitted,
    FinalReportAccepted,
    ExitInitiated,
    ExitConfirmed,
    ProjectTerminated,
    ProjectRevoked,
    ExternalFactRecorded,
    PledgeRegistered,
    PledgeReleased,
    PledgeRealised,
    ChangeRegistered,
)

ALL_EVENTS: tuple[type[Event], ...] = (ProgramVersionPublished, ReferenceDataUpdated, *PROJECT_EVENTS)
