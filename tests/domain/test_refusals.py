"""Refusals with their stable codes (and nothing appended), rule versions, timers and back-dating."""

from __future__ import annotations

import datetime as dt

import msgspec
import pytest

from events.model import NewEvent, StreamWrite
from projections.rules import admission_checklist
from schemas import commands as c
from schemas import events as ev
from schemas import programs as p
from schemas.base import EventMetadata
from schemas.dates import months_later
from schemas.errors import DomainError
from schemas.lifecycle import State
from schemas.reference import HolidayCalendar
from schemas.registry import RegistryCreated
from tests.fixtures.world import (
    ALICE,
    APPROVER,
    APPROVER2,
    ASSESSOR,
    AUDITOR,
    CAROL_AS_APPROVER,
    OFFICER,
    OTHER,
    PUBLIC,
    SYSTEM,
    TECHCO,
    World,
    sha,
)


def in_review(w: World) -> str:
    pid = w.create("fintech-sandbox")
    w.fintech_application(pid)
    w.do(pid, ALICE, c.Submit())
    w.do(pid, OFFICER, c.AcceptIntake())
    return pid


def test_wrong_role() -> None:
    w = World()
    pid = w.create("fintech-sandbox")
    w.fintech_application(pid)
    for actor in (OFFICER, PUBLIC, AUDITOR, SYSTEM):
        e = w.refused(pid, actor, c.Submit(), "wrong_role")
        assert e.params == {"role": actor.role, "action": "submit"}
    w.do(pid, ALICE, c.Submit())
    w.refused(pid, PUBLIC, c.AcceptIntake(), "wrong_role")
    w.refused(pid, ALICE, c.AcceptIntake(), "wrong_role")
    w.do(pid, OFFICER, c.AcceptIntake())
    w.refused(pid, ASSESSOR, c.Recommend(decision="reject"), "wrong_role")
    w.refused(pid, AUDITOR, c.FileAssessment(topic="security", outcome="favourable", summary="ok"), "wrong_role")
    w.refused(pid, OFFICER, c.WaiveCondition(condition_id="fs.adm.notice", reason="x"), "wrong_role")
    w.do(pid, ASSESSOR, c.FileAssessment(topic="security", outcome="favourable", summary="符合 JR/T 0199"))


def test_not_your_organisation() -> None:
    w = World()
    pid = w.create("fintech-sandbox")
    w.fintech_application(pid)
    w.refused(pid, OTHER, c.EditDraft(section="statement", fields={"exit_plan": "none"}), "not_your_organisation")
    w.refused(pid, OTHER, c.Submit(), "not_your_organisation")
    w.refused(pid, OTHER, c.Attest(statement="no_violations"), "not_your_organisation")
    # a partner attests for itself, never for the lead; nobody attaches another's documents
    w.refused(pid, TECHCO, c.Attest(statement="no_violations", organisation="fzbank"), "not_your_organisation")
    w.refused(pid, ALICE, c.AttachDocument(kind="x", sha256=sha("x"), title="x", holder="techco"),
              "not_your_organisation")
    w.do(pid, ALICE, c.Submit())
    w.refused(pid, OTHER, c.Withdraw(), "not_your_organisation")
    assert w.state(pid).state == State.SUBMITTED


def test_four_eyes_the_recommender_never_approves_and_nobody_approves_twice() -> None:
    w = World()
    pid = in_review(w)
    w.assess(pid)
    w.do(pid, OFFICER, c.OpenPublicNotice())
    ends = w.state(pid).notice_ends
    assert ends is not None
    w.clock.to(ends + dt.timedelta(days=1))
    w.tick()
    w.do(pid, OFFICER, c.Recommend(decision="admit"))

    e = w.refused(pid, CAROL_AS_APPROVER, c.Approve(decision="admit"), "four_eyes")
    assert e.params["who"] == "carol"
    w.do(pid, APPROVER, c.Approve(decision="admit"))
    w.refused(pid, APPROVER, c.Approve(decision="admit"), "four_eyes")
    assert w.state(pid).state == State.NOTICE_CLOSED
    w.refused(pid, APPROVER2, c.Approve(decision="reject"), "recommendation_mismatch")
    w.do(pid, APPROVER2, c.Approve(decision="admit"))
    assert w.state(pid).state == State.ADMITTED
    w.refused(pid, APPROVER, c.Approve(decision="admit"), "no_pending_recommendation")


