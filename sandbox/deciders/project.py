"""The project decider: (command, state, context) -> events, or a refusal.

Pure: the context carries the actor, the program version (bound, or in force for a draft), the
reference data and the current time. Nothing here reads the store or the clock.

A command is authorised (``authority``), its dates bounded (``bounds``), then decided by the
decider of its kind, found in :data:`DECIDERS`: one small function per command, in the module
of its stage (``application``, ``review``, ``decisions``, ``testing``, ``incidents``, ``exits``,
and ``assets`` for a data asset's pledges and changes).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from projections.project import ProjectState, local_date
from projections.rules import ReferenceView
from sandbox.deciders import application, assets, decisions, exits, incidents, review, testing
from sandbox.deciders.authority import _authorise
from sandbox.deciders.bounds import CHECKS
from sandbox.deciders.context import Context, Decide, Decided, business_time
from sandbox.policies import consequences, tentative
from schemas import commands as c
from schemas.base import Event
from schemas.errors import DomainError
from schemas.programs import ProgramDefinition
from schemas.reference import CalendarNotCovered
from schemas.tables import every_kind

#: The decider of every project command, by its kind.
#: A new command kind must have a decider before the registry starts at all.
DECIDERS: dict[type[c.Command], Decide[Any]] = every_kind(
    {
        **application.DECIDERS,
        **review.DECIDERS,
        **decisions.DECIDERS,
        **testing.DECIDERS,
        **incidents.DECIDERS,
        **exits.DECIDERS,
        **assets.DECIDERS,
    },
    c.PROJECT_COMMANDS,
    "decider",
)

#: The commands whose events can cross an exit criterion: the breach and its consequence are
#: recorded in the same append.
WATCHED = (
    c.ReportMetrics,
    c.ReportIncident,
    c.ReclassifyIncident,
    c.LogComplaint,
    c.RecordExternalFact,
    c.WithdrawPartner,
    c.RegisterPledge,
    c.ReleasePledge,
    c.RealisePledge,
    c.RegisterChange,
)


def decide(command: c.Command, state: ProjectState, ctx: Context) -> Decided:
    """Decide a project command. Raises :class:`DomainError` when it is refused."""
    _authorise(command, state, ctx)
    try:
        events = _decide(command, state, ctx)
    except CalendarNotCovered as e:  # a working-day count ran into a year without holiday data
        raise DomainError("calendar_not_covered", year=e.year) from e
    automatic: list[Event] = []
    if isinstance(command, WATCHED):
        moment = business_time(command, ctx.now)
        after = tentative(state, events, ctx.actor.id, ctx.actor.role, moment)
        automatic = consequences(after, ctx.program, local_date(moment))
    return Decided(events, automatic)


def tick(state: ProjectState, program: ProgramDefinition, ref: ReferenceView, now: dt.datetime) -> list[Event]:
    """Every timer event due at ``now`` and the consequences of criteria crossed by time alone."""
    from sandbox.policies import due_events

    today = local_date(now)
    timers = due_events(state, program, ref, today)
    after = tentative(state, timers, "system", "system", now)
    return [*timers, *consequences(after, program, today)]


def _decide(command: c.Command, s: ProjectState, ctx: Context) -> list[Event]:
    """The command's own checks (its dates, its declared values), then its decider."""
    check = CHECKS.get(type(command))
    if check is not None:
        check(command, s, ctx)
    return DECIDERS[type(command)](command, s, ctx)
