"""Deciders of the end of a test: the final report, a voluntary or forced exit, its confirmation."""

from __future__ import annotations

from projections.project import ProjectState
from sandbox.deciders.authority import CO, A
from sandbox.deciders.context import Context, handles
from sandbox.deciders.decisions import recommend
from schemas import commands as c
from schemas import events as ev
from schemas.base import Event
from schemas.errors import DomainError
from schemas.programs import VoluntaryExit


def submit_final_report(command: c.SubmitFinalReport, s: ProjectState, ctx: Context) -> list[Event]:
    return [ev.FinalReportSubmitted(sha256=command.sha256, summary=command.summary, kpis_met=list(command.kpis_met))]


def accept_final_report(command: c.AcceptFinalReport, s: ProjectState, ctx: Context) -> list[Event]:
    if s.final_report_position is None:
        raise DomainError("final_report_missing")
    return [ev.FinalReportAccepted()]


def initiate_exit(command: c.InitiateExit, s: ProjectState, ctx: Context) -> list[Event]:
    actor = ctx.actor
    program = ctx.program
    if command.mode == "forced":
        if actor.role != CO:
            raise DomainError("wrong_role", role=actor.role, action="initiate_exit (forced)")
        return recommend(c.Recommend(decision="exit", exit_mode="forced"), s, ctx)
    if actor.role != A:
        raise DomainError("wrong_role", role=actor.role, action="initiate_exit (voluntary)")
    if s.pending is not None:  # a regulator's decision waits (a forced ending, say): first that
        raise DomainError("recommendation_pending")
    notice_days = next((r.params.notice_days for r in program.exit if isinstance(r.params, VoluntaryExit)), 30)
    notified_on = command.users_notified_on
    exit_on = command.planned_exit_on
    if notified_on is None or exit_on is None or (exit_on - notified_on).days < notice_days:
        raise DomainError("exit_notice_too_short", days=notice_days)
    return [ev.ExitInitiated(mode="voluntary", users_notified_on=notified_on, planned_exit_on=exit_on)]


def confirm_exit(command: c.ConfirmExit, s: ProjectState, ctx: Context) -> list[Event]:
    today = ctx.today
    program = ctx.program
    if s.exit_mode == "voluntary" and s.exit_users_notified_on is not None:
        notice_days = next((r.params.notice_days for r in program.exit if isinstance(r.params, VoluntaryExit)), 30)
        if (today - s.exit_users_notified_on).days < notice_days:
            raise DomainError("exit_notice_too_short", days=notice_days)
    return [ev.ExitConfirmed()]


#: The decider of each command kind of this stage.
DECIDERS = dict(
    [
        handles(c.SubmitFinalReport, submit_final_report),
        handles(c.AcceptFinalReport, accept_final_report),
        handles(c.InitiateExit, initiate_exit),
        handles(c.ConfirmExit, confirm_exit),
    ]
)
