"""One project of each program through its whole life, every step a request by the person whose
role it is, with the reads each role makes along the way (applicant, case officer, assessor,
approver, auditor, the public with and without a token)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from events.codec import canonical_json
from sandbox.cli import main
from tests.fixtures.api import Api, sha
from tests.fixtures.stores import drop_triggers, raw_connection

FINTECH_METRICS = {"users": 3000, "active_users": 2500, "exposure_yuan": 90_000_000, "approval_time": 24,
                   "default_rate": 12}
ECNY_METRICS = {"transactions": 12_000, "payment_failures": 10, "wallets_opened": 2_500, "active_users": 2_000}


def statuses(view: dict[str, Any], part: str = "admission") -> dict[str, str]:
    return {rule["id"]: rule["status"] for rule in view[part]}


def by_type(events: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [e for e in events if e["type"] == kind]


def test_fintech_sandbox_from_draft_to_graduation(api: Api) -> None:
    # the applicant drafts; only its own organisation and its partner see the draft
    pid = api.create("fintech-sandbox")
    r = api.get(f"/api/v1/projects/{pid}", "alice")
    assert r.status_code == 200 and r.json()["state"] == "DRAFT" and r.headers["etag"] == '"1"'
    assert api.get(f"/api/v1/projects/{pid}", "olga").status_code == 404
    assert api.get(f"/api/v1/projects/{pid}", "pat").status_code == 403
    assert api.get(f"/api/v1/projects/{pid}").status_code == 401
    api.fintech_application(pid)
    assert api.get(f"/api/v1/projects/{pid}", "tom").status_code == 200  # the partner, once added
    assert [p["id"] for p in api.get("/api/v1/projects", "alice").json()["items"]] == [pid]
    assert api.get("/api/v1/projects", "olga").json()["items"] == []
    unmet = {k for k, v in statuses(api.view(pid, "alice")).items() if v != "met"}
    assert unmet == {"fs.adm.notice"}  # everything but the public notice, which is still to come

    # submitted, returned for information, supplied, accepted and assessed by the regulator
    api.do(pid, "alice", "submit")
    api.do(pid, "carol", "request_information", {"items": ["补充风险补偿金到位证明"]})
    assert api.state(pid) == "RETURNED_FOR_INFO"
    queue = api.get("/api/v1/queue", "carol", params={"role": "applicant"}).json()
    assert [q["item"] for q in queue if q["project_id"] == pid] == ["supply_information"]
    api.do(pid, "alice", "supply_information", {"summary": "已补充：风险补偿金 500 万元到位"})
    assert api.state(pid) == "SUBMITTED"
    api.do(pid, "carol", "accept_intake")
    api.do(pid, "ada", "assign_case_officer", {"officer": "carol"})
    api.do(pid, "sam", "file_assessment", {
        "topic": "technical_security_review", "outcome": "needs_work", "summary": "内部评估意见：待补充渗透测试",
        "sha256": sha("assessment")})
    # no notice before each topic the program requires is assessed favourably (the latest counts)
    r = api.post(f"/api/v1/projects/{pid}/open_public_notice", "carol", {"channel": "官网公示栏"})
    assert r.status_code == 409 and r.json()["code"] == "assessment_missing", r.text
    assert [d["topic"] for d in r.json()["errors"]] == ["legal_compliance_review", "technical_security_review"]
    assert "合法合规性评估" in r.json()["message_zh"] and "Technical security" in r.json()["message_en"]
    for topic in ("legal_compliance_review", "technical_security_review"):
        api.do(pid, "sam", "file_assessment", {
            "topic": topic, "outcome": "favourable", "summary": "内部评估意见：符合 JR/T 0199-2020",
            "sha256": sha("assessment")})
    assert api.get("/api/v1/register/" + pid).status_code == 404  # not public before the notice

    # the public notice: the public reads the register, comments and objects, with or without a token
    api.do(pid, "carol", "open_public_notice", {"channel": "官网公示栏"})
    notice_time = api.clock.now
    entry = api.get(f"/api/v1/register/{pid}").json()
    assert entry["status"] == "PUBLIC_NOTICE" and entry["notice_days"] == 20 and entry["notice_unit"] == "working"
    text = json.dumps(entry, ensure_ascii=False)
    assert "内部评估意见" not in text and "王经理" not in text  # no assessments, no personal data
    assert entry["statements"][0]["sha256"] == api.details(pid)["statement_hash"]
    # the statement's public parts are published (what the public is asked to comment on), with
    # their own hash; the complaint contact, a person's name, is not
    public = entry["statements"][0]["public"]
    assert public["statement"]["service_description"] == "基于供应链数据的小微企业信用贷款"
    assert public["statement"]["complaint_channel"] == "95555 热线" and "complaint_contact" not in public["statement"]
    assert public["boundaries"]["max_users"] == 5000 and public["boundaries"]["service_region"] == "福州市"
    assert entry["statements"][0]["public_sha256"] == hashlib.sha256(canonical_json(public)).hexdigest()
    listed = api.get("/api/v1/register").json()["items"]
    assert [e["statements"][0]["public"] for e in listed if e["id"] == pid] == [public]
    assert api.do(pid, "pat", "comment", {"text": "支持小微企业融资创新"})["events"] == ["CommentReceived"]
    anonymous = api.post(f"/api/v1/projects/{pid}/object", None, {"grounds": "数据来源合法性存疑"})
    assert anonymous.status_code == 422 and anonymous.json()["code"] == "invalid_value", anonymous.text
    assert [e["field"] for e in anonymous.json()["errors"]] == ["name", "contact"]
    objected = api.do(pid, None, "object", {"grounds": "数据来源合法性存疑", "name": "陈先生",
                                            "contact": "138 0000 0001"})
    again = api.post(f"/api/v1/projects/{pid}/object", "pat", {"grounds": "再议", "name": "陈先生",
                                                                "contact": "13800000001"})
    assert again.status_code == 409 and again.json()["code"] == "objection_already_open", again.text
    objection = by_type(api.events(pid), "ObjectionFiled")[0]
    assert objection["position"] == objected["positions"][0]
    assert objection["metadata"]["role"] == "public" and objection["metadata"]["actor"] == "anonymous"
    api.do(pid, "carol", "dispose_objection", {"objection_id": objection["data"]["objection_id"],
                                                "outcome": "dismissed", "reason": "来源授权齐全"})
    assert api.get(f"/api/v1/register/{pid}").json()["objections"] == {
        "total": 1, "upheld": 0, "dismissed": 1, "open": 0}
    api.close_notices(pid)
    assert set(statuses(api.view(pid)).values()) == {"met"}

    # admission with four eyes: two different approvers, never the same one twice
    api.do(pid, "carol", "recommend", {"decision": "admit"})
    api.do(pid, "ada", "approve", {"decision": "admit"})
    r = api.post(f"/api/v1/projects/{pid}/approve", "ada", {"decision": "admit"})
    assert r.status_code == 409 and r.json()["code"] == "four_eyes"
    assert api.state(pid) == "NOTICE_CLOSED"
    api.do(pid, "bo", "approve", {"decision": "admit"})
    assert api.state(pid) == "ADMITTED"
    admitted = by_type(api.events(pid), "ProjectAdmitted")[0]
    explained = api.get(f"/api/v1/audit/decisions/{admitted['position']}", "audrey").json()
    assert explained["four_eyes_kept"] is True
    assert "金融科技创新监管工具" in explained["legal_basis"]  # the regulations the decision rests on
    assert explained["recommendation"]["recommender"] == "carol"
    assert explained["recommendation"]["approvers"] == ["ada", "bo"]

    # the test: monthly reports, a complaint, an incident remediated, an extension granted
    api.do(pid, "alice", "start_test")
    months = 0
    while api.state(pid) == "TESTING":
        api.clock.advance(days=30)
        kpis = ["approval_time"] if months < 6 else ["approval_time", "default_rate"]
        api.report(pid, FINTECH_METRICS, kpis)
        if months == 2:
            api.do(pid, "carol", "log_complaint", {"complaint_id": "c-1", "category": "fees",
                                                    "received_on": api.clock.today.isoformat()})
            api.do(pid, "alice", "report_incident", {"incident_id": "inc-1", "severity": 3, "kind": "outage",
                                                      "occurred_on": api.clock.today.isoformat()})
            api.do(pid, "carol", "remediate_incident", {"incident_id": "inc-1"})
        if months == 4:
            before = api.details(pid)["planned_end"]
            api.do(pid, "alice", "request_extension", {"months": 3, "reason": "样本不足"})
            api.do(pid, "ada", "grant_extension")
            assert api.details(pid)["planned_end"] > before
        api.tick()
        months += 1
    assert api.state(pid) == "FINAL_EVALUATION" and 14 <= months <= 16
    assert not by_type(api.events(pid), "ProjectSuspended")

    # graduation (出盒): the final report, its acceptance, a recommendation and two approvals
    api.do(pid, "alice", "submit_final_report", {"sha256": sha("final"), "summary": "全部指标达成",
                                                  "kpis_met": ["approval_time", "default_rate"]})
    api.do(pid, "sam", "accept_final_report")
    api.do(pid, "carol", "recommend", {"decision": "graduate"})
    api.do(pid, "ada", "approve", {"decision": "graduate"})
    api.do(pid, "bo", "approve", {"decision": "graduate"})
    assert api.state(pid) == "GRADUATED"
    assert api.get(f"/api/v1/register/{pid}").json()["final_outcome"] == "GRADUATED"

    # the auditor: the project as it stood during the notice, the decisions, the log verified
    then = api.view(pid, "audrey", as_of=notice_time.isoformat())
    assert then["state"] == "PUBLIC_NOTICE"
    # the public register entry as it stood then, and before the project was public at all
    entry = api.get(f"/api/v1/register/{pid}", params={"as_of": notice_time.isoformat()})
    assert entry.status_code == 200 and entry.json()["status"] == "PUBLIC_NOTICE", entry.text
    assert entry.json()["final_outcome"] is None
    listed = api.get("/api/v1/register", params={"as_of": notice_time.isoformat()}).json()["items"]
    assert [e for e in listed if e["id"] == pid] == [entry.json()]
    before_notice = (notice_time - dt.timedelta(days=1)).isoformat()
    assert api.get(f"/api/v1/register/{pid}", params={"as_of": before_notice}).status_code == 404
    # ... and by global position, the whole register too
    entry = api.get(f"/api/v1/register/{pid}", params={"position": admitted["position"]})
    assert entry.status_code == 200 and entry.json()["status"] == "ADMITTED", entry.text
    earlier = api.get(f"/api/v1/register/{pid}", params={"position": admitted["position"] - 1}).json()
    assert earlier["status"] == "NOTICE_CLOSED"
    listed = api.get("/api/v1/register", params={"position": admitted["position"]}).json()["items"]
    assert [e for e in listed if e["id"] == pid] == [entry.json()]
    both = api.get("/api/v1/register", params={"position": 1, "as_of": notice_time.isoformat()})
    assert both.status_code == 422 and both.json()["errors"][0]["field"] == "position"
    at_position = api.view(pid, "audrey", position=admitted["position"])
    assert at_position["state"] == "ADMITTED" and at_position["as_of_position"] == admitted["position"]
    assert api.view(pid, "alice", position=admitted["position"] - 1)["state"] == "NOTICE_CLOSED"
    decisions = api.get("/api/v1/audit/decisions", "audrey", params={"project": pid}).json()
    graduated = next(d for d in decisions if d["type"] == "ProjectGraduated")
    assert graduated["rule_version"] == "fintech-sandbox@1" and graduated["role"] == "approver"
    assert api.get("/api/v1/audit/verify", "audrey").json()["ok"] is True
    export = api.get("/api/v1/audit/export", "audrey")
    assert export.headers["content-type"].startswith("application/jsonl")
    assert len(export.text.splitlines()) == api.head()
    page = api.get("/api/v1/events", "sam", params={"after": api.head() - 3, "limit": 2}).json()
    assert [e["position"] for e in page["items"]] == [api.head() - 2, api.head() - 1]
    assert page["next_after"] == api.head() - 1 and page["head"] == api.head()


def test_ecny_pilot_suspended_reinstated_and_exited_voluntarily(api: Api) -> None:
    pid = api.create("ecny-pilot", title="福州高速数字人民币通行费")
    api.ecny_application(pid)
    api.do(pid, "alice", "edit_draft", {"section": "statement", "fields": {"uses_smart_contracts": True}})
    assert statuses(api.view(pid, "alice"))["ec.adm.smart_contracts"] == "unmet"
    # incomplete (the applicant's own document is missing): returned for supplement, not submitted
    r = api.post(f"/api/v1/projects/{pid}/submit", "alice")
    assert r.status_code == 409 and r.json()["code"] == "application_incomplete", r.text
    assert [e["id"] for e in r.json()["errors"]] == ["ec.adm.smart_contracts"]
    assert r.json()["errors"][0]["missing_en"] == "missing documents: smart contract template"
    assert r.json()["errors"][0]["missing_zh"] == "缺少文件：智能合约模板" and api.state(pid) == "DRAFT"
    api.do(pid, "alice", "attach_document", {"kind": "smart_contract_template", "sha256": sha("contract"),
                                             "title": "智能合约模板"})
    # a boundary the regulator judges (no acceptance point yet) waits for the admission, and may be waived
    api.do(pid, "alice", "edit_draft", {"section": "boundaries", "fields": {"acceptance_points": 0}})
    api.submit_and_open(pid)
    api.do(pid, "ada", "waive_condition", {"condition_id": "ec.adm.acceptance_points", "reason": "受理点建设中"})
    assert statuses(api.view(pid))["ec.adm.acceptance_points"] == "waived"
    api.close_notices(pid)
    api.admit(pid)  # one approval is enough for this program
    api.do(pid, "carol", "start_test")

    api.clock.advance(days=30)
    api.report(pid, ECNY_METRICS, ["transactions"])
    api.do(pid, "carol", "suspend", {"category": "supervisory_review", "reason": "专项检查"})
    assert api.state(pid) == "SUSPENDED"
    assert api.get(f"/api/v1/register/{pid}").json()["status"] == "SUSPENDED"
    api.do(pid, "ada", "reinstate", {"reason": "检查通过"})
    assert api.state(pid) == "TESTING"
    api.do(pid, "alice", "request_extension", {"months": 3})
    api.do(pid, "ada", "refuse_extension", {"reason": "无必要"})
    api.do(pid, "carol", "record_external_fact", {"trigger": "media_report", "on": api.clock.today.isoformat()})

    today = api.clock.today
    api.do(pid, "alice", "initiate_exit", {"mode": "voluntary", "users_notified_on": today.isoformat(),
                                            "planned_exit_on": (today + dt.timedelta(days=30)).isoformat()})
    assert api.state(pid) == "EXIT_IN_PROGRESS"
    r = api.post(f"/api/v1/projects/{pid}/confirm_exit", "carol")
    assert r.status_code == 409 and r.json()["code"] == "exit_notice_too_short"
    api.clock.advance(days=30)
    api.report(pid, ECNY_METRICS, [])
    api.do(pid, "carol", "confirm_exit")
    assert api.state(pid) == "EXITED"
    assert api.get(f"/api/v1/register/{pid}").json()["final_outcome"] == "EXITED"
    r = api.post(f"/api/v1/projects/{pid}/report_metrics", "alice", {
        "period_start": today.isoformat(), "period_end": today.isoformat(), "metrics": {}})
    assert r.status_code == 409 and r.json()["code"] == "terminal_state"


def test_data_asset_listing_forced_exit_and_the_other_endings(api: Api) -> None:
    pid = api.create_data_asset()
    api.data_asset_application(pid, public_data=False)
    api.do(pid, "alice", "add_partner", {"organisation": "techco", "name": "榕城数科", "role": "technology_partner"})
    api.do(pid, "alice", "withdraw_partner", {"organisation": "techco"})
    assert api.get(f"/api/v1/projects/{pid}", "tom").status_code == 404  # a former partner no longer sees it
    api.submit_and_open(pid)
    assert api.details(pid)["notice_days"] == 3 and api.details(pid)["notice_unit"] == "calendar"
    api.close_notices(pid)
    api.admit(pid)
    api.do(pid, "alice", "start_test")
    api.do(pid, "alice", "attach_document", {"kind": "valuation_report", "sha256": sha("valuation"),
                                              "title": "资产评估报告", "issued_on": api.clock.today.isoformat()})
    api.do(pid, "alice", "register_pledge", {"pledgee": "福州示范银行", "registration_no": "ZY-2025-001",
                                              "on": api.clock.today.isoformat()})
    api.clock.advance(days=30)
    api.report(pid, {"trades": 40, "buyers": 6}, ["trades"])

    # a forced exit: the case officer initiates, an approver (never the same person) approves
    api.do(pid, "carol", "initiate_exit", {"mode": "forced", "reason": "数据来源授权失效"})
    api.do(pid, "ada", "approve", {"decision": "exit"})
    assert api.state(pid) == "EXIT_IN_PROGRESS"
    api.do(pid, "carol", "confirm_exit")
    assert api.state(pid) == "EXITED"

    # the other endings: withdrawn by the applicant, terminated, revoked for false materials
    withdrawn = api.create_data_asset(title="撤回的数据产品")
    api.do(withdrawn, "alice", "withdraw", {"reason": "调整产品"})
    assert api.state(withdrawn) == "WITHDRAWN"
    ended = {}
    for ending in ("terminate", "revoke"):
        other = api.create_data_asset(title=f"{ending} 数据产品")
        api.data_asset_application(other, public_data=False)
        api.submit_and_open(other)
        ended[ending] = other
    api.close_notices(*ended.values())
    for ending, other in ended.items():
        api.admit(other)
        # a forced ending is recommended (with a reason) and approved by somebody else
        body = {"decision": ending, "reason": "核查结论",
                "category": "false_materials" if ending == "revoke" else "authorisation_lapsed"}
        api.do(other, "carol", "recommend", body)
        api.do(other, "ada", "approve", {"decision": ending})
    assert api.state(ended["terminate"]) == "TERMINATED"
    assert api.state(ended["revoke"]) == "REVOKED"
    for ending, other in ended.items():  # the audit trail names who recommended and who approved
        decisions = api.get("/api/v1/audit/decisions", "audrey", params={"project": other}).json()
        [last] = [d for d in decisions if d["type"] in ("ProjectTerminated", "ProjectRevoked")]
        chain = last["detail"]["recommendation"]
        assert (chain["decision"], chain["recommender"], chain["approvers"]) == (ending, "carol", ["ada"])
    register = api.get("/api/v1/register", params={"program": "data-asset"}).json()
    assert {e["id"]: e["final_outcome"] for e in register["items"]} == {
        pid: "EXITED", ended["terminate"]: "TERMINATED", ended["revoke"]: "REVOKED"}


def test_every_event_records_the_authenticated_actor_role_and_organisation(api: Api) -> None:
    pid = api.create("ecny-pilot")
    api.ecny_application(pid, partner=True)
    api.do(pid, "tom", "attest", {"statement": "no_violations"})
    api.submit_and_open(pid)
    api.do(pid, "pat", "comment", {"text": "好"})
    people = {"alice": ("applicant", "fzbank"), "tom": ("applicant", "techco"), "carol": ("case_officer", None),
              "sam": ("assessor", None), "pat": ("public", None)}
    seen = set()
    for event in api.events(pid, "audrey"):
        meta = event["metadata"]
        assert (meta["role"], meta["organisation"]) == people[meta["actor"]], event
        seen.add(meta["actor"])
    assert seen == set(people)

    # a field the command does not have is refused, so nobody can claim to be someone else
    for forged in ({"actor": "carol"}, {"role": "approver"}, {"organisation": "otherbank"},
                   {"metadata": {"actor": "carol"}}):
        head = api.head()
        r = api.post(f"/api/v1/projects/{pid}/dispose_objection", "carol",
                     {"objection_id": "obj-1", "outcome": "upheld", **forged})
        assert r.status_code == 400, r.text
        assert r.json()["errors"][0]["field"] == next(iter(forged)) or "unknown field" in r.json()["message_en"]
        assert api.head() == head
    r = api.post("/api/v1/projects", "alice", {"program_key": "ecny-pilot", "title": "t", "app_type": "零售",
                                               "lead_name": "x", "lead_kind": "operator", "region": "福州",
                                               "organisation": "otherbank"})
    assert r.status_code == 400 and "organisation" in r.json()["message_en"]


def test_reads_of_programs_register_and_health_need_no_token(api: Api) -> None:
    programs = api.get("/api/v1/programs").json()
    assert {p["key"] for p in programs} == {"fintech-sandbox", "ecny-pilot", "data-asset"}
    fintech = api.get("/api/v1/programs/fintech-sandbox").json()
    assert fintech["latest_version"] == 1 and fintech["versions"][0]["approvals_required"] == 2
    assert api.get("/api/v1/programs/nope").status_code == 404
    assert api.get("/api/v1/register").json() == {"total": 0, "limit": 50, "offset": 0, "items": []}
    health = api.get("/health").json()
    assert health["status"] == "ok" and health["head_position"] == health["read_models_position"] > 0
    assert health["read_model_failures"] == 0


def test_health_is_degraded_while_the_read_models_hold_a_failure(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    from projections.read_models import writer as read_models  # (where the rows are derived)

    derive = read_models.project_row
    pid = api.create("fintech-sandbox", title="一个派生不出行的项目")

    def broken(state: Any) -> dict[str, Any]:
        if state.title == "一个派生不出行的项目":
            raise ValueError("no row for this one")
        return derive(state)

    monkeypatch.setattr(read_models, "project_row", broken)
    api.do(pid, "alice", "edit_draft", {"section": "statement", "fields": {"user_scope": "福州市"}})
    health = api.get("/health").json()
    assert health["status"] == "degraded" and health["read_model_failures"] == 1
    assert health["head_position"] == health["read_models_position"]  # the reader went on
    monkeypatch.undo()  # fixed: the project's next event derives its rows again
    api.do(pid, "alice", "edit_draft", {"section": "statement", "fields": {"user_scope": "福建省"}})
    health = api.get("/health").json()
    assert health["status"] == "ok" and health["read_model_failures"] == 0


def test_publishing_a_program_version_binds_only_new_submissions(api: Api) -> None:
    old = api.create("ecny-pilot")
    api.ecny_application(old)
    api.do(old, "alice", "submit")
    program = api.get("/api/v1/programs/ecny-pilot").json()
    definition = program["versions"][-1] | {"version": 2, "approvals_required": 2}
    r = api.post("/api/v1/programs/ecny-pilot/versions", "ada", {"definition": definition, "changes": ["两人审批"]})
    assert r.status_code == 201, r.text
    assert r.json()["version"] == 2 and r.json()["position"] == api.head()
    r = api.post("/api/v1/programs/ecny-pilot/versions", "ada", {"definition": definition})
    assert r.status_code == 422 and r.json()["code"] == "invalid_value"  # version 2 exists: 3 is next
    r = api.post("/api/v1/programs/fintech-sandbox/versions", "ada", {"definition": definition})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "definition.key"
    new = api.create("ecny-pilot")
    api.ecny_application(new)
    api.do(new, "alice", "submit")
    assert api.view(old)["program_ref"] == "ecny-pilot@1"
    assert api.view(new)["program_ref"] == "ecny-pilot@2"


def test_a_program_published_through_the_api_is_listed_with_the_bundled_ones(api: Api, tmp_path: Path) -> None:
    bundled = [p["key"] for p in api.get("/api/v1/programs").json()]
    definition = api.get("/api/v1/programs/ecny-pilot").json()["versions"][-1] | {"key": "ecny-pilot-xiamen"}
    r = api.post("/api/v1/programs/ecny-pilot-xiamen/versions", "ada", {"definition": definition})
    assert r.status_code == 201, r.text
    listed = api.get("/api/v1/programs").json()
    assert [p["key"] for p in listed] == [*bundled, "ecny-pilot-xiamen"]
    assert listed[-1]["latest_version"] == 1
    printed = CliRunner().invoke(main, ["programs", "--db", str(tmp_path / "registry.db"), "--json"])
    assert printed.exit_code == 0, printed.output
    assert [p["key"] for p in json.loads(printed.output)] == [*bundled, "ecny-pilot-xiamen"]


def test_audit_verify_names_the_first_altered_position_and_why_in_both_languages(api: Api, tmp_path: Path) -> None:
    assert api.get("/api/v1/audit/verify", "audrey").json()["ok"] is True
    conn = raw_connection(tmp_path / "registry.db")  # the file the ``api`` fixture serves
    drop_triggers(conn)
    conn.execute("UPDATE events SET data = data || ' ' WHERE position = 2")
    conn.close()
    report = api.get("/api/v1/audit/verify", "audrey").json()
    assert (report["ok"], report["failed_position"], report["count"]) == (False, 2, 1)
    assert "hash" in report["reason"] and "哈希" in report["reason_zh"]


def test_a_suspension_review_is_in_the_regulators_queue_until_two_persons_dispose_of_it(api: Api) -> None:
    pid = api.create("fintech-sandbox")
    api.fintech_application(pid, partner=False)
    api.submit_and_open(pid)
    api.close_notices(pid)
    api.admit(pid)
    api.do(pid, "alice", "start_test")
    api.clock.advance(days=30)
    api.report(pid, {"users": 3000, "active_users": 1000, "exposure_yuan": 50_000_000}, [])
    for n in range(6):  # over 5 per 1,000 active users in 30 days
        api.do(pid, "carol", "log_complaint", {"complaint_id": f"cp-{n}", "category": "fees",
                                               "received_on": api.clock.today.isoformat()})
    breach = next(e for e in api.events(pid) if e["type"] == "ThresholdBreached")
    assert breach["data"]["action"] == "suspension_review" and api.state(pid) == "TESTING"

    def waiting(role: str) -> list[Any]:
        items = api.get("/api/v1/queue", "carol", params={"role": role}).json()
        return [q for q in items if q["project_id"] == pid and q["item"].startswith("breach:")]

    [item] = waiting("case_officer")
    assert item["item"] == f"breach:{breach['position']}" and item["due_on"]
    body = {"breach_position": breach["position"], "outcome": "suspend", "reason": "投诉集中，需暂停整改"}
    api.do(pid, "carol", "dispose_breach", body)
    assert waiting("case_officer") == [] and len(waiting("approver")) == 1 and api.state(pid) == "TESTING"
    api.do(pid, "ada", "dispose_breach", {**body, "reason": "同意暂停"})
    assert api.state(pid) == "SUSPENDED" and waiting("approver") == []
