"""Rule evaluation: the admission checklist and the exit criteria of a project.

One implementation serves everyone: the deciders refuse an admission with it, the policies
detect breaches with it, and the read models and as-of views show it. Every function is pure:
state, program, reference data and today's date in, statuses out.

``admission`` holds the checklist and ``exit`` the exit criteria, each a table of small checks
keyed by the kind of rule (the type of its parameters), ``declared`` what a project
declared as the rules read it, ``facts`` the outside facts they read, ``outcome`` what an
evaluation gives.
"""

from projections.rules.admission import ADMISSION_CHECKS, admission_checklist, unmet_conditions
from projections.rules.declared import applies, declared_period
from projections.rules.exit import (
    CADENCE_FIELD,
    EXIT_CHECKS,
    GOALS,
    exit_criteria,
    last_activity,
    next_report_due,
    report_cadence,
)
from projections.rules.facts import (
    FACTS_READ,
    designations_withdrawn,
    known_facts,
    outstanding_pledge,
    pledge_outstanding,
    unregistered_changes,
)
from projections.rules.outcome import Progress, ReferenceView, RuleStatus

__all__ = [
    "ADMISSION_CHECKS",
    "CADENCE_FIELD",
    "EXIT_CHECKS",
    "FACTS_READ",
    "GOALS",
    "Progress",
    "ReferenceView",
    "RuleStatus",
    "admission_checklist",
    "applies",
    "declared_period",
    "designations_withdrawn",
    "exit_criteria",
    "known_facts",
    "last_activity",
    "next_report_due",
    "outstanding_pledge",
    "pledge_outstanding",
    "report_cadence",
    "unmet_conditions",
    "unregistered_changes",
]
