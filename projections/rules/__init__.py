"""Rule evaluation: the admission checklist and the exit criteria of a project.

One implementation serves everyone: the deciders refuse an admission with it, the policies
detect breaches with it, and the read models and as-of views show it. Every function is pure:
state, program, reference data and today's date in, statuses out.

``admission`` holds the checklist, ``exit`` the exit criteria, ``declared`` what a project
declared as the rules read it, ``facts`` the outside facts they read, ``outcome`` what an
evaluation gives.
"""

from projections.rules.admission import admission_checklist, unmet_conditions
from projections.rules.declared import applies, declared_period
from projections.rules.exit import (
    CADENCE_FIELD,
    GOALS,
    complaint_count,
    exit_criteria,
    next_report_due,
    report_cadence,
    reported,
)
from projections.rules.facts import FACTS_READ, designations_withdrawn, known_facts, pledge_outstanding
from projections.rules.outcome import Progress, ReferenceView, RuleStatus

__all__ = [
    "CADENCE_FIELD",
    "FACTS_READ",
    "GOALS",
    "Progress",
    "ReferenceView",
    "RuleStatus",
    "admission_checklist",
    "applies",
    "complaint_count",
    "declared_period",
    "designations_withdrawn",
    "exit_criteria",
    "known_facts",
    "next_report_due",
    "pledge_outstanding",
    "report_cadence",
    "reported",
    "unmet_conditions",
]
