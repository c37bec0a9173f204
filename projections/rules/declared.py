"""What a project declared, as the rules read it: its fields from any section, its test period, conditional rules."""

from __future__ import annotations

import datetime as dt

from projections.project import ProjectState
from schemas import programs as p
from schemas.dates import parse_date
from schemas.events import Value


def filled(value: Value) -> bool:
    return value is not None and value != "" and value != []


def declared_value(state: ProjectState, field: str) -> Value:
    """A declared field from any section (boundaries first)."""
    for name in ("boundaries", "statement", "test_plan", "product"):
        section = state.section(name)
        if field in section:
            return section[field]
    return None


def declared_period(state: ProjectState, program: p.ProgramDefinition) -> tuple[dt.date | None, dt.date | None]:
    """The test period a project declared (the fields of its program's ``period_max`` rule): its
    start and end, each None when undeclared or not a date, or both None when the program has no
    declared period or the declared end is not after the start."""
    for rule in program.admission:
        if isinstance(rule.params, p.PeriodMax):
            params = rule.params
            start = parse_date(declared_value(state, params.start_field))
            end = parse_date(declared_value(state, params.end_field))
            if start is not None and end is not None and end <= start:
                return None, None  # (a period that ends before it begins declares none: a waiver admits it)
            return start, end
    return None, None


def applies(state: ProjectState, when_field: str | None, when_value: str | bool | None) -> bool:
    """Whether a conditional rule applies: the declared field holds (or lists) the value."""
    if when_field is None:
        return True
    value = declared_value(state, when_field)
    if isinstance(value, list):
        return when_value in value
    return value == when_value


def holders_of(state: ProjectState, holders: p.Holders) -> list[str]:
    return [state.organisation] if holders == "lead" else state.applicants()
