"""The pure deciders of a project's commands: (command, state, context) -> events, or a refusal.

``authority`` says who may send each command in which states; ``context`` what a decision is
given and returns; ``bounds`` the dates a command may carry; ``decisions`` recommendations and
approvals; ``project`` decides a command and the timers.
"""

from sandbox.deciders.authority import LEAD_ONLY, RULES
from sandbox.deciders.bounds import declared_kind
from sandbox.deciders.context import Context, Decided, statement_hash
from sandbox.deciders.decisions import DECIDABLE, FORCED_ENDINGS, FOUR_EYES
from sandbox.deciders.project import PARTNER_WITHDRAWN, decide, tick

__all__ = [
    "DECIDABLE",
    "FORCED_ENDINGS",
    "FOUR_EYES",
    "LEAD_ONLY",
    "PARTNER_WITHDRAWN",
    "RULES",
    "Context",
    "Decided",
    "decide",
    "declared_kind",
    "statement_hash",
    "tick",
]