def test_no_admission_before_the_notice_closes() -> None:
    w = World()
    pid = in_review(w)
    w.refused(pid, OFFICER, c.Recommend(decision="admit"), "notice_not_closed")
    w.assess(pid)
    w.do(pid, OFFICER, c.OpenPublicNotice())
    ends = w.state(pid).notice_ends
    assert ends is not None
    w.clock.to(ends)
    w.tick()  # the last day of the notice: still open
    w.refused(pid, OFFICER, c.Recommend(decision="admit"), "notice_not_closed")
    w.clock.advance(days=1)
    w.tick()
    w.do(pid, OFFICER, c.Recommend(decision="admit"))


def test_condition_unmet_lists_the_conditions_in_both_languages_and_a_waiver_with_a_reason_clears_them() -> None:
    w = World()
    pid = w.create("fintech-sandbox")
    w.fintech_application(pid, max_users=20_000, partner=False)  # over the 10,000-user cap
    start = w.clock.today + dt.timedelta(days=1)  # and a test of 14 months, over the 12 allowed
    w.do(pid, ALICE, c.EditDraft(section="boundaries", fields={"end_date": months_later(start, 14).isoformat()}))
    w.through_notice(pid)

    e = w.refused(pid, OFFICER, c.Recommend(decision="admit"), "condition_unmet")
    program = w.registry.program("fintech-sandbox", 1)
    labels = {r.id: r for r in program.admission}
    assert [d["id"] for d in e.details] == ["fs.adm.user_cap", "fs.adm.period"]
    for detail in e.details:
        rule = labels[detail["id"]]
        assert (detail["label_zh"], detail["label_en"]) == (rule.label_zh, rule.label_en)
        assert rule.label_zh in e.message_zh and rule.label_en in e.message_en
    assert "maximum users 20000 > 10000" in e.details[0]["missing_en"]
    assert "最大用户数 20000 > 10000" in e.details[0]["missing_zh"]
    assert "at most 12 months apart" in e.details[1]["missing_en"]

    w.refused(pid, APPROVER, c.WaiveCondition(condition_id="fs.adm.user_cap"), "reason_required")
    w.refused(pid, APPROVER, c.WaiveCondition(condition_id="fs.adm.nope", reason="x"), "unknown_condition")
    w.do(pid, APPROVER, c.WaiveCondition(condition_id="fs.adm.user_cap", reason="区域普惠需要，风险补偿金已足额"))
    e = w.refused(pid, OFFICER, c.Recommend(decision="admit"), "condition_unmet")
    assert [d["id"] for d in e.details] == ["fs.adm.period"]
    w.do(pid, APPROVER2, c.WaiveCondition(condition_id="fs.adm.period", reason="测试期另行约定"))
    w.admit(pid)
    s = w.state(pid)
    assert s.state == State.ADMITTED
    waived = [x for x in admission_checklist(s, program, w.registry.reference(), w.clock.today) if x.status == "waived"]
    assert [(x.id, x.waived_by) for x in waived] == [("fs.adm.user_cap", "ada"), ("fs.adm.period", "bo")]
    assert waived[0].waiver_reason == "区域普惠需要，风险补偿金已足额"


def test_an_open_objection_blocks_admission_until_disposed() -> None:
    w = World()
    pid = in_review(w)
    w.assess(pid)
    w.do(pid, OFFICER, c.OpenPublicNotice())
    w.do(pid, PUBLIC, c.Comment(text="支持"))
    w.do(pid, PUBLIC, c.Object(grounds="该产品并非首创", name="林女士", contact="lin@example.cn"))
    objection = w.state(pid).open_objections[0].objection_id
    ends = w.state(pid).notice_ends
    assert ends is not None
    w.clock.to(ends + dt.timedelta(days=1))
    w.tick()
    w.refused(pid, PUBLIC, c.Object(grounds="迟到的异议", name="林女士", contact="lin2@example.cn"), "not_in_notice")

    e = w.refused(pid, OFFICER, c.Recommend(decision="admit"), "objection_open")
    assert objection in e.message_en
    w.refused(pid, OFFICER, c.DisposeObjection(objection_id="obj-999", outcome="dismissed"), "unknown_objection")
    w.do(pid, OFFICER, c.DisposeObjection(objection_id=objection, outcome="dismissed", reason="已有同类产品对比说明"))
    w.admit(pid)
    assert w.state(pid).state == State.ADMITTED


