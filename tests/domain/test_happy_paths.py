"""One happy path per program kind, from draft to graduation (出盒), through the real service."""

from __future__ import annotations

import datetime as dt

from projections.rules import admission_checklist, exit_criteria
from schemas import commands as c
from schemas import events as ev
from schemas.lifecycle import State
from tests.fixtures.world import ALICE, APPROVER, APPROVER2, ASSESSOR, OFFICER, World, sha

QUIET = {"ThresholdBreached", "WarningIssued", "ProjectSuspended", "ReportOverdue", "ExitInitiated"}


def _graduate(w: World, pid: str, kpis: list[str], approvers: int) -> None:
    """From final evaluation: the final report, its acceptance, the recommendation, approvals."""
    assert w.state(pid).state == State.FINAL_EVALUATION
    w.do(pid, ALICE, c.SubmitFinalReport(sha256=sha("final report"), summary="全部指标达成", kpis_met=kpis))
    w.do(pid, ASSESSOR, c.AcceptFinalReport())
    w.do(pid, OFFICER, c.Recommend(decision="graduate"))
    w.do(pid, APPROVER, c.Approve(decision="graduate"))
    if approvers == 2:
        assert w.state(pid).state == State.FINAL_EVALUATION, "one approval of two must not graduate"
        w.do(pid, APPROVER2, c.Approve(decision="graduate"))
    assert w.state(pid).state == State.GRADUATED


def test_fintech_sandbox_from_draft_to_graduation() -> None:
    # given a complete application by a Fuzhou bank with a technology partner
    w = World()
    pid = w.create("fintech-sandbox")
    w.fintech_application(pid)
    assert w.state(pid).state == State.DRAFT

    # when it is submitted, accepted and its 20-working-day notice runs out
    w.through_notice(pid)
    s = w.state(pid)
    assert s.state == State.NOTICE_CLOSED
    assert s.notice_days == 20 and s.notice_unit == "working"
    program = w.registry.program("fintech-sandbox", s.program_version)
    checklist = admission_checklist(s, program, w.registry.reference(), w.clock.today)
    assert {x.status for x in checklist} == {"met"}, [(x.id, x.missing_en) for x in checklist if x.status != "met"]

    # then two different approvers admit it: one approval is not enough
    w.do(pid, OFFICER, c.Recommend(decision="admit"))
    w.do(pid, APPROVER, c.Approve(decision="admit"))
    assert w.state(pid).state == State.NOTICE_CLOSED
    w.do(pid, APPROVER2, c.Approve(decision="admit"))
    s = w.state(pid)
    assert s.state == State.ADMITTED
    admitted = [e.payload for e in w.events(pid) if isinstance(e.payload, ev.ProjectAdmitted)]
    assert admitted[0].recommender == "carol" and admitted[0].approvers == ["ada", "bo"]

    # when the test runs with a monthly report, every KPI met along the way
    w.do(pid, ALICE, c.StartTest())
    before = w.head()
    months = 0
    while w.state(pid).state == State.TESTING:
        kpis = ["approval_time"] if months < 6 else ["approval_time", "default_rate"]
        w.report_month(pid, {"users": 3000, "active_users": 2500, "exposure_yuan": 90_000_000,
                             "approval_time": 24, "default_rate": 12}, kpis)
        months += 1

    # then the clock ends the test without a single breach or warning, and it graduates
    assert 11 <= months <= 13
    seen = w.types_since(pid, before)
    assert "TestPeriodEnded" in seen and not QUIET & set(seen), seen
    _graduate(w, pid, ["approval_time", "default_rate"], approvers=2)
    s = w.state(pid)
    graduation = next(x for x in exit_criteria(s, program, w.clock.today) if x.id == "fs.exit.graduation")
    assert graduation.status == "reached"
    graduated = next(e for e in w.events(pid) if isinstance(e.payload, ev.ProjectGraduated))
    assert isinstance(graduated.payload, ev.ProjectGraduated) and graduated.payload.approvers == ["ada", "bo"]
    assert graduated.metadata.rule_version == "fintech-sandbox@1"


