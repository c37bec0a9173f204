"""Lifecycle states and roles, each with a Chinese and an English label."""

from __future__ import annotations

import enum


class State(enum.StrEnum):
    """Where a project stands. Terminal states accept no further command."""

    NONE = "NONE"
    DRAFT = "DRAFT"
    SUBMITTED = "SUBMITTED"
    RETURNED_FOR_INFO = "RETURNED_FOR_INFO"
    UNDER_REVIEW = "UNDER_REVIEW"
    PUBLIC_NOTICE = "PUBLIC_NOTICE"
    NOTICE_CLOSED = "NOTICE_CLOSED"
    ADMITTED = "ADMITTED"
    TESTING = "TESTING"
    SUSPENDED = "SUSPENDED"
    FINAL_EVALUATION = "FINAL_EVALUATION"
    EXIT_IN_PROGRESS = "EXIT_IN_PROGRESS"
    GRADUATED = "GRADUATED"
    EXITED = "EXITED"
    TERMINATED = "TERMINATED"
    REJECTED = "REJECTED"
    WITHDRAWN = "WITHDRAWN"
    REVOKED = "REVOKED"


STATE_LABELS: dict[State, tuple[str, str]] = {
    State.NONE: ("不存在", "not created"),
    State.DRAFT: ("草稿", "draft"),
    State.SUBMITTED: ("已提交", "submitted"),
    State.RETURNED_FOR_INFO: ("退回补充材料", "returned for information"),
    State.UNDER_REVIEW: ("审查中", "under review"),
    State.PUBLIC_NOTICE: ("公示中", "in public notice"),
    State.NOTICE_CLOSED: ("公示结束", "notice closed"),
    State.ADMITTED: ("准入", "admitted"),
    State.TESTING: ("测试中", "testing"),
    State.SUSPENDED: ("暂停", "suspended"),
    State.FINAL_EVALUATION: ("终期评估", "final evaluation"),
    State.EXIT_IN_PROGRESS: ("退出中", "exit in progress"),
    State.GRADUATED: ("出盒", "graduated"),
    State.EXITED: ("退出", "exited"),
    State.TERMINATED: ("终止", "terminated"),
    State.REJECTED: ("不予准入", "rejected"),
    State.WITHDRAWN: ("撤回", "withdrawn"),
    State.REVOKED: ("撤销", "revoked"),
}

TERMINAL: frozenset[State] = frozenset(
    {State.REJECTED, State.WITHDRAWN, State.GRADUATED, State.EXITED, State.TERMINATED, State.REVOKED}
)
#: States before admission, from which the applicant may withdraw.
PRE_ADMISSION: frozenset[State] = frozenset(
    {
        State.DRAFT,
        State.SUBMITTED,
        State.RETURNED_FOR_INFO,
        State.UNDER_REVIEW,
        State.PUBLIC_NOTICE,
        State.NOTICE_CLOSED,
    }
)
IN_TEST: frozenset[State] = frozenset({State.TESTING, State.SUSPENDED})


class Role(enum.StrEnum):
    APPLICANT = "applicant"
    CASE_OFFICER = "case_officer"
    ASSESSOR = "assessor"
    APPROVER = "approver"
    AUDITOR = "auditor"
    PUBLIC = "public"
    SYSTEM = "system"


ROLE_LABELS: dict[Role, tuple[str, str]] = {
    Role.APPLICANT: ("申请机构", "applicant"),
    Role.CASE_OFFICER: ("经办人", "case officer"),
    Role.ASSESSOR: ("评估人", "assessor"),
    Role.APPROVER: ("审批人", "approver"),
    Role.AUDITOR: ("审计人", "auditor"),
    Role.PUBLIC: ("社会公众", "public"),
    Role.SYSTEM: ("系统", "system"),
}
