"""The bundled program definitions and reference data.

Every condition and criterion of the three program kinds is present with its default numbers, labels are
bilingual, the reference data holds the dates the rules depend on, working days follow the
mainland holiday calendar, and a bad file fails loudly naming the bad field.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from importlib import resources

import msgspec
import pytest

from projections.project import ProjectState
from projections.rules import admission_checklist
from schemas import programs as p
from schemas.bundled import (
    PROGRAM_FILES,
    REFERENCE_FILES,
    BundledDataError,
    decode_program,
    load_program,
    load_programs,
    load_reference,
)
from schemas.reference import (
    CalendarNotCovered,
    Dataset,
    HolidayCalendar,
    HolidayYear,
    add_working_days,
    is_working_day,
    with_records,
    working_days_between,
)

D = dt.date
CJK = re.compile(r"[\u4e00-\u9fff]")

EXPECTED_IDS = {
    "fintech-sandbox": (
        {
            "fs.adm.licence",
            "fs.adm.no_violations",
            "fs.adm.statement",
            "fs.adm.innovation",
            "fs.adm.benefit",
            "fs.adm.legal_assessment",
            "fs.adm.security_assessment",
            "fs.adm.risk_controls",
            "fs.adm.boundaries",
            "fs.adm.user_cap",
            "fs.adm.period",
            "fs.adm.test_plan",
            "fs.adm.complaint_channel",
            "fs.adm.notice",
        },
        {
            "fs.exit.test_period",
            "fs.exit.graduation",
            "fs.exit.severity1",
            "fs.exit.complaints",
            "fs.exit.cap_breach",
            "fs.exit.compensation",
            "fs.exit.licence_lost",
            "fs.exit.report_late",
            "fs.exit.voluntary",
        },
    ),
    "ecny-pilot": (
        {
            "ec.adm.pilot_area",
            "ec.adm.operator",
            "ec.adm.scenario",
            "ec.adm.wallet_tiers",
            "ec.adm.acceptance_points",
            "ec.adm.kyc_aml",
            "ec.adm.smart_contracts",
            "ec.adm.campaign",
            "ec.adm.period",
            "ec.adm.metrics_plan",
            "ec.adm.notice",
        },
        {
            "ec.exit.end_date",
            "ec.exit.designation_withdrawn",
            "ec.exit.payment_failure",
            "ec.exit.fraud",
            "ec.exit.complaints",
            "ec.exit.dormancy",
            "ec.exit.cap_breach",
            "ec.exit.budget_exhausted",
            "ec.exit.voluntary",
            "ec.exit.graduation",
        },
    ),
    "data-asset": (
        {
            "da.adm.entity",
            "da.adm.data_source",
            "da.adm.personal_information",
            "da.adm.classification",
            "da.adm.no_dispute",
            "da.adm.compliance_assessment",
            "da.adm.quality_assessment",
            "da.adm.scenario",
            "da.adm.product",
            "da.adm.product_type",
            "da.adm.notice_public_data",
            "da.adm.notice_listing",
            "da.adm.recognition_date",
            "da.adm.recognition_accounting",
            "da.adm.recognition_audit",
            "da.adm.pledge_valuation",
            "da.adm.pledge_registration",
        },
        {
            "da.exit.objection_upheld",
            "da.exit.false_materials",
            "da.exit.authorisation_lapsed",
            "da.exit.security_incident",
            "da.exit.valuation_age",
            "da.exit.pledge_realised",
            "da.exit.cancellation",
            "da.exit.dormancy",
            "da.exit.change_registration",
            "da.exit.pilot_period",
            "da.exit.graduation",
        },
    ),
}
PREFIX = {"fintech-sandbox": "fs", "ecny-pilot": "ec", "data-asset": "da"}


def rule(program: p.ProgramDefinition, rule_id: str) -> p.Rule:
    return next(r for r in (*program.admission, *program.exit) if r.id == rule_id)


# -- programs ----------------------------------------------------------------------------------


def test_every_bundled_program_decodes_in_publish_order() -> None:
    programs = load_programs()
    assert [(x.key, x.kind, x.version) for x in programs] == [
        ("fintech-sandbox", "fintech_sandbox", 1),
        ("ecny-pilot", "ecny_pilot", 1),
        ("data-asset", "data_asset", 1),
    ]
    assert load_program("ecny-pilot") is programs[1]
    with pytest.raises(KeyError):
        load_program("no-such-program")


def test_the_programs_folder_holds_exactly_the_bundled_files() -> None:
    folder = resources.files("schemas") / "programs"
    assert sorted(f.name for f in folder.iterdir() if f.name.endswith(".json")) == sorted(PROGRAM_FILES)
    folder = resources.files("schemas") / "reference"
    assert sorted(f.name for f in folder.iterdir() if f.name.endswith(".json")) == sorted(REFERENCE_FILES.values())


@pytest.mark.parametrize("key", sorted(EXPECTED_IDS))
def test_every_design_rule_is_present_with_a_unique_prefixed_id(key: str) -> None:
    program = load_program(key)
    admission, exit_ = EXPECTED_IDS[key]
    assert {r.id for r in program.admission} == admission
    assert {r.id for r in program.exit} == exit_
    ids = [r.id for r in (*program.admission, *program.exit)]
    assert len(ids) == len(set(ids))
    assert all(i.startswith(f"{PREFIX[key]}.adm.") for i in admission)
    assert all(i.startswith(f"{PREFIX[key]}.exit.") for i in exit_)


def test_rule_ids_are_unique_across_programs() -> None:
    ids = [r.id for x in load_programs() for r in (*x.admission, *x.exit)]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("key", sorted(EXPECTED_IDS))
def test_labels_are_chinese_and_ascii_english(key: str) -> None:
    program = load_program(key)
    assert CJK.search(program.name_zh) and program.name_en.isascii()
    for r in (*program.admission, *program.exit):
        assert CJK.search(r.label_zh), r.id
        assert r.label_en.isascii() and re.search(r"[A-Za-z]{3}", r.label_en), r.id
        assert r.label_zh.strip() == r.label_zh and r.label_en.strip() == r.label_en, r.id


def test_admission_conditions_and_exit_criteria_use_the_right_check_types() -> None:
    exit_only = (
        p.TestPeriod,
        p.Graduation,
        p.Incidents,
        p.ComplaintRate,
        p.CapBreach,
        p.MetricLimit,
        p.Compensation,
        p.ReportTimeliness,
        p.Dormancy,
        p.ValuationAge,
        p.PledgeRealised,
        p.ChangeRegistration,
        p.ExternalEvent,
        p.VoluntaryExit,
    )
    for program in load_programs():
        assert not [r.id for r in program.admission if isinstance(r.params, exit_only)]
        assert all(isinstance(r.params, exit_only) for r in program.exit)


def test_fintech_sandbox_defaults() -> None:
    fs = load_program("fintech-sandbox")
    assert fs.approvals_required == 2
    assert fs.durations.notice_days == 20 and fs.durations.notice_unit == "working"
    assert rule(fs, "fs.adm.licence").params == p.LicensedLead(document_kind="financial_licence")
    assert rule(fs, "fs.adm.no_violations").params == p.Attestation(
        statement="no_violations", holders="each_applicant", lookback_years=3
    )
    cap = rule(fs, "fs.adm.user_cap").params
    assert isinstance(cap, p.Caps) and cap.maximum == {"max_users": 10_000}
    assert rule(fs, "fs.adm.notice").params == p.Notice(days=20, unit="working")
    assert rule(fs, "fs.adm.period").params == p.PeriodMax(months=12)
    assert rule(fs, "fs.exit.test_period").params == p.TestPeriod(
        max_months=12, max_extensions=1, extension_months=6, request_days_before_end=30
    )
    assert fs.test_period() is rule(fs, "fs.exit.test_period").params
    assert rule(fs, "fs.exit.severity1").params == p.Incidents(severity=1, suspend_at=1, exit_at=2, remediation_days=30)
    assert rule(fs, "fs.exit.complaints").params == p.ComplaintRate(
        per_mille=5, window_days=30, max_total=50, action="suspension_review"
    )
    breach = rule(fs, "fs.exit.cap_breach").params
    assert isinstance(breach, p.CapBreach) and breach.action == "suspension"
    assert set(breach.caps.values()) == {"max_users", "total_exposure_cap_yuan", "per_user_exposure_cap_yuan"}
    assert rule(fs, "fs.exit.compensation").params == p.Compensation(days=15, action="forced_exit")
    lost = rule(fs, "fs.exit.licence_lost").params
    assert isinstance(lost, p.ExternalEvent) and lost.action == "termination"
    assert rule(fs, "fs.exit.report_late").params == p.ReportTimeliness(warning_days=10, suspension_days=30)
    assert rule(fs, "fs.exit.voluntary").params == p.VoluntaryExit(notice_days=30)
    documents = {k for r in fs.admission if isinstance(r.params, p.Documents) for k in r.params.kinds}
    assert {"external_legal_assessment", "security_assessment", "emergency_plan"} <= documents


def test_ecny_pilot_defaults() -> None:
    ec = load_program("ecny-pilot")
    assert ec.approvals_required == 1
    scenario = rule(ec, "ec.adm.scenario").params
    assert isinstance(scenario, p.AllowedValues)
    assert scenario.allowed == (
        "retail",
        "catering",
        "transport_tolls",
        "tax_government",
        "payroll",
        "sme_loans",
        "supply_chain",
        "red_packets",
        "cross_border",
    )
    assert rule(ec, "ec.adm.period").params == p.PeriodMax(months=12)
    assert ec.test_period().max_months == 12
    assert rule(ec, "ec.exit.payment_failure").params == p.MetricLimit(
        metric="payment_failures", limit=5, window_days=7, ratio_of="transactions", scale=1000
    )
    assert rule(ec, "ec.exit.fraud").params == p.MetricLimit(metric="fraud_cases", limit=3, window_days=30)
    assert rule(ec, "ec.exit.dormancy").params == p.Dormancy(days=90, action="closure")
    withdrawn = rule(ec, "ec.exit.designation_withdrawn").params
    assert isinstance(withdrawn, p.ExternalEvent) and withdrawn.action == "forced_exit"
    assert set(withdrawn.triggers) == {"pilot_area_withdrawn", "operator_withdrawn"}
    smart = rule(ec, "ec.adm.smart_contracts").params
    assert isinstance(smart, p.Documents) and smart.when_field == "uses_smart_contracts" and smart.when_value is True


def test_data_asset_defaults() -> None:
    da = load_program("data-asset")
    assert rule(da, "da.adm.notice_listing").params == p.Notice(
        days=3, unit="calendar", when_field="public_data", when_value=False
    )
    assert rule(da, "da.adm.notice_public_data").params == p.Notice(
        days=10, unit="working", when_field="public_data", when_value=True
    )
    assert (da.durations.notice_days, da.durations.notice_unit) == (10, "working")
    recognition = rule(da, "da.adm.recognition_date").params
    assert isinstance(recognition, p.EffectiveFrom) and recognition.date == D(2024, 1, 1)
    valuation = rule(da, "da.adm.pledge_valuation").params
    assert isinstance(valuation, p.Documents) and valuation.max_age_months == 12
    assert valuation.kinds == ("valuation_report",)
    grading = rule(da, "da.adm.classification").params
    assert isinstance(grading, p.Fields) and grading.forbidden == {"grade": ("national_core",)}
    assert rule(da, "da.exit.valuation_age").params == p.ValuationAge(months=12, action="flag")
    assert rule(da, "da.exit.dormancy").params == p.Dormancy(days=365, action="delisting_review")
    assert isinstance(rule(da, "da.exit.false_materials").params, p.ExternalEvent)


def _no_floats(value: object) -> bool:
    if isinstance(value, dict):
        return all(_no_floats(v) for v in value.values())
    if isinstance(value, list):
        return all(_no_floats(v) for v in value)
    return not isinstance(value, float)


def test_amounts_are_integers_named_by_their_unit() -> None:
    money = ("budget", "exposure", "amount", "_cap")
    seen: set[str] = set()
    for program in load_programs():
        names: set[str] = set()
        for r in (*program.admission, *program.exit):
            match r.params:
                case p.Fields():
                    names |= set(r.params.required) | set(r.params.forbidden)
                case p.Caps():
                    names |= set(r.params.maximum) | set(r.params.minimum)
                case p.CapBreach():
                    names |= set(r.params.caps) | set(r.params.caps.values())
        priced = {n for n in names if any(m in n for m in money)}
        assert all(n.endswith(("_yuan", "_fen")) for n in priced), priced
        seen |= priced
    assert {"total_exposure_cap_yuan", "campaign_budget_yuan"} <= seen
    for name in PROGRAM_FILES:
        assert _no_floats(json.loads((resources.files("schemas") / "programs" / name).read_bytes())), name


# -- strict decoding -----------------------------------------------------------------------------


def _fintech_json() -> dict[str, object]:
    raw = (resources.files("schemas") / "programs" / "fintech_sandbox.json").read_bytes()
    data: dict[str, object] = json.loads(raw)
    return data


def test_a_bad_field_fails_loudly_naming_the_file_and_the_path() -> None:
    data = _fintech_json()
    admission = data["admission"]
    assert isinstance(admission, list)
    index = next(i for i, r in enumerate(admission) if r["id"] == "fs.adm.notice")
    admission[index]["params"]["days"] = "twenty"
    with pytest.raises(BundledDataError) as info:
        decode_program(json.dumps(data).encode(), "schemas/programs/fintech_sandbox.json")
    message = str(info.value)
    assert message.startswith("schemas/programs/fintech_sandbox.json: ")
    assert f"$.admission[{index}].params.days" in message


def test_unknown_fields_and_unknown_checks_are_refused() -> None:
    data = _fintech_json()
    data["surprise"] = 1
    with pytest.raises(BundledDataError, match="surprise"):
        decode_program(json.dumps(data).encode())
    data = _fintech_json()
    exit_ = data["exit"]
    assert isinstance(exit_, list)
    exit_[0]["params"]["check"] = "guesswork"
    with pytest.raises(BundledDataError, match=r"\$\.exit\[0\]\.params"):
        decode_program(json.dumps(data).encode())


def test_duplicate_rule_ids_are_refused() -> None:
    data = _fintech_json()
    exit_ = data["exit"]
    assert isinstance(exit_, list)
    exit_[1]["id"] = exit_[0]["id"]
    with pytest.raises(BundledDataError, match=r"duplicate rule id .*\$\.exit\[1\]\.id"):
        decode_program(json.dumps(data).encode())


# -- reference data --------------------------------------------------------------------------------


def test_pilot_areas_and_their_batches() -> None:
    ref = load_reference()
    areas = {a.code: a for a in ref.pilot_areas}
    assert len(areas) == len(ref.pilot_areas)
    for code in ("fuzhou", "xiamen"):
        assert (areas[code].joined, areas[code].batch) == (D(2022, 4, 2), 3)
        assert not ref.is_pilot_area(code, D(2022, 4, 1))
        assert ref.is_pilot_area(code, D(2022, 4, 2))
    assert {c for c, a in areas.items() if a.batch == 1} == {
        "shenzhen",
        "suzhou",
        "xiongan",
        "chengdu",
        "winter-olympics-2022",
    }
    assert {c for c, a in areas.items() if a.batch == 2} == {
        "shanghai",
        "hainan",
        "changsha",
        "xian",
        "qingdao",
        "dalian",
    }
    assert {"tianjin", "chongqing", "guangzhou", "hangzhou", "ningbo", "wenzhou", "huzhou", "shaoxing", "jinhua"} <= {
        c for c, a in areas.items() if a.batch == 3
    }
    assert {c for c, a in areas.items() if a.batch == 4 and a.level == "province"} == {
        "guangdong",
        "jiangsu",
        "hebei",
        "sichuan",
    }
    for a in ref.pilot_areas:
        assert CJK.search(a.name_zh) and a.name_en.isascii()
        assert a.joined.strftime("%Y-%m") == {1: "2019-12", 2: "2020-10", 3: "2022-04", 4: "2022-12"}[a.batch]
    assert not ref.is_pilot_area("atlantis", D(2025, 1, 1))


def test_designated_operators() -> None:
    ref = load_reference()
    assert {o.name_zh for o in ref.operators} == {
        "中国工商银行",
        "中国农业银行",
        "中国银行",
        "中国建设银行",
        "交通银行",
        "中国邮政储蓄银行",
        "招商银行",
        "兴业银行",
        "浙江网商银行",
        "深圳前海微众银行",
    }
    assert ref.is_operator("icbc", D(2024, 1, 1))
    assert not ref.is_operator("cib", D(2020, 1, 1))
    assert not ref.is_operator("not-an-operator", D(2024, 1, 1))


def test_wallet_tier_limits() -> None:
    ref = load_reference()
    assert [t.tier for t in ref.wallet_tiers] == [1, 2, 3, 4]
    assert ref.tier_limits(4) == {"per_payment_cap_yuan": 2_000, "daily_cap_yuan": 5_000, "balance_cap_yuan": 10_000}
    assert ref.tier_limits(1) == {}  # face-to-face verified: no caps
    assert ref.tier_limits(9) is None
    # A weaker identity check never allows more.
    for stronger, weaker in zip(ref.wallet_tiers[1:], ref.wallet_tiers[2:], strict=False):
        for name, cap in weaker.limits().items():
            assert cap <= stronger.limits()[name]


def test_reference_records_round_trip_and_bad_records_are_refused() -> None:
    ref = load_reference()
    datasets: tuple[Dataset, ...] = ("pilot_areas", "operators", "wallet_tiers", "holidays")
    for dataset in datasets:
        records = ref.records(dataset)
        assert with_records(ref, dataset, json.loads(json.dumps(records))) == ref
    records = ref.records("pilot_areas")
    records[0]["joined"] = "December 2019"
    with pytest.raises(msgspec.ValidationError, match=r"\$\[0\]\.joined"):
        with_records(ref, "pilot_areas", records)
    with pytest.raises(msgspec.ValidationError, match="duplicate"):
        with_records(ref, "operators", ref.records("operators") * 2)


# -- holidays and working days -----------------------------------------------------------------------


def test_holiday_calendar_2025_and_2026() -> None:
    cal = load_reference().holidays
    y2025, y2026 = cal.for_year(2025), cal.for_year(2026)
    assert len(y2025.holidays) == 1 + 8 + 3 + 5 + 3 + 8
    assert y2025.adjusted_working_days == (
        D(2025, 1, 26),
        D(2025, 2, 8),
        D(2025, 4, 27),
        D(2025, 9, 28),
        D(2025, 10, 11),
    )
    assert len(y2026.holidays) == 3 + 9 + 3 + 5 + 3 + 3 + 7
    assert y2026.adjusted_working_days == (
        D(2026, 1, 4),
        D(2026, 2, 14),
        D(2026, 2, 28),
        D(2026, 5, 9),
        D(2026, 9, 20),
        D(2026, 10, 10),
    )
    assert not is_working_day(D(2025, 1, 28), cal)  # Spring Festival eve, a Tuesday
    assert is_working_day(D(2025, 2, 8), cal)  # adjusted Saturday
    assert not is_working_day(D(2025, 2, 9), cal)  # an ordinary Sunday
    assert is_working_day(D(2025, 2, 10), cal)  # an ordinary Monday
    assert not is_working_day(D(2026, 2, 23), cal)  # last day of the 2026 Spring Festival, a Monday
    assert is_working_day(D(2026, 9, 20), cal)  # adjusted Sunday


def test_twenty_working_days_across_the_2025_national_day_holiday() -> None:
    cal = load_reference().holidays
    start = D(2025, 9, 22)  # Monday; the start day itself is not counted
    end = add_working_days(start, 20, cal)
    # 23-26 Sep (4), Sun 28 Sep adjusted (5), 29-30 Sep (7), 1-8 Oct off, 9-10 Oct (9),
    # Sat 11 Oct adjusted (10), 13-17 Oct (15), 20-24 Oct (20). Without holidays: 20 Oct.
    assert end == D(2025, 10, 24)
    assert working_days_between(start, end, cal) == 20
    assert working_days_between(end, start, cal) == -20
    assert add_working_days(end, -20, cal) == start
    assert add_working_days(start, 0, cal) == start


def test_an_adjusted_saturday_counts_as_a_working_day() -> None:
    cal = load_reference().holidays
    assert add_working_days(D(2026, 2, 13), 1, cal) == D(2026, 2, 14)  # Friday -> adjusted Saturday
    assert add_working_days(D(2026, 2, 14), 1, cal) == D(2026, 2, 24)  # then the Spring Festival
    assert working_days_between(D(2025, 10, 10), D(2025, 10, 13), cal) == 2  # Sat 11 Oct and Mon 13 Oct


def test_working_days_match_the_reference_view_methods() -> None:
    ref = load_reference()
    day = D(2025, 12, 20)
    assert ref.add_working_days(day, 15) == add_working_days(day, 15, ref.holidays) == D(2026, 1, 12)
    assert ref.working_days_between(day, D(2026, 1, 12)) == 15  # Sun 4 Jan works, 1-3 Jan do not


def test_a_year_without_calendar_data_is_refused() -> None:
    cal = load_reference().holidays
    with pytest.raises(CalendarNotCovered, match="2027"):
        is_working_day(D(2027, 1, 4), cal)
    with pytest.raises(CalendarNotCovered):
        add_working_days(D(2026, 12, 20), 20, cal)


def test_a_malformed_holiday_year_is_refused() -> None:
    with pytest.raises(msgspec.ValidationError, match="not a Saturday or Sunday"):
        msgspec.convert({"year": 2025, "holidays": [], "adjusted_working_days": ["2025-10-10"]}, HolidayYear)
    with pytest.raises(msgspec.ValidationError, match="listed under 2025"):
        msgspec.convert({"year": 2025, "holidays": ["2026-01-01"]}, HolidayYear)
    with pytest.raises(msgspec.ValidationError, match="both a holiday"):
        msgspec.convert(
            {"year": 2025, "holidays": ["2025-10-11"], "adjusted_working_days": ["2025-10-11"]}, HolidayYear
        )
    with pytest.raises(msgspec.ValidationError, match="sorted"):
        msgspec.convert({"years": [{"year": 2026, "holidays": []}, {"year": 2025, "holidays": []}]}, HolidayCalendar)


# -- the bundled data works with the rule evaluation -------------------------------------------------


def _ecny_state(area: str, submitted: dt.date, tier: int, per_payment: int) -> ProjectState:
    return ProjectState(
        organisation="icbc",
        submitted_on=submitted,
        sections={
            "boundaries": {
                "pilot_area": area,
                "wallet_tier": tier,
                "per_payment_cap_yuan": per_payment,
                "daily_cap_yuan": 5_000,
                "balance_cap_yuan": 10_000,
                "acceptance_points": 3,
                "start_date": "2022-05-01",
                "end_date": "2023-05-01",
            },
            "statement": {"scenario": "catering", "kyc_responsible": "icbc", "aml_responsible": "icbc"},
        },
    )


def _status(state: ProjectState, key: str) -> dict[str, str]:
    checklist = admission_checklist(state, load_program(key), load_reference(), state.submitted_on or D(2025, 1, 1))
    return {c.id: c.status for c in checklist}


def test_ecny_conditions_evaluate_against_the_bundled_reference_data() -> None:
    met = _status(_ecny_state("fuzhou", D(2022, 4, 2), 4, 2_000), "ecny-pilot")
    for rule_id in (
        "ec.adm.pilot_area",
        "ec.adm.operator",
        "ec.adm.scenario",
        "ec.adm.wallet_tiers",
        "ec.adm.acceptance_points",
        "ec.adm.kyc_aml",
        "ec.adm.smart_contracts",  # no smart contracts declared: not applicable
        "ec.adm.campaign",  # no campaign declared: not applicable
        "ec.adm.period",
    ):
        assert met[rule_id] == "met", rule_id
    assert met["ec.adm.metrics_plan"] == "unmet" and met["ec.adm.notice"] == "unmet"
    early = _status(_ecny_state("fuzhou", D(2022, 4, 1), 4, 2_000), "ecny-pilot")
    assert early["ec.adm.pilot_area"] == "unmet"
    over = _status(_ecny_state("xiamen", D(2024, 6, 1), 4, 2_001), "ecny-pilot")
    assert over["ec.adm.pilot_area"] == "met" and over["ec.adm.wallet_tiers"] == "unmet"


def test_fintech_user_cap_evaluates() -> None:
    def state(users: int) -> ProjectState:
        return ProjectState(
            sections={
                "boundaries": {
                    "max_users": users,
                    "per_user_exposure_cap_yuan": 50_000,
                    "total_exposure_cap_yuan": 10**8,
                }
            }
        )

    assert _status(state(10_000), "fintech-sandbox")["fs.adm.user_cap"] == "met"
    assert _status(state(10_001), "fintech-sandbox")["fs.adm.user_cap"] == "unmet"
