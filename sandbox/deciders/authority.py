"""Who may send each command, in which states: the table every command is checked against first."""

from __future__ import annotations

from projections.project import ProjectState
from sandbox.deciders.context import Context
from schemas import commands as c
from schemas.errors import DomainError
from schemas.lifecycle import IN_TEST, PRE_ADMISSION, STATE_LABELS, TERMINAL, Role, State
from schemas.tables import every_kind

A, CO, AS, AP, SY, PU = Role.APPLICANT, Role.CASE_OFFICER, Role.ASSESSOR, Role.APPROVER, Role.SYSTEM, Role.PUBLIC
S = State

_REVIEW = {S.SUBMITTED, S.UNDER_REVIEW, S.PUBLIC_NOTICE, S.NOTICE_CLOSED}
_LIVE = {S.ADMITTED, *IN_TEST, S.FINAL_EVALUATION, S.EXIT_IN_PROGRESS}

#: action -> (roles that may cause it, states it may happen in)
_RULE_ROWS: list[tuple[str, set[Role], set[State] | frozenset[State]]] = [
    ("create_draft", {A}, {S.NONE}),
    ("edit_draft", {A}, {S.DRAFT, S.RETURNED_FOR_INFO}),
    ("add_partner", {A}, {S.DRAFT, S.RETURNED_FOR_INFO}),
    ("withdraw_partner", {A, CO}, {S.DRAFT, S.RETURNED_FOR_INFO, *_LIVE}),
    ("attach_document", {A, CO}, {s for s in State if s not in TERMINAL and s != S.NONE}),
    ("attest", {A}, {S.DRAFT, S.RETURNED_FOR_INFO}),
    ("submit", {A}, {S.DRAFT}),
    ("withdraw", {A}, PRE_ADMISSION),
    ("supply_information", {A}, {S.RETURNED_FOR_INFO}),
    ("accept_intake", {CO}, {S.SUBMITTED}),
    ("request_information", {CO}, {S.SUBMITTED, S.UNDER_REVIEW}),
    ("assign_case_officer", {AP, CO}, {*_REVIEW, S.RETURNED_FOR_INFO, *_LIVE}),
    ("file_assessment", {AS}, {*_REVIEW, *_LIVE}),
    ("open_public_notice", {CO}, {S.UNDER_REVIEW}),
    ("comment", {PU}, {S.PUBLIC_NOTICE}),
    ("object", {PU}, {S.PUBLIC_NOTICE}),
    ("dispose_objection", {CO}, {S.PUBLIC_NOTICE, S.NOTICE_CLOSED}),
    # (and a forced ending: ADMITTED, EXIT_IN_PROGRESS and GRADUATED, see decisions.DECIDABLE)
    ("recommend", {CO}, {S.UNDER_REVIEW, S.PUBLIC_NOTICE, S.NOTICE_CLOSED, *_LIVE, S.GRADUATED}),
    ("approve", {AP}, {S.UNDER_REVIEW, S.NOTICE_CLOSED, *_LIVE, S.GRADUATED}),
    ("waive_condition", {AP}, {S.UNDER_REVIEW, S.PUBLIC_NOTICE, S.NOTICE_CLOSED}),
    ("start_test", {A, CO}, {S.ADMITTED}),
    ("report_metrics", {A}, {*IN_TEST, S.FINAL_EVALUATION, S.EXIT_IN_PROGRESS}),
    ("report_incident", {A, CO}, {*IN_TEST, S.FINAL_EVALUATION, S.EXIT_IN_PROGRESS}),
    ("remediate_incident", {A, CO}, {*IN_TEST, S.FINAL_EVALUATION, S.EXIT_IN_PROGRESS}),
    ("log_complaint", {A, CO}, {*IN_TEST, S.FINAL_EVALUATION, S.EXIT_IN_PROGRESS}),
    ("request_extension", {A}, set(IN_TEST)),
    ("grant_extension", {AP}, set(IN_TEST)),
    ("refuse_extension", {AP}, set(IN_TEST)),
    ("suspend", {CO, AP}, {S.TESTING}),
    ("reinstate", {AP}, {S.SUSPENDED}),
    ("dispose_breach", {CO, AP}, {*IN_TEST, S.FINAL_EVALUATION, S.EXIT_IN_PROGRESS}),
    ("submit_final_report", {A}, {S.TESTING, S.FINAL_EVALUATION}),
    ("accept_final_report", {CO, AS}, {S.FINAL_EVALUATION}),
    ("initiate_exit", {A, CO}, {*IN_TEST, S.FINAL_EVALUATION}),
    ("confirm_exit", {CO, AP}, {S.EXIT_IN_PROGRESS}),
    ("record_external_fact", {CO, AP, SY}, {*_REVIEW, *_LIVE, S.GRADUATED}),
    ("reclassify_incident", {CO, AP}, {*IN_TEST, S.FINAL_EVALUATION, S.EXIT_IN_PROGRESS}),
    # a listed data asset's own life (assets): pledged, released, realised; changes registered
    ("register_pledge", {A, CO}, {S.ADMITTED, *IN_TEST, S.FINAL_EVALUATION}),
    ("release_pledge", {A, CO}, set(_LIVE)),
    ("realise_pledge", {CO, AP}, set(_LIVE)),
    ("register_change", {A, CO}, {S.ADMITTED, *IN_TEST, S.FINAL_EVALUATION}),
]
Rule = tuple[frozenset[Role], frozenset[State]]
RULES: dict[str, Rule] = {
    name: (frozenset(roles), frozenset(states)) for name, roles, states in _RULE_ROWS
}


def by_command(rules: dict[str, Rule]) -> dict[type[c.Command], Rule]:
    """The rules by the kind of command whose action they name."""
    return {kind: rules[kind.action] for kind in c.PROJECT_COMMANDS if kind.action in rules}


#: A new command kind must say who may send it before the registry starts at all.
every_kind(by_command(RULES), c.PROJECT_COMMANDS, "authority rule")

#: What only the lead applicant (the licensed institution that created the draft) may do for a
#: project: shape and send the application, choose its partners, and decide the test's course.
#: A technology partner attaches and attests for itself, reports what the test measures and
#: meets (metrics, incidents, complaints), and may withdraw itself, never another partner.
LEAD_ONLY = frozenset(
    {
        "edit_draft",
        "add_partner",
        "submit",
        "withdraw",
        "supply_information",
        "start_test",
        "request_extension",
        "submit_final_report",
        "initiate_exit",
        "register_pledge",
        "release_pledge",
        "register_change",
    }
)


def _authorise(command: c.Command, state: ProjectState, ctx: Context) -> None:
    action = command.action
    roles, states = RULES[action]
    if state.state in TERMINAL and state.state not in states:  # only a graduate can still be revoked
        zh, _ = STATE_LABELS[state.state]
        raise DomainError("terminal_state", state=state.state.value, state_zh=zh)
    if ctx.actor.role not in roles:
        raise DomainError("wrong_role", role=ctx.actor.role, action=action)
    if state.state not in states:
        zh, _ = STATE_LABELS[state.state]
        if action in ("comment", "object") and state.state != S.NONE:
            raise DomainError("not_in_notice")
        if state.state == S.NONE:
            raise DomainError("not_found", project_id=ctx.project_id)
        raise DomainError("wrong_state", state=state.state.value, state_zh=zh, action=action)
    if ctx.actor.role == A and state.state != S.NONE:
        if ctx.actor.organisation not in state.applicants():
            raise DomainError("not_your_organisation")
        if action in LEAD_ONLY and ctx.actor.organisation != state.organisation:
            raise DomainError("lead_only", action=action, lead=state.organisation)
