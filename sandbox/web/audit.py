"""The audit page's explanation of a decision: the rules it was taken under, with their outcomes.

The explanation is the API's (``GET /api/v1/audit/decisions/{position}``,
``projections.views.explain``): the rule version, the states before and after, the chain of
recommender and approvers, and the admission checklist and exit criteria as they stood. The page
shows the rules that judged the decision: the admission checklist for one taken before admission,
the exit criteria for one taken after.
"""

from __future__ import annotations

from typing import Any, Literal, NamedTuple

from events.store import EventStore
from projections.catalog import Catalog
from projections.rules import RuleStatus
from projections.views import Explanation, explain
from schemas.lifecycle import PRE_ADMISSION, State

Stage = Literal["admission", "exit"]
#: The outcomes that count as a rule satisfied.
SATISFIED = frozenset({"met", "waived", "ok", "reached", "not_applicable", "remediated"})


class Explained(NamedTuple):
    """A decision's explanation and the rules that judged it."""

    explanation: Explanation
    stage: Stage
    rules: list[RuleStatus]

    @property
    def met(self) -> int:
        return sum(1 for r in self.rules if r.status in SATISFIED)


def explained(store: EventStore, catalog: Catalog, decision: dict[str, Any]) -> Explained | None:
    """One row of the audit trail explained (None if its position holds no project event)."""
    found = explain(store, catalog, int(decision["position"]))
    if found is None:
        return None
    if State(found.state_before) in PRE_ADMISSION:
        return Explained(found, "admission", found.admission)
    return Explained(found, "exit", found.exit)
