"""Deciders of the review: intake, information requests, assessments, the public notice and its objections, waivers."""

from __future__ import annotations

import datetime as dt
import hashlib

from events.codec import canonical_json
from projections.project import ProjectState, objector_key
from projections.rules import applies
from sandbox.deciders.context import Context, handles, next_id, statement_hash
from sandbox.deciders.gates import assessed, complete
from schemas import commands as c
from schemas import events as ev
from schemas.base import Event
from schemas.errors import DomainError
from schemas.programs import DayUnit, Notice, ProgramDefinition
from schemas.validation import Violation, invalid


def accept_intake(command: c.AcceptIntake, s: ProjectState, ctx: Context) -> list[Event]:
    complete(s, ctx)
    return [ev.IntakeAccepted()]


def request_information(command: c.RequestInformation, s: ProjectState, ctx: Context) -> list[Event]:
    return [ev.InformationRequested(items=list(command.items), due_on=command.due_on)]


def assign_case_officer(command: c.AssignCaseOfficer, s: ProjectState, ctx: Context) -> list[Event]:
    return [ev.CaseOfficerAssigned(officer=command.officer)]


def file_assessment(command: c.FileAssessment, s: ProjectState, ctx: Context) -> list[Event]:
    return [
        ev.AssessmentFiled(topic=command.topic, outcome=command.outcome, summary=command.summary, sha256=command.sha256)
    ]


def open_public_notice(command: c.OpenPublicNotice, s: ProjectState, ctx: Context) -> list[Event]:
    assessed(s, ctx)
    today = ctx.today
    program = ctx.program
    starts = command.starts_on or today
    if starts < today:
        raise DomainError(
            "invalid_value",
            field="starts_on",
            rule_zh="公示开始日期不得早于今天",
            rule_en="the notice cannot start in the past",
        )
    days, unit = _notice_rule(program, s)
    ends = ctx.ref.add_working_days(starts, days) if unit == "working" else starts + dt.timedelta(days=days)
    return [
        ev.PublicNoticeOpened(
            starts_on=starts,
            ends_on=ends,
            days=days,
            unit=unit,
            statement_hash=statement_hash(s),
            channel=command.channel,
            public_statement=(public := public_statement(s, program)),
            public_sha256=hashlib.sha256(canonical_json(public)).hexdigest(),
        )
    ]


def public_statement(state: ProjectState, program: ProgramDefinition) -> dict[str, dict[str, ev.Value]]:
    """The statement's public parts as they stand: the declared fields the program publishes."""
    out: dict[str, dict[str, ev.Value]] = {}
    for section, names in program.public_fields.by_section().items():
        declared = state.section(section)
        shown = {name: declared[name] for name in names if declared.get(name) not in (None, "", [])}
        if shown:
            out[section] = shown
    return out


def comment(command: c.Comment, s: ProjectState, ctx: Context) -> list[Event]:
    return [ev.CommentReceived(comment_id=next_id("cmt", s), text=command.text)]


def object_(command: c.Object, s: ProjectState, ctx: Context) -> list[Event]:
    """An objection names its objector (kept private), one open objection per objector."""
    anonymous = [name for name in ("name", "contact") if not (getattr(command, name) or "").strip()]
    if anonymous:
        raise invalid(
            [
                Violation(
                    field=name,
                    rule="an objection names its objector (name and contact, seen by regulators only);"
                    " a comment may stay anonymous",
                    rule_zh="异议须写明异议人姓名及联系方式（仅监管部门可见）；意见可以匿名",
                )
                for name in anonymous
            ]
        )
    objector = objector_key(command.contact)
    if any(o.objector == objector for o in s.open_objections):
        raise DomainError("objection_already_open")
    return [
        ev.ObjectionFiled(
            objection_id=next_id("obj", s),
            grounds=command.grounds,
            objector_name=command.name,
            objector_contact=command.contact,
        )
    ]


def dispose_objection(command: c.DisposeObjection, s: ProjectState, ctx: Context) -> list[Event]:
    if command.objection_id not in {o.objection_id for o in s.open_objections}:
        raise DomainError("unknown_objection", objection_id=command.objection_id)
    return [ev.ObjectionDisposed(objection_id=command.objection_id, outcome=command.outcome)]


def waive_condition(command: c.WaiveCondition, s: ProjectState, ctx: Context) -> list[Event]:
    program = ctx.program
    if not command.reason:
        raise DomainError("reason_required")
    if command.condition_id not in {r.id for r in program.admission}:
        raise DomainError("unknown_condition", condition_id=command.condition_id)
    return [ev.ConditionWaived(condition_id=command.condition_id)]


def _notice_rule(program: ProgramDefinition, state: ProjectState) -> tuple[int, DayUnit]:
    for rule in program.admission:
        if isinstance(rule.params, Notice) and applies(state, rule.params.when_field, rule.params.when_value):
            return rule.params.days, rule.params.unit
    return program.durations.notice_days, program.durations.notice_unit


#: The decider of each command kind of this stage.
DECIDERS = dict(
    [
        handles(c.AcceptIntake, accept_intake),
        handles(c.RequestInformation, request_information),
        handles(c.AssignCaseOfficer, assign_case_officer),
        handles(c.FileAssessment, file_assessment),
        handles(c.OpenPublicNotice, open_public_notice),
        handles(c.Comment, comment),
        handles(c.Object, object_),
        handles(c.DisposeObjection, dispose_objection),
        handles(c.WaiveCondition, waive_condition),
    ]
)
