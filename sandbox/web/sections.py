"""The application form of a program: its sections and the fields each declares, from the rules.

A program declares what an application holds through its admission rules: the fields each section
must have (``fields``), the values a field may take (``allowed_values``), the declared caps
(``caps``), the test period's dates (``period_max``), the pilot area, operator and wallet tier.
The step-by-step draft form is built from that, so a new program version's fields appear on the
form with nothing else to change; each input's kind follows what the rules compute with (a cap is
a whole number, a switch that turns a rule on is yes or no, KPIs are a list).
"""

from __future__ import annotations

from typing import Any

from sandbox.web.forms import Input
from schemas.programs import (
    AllowedValues,
    Caps,
    Documents,
    Fields,
    Notice,
    Operator,
    PeriodMax,
    PilotArea,
    ProgramDefinition,
    WalletTiers,
)

#: declared field -> (Chinese, English)
FIELD_LABELS: dict[str, tuple[str, str]] = {
    "service_description": ("服务描述", "Service description"),
    "innovation_claim": ("创新性说明（首发首创）", "Innovation claim"),
    "comparables": ("可比产品（每行一项）", "Comparables (one a line)"),
    "expected_benefit": ("预期效果（普惠）", "Expected benefit"),
    "consumer_benefit": ("消费者权益与受益", "Consumer benefit"),
    "channels": ("服务渠道（每行一项）", "Channels (one a line)"),
    "user_scope": ("用户范围", "User scope"),
    "planned_test_period": ("计划测试期", "Planned test period"),
    "risk_controls": ("风险防控措施", "Risk controls"),
    "complaint_channel": ("投诉渠道", "Complaint channel"),
    "complaint_contact": ("投诉联系人", "Complaint contact"),
    "exit_plan": ("退出方案", "Exit plan"),
    "max_users": ("最大用户数", "Maximum users"),
    "per_user_exposure_cap_yuan": ("单户风险敞口上限（元）", "Per-user exposure cap (yuan)"),
    "total_exposure_cap_yuan": ("总风险敞口上限（元）", "Total exposure cap (yuan)"),
    "service_channels": ("服务渠道代码（每行一项）", "Service channels (one a line)"),
    "service_region": ("服务地区", "Service region"),
    "start_date": ("开始日期", "Start date"),
    "end_date": ("结束日期", "End date"),
    "objectives": ("测试目标", "Objectives"),
    "kpis": ("KPI（每行一项）", "KPIs (one a line)"),
    "reporting_cadence_days": ("报告周期（天）", "Reporting cadence (days)"),
    "operator": ("对接运营机构", "Operator"),
    "scenario": ("应用场景", "Scenario"),
    "kyc_responsible": ("KYC 责任机构", "KYC responsible"),
    "aml_responsible": ("反洗钱责任机构", "AML responsible"),
    "uses_smart_contracts": ("使用智能合约", "Uses smart contracts"),
    "pilot_area": ("试点地区", "Pilot area"),
    "wallet_tier": ("钱包等级", "Wallet tier"),
    "per_payment_cap_yuan": ("单笔支付上限（元）", "Per-payment cap (yuan)"),
    "daily_cap_yuan": ("日累计上限（元）", "Daily cap (yuan)"),
    "balance_cap_yuan": ("余额上限（元）", "Balance cap (yuan)"),
    "acceptance_points": ("受理网点数", "Acceptance points"),
    "runs_campaign": ("开展营销活动", "Runs a campaign"),
    "campaign_budget_yuan": ("活动预算（元）", "Campaign budget (yuan)"),
    "campaign_start_date": ("活动开始日期", "Campaign start"),
    "campaign_end_date": ("活动结束日期", "Campaign end"),
    "transactions_target": ("交易笔数目标", "Transactions target"),
    "wallets_opened_target": ("开立钱包目标", "Wallets opened target"),
    "merchants_live_target": ("上线商户目标", "Merchants live target"),
    "classification": ("数据分类", "Classification"),
    "grade": ("数据分级", "Grade"),
    "personal_information": ("个人信息", "Personal information"),
    "use_scenarios": ("应用场景（每行一项）", "Use scenarios (one a line)"),
    "product_type": ("产品形态", "Product type"),
    "description": ("产品描述", "Description"),
    "update_frequency": ("更新频率", "Update frequency"),
    "delivery_method": ("交付方式", "Delivery method"),
    "public_data": ("公共数据", "Public data"),
    "balance_sheet_recognition": ("数据资产入表", "Balance-sheet recognition"),
    "accounting_class": ("会计科目", "Accounting class"),
    "pledged": ("质押", "Pledged"),
    "pledge_registration_no": ("质押登记号", "Pledge registration no."),
    "existing_pledge": ("既有质押", "Existing pledge"),
}

