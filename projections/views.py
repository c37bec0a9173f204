"""As-of views and explanations, by replay.

The full view of a project (state, admission checklist, exit criteria) as of any global position
or recorded time, the public register as of a time, and the explanation of any decision: the
rule version it used, the checklist and criteria at that moment, and the chain of actors.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

import msgspec

from events.store import EventReader
from projections.catalog import Catalog
from projections.ledger import EMPTY as EMPTY_LEDGER
from projections.ledger import reported_periods
from projections.project import INITIAL, Draft, ProjectState, apply, fold, freeze, local_date, thaw
from projections.public import RegisterEntry, register_entry
from projections.rules import RuleStatus, admission_checklist, exit_criteria
from schemas import events as ev
from schemas.dates import CHINA
from schemas.errors import DomainError
from schemas.lifecycle import STATE_LABELS
from schemas.programs import ProgramDefinition
from schemas.reference import ReferenceData
from schemas.streams import PROJECT_PREFIX


class ProjectView(msgspec.Struct, frozen=True, kw_only=True):
    """One project as it stood at a moment: its state and its rules' statuses."""

    id: str
    state: str
    state_zh: str
    state_en: str
    program: str
    program_version: int
    program_ref: str
    title: str
    app_type: str
    applicant: str
    lead_name: str
    region: str
    version: int
    as_of_position: int
    as_of_date: dt.date
    admission: list[RuleStatus]
    exit: list[RuleStatus]
    #: The folded state as plain data, histories cut to their latest items (see ``details_of``).
    details: dict[str, Any]


def _program_for(state: ProjectState, catalog: Catalog, on: dt.date, position: int | None) -> ProgramDefinition:
    if state.program_version:
        return catalog.program(state.program_key, state.program_version)
    return catalog.program_in_force(state.program_key, on, as_of_position=position)


def reference_as_of(catalog: Catalog, position: int | None) -> ReferenceData:
    """The reference data as it stood at ``position``: when no reference set changed after it
    (the usual case) that is the current reference data, which the catalog caches; otherwise
    the catalog replays the sets up to ``position``."""
    return catalog.reference(as_of_position=position)


#: How many of the latest items of each history in ``ProjectView.details`` a view carries (a
#: long-running listing records thousands of facts; the full record is the project's events).
DETAIL_ITEMS = 100


def details_of(state: ProjectState) -> dict[str, Any]:
    """The state as plain data, each history cut to its latest :data:`DETAIL_ITEMS` items;
    ``omitted`` says how many earlier items of which history were left out."""
    details: dict[str, Any] = msgspec.to_builtins(msgspec.structs.replace(state, ledger=EMPTY_LEDGER))
    del details["ledger"]  # (its indexes by day are for the rules; its reports are shown as they were)
    details["reports"] = reported_periods(state.ledger)
    details["metric_totals"] = dict(state.ledger.totals)
    omitted: dict[str, int] = {}
    for name, value in details.items():
        if isinstance(value, list | tuple) and len(value) > DETAIL_ITEMS:
            omitted[name] = len(value) - DETAIL_ITEMS
            details[name] = value[-DETAIL_ITEMS:]
    details["omitted"] = omitted
    return details


def view_of(state: ProjectState, catalog: Catalog, on: dt.date, position: int | None = None) -> ProjectView:
    """Evaluate a folded state's rules on ``on`` (pure but for reading the catalog)."""
    program = _program_for(state, catalog, on, position)
    ref = reference_as_of(catalog, position)
    zh, en = STATE_LABELS[state.state]
    return ProjectView(
        id=state.project_id,
        state=state.state.value,
        state_zh=zh,
        state_en=en,
        program=state.program_key,
        program_version=program.version,
        program_ref=program.ref,
        title=state.title,
        app_type=state.app_type,
        applicant=state.organisation,
        lead_name=state.lead_name,
        region=state.region,
        version=state.version,
        as_of_position=position if position is not None else state.last_position,
        as_of_date=on,
        admission=admission_checklist(state, program, ref, on),
        exit=exit_criteria(state, program, on),
        details=details_of(state),
    )


class PastRefusal(msgspec.Struct, frozen=True, kw_only=True):
    """Why a past moment cannot be shown: the refusal's code, the parameter it names, and the
    rule it broke in English and Chinese."""

    code: Literal["invalid_value", "out_of_range"]
    field: str
    rule_en: str
    rule_zh: str


def past_refusal(
    at_given: bool, position: int | None, head: int, names: tuple[str, str] = ("as_of", "position")
) -> PastRefusal | None:
    """Why a past moment cannot be shown, or None: a time and a position were both given
    (``invalid_value``; ``names`` are theirs where they were asked for), or the position is
    beyond the head of the log, where nothing was recorded yet (``out_of_range``, as the proofs
    of a position the log does not hold). The API, the command line, the pages and
    :func:`moment_of` refuse with these codes and words."""
    time_name, position_name = names
    if at_given and position is not None:
        return PastRefusal(
            code="invalid_value",
            field=position_name,
            rule_en=f"give {time_name} or {position_name}, not both",
            rule_zh=f"{time_name} 与 {position_name} 只能给出一个",
        )
    if position is not None and position > head:
        return PastRefusal(
            code="out_of_range",
            field=position_name,
            rule_en=f"must not be after the head of the log (position {head})",
            rule_zh=f"不能超过日志末端（位置 {head}）",
        )
    return None


def day_closed_by(at: dt.datetime) -> dt.date:
    """The business date a moment asked for is evaluated on (exit criteria, timers): its day in
    China, where midnight (00:00 +08:00, the end of a day, which a bare date asks for) is the end of
    the day before, not the start of the next, on which nothing has happened yet."""
    local = at.astimezone(CHINA)
    if local.time() == dt.time(0) and local.date() > dt.date.min:
        return local.date() - dt.timedelta(days=1)
    return local.date()


