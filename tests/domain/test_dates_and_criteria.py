"""Date bounds on commands, and exit criteria that must fire (or count) exactly as the programs say:
a partner's withdrawal, complaints counted once, dormancy from the timer, optional incident
thresholds."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import msgspec
import pytest

from projections.ledger import EMPTY, LedgerDraft, record_report
from projections.project import Incident, ProjectState
from projections.rules import exit_criteria
from schemas import commands as c
from schemas import events as ev
from schemas import programs as p
from schemas.bundled import decode_program, load_program
from schemas.commands import Actor
from schemas.errors import MESSAGES
from schemas.lifecycle import State
from tests.fixtures.scenarios import USERS, data_asset_in_test, ecny_in_test, fintech_in_test
from tests.fixtures.world import ALICE, OFFICER, TECHCO, World

D = dt.date
FAR = D(9999, 12, 31)
ANCIENT = D(1, 1, 1)


# -- 1. dates are bounded relative to now and to the project's own dates ------------------------


def _in_test() -> tuple[World, str]:
    return fintech_in_test()


def _draft() -> tuple[World, str]:
    w = World()
    return w, w.create("fintech-sandbox")


def _admitted() -> tuple[World, str]:
    w = World()
    pid = w.create("fintech-sandbox")
    w.fintech_application(pid)
    w.through_notice(pid)
    w.admit(pid)
    return w, pid


def _in_review() -> tuple[World, str]:
    w, pid = _draft()
    w.fintech_application(pid)
    w.do(pid, ALICE, c.Submit())
    w.do(pid, OFFICER, c.AcceptIntake())
    return w, pid


def _day(w: World, offset: int) -> dt.date:
    return w.clock.today + dt.timedelta(days=offset)


# (name, how to get there, who, command builder, field named in the refusal)
DATE_CASES = [
    ("start in 9999", _admitted, ALICE, lambda w: c.StartTest(started_on=FAR), "started_on"),
    ("start tomorrow", _admitted, ALICE, lambda w: c.StartTest(started_on=_day(w, 1)), "started_on"),
    ("start before admission", _admitted, OFFICER, lambda w: c.StartTest(started_on=_day(w, -60)), "started_on"),
    ("period ends in 9999", _in_test, ALICE,
     lambda w: c.ReportMetrics(period_start=w.clock.today, period_end=FAR, metrics={}), "period_end"),
    ("period ends tomorrow", _in_test, ALICE,
     lambda w: c.ReportMetrics(period_start=w.clock.today, period_end=_day(w, 1), metrics={}), "period_end"),
    ("period starts in year 1", _in_test, ALICE,
     lambda w: c.ReportMetrics(period_start=ANCIENT, period_end=w.clock.today, metrics={}), "period_start"),
    ("period starts before the test", _in_test, ALICE,
     lambda w: c.ReportMetrics(period_start=_day(w, -10), period_end=w.clock.today, metrics={}), "period_start"),
    ("incident in year 1", _in_test, ALICE,
     lambda w: c.ReportIncident(incident_id="i", severity=1, kind="outage", occurred_on=ANCIENT), "occurred_on"),
    ("incident tomorrow", _in_test, OFFICER,
     lambda w: c.ReportIncident(incident_id="i", severity=2, kind="outage", occurred_on=_day(w, 1)), "occurred_on"),
    ("complaint in year 1", _in_test, OFFICER,
     lambda w: c.LogComplaint(complaint_id="z", category="k", received_on=ANCIENT), "received_on"),
    ("complaint in 9999", _in_test, ALICE,
     lambda w: c.LogComplaint(complaint_id="z", category="k", received_on=FAR), "received_on"),
    ("declared end in 9999", _draft, ALICE,
     lambda w: c.EditDraft(section="boundaries", fields={"end_date": FAR.isoformat()}), "fields.end_date"),
    ("declared start in 9999", _draft, ALICE,
     lambda w: c.EditDraft(section="boundaries", fields={"start_date": "9999-06-01"}), "fields.start_date"),
    # (a start_date in that form is not a date at all: invalid_value, see test_refusals)
    ("declared day in basic ISO form", _draft, ALICE,
     lambda w: c.EditDraft(section="product", fields={"valued_on": "99990601"}), "fields.valued_on"),
    ("document issued tomorrow", _draft, ALICE,
     lambda w: c.AttachDocument(kind="x", sha256="0" * 64, title="t", issued_on=_day(w, 1)), "issued_on"),
    ("information due in 9999", _in_review, OFFICER,
     lambda w: c.RequestInformation(items=["补充"], due_on=FAR), "due_on"),
    ("notice starting in 9999", _in_review, OFFICER, lambda w: c.OpenPublicNotice(starts_on=FAR), "starts_on"),
    ("exit planned in 9999", _in_test, ALICE,
     lambda w: c.InitiateExit(mode="voluntary", users_notified_on=w.clock.today, planned_exit_on=FAR),
     "planned_exit_on"),
    # users told "tomorrow" would start the exit notice before anyone was told
    ("users told tomorrow", _in_test, ALICE,
     lambda w: c.InitiateExit(mode="voluntary", users_notified_on=_day(w, 1), planned_exit_on=_day(w, 40)),
     "users_notified_on"),
    ("fact dated in 9999", _in_test, OFFICER,
     lambda w: c.RecordExternalFact(trigger="licence_lost", on=FAR), "on"),
    ("fact dated before the program", _in_test, OFFICER,
     lambda w: c.RecordExternalFact(trigger="licence_lost", on=D(2000, 1, 1)), "on"),
]


@pytest.mark.parametrize(("setup", "actor", "build", "field"), [case[1:] for case in DATE_CASES],
                         ids=[case[0] for case in DATE_CASES])
def test_a_date_out_of_its_window_is_refused_naming_the_field_and_the_rule(
    setup: Callable[[], tuple[World, str]], actor: Actor, build: Callable[[World], c.Command], field: str
) -> None:
    """Without the bounds these commands crashed (a date past 9999 when months are added) or
    were recorded, so that every later evaluation of the project overflowed."""
    w, pid = setup()
    state_before = w.state(pid).state
    e = w.refused(pid, actor, build(w), "date_out_of_range")
    assert e.params["field"] == field
    assert field in e.message_en and field in e.message_zh
    assert e.params["rule_en"] in e.message_en and e.params["rule_zh"] in e.message_zh
    # the project is untouched and its timers and rules still evaluate
    w.clock.advance(days=1)
    w.tick()
    assert w.state(pid).state in (state_before, State.NOTICE_CLOSED, State.PUBLIC_NOTICE)


def test_the_date_refusal_has_a_chinese_and_an_english_message() -> None:
    zh, en = MESSAGES["date_out_of_range"]
    assert "{field}" in zh and "{field}" in en and "{rule_zh}" in zh and "{rule_en}" in en


def test_dates_inside_their_windows_are_accepted() -> None:
    w, pid = _admitted()
    w.do(pid, ALICE, c.StartTest(started_on=w.clock.today))
    w.clock.advance(days=20)
    today = w.clock.today
    w.do(pid, ALICE, c.ReportMetrics(period_start=today - dt.timedelta(days=19), period_end=today, metrics={}))
    w.do(pid, ALICE, c.LogComplaint(complaint_id="z", category="k", received_on=today - dt.timedelta(days=3)))
    w.do(pid, ALICE, c.ReportIncident(incident_id="i", severity=3, kind="outage", occurred_on=today))
    w.do(pid, OFFICER, c.RecordExternalFact(trigger="trade_made", on=today))


def test_rules_do_not_overflow_on_a_far_date_already_in_the_history() -> None:
    """Defence in depth: history recorded before the bounds (or by another writer) still evaluates."""
    program = load_program("fintech-sandbox")
    ledger = LedgerDraft(EMPTY)
    record_report(ledger, D(9999, 12, 1), FAR, {"users": 1}, 9, D(2025, 6, 1))
    state = ProjectState(state=State.TESTING, test_started_on=D(9999, 11, 1), planned_end=FAR,
                         ledger=ledger.freeze())
    statuses = exit_criteria(state, program, D(2025, 6, 1))
    assert {s.id for s in statuses} == {r.id for r in program.exit}


# -- 2. a partner's withdrawal is the fact exit criterion 7 watches -------------------------------


@pytest.mark.parametrize("actor", [ALICE, TECHCO, OFFICER], ids=["lead", "partner itself", "case officer"])
def test_a_partner_withdrawing_during_the_test_terminates_a_fintech_project(actor: Actor) -> None:
    w, pid = fintech_in_test()
    result = w.do(pid, actor, c.WithdrawPartner(organisation="techco"))
    assert result.event_types == ["PartnerWithdrawn", "ExternalFactRecorded", "ThresholdBreached",
                                  "ProjectTerminated"]
    s = w.state(pid)
    assert [f.trigger for f in s.facts] == ["partner_withdrawn"]
    assert s.breaches[-1].criterion_id == "fs.exit.licence_lost"
    assert s.breaches[-1].action == "termination"
    assert s.state == State.TERMINATED


def test_a_partner_leaving_a_draft_only_changes_the_application() -> None:
    w = World()
    pid = w.create("fintech-sandbox")
    w.fintech_application(pid)
    result = w.do(pid, ALICE, c.WithdrawPartner(organisation="techco"))
    assert result.event_types == ["PartnerWithdrawn"]
    assert w.state(pid).facts == ()
    # ... so it cannot terminate the project once it is admitted
    w.through_notice(pid)
    w.start_testing(pid)
    assert w.state(pid).state == State.TESTING


# -- 3. complaints are counted once --------------------------------------------------------------


def _month_with_complaints(logged: int) -> tuple[World, str, dt.date]:
    """A fintech project with 1,000 active users, ``logged`` complaints logged one by one today."""
    w, pid = fintech_in_test()
    w.report_month(pid, USERS)
    w.clock.advance(days=30)
    for n in range(logged):
        w.do(pid, ALICE, c.LogComplaint(complaint_id=f"cp-{n}", category="fees", received_on=w.clock.today))
    return w, pid, w.clock.today


def _complaints_status(w: World, pid: str) -> dict[str, int | str | None]:
    program = load_program("fintech-sandbox")
    status = next(s for s in exit_criteria(w.state(pid), program, w.clock.today) if s.id == "fs.exit.complaints")
    return status.progress


def test_complaints_logged_and_reported_for_the_same_period_count_once() -> None:
    """4 complaints logged, then the month's report says 4: 4 per 1,000, not 8 (a breach)."""
    w, pid, today = _month_with_complaints(4)
    result = w.do(pid, ALICE, c.ReportMetrics(period_start=today - dt.timedelta(days=29), period_end=today,
                                              metrics=USERS | {"complaints": 4}))
    assert result.event_types == ["MetricsReported"]
    progress = _complaints_status(w, pid)
    assert progress["complaints_in_window"] == 4 and progress["total"] == 4

    # two more complaints logged in the reported period: the larger count (6) is over 5 per 1,000
    w.do(pid, ALICE, c.LogComplaint(complaint_id="cp-4", category="fees", received_on=today))
    result = w.do(pid, ALICE, c.LogComplaint(complaint_id="cp-5", category="fees", received_on=today))
    assert result.event_types == ["ComplaintLogged", "ThresholdBreached"]
    assert _complaints_status(w, pid)["complaints_in_window"] == 6


