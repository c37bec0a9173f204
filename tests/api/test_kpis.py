"""Graduation through the API: KPI attainment computed from the reports, never from the claim,
and a waiver with a reason decided by two persons."""

from __future__ import annotations

from typing import Any

from tests.fixtures.api import Api, sha

CLAIMED = ["transactions", "wallets_opened"]


def graduation(api: Api, pid: str) -> dict[str, Any]:
    view = api.view(pid)
    found: dict[str, Any] = next(x for x in view["exit"] if x["id"] == "ec.exit.graduation")
    return found


def test_a_pilot_that_reported_2000_of_120000_transactions_does_not_graduate_on_its_claim(api: Api) -> None:
    pid = api.create("ecny-pilot")
    api.ecny_application(pid, test_days=60)
    api.do(pid, "alice", "edit_draft", {"section": "test_plan", "fields": {"transactions_target": 120_000}})
    api.submit_and_open(pid)
    api.close_notices(pid)
    api.admit(pid)
    api.do(pid, "alice", "start_test")
    api.clock.advance(days=30)
    report = api.report(pid, {"transactions": 2_000, "wallets_opened": 21_000, "active_users": 900}, CLAIMED)
    while api.state(pid) == "TESTING":
        api.clock.advance(days=10)
        api.tick()
    assert api.state(pid) == "FINAL_EVALUATION"
    api.do(pid, "alice", "submit_final_report",
           {"sha256": sha("final"), "summary": "全部指标达成", "kpis_met": CLAIMED})
    api.do(pid, "sam", "accept_final_report")

    # the criterion shows each KPI: target, achieved, evidence; the claim changed nothing
    status = graduation(api, pid)
    assert status["status"] == "ok"
    assert (status["progress"]["kpis_required"], status["progress"]["kpis_met"]) == (2, 1)
    kpis = {k["kpi"]: k for k in status["progress"]["kpis"]}
    assert (kpis["transactions"]["target"], kpis["transactions"]["achieved"]) == (120_000, 2_000)
    assert kpis["transactions"]["status"] == "unmet"
    assert report["positions"][0] in kpis["transactions"]["evidence"]
    assert (kpis["wallets_opened"]["achieved"], kpis["wallets_opened"]["status"]) == (21_000, "met")
    assert "transactions (cumulative): 2000, target at least 120000" in status["missing_en"]

    # a recommendation to graduate is refused, naming the KPI in both languages
    r = api.post(f"/api/v1/projects/{pid}/recommend", "carol", {"decision": "graduate"})
    assert r.status_code == 409 and r.json()["code"] == "kpis_unmet", r.text
    assert "120000" in r.json()["message_en"] and "120000" in r.json()["message_zh"]
    # a waiver needs a reason
    r = api.post(f"/api/v1/projects/{pid}/recommend", "carol", {"decision": "graduate", "waive_kpis": ["transactions"]})
    assert r.status_code == 422 and r.json()["code"] == "reason_required", r.text

    # waived with a reason by the case officer, decided by an approver: graduated
    reason = "试点期间受外部因素影响，交易量未达目标，风险指标良好"
    api.do(pid, "carol", "recommend", {"decision": "graduate", "waive_kpis": ["transactions"], "reason": reason})
    assert graduation(api, pid)["status"] == "reached"
    graduated = api.do(pid, "ada", "approve", {"decision": "graduate"})
    if api.state(pid) != "GRADUATED":  # (a program asking for two approvals)
        graduated = api.do(pid, "bo", "approve", {"decision": "graduate"})
    assert api.state(pid) == "GRADUATED"
    decided = graduated["positions"][-1]
    explained = api.get(f"/api/v1/audit/decisions/{decided}", "audrey").json()
    assert explained["four_eyes_kept"] is True
    assert explained["recommendation"]["waived_kpis"] == ["transactions"]
    assert explained["recommendation"]["waiver_reason"] == reason
    waived = next(x for x in explained["exit"] if x["id"] == "ec.exit.graduation")
    assert {k["kpi"]: k["status"] for k in waived["progress"]["kpis"]} == {
        "transactions": "waived", "wallets_opened": "met"}
    assert waived["waived_by"] == "carol" and waived["waiver_reason"] == reason
