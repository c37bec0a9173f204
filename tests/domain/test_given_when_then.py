"""The pure deciders, called directly: given a project's events (folded, no store), when a
command or a tick at a moment, then the events it records or the refusal it raises.

The histories are recorded once through the world (as a user would make them); everything
after "given" is the decider alone: state, command, program, reference data and time in.
"""

from __future__ import annotations

import datetime as dt
from functools import cache
from types import ModuleType
from typing import Any

import msgspec
import pytest

from sandbox import policies
from sandbox.deciders import DECIDERS
from sandbox.deciders import project as project_decider
from schemas import commands as c
from schemas import events as ev
from schemas import programs as p
from schemas.commands import Actor
from schemas.lifecycle import State
from schemas.programs import ProgramDefinition
from tests.fixtures.pure import Given
from tests.fixtures.world import ALICE, APPROVER, OFFICER, World


@cache
def fintech_in_test() -> Given:
    world = World()
    pid = world.create("fintech-sandbox")
    world.fintech_application(pid)
    world.through_notice(pid)
    world.start_testing(pid)
    return Given.of(world.events(pid), pid, world.registry)


@cache
def fintech_under_review() -> Given:
    world = World()
    pid = world.create("fintech-sandbox")
    world.fintech_application(pid)
    world.do(pid, ALICE, c.Submit())
    world.do(pid, OFFICER, c.AcceptIntake())
    world.assess(pid)  # (the notice waits for a favourable assessment of each required topic)
    return Given.of(world.events(pid), pid, world.registry)


def refusal(given: Given, actor: Actor, command: c.Command, on: dt.date, **kw: ProgramDefinition) -> str:
    return given.refused(actor, command, on, **kw).code


def planned_end(given: Given) -> dt.date:
    assert given.state.planned_end is not None
    return given.state.planned_end


def test_every_project_command_has_a_decider_of_its_own_kind() -> None:
    assert set(DECIDERS) == set(c.PROJECT_COMMANDS)


def test_given_a_test_when_an_extension_is_asked_in_time_then_it_is_recorded() -> None:
    given = fintech_in_test()
    end = planned_end(given)
    assert given.when(ALICE, c.RequestExtension(months=6), end - dt.timedelta(days=30)) == [
        ev.ExtensionRequested(months=6)
    ]


@pytest.mark.parametrize(
    ("actor", "command", "days_before_end", "code"),
    [
        (ALICE, c.RequestExtension(months=7), 60, "extension_not_allowed"),  # longer than the rule allows
        (ALICE, c.RequestExtension(months=3), 29, "extension_not_allowed"),  # too late to ask
        (APPROVER, c.GrantExtension(), 60, "no_extension_request"),
        (OFFICER, c.RequestExtension(months=3), 60, "wrong_role"),
        (ALICE, c.Submit(), 60, "wrong_state"),
    ],
)
def test_given_a_test_when_a_command_breaks_a_rule_then_it_is_refused(
    actor: Actor, command: c.Command, days_before_end: int, code: str
) -> None:
    given = fintech_in_test()
    assert refusal(given, actor, command, planned_end(given) - dt.timedelta(days=days_before_end)) == code


def test_given_a_test_when_its_planned_end_comes_then_the_timer_ends_it() -> None:
    given = fintech_in_test()
    end = planned_end(given)
    assert not any(isinstance(e, ev.TestPeriodEnded) for e in given.ticked(end - dt.timedelta(days=1)))
    assert ev.TestPeriodEnded(ended_on=end) in given.ticked(end)


def test_given_a_review_when_the_notice_opens_then_it_runs_the_programs_working_days() -> None:
    given = fintech_under_review()
    monday = dt.date(2025, 3, 10)
    [opened] = given.when(OFFICER, c.OpenPublicNotice(), monday)
    assert isinstance(opened, ev.PublicNoticeOpened)
    assert (opened.starts_on, opened.days, opened.unit) == (monday, 20, "working")
    assert opened.ends_on == given.ref.add_working_days(monday, 20) > monday + dt.timedelta(days=20)
    assert given.state.state == State.UNDER_REVIEW  # (the decider records; it never changes the state)


def without_extensions(program: ProgramDefinition) -> ProgramDefinition:
    """The program with a test-period criterion that allows no extension."""
    exit_rules = tuple(
        msgspec.structs.replace(rule, params=msgspec.structs.replace(rule.params, max_extensions=0))
        if isinstance(rule.params, p.TestPeriod)
        else rule
        for rule in program.exit
    )
    return msgspec.structs.replace(program, exit=exit_rules)


def test_the_decider_and_the_timer_read_one_copy_of_the_extension_rules() -> None:
    given = fintech_in_test()
    end = planned_end(given)
    none = without_extensions(given.program)
    assert none.test_period().max_extensions == 0
    early, late = end - dt.timedelta(days=60), end - dt.timedelta(days=29)

    # the bundled version: one extension may be asked for until 30 days before the end, and the
    # timer records the day that chance passes
    assert given.when(ALICE, c.RequestExtension(months=3), early) == [ev.ExtensionRequested(months=3)]
    assert any(isinstance(e, ev.ExtensionDeadlinePassed) for e in given.ticked(late))

    # a version that allows none: the decider refuses every request, and the timer records no
    # deadline for an extension that could never be asked for
    assert refusal(given, ALICE, c.RequestExtension(months=3), early, program=none) == "extension_not_allowed"
    assert not any(isinstance(e, ev.ExtensionDeadlinePassed) for e in given.ticked(late, none))


def counted(monkeypatch: pytest.MonkeyPatch, module: ModuleType, name: str) -> list[None]:
    """Replace ``module.name`` by itself, counting its calls (one entry per call)."""
    calls: list[None] = []
    original = getattr(module, name)

    def spy(*args: Any, **kwargs: Any) -> Any:
        calls.append(None)
        return original(*args, **kwargs)

    monkeypatch.setattr(module, name, spy)
    return calls


def test_a_command_that_crosses_a_criterion_is_folded_and_checked_once(monkeypatch: pytest.MonkeyPatch) -> None:
    # given a test in progress
    given = fintech_in_test()
    tentative = counted(monkeypatch, project_decider, "tentative")
    consequences = counted(monkeypatch, project_decider, "consequences")
    evolved = counted(monkeypatch, policies, "evolve")
    criteria = counted(monkeypatch, policies, "exit_criteria")
    # when the lead reports an incident that crosses an exit criterion
    report = c.ReportIncident(
        incident_id="inc-1", severity=3, kind="fund_loss", occurred_on=planned_end(given) - dt.timedelta(days=90),
        consumer_loss_yuan=12_000,
    )
    events = given.when(ALICE, report, planned_end(given) - dt.timedelta(days=90))
    # then the breach and the suspension are decided by one tentative fold of the report alone
    # (never a replay of the history) and one evaluation of the exit criteria
    assert isinstance(events[0], ev.IncidentReported) and isinstance(events[-1], ev.ProjectSuspended)
    assert all(isinstance(e, ev.ThresholdBreached) for e in events[1:-1]) and len(events) > 2
    assert (len(tentative), len(evolved), len(consequences), len(criteria)) == (1, 1, 1, 1)