def test_a_reported_figure_above_the_logged_complaints_counts_in_full() -> None:
    w, pid, today = _month_with_complaints(1)
    result = w.do(pid, ALICE, c.ReportMetrics(period_start=today - dt.timedelta(days=29), period_end=today,
                                              metrics=USERS | {"complaints": 6}))
    assert result.event_types == ["MetricsReported", "ThresholdBreached"]
    assert w.state(pid).breaches[-1].criterion_id == "fs.exit.complaints"


def test_complaints_logged_outside_every_reported_period_add_to_the_reports() -> None:
    w, pid, today = _month_with_complaints(0)
    yesterday = today - dt.timedelta(days=1)
    w.do(pid, ALICE, c.ReportMetrics(period_start=yesterday - dt.timedelta(days=28), period_end=yesterday,
                                     metrics=USERS | {"complaints": 3}))
    for n in range(2):
        w.do(pid, ALICE, c.LogComplaint(complaint_id=f"new-{n}", category="fees", received_on=today))
    assert _complaints_status(w, pid)["complaints_in_window"] == 5
    result = w.do(pid, ALICE, c.LogComplaint(complaint_id="new-2", category="fees", received_on=today))
    assert result.event_types == ["ComplaintLogged", "ThresholdBreached"]


def test_a_corrected_report_for_the_same_period_replaces_the_first() -> None:
    w, pid, today = _month_with_complaints(0)
    start = today - dt.timedelta(days=29)
    w.do(pid, ALICE, c.ReportMetrics(period_start=start, period_end=today, metrics=USERS | {"complaints": 4}))
    w.do(pid, ALICE, c.ReportMetrics(period_start=start, period_end=today, metrics=USERS | {"complaints": 3}))
    assert _complaints_status(w, pid)["complaints_in_window"] == 3