def test_terminal_state_refuses_everything_and_appends_nothing() -> None:
    w = World()
    pid = in_review(w)
    w.do(pid, ALICE, c.Withdraw())
    for actor, command in [
        (ALICE, c.EditDraft(section="statement", fields={"exit_plan": "x"})),
        (OFFICER, c.AcceptIntake()),
        (APPROVER, c.WaiveCondition(condition_id="fs.adm.notice", reason="x")),
        (PUBLIC, c.Comment(text="x")),
        (OFFICER, c.RecordExternalFact(trigger="licence_lost", on=w.clock.today)),
    ]:
        e = w.refused(pid, actor, command, "terminal_state")
        assert "WITHDRAWN" in e.message_en and "撤回" in e.message_zh
    assert w.tick() == 0


def test_graduation_needs_the_final_report_accepted_and_every_kpi() -> None:
    w = World()
    pid = w.create("ecny-pilot")
    w.ecny_application(pid)
    w.through_notice(pid)
    w.admit(pid)
    w.do(pid, ALICE, c.StartTest())
    end = w.state(pid).planned_end
    assert end is not None
    w.clock.to(end)
    w.do(pid, ALICE, c.ReportMetrics(period_start=end - dt.timedelta(days=29), period_end=end,
                                     metrics={"transactions": 100}, kpis_met=["transactions"]))
    w.tick()
    assert w.state(pid).state == State.FINAL_EVALUATION
    w.refused(pid, OFFICER, c.Recommend(decision="graduate"), "final_report_missing")
    w.refused(pid, OFFICER, c.AcceptFinalReport(), "final_report_missing")
    w.do(pid, ALICE, c.SubmitFinalReport(sha256=sha("final"), summary="钱包开立未达标"))
    w.do(pid, OFFICER, c.AcceptFinalReport())
    e = w.refused(pid, OFFICER, c.Recommend(decision="graduate"), "kpis_unmet")
    assert "wallets opened (cumulative): nothing reported" in e.message_en and "开立钱包数（累计）" in e.message_zh


def test_a_later_program_version_binds_only_projects_submitted_after_it() -> None:
    w = World()
    early = w.create("fintech-sandbox", title="早提交")
    w.fintech_application(early, max_users=8000)
    w.do(early, ALICE, c.Submit())
    late = w.create("fintech-sandbox", title="晚提交")
    w.fintech_application(late, max_users=8000)

    # when a regulator publishes version 2 lowering the user cap to 5,000
    v1 = w.registry.program("fintech-sandbox", 1)
    cap = next(r for r in v1.admission if r.id == "fs.adm.user_cap")
    assert isinstance(cap.params, p.Caps)
    lowered = msgspec.structs.replace(cap, params=msgspec.structs.replace(
        cap.params, maximum={"max_users": 5000}))
    v2 = msgspec.structs.replace(
        v1, version=2, effective_from=w.clock.today,
        admission=tuple(lowered if r.id == cap.id else r for r in v1.admission))
    w.registry.publish_program(v2, APPROVER, command_id=w.cid())
    published = w.store.read_stream("program-fintech-sandbox")[-1].payload
    assert isinstance(published, ev.ProgramVersionPublished)
    assert published.changes == ["admission rule changed: fs.adm.user_cap"]

    w.do(late, ALICE, c.Submit())
    assert (w.state(early).program_version, w.state(late).program_version) == (1, 2)
    for pid in (early, late):
        w.do(pid, OFFICER, c.AcceptIntake())
        w.assess(pid)
        w.do(pid, OFFICER, c.OpenPublicNotice())
    w.clock.advance(days=40)
    w.tick()

    # then the early project keeps version 1's cap and the late one meets version 2's
    w.admit(early)
    assert w.state(early).state == State.ADMITTED
    e = w.refused(late, OFFICER, c.Recommend(decision="admit"), "condition_unmet")
    assert [d["id"] for d in e.details] == ["fs.adm.user_cap"]
    assert "maximum users 8000 > 5000" in e.details[0]["missing_en"]
    admitted = next(x for x in w.events(early) if isinstance(x.payload, ev.ProjectAdmitted))
    assert admitted.metadata.rule_version == "fintech-sandbox@1"


