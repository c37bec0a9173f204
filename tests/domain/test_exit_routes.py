"""One scenario per exit route (the exit criteria and the lifecycle), through the real service."""

from __future__ import annotations

import datetime as dt

import pytest

from schemas import commands as c
from schemas import events as ev
from schemas.base import Event
from schemas.lifecycle import State
from tests.fixtures.scenarios import USERS, data_asset_in_test, ecny_in_test, fintech_in_test
from tests.fixtures.world import ALICE, APPROVER, APPROVER2, OFFICER, World, sha


def one_append(w: World, pid: str, positions: list[int]) -> list[Event]:
    """The payloads at ``positions``, checked to be one contiguous append of one command."""
    recorded = [e for e in w.events(pid) if e.position in positions]
    assert [e.position for e in recorded] == list(range(positions[0], positions[0] + len(positions)))
    commands = {e.metadata.correlation_id for e in recorded}
    assert len(commands) == 1 and None not in commands, commands
    return [e.payload for e in recorded]


# -- before admission ------------------------------------------------------------------------


def test_rejected_after_the_notice_by_two_approvers() -> None:
    w = World()
    pid = w.create("fintech-sandbox")
    w.fintech_application(pid)
    w.through_notice(pid)
    w.do(pid, OFFICER, c.Recommend(decision="reject", reason="创新性不足"))
    w.do(pid, APPROVER, c.Approve(decision="reject"))
    assert w.state(pid).state == State.NOTICE_CLOSED
    w.do(pid, APPROVER2, c.Approve(decision="reject"))
    assert w.state(pid).state == State.REJECTED
    rejected = next(e.payload for e in w.events(pid) if isinstance(e.payload, ev.ApplicationRejected))
    assert rejected.recommender == "carol" and rejected.approvers == ["ada", "bo"]
    w.refused(pid, ALICE, c.SupplyInformation(summary="补充说明"), "terminal_state")


def test_rejected_during_review_without_a_notice() -> None:
    w = World()
    pid = w.create("fintech-sandbox")
    w.fintech_application(pid)
    w.do(pid, ALICE, c.Submit())
    w.do(pid, OFFICER, c.AcceptIntake())
    w.do(pid, OFFICER, c.Recommend(decision="reject"))
    w.do(pid, APPROVER, c.Approve(decision="reject"))
    w.do(pid, APPROVER2, c.Approve(decision="reject"))
    assert w.state(pid).state == State.REJECTED


def test_withdrawn_by_the_applicant_before_admission_only() -> None:
    w = World()
    pid = w.create("fintech-sandbox")
    w.fintech_application(pid)
    w.do(pid, ALICE, c.Submit())
    w.do(pid, OFFICER, c.AcceptIntake())
    w.refused(pid, OFFICER, c.Withdraw(), "wrong_role")
    w.do(pid, ALICE, c.Withdraw(reason="业务调整"))
    assert w.state(pid).state == State.WITHDRAWN
    w.refused(pid, ALICE, c.Withdraw(), "terminal_state")

    admitted = w.create("fintech-sandbox")
    w.fintech_application(admitted)
    w.through_notice(admitted)
    w.admit(admitted)
    w.refused(admitted, ALICE, c.Withdraw(), "wrong_state")


# -- incidents and suspension ----------------------------------------------------------------


def test_severity_1_incident_suspends_in_the_same_append_and_is_reinstated() -> None:
    w, pid = fintech_in_test()
    w.report_month(pid, USERS)

    # when a severity-1 incident is reported
    result = w.do(pid, ALICE, c.ReportIncident(
        incident_id="inc-1", kind="outage", outage_minutes=300, occurred_on=w.clock.today,
        description="核心系统中断 5 小时"))

    # then the report, the breach and the suspension are one append, by one command
    assert result.event_types == ["IncidentReported", "ThresholdBreached", "ProjectSuspended"]
    report, breach, suspended = one_append(w, pid, result.positions)
    assert isinstance(report, ev.IncidentReported) and report.severity == 1
    assert isinstance(breach, ev.ThresholdBreached) and isinstance(suspended, ev.ProjectSuspended)
    assert breach.criterion_id == "fs.exit.severity1" and breach.action == "suspension"
    assert breach.figures["incidents"] == 1
    automatic = [e for e in w.events(pid) if e.position in result.positions[1:]]
    assert {(e.metadata.actor, e.metadata.role) for e in automatic} == {("system", "system")}
    s = w.state(pid)
    assert s.state == State.SUSPENDED and s.suspension_category == "fs.exit.severity1"
    assert s.breaches[-1].evidence == (result.positions[0],), "the breach cites the incident report"

    # when it is remediated and an approver (not the case officer) reinstates it
    w.do(pid, ALICE, c.RemediateIncident(incident_id="inc-1"))
    w.refused(pid, OFFICER, c.Reinstate(), "wrong_role")
    w.do(pid, APPROVER, c.Reinstate(reason="已整改"))
    assert w.state(pid).state == State.TESTING

    # then the next ordinary report does not suspend it again for the same incident
    before = w.head()
    w.report_month(pid, USERS)
    assert w.types_since(pid, before) == ["MetricsReported"]
    assert w.state(pid).state == State.TESTING


