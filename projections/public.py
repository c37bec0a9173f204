"""Pure views of a project state: its public register entry and what it waits for.

The register entry carries only the public fields: never assessments, personal data,
comment or objection texts, commenters' identities, security details or individual metrics.
"""

from __future__ import annotations

import datetime as dt

import msgspec

from projections.gates import missing_topics
from projections.project import ProjectState, Recommendation
from projections.rules import declared_period, next_report_due, report_cadence
from schemas.events import Value
from schemas.lifecycle import STATE_LABELS, TERMINAL, State
from schemas.programs import ProgramDefinition


class PublicApplicant(msgspec.Struct, frozen=True, kw_only=True):
    organisation: str
    name: str
    role: str
    licence_no: str | None


class PublicStatus(msgspec.Struct, frozen=True, kw_only=True):
    state: str
    label_zh: str
    label_en: str
    on: dt.date
    category: str | None = None


class PublicStatement(msgspec.Struct, frozen=True, kw_only=True):
    """A published version of the statement: the hash of the whole statement, and its public
    parts (section -> field -> value) with their own hash (``public_sha256``, SHA-256 of their
    canonical JSON) for notices that published them."""

    sha256: str
    published_on: dt.date
    public: dict[str, dict[str, Value]] = {}
    public_sha256: str | None = None


class PublicObjections(msgspec.Struct, frozen=True, kw_only=True):
    total: int
    upheld: int
    dismissed: int
    open: int


class RegisterEntry(msgspec.Struct, frozen=True, kw_only=True):
    """One project on the public register (公示/公开)."""

    id: str
    program_key: str
    program_version: int
    region: str
    title: str
    app_type: str
    applicants: tuple[PublicApplicant, ...]
    status: str
    status_zh: str
    status_en: str
    history: tuple[PublicStatus, ...]
    statements: tuple[PublicStatement, ...]
    notice_starts: dt.date | None
    notice_ends: dt.date | None
    notice_days: int
    notice_unit: str
    #: Where the notice was published (None if the case officer named no channel).
    notice_channel: str | None = None
    comments: int
    objections: PublicObjections
    test_started_on: dt.date | None
    planned_end: dt.date | None
    extensions_granted: int
    registration_code: str | None
    final_outcome: str | None
    final_outcome_zh: str | None
    final_outcome_en: str | None


def registration_code(state: ProjectState) -> str | None:
    """The data-asset registration code, assigned at admission."""
    if state.program_key != "data-asset" or state.admitted_on is None:
        return None
    return f"DA-{state.admitted_on.year}-{state.project_id[:8].upper()}"


def _statement(state: ProjectState, sha256: str, on: dt.date, position: int) -> PublicStatement:
    text = next((t for t in state.public_texts if t.position == position), None)
    if text is None:
        return PublicStatement(sha256=sha256, published_on=on)
    return PublicStatement(sha256=sha256, published_on=on, public=text.sections, public_sha256=text.sha256)


def public_applicants(state: ProjectState) -> tuple[PublicApplicant, ...]:
    """The lead and the partners still in the project, as the register names them."""
    return (
        PublicApplicant(
            organisation=state.organisation, name=state.lead_name, role="lead", licence_no=state.lead_licence_no
        ),
        *(
            PublicApplicant(organisation=p.organisation, name=p.name, role=p.role, licence_no=p.licence_no)
            for p in state.partners
            if not p.withdrawn
        ),
    )


