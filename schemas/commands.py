"""Commands: what a person (or the system) asks the registry to do.

Commands are imperative, frozen and strict (unknown fields are refused). The acting person is
not part of a command: the service layer takes it from authentication and passes it to the
decider as an :class:`Actor`. Every command may carry a ``reason``, which is recorded in the
events' metadata.
"""

from __future__ import annotations

import datetime as dt
import re
import typing
from typing import Annotated, Any, ClassVar, Literal

import msgspec

from schemas.base import Sha256
from schemas.events import Decision, PartnerRole, Section, Severity
from schemas.programs import ProgramDefinition
from schemas.text import FREE_TEXT_PATTERN, FreeText, NameText, text_fault
from schemas.validation import key_path

#: Free text a person writes (no control characters: see ``schemas.text``).
Text = Annotated[FreeText, msgspec.Meta(min_length=1, max_length=4000)]
OptionalText = Annotated[FreeText, msgspec.Meta(max_length=4000)]
#: A title or a name, shown on one line by the public register: no bidirectional overrides or
#: zero-width characters either.
Name = Annotated[NameText, msgspec.Meta(min_length=1, max_length=200)]
#: A declared value of a draft's section, as a command carries it. Its text is free text, which
#: :class:`EditDraft` checks itself (msgspec 0.22 corrupts memory on a long pattern in a union
#: with a list).
DeclaredValue = str | int | bool | list[str] | None
#: Its JSON Schema, as the check reads it (msgspec's own has no pattern for it).
DECLARED_VALUE_SCHEMA: dict[str, Any] = {
    "anyOf": [
        {"type": "string", "pattern": FREE_TEXT_PATTERN},
        {"type": "integer"},
        {"type": "boolean"},
        {"type": "array", "items": {"type": "string", "pattern": FREE_TEXT_PATTERN}},
        {"type": "null"},
    ]
}
Ident = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,79}$")]
#: The largest whole number a JSON client reads exactly (a JavaScript number: 2**53 - 1). Counts
#: and amounts beyond it would reach a regulator's dashboard changed, so they are refused.
LARGEST = 2**53 - 1
Count = Annotated[int, msgspec.Meta(ge=0, le=LARGEST)]


class Actor(msgspec.Struct, frozen=True, kw_only=True):
    """Who acts: a person's id, the role they act in, and (for applicants) their organisation."""

    id: str
    role: str
    organisation: str | None = None


