"""Given/when/then over the pure decider, with no store: events are folded as the store would
record them (positions counted here), against the bundled programs and reference data."""

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
PARTNER_TECHCO = applications.Partner(organisation="techco", name="榕城数科")


def on_notice(key: str = "fintech-sandbox") -> ProjectState:
    """A complete application of program ``key``, accepted, assessed favourably on every
    required topic, its notice open."""
    program = PROGRAMS[key]
    samples = {
        "fintech-sandbox": applications.fintech(START, END),
        "ecny-pilot": applications.ecny(START, END),
        "data-asset": applications.data_asset(),
    }
    s = when(when(draft(key, samples[key]), LEAD, c.Submit(), program), OFFICER, c.AcceptIntake(), program)
    for topic in program.assessment_topics:
        s = when(s, ASSESSOR, c.FileAssessment(topic=topic.id, outcome="favourable", summary="意见"), program)
    return when(s, OFFICER, c.OpenPublicNotice(channel="官网"), program)
