"""Complete sample applications, one per bundled program, written once.

The demo, the synthetic generator and the tests fill applications the same way: each function
here returns the commands that make a draft complete for its program (every condition whose
``stage`` is ``submission`` met, every judged field declared, so ``submit`` and
``accept_intake`` pass), grouped in sittings (what one person does at one time), each command
marked with who sends it: the ``lead`` applicant or the ``partner``.

Values are those of a plausible Fuzhou application; a caller overrides any declared field
(``statement={"max_users": 12_000}``; ``None`` leaves a field out) and names its partner. The
field names are those each program's rules read (``schemas/programs/*.json``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

from schemas import commands as c
from schemas.events import PartnerRole, Section, Value

Fields = Mapping[str, Value]
By = Literal["lead", "partner"]
#: No overrides.
NOTHING: Fields = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class Step:
    """One command of an application and who sends it."""

    by: By
    command: c.Command


Sitting = list[Step]


@dataclass(frozen=True, slots=True)
class Partner:
    """A partner the lead adds to the application."""

    organisation: str
    name: str
    role: PartnerRole = "technology_partner"
    licence_no: str | None = None


@dataclass(frozen=True, slots=True)
class Papers:
    """How documents are named: ``sha256`` of ``tag`` + kind, the title ``prefix`` + kind (so
    that two projects' documents differ when the caller wants them to)."""

    tag: str = ""
    prefix: str = ""

    def attach(self, kind: str, issued_on: dt.date | None = None) -> Step:
        digest = hashlib.sha256(f"{self.tag}{kind}".encode()).hexdigest()
        return Step(
            "lead", c.AttachDocument(kind=kind, sha256=digest, title=f"{self.prefix}{kind}", issued_on=issued_on)
        )


#: Documents named by their kind alone (hash of the kind, the kind as title).
PLAIN = Papers()


def _merge(defaults: Fields, overrides: Fields) -> dict[str, Value]:
    merged = {**defaults, **overrides}
    return {k: v for k, v in merged.items() if v is not None}


def _edit(section: Section, fields: Fields) -> Step:
    return Step("lead", c.EditDraft(section=section, fields=dict(fields)))


def _join(partner: Partner | None, *, attest: bool) -> Sitting:
    if partner is None:
        return []
    added = c.AddPartner(
        organisation=partner.organisation, name=partner.name, role=partner.role, licence_no=partner.licence_no
    )
    return [Step("lead", added), *([Step("partner", c.Attest(statement="no_violations"))] if attest else [])]


FINTECH_DOCUMENTS = (
    "financial_licence",
    "internal_audit_opinion",
    "external_legal_assessment",
    "security_assessment",
    "personal_financial_information_assessment",
    "risk_compensation_plan",
    "emergency_plan",
    "service_exit_plan",
)


def fintech(
    start: dt.date,
    end: dt.date,
    *,
    partner: Partner | None = None,
    statement: Fields = NOTHING,
    boundaries: Fields = NOTHING,
    test_plan: Fields = NOTHING,
    papers: Papers = PLAIN,
) -> list[Sitting]:
    """A fintech sandbox application: the innovation statement, the test boundaries from
    ``start`` to ``end``, the test plan, the licence and the assessments and plans the program
    asks for, the lead's attestation of no violations, and the partner's."""
    sittings = [
        [
            _edit(
                "statement",
                _merge(
                    {
                        "service_description": "基于供应链数据的小微企业信用贷款",
                        "innovation_claim": "首发：以发票与物流数据替代抵押",
                        "comparables": ["传统抵押贷款"],
                        "expected_benefit": "降低小微企业融资成本",
                        "consumer_benefit": "审批时间由 7 天缩短至 1 天",
                        "channels": ["手机银行"],
                        "user_scope": "福州市小微企业",
                        "planned_test_period": "12 个月",
                        "risk_controls": "单户限额、风险补偿金",
                        "complaint_channel": "95555 热线",
                        "complaint_contact": "王经理",
                        "exit_plan": "存量贷款到期结清",
                    },
                    statement,
                ),
            )
        ],
        [
            _edit(
                "boundaries",
                _merge(
                    {
                        "max_users": 5000,
                        "per_user_exposure_cap_yuan": 500_000,
                        "total_exposure_cap_yuan": 200_000_000,
                        "service_channels": ["mobile_banking"],
                        "service_region": "福州市",
                        "start_date": start.isoformat(),
                        "end_date": end.isoformat(),
                    },
                    boundaries,
                ),
            ),
            _edit(
                "test_plan",
                _merge(
                    {
                        "objectives": "验证数据增信模型",
                        "kpis": ["approval_time", "default_rate"],
                        "approval_time_target": 48,
                        "default_rate_target": 30,
                        "reporting_cadence_days": 30,
                    },
                    test_plan,
                ),
            ),
        ],
        [
            *(papers.attach(kind) for kind in FINTECH_DOCUMENTS),
            Step("lead", c.Attest(statement="no_violations", text="近三年无违法违规记录")),
        ],
    ]
    return _nonempty([*sittings, _join(partner, attest=True)])


def ecny(
    start: dt.date,
    end: dt.date,
    *,
    partner: Partner | None = None,
    statement: Fields = NOTHING,
    boundaries: Fields = NOTHING,
    test_plan: Fields = NOTHING,
    campaign_days: int = 30,
    papers: Papers = PLAIN,
) -> list[Sitting]:
    """An e-CNY pilot application: a Fuzhou bank connecting through a designated operator
    (cib), tier-4 wallets within the tier's caps, acceptance points and a metrics plan. With
    ``boundaries={"runs_campaign": True}`` a campaign budget and window of ``campaign_days``
    from ``start`` are declared; with ``statement={"uses_smart_contracts": True}`` the
    contract template is attached."""
    declared = _merge(
        {
            "scenario": "transport_tolls",
            "operator": "cib",
            "kyc_responsible": "fzbank",
            "aml_responsible": "fzbank",
            "uses_smart_contracts": False,
        },
        statement,
    )
    limits = _merge(
        {
            "pilot_area": "fuzhou",
            "wallet_tier": 4,
            "per_payment_cap_yuan": 2_000,
            "daily_cap_yuan": 5_000,
            "balance_cap_yuan": 10_000,
            "acceptance_points": 12,
            "start_date": start.isoformat(),
            "end_date": end.isoformat(),
            "runs_campaign": False,
        },
        boundaries,
    )
    if limits.get("runs_campaign") is True:
        limits = _merge(
            {
                "campaign_budget_yuan": 3_000_000,
                "campaign_start_date": start.isoformat(),
                "campaign_end_date": (start + dt.timedelta(days=campaign_days)).isoformat(),
            },
            limits,
        )
    plan = _merge(
        {
            "kpis": ["transactions", "wallets_opened"],
            "transactions_target": 100_000,
            "wallets_opened_target": 20_000,
            "merchants_live_target": 12,
            "reporting_cadence_days": 30,
        },
        test_plan,
    )
    contracts = [papers.attach("smart_contract_template")] if declared.get("uses_smart_contracts") is True else []
    return _nonempty(
        [
            [_edit("statement", declared)],
            [_edit("boundaries", limits), _edit("test_plan", plan)],
            contracts,
            _join(partner, attest=False),
        ]
    )


#: The draft a sample project is created with (a bank's, for the fintech sandbox and the e-CNY
#: pilots): its title, type, applicant and region.
DRAFT: Mapping[str, Value] = MappingProxyType(
    {
        "title": "小微企业智能信贷服务",
        "app_type": "金融服务",
        "lead_name": "福州示范银行",
        "lead_kind": "licensed_institution",
        "region": "福州",
        "lead_licence_no": "B0001H235010001",
    }
)

#: The draft a sample data asset is created with: its title, type, applicant and region.
DATA_ASSET_DRAFT: Mapping[str, Value] = MappingProxyType(
    {
        "title": "港口物流数据产品",
        "app_type": "数据集",
        "lead_name": "福州数据商",
        "lead_kind": "data_merchant",
        "region": "福州",
        "lead_licence_no": None,
    }
)

DATA_ASSET_DOCUMENTS = (
    "business_licence",
    "data_merchant_registration",
    "data_source_statement",
    "source_authorisation",
    "third_party_compliance_assessment",
    "venue_compliance_review",
    "data_quality_assessment",
)
#: Where personal information is present: consent, anonymisation and the PIPL impact assessment.
PERSONAL_INFORMATION_DOCUMENTS = ("personal_information_consent", "anonymisation_report", "pipl_impact_assessment")


def data_asset(
    *,
    partner: Partner | None = None,
    product: Fields = NOTHING,
    test_plan: Fields = NOTHING,
    valued_on: dt.date | None = None,
    pledge_registration_no: str = "ZY202500001",
    papers: Papers = PLAIN,
) -> list[Sitting]:
    """A data-asset application by a registered data merchant: its entity, source and
    assessment documents, the product description and the KPIs. The documents follow what the
    product declares: consent and anonymisation where ``personal_information`` is ``present``,
    the auditor's sign-off (and an accounting class) for balance-sheet recognition, and for a
    pledge a valuation report issued on ``valued_on`` and the pledge's registration number."""
    declared = _merge(
        {
            "product_type": "dataset",
            "public_data": True,
            "description": "福州港集装箱物流时效数据集",
            "update_frequency": "daily",
            "delivery_method": "api",
            "use_scenarios": ["supply_chain_finance"],
            "classification": "transport",
            "grade": "general",
            "personal_information": "absent",
            "balance_sheet_recognition": False,
            "pledged": False,
        },
        product,
    )
    kinds: list[str] = list(DATA_ASSET_DOCUMENTS)
    if declared.get("personal_information") == "present":
        kinds += PERSONAL_INFORMATION_DOCUMENTS
    if declared.get("balance_sheet_recognition") is True:
        declared = _merge({"accounting_class": "intangible_asset"}, declared)
        kinds.append("auditor_sign_off")
    pledge: Sitting = []
    if declared.get("pledged") is True:
        if valued_on is None:
            raise ValueError("a pledged data asset needs the valuation report's date (valued_on)")
        pledge = [
            papers.attach("valuation_report", issued_on=valued_on),
            _edit("product", {"pledge_registration_no": pledge_registration_no, "existing_pledge": "none"}),
        ]
    return _nonempty(
        [
            [papers.attach(kind) for kind in kinds[:4]],
            [papers.attach(kind) for kind in kinds[4:]],
            [
                _edit("product", declared),
                _edit(
                    "test_plan",
                    _merge({"kpis": ["trades", "buyers"], "trades_target": 100, "buyers_target": 5}, test_plan),
                ),
            ],
            pledge,
            _join(partner, attest=False),
        ]
    )


def _nonempty(sittings: Iterable[Sitting]) -> list[Sitting]:
    return [s for s in sittings if s]


def steps(sittings: Iterable[Sitting]) -> list[Step]:
    """Every step of an application, in order (for callers that do it in one sitting)."""
    return [step for sitting in sittings for step in sitting]
