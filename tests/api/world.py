"""One registry with a project of alice's organisation (fzbank) in every state a command needs,
built through the API. The authorisation matrix, the privacy property and schemathesis run on
copies of it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from tests.api.helpers import Api, sha

ECNY_METRICS = {"transactions": 12_000, "payment_failures": 10, "wallets_opened": 2_500, "active_users": 2_000}
SECRET = "SECRET-fzbank-风控模型参数"  # private text of fzbank's drafts: never for other organisations


@dataclass
class World:
    """Project ids by the state they stand in, and the ids commands refer to."""

    projects: dict[str, str] = field(default_factory=dict)
    objection: str = ""
    incident: str = "inc-1"
    decision_position: int = 0
    other_project: str = ""  # olga's (otherbank) draft
    now: dt.datetime = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)

    def __getitem__(self, key: str) -> str:
        return self.projects[key]


def build(api: Api) -> World:
    w = World()
    p = w.projects

    def fintech(name: str) -> str:
        pid = api.create("fintech-sandbox", title=f"{name} 小微信贷")
        api.fintech_application(pid)
        api.do(pid, "alice", "edit_draft", {"section": "statement", "fields": {"risk_controls": SECRET}})
        p[name] = pid
        return pid

    def ecny(name: str, **kw: int | bool) -> str:
        pid = api.create("ecny-pilot", title=f"{name} 数字人民币通行费")
        api.ecny_application(pid, **kw)  # type: ignore[arg-type]
        p[name] = pid
        return pid

    # day 0: drafts and applications under review
    fintech("draft")
    fintech("returned")
    api.do(p["returned"], "alice", "submit")
    api.do(p["returned"], "carol", "request_information", {"items": ["补充风险补偿金证明"]})
    fintech("submitted")
    api.do(p["submitted"], "alice", "submit")
    fintech("review")
    api.do(p["review"], "alice", "submit")
    api.do(p["review"], "carol", "accept_intake")
    api.assess(p["review"])
    w.other_project = api.create("fintech-sandbox", who="olga", title="他行草稿", lead_name="他行")
    api.do(w.other_project, "olga", "edit_draft", {"section": "statement", "fields": {"risk_controls": "olga-own"}})

    # day 0: e-CNY pilots through a 5-working-day notice, then each to the state it stands for
    live = ["closed", "closed2", "admitted", "testing", "extension", "suspended", "final", "exiting"]
    for name in live:
        ecny(name, test_days=40 if name == "final" else 300, partner=name == "testing")
    ecny("notice")
    api.do(p["notice"], "alice", "submit")
    api.do(p["notice"], "carol", "accept_intake")
    for name in live:
        api.submit_and_open(p[name])
    api.close_notices(*(p[n] for n in live))
    api.do(p["closed"], "carol", "recommend", {"decision": "admit"})
    for name in ("admitted", "testing", "extension", "suspended", "final", "exiting"):
        api.admit(p[name])
    for name in ("testing", "extension", "suspended", "final", "exiting"):
        api.do(p[name], "alice", "start_test")
    api.do(p["testing"], "alice", "report_incident", {
        "incident_id": w.incident, "severity": 3, "kind": "outage", "occurred_on": api.clock.today.isoformat()})
    api.do(p["extension"], "alice", "request_extension", {"months": 3})
    api.do(p["suspended"], "carol", "suspend", {"category": "supervisory_review", "reason": "核查"})
    today = api.clock.today
    api.do(p["exiting"], "alice", "initiate_exit", {
        "mode": "voluntary",
        "users_notified_on": (today - dt.timedelta(days=35)).isoformat(),
        "planned_exit_on": (today + dt.timedelta(days=5)).isoformat(),
    })

    # a month later: the reports, then the short pilot's test period ends
    api.clock.advance(days=30)
    for name in ("testing", "extension", "final"):
        api.report(p[name], ECNY_METRICS, ["transactions", "wallets_opened"])
    api.tick()
    final_end = dt.date.fromisoformat(api.details(p["final"])["planned_end"])
    api.clock.to(final_end + dt.timedelta(days=1))
    api.tick()
    assert api.state(p["final"]) == "FINAL_EVALUATION"
    api.do(p["final"], "alice", "submit_final_report", {
        "sha256": sha("final"), "summary": "指标达成", "kpis_met": ["transactions", "wallets_opened"]})

    # now: a notice that is open, with an objection waiting
    api.assess(p["notice"])
    api.do(p["notice"], "carol", "open_public_notice", {"channel": "官网公示栏"})
    objected = api.do(p["notice"], "pat", "object", {"grounds": "商户覆盖不足", "name": "林女士",
                                                            "contact": "lin@example.cn"})
    w.objection = next(e for e in api.events(p["notice"]) if e["position"] == objected["positions"][0])["data"][
        "objection_id"
    ]
    audit = api.get("/api/v1/audit/decisions", "audrey", params={"project": p["admitted"]}).json()
    w.decision_position = next(d["position"] for d in audit if d["type"] == "ProjectAdmitted")

    expected = {
        "draft": "DRAFT", "returned": "RETURNED_FOR_INFO", "submitted": "SUBMITTED", "review": "UNDER_REVIEW",
        "notice": "PUBLIC_NOTICE", "closed": "NOTICE_CLOSED", "closed2": "NOTICE_CLOSED", "admitted": "ADMITTED",
        "testing": "TESTING", "extension": "TESTING", "suspended": "SUSPENDED", "final": "FINAL_EVALUATION",
        "exiting": "EXIT_IN_PROGRESS",
    }
    assert {k: api.state(v) for k, v in p.items()} == expected
    w.now = api.clock.now
    return w
