"""Stage gates: what an application needs before it is submitted, accepted and put on notice.

An incomplete application is returned for supplement (补正), never accepted (受理) or put on
notice (公示). Two gates, both pure and read from the program version's data:

- :func:`incomplete` (``submit``, ``accept_intake``): every admission condition whose ``stage``
  is ``submission`` (documents, attestations, declared fields: what the applicants alone can
  satisfy) is met, and every field an ``admission``-stage condition judges (a cap, a period, a
  pilot area, a wallet tier, a listed value) is declared. Whether a declared value is within
  the rule is the regulator's judgement at admission, which an approver may waive.
- :func:`missing_topics` (``open_public_notice``): the latest assessment of each topic the
  program requires is favourable.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from msgspec.structs import replace

from projections.project import ProjectState
from projections.rules import ReferenceView, RuleStatus, admission_checklist
from schemas import programs as p
from schemas.events import Value
from schemas.labels import fields_listed

#: The checks an applicant satisfies alone (its documents, attestations and declared fields): the
#: only ones a program may put at the ``submission`` stage.
APPLICANTS_OWN: frozenset[type[p.Params]] = frozenset({p.Documents, p.Attestation, p.Fields, p.LicensedLead})

#: check -> the declared fields an admission-stage condition of that check judges (the
#: applicant must have declared them before submitting; the judgement waits for admission).
#: A check not listed judges no declared field of its own (the notice, reference data about
#: the lead, an objection).
_JUDGED_FIELDS: dict[type[p.Params], Callable[[Any], tuple[str, ...]]] = {
    p.Caps: lambda x: (*x.maximum, *x.minimum),
    p.PeriodMax: lambda x: (x.start_field, x.end_field),
    p.PilotArea: lambda x: (x.field,),
    p.WalletTiers: lambda x: (x.tier_field,),
    p.AllowedValues: lambda x: (x.field,),
}


def _declared(state: ProjectState, name: str) -> Value:
    for section in ("boundaries", "statement", "test_plan", "product"):
        value = state.section(section).get(name)
        if value is not None and value != "" and value != []:
            return value
    return None


def incomplete(
    state: ProjectState, program: p.ProgramDefinition, ref: ReferenceView, today: dt.date
) -> list[RuleStatus]:
    """The conditions that keep the application from being submitted or accepted, each with
    what is missing in both languages (empty when it is complete)."""
    statuses = {s.id: s for s in admission_checklist(state, program, ref, today)}
    gaps: list[RuleStatus] = []
    for rule in program.admission:
        status = statuses[rule.id]
        if rule.stage == "submission":
            if status.status == "unmet":
                gaps.append(status)
            continue
        judged = _JUDGED_FIELDS.get(type(rule.params))
        absent = [f for f in judged(rule.params) if _declared(state, f) is None] if judged else []
        if absent:
            zh, en = fields_listed(absent)
            gaps.append(replace(status, status="unmet", missing_zh=f"未申报：{zh}", missing_en=f"not declared: {en}"))
    return gaps


def missing_topics(state: ProjectState, program: p.ProgramDefinition) -> list[p.AssessmentTopic]:
    """The required assessment topics whose latest assessment is not favourable (or absent)."""
    latest = {topic: outcome for topic, outcome, _ in state.assessments}
    return [t for t in program.assessment_topics if latest.get(t.id) != "favourable"]
