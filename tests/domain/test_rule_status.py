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
