"""The rows the read models hold, derived from a project's state or a decision's event (pure).

``project_row`` gives a project's rm_projects row, ``queue_rows`` its work-queue rows (the
register entry comes from :func:`projections.public.register_entry`), ``audit_values`` a
decision's rm_audit row and ``audit_entry`` that decision as the audit trail shows it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, NamedTuple

import msgspec

from events.model import RecordedEvent
from projections.project import INITIAL, ProjectState, Recommendation
from projections.public import public_applicants, queue_items
from projections.read_models.search import applicants_text
from schemas import events as ev
from schemas.base import Event
from schemas.lifecycle import STATE_LABELS
from schemas.programs import ProgramDefinition
from schemas.streams import PROJECT_PREFIX

#: Events that record a decision, for the audit trail.
DECISIONS: tuple[type[Event], ...] = (
    ev.ApplicationSubmitted,
    ev.ApplicationWithdrawn,
    ev.IntakeAccepted,
    ev.InformationRequested,
    ev.PublicNoticeOpened,
    ev.PublicNoticeClosed,
    ev.ObjectionDisposed,
    ev.RecommendationMade,
    ev.DecisionApproved,
    ev.ConditionWaived,
    ev.ProjectAdmitted,
    ev.ApplicationRejected,
    ev.ProjectGraduated,
    ev.TestStarted,
    ev.ExtensionGranted,
    ev.ExtensionRefused,
    ev.ThresholdBreached,
    ev.WarningIssued,
    ev.ProjectSuspended,
    ev.ProjectReinstated,
    ev.TestPeriodEnded,
    ev.FinalReportAccepted,
    ev.ExitInitiated,
    ev.ExitConfirmed,
    ev.ProjectTerminated,
    ev.ProjectRevoked,
)
DECISION_TYPES = frozenset(t.event_type for t in DECISIONS)


def iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day else None


def project_row(state: ProjectState) -> dict[str, Any]:
    """A project's rm_projects row: what the list of projects filters, sorts and shows."""
    zh, en = STATE_LABELS[state.state]
    latest = state.ledger.last.metrics if state.ledger.last is not None else {}
    return {
        "id": state.project_id,
        "program_key": state.program_key,
        "program_version": state.program_version,
        "title": state.title,
        "app_type": state.app_type,
        "state": state.state.value,
        "state_zh": zh,
        "state_en": en,
        "applicant": state.organisation,
        "lead_name": state.lead_name,
        "partners": msgspec.json.encode([p.organisation for p in state.partners if not p.withdrawn]).decode(),
        "region": state.region,
        "created_on": iso(state.created_on),
        "submitted_on": iso(state.submitted_on),
        "notice_starts": iso(state.notice_starts),
        "notice_ends": iso(state.notice_ends),
        "admitted_on": iso(state.admitted_on),
        "test_started_on": iso(state.test_started_on),
        "planned_end": iso(state.planned_end),
        "case_officer": state.case_officer,
        "version": state.version,
        "last_position": state.last_position,
        "latest_metrics": msgspec.json.encode(latest).decode(),
    }


#: The columns of rm_projects, in the order ``project_row`` gives them.
PROJECT_COLUMNS = tuple(project_row(INITIAL))


def queue_rows(state: ProjectState, program: ProgramDefinition | None) -> tuple[tuple[Any, ...], ...]:
    """A project's rm_queue rows: what waits for whom, and since when."""
    return tuple(
        (
            state.project_id,
            i.item,
            i.role,
            i.label_zh,
            i.label_en,
            iso(i.due_on),
            i.since_position,
            msgspec.json.encode(i.excluded).decode(),
        )
        for i in queue_items(state, program)
    )


def search_row(state: ProjectState) -> tuple[str, str, str]:
    """A project's rm_search row: its id, its title, and its applicants as one text."""
    return state.project_id, state.title, applicants_text(public_applicants(state))


_CHAINED = (
    ev.DecisionApproved,
    ev.ProjectAdmitted,
    ev.ApplicationRejected,
    ev.ProjectGraduated,
    ev.ExitInitiated,
    ev.ExitConfirmed,
)
#: A forced ending is the completion of its own recommendation only (an exit criterion may end a
#: project while another recommendation waits).
_ENDINGS: dict[type, str] = {ev.ProjectTerminated: "terminate", ev.ProjectRevoked: "revoke"}
_recommendation_encoder = msgspec.json.Encoder()


def audit_values(event: RecordedEvent[Event], pending: Recommendation | None) -> tuple[int, str, bytes | None]:
    """One decision as an rm_audit row: its position, its project, and for a decision that
    completes a recommendation (``pending``: the one open before the event), that recommendation
    (encoded)."""
    chain = None
    if pending is not None and (
        isinstance(event.payload, _CHAINED)
        or (
            _ENDINGS.get(type(event.payload)) == pending.decision
            and len(pending.approvers) >= pending.approvals_required
        )
    ):
        chain = _recommendation_encoder.encode(
            {
                "id": pending.recommendation_id,
                "decision": pending.decision,
                "recommender": pending.recommender,
                "approvers": pending.approvers,
                "position": pending.position,
                "waived_kpis": pending.waived_kpis,
                "waiver_reason": pending.reason if pending.waived_kpis else None,
            }
        )
    return event.position, event.stream_id.removeprefix(PROJECT_PREFIX), chain


def audit_entry(event: RecordedEvent[Event], project_id: str, recommendation: bytes | None) -> dict[str, Any]:
    """A decision as the audit trail shows it: who, in which role, when, under which rule version,
    why, and the chain of recommender and approvers where there is one."""
    meta = event.metadata
    detail: dict[str, Any] = {"payload": msgspec.to_builtins(event.payload)}
    if recommendation is not None:
        detail["recommendation"] = msgspec.json.decode(recommendation)
    return {
        "position": event.position,
        "project_id": project_id,
        "type": event.type,
        "actor": meta.actor,
        "role": meta.role,
        "organisation": meta.organisation,
        "occurred_at": meta.occurred_at.isoformat(),
        "recorded_at": event.recorded_at.isoformat(),
        "rule_version": meta.rule_version,
        "reason": meta.reason,
        "detail": detail,
    }


class Derived(NamedTuple):
    """The rows last written for a project: its rm_projects row, its register entry (encoded;
    None off the register), its queue rows, its rm_search row, and the version of its stored
    state."""

    row: tuple[Any, ...]
    entry: bytes | None
    queue: tuple[tuple[Any, ...], ...]
    search: tuple[str, str, str]
    stored: int


class Failure(msgspec.Struct, frozen=True, kw_only=True):
    """An event the read models could not fold (stage ``fold``: skipped), or a project whose rows
    could not be derived from its state (stage ``rows``: its rows are stale)."""

    position: int
    stage: str
    project_id: str
    type: str
    error: str

    @classmethod
    def of_fold(cls, event: RecordedEvent[Any], project_id: str, error: Exception) -> Failure:
        return cls(
            position=event.position,
            stage="fold",
            project_id=project_id,
            type=event.type,
            error=f"{type(error).__name__}: {error}",
        )
