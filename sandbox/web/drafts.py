"""The step-by-step application: a draft's steps and its admission checklist, from the program.

A program declares what an application holds (its sections and their fields, see
:mod:`sandbox.web.sections`) and what admission asks for (its conditions, each with the
``stage`` at which it is first enforced). The draft editor shows one step per declared section,
then a step for the documents the conditions ask for and one for the attestations, and last the
submission; beside it, the checklist says for each condition whether it is met, at which stage it
counts and in which step the applicant meets it.

Submission is open when the domain's gate lets it through (:func:`projections.gates.incomplete`
is empty): the same function the ``submit`` decider refuses with (409 ``application_incomplete``),
so the page never offers what the registry would refuse, and a refusal still names its
conditions beside their steps. Everything here is pure: state, program, reference data and date
in, the editor's model out.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from projections.gates import incomplete
from projections.project import ProjectState
from projections.rules import ReferenceView, RuleStatus, admission_checklist
from sandbox.deciders import RULES
from sandbox.web.forms import Input
from sandbox.web.sections import SECTION_LABELS, section_inputs
from schemas import programs as p
from schemas.commands import Actor

StepKind = Literal["section", "documents", "attestations", "submit"]
DOCUMENTS = "documents"
ATTESTATIONS = "attestations"
SUBMIT = "submit"

#: step (other than a section) -> (Chinese, English)
STEP_LABELS: dict[str, tuple[str, str]] = {
    DOCUMENTS: ("申请材料", "Documents"),
    ATTESTATIONS: ("声明与承诺", "Attestations"),
    SUBMIT: ("核对并提交", "Review and submit"),
}
#: stage -> (Chinese, English): when a condition is first enforced.
STAGE_LABELS: dict[str, tuple[str, str]] = {
    "submission": ("提交前须满足", "needed before submission"),
    "admission": ("准入时审核", "judged at admission"),
}


@dataclass(frozen=True, slots=True)
class Step:
    """One step of the editor: a declared section with its inputs, or one of the fixed steps."""

    name: str
    kind: StepKind
    label_zh: str
    label_en: str
    inputs: tuple[Input, ...] = ()


@dataclass(frozen=True, slots=True)
class Condition:
    """One admission condition as the checklist shows it: its status, its stage, the step that
    meets it (None: the regulator's, such as the notice) and whether it keeps the application
    from being submitted (``gap``, with what is missing)."""

    status: RuleStatus
    stage: str
    step: str | None
    gap: RuleStatus | None


@dataclass(frozen=True, slots=True)
class Attestation:
    """A statement a condition asks the applicants to attest."""

    rule_id: str
    statement: str
    label_zh: str
    label_en: str


@dataclass(frozen=True, slots=True)
class Draft:
    """The editor of one draft: its steps, its checklist, what its documents and attestations
    steps ask for, and whether it may be submitted."""

    steps: tuple[Step, ...]
    conditions: tuple[Condition, ...]
    kinds: tuple[str, ...]
    attestations: tuple[Attestation, ...]

    def step(self, name: str) -> Step | None:
        return next((s for s in self.steps if s.name == name), None)

    def after(self, name: str) -> str:
        """The step that follows ``name`` (the last step is its own follower)."""
        names = [s.name for s in self.steps]
        return names[min(names.index(name) + 1, len(names) - 1)]

    def gaps(self, step: str | None = None) -> list[Condition]:
        """The conditions that keep the application from being submitted (of one step)."""
        return [c for c in self.conditions if c.gap is not None and (step is None or c.step == step)]

    @property
    def ready(self) -> bool:
        return not self.gaps()

    def first_open(self) -> str:
        """The first step with something missing, else the submission."""
        gaps = {c.step for c in self.gaps()}
        return next((s.name for s in self.steps if s.name in gaps), SUBMIT)

    def refused_by_step(self, errors: list[dict[str, Any]]) -> dict[str | None, list[dict[str, Any]]]:
        """A refusal's unmet conditions (``application_incomplete``'s errors) keyed by the step
        that meets each."""
        step_of = {c.status.id: c.step for c in self.conditions}
        keyed: dict[str | None, list[dict[str, Any]]] = {}
        for e in errors:
            keyed.setdefault(step_of.get(str(e.get("id", ""))), []).append(e)
        return keyed


def _holding(sections: Mapping[str, tuple[Input, ...]], *names: str) -> str | None:
    """The section whose form holds the first of ``names``."""
    for name in names:
        for section, inputs in sections.items():
            if any(i.name == name for i in inputs):
                return section
    return None


#: check -> the step where the applicant meets a condition of it (absent: none, the regulator's).
STEP_OF: dict[type[p.Params], Callable[[Any, Mapping[str, tuple[Input, ...]]], str | None]] = {
    p.Fields: lambda x, s: x.section if x.section in s else None,
    p.AllowedValues: lambda x, s: x.section if x.section in s else None,
    p.Caps: lambda x, s: _holding(s, *x.maximum, *x.minimum),
    p.PeriodMax: lambda x, s: _holding(s, x.start_field, x.end_field),
    p.PilotArea: lambda x, s: _holding(s, x.field),
    p.WalletTiers: lambda x, s: _holding(s, x.tier_field),
    p.Operator: lambda x, s: _holding(s, x.field),
    p.Documents: lambda x, s: DOCUMENTS,
    p.LicensedLead: lambda x, s: DOCUMENTS,
    p.Attestation: lambda x, s: ATTESTATIONS,
}

#: check -> the document kinds a condition of it asks for.
KINDS_OF: dict[type[p.Params], Callable[[Any], tuple[str, ...]]] = {
    p.Documents: lambda x: x.kinds,
    p.LicensedLead: lambda x: (x.document_kind,),
}


def editable(actor: Actor, state: ProjectState) -> bool:
    """Whether this actor may still change the draft (``edit_draft`` in its state)."""
    roles, states = RULES["edit_draft"]
    return actor.role in roles and state.state in states


def draft_of(state: ProjectState, program: p.ProgramDefinition, ref: ReferenceView, today: dt.date) -> Draft:
    """The editor of ``state``'s draft under ``program`` on ``today``."""
    sections = {name: tuple(inputs) for name, inputs in section_inputs(program).items()}
    statuses = {s.id: s for s in admission_checklist(state, program, ref, today)}
    gaps = {g.id: g for g in incomplete(state, program, ref, today)}
    conditions = []
    kinds: list[str] = []
    attestations = []
    for rule in program.admission:
        place = STEP_OF.get(type(rule.params))
        conditions.append(
            Condition(statuses[rule.id], rule.stage, place(rule.params, sections) if place else None, gaps.get(rule.id))
        )
        kinds_of = KINDS_OF.get(type(rule.params))
        kinds.extend(k for k in (kinds_of(rule.params) if kinds_of else ()) if k not in kinds)
        if isinstance(rule.params, p.Attestation):
            attestations.append(Attestation(rule.id, rule.params.statement, rule.label_zh, rule.label_en))
    placed = {c.step for c in conditions}
    steps = [Step(name, "section", *SECTION_LABELS[name], inputs) for name, inputs in sections.items()]
    fixed: tuple[tuple[str, StepKind], ...] = ((DOCUMENTS, "documents"), (ATTESTATIONS, "attestations"))
    steps += [Step(name, kind, *STEP_LABELS[name]) for name, kind in fixed if name in placed]
    steps.append(Step(SUBMIT, "submit", *STEP_LABELS[SUBMIT]))
    return Draft(tuple(steps), tuple(conditions), tuple(kinds), tuple(attestations))