def test_second_severity_1_incident_forces_exit() -> None:
    w, pid = fintech_in_test()
    w.do(pid, ALICE, c.ReportIncident(incident_id="inc-1", severity=1, kind="data_breach", occurred_on=w.clock.today))
    w.do(pid, ALICE, c.RemediateIncident(incident_id="inc-1"))
    w.do(pid, APPROVER, c.Reinstate())
    w.clock.advance(days=10)

    result = w.do(pid, OFFICER, c.ReportIncident(
        incident_id="inc-2", severity=1, kind="fund_loss", occurred_on=w.clock.today, consumer_loss_yuan=20_000))
    assert result.event_types == ["IncidentReported", "ThresholdBreached", "ExitInitiated"]
    _, breach, exit_ = one_append(w, pid, result.positions)
    assert isinstance(breach, ev.ThresholdBreached) and breach.action == "forced_exit"
    assert breach.figures["incidents"] == 2
    assert isinstance(exit_, ev.ExitInitiated) and exit_.mode == "forced"
    assert exit_.criterion_id == "fs.exit.severity1"
    assert w.state(pid).state == State.EXIT_IN_PROGRESS

    w.refused(pid, ALICE, c.ConfirmExit(), "wrong_role")
    w.do(pid, OFFICER, c.ConfirmExit())
    assert w.state(pid).state == State.EXITED


def test_severity_1_incident_unremediated_after_30_days_forces_exit_by_the_timer() -> None:
    w, pid = fintech_in_test()
    w.do(pid, ALICE, c.ReportIncident(incident_id="inc-1", kind="outage", outage_minutes=300,
                                      occurred_on=w.clock.today))
    assert w.state(pid).state == State.SUSPENDED
    w.clock.advance(days=30)
    before = w.head()
    w.tick()
    assert "ExitInitiated" not in w.types_since(pid, before)
    w.clock.advance(days=1)
    w.tick()
    assert w.state(pid).state == State.EXIT_IN_PROGRESS
    assert w.state(pid).exit_criterion == "fs.exit.severity1"


def test_forced_exit_recommended_by_an_officer_needs_two_other_approvers() -> None:
    w, pid = fintech_in_test()
    w.do(pid, OFFICER, c.InitiateExit(mode="forced", reason="严重违规"))
    assert w.state(pid).state == State.TESTING
    w.refused(pid, ALICE, c.InitiateExit(mode="forced"), "wrong_role")
    w.do(pid, APPROVER, c.Approve(decision="exit"))
    w.do(pid, APPROVER2, c.Approve(decision="exit"))
    assert w.state(pid).state == State.EXIT_IN_PROGRESS and w.state(pid).exit_mode == "forced"
    w.do(pid, APPROVER, c.ConfirmExit())
    assert w.state(pid).state == State.EXITED


# -- voluntary exit and extensions -----------------------------------------------------------


def test_voluntary_exit_needs_users_told_30_days_ahead() -> None:
    w, pid = fintech_in_test()
    today = w.clock.today
    w.refused(pid, ALICE, c.InitiateExit(
        mode="voluntary", users_notified_on=today, planned_exit_on=today + dt.timedelta(days=29)),
        "exit_notice_too_short")
    w.refused(pid, OFFICER, c.InitiateExit(
        mode="voluntary", users_notified_on=today, planned_exit_on=today + dt.timedelta(days=30)), "wrong_role")
    w.do(pid, ALICE, c.InitiateExit(
        mode="voluntary", users_notified_on=today, planned_exit_on=today + dt.timedelta(days=30)))
    assert w.state(pid).state == State.EXIT_IN_PROGRESS

    # the regulator cannot confirm before the 30 days have run
    w.clock.advance(days=29)
    w.refused(pid, OFFICER, c.ConfirmExit(), "exit_notice_too_short")
    w.clock.advance(days=1)
    w.do(pid, OFFICER, c.ConfirmExit())
    assert w.state(pid).state == State.EXITED


