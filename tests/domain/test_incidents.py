"""Incidents: severity derived from the facts by the program's definition, a regulator's
reclassification with a reason, and a breach whose status moves on once it is dealt with."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from projections.rules import exit_criteria
from sandbox.deciders.incidents import severity_of
from schemas import commands as c
from schemas.bundled import load_programs
from schemas.lifecycle import State
from schemas.programs import IncidentSeverity, SeverityRule
from tests.fixtures.scenarios import decided, fintech_in_test, refusal
from tests.fixtures.world import ALICE, APPROVER, OFFICER

DEFINITION = load_programs()[0].incident_severity


@pytest.mark.parametrize(
    ("kind", "loss", "minutes", "severity"),
    [
        ("fund_loss", 0, None, 1),
        ("data_breach", 0, None, 1),
        ("outage", 0, 241, 1),  # longer than 4 hours
        ("outage", 0, 240, 2),  # 4 hours exactly is not longer
        ("outage", 0, None, 2),
        ("data_quality", 5_000, None, 1),  # a consumer loss is a fund loss, whatever its kind
        ("data_quality", 0, None, 3),
    ],
)
def test_severity_comes_from_the_facts(kind: str, loss: int, minutes: int | None, severity: int) -> None:
    assert severity_of(DEFINITION, kind, loss, minutes)[0] == severity


def test_severity_is_the_programs_data() -> None:
    """Every bundled program states the definition; a version that defines severity otherwise
    (an outage over one hour is severity 1, the rest severity 2) is read as it says."""
    assert {p.incident_severity for p in load_programs()} == {DEFINITION}
    stricter = IncidentSeverity(rules=(SeverityRule(severity=1, outage_minutes_over=60),), default_severity=2)
    assert severity_of(stricter, "outage", 0, 90)[0] == 1 and severity_of(DEFINITION, "outage", 0, 90)[0] == 2
    assert severity_of(stricter, "fund_loss", 0, None)[0] == 2


@given(st.sampled_from(["fund_loss", "data_breach", "outage", "misc"]), st.integers(0, 10**6),
       st.none() | st.integers(0, 10_000))
def test_more_loss_or_a_longer_outage_is_never_less_severe(kind: str, loss: int, minutes: int | None) -> None:
    """(Severity 1 is the gravest.)"""
    base, _ = severity_of(DEFINITION, kind, loss, minutes)
    assert severity_of(DEFINITION, kind, loss + 1, minutes)[0] <= base
    if minutes is not None:
        assert severity_of(DEFINITION, kind, loss, minutes + 60)[0] <= base


def test_the_reporters_severity_is_recorded_and_not_used() -> None:
    """Given a test, when a fund loss is reported as severity 3, then it is severity 1 and the
    test is suspended; the reporter's 3 stays on record."""
    w, pid = fintech_in_test()
    report = c.ReportIncident(incident_id="inc-1", severity=3, kind="fund_loss", occurred_on=w.clock.today,
                              consumer_loss_yuan=12_000)
    assert decided(w, pid, ALICE, report) == ["IncidentReported", "ThresholdBreached", "ProjectSuspended"]
    w.do(pid, ALICE, report)
    recorded = next(e.payload for e in w.events(pid) if e.type == "IncidentReported")
    assert (recorded.severity, recorded.reported_severity) == (1, 3)
    assert "fund_loss" in recorded.basis


def test_a_regulator_reclassifies_with_a_reason_and_the_rules_follow() -> None:
    w, pid = fintech_in_test()
    w.do(pid, ALICE, c.ReportIncident(incident_id="inc-1", kind="outage", outage_minutes=200,
                                      occurred_on=w.clock.today))
    assert w.state(pid).state == State.TESTING  # severity 2: no suspension
    assert refusal(w, pid, OFFICER, c.ReclassifyIncident(incident_id="inc-1", severity=1)).code == "reason_required"
    assert refusal(w, pid, ALICE, c.ReclassifyIncident(incident_id="inc-1", severity=1, reason="x")).code == (
        "wrong_role")
    assert refusal(w, pid, OFFICER, c.ReclassifyIncident(incident_id="inc-9", severity=1, reason="x")).code == (
        "unknown_incident")
    assert refusal(w, pid, OFFICER, c.ReclassifyIncident(incident_id="inc-1", severity=2, reason="x")).code == (
        "severity_unchanged")
    up = c.ReclassifyIncident(incident_id="inc-1", severity=1, reason="实际影响核心支付，按一级认定")
    assert decided(w, pid, OFFICER, up) == ["IncidentReclassified", "ThresholdBreached", "ProjectSuspended"]
    w.do(pid, OFFICER, up)
    assert w.state(pid).incidents[0].severity == 1 and w.state(pid).state == State.SUSPENDED


def test_a_breach_dealt_with_is_remediated_and_a_new_one_breaches_anew() -> None:
    w, pid = fintech_in_test()
    w.do(pid, ALICE, c.ReportIncident(incident_id="inc-1", kind="data_breach", occurred_on=w.clock.today))

    def status() -> str:
        s = w.state(pid)
        program = w.registry.bound_program(s, w.clock.today)
        return next(r.status for r in exit_criteria(s, program, w.clock.today) if r.id == "fs.exit.severity1")

    assert status() == "breached"
    w.do(pid, APPROVER, c.Reinstate(reason="先行恢复"))
    assert status() == "breached"  # reinstated, but the incident is not remediated yet
    w.do(pid, ALICE, c.RemediateIncident(incident_id="inc-1"))
    assert status() == "remediated"
    # a second severity-1 incident is a new breach (two force the exit)
    w.do(pid, ALICE, c.ReportIncident(incident_id="inc-2", kind="fund_loss", occurred_on=w.clock.today,
                                      consumer_loss_yuan=100))
    assert status() == "breached" and w.state(pid).state == State.EXIT_IN_PROGRESS
