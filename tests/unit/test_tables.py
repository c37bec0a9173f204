"""The tables keyed by kind (deciders by command, checks by rule kind, folds by event type) are
checked whole where they are built: a table missing one kind is refused, naming it."""

from __future__ import annotations

import importlib.util
from types import ModuleType
from typing import Any, Literal, get_args, get_origin

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


@pytest.mark.parametrize(
    ("checks", "kinds", "kind"),
    [
        (ADMISSION_CHECKS, p.AdmissionParams, p.Documents),
        (ADMISSION_CHECKS, p.AdmissionParams, p.PeriodMax),
        (EXIT_CHECKS, p.ExitParams, p.TestPeriod),
        (EXIT_CHECKS, p.ExitParams, p.VoluntaryExit),
    ],
)
def test_each_section_s_checks_without_one_of_its_kinds_are_refused(
    checks: dict[type, object], kinds: object, kind: type[p.Params]
) -> None:
    """Each section's table is checked against its own kinds: the other section's table
    holding a kind does not stand in for it."""
    every_kind(checks, get_args(kinds), "check")
    with pytest.raises(MissingKinds, match=rf"no check for {kind.__name__}$"):
        every_kind(without(checks, kind), get_args(kinds), "check")
    assert set(ADMISSION_CHECKS).isdisjoint(EXIT_CHECKS)
    assert set(ADMISSION_CHECKS) | set(EXIT_CHECKS) == set(get_args(p.Params))


#: A kind no table has an entry for (its ``action`` names no authority rule either).
UNHANDLED = type("Unhandled", (), {"action": "unhandled"})


def import_afresh(module: str) -> None:
    """Run ``module``'s code again, as importing it for the first time does, without replacing
    the module every other test uses."""
    spec = importlib.util.find_spec(module)
    assert spec is not None and spec.loader is not None
    spec.loader.exec_module(importlib.util.module_from_spec(spec))


def with_unhandled(kinds: Any) -> Any:
    """``kinds`` (a tuple of types, a union or a ``Literal``) with one more that nothing handles."""
    if isinstance(kinds, tuple):
        return (*kinds, UNHANDLED)
    if get_origin(kinds) is Literal:
        return Literal[(*get_args(kinds), "Unhandled")]
    return kinds | UNHANDLED


@pytest.mark.parametrize(
    ("module", "kinds", "name", "what"),
    [
        ("sandbox.deciders.project", c, "PROJECT_COMMANDS", "decider"),
        ("sandbox.deciders.authority", c, "PROJECT_COMMANDS", "authority rule"),
        ("projections.project", ev, "ALL_EVENTS", "fold"),
        ("schemas.labels", ev, "ALL_EVENTS", "name"),
        ("projections.rules.admission", p, "AdmissionParams", "admission check"),
        ("projections.rules.exit", p, "ExitParams", "exit check"),
        ("sandbox.policies", p, "Action", "rank"),
    ],
)
def test_a_new_kind_without_its_entry_stops_the_import_of_the_table_s_module(
    monkeypatch: pytest.MonkeyPatch, module: str, kinds: ModuleType, name: str, what: str
) -> None:
    import_afresh(module)
    monkeypatch.setattr(kinds, name, with_unhandled(getattr(kinds, name)))
    with pytest.raises(MissingKinds, match=rf"^no {what} for Unhandled$"):
        import_afresh(module)


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
