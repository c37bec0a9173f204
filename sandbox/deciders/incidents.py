"""The decisions about incidents: their severity comes from their facts, by the program's
definition, never from the reporter; a regulator may reclassify one, with a reason.

Pure, like every decider: the functions take the command, the state and the context.
"""

from __future__ import annotations

from projections.project import ProjectState
from sandbox.deciders.context import Context, handles
from schemas import commands as c
from schemas import events as ev
from schemas.base import Event
from schemas.errors import DomainError
from schemas.events import Severity
from schemas.programs import IncidentSeverity, SeverityRule
from schemas.words import plural


def _basis(rule: SeverityRule, kind: str, loss_yuan: int, outage_minutes: int | None) -> str | None:
    """Which fact of the incident ``rule`` matches (None: it does not match)."""
    if kind in rule.kinds:
        return f"kind {kind}"
    if rule.consumer_loss and loss_yuan > 0:
        return f"consumer loss of {loss_yuan} yuan (fund loss)"
    limit = rule.outage_minutes_over
    if limit is not None and outage_minutes is not None and outage_minutes > limit:
        return f"outage of {plural(outage_minutes, 'minute')}, over {limit}"
    return None


def severity_of(
    definition: IncidentSeverity, kind: str, loss_yuan: int, outage_minutes: int | None
) -> tuple[Severity, str]:
    """An incident's severity by the program's definition, and the fact that decided it."""
    for rule in definition.rules:
        basis = _basis(rule, kind, loss_yuan, outage_minutes)
        if basis is not None:
            return _severity(rule.severity), basis
    return _severity(definition.default_severity), "no fact of a graver severity"


def _severity(value: int) -> Severity:
    if value == 1:
        return 1
    if value == 2:
        return 2
    return 3


def report_incident(command: c.ReportIncident, s: ProjectState, ctx: Context) -> list[Event]:
    if command.incident_id in {i.incident_id for i in s.incidents}:
        raise DomainError("duplicate_id", id=command.incident_id)
    severity, basis = severity_of(
        ctx.program.incident_severity, command.kind, command.consumer_loss_yuan, command.outage_minutes
    )
    return [
        ev.IncidentReported(
            incident_id=command.incident_id,
            severity=severity,
            kind=command.kind,
            occurred_on=command.occurred_on,
            consumer_loss_yuan=command.consumer_loss_yuan,
            description=command.description,
            outage_minutes=command.outage_minutes,
            reported_severity=command.severity,
            basis=basis,
        )
    ]


def reclassify_incident(command: c.ReclassifyIncident, s: ProjectState, ctx: Context) -> list[Event]:
    if not command.reason:
        raise DomainError("reason_required")
    incident = next((i for i in s.incidents if i.incident_id == command.incident_id), None)
    if incident is None:
        raise DomainError("unknown_incident", incident_id=command.incident_id)
    if incident.severity == command.severity:
        raise DomainError("severity_unchanged", incident_id=command.incident_id, severity=command.severity)
    return [
        ev.IncidentReclassified(
            incident_id=command.incident_id, severity=command.severity, previous=_severity(incident.severity)
        )
    ]


#: The decider of each command kind about incidents' severity.
DECIDERS = dict(
    [
        handles(c.ReportIncident, report_incident),
        handles(c.ReclassifyIncident, reclassify_incident),
    ]
)
