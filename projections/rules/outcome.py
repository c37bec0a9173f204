"""What a rule evaluation gives (the status of a condition or criterion), what the rules need of
reference data, and the shape of a rule kind's check."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeVar

import msgspec

from schemas import programs as p
from schemas.reference import PilotArea

if TYPE_CHECKING:
    from projections.project import ProjectState

#: A rule's figures; the graduation criterion's ``kpis`` is a list, one entry per KPI (see
#: projections.kpis.KpiAttainment).
ProgressValue = int | str | list[dict[str, Any]] | None
Progress = dict[str, ProgressValue]


class ReferenceView(Protocol):
    """What the rules need of reference data (pilot areas, operators, tiers, the calendar)."""

    def add_working_days(self, start: dt.date, days: int) -> dt.date: ...

    def working_days_between(self, start: dt.date, end: dt.date) -> int: ...

    def is_pilot_area(self, code: str, on: dt.date) -> bool: ...

    def pilot_area(self, code: str) -> PilotArea | None: ...

    def is_operator(self, code: str, on: dt.date) -> bool: ...

    def tier_limits(self, tier: int) -> dict[str, int] | None: ...


#: What an evaluation found. Admission: ``met`` / ``unmet`` / ``waived``. Exit: ``ok`` /
#: ``warning`` / ``breached`` / ``remediated`` (a breach dealt with: remediated and the project
#: reinstated) / ``reached`` (a goal such as the end of the test period) / ``not_applicable``.
Status = Literal["met", "unmet", "waived", "ok", "warning", "breached", "remediated", "reached", "not_applicable"]


class Outcome(msgspec.Struct, frozen=True, kw_only=True):
    """What one check of a rule found: its status, the positions of the events it rests on, its
    figures, what is missing (both languages), the action a breach calls for, and a waiver."""

    status: Status
    evidence: tuple[int, ...] = ()
    progress: Progress = {}
    missing_zh: str = ""
    missing_en: str = ""
    action: p.Action = "none"
    waived_by: str | None = None
    waiver_reason: str | None = None


class RuleStatus(Outcome, frozen=True, kw_only=True):
    """The outcome of one admission condition or exit criterion, with the rule it is of: the
    one type the checklist, the exit criteria, the deciders and the views share."""

    id: str
    label_zh: str
    label_en: str
    kind: p.Kind


def status_of(rule: p.Rule, outcome: Outcome, **changes: Any) -> RuleStatus:
    """``outcome`` as the status of ``rule`` (with ``changes`` to its fields)."""
    fields = {name: getattr(outcome, name) for name in Outcome.__struct_fields__}
    return RuleStatus(id=rule.id, label_zh=rule.label_zh, label_en=rule.label_en, kind=rule.kind, **(fields | changes))


def met(*evidence: int, **progress: ProgressValue) -> Outcome:
    return Outcome(status="met", evidence=tuple(sorted(set(evidence))), progress=progress)


def unmet(zh: str, en: str, *evidence: int) -> Outcome:
    return Outcome(status="unmet", evidence=tuple(sorted(set(evidence))), missing_zh=zh, missing_en=en)


def ok(*evidence: int, **progress: ProgressValue) -> Outcome:
    return Outcome(status="ok", evidence=tuple(sorted(set(evidence))), progress=progress)


def breach(action: p.Action, *evidence: int, **progress: ProgressValue) -> Outcome:
    return Outcome(status="breached", action=action, evidence=tuple(sorted(set(evidence))), progress=progress)


#: What a rule of a kind its section has no check for is found to be (an admission condition
#: among the exit criteria, or the reverse), said in both languages: unmet among the admission
#: conditions (a regulator may waive it), not applicable among the exit criteria. Publishing
#: refuses such a version (``sandbox.deciders.catalog.misplaced_rules``), so only a version
#: stored before that refusal existed holds one; its projects are still read and decided on.
MISPLACED: dict[str, Outcome] = {
    "admission": Outcome(
        status="unmet",
        missing_zh="该规则不属于准入条件，未予审核",
        missing_en="not an admission condition: not checked",
    ),
    "exit": Outcome(
        status="not_applicable",
        missing_zh="该规则不属于退出标准，未予评估",
        missing_en="not an exit criterion: not evaluated",
    ),
}


P = TypeVar("P", bound=p.Params)

#: The check of one kind of admission condition: the state, the reference data and today in.
AdmissionCheck = Callable[[P, "ProjectState", ReferenceView, dt.date], Outcome]
#: The check of one kind of exit criterion: the state, its program and today in.
ExitCheck = Callable[[P, "ProjectState", p.ProgramDefinition, dt.date], Outcome]


def admission_check(kind: type[P], check: AdmissionCheck[P]) -> tuple[type[Any], AdmissionCheck[Any]]:
    """One row of the admission table: a kind of rule and its check (the type checker holds the
    check to the kind: it must take those parameters)."""
    return kind, check


def exit_check(kind: type[P], check: ExitCheck[P]) -> tuple[type[Any], ExitCheck[Any]]:
    """One row of the exit table: a kind of rule and its check."""
    return kind, check
