"""Timers: what comes due with time alone (a notice closing, a test period ending, a report
overdue), recorded by the system actor when the registry is ticked.

A tick loads each project that can have a timer due, asks the pure ``deciders.tick`` what is due
at the moment given, and appends it under a command id naming the project's version, so that two
ticks at one moment record it once.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable, Sequence
from typing import Protocol

from events.errors import ConflictError, StoreBusyError, StoreUnavailableError
from events.model import AppendResult, NewEvent, StreamWrite
from projections.project import ProjectState, local_date
from projections.read_models import ReadModels
from sandbox.deciders import tick as due_at
from sandbox.metadata import by_system
from sandbox.policies import WATCHED_STATES
from schemas.lifecycle import State
from schemas.programs import ProgramDefinition
from schemas.reference import ReferenceData
from schemas.streams import project_stream

log = logging.getLogger("sandbox.timers")

#: The states in which a timer can come due or an exit criterion is watched by time alone: in
#: every other state ``deciders.tick`` has nothing to record (see ``sandbox.policies``).
TIMED = frozenset({State.PUBLIC_NOTICE, *WATCHED_STATES})


class Projects(Protocol):
    """What a tick needs of the service: a project's state, its program, the reference data,
    and the append (with the read models, in one transaction)."""

    def load(self, project_id: str) -> ProjectState: ...

    def bound_program(self, state: ProjectState, today: dt.date) -> ProgramDefinition: ...

    def reference(self) -> ReferenceData: ...

    def commit(self, writes: Sequence[StreamWrite], command_id: str) -> AppendResult: ...


def tick(projects: Projects, project_ids: Iterable[str], moment: dt.datetime, skipped: list[str] | None) -> int:
    """Record every timer due at ``moment`` for the projects named; how many events that was. A
    project whose timers cannot be evaluated is logged and passed over (and added to ``skipped``,
    if given)."""
    ref = projects.reference()
    written = 0
    for project_id in project_ids:
        try:
            written += tick_project(projects, project_id, ref, moment)
        except ConflictError:
            continue  # someone acted meanwhile; the next tick sees the new state
        except (StoreBusyError, StoreUnavailableError):
            raise  # the database, not the project: no other project would fare better
        except Exception:  # one project's history must not hold back every other's timers
            log.exception("tick: the timers of project %s could not be evaluated; the others go on", project_id)
            if skipped is not None:
                skipped.append(project_id)
    return written


def tick_project(projects: Projects, project_id: str, ref: ReferenceData, moment: dt.datetime) -> int:
    """Record the project's timers due at ``moment``; how many events that was."""
    state = projects.load(project_id)
    if state.state not in TIMED:
        return 0  # nothing can come due in the other states
    program = projects.bound_program(state, local_date(moment))
    due = due_at(state, program, ref, moment)
    if not due:
        return 0
    meta = by_system(moment, "timer", rule_version=program.ref)
    write = StreamWrite(project_stream(project_id), tuple(NewEvent(e, meta) for e in due), expected=state.version)
    projects.commit([write], f"tick:{project_id}:{state.version}")
    return len(due)


def timed_projects(read_models: ReadModels | None, every_project: Callable[[], list[str]]) -> list[str]:
    """The projects a tick must look at: with read models (brought to the head first), the
    ones in a timed state; without, every project of the log."""
    if read_models is None:
        return every_project()
    read_models.catch_up()
    return read_models.timed(TIMED)
