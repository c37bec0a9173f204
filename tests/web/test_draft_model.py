"""The step-by-step application's model, decided purely: for any draft part-way through, every
condition that holds the submission up names a step the applicant can open, and submission is
offered exactly when the ``submit`` decider accepts it."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from projections.project import INITIAL, ProjectState
from sandbox import applications
from sandbox.web.drafts import SUBMIT, draft_of
from schemas import commands as c
from schemas.errors import DomainError
from tests.fixtures.pure import END, LEAD, NOW, PARTNER, PARTNER_TECHCO, PROGRAMS, REF, START, when

SAMPLES = {
    "fintech-sandbox": applications.fintech(START, END, partner=PARTNER_TECHCO),
    "ecny-pilot": applications.ecny(
        START, END, boundaries={"runs_campaign": True}, statement={"uses_smart_contracts": True}
    ),
    "data-asset": applications.data_asset(
        product={"pledged": True, "personal_information": "present"}, valued_on=dt.date(2025, 1, 2)
    ),
}


def drafted(key: str, kept: list[bool] | None = None) -> ProjectState:
    """A draft of ``key``'s sample application with the steps ``kept`` (all by default) taken."""
    program = PROGRAMS[key]
    steps = applications.steps(SAMPLES[key])
    s = when(INITIAL, LEAD, c.CreateDraft(
        program_key=key, title="小微企业智能信贷服务", app_type="金融服务", lead_name="福州示范银行",
        lead_kind="licensed_institution", region="福州", lead_licence_no="B0001H235010001"), program)  # fmt: skip
    for step, keep in zip(steps, kept or [True] * len(steps), strict=True):
        if keep:
            try:
                s = when(s, LEAD if step.by == "lead" else PARTNER, step.command, program)
            except DomainError:  # a step that needs one left out (a partner's, without the partner)
                continue
    return s


@pytest.mark.parametrize("key", sorted(SAMPLES))
def test_a_complete_sample_is_ready_and_opens_at_its_submission_while_a_new_draft_is_not(key: str) -> None:
    program = PROGRAMS[key]
    complete = draft_of(drafted(key), program, REF, NOW.date())
    assert complete.ready and complete.first_open() == SUBMIT
    new = draft_of(drafted(key, [False] * len(applications.steps(SAMPLES[key]))), program, REF, NOW.date())
    assert not new.ready and new.first_open() == new.steps[0].name


@settings(max_examples=60, deadline=None)
@given(key=st.sampled_from(sorted(SAMPLES)), data=st.data())
def test_every_gap_has_its_step_and_submit_is_offered_exactly_when_the_decider_accepts(
    key: str, data: st.DataObject
) -> None:
    program = PROGRAMS[key]
    size = len(applications.steps(SAMPLES[key]))
    s = drafted(key, data.draw(st.lists(st.booleans(), min_size=size, max_size=size)))
    model = draft_of(s, program, REF, NOW.date())
    names = [step.name for step in model.steps]
    assert names[-1] == SUBMIT and len(set(names)) == len(names)
    for gap in model.gaps():
        assert gap.step in names, gap.status.id
        assert gap.gap is not None and gap.gap.missing_zh and gap.gap.missing_en
    try:
        when(s, LEAD, c.Submit(), program)
        accepted = True
    except DomainError as e:
        assert e.code == "application_incomplete"
        assert {d["id"] for d in e.details} == {g.status.id for g in model.gaps()}
        accepted = False
    assert model.ready is accepted
    assert model.first_open() == (SUBMIT if accepted else next(n for n in names if model.gaps(n)))
