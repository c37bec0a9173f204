"""The admission checklist, the stage gates and the exit criteria name every field, document
kind and declared value by its label in the reader's language, never by the key the API uses
(``pilot_area``, ``financial_licence``): for incomplete and out-of-rule applications of every
bundled program, no Chinese or English text they give holds a key. The machine-readable parts
(a condition's id, the ``details`` of a refusal) keep their keys."""

from __future__ import annotations

import datetime as dt

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from projections.gates import incomplete
from projections.project import ProjectState
from projections.rules import RuleStatus, admission_checklist, exit_criteria
from sandbox import applications
from schemas import commands as c
from schemas.labels import field_label
from tests.fixtures.pure import END, LEAD, OFFICER, PARTNER_TECHCO, PROGRAMS, REF, START, draft, refused, when
from tests.fixtures.words import snake_keys

SAMPLES = {
    "fintech-sandbox": lambda **kw: applications.fintech(START, END, partner=PARTNER_TECHCO, **kw),
    "ecny-pilot": lambda **kw: applications.ecny(START, END, **kw),
    "data-asset": lambda **kw: applications.data_asset(**kw),
}

#: Applications whose declared values break the rules: a cap above its limit, wallet caps above
#: the tier's, a campaign and smart contracts without what they need, national core data with
#: personal information and a pledge outstanding, KPIs the program does not define.
OUT_OF_RULE = {
    "fintech-sandbox": {"boundaries": {"max_users": 20_000, "per_user_exposure_cap_yuan": None},
                        "test_plan": {"kpis": ["approval_time", "loans_granted_total"]}},
    "ecny-pilot": {"boundaries": {"per_payment_cap_yuan": 50_000, "daily_cap_yuan": None, "runs_campaign": True,
                                  "start_date": None},
                   "statement": {"uses_smart_contracts": True}},
    "data-asset": {"product": {"grade": "national_core", "personal_information": "present",
                               "balance_sheet_recognition": True, "product_type": None}},
}


def texts(statuses: list[RuleStatus]) -> dict[str, list[str]]:
    """Each condition's or criterion's keys shown in its labels and what it says is missing."""
    found = {s.id: snake_keys(s.label_zh, s.label_en, s.missing_zh, s.missing_en) for s in statuses}
    return {rule: keys for rule, keys in found.items() if keys}


def words_of(state: ProjectState, key: str) -> dict[str, list[str]]:
    """The keys the checklist, the gate, the submission's refusal and the exit criteria show."""
    program = PROGRAMS[key]
    found = texts(admission_checklist(state, program, REF, START)) | texts(incomplete(state, program, REF, START))
    gaps = incomplete(state, program, REF, START)
    if gaps:
        e = refused(state, LEAD, c.Submit(), program)
        message = f"{e.message_zh} {e.message_en}"
        for gap in gaps:  # (a condition's id is an identifier the reader may quote, not a name)
            message = message.replace(gap.id, "")
        if keys := snake_keys(message):
            found["refusal"] = keys
    testing = msgspec.structs.replace(state, test_started_on=START)
    return found | texts(exit_criteria(testing, program, END))


@pytest.mark.parametrize("key", SAMPLES)
def test_an_empty_draft_is_told_what_it_lacks_in_words(key: str) -> None:
    assert words_of(draft(key, []), key) == {}


@pytest.mark.parametrize("key", SAMPLES)
def test_a_draft_beyond_the_rules_is_told_why_in_words(key: str) -> None:
    state = draft(key, SAMPLES[key](**OUT_OF_RULE[key]))
    statuses = admission_checklist(state, PROGRAMS[key], REF, START)
    assert [s for s in statuses if s.status == "unmet"]  # (the sample does break rules)
    assert words_of(state, key) == {}


def test_a_missing_field_is_named_by_its_label_and_its_key_stays_in_the_details() -> None:
    state = draft("ecny-pilot", SAMPLES["ecny-pilot"](boundaries={"pilot_area": None}))
    e = refused(state, LEAD, c.Submit(), PROGRAMS["ecny-pilot"])
    detail = next(d for d in e.details if d["id"] == "ec.adm.pilot_area")
    assert (detail["missing_zh"], detail["missing_en"]) == ("未申报：试点地区", "not declared: pilot area")
    assert "试点地区" in e.message_zh and "pilot area" in e.message_en


def test_a_pilot_area_is_named_as_the_reference_data_names_it() -> None:
    state = draft("ecny-pilot", SAMPLES["ecny-pilot"]())
    program = PROGRAMS["ecny-pilot"]
    before = dt.date(2021, 1, 4)  # (Fuzhou joined the pilot in April 2022)
    [area] = [x for x in admission_checklist(state, program, REF, before) if x.id == "ec.adm.pilot_area"]
    assert (area.status, area.missing_zh) == ("unmet", "福州市在 2021-01-04 不是数字人民币试点地区")
    assert area.missing_en == "Fuzhou is not an approved e-CNY pilot area on 2021-01-04"


def test_a_field_path_reads_part_by_part() -> None:
    assert field_label("boundaries.pilot_area") == ("测试边界·试点地区", "test boundaries › pilot area")
    assert field_label("wallet_limits.tier_1") == ("wallet limits·tier 1", "wallet limits › tier 1")
    assert not snake_keys(*field_label("a_field_no_table_names"))


@pytest.mark.parametrize("key", SAMPLES)
def test_the_notice_gate_names_the_topics_it_waits_for_in_words(key: str) -> None:
    program = PROGRAMS[key]
    accepted = when(when(draft(key, SAMPLES[key]()), LEAD, c.Submit(), program), OFFICER, c.AcceptIntake(), program)
    e = refused(accepted, OFFICER, c.OpenPublicNotice(channel="官网"), program)
    assert e.code == "assessment_missing" and [d["topic"] for d in e.details] == [
        t.id for t in program.assessment_topics
    ]
    assert all(t.label_zh in e.message_zh and t.label_en in e.message_en for t in program.assessment_topics)
    assert snake_keys(e.message_zh, e.message_en) == []


@st.composite
def partial_application(draw: st.DrawFn, key: str) -> list[applications.Sitting]:
    """A sample application of program ``key`` with any of its steps and declared fields left out."""
    kept: list[applications.Step] = []
    for step in applications.steps(SAMPLES[key]()):
        partnered = any(isinstance(k.command, c.AddPartner) for k in kept)
        if not draw(st.booleans()) or (step.by == "partner" and not partnered):
            continue
        if isinstance(step.command, c.EditDraft):
            fields = step.command.fields
            keep = draw(st.sets(st.sampled_from(sorted(fields)))) if fields else set()
            command = msgspec.structs.replace(step.command, fields={k: v for k, v in fields.items() if k in keep})
            step = applications.Step(step.by, command)
        kept.append(step)
    return [kept]


@pytest.mark.parametrize("key", SAMPLES)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_incomplete_application_is_told_what_it_lacks_in_words(key: str, data: st.DataObject) -> None:
    state = draft(key, data.draw(partial_application(key)))
    assert words_of(state, key) == {}
