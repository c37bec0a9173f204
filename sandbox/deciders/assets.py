"""The decisions of a data asset's own life: pledges (质押) and change registrations (变更登记).

Pure, like every decider: each function takes the command, the project's state and the context,
and returns the events or raises a :class:`DomainError`. A pledge is registered (with its
pledgee, its registration number and a valuation report no older than the program's limit on
the pledge's day), then released or realised; at most one is outstanding, and a release only
ends the encumbrance: the asset stays registered and listed and may be pledged again.
"""

from __future__ import annotations

import datetime as dt

from projections.project import ProjectState
from projections.rules import outstanding_pledge
from sandbox.deciders.context import Context, handles
from schemas import commands as c
from schemas import events as ev
from schemas.base import Event
from schemas.dates import months_later
from schemas.errors import DomainError
from schemas.programs import ProgramDefinition, ValuationAge

#: Outside facts that have a command of their own now: recording them as a fact is refused,
#: naming the command (a log of earlier days, where they were facts, replays as before).
COMMAND_FACTS = {
    "pledge_registered": "register_pledge",
    "pledge_released": "release_pledge",
    "pledge_enforced": "realise_pledge",
    "pledge_realised": "realise_pledge",
    "change_registered": "register_change",
}

#: How old a pledge's valuation report may be, unless the program says (``valuation_age``).
DEFAULT_VALUATION_MONTHS = 12


def valuation_months(program: ProgramDefinition) -> int:
    """The age limit of a pledged asset's valuation report: the program's ``valuation_age``
    criterion, the one source the registration and the exit criterion both read."""
    rule = next((r.params for r in program.exit if isinstance(r.params, ValuationAge)), None)
    return rule.months if rule is not None else DEFAULT_VALUATION_MONTHS


def _data_asset(command: c.Command, ctx: Context) -> None:
    if ctx.program.kind != "data_asset":
        raise DomainError("data_assets_only", action=command.action)


def register_pledge(command: c.RegisterPledge, s: ProjectState, ctx: Context) -> list[Event]:
    _data_asset(command, ctx)
    current = outstanding_pledge(s)
    if current is not None:
        raise DomainError("pledge_outstanding", registration_no=current.registration_no or current.pledge_id)
    months = valuation_months(ctx.program)
    reports = [d for d in s.documents if d.kind == "valuation_report"]
    if command.valuation_sha256 is not None:
        reports = [d for d in reports if d.sha256 == command.valuation_sha256]
    dated = [d for d in reports if d.issued_on is not None and d.issued_on <= command.on]
    report = max(dated, key=lambda d: (d.issued_on or dt.date.min, d.position), default=None)
    if report is None or report.issued_on is None:
        raise DomainError(
            "valuation_too_old",
            months=months,
            on=command.on,
            why_zh="未找到已上传且注明出具日期的资产评估报告（valuation_report）",
            why_en="no valuation report (valuation_report) attached with the day it was issued",
        )
    if months_later(report.issued_on, months) < command.on:
        raise DomainError(
            "valuation_too_old",
            months=months,
            on=command.on,
            why_zh=f"最新的评估报告出具于 {report.issued_on}",
            why_en=f"the latest one was issued on {report.issued_on}",
        )
    return [
        ev.PledgeRegistered(
            pledge_id=f"pledge-{s.version + 1}",
            pledgee=command.pledgee,
            registration_no=command.registration_no,
            valuation_sha256=report.sha256,
            valued_on=report.issued_on,
            on=command.on,
        )
    ]


def end_pledge(command: c.ReleasePledge | c.RealisePledge, s: ProjectState, ctx: Context) -> list[Event]:
    """The outstanding pledge released (the encumbrance ends) or realised (the program's rule
    follows, in the exit criteria)."""
    _data_asset(command, ctx)
    current = outstanding_pledge(s)
    if current is None:
        raise DomainError("no_pledge_outstanding")
    ending = ev.PledgeReleased if isinstance(command, c.ReleasePledge) else ev.PledgeRealised
    return [ending(pledge_id=current.pledge_id, on=command.on)]


def register_change(command: c.RegisterChange, s: ProjectState, ctx: Context) -> list[Event]:
    _data_asset(command, ctx)
    return [
        ev.ChangeRegistered(
            change_id=f"chg-{s.version + 1}", description=command.description, effective_on=command.effective_on
        )
    ]


#: The decider of each command kind of a data asset's own life.
DECIDERS = dict(
    [
        handles(c.RegisterPledge, register_pledge),
        handles(c.ReleasePledge, end_pledge),
        handles(c.RealisePledge, end_pledge),
        handles(c.RegisterChange, register_change),
    ]
)