def register_entry(state: ProjectState) -> RegisterEntry | None:
    """The public entry of a project that reached public notice, else None."""
    if state.notice_starts is None:
        return None
    zh, en = STATE_LABELS[state.state]
    outcome = state.state if state.state in TERMINAL else None
    applicants = public_applicants(state)
    objections = state.objections
    return RegisterEntry(
        id=state.project_id,
        program_key=state.program_key,
        program_version=state.program_version,
        region=state.region,
        title=state.title,
        app_type=state.app_type,
        applicants=applicants,
        status=state.state.value,
        status_zh=zh,
        status_en=en,
        history=tuple(
            PublicStatus(
                state=h.state.value,
                label_zh=STATE_LABELS[h.state][0],
                label_en=STATE_LABELS[h.state][1],
                on=h.on,
                category=h.category,
            )
            for h in state.history
            if h.state != State.DRAFT
        ),
        statements=tuple(_statement(state, h, on, at) for h, on, at in state.published_statements),
        notice_starts=state.notice_starts,
        notice_ends=state.notice_ends,
        notice_days=state.notice_days,
        notice_unit=state.notice_unit,
        notice_channel=state.notice_channel,
        comments=state.comments,
        objections=PublicObjections(
            total=len(objections),
            upheld=sum(o.status == "upheld" for o in objections),
            dismissed=sum(o.status == "dismissed" for o in objections),
            open=sum(o.status == "open" for o in objections),
        ),
        test_started_on=state.test_started_on,
        planned_end=state.planned_end,
        extensions_granted=state.extensions_granted,
        registration_code=registration_code(state),
        final_outcome=outcome.value if outcome else None,
        final_outcome_zh=STATE_LABELS[outcome][0] if outcome else None,
        final_outcome_en=STATE_LABELS[outcome][1] if outcome else None,
    )


class QueueItem(msgspec.Struct, frozen=True, kw_only=True):
    """Something a project waits for: who must act, by when, and since which event."""

    item: str
    role: str
    label_zh: str
    label_en: str
    due_on: dt.date | None
    since_position: int
    #: The persons who may not take the item (four eyes: the recommender and the approvers who
    #: already approved may not approve again).
    excluded: tuple[str, ...] = ()


def _since(state: ProjectState) -> int:
    return state.history[-1].position if state.history else state.last_position


#: What a regulator does with a breach of each review action (Chinese, English).
REVIEW_LABELS = {
    "suspension_review": ("暂停审查", "review whether to suspend"),
    "delisting_review": ("摘牌审查", "review whether to delist"),
    "flag": ("处置标记事项", "dispose of the flag"),
}


def assessment_items(state: ProjectState, program: ProgramDefinition | None) -> list[tuple[str, str, str]]:
    """The assessments a review still needs, as (item, Chinese, English): one per topic the
    program requires whose latest assessment is not favourable, named in both languages (one
    item for the assessments when the program version names no topic)."""
    topics = missing_topics(state, program) if program is not None and program.assessment_topics else None
    if topics is None:
        return [("assess", "提交评估意见", "file the assessments the review needs")]
    return [(f"assess:{t.id}", f"提交评估意见：{t.label_zh}", f"file the assessment: {t.label_en}") for t in topics]


def approval_items(pending: Recommendation) -> list[QueueItem]:
    """One item per approval the recommendation still needs (``approve:{id}:{n}``, the n-th of
    the approvals required), none of them for the recommender or an approver who approved."""
    need = pending.approvals_required
    return [
        QueueItem(
            item=f"approve:{pending.recommendation_id}:{n}",
            role="approver",
            label_zh=f"审批建议（{pending.decision}）：第 {n} 位审批人，共 {need} 位",
            label_en=f"approve the recommendation ({pending.decision}): approver {n} of {need}",
            due_on=None,
            since_position=pending.position,
            excluded=(pending.recommender, *pending.approvers),
        )
        for n in range(len(pending.approvers) + 1, need + 1)
    ]


