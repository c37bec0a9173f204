"""Program definitions: versioned rules as data.

A program version is published as an event and never edited. Each admission condition and exit
criterion has a stable id, a Chinese and an English label, a kind (what sort of rule it is) and
typed parameters: ``params`` is a tagged union whose tag ``check`` names the evaluation in
``projections/rules.py`` that decides it.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal, get_args

import msgspec

RuleId = Annotated[str, msgspec.Meta(pattern=r"^[a-z][a-z0-9_.]*$", max_length=64)]
Kind = Literal[
    "evidence_document",
    "attestation",
    "declared_boundary",
    "metric_threshold",
    "duration",
    "reference_data_check",
]
#: What a breached exit criterion does to the project.
Action = Literal[
    "none",
    "warning",
    "suspension",
    "suspension_review",
    "forced_exit",
    "termination",
    "closure",
    "revocation",
    "delisting_review",
    "flag",
    "final_evaluation",
]
Holders = Literal["lead", "each_applicant", "any_applicant"]
DayUnit = Literal["working", "calendar"]
#: When an admission condition is first enforced. ``submission``: the applicants alone can
#: satisfy it (their documents, attestations, declared fields), so ``submit`` and
#: ``accept_intake`` are refused while it is unmet (the application is returned for supplement,
#: 补正). ``admission``: the regulator judges it (a cap, a period, reference data, the notice),
#: so only the admission waits for it, and an approver may waive it.
Stage = Literal["submission", "admission"]


class _Params(msgspec.Struct, frozen=True, kw_only=True, tag_field="check", forbid_unknown_fields=True):
    pass


# -- admission checks -------------------------------------------------------------------------


class Documents(_Params, frozen=True, kw_only=True, tag="documents"):
    """Met when a document of every listed kind is attached (by the lead, or by each applicant).

    ``when_field``/``when_value``: the condition applies only if that declared field has that value
    (e.g. smart-contract templates only where smart contracts are used)."""

    kinds: tuple[str, ...]
    holders: Holders = "lead"
    max_age_months: int | None = None
    when_field: str | None = None
    when_value: str | bool | None = None


class Attestation(_Params, frozen=True, kw_only=True, tag="attestation"):
    """Met when the listed applicants attested ``statement`` (e.g. no violations in 3 years)."""

    statement: str
    holders: Holders = "each_applicant"
    lookback_years: int | None = None


class Fields(_Params, frozen=True, kw_only=True, tag="fields"):
    """Met when every ``required`` field of a declared section is present and non-empty, no
    field holds a value listed in ``forbidden``, and, where ``app_types`` is given, the draft's
    application type is one of them."""

    section: Literal["statement", "boundaries", "test_plan", "product"]
    required: tuple[str, ...]
    forbidden: dict[str, tuple[str, ...]] = {}
    app_types: tuple[str, ...] = ()
    when_field: str | None = None
    when_value: str | bool | None = None


class Caps(_Params, frozen=True, kw_only=True, tag="caps"):
    """Met when every capped boundary is declared and within its cap (``maximum``), and every
    ``minimum`` is reached."""

    maximum: dict[str, int] = {}
    minimum: dict[str, int] = {}


class LicensedLead(_Params, frozen=True, kw_only=True, tag="licensed_lead"):
    """Met when the lead applicant declares a financial licence number and attaches the licence;
    a technology company may only co-apply with a licensed lead."""

    document_kind: str = "financial_licence"


class Notice(_Params, frozen=True, kw_only=True, tag="notice"):
    """Met when the public notice ran its full length and closed with every objection disposed.

    With ``when_field``/``when_value`` the length applies only to such projects (e.g. 3 days for
    a listing, 10 working days for a public-data registration); the first notice rule that
    applies sets the notice length when it opens."""

    days: int
    unit: DayUnit = "working"
    when_field: str | None = None
    when_value: str | bool | None = None


class PeriodMax(_Params, frozen=True, kw_only=True, tag="period_max"):
    """Met when the declared start and end dates (ISO dates in the boundaries section) are at
    most ``months`` apart, end after start."""

    months: int
    start_field: str = "start_date"
    end_field: str = "end_date"


class PilotArea(_Params, frozen=True, kw_only=True, tag="pilot_area"):
    """Met when the declared location (boundaries ``field``, a pilot-area code) is an approved
    e-CNY pilot area on the submission date."""

    field: str = "pilot_area"


class Operator(_Params, frozen=True, kw_only=True, tag="operator"):
    """Met when the lead is a designated operator or names (statement ``field``, an operator
    code) the designated operator it connects through."""

    field: str = "operator"


class AllowedValues(_Params, frozen=True, kw_only=True, tag="allowed_values"):
    """Met when a declared field's value (or each value of a list) is in ``allowed``."""

    section: Literal["statement", "boundaries", "test_plan", "product"]
    field: str
    allowed: tuple[str, ...]


