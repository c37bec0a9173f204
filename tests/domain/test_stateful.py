"""A stateful property test of the domain: random commands from random people at random times.

The machine drives one or two projects through the real service with commands that are sometimes
useful (the next step of the lifecycle, by someone whose role allows it) and sometimes anything at
all (any command, any payload, any actor: another organisation's applicant, the public, an
auditor, the system), while the clock moves forward and the timers run. After every step it
checks the lifecycle's rules against the log itself:

- every new event was caused by a role that may cause it, in a state it may happen in; timer and
  automatic events only by the system actor and only from the states they may leave, and the
  system actor nothing else (a second tick at the same moment records nothing);
- no ProjectAdmitted unless, on the state just before it, the notice had closed, no objection was
  open and every admission condition was met or waived;
- no ApplicationSubmitted or IntakeAccepted while the application was incomplete (stage gates), and
  no PublicNoticeOpened before every required assessment topic was favourable;
- an approver is never the recommender, and nobody approves one recommendation twice;
- a terminal state stays terminal (a graduate may only be revoked);
- a refused command appended nothing;
- replaying a stream from scratch equals the state the service loads and the incremental fold.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, cast

import hypothesis.strategies as st
import pytest
from hypothesis import HealthCheck, event, settings
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from events.model import RecordedEvent
from projections.gates import incomplete, missing_topics
from projections.project import INITIAL, ProjectState, evolve, fold, local_date
from projections.rules import admission_checklist
from sandbox.deciders import LEAD_ONLY, RULES
from schemas import commands as c
from schemas import events as ev
from schemas.base import Event
from schemas.commands import Actor
from schemas.dates import months_later
from schemas.errors import DomainError
from schemas.events import Decision
from schemas.lifecycle import TERMINAL, Role, State
from schemas.streams import PROJECT_PREFIX, project_stream
from tests.fixtures.world import (
    ALICE,
    APPROVER,
    APPROVER2,
    ASSESSOR,
    AUDITOR,
    CAROL_AS_APPROVER,
    OFFICER,
    OFFICER2,
    OTHER,
    PUBLIC,
    SYSTEM,
    TECHCO,
    World,
    sha,
)

#: The assessment topics the fintech sandbox and the e-CNY pilot require.
TOPICS = ["legal_compliance_review", "technical_security_review", "wallet_limits_review", "aml_kyc_review"]
ACTORS = [ALICE, TECHCO, OTHER, OFFICER, OFFICER2, ASSESSOR, APPROVER, APPROVER2, CAROL_AS_APPROVER, PUBLIC,
          AUDITOR, SYSTEM]

#: The states a decision may take effect in, restated here by hand rather than imported from the
#: decider's table (which would then check itself; a change to one must be made to the other on
#: purpose). DESIGN §3's lifecycle, with the forced endings its exit criteria (§2) need while a
#: test runs, as the README states them: admission once the notice closed; rejection under review
#: or after the notice; graduation from the final evaluation; termination of a live project (a
#: licence lost mid-test); revocation for false materials from the admission on, graduates included.
DECIDED_IN: dict[type[Event], set[State]] = {
    ev.ProjectAdmitted: {State.NOTICE_CLOSED},
    ev.ApplicationRejected: {State.UNDER_REVIEW, State.NOTICE_CLOSED},
    ev.ProjectGraduated: {State.FINAL_EVALUATION},
    ev.ProjectTerminated: {State.ADMITTED, State.TESTING, State.SUSPENDED, State.FINAL_EVALUATION,
                           State.EXIT_IN_PROGRESS},
    ev.ProjectRevoked: {State.ADMITTED, State.TESTING, State.SUSPENDED, State.FINAL_EVALUATION, State.GRADUATED},
}

#: Events only the system records (timers, and the consequences of a crossed criterion).
SYSTEM_ONLY = {"PublicNoticeClosed", "ReportOverdue", "TestPeriodEnded", "ExtensionDeadlinePassed",
               "DormancyDetected", "ThresholdBreached", "WarningIssued"}
#: Events the system may also record as the automatic consequence of a breach.
AUTOMATIC = {"ProjectSuspended", "ExitInitiated", "ProjectTerminated", "ProjectRevoked"}
#: event type -> the commands (RULES actions) that may produce it
PRODUCERS: dict[str, tuple[str, ...]] = {
    "DraftCreated": ("create_draft",),
    "DraftEdited": ("edit_draft",),
    "PartnerAdded": ("add_partner",),
    "PartnerWithdrawn": ("withdraw_partner",),
    "DocumentAttached": ("attach_document",),
    "AttestationMade": ("attest",),
    "ApplicationSubmitted": ("submit",),
    "ApplicationWithdrawn": ("withdraw",),
    "IntakeAccepted": ("accept_intake",),
    "InformationRequested": ("request_information",),
    "InformationSupplied": ("supply_information",),
    "CaseOfficerAssigned": ("assign_case_officer",),
    "AssessmentFiled": ("file_assessment",),
    "PublicNoticeOpened": ("open_public_notice",),
    "CommentReceived": ("comment",),
    "ObjectionFiled": ("object",),
    "ObjectionDisposed": ("dispose_objection",),
    "RecommendationMade": ("recommend", "initiate_exit"),
    "DecisionApproved": ("approve",),
    "ConditionWaived": ("waive_condition",),
    "ProjectAdmitted": ("approve",),
    "ApplicationRejected": ("approve",),
    "ProjectGraduated": ("approve",),
    "TestStarted": ("start_test",),
    "MetricsReported": ("report_metrics",),
    "IncidentReported": ("report_incident",),
    "IncidentRemediated": ("remediate_incident",),
    "ComplaintLogged": ("log_complaint",),
    "ExtensionRequested": ("request_extension",),
    "ExtensionGranted": ("grant_extension",),
    "ExtensionRefused": ("refuse_extension",),
    "ProjectSuspended": ("suspend", "dispose_breach"),
    "BreachDispositionProposed": ("dispose_breach",),
    "BreachDisposed": ("dispose_breach",),
    "ProjectReinstated": ("reinstate",),
    "FinalReportSubmitted": ("submit_final_report",),
    "FinalReportAccepted": ("accept_final_report",),
    "ExitInitiated": ("initiate_exit", "approve"),
    "ExitConfirmed": ("confirm_exit", "approve"),
    "ProjectTerminated": ("approve",),
    "ProjectRevoked": ("approve",),
    "ExternalFactRecorded": ("record_external_fact", "withdraw_partner"),  # a partner leaving a live project
}
#: Narrower than the commands' roles: only a case officer recommends (a forced exit included),
#: only approvers turn a recommendation into a decision, only the applicant exits voluntarily.
EXACT_ROLE = {
    "RecommendationMade": {Role.CASE_OFFICER},
    "DecisionApproved": {Role.APPROVER},
    "ProjectAdmitted": {Role.APPROVER},
    "ApplicationRejected": {Role.APPROVER},
    "ProjectGraduated": {Role.APPROVER},
    "ProjectTerminated": {Role.APPROVER},
    "ProjectRevoked": {Role.APPROVER},
}
#: The states an automatic or timer transition may leave.
SYSTEM_FROM: dict[str, set[State]] = {
    "PublicNoticeClosed": {State.PUBLIC_NOTICE},
    "TestPeriodEnded": {State.TESTING, State.SUSPENDED},
    "ProjectSuspended": {State.TESTING},
    "ExitInitiated": {State.TESTING, State.SUSPENDED, State.FINAL_EVALUATION},
    "ProjectTerminated": {State.ADMITTED, State.TESTING, State.SUSPENDED, State.FINAL_EVALUATION,
                          State.EXIT_IN_PROGRESS},
    "ProjectRevoked": {State.ADMITTED, State.TESTING, State.SUSPENDED, State.GRADUATED},
}
GRADUATE_MAY_RECORD = {"ExternalFactRecorded", "ThresholdBreached", "ProjectRevoked", "RecommendationMade",
                       "DecisionApproved"}  # (a revocation: recommended and approved)
DOCUMENTS = ["financial_licence", "internal_audit_opinion", "external_legal_assessment", "security_assessment",
             "personal_financial_information_assessment", "risk_compensation_plan", "emergency_plan",
             "service_exit_plan", "smart_contract_template", "valuation_report", "misc"]
TRIGGERS = ["licence_lost", "partner_withdrawn", "pilot_area_withdrawn", "operator_withdrawn", "false_materials",
            "material_change", "source_authorisation_lapsed", "trade_made", "campaign_budget_exhausted", "unknown_fact"]
METRICS = ["users", "active_users", "exposure_yuan", "max_user_exposure_yuan", "complaints", "transactions",
           "payment_failures", "fraud_cases", "cap_breaches", "trades"]

Draw = Callable[[st.SearchStrategy[Any]], Any]


# -- commands ----------------------------------------------------------------------------------


def any_command(draw: Draw, s: ProjectState, now: dt.datetime) -> c.Command:
    """Any command of the pool, with a valid or an invalid payload."""
    today = local_date(now)
    day = today + dt.timedelta(days=draw(st.integers(-40, 40)))
    kpis = s.section("test_plan").get("kpis")
    kpi_pool = [str(k) for k in kpis] if isinstance(kpis, list) else []
    kpi_pool += ["made_up_kpi"]
    objection = draw(st.sampled_from([o.objection_id for o in s.objections] + ["obj-999"]))
    incident = draw(st.sampled_from(["inc-1", "inc-2", "inc-3"]))
    reason = draw(st.sampled_from([None, "理由 / a reason"]))
    decision = draw(st.sampled_from(["admit", "reject", "graduate", "exit"]))
    period_end = today - dt.timedelta(days=draw(st.integers(0, 12)))
    period_start = period_end - dt.timedelta(days=draw(st.sampled_from([6, 29, -3])))
    builders: list[Callable[[], c.Command]] = [
        lambda: c.EditDraft(section="boundaries", fields={"max_users": draw(st.sampled_from([100, 5000, 20_000]))}),
        lambda: c.EditDraft(section="statement", fields={"exit_plan": draw(st.sampled_from(["存量结清", None]))}),
        lambda: c.AddPartner(organisation=draw(st.sampled_from(["techco", "fzbank", "newco"])), name="伙伴",
                             role="technology_partner"),
        lambda: c.WithdrawPartner(organisation=draw(st.sampled_from(["techco", "fzbank", "newco"]))),
        lambda: c.AttachDocument(kind=draw(st.sampled_from(DOCUMENTS)), sha256=sha(str(day)), title="文件",
                                 holder=draw(st.sampled_from([None, "fzbank", "techco", "otherbank"])),
                                 issued_on=draw(st.sampled_from([None, day]))),
        lambda: c.Attest(statement="no_violations", organisation=draw(st.sampled_from([None, "fzbank", "techco"]))),
        lambda: c.Submit(),
        lambda: c.Withdraw(reason=reason),
        lambda: c.SupplyInformation(summary="已补充"),
        lambda: c.AcceptIntake(),
        lambda: c.RequestInformation(items=["补充外部法律评估"], due_on=day),
        lambda: c.AssignCaseOfficer(officer=draw(st.sampled_from(["carol", "chen"]))),
        lambda: c.FileAssessment(topic=draw(st.sampled_from(["security", *TOPICS])),
                                 outcome=draw(st.sampled_from(["favourable", "needs_work"])), summary="评估意见"),
        lambda: c.OpenPublicNotice(starts_on=draw(st.sampled_from([None, day]))),
        lambda: c.Comment(text="意见"),
        lambda: c.Object(grounds="异议", name=draw(st.sampled_from([None, "林女士"])),
                         contact=draw(st.sampled_from([None, "lin@example.cn", "13800000001"]))),
        lambda: c.DisposeObjection(objection_id=objection, outcome=draw(st.sampled_from(["upheld", "dismissed"]))),
        lambda: c.Recommend(decision=decision),
        lambda: c.Approve(decision=decision),
        lambda: c.WaiveCondition(
            condition_id=draw(st.sampled_from(["fs.adm.user_cap", "fs.adm.notice", "ec.adm.pilot_area", "nope"])),
            reason=reason),
        lambda: c.StartTest(started_on=draw(st.sampled_from([None, day]))),
        lambda: c.ReportMetrics(
            period_start=period_start, period_end=period_end,
            metrics=draw(st.dictionaries(st.sampled_from(METRICS), st.integers(0, 20_000), max_size=4)),
            kpis_met=draw(st.lists(st.sampled_from(kpi_pool), max_size=3, unique=True)),
            occurred_at=draw(st.sampled_from([None, now - dt.timedelta(days=3), now + dt.timedelta(days=2)]))),
        lambda: c.ReportIncident(incident_id=incident, kind="outage", occurred_on=day,
                                 outage_minutes=draw(st.sampled_from([None, 30, 300])),
                                 consumer_loss_yuan=draw(st.sampled_from([0, 5000]))),
        lambda: c.RemediateIncident(incident_id=incident, compensated=draw(st.booleans())),
        lambda: c.LogComplaint(complaint_id=f"cp-{draw(st.integers(1, 8))}", category="fees", received_on=day),
        lambda: c.RequestExtension(months=draw(st.integers(1, 8))),
        lambda: c.GrantExtension(),
        lambda: c.RefuseExtension(),
        lambda: c.Suspend(category="regulator"),
        lambda: c.Reinstate(),
        lambda: c.SubmitFinalReport(sha256=sha("final"), summary="终期报告",
                                    kpis_met=draw(st.lists(st.sampled_from(kpi_pool), max_size=3, unique=True))),
        lambda: c.AcceptFinalReport(),
        lambda: c.InitiateExit(mode=draw(st.sampled_from(["voluntary", "forced"])), users_notified_on=today,
                               planned_exit_on=today + dt.timedelta(days=draw(st.sampled_from([10, 30, 45])))),
        lambda: c.ConfirmExit(),
        lambda: c.Recommend(decision=draw(st.sampled_from(["terminate", "revoke"])), category="licence_lost",
                            reason=reason),
        lambda: c.RecordExternalFact(trigger=draw(st.sampled_from(TRIGGERS)), on=today),
    ]
    build: Callable[[], c.Command] = draw(st.sampled_from(builders))
    return build()


def next_step(draw: Draw, s: ProjectState, now: dt.datetime) -> c.Command | None:
    """A command that moves the project along its lifecycle (None: wait for the clock)."""
    today = local_date(now)
    pending = s.pending
    pending_decision = cast(Decision, pending.decision) if pending else "admit"
    options: list[c.Command]
    match s.state:
        case State.DRAFT:
            options = [c.Submit()]
        case State.SUBMITTED:
            options = [c.AcceptIntake()] * 3 + [c.RequestInformation(items=["请补充"])]
        case State.RETURNED_FOR_INFO:
            options = [c.SupplyInformation(summary="已补充")]
        case State.UNDER_REVIEW:
            assessed = [c.FileAssessment(topic=t, outcome="favourable", summary="评估意见") for t in TOPICS]
            options = [c.OpenPublicNotice()] * 5 + assessed + [c.Recommend(decision="reject")]
        case State.PUBLIC_NOTICE:
            objector = f"{len(s.objections)}@example.cn"
            options = [c.Comment(text="支持"), c.Object(grounds="异议", name="林女士", contact=objector)]
        case State.NOTICE_CLOSED:
            options = [c.DisposeObjection(objection_id=o.objection_id, outcome="dismissed")
                       for o in s.open_objections]
            waivable = draw(st.sampled_from(["fs.adm.user_cap", "fs.adm.period"]))
            options += [c.WaiveCondition(condition_id=waivable, reason="豁免理由")]
            options += [c.Approve(decision=pending_decision)] * 3 if pending else [c.Recommend(decision="admit")] * 3
        case State.ADMITTED:
            options = [c.StartTest()]
        case State.TESTING | State.SUSPENDED:
            period = c.ReportMetrics(period_start=today - dt.timedelta(days=29), period_end=today,
                                     metrics={"users": draw(st.sampled_from([900, 9000])), "active_users": 800,
                                              "transactions": 5000, "payment_failures": 10},
                                     kpis_met=["approval_time", "default_rate", "transactions", "wallets_opened"])
            options = [period] * 4 + [c.Reinstate(), c.RemediateIncident(incident_id="inc-1"),
                       c.ReportIncident(incident_id=f"inc-{len(s.incidents) + 1}", kind="outage", outage_minutes=300,
                                        occurred_on=today),
                       c.RequestExtension(months=3), c.GrantExtension(), c.InitiateExit(mode="forced"),
                       c.Suspend(category="regulator"), c.Recommend(decision="revoke", reason="虚假材料"),
                       c.Recommend(decision="terminate", category="licence_lost", reason="牌照被吊销"),
                       c.RecordExternalFact(trigger=draw(st.sampled_from(TRIGGERS)), on=today)]
            if pending:
                options.append(c.Approve(decision=pending_decision))
        case State.FINAL_EVALUATION if s.final_report_position is None:
            options = [c.SubmitFinalReport(sha256=sha("final"), summary="终期报告",
                                           kpis_met=["approval_time", "default_rate", "transactions",
                                                     "wallets_opened"])]
        case State.FINAL_EVALUATION if not s.final_report_accepted:
            options = [c.AcceptFinalReport()]
        case State.FINAL_EVALUATION:
            options = [c.Approve(decision=pending_decision)] if pending else [c.Recommend(decision="graduate")]
        case State.EXIT_IN_PROGRESS:
            options = [c.ConfirmExit()]
        case State.GRADUATED:
            options = [c.Recommend(decision="revoke", reason="虚假材料"), c.Suspend(category="regulator"),
                       c.RecordExternalFact(trigger=draw(st.sampled_from(TRIGGERS)), on=today)]
            if pending:
                options.append(c.Approve(decision=pending_decision))
        case _:
            return None
    chosen: c.Command = draw(st.sampled_from(options))
    return chosen


def allowed_actors(command: c.Command) -> list[Actor]:
    roles, _ = RULES[command.action]
    return [a for a in ACTORS if a.role in roles]


# -- the machine -------------------------------------------------------------------------------


class RegistryMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.w = World()
        self.pids: list[str] = []
        self.running: dict[str, ProjectState] = {}
        self.seen = self.w.head()
        self.ended: dict[str, State] = {}
        self.admissions = 0

    @initialize(
        projects=st.lists(
            st.tuples(st.sampled_from(["fintech", "fintech_flawed", "fintech_long", "ecny"]),
                      st.sampled_from(["draft", "review", "notice_closed", "testing"])),
            min_size=1, max_size=2))
    def create_projects(self, projects: list[tuple[str, str]]) -> None:
        """One or two applications, each brought to a starting stage by the right people: a
        complete one, and flawed ones (over the user cap, or a test of 14 months) that can only be
        admitted with a waiver."""
        w = self.w
        for kind, stage in projects:
            if kind == "ecny":
                pid = w.create("ecny-pilot")
                w.ecny_application(pid)
            else:
                pid = w.create("fintech-sandbox")
                w.fintech_application(pid, max_users=20_000 if kind == "fintech_flawed" else 5_000)
                if kind == "fintech_long":
                    end = months_later(w.clock.today, 14).isoformat()
                    w.do(pid, ALICE, c.EditDraft(section="boundaries", fields={"end_date": end}))
            self.pids.append(pid)
            if stage == "review":
                w.do(pid, ALICE, c.Submit())
                w.do(pid, OFFICER, c.AcceptIntake())
            elif stage in ("notice_closed", "testing"):
                w.through_notice(pid)
            if stage == "testing":
                waive = {"fintech_flawed": "fs.adm.user_cap", "fintech_long": "fs.adm.period"}
                if kind in waive:
                    w.do(pid, APPROVER, c.WaiveCondition(condition_id=waive[kind], reason="普惠需要"))
                w.admit(pid)
                w.do(pid, ALICE, c.StartTest())
        self.check_new_events()

    # -- steps ---------------------------------------------------------------------------------

    def run(self, pid: str, actor: Actor, command: c.Command) -> None:
        head = self.w.head()
        try:
            self.w.do(pid, actor, command)
        except DomainError:
            assert self.w.head() == head, f"refused {type(command).__name__} appended events"
        self.check_new_events()

    @rule(data=st.data())
    def anything(self, data: st.DataObject) -> None:
        """Any command, any payload, any actor."""
        pid = data.draw(st.sampled_from(self.pids))
        command = any_command(data.draw, self.w.state(pid), self.w.clock.now)
        self.run(pid, data.draw(st.sampled_from(ACTORS)), command)

    @rule(data=st.data(), steps=st.integers(1, 4))
    def progress(self, data: st.DataObject, steps: int) -> None:
        """The next lifecycle steps, by someone whose role allows it (even if four eyes forbid)."""
        pid = data.draw(st.sampled_from(self.pids))
        for _ in range(steps):
            command = next_step(data.draw, self.w.state(pid), self.w.clock.now)
            if command is None:
                return
            self.run(pid, data.draw(st.sampled_from(allowed_actors(command))), command)

    @rule(days=st.integers(0, 45), run_timers=st.booleans())
    def time_passes(self, days: int, run_timers: bool) -> None:
        self.w.clock.advance(days=days)
        if run_timers:
            self.tick()

    @precondition(lambda self: any(self.w.state(p).state == State.PUBLIC_NOTICE for p in self.pids))
    @rule()
    def notice_runs_out(self) -> None:
        ends = [self.w.state(p).notice_ends for p in self.pids if self.w.state(p).state == State.PUBLIC_NOTICE]
        last = max(d for d in ends if d is not None)
        self.w.clock.to(max(last + dt.timedelta(days=1), self.w.clock.today))
        self.tick()

    @precondition(lambda self: any(self.w.state(p).state in (State.TESTING, State.SUSPENDED) for p in self.pids))
    @rule(early=st.booleans())
    def test_period_runs_out(self, early: bool) -> None:
        """Jump to the end of a test (or to 40 days before it, where extensions are still possible)."""
        ends = [self.w.state(p).planned_end for p in self.pids
                if self.w.state(p).state in (State.TESTING, State.SUSPENDED)]
        end = min(d for d in ends if d is not None) - dt.timedelta(days=40 if early else 0)
        self.w.clock.to(max(end, self.w.clock.today))
        self.tick()

    def tick(self) -> None:
        self.w.tick()
        self.check_new_events()
        head = self.w.head()
        assert self.w.tick() == 0 and self.w.head() == head, "a second tick at the same moment recorded events"

    # -- checks --------------------------------------------------------------------------------

    def check_new_events(self) -> None:
        new = self.w.store.read_after(self.seen, limit=10_000)
        for recorded in new:
            if recorded.stream_id.startswith(PROJECT_PREFIX):
                pid = recorded.stream_id.removeprefix(PROJECT_PREFIX)
                before = self.running.get(pid, INITIAL)
                self.check_event(pid, before, recorded)
                self.running[pid] = evolve(before, recorded)
            self.seen = recorded.position
        for pid in self.pids:
            replayed = fold(self.w.store.read_stream(project_stream(pid)))
            assert replayed == self.w.registry.load(pid) == self.running.get(pid, INITIAL)

    def check_event(self, pid: str, before: ProjectState, recorded: RecordedEvent[Event]) -> None:
        meta, event, kind = recorded.metadata, recorded.payload, recorded.type
        # terminal states stay terminal (a graduate may only be revoked)
        if before.state in TERMINAL:
            assert before.state == State.GRADUATED and kind in GRADUATE_MAY_RECORD, (before.state, kind)
        # who may cause what
        if meta.role == Role.SYSTEM:
            assert meta.actor == "system"
            assert kind in SYSTEM_ONLY | AUTOMATIC or kind == "ExternalFactRecorded", f"system recorded {kind}"
            if kind in SYSTEM_FROM:
                assert before.state in SYSTEM_FROM[kind], f"the system recorded {kind} in {before.state}"
        else:
            assert kind not in SYSTEM_ONLY, f"{meta.role} recorded the system event {kind}"
            actions = [a for a in PRODUCERS[kind] if meta.role in RULES[a][0] and before.state in RULES[a][1]]
            assert actions, f"{meta.actor} ({meta.role}) caused {kind} in {before.state}"
            if kind in EXACT_ROLE:
                assert meta.role in EXACT_ROLE[kind], (kind, meta.role)
            if isinstance(event, ev.ExitInitiated):
                assert meta.role == (Role.APPLICANT if event.mode == "voluntary" else Role.APPROVER), meta.role
            if meta.role == Role.APPLICANT:
                orgs = [event.organisation] if isinstance(event, ev.DraftCreated) else before.applicants()
                if isinstance(event, ev.ExternalFactRecorded) and event.trigger == "partner_withdrawn":
                    # recorded in the same append as the withdrawal, which the partner itself may cause
                    orgs += [p.organisation for p in before.partners]
                assert meta.organisation in orgs, f"{meta.organisation} acted for {before.organisation}"
                # a partner shapes nothing of the lead's: the lead's own actions are the lead's
                if actions and all(a in LEAD_ONLY for a in actions) and not isinstance(event, ev.DraftCreated):
                    assert meta.organisation == before.organisation, f"partner {meta.organisation} caused {kind}"
                if isinstance(event, ev.PartnerWithdrawn):
                    assert meta.organisation in (before.organisation, event.organisation), "withdrew another partner"
        # four eyes
        if isinstance(event, ev.DecisionApproved):
            assert before.pending is not None
            assert meta.actor != before.pending.recommender, "the recommender approved"
            assert meta.actor not in before.pending.approvers, "the same approver approved twice"
        if isinstance(event, ev.ProjectAdmitted | ev.ApplicationRejected | ev.ProjectGraduated):
            assert before.pending is not None
            assert event.recommender not in event.approvers
            assert len(set(event.approvers)) == len(event.approvers) == before.pending.approvals_required
        # each decision in a state the lifecycle allows it in (a termination a criterion caused aside)
        by_people = meta.role != Role.SYSTEM
        if type(event) in DECIDED_IN and (by_people or not isinstance(event, ev.ProjectTerminated)):
            assert before.state in DECIDED_IN[type(event)], f"{kind} decided in {before.state}"
        # a forced ending by people (not by a crossed criterion) is a recommendation, approved
        if isinstance(event, ev.ProjectTerminated | ev.ProjectRevoked) and meta.role != Role.SYSTEM:
            pending = before.pending
            decision = "terminate" if isinstance(event, ev.ProjectTerminated) else "revoke"
            assert pending is not None and pending.decision == decision, f"{kind} without its recommendation"
            assert pending.recommender not in pending.approvers
            assert len(set(pending.approvers)) == len(pending.approvers) == pending.approvals_required
        # stage gates: complete before it is submitted or accepted, assessed before the notice
        if isinstance(event, ev.ApplicationSubmitted | ev.IntakeAccepted | ev.PublicNoticeOpened):
            key = before.program_key
            day = local_date(meta.occurred_at)
            program = (self.w.registry.program(key, before.program_version) if before.program_version
                       else self.w.registry.program_in_force(key, day))
            if isinstance(event, ev.PublicNoticeOpened):
                assert not missing_topics(before, program), f"notice opened before {missing_topics(before, program)}"
            else:
                gaps = [g.id for g in incomplete(before, program, self.w.registry.reference(), day)]
                assert not gaps, f"{kind} while incomplete: {gaps}"
        # admission only after the notice closed, with every condition met or waived
        if isinstance(event, ev.ProjectAdmitted):
            self.admissions += 1
            assert before.notice_closed_on is not None and not before.open_objections
            program = self.w.registry.program(before.program_key, before.program_version)
            checklist = admission_checklist(before, program, self.w.registry.reference(),
                                            local_date(meta.occurred_at))
            unmet = [x.id for x in checklist if x.status not in ("met", "waived")]
            assert not unmet, f"admitted with unmet conditions {unmet}"

    def teardown(self) -> None:
        reached = {h.state for p in self.pids for h in self.w.state(p).history}
        for state in reached:
            event(f"reached {state.value}")
        event(f"admissions: {self.admissions}")

    @invariant()
    def terminal_states_stay_terminal(self) -> None:
        for pid in self.pids:
            now = self.w.state(pid).state
            was = self.ended.get(pid)
            if was is not None:
                assert now == was or (was == State.GRADUATED and now == State.REVOKED), (was, now)
            if now in TERMINAL:
                self.ended[pid] = now


TestRegistryMachine = pytest.mark.slow(RegistryMachine.TestCase)
TestRegistryMachine.settings = settings(
    max_examples=30,
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
