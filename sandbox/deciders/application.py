"""Deciders of the application: the draft, its partners, documents and attestations, submission and withdrawal."""

from __future__ import annotations

from projections.project import ProjectState
from sandbox.deciders.authority import _LIVE, A
from sandbox.deciders.context import Context, handles, statement_hash
from sandbox.deciders.gates import complete
from schemas import commands as c
from schemas import events as ev
from schemas.base import Event
from schemas.errors import DomainError

#: The fact a partner's withdrawal (or removal) after admission records, for the exit criteria
#: keyed on it (the fintech sandbox's ``fs.exit.licence_lost``: termination).
PARTNER_WITHDRAWN = "partner_withdrawn"


def create_draft(command: c.CreateDraft, s: ProjectState, ctx: Context) -> list[Event]:
    actor = ctx.actor
    program = ctx.program
    if actor.organisation is None:
        raise DomainError(
            "invalid_value",
            field="organisation",
            rule_zh="申请机构必须属于某一机构",
            rule_en="an applicant must belong to an organisation",
        )
    if command.program_key != program.key:
        raise DomainError("unknown_program", program=command.program_key)
    return [
        ev.DraftCreated(
            project_id=ctx.project_id,
            program_key=command.program_key,
            title=command.title,
            app_type=command.app_type,
            organisation=actor.organisation,
            lead_name=command.lead_name,
            lead_licence_no=command.lead_licence_no,
            lead_kind=command.lead_kind,
            region=command.region,
        )
    ]


def edit_draft(command: c.EditDraft, s: ProjectState, ctx: Context) -> list[Event]:
    return [ev.DraftEdited(section=command.section, fields=command.fields)]


def add_partner(command: c.AddPartner, s: ProjectState, ctx: Context) -> list[Event]:
    if command.organisation in s.applicants():
        raise DomainError("duplicate_id", id=command.organisation)
    return [
        ev.PartnerAdded(
            organisation=command.organisation,
            name=command.name,
            role=command.role,
            licence_no=command.licence_no,
        )
    ]


def withdraw_partner(command: c.WithdrawPartner, s: ProjectState, ctx: Context) -> list[Event]:
    actor = ctx.actor
    today = ctx.today
    if actor.role == A and actor.organisation not in (s.organisation, command.organisation):
        raise DomainError("lead_only", action="withdraw_partner", lead=s.organisation)
    if command.organisation not in s.applicants() or command.organisation == s.organisation:
        raise DomainError(
            "invalid_value",
            field="organisation",
            rule_zh="只能退出现有合作机构",
            rule_en="only a current partner can withdraw",
        )
    withdrawn: list[Event] = [ev.PartnerWithdrawn(organisation=command.organisation)]
    if s.state in _LIVE:
        # Once admitted, a partner leaving is a fact the exit criteria watch (the fintech
        # sandbox terminates a test whose partner withdraws); before admission it only
        # changes the application, which is then assessed without that partner.
        withdrawn.append(
            ev.ExternalFactRecorded(
                trigger=PARTNER_WITHDRAWN,
                on=today,
                detail=f"partner {command.organisation} withdrew or was removed",
            )
        )
    return withdrawn


def attach_document(command: c.AttachDocument, s: ProjectState, ctx: Context) -> list[Event]:
    actor = ctx.actor
    holder = command.holder or (actor.organisation if actor.role == A else s.organisation) or s.organisation
    if actor.role == A and holder != actor.organisation:
        raise DomainError("not_your_organisation")
    if holder not in s.applicants() and actor.role == A:
        raise DomainError("not_your_organisation")
    return [
        ev.DocumentAttached(
            kind=command.kind,
            sha256=command.sha256,
            title=command.title,
            holder=holder,
            issued_on=command.issued_on,
            size=command.size,
            media_type=command.media_type,
        )
    ]


def attest(command: c.Attest, s: ProjectState, ctx: Context) -> list[Event]:
    actor = ctx.actor
    org = command.organisation or actor.organisation or ""
    if org != actor.organisation:
        raise DomainError("not_your_organisation")
    return [ev.AttestationMade(statement=command.statement, organisation=org, text=command.text)]


def submit(command: c.Submit, s: ProjectState, ctx: Context) -> list[Event]:
    complete(s, ctx)
    today = ctx.today
    program = ctx.program
    return [
        ev.ApplicationSubmitted(
            program_ref=program.ref,
            program_version=program.version,
            submitted_on=today,
            statement_hash=statement_hash(s),
        )
    ]


def withdraw(command: c.Withdraw, s: ProjectState, ctx: Context) -> list[Event]:
    return [ev.ApplicationWithdrawn()]


def supply_information(command: c.SupplyInformation, s: ProjectState, ctx: Context) -> list[Event]:
    return [ev.InformationSupplied(summary=command.summary)]


#: The decider of each command kind of this stage.
DECIDERS = dict(
    [
        handles(c.CreateDraft, create_draft),
        handles(c.EditDraft, edit_draft),
        handles(c.AddPartner, add_partner),
        handles(c.WithdrawPartner, withdraw_partner),
        handles(c.AttachDocument, attach_document),
        handles(c.Attest, attest),
        handles(c.Submit, submit),
        handles(c.Withdraw, withdraw),
        handles(c.SupplyInformation, supply_information),
    ]
)