class WalletTiers(_Params, frozen=True, kw_only=True, tag="wallet_tiers"):
    """Met when the declared wallet tier (boundaries ``tier_field``) exists and the declared caps
    (``per_payment_cap_yuan``, ``daily_cap_yuan``, ``balance_cap_yuan``) stay within its limits."""

    tier_field: str = "wallet_tier"


class EffectiveFrom(_Params, frozen=True, kw_only=True, tag="effective_from"):
    """Met when a declared field applies only on or after ``date`` (e.g. 入表 from 2024-01-01)."""

    date: dt.date
    when_field: str
    when_value: str | bool


class NoOpenObjection(_Params, frozen=True, kw_only=True, tag="no_open_objection"):
    """Met when no objection and no ownership dispute is open."""


# -- exit criteria ----------------------------------------------------------------------------


class TestPeriod(_Params, frozen=True, kw_only=True, tag="test_period"):
    """The test ends at its planned end (at most ``max_months``) plus granted extensions: at
    most ``max_extensions`` of at most ``extension_months`` each, asked for at least
    ``request_days_before_end`` days before the end. The one place a program states these:
    every reader (the deciders, the timers, the exit checklist) takes them from this criterion
    through :meth:`ProgramDefinition.test_period`."""

    max_months: int
    max_extensions: int = 1
    extension_months: int = 6
    request_days_before_end: int = 30