# -- 4. dormancy is recorded by the timer ----------------------------------------------------------


def test_an_ecny_pilot_without_a_transaction_for_90_days_is_recorded_dormant_and_closes() -> None:
    w, pid = ecny_in_test()
    started = w.state(pid).test_started_on
    for _ in range(3):  # reports keep coming, but with no transaction
        w.report_month(pid, {"transactions": 0, "active_users": 10})
    assert w.state(pid).state == State.TESTING
    w.clock.advance(days=1)
    before = w.head()
    w.tick()
    assert w.types_since(pid, before) == ["DormancyDetected", "ThresholdBreached", "ExitInitiated"]
    dormant = next(e.payload for e in w.events(pid) if isinstance(e.payload, ev.DormancyDetected))
    assert dormant.criterion_id == "ec.exit.dormancy"
    assert dormant.last_activity_on == started and dormant.days == 91
    assert w.state(pid).state == State.EXIT_IN_PROGRESS
    assert w.state(pid).exit_criterion == "ec.exit.dormancy"
    head = w.head()
    assert w.tick() == 0 and w.head() == head


def test_a_data_asset_without_a_trade_for_a_year_gets_a_delisting_review_not_a_closure() -> None:
    w, pid = data_asset_in_test()
    w.clock.advance(days=366)
    before = w.head()
    w.tick()
    assert w.types_since(pid, before) == ["DormancyDetected", "ThresholdBreached"]
    assert w.state(pid).breaches[-1].action == "delisting_review"
    assert w.state(pid).state == State.TESTING
    assert w.tick() == 0