def test_ecny_pilot_in_fuzhou_from_draft_to_graduation() -> None:
    # given a Fuzhou transport-tolls pilot connecting through a designated operator, tier-4 wallets
    w = World()
    pid = w.create("ecny-pilot", title="福州高速数字人民币通行费")
    w.ecny_application(pid)
    w.through_notice(pid)
    s = w.state(pid)
    assert s.notice_days == 5
    program = w.registry.program("ecny-pilot", s.program_version)
    checklist = {x.id: x.status for x in admission_checklist(s, program, w.registry.reference(), w.clock.today)}
    assert checklist["ec.adm.pilot_area"] == "met"
    assert checklist["ec.adm.operator"] == "met"
    assert checklist["ec.adm.wallet_tiers"] == "met"
    assert set(checklist.values()) == {"met"}

    # when one approver admits it (the program asks for one) and it runs to its end date
    w.do(pid, OFFICER, c.Recommend(decision="admit"))
    w.do(pid, APPROVER, c.Approve(decision="admit"))
    assert w.state(pid).state == State.ADMITTED
    w.do(pid, OFFICER, c.StartTest())
    before = w.head()
    while w.state(pid).state == State.TESTING:
        w.report_month(
            pid,
            {"transactions": 12_000, "payment_failures": 10, "wallets_opened": 2_500, "active_users": 2_000},
            ["transactions", "wallets_opened"],
        )

    # then no threshold was crossed and it graduates with one approval
    assert not QUIET & set(w.types_since(pid, before))
    _graduate(w, pid, ["transactions", "wallets_opened"], approvers=1)


def test_ecny_red_packet_campaign_needs_its_budget_and_window() -> None:
    w = World()
    pid = w.create("ecny-pilot", title="数字人民币红包")
    w.ecny_application(pid, scenario="red_packets", campaign=True)
    w.through_notice(pid)
    w.admit(pid)
    assert w.state(pid).state == State.ADMITTED

    # without the budget the campaign condition is unmet
    other = w.create("ecny-pilot", title="数字人民币红包二")
    w.ecny_application(other, scenario="red_packets", campaign=True)
    w.do(other, ALICE, c.EditDraft(section="boundaries", fields={"campaign_budget_yuan": None}))
    s = w.state(other)
    program = w.registry.program_in_force("ecny-pilot", w.clock.today)
    status = {x.id: x for x in admission_checklist(s, program, w.registry.reference(), w.clock.today)}
    assert status["ec.adm.campaign"].status == "unmet"
    assert status["ec.adm.campaign"].missing_en == "not declared: campaign budget (yuan)"


def test_data_asset_public_data_registration_later_pledged_to_graduation() -> None:
    # given a public-data registration: 10 working days of notice
    w = World()
    pid = w.create_data_asset()
    w.data_asset_application(pid, public_data=True)
    w.do(pid, ALICE, c.Submit())
    w.do(pid, OFFICER, c.AcceptIntake())
    w.assess(pid)
    w.do(pid, OFFICER, c.OpenPublicNotice())
    s = w.state(pid)
    assert s.notice_starts is not None and s.notice_ends is not None
    assert (s.notice_days, s.notice_unit) == (10, "working")
    assert w.registry.reference().working_days_between(s.notice_starts, s.notice_ends) == 10

    # the notice does not close before its end
    w.clock.to(s.notice_ends)
    w.tick()
    assert w.state(pid).state == State.PUBLIC_NOTICE
    w.clock.advance(days=1)
    w.tick()
    assert w.state(pid).state == State.NOTICE_CLOSED
    w.admit(pid)
    w.do(pid, ALICE, c.StartTest())
    s = w.state(pid)
    assert s.test_started_on is not None and s.planned_end is not None
    assert (s.planned_end - s.test_started_on).days in range(729, 732)  # a 24-month pilot

    # when it is pledged with a fresh valuation, revalued within 12 months, and trades every month
    before = w.head()
    months = 0
    while w.state(pid).state == State.TESTING:
        if months in (3, 13):
            w.do(pid, ALICE, c.AttachDocument(
                kind="valuation_report", sha256=sha(f"valuation {months}"), title="资产评估报告",
                issued_on=w.clock.today))
        if months == 3:
            w.do(pid, ALICE, c.RegisterPledge(pledgee="福州农村商业银行", registration_no="ZY-2025-001",
                                              on=w.clock.today))
        w.report_month(pid, {"trades": 40, "buyers": 6}, ["trades", "buyers"])
        months += 1

    # then nothing was flagged (the valuation never aged past 12 months) and it graduates
    assert months in range(24, 26)
    assert not QUIET & set(w.types_since(pid, before))
    assert not w.state(pid).breached("da.exit.valuation_age")
    _graduate(w, pid, ["trades", "buyers"], approvers=1)


def test_data_asset_listing_needs_only_three_days_of_notice() -> None:
    w = World()
    pid = w.create_data_asset(title="物流数据挂牌")
    w.data_asset_application(pid, public_data=False)
    w.do(pid, ALICE, c.Submit())
    w.do(pid, OFFICER, c.AcceptIntake())
    w.assess(pid)
    w.do(pid, OFFICER, c.OpenPublicNotice())
    s = w.state(pid)
    assert (s.notice_days, s.notice_unit) == (3, "calendar")
    assert s.notice_starts is not None and s.notice_ends == s.notice_starts + dt.timedelta(days=3)
    w.clock.advance(days=4)
    w.tick()
    w.admit(pid)
    assert w.state(pid).state == State.ADMITTED