def queue_items(state: ProjectState, program: ProgramDefinition | None) -> list[QueueItem]:
    """What the project waits for now (pure; due dates from the state and the bound program)."""
    out: list[QueueItem] = []

    def add(item: str, role: str, zh: str, en: str, due: dt.date | None = None, since: int | None = None) -> None:
        out.append(
            QueueItem(
                item=item,
                role=role,
                label_zh=zh,
                label_en=en,
                due_on=due,
                since_position=since if since is not None else _since(state),
            )
        )

    s = state.state
    if s == State.SUBMITTED:
        add("accept_intake", "case_officer", "受理申请", "accept the application for review")
    elif s == State.RETURNED_FOR_INFO:
        add("supply_information", "applicant", "补充材料", "supply the requested information")
    elif s == State.UNDER_REVIEW:
        add("review", "case_officer", "审查并开启公示", "review the application and open the public notice")
        for item, zh, en in assessment_items(state, program):
            add(item, "assessor", zh, en)
    elif s == State.PUBLIC_NOTICE:
        add("notice_running", "system", "公示期届满后关闭公示", "close the notice when it ends", state.notice_ends)
    elif s == State.NOTICE_CLOSED and state.pending is None:
        add("recommend", "case_officer", "提出准入或不予准入建议", "recommend admission or rejection")
    elif s == State.ADMITTED:  # due the last day a start is possible: the declared period's end is overdue
        start, end = declared_period(state, program) if program is not None else (None, None)
        if end is None:
            add("start_test", "applicant", "启动测试", "start the test")
        else:
            last = end - dt.timedelta(days=1)
            if start is not None and start < last:  # (not before the declared start, either)
                zh, en = f"于 {start} 至 {last} 之间启动测试", f"start the test between {start} and {last}"
            else:
                zh, en = "在申报的测试期内启动测试", "start the test within the declared period"
            add("start_test", "applicant", zh, en, due=last)
    elif s == State.SUSPENDED:
        add("review_suspension", "approver", "审查暂停：恢复或退出", "review the suspension: reinstate or exit")
    elif s == State.FINAL_EVALUATION:
        if state.final_report_position is None:
            add("final_report", "applicant", "提交最终报告", "submit the final report")
        elif not state.final_report_accepted:
            add(
                "accept_final_report",
                "case_officer",
                "审核最终报告",
                "review the final report",
                since=state.final_report_position,
            )
        elif state.pending is None:
            add("recommend_outcome", "case_officer", "提出出盒或退出建议", "recommend graduation or exit")
    elif s == State.EXIT_IN_PROGRESS:
        add("confirm_exit", "case_officer", "确认退出完成", "confirm the exit is complete")
    if s in (State.PUBLIC_NOTICE, State.NOTICE_CLOSED):
        for objection in state.open_objections:
            add(
                f"objection:{objection.objection_id}",
                "case_officer",
                "处理异议",
                "dispose of the objection",
                since=objection.position,
            )
    if state.pending is not None and s not in TERMINAL:
        out.extend(approval_items(state.pending))
    if state.extension_requested_months is not None and state.extension_request_position is not None:
        add(
            "extension",
            "approver",
            "审批延期申请",
            "decide the extension request",
            state.planned_end,
            state.extension_request_position,
        )
    review_days = program.durations.breach_review_days if program is not None else None
    for breach in state.breaches if s not in TERMINAL else ():
        if not breach.awaits_disposition:
            continue
        due = breach.on + dt.timedelta(days=review_days) if review_days is not None else None
        zh, en = REVIEW_LABELS[breach.action]
        if breach.proposed is None:
            add(
                f"breach:{breach.position}",
                "case_officer",
                f"{zh}：{breach.criterion_id}",
                f"{en}: {breach.criterion_id}",
                due,
                breach.position,
            )
        else:
            add(
                f"breach:{breach.position}",
                "approver",
                f"确认{zh}意见：{breach.criterion_id}",
                f"confirm the disposition ({en}): {breach.criterion_id}",
                due,
                breach.position,
            )
    if s in (State.TESTING, State.SUSPENDED) and program is not None:
        due = next_report_due(state, report_cadence(state, program))
        add("periodic_report", "applicant", "提交定期报告", "file the periodic report", due)
    return out
