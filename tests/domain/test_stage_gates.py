"""Stage gates, decided by the pure decider (no store): an application is complete before it is
submitted or accepted (补正 first), and assessed on each required topic before its notice opens."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from events.model import RecordedEvent
from projections.project import INITIAL, ProjectState, evolve
from sandbox import applications
from sandbox.deciders import Context, decide
from schemas import commands as c
from schemas.base import Event, EventMetadata
from schemas.bundled import load_programs, load_reference
from schemas.commands import Actor
from schemas.errors import DomainError
from schemas.programs import ProgramDefinition

NOW = dt.datetime(2025, 3, 3, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
LEAD = Actor(id="alice", role="applicant", organisation="fzbank")
PARTNER = Actor(id="tom", role="applicant", organisation="techco")
OFFICER = Actor(id="carol", role="case_officer")
ASSESSOR = Actor(id="sam", role="assessor")
PROGRAMS = {p.key: p for p in load_programs()}
REF = load_reference()
_positions = itertools.count(1)


def when(state: ProjectState, actor: Actor, command: c.Command, program: ProgramDefinition) -> ProjectState:
    """Decide ``command`` on ``state`` and fold what it records."""
    decided = decide(command, state, Context(actor=actor, now=NOW, program=program, ref=REF, project_id="p1"))
    for event in decided.all:
        meta = EventMetadata(actor=actor.id, role=actor.role, organisation=actor.organisation, occurred_at=NOW)
        n = next(_positions)
        recorded: RecordedEvent[Event] = RecordedEvent(
            position=n, stream_id="project-p1", version=state.version + 1, type=type(event).__name__,
            event_id=f"e{n}", payload=event, metadata=meta, recorded_at=NOW, hash="0" * 64,
        )
        state = evolve(state, recorded)
    return state


def draft(key: str, sittings: list[applications.Sitting]) -> ProjectState:
    """A draft of program ``key`` given the steps of a sample application."""
    program = PROGRAMS[key]
    s = when(INITIAL, LEAD, c.CreateDraft(
        program_key=key, title="小微企业智能信贷服务", app_type="金融服务", lead_name="福州示范银行",
        lead_kind="licensed_institution", region="福州", lead_licence_no="B0001H235010001"), program)
    for step in applications.steps(sittings):
        s = when(s, LEAD if step.by == "lead" else PARTNER, step.command, program)
    return s


def refused(state: ProjectState, actor: Actor, command: c.Command, program: ProgramDefinition) -> DomainError:
    with pytest.raises(DomainError) as e:
        when(state, actor, command, program)
    return e.value


START, END = dt.date(2025, 3, 4), dt.date(2026, 2, 28)
FINTECH = PROGRAMS["fintech-sandbox"]
PARTNER_TECHCO = applications.Partner(organisation="techco", name="榕城数科")


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
    assert "not declared: max_users" in e.details[1]["missing_en"] and "未申报：max_users" in e.details[1]["missing_zh"]
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