def test_extension_granted_once_and_the_test_ends_later() -> None:
    w, pid = fintech_in_test()
    s = w.state(pid)
    assert s.planned_end is not None
    end = s.planned_end
    w.clock.to(end - dt.timedelta(days=30))  # the last day to ask
    w.refused(pid, ALICE, c.RequestExtension(months=7), "extension_not_allowed")
    w.do(pid, ALICE, c.RequestExtension(months=6, reason="需更多样本"))
    w.refused(pid, OFFICER, c.GrantExtension(), "wrong_role")
    w.do(pid, APPROVER, c.GrantExtension())
    s = w.state(pid)
    assert s.extensions_granted == 1 and s.planned_end is not None
    assert s.planned_end == dt.date(end.year + (end.month + 5) // 12, (end.month + 5) % 12 + 1, end.day)

    # at most one extension
    w.refused(pid, ALICE, c.RequestExtension(months=1), "extension_not_allowed")

    # the old end passes without ending the test; the new one ends it
    w.clock.to(end + dt.timedelta(days=1))
    w.report_month(pid, USERS)
    assert w.state(pid).state == State.TESTING
    w.clock.to(s.planned_end)
    w.tick()
    assert w.state(pid).state == State.FINAL_EVALUATION


def test_extension_refused_and_a_late_request_refused() -> None:
    w, pid = fintech_in_test()
    s = w.state(pid)
    assert s.planned_end is not None
    end = s.planned_end
    w.clock.to(end - dt.timedelta(days=60))
    w.refused(pid, APPROVER, c.RefuseExtension(), "no_extension_request")
    w.do(pid, ALICE, c.RequestExtension(months=3))
    w.do(pid, APPROVER, c.RefuseExtension(reason="测试目标已可评估"))
    s = w.state(pid)
    assert s.planned_end == end and s.extensions_granted == 0 and s.extension_requested_months is None

    # asking again later than 30 days before the end is refused
    w.clock.to(end - dt.timedelta(days=29))
    e = w.refused(pid, ALICE, c.RequestExtension(months=3), "extension_not_allowed")
    assert "30 days before the end" in e.message_en
    before = w.head()
    w.tick()
    assert "ExtensionDeadlinePassed" in w.types_since(pid, before)
    w.clock.to(end)
    w.tick()
    assert w.state(pid).state == State.FINAL_EVALUATION


# -- revocation and external facts -----------------------------------------------------------


def test_revoked_for_false_materials_on_a_recommendation_approved_by_others() -> None:
    """A revocation is a forced ending: recommended by a case officer with a reason, approved
    by approvers who are not the recommender, never the same one twice, as many as the program
    asks for (two in the fintech sandbox)."""
    w, pid = fintech_in_test()
    w.refused(pid, OFFICER, c.Recommend(decision="revoke"), "reason_required")
    w.refused(pid, APPROVER, c.Recommend(decision="revoke", reason="伪造审计意见"), "wrong_role")
    w.do(pid, OFFICER, c.Recommend(decision="revoke", reason="伪造外部法律评估意见"))
    w.do(pid, APPROVER, c.Approve(decision="revoke"))
    assert w.state(pid).state == State.TESTING
    w.refused(pid, APPROVER, c.Approve(decision="revoke"), "four_eyes")
    w.do(pid, APPROVER2, c.Approve(decision="revoke"))
    s = w.state(pid)
    assert s.state == State.REVOKED and s.history[-1].category == "false_materials"
    assert s.decisions[-1].decision == "revoke" and s.decisions[-1].approvers == ("ada", "bo")
    w.refused(pid, ALICE, c.ReportMetrics(
        period_start=w.clock.today, period_end=w.clock.today, metrics={"users": 1}), "terminal_state")


def test_terminated_on_a_recommendation_approved_by_others() -> None:
    w, pid = fintech_in_test()
    w.do(pid, OFFICER, c.Recommend(decision="terminate", category="designation_withdrawn", reason="资质条件丧失"))
    w.refused(pid, APPROVER, c.Approve(decision="exit"), "recommendation_mismatch")
    w.do(pid, APPROVER, c.Approve(decision="terminate"))
    w.do(pid, APPROVER2, c.Approve(decision="terminate"))
    s = w.state(pid)
    assert s.state == State.TERMINATED and s.history[-1].category == "designation_withdrawn"
    assert s.pending is None and s.decisions[-1].decision == "terminate"


def test_a_forced_ending_waiting_for_approval_cannot_be_escaped_and_outlives_the_test() -> None:
    """While a revocation waits for its approvals the applicant cannot exit instead; once the
    test period has ended (the project moved to final evaluation) it is still decided, never
    left waiting where nothing could decide it."""
    w, pid = fintech_in_test()
    w.do(pid, OFFICER, c.Recommend(decision="revoke", reason="伪造外部法律评估意见"))
    w.do(pid, APPROVER, c.Approve(decision="revoke"))
    today = w.clock.today
    w.refused(pid, ALICE, c.InitiateExit(mode="voluntary", users_notified_on=today,
                                         planned_exit_on=today + dt.timedelta(days=40)), "recommendation_pending")
    end = w.state(pid).planned_end
    assert end is not None
    w.clock.to(end + dt.timedelta(days=1))
    w.tick()
    assert w.state(pid).state == State.FINAL_EVALUATION
    w.do(pid, APPROVER2, c.Approve(decision="revoke"))
    assert w.state(pid).state == State.REVOKED


def _approved(w: World, pid: str, decision: str) -> None:
    for approver in (APPROVER, APPROVER2):
        pending = w.state(pid).pending
        if pending is None or pending.decision != decision:
            return
        w.do(pid, approver, c.Approve(decision=decision))  # type: ignore[arg-type]


def test_data_asset_revoked_when_false_materials_are_recorded() -> None:
    w, pid = data_asset_in_test()
    result = w.do(pid, OFFICER, c.RecordExternalFact(trigger="false_materials", on=w.clock.today,
                                                     detail="数据来源授权书系伪造"))
    assert result.event_types == ["ExternalFactRecorded", "ThresholdBreached", "ProjectRevoked"]
    assert w.state(pid).state == State.REVOKED


@pytest.mark.parametrize("route", ["recommended_and_approved", "recorded_fact"])
def test_graduated_project_revoked_for_false_materials(route: str) -> None:
    # GRADUATED -> REVOKED (false materials); nothing else moves a graduate
    w, pid = data_asset_in_test()
    end = w.state(pid).planned_end
    assert end is not None
    w.clock.to(end)
    w.do(pid, ALICE, c.ReportMetrics(period_start=end - dt.timedelta(days=29), period_end=end,
                                     metrics={"trades": 120, "buyers": 6}, kpis_met=["trades", "buyers"]))
    w.tick()
    w.do(pid, ALICE, c.SubmitFinalReport(sha256=sha("final"), summary="完成"))
    w.do(pid, OFFICER, c.AcceptFinalReport())
    w.do(pid, OFFICER, c.Recommend(decision="graduate"))
    w.do(pid, APPROVER, c.Approve(decision="graduate"))
    assert w.state(pid).state == State.GRADUATED
    w.refused(pid, ALICE, c.SubmitFinalReport(sha256=sha("again"), summary="再次"), "terminal_state")
    w.refused(pid, APPROVER, c.Suspend(category="x"), "terminal_state")
    # a fact that would suspend a live project does nothing to a graduate
    result = w.do(pid, OFFICER, c.RecordExternalFact(trigger="source_authorisation_lapsed", on=w.clock.today))
    assert result.event_types == ["ExternalFactRecorded"]

    if route == "recommended_and_approved":
        w.do(pid, OFFICER, c.Recommend(decision="revoke", reason="质量评估报告造假"))
        _approved(w, pid, "revoke")
    else:
        result = w.do(pid, OFFICER, c.RecordExternalFact(trigger="false_materials", on=w.clock.today))
        assert result.event_types == ["ExternalFactRecorded", "ThresholdBreached", "ProjectRevoked"]
    assert w.state(pid).state == State.REVOKED
    w.refused(pid, OFFICER, c.Recommend(decision="revoke", reason="again"), "terminal_state")
    w.refused(pid, OFFICER, c.RecordExternalFact(trigger="false_materials", on=w.clock.today), "terminal_state")


def test_ecny_project_whose_pilot_area_is_withdrawn_is_forced_to_exit() -> None:
    w, pid = ecny_in_test()
    w.refused(pid, ALICE, c.RecordExternalFact(trigger="pilot_area_withdrawn", on=w.clock.today), "wrong_role")
    result = w.do(pid, OFFICER, c.RecordExternalFact(
        trigger="pilot_area_withdrawn", on=w.clock.today, detail="福州试点资格撤销"))
    assert result.event_types == ["ExternalFactRecorded", "ThresholdBreached", "ExitInitiated"]
    _, breach, exit_ = one_append(w, pid, result.positions)
    assert isinstance(breach, ev.ThresholdBreached)
    assert (breach.criterion_id, breach.action) == ("ec.exit.designation_withdrawn", "forced_exit")
    assert isinstance(exit_, ev.ExitInitiated) and exit_.mode == "forced"
    w.do(pid, OFFICER, c.ConfirmExit())
    assert w.state(pid).state == State.EXITED


@pytest.mark.parametrize(("declared", "cadence"), [(7, 7), (90, 30), (30, 30)])
def test_reports_fall_due_at_the_cadence_the_test_plan_declares_never_later_than_the_programs(
    declared: int, cadence: int
) -> None:
    """DESIGN: a test plan with its reporting cadence. The cadence declared was ignored: a plan that
    promised weekly reports was held to the program's monthly one."""
    w = World()
    pid = w.create("fintech-sandbox")
    w.fintech_application(pid)
    w.do(pid, ALICE, c.EditDraft(section="test_plan", fields={"reporting_cadence_days": declared}))
    w.through_notice(pid)
    w.start_testing(pid)
    started = w.clock.today
    w.clock.to(started + dt.timedelta(days=cadence + 10))  # due, and 10 days late: not yet warned
    before = w.head()
    w.tick()
    assert "ReportOverdue" not in w.types_since(pid, before)
    w.clock.advance(days=1)
    w.tick()
    overdue = [e.payload for e in w.events(pid) if isinstance(e.payload, ev.ReportOverdue)]
    assert [o.due_on for o in overdue] == [started + dt.timedelta(days=cadence)]
    assert w.state(pid).breached("fs.exit.report_late")


@pytest.mark.parametrize("cadence", ["weekly", 0, -7, 7.5])
def test_a_declared_cadence_must_be_a_whole_number_of_days(cadence: object) -> None:
    """A cadence of 0 used to be recorded and then ignored (the program's applied)."""
    w = World()
    pid = w.create("fintech-sandbox")
    e = w.refused(pid, ALICE, c.EditDraft(section="test_plan", fields={"reporting_cadence_days": cadence}),
                  "invalid_value")
    assert e.params["field"] == "fields.reporting_cadence_days" and "from 1" in e.params["rule_en"]


def _withdraw(w: World, dataset: str, code: str, on: dt.date | None = None) -> None:
    """The reference data withdraws ``code`` from ``on`` (today by default; reference data has its
    own events)."""
    records = w.registry.reference().records(dataset)  # type: ignore[arg-type]
    for record in records:
        if record["code"] == code:
            record["withdrawn"] = (on or w.clock.today).isoformat()
    w.registry.update_reference(dataset, records, APPROVER, command_id=w.cid(), changes=[f"{code} withdrawn"])  # type: ignore[arg-type]


@pytest.mark.parametrize(("dataset", "code", "fact"), [
    ("pilot_areas", "fuzhou", "pilot_area_withdrawn"),
    ("operators", "cib", "operator_withdrawn"),
])
def test_a_designation_withdrawn_in_the_reference_data_forces_the_exit(dataset: str, code: str, fact: str) -> None:
    """DESIGN: pilot area or operator designation withdrawn, forced exit. It used to wait for a
    case officer to record the fact by hand; the reference data already said so."""
    w, pid = ecny_in_test()
    w.clock.advance(days=3)
    _withdraw(w, dataset, code)
    assert w.state(pid).state == State.TESTING  # (the withdrawal takes effect today, at the next tick)
    before = w.head()
    w.tick()
    assert w.types_since(pid, before) == ["ExternalFactRecorded", "ThresholdBreached", "ExitInitiated"]
    recorded = w.state(pid).facts[-1]
    assert recorded.trigger == fact and recorded.on == w.clock.today
    assert w.state(pid).breached("ec.exit.designation_withdrawn") and w.state(pid).exit_mode == "forced"
    before = w.head()
    w.tick()
    assert w.types_since(pid, before) == [], w.types_since(pid, before)  # once
    # a withdrawal dated back before the submission (a correction) withdraws it all the same
    w3, corrected = ecny_in_test()
    _withdraw(w3, dataset, code, on=dt.date(2024, 1, 1))
    before = w3.head()
    w3.tick()
    assert w3.types_since(corrected, before) == ["ExternalFactRecorded", "ThresholdBreached", "ExitInitiated"]
    # an admitted project that never started ends there (no users to exit)
    w2 = World()
    admitted = w2.create("ecny-pilot")
    w2.ecny_application(admitted)
    w2.through_notice(admitted)
    w2.admit(admitted)
    _withdraw(w2, dataset, code)
    w2.tick()
    assert w2.state(admitted).state == State.TERMINATED


def test_a_designation_that_never_held_is_none_to_lose() -> None:
    """A pilot in an area that was never a pilot area (its condition waived) is not forced out by
    the timers, nor by another area's withdrawal."""
    w = World()
    pid = w.create("ecny-pilot")
    w.ecny_application(pid)
    w.do(pid, ALICE, c.EditDraft(section="boundaries", fields={"pilot_area": "nowhere"}))
    w.through_notice(pid)
    w.do(pid, APPROVER, c.WaiveCondition(condition_id="ec.adm.pilot_area", reason="专项批准"))
    w.start_testing(pid)
    _withdraw(w, "pilot_areas", "xiamen")
    before = w.head()
    w.tick()
    assert w.types_since(pid, before) == [] and w.state(pid).state == State.TESTING


def test_a_data_asset_is_not_cancelled_while_a_pledge_is_outstanding() -> None:
    """DESIGN: cancellation (注销) with no pledge outstanding. It used to close the listing at
    once, with the pledge still registered against the asset."""
    w, pid = data_asset_in_test()
    w.do(pid, ALICE, c.AttachDocument(kind="valuation_report", sha256=sha("valuation"), title="评估报告",
                                      issued_on=w.clock.today))
    w.do(pid, ALICE, c.RegisterPledge(pledgee="福州农村商业银行", registration_no="ZY-2025-001", on=w.clock.today))
    e = w.refused(pid, OFFICER, c.RecordExternalFact(trigger="cancellation_requested", on=w.clock.today),
                  "pledge_outstanding")
    assert "release_pledge" in e.message_en and "ZY-2025-001" in e.message_en and "质押" in e.message_zh
    assert w.state(pid).state == State.TESTING
    # with no pledge, the cancellation closes the listing
    w3, free = data_asset_in_test()
    result = w3.do(free, OFFICER, c.RecordExternalFact(trigger="cancellation_requested", on=w3.clock.today))
    assert result.event_types == ["ExternalFactRecorded", "ThresholdBreached", "ExitInitiated"]


def test_a_fact_named_a_letter_or_two_from_one_the_rules_read_is_refused_as_a_slip() -> None:
    """``pilot_area_withdrawm`` used to be recorded, and the forced exit it was meant for never
    came. A fact of a name no rule reads is still recorded, as information."""
    w, pid = ecny_in_test()
    slips = (("pilot_area_withdrawm", "pilot_area_withdrawn"), ("operator_withdrawal", "operator_withdrawn"))
    for slip, meant in slips:
        e = w.refused(pid, OFFICER, c.RecordExternalFact(trigger=slip, on=w.clock.today), "invalid_value")
        assert e.params["field"] == "trigger" and meant in e.params["rule_en"] and meant in e.params["rule_zh"]
    result = w.do(pid, OFFICER, c.RecordExternalFact(trigger="media_report", on=w.clock.today, detail="媒体报道"))
    assert result.event_types == ["ExternalFactRecorded"] and w.state(pid).state == State.TESTING
    # another fact, whose name differs by more than a slip, is information too
    result = w.do(pid, OFFICER, c.RecordExternalFact(trigger="campaign_budget_increased", on=w.clock.today))
    assert result.event_types == ["ExternalFactRecorded"]
    # (a fact another program's rules read, such as a lapsed data-source authorisation, is information here)
    recorded = w.do(pid, OFFICER, c.RecordExternalFact(trigger="source_authorisation_lapsed", on=w.clock.today))
    assert recorded.event_types == ["ExternalFactRecorded"]


def test_data_asset_pledge_valuation_expires_after_12_months() -> None:
    w, pid = data_asset_in_test()
    issued = w.clock.today
    w.do(pid, ALICE, c.AttachDocument(kind="valuation_report", sha256=sha("valuation"), title="评估报告",
                                      issued_on=issued))
    w.do(pid, ALICE, c.RegisterPledge(pledgee="福州农村商业银行", registration_no="ZY-2025-001", on=issued))
    for _ in range(12):
        w.report_month(pid, {"trades": 3})
    assert not w.state(pid).breached("da.exit.valuation_age")

    # when the clock passes 12 months after the valuation, the timer flags it (no suspension)
    w.clock.to(dt.date(issued.year + 1, issued.month, issued.day) + dt.timedelta(days=1))
    before = w.head()
    w.tick()
    assert w.types_since(pid, before) == ["ThresholdBreached"]
    breach = w.state(pid).breaches[-1]
    assert (breach.criterion_id, breach.action) == ("da.exit.valuation_age", "flag")
    assert w.state(pid).state == State.TESTING

    # ticking again records nothing; a fresh valuation clears it
    assert w.tick() == 0
    w.do(pid, ALICE, c.AttachDocument(kind="valuation_report", sha256=sha("revalued"), title="重新评估",
                                      issued_on=w.clock.today))
    w.clock.advance(days=40)
    before = w.head()
    w.report_month(pid, {"trades": 3})
    assert "ThresholdBreached" not in w.types_since(pid, before)


# -- thresholds ------------------------------------------------------------------------------


def test_users_above_the_declared_cap_suspend_immediately() -> None:
    w, pid = fintech_in_test()  # max_users 5000
    w.report_month(pid, USERS)
    result = w.report_month(pid, {**USERS, "users": 5001})
    assert result.event_types == ["MetricsReported", "ThresholdBreached", "ProjectSuspended"]
    _, breach, _ = one_append(w, pid, result.positions)
    assert isinstance(breach, ev.ThresholdBreached) and breach.criterion_id == "fs.exit.cap_breach"
    assert breach.figures["users"] == 5001 and breach.figures["max_users"] == 5000
    assert w.state(pid).state == State.SUSPENDED


def test_report_overdue_warns_after_10_days_and_suspends_after_30() -> None:
    w, pid = fintech_in_test()
    started = w.clock.today
    due = started + dt.timedelta(days=30)

    w.clock.to(due + dt.timedelta(days=10))
    assert w.tick() == 0
    w.clock.to(due + dt.timedelta(days=11))
    before = w.head()
    w.tick()
    assert w.types_since(pid, before) == ["ReportOverdue", "ThresholdBreached", "WarningIssued"]
    assert w.state(pid).warnings == ("fs.exit.report_late",)
    assert w.state(pid).state == State.TESTING

    w.clock.to(due + dt.timedelta(days=30))
    assert w.tick() == 0
    w.clock.to(due + dt.timedelta(days=31))
    before = w.head()
    w.tick()
    assert w.types_since(pid, before) == ["ReportOverdue", "ThresholdBreached", "ProjectSuspended"]
    assert w.state(pid).state == State.SUSPENDED
    assert w.state(pid).suspension_category == "fs.exit.report_late"


def test_a_later_overdue_report_warns_again() -> None:
    w, pid = fintech_in_test()
    due = w.clock.today + dt.timedelta(days=30)
    w.clock.to(due + dt.timedelta(days=11))
    w.tick()
    assert w.state(pid).warnings == ("fs.exit.report_late",)
    # the late report arrives; the next one is due 30 days after its period
    w.do(pid, ALICE, c.ReportMetrics(period_start=due - dt.timedelta(days=29), period_end=due, metrics=USERS))
    w.clock.to(due + dt.timedelta(days=30 + 11))
    before = w.head()
    w.tick()
    assert w.types_since(pid, before) == ["ReportOverdue", "ThresholdBreached", "WarningIssued"]
    assert w.state(pid).warnings == ("fs.exit.report_late", "fs.exit.report_late")


def test_complaints_over_5_per_1000_active_users_record_a_suspension_review() -> None:
    w, pid = fintech_in_test()
    w.report_month(pid, USERS)  # 1,000 active users
    for n in range(1, 6):
        result = w.do(pid, ALICE, c.LogComplaint(complaint_id=f"cp-{n}", category="fees", received_on=w.clock.today))
        assert result.event_types == ["ComplaintLogged"]
    result = w.do(pid, OFFICER, c.LogComplaint(complaint_id="cp-6", category="fees", received_on=w.clock.today))
    assert result.event_types == ["ComplaintLogged", "ThresholdBreached"]
    breach = w.state(pid).breaches[-1]
    assert (breach.criterion_id, breach.action) == ("fs.exit.complaints", "suspension_review")
    assert w.state(pid).state == State.TESTING  # a review, not a suspension

    # one more complaint in the same window does not record the same breach again
    result = w.do(pid, ALICE, c.LogComplaint(complaint_id="cp-7", category="fees", received_on=w.clock.today))
    assert result.event_types == ["ComplaintLogged"]


@pytest.mark.parametrize(("failures", "suspended"), [(50, False), (51, True)])
def test_ecny_payment_failure_rate_over_half_a_percent_in_7_days_suspends(failures: int, suspended: bool) -> None:
    w, pid = ecny_in_test()
    w.clock.advance(days=7)
    today = w.clock.today
    result = w.do(pid, ALICE, c.ReportMetrics(
        period_start=today - dt.timedelta(days=6), period_end=today,
        metrics={"transactions": 10_000, "payment_failures": failures}))
    if suspended:
        assert result.event_types == ["MetricsReported", "ThresholdBreached", "ProjectSuspended"]
        breach = w.state(pid).breaches[-1]
        assert (breach.criterion_id, breach.action) == ("ec.exit.payment_failure", "suspension")
        assert w.state(pid).state == State.SUSPENDED
    else:
        assert result.event_types == ["MetricsReported"]
        assert w.state(pid).state == State.TESTING


def test_ecny_admitted_but_not_started_whose_pilot_area_is_withdrawn_is_terminated() -> None:
    w = World()
    pid = w.create("ecny-pilot")
    w.ecny_application(pid)
    w.through_notice(pid)
    w.admit(pid)
    result = w.do(pid, OFFICER, c.RecordExternalFact(trigger="pilot_area_withdrawn", on=w.clock.today))
    assert result.event_types == ["ExternalFactRecorded", "ThresholdBreached", "ProjectTerminated"]
    assert w.state(pid).state == State.TERMINATED
    w.refused(pid, ALICE, c.StartTest(), "terminal_state")


def test_ecny_dormancy_closes_a_pilot_in_test_but_not_one_in_final_evaluation() -> None:
    w, pid = ecny_in_test()
    w.clock.advance(days=91)
    before = w.head()
    w.tick()
    assert w.types_since(pid, before) == ["DormancyDetected", "ThresholdBreached", "ExitInitiated"]
    assert w.state(pid).exit_criterion == "ec.exit.dormancy"

    # a pilot whose test has ended is not dormant while the regulator evaluates it
    w, pid = ecny_in_test()
    end = w.state(pid).planned_end
    assert end is not None
    w.clock.to(end)
    w.do(pid, ALICE, c.ReportMetrics(period_start=end - dt.timedelta(days=29), period_end=end,
                                     metrics={"transactions": 900}, kpis_met=["transactions", "wallets_opened"]))
    w.tick()
    assert w.state(pid).state == State.FINAL_EVALUATION
    w.clock.advance(days=120)
    before = w.head()
    w.tick()
    assert w.types_since(pid, before) == []
    assert w.state(pid).state == State.FINAL_EVALUATION


def test_a_corrected_report_replaces_the_figures_it_corrects_instead_of_adding_to_them() -> None:
    w, pid = ecny_in_test()
    w.clock.advance(days=7)
    today = w.clock.today
    period = {"period_start": today - dt.timedelta(days=6), "period_end": today}
    first = w.do(pid, ALICE, c.ReportMetrics(**period, metrics={"transactions": 10_000, "payment_failures": 30}))
    # the same period again: a correction (40 per 10,000 is under the limit; 30 + 40 would not be)
    again = w.do(pid, ALICE, c.ReportMetrics(**period, metrics={"transactions": 10_000, "payment_failures": 40}))
    assert first.event_types == again.event_types == ["MetricsReported"]
    assert w.state(pid).state == State.TESTING
    # another week's report adds to the window with its own figures
    w.clock.advance(days=1)
    later = w.do(pid, ALICE, c.ReportMetrics(period_start=w.clock.today, period_end=w.clock.today,
                                             metrics={"transactions": 1_000, "payment_failures": 16}))
    assert later.event_types == ["MetricsReported", "ThresholdBreached", "ProjectSuspended"]
    breach = w.state(pid).breaches[-1]
    assert breach.criterion_id == "ec.exit.payment_failure"
    assert list(breach.evidence) == [again.positions[0], later.positions[0]]