def test_a_retried_publish_returns_the_first_result_and_a_stale_one_is_refused() -> None:
    """Publishing names the version it makes: a retry of the same command id (its answer lost)
    is answered with the first result, and the same version under another command id is
    refused, since it would follow a version its author has not seen."""
    w = World()
    v1 = w.registry.program("fintech-sandbox", 1)
    v2 = msgspec.structs.replace(v1, version=2, effective_from=w.clock.today)
    first = w.registry.publish_program(v2, APPROVER, command_id="publish-v2")
    head = w.head()
    assert w.registry.publish_program(v2, APPROVER, command_id="publish-v2") == first
    assert w.head() == head
    with pytest.raises(DomainError) as refused:
        w.registry.publish_program(v2, APPROVER, command_id="publish-v2-again")
    assert refused.value.code == "invalid_value" and w.head() == head


def test_a_program_version_whose_clocks_run_backwards_is_refused() -> None:
    """``notice_days: -5`` was published, and every notice then closed at the next tick."""
    w = World()
    v1 = w.registry.program("fintech-sandbox", 1)
    durations = msgspec.structs.replace(v1.durations, notice_days=-5, breach_review_days=-1)
    v2 = msgspec.structs.replace(v1, version=2, effective_from=w.clock.today, durations=durations)
    head = w.head()
    with pytest.raises(DomainError) as refused:
        w.registry.publish_program(v2, APPROVER, command_id=w.cid())
    assert refused.value.code == "invalid_value" and w.head() == head
    assert [d["field"] for d in refused.value.details] == [
        "definition.durations.notice_days", "definition.durations.breach_review_days"
    ]
    assert refused.value.details[0]["rule"] == "must be a whole number from 1"
    # nor a rule's numbers (a complaint-rate window of -30 days)
    rate = next(i for i, r in enumerate(v1.exit) if isinstance(r.params, p.ComplaintRate))
    rules = list(v1.exit)
    backwards = msgspec.structs.replace(rules[rate].params, window_days=-30)
    rules[rate] = msgspec.structs.replace(rules[rate], params=backwards)
    with pytest.raises(DomainError) as refused:
        w.registry.publish_program(msgspec.structs.replace(v2, durations=v1.durations, exit=tuple(rules)), APPROVER,
                                   command_id=w.cid())
    assert [d["field"] for d in refused.value.details] == [f"definition.exit[{rate}].params.window_days"]
    # a test period of 0 months is refused, one that allows no extension is not
    period = next(i for i, r in enumerate(v1.exit) if isinstance(r.params, p.TestPeriod))

    def with_period(**values: int) -> p.ProgramDefinition:
        rules[period] = msgspec.structs.replace(rules[period], params=p.TestPeriod(**values))
        return msgspec.structs.replace(v2, durations=v1.durations, exit=tuple(rules))

    rules = list(v1.exit)
    with pytest.raises(DomainError) as refused:
        w.registry.publish_program(with_period(max_months=0), APPROVER, command_id=w.cid())
    assert [d["field"] for d in refused.value.details] == [f"definition.exit[{period}].params.max_months"]
    assert refused.value.details[0]["rule"] == "must be a whole number from 1"
    none = with_period(max_months=12, max_extensions=0, extension_months=0)
    w.registry.publish_program(none, APPROVER, command_id=w.cid())


