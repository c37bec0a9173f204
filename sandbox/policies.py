"""Threshold policies and timers, decided purely from state, program, reference data and time.

A report that crosses an exit criterion records the breach and its consequence in the same
append as the report; ``tick`` records every timer that has come due. Both use the one rule
evaluation in ``projections.rules``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import assert_never, get_args

from events.model import RecordedEvent
from projections.project import ProjectState, evolve
from projections.rules import (
    GOALS,
    ReferenceView,
    RuleStatus,
    designations_withdrawn,
    exit_criteria,
    known_facts,
    last_activity,
    next_report_due,
    report_cadence,
)
from schemas import events as ev
from schemas.base import Event, EventMetadata
from schemas.lifecycle import IN_TEST, TERMINAL, State
from schemas.programs import Action, Dormancy, ProgramDefinition, ReportTimeliness
from schemas.tables import every_kind

#: How strong each action of a breach is: the strongest wins when several criteria are crossed at
#: once; 0 is no consequence at all (a goal's action, or none). Every action has its rank (a new
#: one without stops the import).
ACTION_RANK: dict[Action, int] = every_kind(
    {
        "revocation": 6,
        "termination": 5,
        "forced_exit": 4,
        "closure": 4,
        "suspension": 3,
        "warning": 2,
        "suspension_review": 1,
        "delisting_review": 1,
        "flag": 1,
        "final_evaluation": 0,
        "none": 0,
    },
    get_args(Action),
    "rank",
)
WATCHED_STATES = frozenset(
    {State.ADMITTED, State.TESTING, State.SUSPENDED, State.FINAL_EVALUATION, State.EXIT_IN_PROGRESS}
)


def tentative(state: ProjectState, events: Sequence[Event], actor: str, role: str, now: dt.datetime) -> ProjectState:
    """Fold not-yet-stored events (position 0, so they are never cited as evidence)."""
    meta = EventMetadata(actor=actor, role=role, occurred_at=now)
    for payload in events:
        recorded = RecordedEvent(
            position=0,
            stream_id="",
            version=state.version,
            type=payload.event_type,
            event_id="",
            payload=payload,
            metadata=meta,
            recorded_at=now,
            hash="",
        )
        state = evolve(state, recorded)
    return state


def _last_resume_position(state: ProjectState) -> int:
    resumed = [h.position for h in state.history if h.state == State.TESTING]
    return max(resumed, default=0)


def _is_new_breach(state: ProjectState, status: RuleStatus) -> bool:
    """A breach is new if it cites evidence no earlier breach of the same criterion and action
    covers or, citing none, if none was recorded since the test last (re)started. An earlier
    breach covers what it cited and whatever was recorded before it: a breach the timers record
    with the fact they record in the same append cannot cite the fact's position, unknown then."""
    earlier = [b for b in state.breaches if b.criterion_id == status.id and b.action == status.action]
    if not earlier:
        return True
    cited = {p for p in status.evidence if p}
    if cited:
        latest = max(b.position for b in earlier)
        return any(p > latest for p in cited - state_cited(state, status.id, status.action))
    since = _last_resume_position(state)
    return all(0 < b.position <= since for b in earlier)


def state_cited(state: ProjectState, criterion_id: str, action: str) -> set[int]:
    return {p for b in state.breaches if b.criterion_id == criterion_id and b.action == action for p in b.evidence}


def consequences(state: ProjectState, program: ProgramDefinition, today: dt.date) -> list[Event]:
    """The breach records and the one strongest consequence for every newly crossed criterion.

    A graduate is watched for revocation only (false materials, an upheld objection: GRADUATED ->
    REVOKED); every other criterion ended with its test."""
    if state.state not in WATCHED_STATES and state.state != State.GRADUATED:
        return []
    crossed = [
        status
        for status in exit_criteria(state, program, today, skip=GOALS)
        if status.status in ("breached", "warning")
        and ACTION_RANK[status.action] > 0
        and (state.state != State.GRADUATED or status.action == "revocation")
        and _is_new_breach(state, status)
    ]
    if not crossed:
        return []
    out: list[Event] = [*_dormancy(crossed, state, program, today)]
    out += [
        ev.ThresholdBreached(
            criterion_id=status.id,
            action=status.action,
            figures={k: v for k, v in status.progress.items() if isinstance(v, int | str)},
            evidence=[p for p in status.evidence if p],
        )
        for status in crossed
    ]
    strongest = max(crossed, key=lambda s: ACTION_RANK[s.action])
    out.extend(_enact(state, strongest))
    return out


