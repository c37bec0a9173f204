"""The work queue through the API: assessment work split by required topic, one approval item per
approver still needed (never offered to the recommender or to an approver who approved), and
overdue items judged at the business date asked."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sandbox.tokens import Tokens
from tests.fixtures.api import Api


def _items(api: Api, pid: str, headers: dict[str, str], **params: Any) -> list[dict[str, Any]]:
    r = api.client.get("/api/v1/queue", headers=headers, params=params)
    assert r.status_code == 200, r.text
    return [q for q in r.json() if q["project_id"] == pid]


def test_assessors_see_one_item_per_required_topic_until_each_is_assessed_favourably(api: Api) -> None:
    pid = api.create("fintech-sandbox")
    api.fintech_application(pid, partner=False)
    api.do(pid, "alice", "submit")
    api.do(pid, "carol", "accept_intake")

    def assess_items() -> list[tuple[str, str, str]]:
        return [(q["item"], q["label_zh"], q["label_en"])
                for q in _items(api, pid, api.auth("carol"), role="assessor")]

    assert assess_items() == [
        ("assess:legal_compliance_review", "提交评估意见：合法合规性评估", "file the assessment: Legal compliance"),
        ("assess:technical_security_review", "提交评估意见：技术安全评估", "file the assessment: Technical security"),
    ]
    api.do(pid, "sam", "file_assessment", {"topic": "technical_security_review", "outcome": "needs_work",
                                           "summary": "待补充渗透测试"})
    api.do(pid, "sam", "file_assessment", {"topic": "legal_compliance_review", "outcome": "favourable",
                                           "summary": "合规"})
    assert [item for item, _, _ in assess_items()] == ["assess:technical_security_review"]
    api.do(pid, "sam", "file_assessment", {"topic": "technical_security_review", "outcome": "favourable",
                                           "summary": "已补充"})
    assert assess_items() == []
    # the case officer's review is still waiting: the notice is theirs to open
    assert [q["item"] for q in _items(api, pid, api.auth("carol"), role="case_officer")] == ["review"]


def test_two_approvers_needed_are_two_items_and_the_recommender_is_never_offered_one(api: Api) -> None:
    tokens: Tokens = api.app.state.tokens
    tokens.add_user(user_id="li.wei", display_name="李伟", roles=("case_officer", "approver"))
    officer, _ = tokens.create(user="li.wei", role="case_officer")
    approver, _ = tokens.create(user="li.wei", role="approver")
    pid = api.create("fintech-sandbox")
    api.fintech_application(pid, partner=False)
    api.submit_and_open(pid)
    api.close_notices(pid)
    r = api.client.post(f"/api/v1/projects/{pid}/recommend", json={"decision": "admit"},
                        headers={"Authorization": f"Bearer {officer}"})
    assert r.status_code == 200, r.text
    [made] = [e for e in api.events(pid) if e["type"] == "RecommendationMade"]
    recommendation = made["data"]["recommendation_id"]

    def approvals(headers: dict[str, str]) -> list[str]:
        return [q["item"] for q in _items(api, pid, headers, role="approver")]

    two = approvals(api.auth("ada"))
    assert two == [f"approve:{recommendation}:1", f"approve:{recommendation}:2"]
    assert approvals(api.auth("bo")) == two
    # the recommender holds an approver's token too: the queue offers them nothing to approve
    assert approvals({"Authorization": f"Bearer {approver}"}) == []
    # the auditor sees the items with who may not take them
    [first, _] = _items(api, pid, api.auth("audrey"), role="approver")
    assert first["excluded"] == ["li.wei"]

    api.do(pid, "ada", "approve", {"decision": "admit"})
    assert api.state(pid) == "NOTICE_CLOSED"
    assert approvals(api.auth("ada")) == []  # ada approved: the second approval is another person's
    [second] = approvals(api.auth("bo"))
    assert second == two[1]
    assert approvals({"Authorization": f"Bearer {approver}"}) == []
    api.do(pid, "bo", "approve", {"decision": "admit"})
    assert api.state(pid) == "ADMITTED" and approvals(api.auth("bo")) == []


def test_overdue_is_judged_at_the_business_date_asked(api: Api) -> None:
    pid = api.create("ecny-pilot")
    api.ecny_application(pid)
    api.submit_and_open(pid)
    ends = dt.date.fromisoformat(api.details(pid)["notice_ends"])

    def notice(**params: Any) -> dict[str, Any]:
        [item] = [q for q in _items(api, pid, api.auth("carol"), role="system", **params)
                  if q["item"] == "notice_running"]
        return item

    assert notice()["overdue"] is False  # today, the notice is running
    assert notice(on=ends.isoformat())["overdue"] is False
    assert notice(on=(ends + dt.timedelta(days=1)).isoformat())["overdue"] is True
    r = api.get("/api/v1/queue", "carol", params={"on": "2026-02-30"})
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "on"