def test_one_project_the_fold_cannot_read_does_not_hold_back_the_others_timers(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A project whose history this code cannot fold (an event of another kind in its stream, as
    a bug or a newer release could leave) is logged and passed over; every other project's
    timers are still recorded."""
    w = World()
    stuck, healthy = in_review(w), in_review(w)
    for pid in (stuck, healthy):
        w.assess(pid)
        w.do(pid, OFFICER, c.OpenPublicNotice())
    stray = RegistryCreated(registry_id="r", name="n", created_at=w.clock.now, hash_format="x")
    meta = EventMetadata(actor="system", role="system", occurred_at=w.clock.now)
    w.store.append([StreamWrite("project-" + stuck, (NewEvent(stray, meta),))], command_id="stray")
    ends = w.state(healthy).notice_ends
    assert ends is not None
    w.clock.to(ends + dt.timedelta(days=1))
    skipped: list[str] = []
    assert w.registry.tick(w.clock(), skipped=skipped) == 1
    assert skipped == [stuck]
    assert w.state(healthy).state == State.NOTICE_CLOSED
    assert any(stuck in r.getMessage() for r in caplog.records if r.levelname == "ERROR")


def test_tick_twice_for_the_same_moment_records_nothing_new() -> None:
    w = World()
    testing = w.create("fintech-sandbox", title="测试中")
    w.fintech_application(testing)
    w.through_notice(testing)
    w.start_testing(testing)
    due = w.clock.today + dt.timedelta(days=30)
    w.clock.advance(days=14)
    in_notice = in_review(w)
    w.assess(in_notice)
    w.do(in_notice, OFFICER, c.OpenPublicNotice())
    # the day after the notice ends, the first monthly report is between 10 and 30 days late
    ends = w.state(in_notice).notice_ends
    assert ends is not None and 10 < (ends + dt.timedelta(days=1) - due).days <= 30
    w.clock.to(ends + dt.timedelta(days=1))
    assert w.tick() == 1 + 3
    assert w.state(in_notice).state == State.NOTICE_CLOSED
    assert w.state(testing).warnings == ("fs.exit.report_late",)
    head = w.head()
    assert w.tick() == 0
    assert w.head() == head
    w.clock.advance(hours=1)
    assert w.tick() == 0


def test_a_back_dated_report_keeps_its_business_time_and_is_recorded_now() -> None:
    w = World()
    pid = w.create("fintech-sandbox")
    w.fintech_application(pid)
    w.through_notice(pid)
    w.start_testing(pid)
    w.clock.advance(days=45)
    happened = w.clock.now - dt.timedelta(days=12)
    period_end = (happened - dt.timedelta(days=1)).date()
    result = w.do(pid, ALICE, c.ReportMetrics(
        period_start=period_end - dt.timedelta(days=29), period_end=period_end,
        metrics={"users": 100, "active_users": 90}, occurred_at=happened))
    recorded = next(e for e in w.events(pid) if e.position == result.positions[0])
    assert recorded.metadata.occurred_at == happened
    assert recorded.recorded_at == w.clock.now
    assert recorded.recorded_at - recorded.metadata.occurred_at == dt.timedelta(days=12)
    last = w.state(pid).ledger.last
    assert last is not None and last.reported_on == happened.date()

    # a report dated in the future is refused
    e = w.refused(pid, ALICE, c.ReportMetrics(
        period_start=period_end, period_end=period_end, metrics={"users": 1},
        occurred_at=w.clock.now + dt.timedelta(days=1)), "invalid_value")
    assert e.params["field"] == "occurred_at"


def test_a_notice_running_into_a_year_without_holiday_data_is_refused() -> None:
    w = World(start=dt.date(2026, 12, 14))
    pid = in_review(w)
    w.assess(pid)
    e = w.refused(pid, OFFICER, c.OpenPublicNotice(), "calendar_not_covered")
    assert e.params["year"] == 2027


def test_a_notice_counted_against_a_calendar_without_its_year_is_unmet_not_a_crash() -> None:
    w = World()
    pid = w.create("fintech-sandbox")
    w.fintech_application(pid)
    w.through_notice(pid)
    s = w.state(pid)
    program = w.registry.program("fintech-sandbox", s.program_version)
    ref = w.registry.reference()
    assert s.notice_starts is not None
    without = msgspec.structs.replace(
        ref, holidays=HolidayCalendar(years=tuple(y for y in ref.holidays.years if y.year != s.notice_starts.year))
    )
    [rule] = [r.id for r in program.admission if isinstance(r.params, p.Notice)]
    [notice] = [x for x in admission_checklist(s, program, without, w.clock.today) if x.id == rule]
    assert notice.status == "unmet" and str(s.notice_starts.year) in notice.missing_en
    assert notice.missing_zh and notice.evidence == (s.notice_position,)


def test_ecny_pilot_area_is_checked_on_the_submission_date_and_wallet_caps_against_the_tier() -> None:
    w = World()
    early = w.create("ecny-pilot", title="早")
    w.ecny_application(early)
    w.do(early, ALICE, c.Submit())
    over_cap = w.create("ecny-pilot", title="超限")
    w.ecny_application(over_cap, per_payment_cap_yuan=2_001)  # tier 4 allows 2,000 per payment
    w.do(over_cap, ALICE, c.Submit())

    # the next day Fuzhou stops being a pilot area (reference data has its own events)
    w.clock.advance(days=1)
    records = w.registry.reference().records("pilot_areas")
    for record in records:
        if record["code"] == "fuzhou":
            record["withdrawn"] = w.clock.today.isoformat()
    w.registry.update_reference("pilot_areas", records, APPROVER, command_id=w.cid(), changes=["fuzhou withdrawn"])
    late = w.create("ecny-pilot", title="晚")
    w.ecny_application(late)
    w.do(late, ALICE, c.Submit())

    for pid in (early, over_cap, late):
        w.do(pid, OFFICER, c.AcceptIntake())
        w.assess(pid)
        w.do(pid, OFFICER, c.OpenPublicNotice())
    w.clock.advance(days=10)
    w.tick()
    w.admit(early)
    assert w.state(early).state == State.ADMITTED
    e = w.refused(late, OFFICER, c.Recommend(decision="admit"), "condition_unmet")
    assert [d["id"] for d in e.details] == ["ec.adm.pilot_area"]
    e = w.refused(over_cap, OFFICER, c.Recommend(decision="admit"), "condition_unmet")
    assert [d["id"] for d in e.details] == ["ec.adm.wallet_tiers"]
    assert "per-payment cap (yuan) 2001 > 2000" in e.details[0]["missing_en"]


def test_comments_and_objections_only_during_the_notice() -> None:
    w = World()
    pid = in_review(w)
    w.refused(pid, PUBLIC, c.Comment(text="太早"), "not_in_notice")
    w.assess(pid)
    w.do(pid, OFFICER, c.OpenPublicNotice())
    w.do(pid, PUBLIC, c.Comment(text="支持"))
    w.refused(pid, ALICE, c.Comment(text="自评"), "wrong_role")
    assert w.state(pid).comments == 1


def test_a_fintech_application_must_be_a_financial_service_or_a_technology_product() -> None:
    w = World()
    ok, odd = w.create("fintech-sandbox"), w.create("fintech-sandbox", app_type="理财超市")
    for pid in (ok, odd):
        w.fintech_application(pid)
    w.through_notice(ok)
    program = w.registry.program("fintech-sandbox", w.state(ok).program_version)

    def statement(pid: str) -> tuple[str, str]:
        checklist = admission_checklist(w.state(pid), program, w.registry.reference(), w.clock.today)
        [x] = [x for x in checklist if x.id == "fs.adm.statement"]
        return x.status, x.missing_en

    assert statement(ok) == ("met", "")
    status, missing = statement(odd)
    assert status == "unmet" and "application type: 理财超市 (one of 金融服务 / 科技产品)" in missing
    e = w.refused(odd, ALICE, c.Submit(), "application_incomplete")  # returned before it is ever submitted
    assert [d["id"] for d in e.details] == ["fs.adm.statement"]


def test_a_condition_cites_the_edits_of_its_own_section_only() -> None:
    w = World()
    pid = w.create("fintech-sandbox")
    w.fintech_application(pid)
    # the same field name, declared in a section the statement condition does not read
    elsewhere = w.do(pid, ALICE, c.EditDraft(section="test_plan", fields={"exit_plan": "见声明书"}))
    w.through_notice(pid)
    s = w.state(pid)
    program = w.registry.program("fintech-sandbox", s.program_version)
    [statement] = [x for x in admission_checklist(s, program, w.registry.reference(), w.clock.today)
                   if x.id == "fs.adm.statement"]
    assert statement.evidence and elsewhere.positions[0] not in statement.evidence
    assert s.field_positions["statement.exit_plan"] in statement.evidence


WHOLE = "must be a whole number from 0 to 9007199254740991"


def test_a_declared_value_the_rules_compute_with_must_be_of_its_kind() -> None:
    """``start_date: "next spring"`` used to be recorded, and the checklist then said the dates
    were not declared: the applicant learnt nothing of what was wrong."""
    w = World()
    pid = w.create("ecny-pilot")
    refused = [
        ("boundaries", "start_date", "next spring", "must be a date (YYYY-MM-DD)"),  # a period_max field
        ("boundaries", "campaign_end_date", 20260131, "must be a date (YYYY-MM-DD)"),  # every *_date
        ("boundaries", "end_date", "20270131", "must be a date (YYYY-MM-DD)"),  # (fromisoformat takes it)
        ("boundaries", "end_date", "2026-02-30", "must be a date (YYYY-MM-DD)"),
        ("boundaries", "per_payment_cap_yuan", "2000", WHOLE),  # every *_yuan
        ("boundaries", "wallet_tier", True, WHOLE),  # the wallet_tiers rule's field
        ("boundaries", "acceptance_points", "many", WHOLE),  # a caps minimum
        ("boundaries", "acceptance_points", -3, WHOLE),  # a count is never negative
        ("boundaries", "balance_cap_yuan", 10**30, WHOLE),  # nor beyond what a JSON client reads exactly
        ("boundaries", "daily_cap_yuan", 2**53, WHOLE),
        ("boundaries", "pilot.start_date", "soon", "must be a date (YYYY-MM-DD)"),  # (named in brackets)
    ]
    for section, name, value, rule in refused:
        e = w.refused(pid, ALICE, c.EditDraft(section=section, fields={"scenario": "ok", name: value}), "invalid_value")
        path = f"fields.{name}" if name.isidentifier() else f'fields["{name}"]'
        assert e.params["field"] == path and e.params["rule_en"] == rule
        assert e.params["rule_zh"].startswith("须为")
    # every bad field of one edit at once, not the first only
    e = w.refused(pid, ALICE, c.EditDraft(section="boundaries", fields={
        "wallet_tier": -1, "start_date": "soon", "scenario": "ok", "daily_cap_yuan": "5000"}), "invalid_value")
    assert [d["field"] for d in e.details] == ["fields.wallet_tier", "fields.start_date", "fields.daily_cap_yuan"]
    assert all(d["rule_zh"].startswith("须为") and d["rule"].startswith("must be") for d in e.details)
    # the same fields with values of their kind, a field cleared, and a field no rule computes with
    w.do(pid, ALICE, c.EditDraft(section="boundaries", fields={
        "start_date": "2026-03-01", "per_payment_cap_yuan": 2000, "wallet_tier": 4, "acceptance_points": 0,
        "balance_cap_yuan": 2**53 - 1,
        "campaign_end_date": None, "scenario_note": 12, "depends_on": "core banking"}))
    assert w.state(pid).section("boundaries")["start_date"] == "2026-03-01"


def after_notice(*, admitted: bool) -> tuple[World, str, dt.date]:
    """A fintech project through its notice (and admitted), with the end of its declared period."""
    w = World()
    pid = w.create("fintech-sandbox")
    w.fintech_application(pid)
    w.through_notice(pid)
    if admitted:
        w.admit(pid)
    return w, pid, dt.date.fromisoformat(str(w.state(pid).section("boundaries")["end_date"]))


def test_a_test_cannot_start_once_the_period_declared_and_admitted_is_over() -> None:
    """It used to start anyway and run for the program's longest period from that day: a pilot
    tested for a year after the period the regulator admitted."""
    w, pid, declared_end = after_notice(admitted=True)
    w.clock.to(declared_end)
    e = w.refused(pid, ALICE, c.StartTest(), "after_declared_end")
    assert declared_end.isoformat() in e.message_en and declared_end.isoformat() in e.message_zh
    # nor by dating the start back into the period (it would end at the next tick, untested)
    w.refused(pid, ALICE, c.StartTest(started_on=declared_end - dt.timedelta(days=1)), "after_declared_end")
    # the way out: the regulator ends the lapsed admission, under four eyes
    w.do(pid, OFFICER, c.Recommend(decision="terminate", reason="准入后未在申报期内启动测试", category="lapsed"))
    w.do(pid, APPROVER, c.Approve(decision="terminate"))
    w.do(pid, APPROVER2, c.Approve(decision="terminate"))  # (the fintech sandbox asks for two)
    assert w.state(pid).state == State.TERMINATED


def test_a_test_cannot_start_before_the_period_declared_and_admitted_begins() -> None:
    """It used to start on the day of admission whatever start date the applicant declared: a
    pilot live with customers before the period the regulator admitted."""
    w = World()
    pid = w.create("fintech-sandbox")
    w.fintech_application(pid)
    declared_start = w.clock.today + dt.timedelta(days=45)
    w.do(pid, ALICE, c.EditDraft(section="boundaries", fields={
        "start_date": declared_start.isoformat(), "end_date": (declared_start + dt.timedelta(days=300)).isoformat()}))
    w.through_notice(pid)
    w.admit(pid)
    assert w.clock.today < declared_start
    e = w.refused(pid, ALICE, c.StartTest(), "before_declared_start")
    assert declared_start.isoformat() in e.message_en and declared_start.isoformat() in e.message_zh
    assert "早于" in e.message_zh and w.clock.today.isoformat() in e.message_zh
    w.clock.to(declared_start - dt.timedelta(days=1))
    w.refused(pid, ALICE, c.StartTest(), "before_declared_start")
    w.clock.to(declared_start + dt.timedelta(days=5))
    back = declared_start - dt.timedelta(days=1)  # nor dated back to before it
    e = w.refused(pid, ALICE, c.StartTest(started_on=back), "before_declared_start")
    assert back.isoformat() in e.message_en and back.isoformat() in e.message_zh
    w.do(pid, ALICE, c.StartTest(started_on=declared_start))  # from the declared start on, it starts
    assert w.state(pid).test_started_on == declared_start


def test_a_period_that_ends_before_it_begins_and_is_waived_does_not_hold_the_start_up() -> None:
    """An approver may waive the period rule; a declared end before the start then used to leave
    the admitted project refused before its start and again after its end, for ever."""
    w = World()
    pid = w.create("ecny-pilot")
    w.ecny_application(pid)
    start, end = w.clock.today + dt.timedelta(days=40), w.clock.today + dt.timedelta(days=30)
    w.do(pid, ALICE, c.EditDraft(section="boundaries", fields={
        "start_date": start.isoformat(), "end_date": end.isoformat()}))
    w.through_notice(pid)
    w.do(pid, APPROVER, c.WaiveCondition(condition_id="ec.adm.period", reason="测试期另行约定"))
    w.admit(pid)
    assert w.clock.today < start
    w.do(pid, ALICE, c.StartTest())  # the program's longest period applies, as for an undeclared one
    state = w.state(pid)
    assert state.test_started_on == w.clock.today and state.planned_end == months_later(w.clock.today, 12)


def test_a_late_admission_starts_the_test_later_than_declared() -> None:
    """A start date that passed while the application was under review does not hold it up."""
    w, pid, declared_end = after_notice(admitted=True)
    declared_start = dt.date.fromisoformat(str(w.state(pid).section("boundaries")["start_date"]))
    assert w.clock.today > declared_start
    w.do(pid, ALICE, c.StartTest())
    assert w.state(pid).test_started_on == w.clock.today and w.state(pid).planned_end == declared_end


def test_a_test_started_in_its_declared_period_runs_to_the_declared_end() -> None:
    w, pid, declared_end = after_notice(admitted=True)
    w.clock.to(declared_end - dt.timedelta(days=1))
    w.do(pid, ALICE, c.StartTest())
    assert w.state(pid).state == State.TESTING and w.state(pid).planned_end == declared_end


def test_no_admission_once_the_declared_period_is_over() -> None:
    w, pid, declared_end = after_notice(admitted=False)
    w.clock.to(declared_end - dt.timedelta(days=1))
    w.do(pid, OFFICER, c.Recommend(decision="admit"))
    w.clock.to(declared_end)  # recommended in time, but approved too late
    w.do(pid, APPROVER, c.Approve(decision="admit"))  # the first of two: the second admits
    e = w.refused(pid, APPROVER2, c.Approve(decision="admit"), "declared_period_over")
    assert declared_end.isoformat() in e.message_zh and declared_end.isoformat() in e.message_en
    # the ways out: the officer's rejection replaces the admission that can no longer be approved
    w.refused(pid, OFFICER, c.Recommend(decision="admit"), "declared_period_over")
    w.do(pid, OFFICER, c.Recommend(decision="reject", reason="申报测试期已过"))
    pending = w.state(pid).pending
    assert pending is not None and pending.decision == "reject"
    w.do(pid, APPROVER, c.Approve(decision="reject"))
    w.do(pid, APPROVER2, c.Approve(decision="reject"))
    assert w.state(pid).state == State.REJECTED
    # ... or the applicant withdraws, and may apply again
    w, pid, declared_end = after_notice(admitted=False)
    w.clock.to(declared_end)
    w.do(pid, ALICE, c.Withdraw(reason="测试期已过，重新申请"))
    assert w.state(pid).state == State.WITHDRAWN