def _dormancy(
    crossed: list[RuleStatus], state: ProjectState, program: ProgramDefinition, today: dt.date
) -> list[Event]:
    """``DormancyDetected`` for every newly crossed dormancy criterion, recorded before its breach
    and consequence (closure for an e-CNY pilot, a delisting review for a data asset): the last
    day of activity, read from the state as the criterion reads it, and the days idle since."""
    dormancy_ids = {r.id for r in program.exit if isinstance(r.params, Dormancy)}
    out: list[Event] = []
    for status in crossed:
        if status.id in dormancy_ids:
            last = last_activity(state)
            out.append(ev.DormancyDetected(criterion_id=status.id, last_activity_on=last, days=(today - last).days))
    return out


def _enact(state: ProjectState, status: RuleStatus) -> list[Event]:
    """The consequence of the strongest breach, in the state the project is in (nothing where
    the action does not apply to it: a suspended project is not suspended again)."""
    action, criterion = status.action, status.id
    current = state.state
    match action:
        case "revocation":
            revocable = current in _REVOCABLE
            return [ev.ProjectRevoked(criterion_id=criterion, category=criterion)] if revocable else []
        case "termination":
            watched = current in WATCHED_STATES
            return [ev.ProjectTerminated(criterion_id=criterion, category=criterion)] if watched else []
        case "forced_exit" | "closure":
            if current in IN_TEST | {State.FINAL_EVALUATION}:
                return [ev.ExitInitiated(mode="forced", criterion_id=criterion)]
            if current == State.ADMITTED:
                # admitted but never started: there are no users to exit, so the project ends here
                return [ev.ProjectTerminated(criterion_id=criterion, category=criterion)]
            return []
        case "suspension":
            return [ev.ProjectSuspended(criterion_id=criterion, category=criterion)] if current == State.TESTING else []
        case "warning":
            return [ev.WarningIssued(criterion_id=criterion)]
        case "suspension_review" | "delisting_review" | "flag":
            return []  # the regulator reviews the recorded breach (``breach_review_days``)
        case "final_evaluation" | "none":
            return []  # a goal reached, or nothing: no breach (ranked 0, never enacted)
        case _:
            assert_never(action)


#: The states a revocation ends a project in.
_REVOCABLE = frozenset({State.ADMITTED, State.TESTING, State.SUSPENDED, State.GRADUATED})


def due_events(state: ProjectState, program: ProgramDefinition, ref: ReferenceView, today: dt.date) -> list[Event]:
    """The timer events that have come due by ``today`` (running it again adds nothing)."""
    if state.state in TERMINAL or state.state == State.NONE:
        return []
    out: list[Event] = []
    if state.state == State.PUBLIC_NOTICE and state.notice_ends is not None and today > state.notice_ends:
        out.append(ev.PublicNoticeClosed(closed_on=today))
    if state.state in IN_TEST and state.planned_end is not None:
        period = program.test_period()
        deadline = state.planned_end - dt.timedelta(days=period.request_days_before_end)
        if (
            today > deadline
            and not state.extension_deadline_recorded
            and state.extensions_granted < period.max_extensions
            and state.extension_requested_months is None
        ):
            out.append(ev.ExtensionDeadlinePassed(deadline=deadline))
        due = next_report_due(state, report_cadence(state, program))
        timeliness = next((r.params for r in program.exit if isinstance(r.params, ReportTimeliness)), None)
        if due is not None and timeliness is not None:
            late = (today - due).days

            def level(days_late: int) -> int:
                return 2 if days_late > timeliness.suspension_days else 1 if days_late > timeliness.warning_days else 0

            recorded = {level(d) for due_on, d in state.overdue_recorded if due_on == due}
            if level(late) and level(late) not in recorded:
                out.append(ev.ReportOverdue(due_on=due, days_late=late))
        if today >= state.planned_end and not (state.extension_requested_months and today == state.planned_end):
            out.append(ev.TestPeriodEnded(ended_on=state.planned_end))
    if state.state in WATCHED_STATES:  # a designation withdrawn in the reference data: the fact, once
        facts, known = {f.trigger for f in state.facts}, known_facts(program)
        for fact, what in designations_withdrawn(state, program, ref, today):
            if fact in known and fact not in facts:
                detail = f"参考数据中已撤销：{what} / withdrawn in the reference data: {what}"
                out.append(ev.ExternalFactRecorded(trigger=fact, on=today, detail=detail))
    return out