def moment_of(
    store: EventReader, *, position: int | None, at: dt.datetime | None, now: dt.datetime
) -> tuple[int, dt.date]:
    """The (position, business date) an as-of query means; a moment that cannot be shown (see
    :func:`past_refusal`) is refused with its code."""
    refused = past_refusal(at is not None, position, store.head().position if position is not None else 0)
    if refused is not None:
        raise DomainError(refused.code, field=refused.field, rule_en=refused.rule_en, rule_zh=refused.rule_zh)
    if at is not None:
        return store.position_at(at), day_closed_by(at)
    if position is not None:
        events = store.read_after(position - 1, limit=1) if position > 0 else []
        return position, local_date(events[0].recorded_at) if events else local_date(now)
    return store.head().position, local_date(now)


def project_view(
    store: EventReader,
    catalog: Catalog,
    project_id: str,
    *,
    position: int | None = None,
    at: dt.datetime | None = None,
    now: dt.datetime,
) -> ProjectView | None:
    """The project as of a position or a recorded time (the head when neither is given)."""
    cut, on = moment_of(store, position=position, at=at, now=now)
    state = fold(store.iter_stream(PROJECT_PREFIX + project_id, as_of_position=cut))
    if state is INITIAL:  # (no event: a fold of nothing is the initial state itself)
        return None
    return view_of(state, catalog, on, cut)


def register_as_of(
    store: EventReader, *, position: int | None = None, at: dt.datetime | None = None, now: dt.datetime
) -> list[RegisterEntry]:
    """The public register as it stood at a position or time, by replaying every project."""
    cut, _ = moment_of(store, position=position, at=at, now=now)
    drafts: dict[str, Draft] = {}
    for event in store.iter_all(batch=5000):
        if event.position > cut:
            break
        if event.stream_id.startswith(PROJECT_PREFIX):
            draft = drafts.get(event.stream_id)
            if draft is None:
                draft = drafts[event.stream_id] = thaw(INITIAL)
            apply(draft, event)
    entries = (register_entry(freeze(d)) for _, d in sorted(drafts.items()))
    return [e for e in entries if e is not None]


def register_entry_as_of(
    store: EventReader, project_id: str, *, position: int | None = None, at: dt.datetime | None = None, now: dt.datetime
) -> RegisterEntry | None:
    """One project's public entry as it stood at a position or time (None: not public then)."""
    cut, _ = moment_of(store, position=position, at=at, now=now)
    return register_entry(fold(store.iter_stream(PROJECT_PREFIX + project_id, as_of_position=cut)))


class Explanation(msgspec.Struct, frozen=True, kw_only=True):
    """Why a decision was taken and by whom, as the registry knew it then."""

    position: int
    project_id: str
    type: str
    actor: str
    role: str
    occurred_at: dt.datetime
    recorded_at: dt.datetime
    rule_version: str | None
    #: The legal basis of the program version the decision was taken under (its regulations).
    legal_basis: str
    reason: str | None
    attachments: list[str]
    state_before: str
    state_after: str
    recommendation: dict[str, Any] | None
    four_eyes_kept: bool | None
    admission: list[RuleStatus]
    exit: list[RuleStatus]


def explain(store: EventReader, catalog: Catalog, position: int) -> Explanation | None:
    """Explain the event at ``position`` (None if there is none or it is not a project's)."""
    found = store.read_after(position - 1, limit=1) if position > 0 else []
    if not found or found[0].position != position or not found[0].stream_id.startswith(PROJECT_PREFIX):
        return None
    event = found[0]
    history = store.read_stream(event.stream_id, as_of_position=position)
    before = fold(history[:-1])
    after = fold(history[-1:], before)
    on = local_date(event.metadata.occurred_at)
    program = _program_for(before if before.program_version else after, catalog, on, position)
    ref = reference_as_of(catalog, position)
    pending = before.pending
    recommendation = None
    four_eyes = None
    if pending is not None:
        # An approval adds its actor; the decision that completes the recommendation (admitted,
        # rejected, graduated, exit) follows the last approval, which ``before`` already holds.
        approvers = [*pending.approvers]
        if isinstance(event.payload, ev.DecisionApproved):
            approvers.append(event.metadata.actor)
        recommendation = {
            "id": pending.recommendation_id,
            "decision": pending.decision,
            "recommender": pending.recommender,
            "recommended_at_position": pending.position,
            "approvers": approvers,
            "approvals_required": pending.approvals_required,
            # a graduation's waived KPIs and why: the waiver is part of the decision explained
            "waived_kpis": list(pending.waived_kpis),
            "waiver_reason": pending.reason if pending.waived_kpis else None,
        }
        four_eyes = pending.recommender not in approvers and len(set(approvers)) == len(approvers)
    return Explanation(
        position=position,
        project_id=event.stream_id.removeprefix(PROJECT_PREFIX),
        type=event.type,
        actor=event.metadata.actor,
        role=event.metadata.role,
        occurred_at=event.metadata.occurred_at,
        recorded_at=event.recorded_at,
        rule_version=event.metadata.rule_version,
        legal_basis=program.legal_basis,
        reason=event.metadata.reason,
        attachments=list(event.metadata.attachments),
        state_before=before.state.value,
        state_after=after.state.value,
        recommendation=recommendation,
        four_eyes_kept=four_eyes,
        admission=admission_checklist(before, program, ref, on),
        exit=exit_criteria(before, program, on),
    )