class Command(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Base of every command. ``action`` is its snake_case name (``ReportMetrics`` is
    ``report_metrics``): the last segment of its HTTP route and its key in the role table."""

    action: ClassVar[str] = ""
    reason: OptionalText | None = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.action = re.sub(r"(?<!^)(?=[A-Z])", "_", cls.__name__).lower()


# -- applicant: drafting ---------------------------------------------------------------------


class CreateDraft(Command, frozen=True, kw_only=True):
    program_key: Ident
    title: Name
    app_type: Name
    lead_name: Name
    lead_kind: Literal["licensed_institution", "technology_company", "operator", "data_merchant", "other"]
    region: Name
    lead_licence_no: Name | None = None


class EditDraft(Command, frozen=True, kw_only=True):
    section: Section
    fields: dict[Ident, DeclaredValue]

    def __post_init__(self) -> None:
        for key, value in self.fields.items():
            fault = text_fault(value)
            if fault is not None:  # (msgspec adds nothing to the path of the command itself)
                raise ValueError(f"{fault} - at `$.{key_path('fields', key)}`")


class AddPartner(Command, frozen=True, kw_only=True):
    organisation: Ident
    name: Name
    role: PartnerRole
    licence_no: Name | None = None


class WithdrawPartner(Command, frozen=True, kw_only=True):
    organisation: Ident


class AttachDocument(Command, frozen=True, kw_only=True):
    kind: Ident
    sha256: Sha256
    title: Name
    holder: Ident | None = None
    issued_on: dt.date | None = None
    #: The stored file's size in bytes and media type (set by an upload; None: attached by hash).
    size: Count | None = None
    media_type: Annotated[str, msgspec.Meta(max_length=100)] | None = None


class Attest(Command, frozen=True, kw_only=True):
    statement: Ident
    organisation: Ident | None = None
    text: OptionalText = ""


class Submit(Command, frozen=True, kw_only=True):
    pass


class Withdraw(Command, frozen=True, kw_only=True):
    pass


class SupplyInformation(Command, frozen=True, kw_only=True):
    summary: Text


# -- regulator: review -----------------------------------------------------------------------


class AcceptIntake(Command, frozen=True, kw_only=True):
    pass


class RequestInformation(Command, frozen=True, kw_only=True):
    items: Annotated[list[Text], msgspec.Meta(min_length=1)]
    due_on: dt.date | None = None


class AssignCaseOfficer(Command, frozen=True, kw_only=True):
    officer: Ident


class FileAssessment(Command, frozen=True, kw_only=True):
    topic: Ident
    outcome: Literal["favourable", "unfavourable", "needs_work"]
    summary: Text
    sha256: Sha256 | None = None


class OpenPublicNotice(Command, frozen=True, kw_only=True):
    channel: Annotated[FreeText, msgspec.Meta(max_length=400)] = ""
    starts_on: dt.date | None = None


class Comment(Command, frozen=True, kw_only=True):
    text: Text


class Object(Command, frozen=True, kw_only=True):
    """An objection during the public notice. ``name`` and ``contact`` are required (an
    anonymous objection is refused naming them) and kept private: regulators and the auditor
    read them, the applicants and the public do not."""

    grounds: Text
    name: Name | None = None
    contact: Name | None = None


class DisposeObjection(Command, frozen=True, kw_only=True):
    objection_id: Ident
    outcome: Literal["upheld", "dismissed"]


class Recommend(Command, frozen=True, kw_only=True):
    """A case officer's recommendation, decided by approvers (four eyes). A termination or a
    revocation (a forced ending) names its ``category`` and needs a reason. A graduation may
    waive KPIs of the test plan that the reports did not attain (``waive_kpis``), with a reason."""

    decision: Decision
    exit_mode: Literal["voluntary", "forced"] | None = None
    category: Ident | None = None
    waive_kpis: list[Ident] = []


class Approve(Command, frozen=True, kw_only=True):
    decision: Decision


class WaiveCondition(Command, frozen=True, kw_only=True):
    condition_id: Ident


# -- testing ---------------------------------------------------------------------------------


class StartTest(Command, frozen=True, kw_only=True):
    started_on: dt.date | None = None


class ReportMetrics(Command, frozen=True, kw_only=True):
    period_start: dt.date
    period_end: dt.date
    metrics: dict[Ident, Count]
    kpis_met: list[Ident] = []
    occurred_at: Annotated[dt.datetime, msgspec.Meta(tz=True)] | None = None


class ReportIncident(Command, frozen=True, kw_only=True):
    """An incident's facts: its kind, day, consumer loss and, for an outage, its length in
    minutes. The severity is derived from them by the program's definition; a ``severity`` the
    reporter gives is recorded as what was reported, never used."""

    incident_id: Ident
    kind: Ident
    occurred_on: dt.date
    consumer_loss_yuan: Count = 0
    outage_minutes: Count | None = None
    severity: Severity | None = None
    description: OptionalText = ""


class ReclassifyIncident(Command, frozen=True, kw_only=True):
    """A regulator sets an incident's severity otherwise than its facts give, with a reason."""

    incident_id: Ident
    severity: Severity


class RemediateIncident(Command, frozen=True, kw_only=True):
    incident_id: Ident
    compensated: bool = True


class LogComplaint(Command, frozen=True, kw_only=True):
    complaint_id: Ident
    category: Ident
    received_on: dt.date


class RequestExtension(Command, frozen=True, kw_only=True):
    months: Annotated[int, msgspec.Meta(ge=1, le=24)]


class GrantExtension(Command, frozen=True, kw_only=True):
    pass


class RefuseExtension(Command, frozen=True, kw_only=True):
    pass


class Suspend(Command, frozen=True, kw_only=True):
    category: Ident


class Reinstate(Command, frozen=True, kw_only=True):
    pass


class DisposeBreach(Command, frozen=True, kw_only=True):
    """A regulator's disposition of a breach whose action is a review or a flag
    (``suspension_review``, ``delisting_review``, ``flag``), named by the position of its
    ``ThresholdBreached`` event, with a reason: ``no_action``, or ``suspend`` the test. A
    suspension review is disposed by two persons: proposed, then confirmed by an approver."""

    breach_position: Annotated[int, msgspec.Meta(ge=1, le=LARGEST)]
    outcome: Literal["no_action", "suspend"]


class SubmitFinalReport(Command, frozen=True, kw_only=True):
    sha256: Sha256
    summary: Text
    kpis_met: list[Ident] = []


class AcceptFinalReport(Command, frozen=True, kw_only=True):
    pass


class InitiateExit(Command, frozen=True, kw_only=True):
    """Voluntary (applicant; users told ahead) or forced (case officer; needs approval)."""

    mode: Literal["voluntary", "forced"]
    users_notified_on: dt.date | None = None
    planned_exit_on: dt.date | None = None


class ConfirmExit(Command, frozen=True, kw_only=True):
    pass


class RecordExternalFact(Command, frozen=True, kw_only=True):
    trigger: Ident
    on: dt.date
    detail: OptionalText = ""


# -- data assets: pledges and change registrations --------------------------------------------


class RegisterPledge(Command, frozen=True, kw_only=True):
    """Pledge a listed data asset (质押登记): the pledgee, the pledge registration number, and
    the valuation report it rests on (an attached ``valuation_report`` document, by its hash;
    default: the latest attached), no older than the program's limit on ``on``."""

    pledgee: Name
    registration_no: Name
    on: dt.date
    valuation_sha256: Sha256 | None = None


class ReleasePledge(Command, frozen=True, kw_only=True):
    """Release the outstanding pledge (质押解除): the asset stays registered and listed."""

    on: dt.date


class RealisePledge(Command, frozen=True, kw_only=True):
    """Record that the pledgee realised the outstanding pledge (质权实现)."""

    on: dt.date


class RegisterChange(Command, frozen=True, kw_only=True):
    """Register a change to the data asset (变更登记) before it takes effect on ``effective_on``."""

    description: Text
    effective_on: dt.date


# -- programs and reference data -------------------------------------------------------------


class PublishProgramVersion(Command, frozen=True, kw_only=True):
    definition: ProgramDefinition
    changes: list[Text] = []


class UpdateReferenceData(Command, frozen=True, kw_only=True):
    dataset: Literal["pilot_areas", "operators", "wallet_tiers", "holidays"]
    records: list[dict[str, Any]]
    changes: list[Text] = []


ProjectCommand = (
    CreateDraft
    | EditDraft
    | AddPartner
    | WithdrawPartner
    | AttachDocument
    | Attest
    | Submit
    | Withdraw
    | SupplyInformation
    | AcceptIntake
    | RequestInformation
    | AssignCaseOfficer
    | FileAssessment
    | OpenPublicNotice
    | Comment
    | Object
    | DisposeObjection
    | Recommend
    | Approve
    | WaiveCondition
    | StartTest
    | ReportMetrics
    | ReportIncident
    | RemediateIncident
    | ReclassifyIncident
    | LogComplaint
    | RequestExtension
    | GrantExtension
    | RefuseExtension
    | Suspend
    | Reinstate
    | DisposeBreach
    | SubmitFinalReport
    | AcceptFinalReport
    | InitiateExit
    | ConfirmExit
    | RecordExternalFact
    | RegisterPledge
    | ReleasePledge
    | RealisePledge
    | RegisterChange
)

PROJECT_COMMANDS: tuple[type[Command], ...] = typing.get_args(ProjectCommand)

#: action name -> command type, for every project command.
ACTIONS: dict[str, type[Command]] = {cmd.action: cmd for cmd in PROJECT_COMMANDS}
