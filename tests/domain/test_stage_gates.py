"""Stage gates, decided by the pure decider (no store): an application is complete before it is
submitted or accepted (补正 first), and assessed on each required topic before its notice opens."""

from __future__ import annotations

import datetime as dt

import pytest

from projections.project import ProjectState
from sandbox import applications
from schemas import commands as c
from schemas.errors import DomainError
from tests.fixtures.pure import (
    ASSESSOR,
    END,
    LEAD,
    OFFICER,
    PARTNER_TECHCO,
    PROGRAMS,
    START,
    draft,
    refused,
    when,
)

FINTECH = PROGRAMS["fintech-sandbox"]


def test_a_complete_sample_application_of_each_program_is_submitted_and_accepted() -> None:
    for key, sittings in (
        ("fintech-sandbox", applications.fintech(START, END, partner=PARTNER_TECHCO)),
        ("ecny-pilot", applications.ecny(START, END, boundaries={"runs_campaign": True},
                                         statement={"uses_smart_contracts": True})),
        ("data-asset", applications.data_asset(product={"pledged": True, "personal_information": "present",
                                                        "balance_sheet_recognition": True},
                                               valued_on=dt.date(2025, 1, 2))),
    ):
        program = PROGRAMS[key]
        s = when(draft(key, sittings), LEAD, c.Submit(), program)
        s = when(s, OFFICER, c.AcceptIntake(), program)
        assert s.state.value == "UNDER_REVIEW", key


def test_submit_is_refused_naming_every_condition_the_applicants_must_still_meet_in_both_languages() -> None:
    s = draft("fintech-sandbox", applications.fintech(
        START, END, statement={"complaint_contact": None}, boundaries={"max_users": None}))
    e = refused(s, LEAD, c.Submit(), FINTECH)
    assert e.code == "application_incomplete"
    # the partner-less draft is complete but for the contact; the cap it judges needs max_users declared
    assert [d["id"] for d in e.details] == ["fs.adm.boundaries", "fs.adm.user_cap", "fs.adm.complaint_channel"]
    assert all(d["missing_zh"] and d["missing_en"] for d in e.details)
    cap = e.details[1]
    assert (cap["missing_zh"], cap["missing_en"]) == ("未申报：最大用户数", "not declared: maximum users")
    for d in e.details:
        assert d["id"] in e.message_en and d["label_en"] in e.message_en
        assert d["id"] in e.message_zh and d["label_zh"] in e.message_zh


def test_a_value_the_regulator_judges_does_not_hold_the_submission_up() -> None:
    s = draft("fintech-sandbox", applications.fintech(START, END, boundaries={"max_users": 20_000}))
    assert when(s, LEAD, c.Submit(), FINTECH).state.value == "SUBMITTED"  # the cap is judged at admission


def test_accept_intake_is_refused_when_the_returned_application_lost_a_document_or_field() -> None:
    s = draft("fintech-sandbox", applications.fintech(START, END))
    s = when(s, LEAD, c.Submit(), FINTECH)
    s = when(s, OFFICER, c.RequestInformation(items=["请补充投诉联系人"]), FINTECH)
    s = when(s, LEAD, c.EditDraft(section="statement", fields={"complaint_channel": None}), FINTECH)
    s = when(s, LEAD, c.SupplyInformation(summary="已补充"), FINTECH)
    e = refused(s, OFFICER, c.AcceptIntake(), FINTECH)
    assert e.code == "application_incomplete" and [d["id"] for d in e.details] == ["fs.adm.statement",
                                                                                   "fs.adm.complaint_channel"]


def test_the_notice_waits_for_a_favourable_latest_assessment_on_each_required_topic() -> None:
    s = draft("fintech-sandbox", applications.fintech(START, END))
    s = when(when(s, LEAD, c.Submit(), FINTECH), OFFICER, c.AcceptIntake(), FINTECH)
    e = refused(s, OFFICER, c.OpenPublicNotice(), FINTECH)
    assert e.code == "assessment_missing"
    assert [d["topic"] for d in e.details] == ["legal_compliance_review", "technical_security_review"]
    assert "合法合规性评估" in e.message_zh and "Legal compliance" in e.message_en

    def assess(state: ProjectState, topic: str, outcome: str) -> ProjectState:
        return when(state, ASSESSOR, c.FileAssessment(topic=topic, outcome=outcome, summary="意见"),  # type: ignore[arg-type]
                    FINTECH)

    s = assess(s, "legal_compliance_review", "favourable")
    s = assess(s, "technical_security_review", "favourable")
    s = assess(s, "technical_security_review", "needs_work")  # the latest counts
    s = assess(s, "consumer_protection_review", "favourable")  # a topic the program does not require
    e = refused(s, OFFICER, c.OpenPublicNotice(), FINTECH)
    assert [d["topic"] for d in e.details] == ["technical_security_review"]
    s = assess(s, "technical_security_review", "favourable")
    assert when(s, OFFICER, c.OpenPublicNotice(), FINTECH).state.value == "PUBLIC_NOTICE"


@pytest.mark.parametrize(("key", "topics"), [
    ("fintech-sandbox", ["legal_compliance_review", "technical_security_review"]),
    ("ecny-pilot", ["wallet_limits_review", "aml_kyc_review"]),
    ("data-asset", ["compliance_review", "quality_review"]),
])
def test_each_program_names_the_topics_it_requires(key: str, topics: list[str]) -> None:
    assert [t.id for t in PROGRAMS[key].assessment_topics] == topics
    assert all(t.label_zh and t.label_en for t in PROGRAMS[key].assessment_topics)


def test_only_conditions_the_applicants_alone_can_satisfy_gate_the_submission() -> None:
    applicants_own = {"documents", "attestation", "fields", "licensed_lead"}
    for program in PROGRAMS.values():
        for rule in program.admission:
            assert (rule.stage == "submission") == (rule.params.__struct_config__.tag in applicants_own), rule.id


def test_a_program_version_gating_the_submission_on_the_regulators_own_checks_is_refused() -> None:
    """A notice at the submission stage would let no application be submitted at all."""
    import msgspec

    from tests.fixtures.world import APPROVER, World

    w = World()
    v1 = w.registry.program("fintech-sandbox", 1)
    rules = list(v1.admission)
    notice = next(i for i, r in enumerate(rules) if r.params.__struct_config__.tag == "notice")
    rules[notice] = msgspec.structs.replace(rules[notice], stage="submission")
    v2 = msgspec.structs.replace(v1, version=2, effective_from=w.clock.today, admission=tuple(rules))
    head = w.head()
    with pytest.raises(DomainError) as refused:
        w.registry.publish_program(v2, APPROVER, command_id=w.cid())
    e = refused.value
    assert e.code == "invalid_value" and w.head() == head
    assert [d["field"] for d in e.details] == [f"definition.admission[{notice}].stage"]
    assert "admission" in e.details[0]["rule"] and e.details[0]["rule_zh"]
