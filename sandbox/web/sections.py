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
from schemas import labels
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
    """A declared field's label in Chinese and English as a page heads it (the one source,
    ``schemas.labels.field_label``, the English starting with a capital)."""
    zh, en = labels.field_label(name)
    return zh, en[:1].upper() + en[1:]


def input_label(name: str) -> tuple[str, str]:
    """A declared field's label on its input: a field that holds several values says so."""
    zh, en = field_label(name)
    return (f"{zh}（每行一项）", f"{en} (one a line)") if name in LIST_FIELDS else (zh, en)


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
                *input_label(name),
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