# -- 6. an incident threshold can be switched off --------------------------------------------------


def test_incidents_with_exit_at_null_suspend_but_never_force_exit_by_number() -> None:
    program = load_program("fintech-sandbox")
    data = msgspec.json.decode(msgspec.json.encode(program))
    for rule in data["exit"]:
        if rule["id"] == "fs.exit.severity1":
            rule["params"]["exit_at"] = None
    relaxed = decode_program(msgspec.json.encode(data))
    rule_params = next(r.params for r in relaxed.exit if r.id == "fs.exit.severity1")
    assert isinstance(rule_params, p.Incidents) and rule_params.exit_at is None
    today = D(2025, 6, 1)
    incidents = tuple(
        Incident(incident_id=f"i{n}", severity=1, kind="outage", occurred_on=today, consumer_loss_yuan=0,
                 position=n + 1)
        for n in range(3)
    )
    state = ProjectState(state=State.TESTING, test_started_on=D(2025, 5, 1), planned_end=D(2026, 5, 1),
                         incidents=incidents)
    strict = next(s for s in exit_criteria(state, program, today) if s.id == "fs.exit.severity1")
    loose = next(s for s in exit_criteria(state, relaxed, today) if s.id == "fs.exit.severity1")
    assert strict.action == "forced_exit"
    assert loose.action == "suspension"
