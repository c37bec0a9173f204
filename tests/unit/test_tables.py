"""The tables keyed by kind (deciders by command, checks by rule kind, folds by event type) are
checked whole where they are built: a table missing one kind is refused, naming it."""

from __future__ import annotations

from typing import get_args

import pytest

from projections import project
from projections.rules import ADMISSION_CHECKS, EXIT_CHECKS
from sandbox.deciders import DECIDERS
from schemas import commands as c
from schemas import events as ev
from schemas import programs as p
from schemas.tables import MissingKinds, every_kind


def without(table: dict[type, object], kind: type) -> dict[type, object]:
    return {k: v for k, v in table.items() if k is not kind}


def test_a_table_missing_a_kind_is_refused_naming_it() -> None:
    class A: ...

    class B: ...

    table = {A: 1, B: 2}
    assert every_kind(table, (A, B), "thing") is table
    with pytest.raises(MissingKinds, match="no thing for B") as refused:
        every_kind(without(table, B), (A, B), "thing")
    assert refused.value.kinds == ["B"]


@pytest.mark.parametrize("command", [c.Submit, c.ReportMetrics, c.Approve])
def test_the_deciders_without_one_command_kind_are_refused(command: type[c.Command]) -> None:
    assert every_kind(DECIDERS, c.PROJECT_COMMANDS, "decider") is DECIDERS
    with pytest.raises(MissingKinds) as refused:
        every_kind(without(dict(DECIDERS), command), c.PROJECT_COMMANDS, "decider")
    assert refused.value.kinds == [command.__name__]


@pytest.mark.parametrize("kind", [p.Documents, p.TestPeriod, p.VoluntaryExit])
def test_the_rule_checks_without_one_rule_kind_are_refused(kind: type[p.Params]) -> None:
    checks: dict[type, object] = {**ADMISSION_CHECKS, **EXIT_CHECKS}
    every_kind(checks, get_args(p.Params), "check")
    with pytest.raises(MissingKinds, match=rf"no check for {kind.__name__}$"):
        every_kind(without(checks, kind), get_args(p.Params), "check")


def test_the_fold_without_one_event_type_is_refused() -> None:
    handlers: dict[type, object] = {kind: project.handler_for(kind) for kind in ev.ALL_EVENTS}
    every_kind(handlers, ev.ALL_EVENTS, "fold")
    with pytest.raises(MissingKinds, match=r"no fold for PledgeReleased$"):
        every_kind(without(handlers, ev.PledgeReleased), ev.ALL_EVENTS, "fold")


def test_every_match_statement_ends_in_assert_never() -> None:
    """A ``match`` dispatches over a union (a literal, a set of types): its last case is
    ``case _: assert_never(...)``, so a new member not handled fails the type check. A
    selection of a few kinds among many is written as a table or ``isinstance``, not a match."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    unchecked = []
    for package in ("schemas", "events", "projections", "sandbox"):
        for path in sorted((root / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not isinstance(node, ast.Match):
                    continue
                last = node.cases[-1]
                call = last.body[0].value if isinstance(last.body[0], ast.Expr) else None
                exhaustive = (
                    isinstance(last.pattern, ast.MatchAs) and last.pattern.pattern is None
                    and isinstance(call, ast.Call) and isinstance(call.func, ast.Name)
                    and call.func.id == "assert_never"
                )
                if not exhaustive:
                    unchecked.append(f"{path.relative_to(root)}:{node.lineno}")
    assert unchecked == []


def test_the_authority_rules_without_one_command_are_refused() -> None:
    from sandbox.deciders.authority import RULES, by_command

    every_kind(by_command(RULES), c.PROJECT_COMMANDS, "authority rule")
    rules = {action: rule for action, rule in RULES.items() if action != "report_metrics"}
    with pytest.raises(MissingKinds, match=r"no authority rule for ReportMetrics$"):
        every_kind(by_command(rules), c.PROJECT_COMMANDS, "authority rule")
