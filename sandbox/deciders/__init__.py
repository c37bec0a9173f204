"""The pure deciders of a project's commands: (command, state, context) -> events, or a refusal.

``project`` decides a command (and the timers): ``authority`` says who may send it in which
states, ``bounds`` which dates it may carry, and the decider of its kind, from the module of its
stage, says what it records: ``application``, ``review``, ``decisions`` (recommendations and
approvals), ``testing``, ``incidents`` (severity from the facts), ``exits``, and ``assets`` (a
data asset's pledges and change registrations). ``context`` holds what a decider is given and returns.
"""

from sandbox.deciders.application import PARTNER_WITHDRAWN
from sandbox.deciders.authority import LEAD_ONLY, RULES
from sandbox.deciders.bounds import declared_kind
from sandbox.deciders.context import Context, Decided, business_time, statement_hash
from sandbox.deciders.decisions import DECIDABLE, FORCED_ENDINGS, FOUR_EYES
from sandbox.deciders.project import DECIDERS, decide, tick

__all__ = [
    "DECIDABLE",
    "DECIDERS",
    "FORCED_ENDINGS",
    "FOUR_EYES",
    "LEAD_ONLY",
    "PARTNER_WITHDRAWN",
    "RULES",
    "Context",
    "Decided",
    "business_time",
    "decide",
    "declared_kind",
    "statement_hash",
    "tick",
]