SECTIONS = ("statement", "boundaries", "product", "test_plan")
SECTION_LABELS: dict[str, tuple[str, str]] = {
    "statement": ("创新应用声明书", "Innovation statement"),
    "boundaries": ("测试边界", "Test boundaries"),
    "product": ("数据产品", "Data product"),
    "test_plan": ("测试计划", "Test plan"),
}
#: Fields that hold several values (one a line on the form).
LIST_FIELDS = frozenset({"kpis", "channels", "comparables", "service_channels", "use_scenarios", "kpis_met"})
#: The declared caps a wallet tier bounds (``schemas.reference.WalletTier.limits``).
WALLET_CAPS = ("per_payment_cap_yuan", "daily_cap_yuan", "balance_cap_yuan")
#: Name endings of whole numbers (amounts, counts, targets, days).
NUMBER_ENDINGS = ("_yuan", "_target", "_days", "_tier", "_points", "_users", "_count", "_months")


def field_label(name: str) -> tuple[str, str]:
    """A declared field's label in Chinese and English (a field the table lacks reads as its name)."""
    return FIELD_LABELS.get(name, (name, name.replace("_", " ")))


def _kind(name: str, numbers: set[str], switches: set[str]) -> str:
    if name in switches:
        return "yesno"
    if name in LIST_FIELDS:
        return "lines"
    if name in numbers or name.endswith(NUMBER_ENDINGS) or name == "max_users":
        return "number"
    if name.endswith("_date"):
        return "date"
    return "text"


def section_inputs(program: ProgramDefinition) -> dict[str, list[Input]]:
    """Each section the program declares, with its fields in the order the rules name them."""
    fields: dict[str, list[str]] = {}
    choices: dict[str, tuple[str, ...]] = {}
    required: set[str] = set()
    numbers: set[str] = set()
    switches: set[str] = set()
    unplaced: list[str] = []

    def add(section: str, name: str) -> None:
        names = fields.setdefault(section, [])
        if name not in names:
            names.append(name)

    for rule in program.admission:
        p = rule.params
        if isinstance(p, Fields):
            if p.when_field:
                add(p.section, p.when_field)
                if isinstance(p.when_value, bool):
                    switches.add(p.when_field)
            for name in p.required:
                add(p.section, name)
                if not p.when_field:
                    required.add(name)
        elif isinstance(p, AllowedValues):
            add(p.section, p.field)
            choices[p.field] = p.allowed
            required.add(p.field)
        elif isinstance(p, Caps):
            for name in (*p.maximum, *p.minimum):
                add("boundaries", name)
                numbers.add(name)
        elif isinstance(p, PeriodMax):
            add("boundaries", p.start_field)
            add("boundaries", p.end_field)
            required.update((p.start_field, p.end_field))
        elif isinstance(p, PilotArea):
            add("boundaries", p.field)
            required.add(p.field)
        elif isinstance(p, WalletTiers):
            add("boundaries", p.tier_field)
            numbers.add(p.tier_field)
            for name in WALLET_CAPS:
                add("boundaries", name)
        elif isinstance(p, Operator):
            add("statement", p.field)
        elif isinstance(p, Documents | Notice) and p.when_field and isinstance(p.when_value, bool):
            switches.add(p.when_field)
            unplaced.append(p.when_field)
    for name in unplaced:  # a switch no section names: the statement holds it
        if not any(name in names for names in fields.values()):
            add("statement", name)
    out: dict[str, list[Input]] = {}
    for section in SECTIONS:
        if section not in fields:
            continue
        out[section] = [
            Input(
                name,
                "select" if name in choices else _kind(name, numbers, switches),
                *field_label(name),
                name in required,
                choices.get(name, ("true", "false") if name in switches else ()),
            )
            for name in fields[section]
        ]
        for i, item in enumerate(out[section]):
            if item.widget == "yesno":
                out[section][i] = Input(item.name, "select", item.label_zh, item.label_en, False, ("true", "false"))
    return out


def section_values(inputs: list[Input], form: dict[str, str]) -> dict[str, Any]:
    """The fields of an ``edit_draft`` from a section's form: an empty input clears the field
    (``null``), a number is a whole number where it reads as one, yes or no is true or false."""
    values: dict[str, Any] = {}
    for i in inputs:
        if i.name not in form:
            continue
        raw = form[i.name].strip()
        if raw == "":
            values[i.name] = None
        elif i.widget == "lines":
            values[i.name] = [line.strip() for line in raw.splitlines() if line.strip()]
        elif i.widget == "number":
            values[i.name] = int(raw) if raw.lstrip("-").isdigit() else raw
        elif i.choices == ("true", "false"):
            values[i.name] = raw == "true"
        else:
            values[i.name] = raw
    return values


def shown(value: Any) -> str:
    """A declared value as its input shows it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return "\n".join(str(v) for v in value)
    return str(value)
