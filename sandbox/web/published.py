"""The public parts of a published statement as the register's entry page shows them.

A notice publishes, beside the statement's hash, the fields the program declares public
(``ProgramDefinition.public_fields``): the service description, the innovation, the consumer
benefit, the risk controls, the complaint channel and the test boundaries. The register entry
holds them as ``section -> field -> value``; this module gives each section and field its
bilingual label (the labels of the application form) and each value its reading in both
languages: a pilot area, an operator and a wallet tier by their names in the reference data, a
value of a closed list (a scenario, a product type) by its label, yes or no for a switch, one
item a line for a list.
"""

from __future__ import annotations

from typing import NamedTuple

from sandbox.web.sections import SECTION_LABELS, SECTIONS, field_label
from schemas.events import Value
from schemas.labels import value_label
from schemas.programs import PublicFields
from schemas.reference import ReferenceData


class Shown(NamedTuple):
    """One public field: its label and its value, each in Chinese and English."""

    name: str
    label_zh: str
    label_en: str
    value_zh: str
    value_en: str


class Part(NamedTuple):
    """One section of the public parts, with its fields in the program's order."""

    section: str
    label_zh: str
    label_en: str
    fields: tuple[Shown, ...]


def _named(reference: ReferenceData, field: str, value: Value) -> tuple[str, str] | None:
    """The reference data's names for a code it holds (pilot area, operator, wallet tier)."""
    if field == "pilot_area" and isinstance(value, str) and (area := reference.pilot_area(value)):
        return area.name_zh, area.name_en
    if field == "operator" and isinstance(value, str) and (operator := reference.operator(value)):
        return operator.name_zh, operator.name_en
    if field == "wallet_tier" and isinstance(value, int) and (tier := reference.tier(value)):
        return tier.name_zh, tier.name_en
    return None


def reading(reference: ReferenceData, field: str, value: Value) -> tuple[str, str]:
    """A declared value in Chinese and in English."""
    named = _named(reference, field, value)
    if named is not None:
        return named
    if isinstance(value, bool):
        return ("是", "yes") if value else ("否", "no")
    if value is None:
        return "—", "—"
    if isinstance(value, list):
        return "\n".join(value_label(v)[0] for v in value), "\n".join(value_label(v)[1] for v in value)
    if isinstance(value, int):
        return f"{value:,}", f"{value:,}"
    return value_label(value)  # (a value of a closed list by its label, any other as written)


def _order(names: list[str], declared: tuple[str, ...]) -> list[str]:
    """The program's declared order first, then any other field in the order published."""
    return [n for n in declared if n in names] + [n for n in names if n not in declared]


def public_parts(public: dict[str, dict[str, Value]], declared: PublicFields, reference: ReferenceData) -> list[Part]:
    """The sections of a statement's public parts, labelled, in the order the form shows them."""
    order = declared.by_section()
    sections = [s for s in SECTIONS if s in public] + [s for s in public if s not in SECTIONS]
    parts: list[Part] = []
    for section in sections:
        values = public[section]
        shown = tuple(
            Shown(name, *field_label(name), *reading(reference, name, values[name]))
            for name in _order(list(values), order.get(section, ()))
        )
        if shown:
            parts.append(Part(section, *SECTION_LABELS.get(section, (section, section)), shown))
    return parts
