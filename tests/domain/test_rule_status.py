"""One type for what a rule evaluation gives: a check's ``Outcome``, and the ``RuleStatus`` that
is that outcome with its rule. Its status and action are of their closed sets, so a reader
(the policies, the views) can rely on them without reading text."""

from __future__ import annotations

import msgspec

from projections.rules import RuleStatus, admission_checklist, exit_criteria
from projections.rules.outcome import Outcome
from schemas import commands as c
from tests.fixtures.scenarios import fintech_in_test
from tests.fixtures.world import ALICE


def test_every_status_is_an_outcome_of_its_rule_with_typed_fields() -> None:
    w, pid = fintech_in_test()
    w.do(pid, ALICE, c.ReportIncident(incident_id="inc-1", kind="fund_loss", occurred_on=w.clock.today,
                                      consumer_loss_yuan=1_000))
    state = w.state(pid)
    program = w.registry.bound_program(state, w.clock.today)
    admission = admission_checklist(state, program, w.registry.reference(), w.clock.today)
    exits = exit_criteria(state, program, w.clock.today)
    assert [s.id for s in admission] == [r.id for r in program.admission]
    assert [(s.id, s.label_en, s.kind) for s in exits] == [(r.id, r.label_en, r.kind) for r in program.exit]
    for status in (*admission, *exits):
        assert isinstance(status, Outcome)
        # (decoding checks each field against its type: a status or an action outside its set fails)
        assert msgspec.convert(msgspec.to_builtins(status), RuleStatus) == status
    assert {s.status for s in admission} == {"met"}
    breached = [s for s in exits if s.status == "breached"]
    assert [s.action for s in breached] == ["suspension"] and breached[0].evidence


def test_a_rule_in_the_section_without_its_check_is_said_so_in_both_languages() -> None:
    """A version stored before publishing refused misplaced rules may hold one: its projects are
    still evaluated (never a server error), and the misplaced rule says it was not checked,
    unmet among the admission conditions, not applicable among the exit criteria."""
    w, pid = fintech_in_test()
    state = w.state(pid)
    program = w.registry.bound_program(state, w.clock.today)
    period = next(r for r in program.admission if r.params.__struct_config__.tag == "period_max")
    ends = next(r for r in program.exit if r.params.__struct_config__.tag == "test_period")
    exits = exit_criteria(state, msgspec.structs.replace(program, exit=(*program.exit, period)), w.clock.today)
    assert (exits[-1].id, exits[-1].status) == (period.id, "not_applicable")
    assert exits[-1].missing_zh and "not an exit criterion" in exits[-1].missing_en
    assert exits[:-1] == exit_criteria(state, program, w.clock.today)
    admission = admission_checklist(
        state, msgspec.structs.replace(program, admission=(ends, *program.admission)), w.registry.reference(),
        w.clock.today,
    )
    assert (admission[0].id, admission[0].status) == (ends.id, "unmet")
    assert admission[0].missing_zh and "not an admission condition" in admission[0].missing_en


def test_no_decision_looks_up_a_rule_s_figures_by_name() -> None:
    """A status's ``progress`` is what a reader is shown and what a breach records; what the
    registry decides on (the dormancy's last day of activity, the days idle) comes from typed
    fields or the state, never from looking a figure up by its name in that dict."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    lookups = []
    for package in ("schemas", "events", "projections", "sandbox"):
        for path in sorted((root / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                target = (
                    node.value
                    if isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load)
                    else node.func.value
                    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get"
                    else None
                )
                if isinstance(target, ast.Attribute) and target.attr == "progress":
                    lookups.append(f"{path.relative_to(root)}:{node.lineno}")
    assert lookups == []