class Kpi(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """How a KPI that a test plan may name (``test_plan.kpis``) is attained.

    ``metric`` is the reported metric it reads. ``kind`` says which figure counts:
    ``cumulative``, the figures of every period reported added up (the latest report of each
    period counting, as corrections replace what they correct); ``latest_period``, the figure of
    the latest period reported. The target is the whole number the test plan declares in
    ``target_field``, a floor (``at_least``) or a ceiling (``at_most``)."""

    label_zh: str
    label_en: str
    metric: str
    kind: Literal["cumulative", "latest_period"]
    target_field: str
    direction: Literal["at_least", "at_most"] = "at_least"


class Graduation(_Params, frozen=True, kw_only=True, tag="graduation"):
    """Graduation (出盒) needs the final report accepted and every KPI the admitted test plan names
    attained, as computed from the reported metrics against the plan's targets (``kpis`` says how
    each is computed; the applicant's own claim that a KPI is met counts for nothing), or waived
    with a reason in the graduation's recommendation, which two persons decide (four eyes). A
    KPI this version does not define cannot be computed: it is unmet until waived."""

    kpis: dict[str, Kpi] = {}


class Incidents(_Params, frozen=True, kw_only=True, tag="incidents"):
    """Incidents of ``severity``: ``suspend_at`` of them suspend, ``exit_at`` force exit, and one
    unremediated after ``remediation_days`` forces exit. ``None`` switches a threshold off (e.g.
    ``exit_at: null``: incidents suspend but never force exit by their number alone)."""

    severity: int = 1
    suspend_at: Annotated[int, msgspec.Meta(ge=1)] | None = 1
    exit_at: Annotated[int, msgspec.Meta(ge=1)] | None = 2
    remediation_days: int | None = 30
    kinds: tuple[str, ...] = ()


class ComplaintRate(_Params, frozen=True, kw_only=True, tag="complaint_rate"):
    """Complaints over ``per_mille`` per 1,000 active users within ``window_days``, or over
    ``max_total`` in all. A complaint logged one by one and also in a metrics report's
    ``complaints`` figure counts once (see ``projections.ledger.complaint_count``)."""

    per_mille: int
    window_days: int
    max_total: int | None = None
    action: Action = "suspension_review"


class CapBreach(_Params, frozen=True, kw_only=True, tag="cap_breach"):
    """A reported metric above its declared boundary: ``metric -> boundary field``."""

    caps: dict[str, str]
    action: Action = "suspension"


class MetricLimit(_Params, frozen=True, kw_only=True, tag="metric_limit"):
    """A reported metric summed (or averaged as a ratio) over a window breaches a limit.

    ``ratio_of``: the metric is divided by this one and compared in parts per ``scale``."""

    metric: str
    limit: int
    window_days: int
    ratio_of: str | None = None
    scale: int = 1
    action: Action = "suspension"


class Compensation(_Params, frozen=True, kw_only=True, tag="compensation"):
    """Consumer losses not compensated within ``days`` of the incident."""

    days: int
    action: Action = "forced_exit"


class ReportTimeliness(_Params, frozen=True, kw_only=True, tag="report_timeliness"):
    """A periodic report late by more than ``warning_days`` warns; ``suspension_days`` suspends."""

    warning_days: int
    suspension_days: int


class Dormancy(_Params, frozen=True, kw_only=True, tag="dormancy"):
    """No transaction (or trade) for ``days``: no metrics report with transactions or trades and
    no ``trade_made`` fact since the later of the test's start and the last activity. The timer
    records ``DormancyDetected``, the breach and ``action`` in one append."""

    days: int
    action: Action = "closure"


class ValuationAge(_Params, frozen=True, kw_only=True, tag="valuation_age"):
    """While pledged, a valuation report older than ``months``."""

    months: int
    action: Action = "flag"


class PledgeRealised(_Params, frozen=True, kw_only=True, tag="pledge_realised"):
    """A pledge realised (质权实现) by the pledgee: ``action`` follows. A pledge released only
    ends the encumbrance and is no exit at all."""

    action: Action = "closure"


class ChangeRegistration(_Params, frozen=True, kw_only=True, tag="change_registration"):
    """A material change (the fact ``material_change``) needs a change registration (变更登记)
    registered before it, effective on or before its day; each registration covers one change.
    A change without one (or the fact ``material_change_unregistered``) leads to ``action``."""

    action: Action = "suspension"


class ExternalEvent(_Params, frozen=True, kw_only=True, tag="external_event"):
    """Met by a recorded event of a listed ``trigger`` (e.g. licence lost, pilot area withdrawn,
    objection upheld, false materials, budget exhausted)."""

    triggers: tuple[str, ...]
    action: Action


class VoluntaryExit(_Params, frozen=True, kw_only=True, tag="voluntary_exit"):
    """The applicant tells users at least ``notice_days`` ahead; the regulator confirms."""

    notice_days: int = 30


#: The kinds of admission condition: what ``admission`` may hold, each checked by the admission
#: checklist (``projections.rules.admission``).
AdmissionParams = (
    Documents
    | Attestation
    | Fields
    | Caps
    | LicensedLead
    | Notice
    | PeriodMax
    | PilotArea
    | Operator
    | AllowedValues
    | WalletTiers
    | EffectiveFrom
    | NoOpenObjection
)
#: The kinds of exit criterion: what ``exit`` may hold, each checked by the exit criteria
#: (``projections.rules.exit``).
ExitParams = (
    TestPeriod
    | Graduation
    | Incidents
    | ComplaintRate
    | CapBreach
    | MetricLimit
    | Compensation
    | ReportTimeliness
    | Dormancy
    | ValuationAge
    | PledgeRealised
    | ChangeRegistration
    | ExternalEvent
    | VoluntaryExit
)
#: Every kind of rule. A rule reads as any kind wherever it is placed (so a stored version
#: replays as it was published); publishing refuses one placed in the other section (see
#: :data:`SECTION_KINDS`).
Params = AdmissionParams | ExitParams
#: The sections of a program version and the kinds of rule each holds.
SECTION_KINDS: dict[str, tuple[type[Params], ...]] = {
    "admission": get_args(AdmissionParams),
    "exit": get_args(ExitParams),
}


class Rule(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One admission condition or exit criterion. ``stage`` (admission conditions only): when
    the condition is first enforced (see :data:`Stage`); a version published before stages
    existed reads as ``admission`` throughout, so it has no submission gate."""

    id: RuleId
    label_zh: str
    label_en: str
    kind: Kind
    params: Params
    stage: Stage = "admission"


class AssessmentTopic(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A topic the regulator's assessors must find favourable before the public notice opens
    (``file_assessment`` with this ``topic``; the latest assessment of a topic counts)."""

    id: RuleId
    label_zh: str
    label_en: str


class Durations(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The clocks of a program. (The test period and its extensions are the ``test_period``
    exit criterion's, how late a report may be the ``report_timeliness`` criterion's; versions
    published when they were also kept here are upgraded on reading, see
    :mod:`schemas.upgrades`.)"""

    notice_days: int
    notice_unit: DayUnit = "working"
    report_cadence_days: int = 30
    #: Days a regulator has to dispose of a breach whose action is a review or a flag.
    breach_review_days: int = 10


class SeverityRule(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """How an incident's facts make its severity: an incident is of ``severity`` when its kind
    is one of ``kinds``, when it caused a consumer loss and ``consumer_loss`` says that counts
    (a fund loss), or when its outage lasted longer than ``outage_minutes_over``. The first rule
    that matches decides; an incident no rule matches is of the program's ``default_severity``."""

    severity: Annotated[int, msgspec.Meta(ge=1, le=3)]
    kinds: tuple[str, ...] = ()
    consumer_loss: bool = False
    outage_minutes_over: Annotated[int, msgspec.Meta(ge=0)] | None = None


class IncidentSeverity(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A program's definition of incident severity (see :class:`SeverityRule`): program data,
    stated by each version (the bundled ones: fund loss, data breach or an outage over 4 hours
    is severity 1; any other outage or security incident severity 2; the rest severity 3)."""

    rules: tuple[SeverityRule, ...]
    default_severity: Annotated[int, msgspec.Meta(ge=1, le=3)]


class PublicFields(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The declared fields of each section that the public register shows once the notice
    opens: the statement's public parts and the test boundaries, never a person's name or
    contact."""

    statement: tuple[str, ...] = ()
    boundaries: tuple[str, ...] = ()
    test_plan: tuple[str, ...] = ()
    product: tuple[str, ...] = ()

    def by_section(self) -> dict[str, tuple[str, ...]]:
        return {name: getattr(self, name) for name in self.__struct_fields__}


ProgramKind = Literal["fintech_sandbox", "ecny_pilot", "data_asset"]


class ProgramDefinition(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A whole program version: what a project binds to when it is submitted."""

    key: Annotated[str, msgspec.Meta(pattern=r"^[a-z][a-z0-9_-]*$")]
    version: Annotated[int, msgspec.Meta(ge=1)]
    kind: ProgramKind
    name_zh: str
    name_en: str
    effective_from: dt.date
    durations: Durations
    approvals_required: Annotated[int, msgspec.Meta(ge=1, le=3)] = 1
    admission: tuple[Rule, ...]
    exit: tuple[Rule, ...]
    legal_basis: str = ""
    #: How an incident's facts make its severity (versions published before severities were
    #: program data are upgraded to the definition they were read with, see schemas.upgrades).
    incident_severity: IncidentSeverity
    #: The assessment topics ``open_public_notice`` waits for (none in versions published
    #: before the gate existed).
    assessment_topics: tuple[AssessmentTopic, ...] = ()
    #: The declared fields the public register shows once the notice opens, by section (none in
    #: versions published before).
    public_fields: PublicFields = PublicFields()

    @property
    def ref(self) -> str:
        """``key@version``: how events name the rule version they used."""
        return f"{self.key}@{self.version}"

    def test_period(self) -> TestPeriod:
        """The rules of the test period: its longest length, the extensions and when they may
        be asked for: the program's ``test_period`` exit criterion (versions published when
        the durations held these values are upgraded to carry one, see :mod:`schemas.upgrades`).
        A version published without one reads :data:`DEFAULT_TEST_PERIOD`."""
        for rule in self.exit:
            if isinstance(rule.params, TestPeriod):
                return rule.params
        return DEFAULT_TEST_PERIOD


#: The test period of a program version that has no ``test_period`` criterion: 12 months and
#: one extension of at most 6, asked for 30 days before the end (the durations' defaults when
#: they held these values).
DEFAULT_TEST_PERIOD = TestPeriod(max_months=12)
