"""The work queue's items as a pure function of a state and its program: one approval item per
approver still needed, one assessment item per required topic not yet assessed favourably."""

from __future__ import annotations

from msgspec.structs import replace

from projections.project import INITIAL, Recommendation
from projections.public import queue_items
from schemas.bundled import load_programs
from schemas.lifecycle import State

FINTECH = next(p for p in load_programs() if p.key == "fintech-sandbox")


def _waiting(approvers: tuple[str, ...], required: int = 2) -> list[tuple[str, str, tuple[str, ...]]]:
    pending = Recommendation(
        recommendation_id="r1", decision="admit", recommender="carol", approvals_required=required, position=7,
        approvers=approvers, approval_positions=tuple(range(8, 8 + len(approvers))),
    )
    state = replace(INITIAL, project_id="p1", state=State.NOTICE_CLOSED, pending=pending)
    return [(i.item, i.role, i.excluded) for i in queue_items(state, FINTECH) if i.item.startswith("approve")]


def test_a_recommendation_needing_two_approvers_is_two_items_until_one_approves() -> None:
    assert _waiting(()) == [
        ("approve:r1:1", "approver", ("carol",)),
        ("approve:r1:2", "approver", ("carol",)),
    ]
    # the one who approved may not take the second: it leaves out the recommender and them
    assert _waiting(("ada",)) == [("approve:r1:2", "approver", ("carol", "ada"))]
    assert _waiting(("ada", "bo")) == []
    assert [item for item, _, _ in _waiting((), required=1)] == ["approve:r1:1"]


def test_each_approval_item_says_which_of_how_many_approvers_it_is() -> None:
    pending = Recommendation(
        recommendation_id="r1", decision="admit", recommender="carol", approvals_required=2, position=7
    )
    state = replace(INITIAL, project_id="p1", state=State.NOTICE_CLOSED, pending=pending)
    labels = [(i.label_zh, i.label_en) for i in queue_items(state, FINTECH) if i.item.startswith("approve")]
    assert labels == [
        ("审批建议（admit）：第 1 位审批人，共 2 位", "approve the recommendation (admit): approver 1 of 2"),
        ("审批建议（admit）：第 2 位审批人，共 2 位", "approve the recommendation (admit): approver 2 of 2"),
    ]


def _assessments(*assessed: tuple[str, str]) -> list[tuple[str, str, str]]:
    state = replace(
        INITIAL,
        project_id="p1",
        state=State.UNDER_REVIEW,
        assessments=tuple((topic, outcome, n) for n, (topic, outcome) in enumerate(assessed, 1)),
    )
    return [(i.item, i.label_zh, i.label_en) for i in queue_items(state, FINTECH) if i.role == "assessor"]


def test_assessment_work_is_one_item_per_required_topic_not_yet_assessed_favourably() -> None:
    legal = ("assess:legal_compliance_review", "提交评估意见：合法合规性评估", "file the assessment: Legal compliance")
    security = (
        "assess:technical_security_review",
        "提交评估意见：技术安全评估",
        "file the assessment: Technical security",
    )
    assert _assessments() == [legal, security]
    assert _assessments(("legal_compliance_review", "favourable")) == [security]
    # an unfavourable assessment leaves the topic waiting; the latest one of a topic counts
    assert _assessments(("technical_security_review", "needs_work")) == [legal, security]
    assert _assessments(
        ("legal_compliance_review", "favourable"),
        ("technical_security_review", "favourable"),
        ("legal_compliance_review", "needs_work"),
    ) == [legal]
    assert _assessments(("legal_compliance_review", "favourable"), ("technical_security_review", "favourable")) == []
