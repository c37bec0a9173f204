"""The stage gates' refusals: an incomplete application is neither submitted nor accepted (补正
first), a notice waits for a favourable assessment of each required topic, and an admission for
every condition met or waived. The rules themselves are in :mod:`projections.gates`."""

from __future__ import annotations

from projections.gates import incomplete, missing_topics
from projections.project import ProjectState
from projections.rules import RuleStatus
from sandbox.deciders.context import Context
from schemas.errors import DomainError


def unmet_refusal(code: str, unmet: list[RuleStatus]) -> DomainError:
    """A refusal listing every unmet condition with what is missing, in both languages."""
    return DomainError(
        code,
        conditions_zh="；".join(f"{u.id} {u.label_zh}（{u.missing_zh}）" for u in unmet),
        conditions_en="; ".join(f"{u.id} {u.label_en} ({u.missing_en})" for u in unmet),
        details=[
            {
                "id": u.id,
                "label_zh": u.label_zh,
                "label_en": u.label_en,
                "missing_zh": u.missing_zh,
                "missing_en": u.missing_en,
            }
            for u in unmet
        ],
    )


def complete(state: ProjectState, ctx: Context) -> None:
    """Refuse a submission or its acceptance while the application is incomplete."""
    gaps = incomplete(state, ctx.program, ctx.ref, ctx.today)
    if gaps:
        raise unmet_refusal("application_incomplete", gaps)


def assessed(state: ProjectState, ctx: Context) -> None:
    """Refuse the public notice until each topic the program requires is assessed favourably."""
    missing = missing_topics(state, ctx.program)
    if missing:
        raise DomainError(
            "assessment_missing",
            topics_zh="、".join(t.label_zh for t in missing),  # (each topic's id is in the details)
            topics_en=", ".join(t.label_en for t in missing),
            details=[{"topic": t.id, "label_zh": t.label_zh, "label_en": t.label_en} for t in missing],
        )
