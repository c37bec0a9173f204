"""The authorisation matrix: every route of the app, against every role and no token.

The routes are read from the application itself, so a new route cannot escape the matrix: it
fails here until its row says who may use it. Expected statuses are exact: 401 without (or with
a bad) token, 403 for a role that may not act, 404 for an applicant on another organisation's
project, and for whoever may act the status the request then earns (200/201, or a refusal the
state dictates). A request that does not succeed appends nothing.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from litestar.routes import HTTPRoute

from sandbox.api import create_app
from tests.fixtures.api import Api, sha
from tests.fixtures.api_world import World
from tests.fixtures.templates import Template, world_copy

#: Everyone who may knock: no token, a bad token, and one person of each role. ``alice`` is the
#: applicant whose organisation (fzbank) owns every project of the world; ``olga`` is another.
IDENTITIES = ("none", "bad", "alice", "olga", "carol", "sam", "ada", "audrey", "pat")
READERS = {"carol": 200, "sam": 200, "ada": 200, "audrey": 200}


def app_routes() -> list[tuple[str, str]]:
    """(method, path) of every route the application serves (OPTIONS and HEAD are litestar's own)."""
    with tempfile.TemporaryDirectory() as d:
        app = create_app(Path(d) / "routes.db")
        try:
            return sorted(
                (method, route.path)
                for route in app.routes
                if isinstance(route, HTTPRoute)
                for method in route.methods
                if method not in ("OPTIONS", "HEAD")
            )
        finally:
            app.state.tokens.close()
            app.state.store.close()


@dataclass(frozen=True)
class Row:
    """Who may use a route, on which project of the world, with which body.

    ``ok`` gives the exact status of each identity that passes authentication and authorisation;
    every other identity gets 401 (no or bad token), 404 (``olga`` where applicants may act: the
    project is fzbank's), or 403. ``public`` routes give their status to everybody.
    """

    ok: dict[str, int]
    project: str | None = None
    body: Callable[[World, Api], Any] | None = None
    query: dict[str, Any] = field(default_factory=dict)
    public: bool = False
    path: Callable[[World], str] | None = None
    files: dict[str, tuple[str, bytes, str]] | None = None  # a multipart body (with ``body`` its fields)

    def expected(self, who: str) -> int:
        if self.public:
            return self.ok["*"]
        if who in self.ok:
            return self.ok[who]
        if who in ("none", "bad"):
            return 401
        if who == "olga" and "alice" in self.ok and self.project is not None:
            return 404
        return 403


def const(body: dict[str, Any]) -> Callable[[World, Api], Any]:
    return lambda w, a: body


def day(a: Api, offset: int = 0) -> str:
    return (a.clock.today + dt.timedelta(days=offset)).isoformat()


def next_program_version(w: World, a: Api) -> dict[str, Any]:
    program = a.get("/api/v1/programs/fintech-sandbox").json()
    definition = program["versions"][-1] | {"version": program["latest_version"] + 1}
    return {"definition": definition, "changes": ["投诉阈值调整"]}


def same_operators(w: World, a: Api) -> dict[str, Any]:
    records = a.get("/api/v1/reference/operators").json()["records"]
    return {"records": records, "changes": ["复核指定运营机构名单，无变化"]}


PUBLIC_200 = Row(ok={"*": 200}, public=True)
COMMAND = "/api/v1/projects/{project_id:str}/"

MATRIX: dict[tuple[str, str], Row] = {
    ("GET", "/health"): PUBLIC_200,
    # (no contact is set in the world: nobody is named; tests/security/test_security_txt.py sets one)
    ("GET", "/.well-known/security.txt"): Row(ok={"*": 404}, public=True),
    ("GET", "/schema"): PUBLIC_200,
    ("GET", "/schema/openapi.json"): PUBLIC_200,
    ("GET", "/schema/oauth2-redirect.html"): PUBLIC_200,
    ("GET", "/schema/{path:str}"): Row(ok={"*": 404}, public=True, path=lambda w: "/schema/openapi.yaml"),
    ("GET", "/static/swagger/{file_path:path}"): Row(
        ok={"*": 200}, public=True, path=lambda w: "/static/swagger/swagger-ui-bundle.js"
    ),
    ("GET", "/static/registry/{file_path:path}"): Row(
        ok={"*": 200}, public=True, path=lambda w: "/static/registry/swagger-init.js"
    ),
    ("GET", "/api/v1/programs"): PUBLIC_200,
    ("GET", "/api/v1/programs/{key:str}"): Row(
        ok={"*": 200}, public=True, path=lambda w: "/api/v1/programs/ecny-pilot"
    ),
    ("POST", "/api/v1/programs/{key:str}/versions"): Row(
        ok={"ada": 201}, body=next_program_version, path=lambda w: "/api/v1/programs/fintech-sandbox/versions"
    ),
    ("GET", "/api/v1/reference/{dataset:str}"): Row(
        ok={"*": 200}, public=True, path=lambda w: "/api/v1/reference/wallet_tiers"
    ),
    ("POST", "/api/v1/reference/{dataset:str}"): Row(
        ok={"ada": 201}, body=same_operators, path=lambda w: "/api/v1/reference/operators"
    ),
    ("GET", "/api/v1/register"): PUBLIC_200,
    ("GET", "/api/v1/register/{project_id:str}"): Row(ok={"*": 200}, public=True, project="notice"),
    ("GET", "/api/v1/register/{project_id:str}/proof"): Row(ok={"*": 200}, public=True, project="notice"),
    ("GET", "/api/v1/projects"): Row(ok={"alice": 200, "olga": 200, **READERS}),
    ("POST", "/api/v1/projects"): Row(
        ok={"alice": 201, "olga": 201},
        body=const(
            {
                "program_key": "ecny-pilot",
                "title": "新试点",
                "app_type": "零售",
                "lead_name": "福州示范银行",
                "lead_kind": "licensed_institution",
                "region": "福州",
            }
        ),
    ),
    ("GET", "/api/v1/projects/{project_id:str}"): Row(ok={"alice": 200, **READERS}, project="draft"),
    ("GET", "/api/v1/projects/{project_id:str}/events"): Row(ok={"alice": 200, **READERS}, project="draft"),
    ("GET", "/api/v1/queue"): Row(ok=READERS),
    ("GET", "/api/v1/audit/verify"): Row(ok=READERS),
    ("GET", "/api/v1/audit/checkpoint"): PUBLIC_200,
    ("GET", "/api/v1/audit/proof/inclusion"): Row(ok={"*": 200}, public=True, query={"position": 1}),
    ("GET", "/api/v1/audit/proof/consistency"): Row(ok={"*": 200}, public=True, query={"from": 1}),
    ("GET", "/api/v1/audit/export"): Row(ok=READERS),
    ("GET", "/api/v1/audit/decisions"): Row(ok=READERS),
    ("GET", "/api/v1/audit/decisions/{position:int}"): Row(
        ok=READERS, path=lambda w: f"/api/v1/audit/decisions/{w.decision_position}"
    ),
    ("GET", "/api/v1/events"): Row(ok=READERS, query={"after": 0, "limit": 5}),
    ("GET", "/api/v1/events/stream"): Row(ok=READERS, query={"after": 0, "max_events": 2}),
    # -- one row per command: the roles the lifecycle names, on a project in a state that allows it
    ("POST", COMMAND + "edit_draft"): Row(
        ok={"alice": 200}, project="draft", body=const({"section": "statement", "fields": {"channels": ["网点"]}})
    ),
    ("POST", COMMAND + "add_partner"): Row(
        ok={"alice": 200},
        project="draft",
        body=const({"organisation": "newco", "name": "新合作方", "role": "technology_partner"}),
    ),
    ("POST", COMMAND + "withdraw_partner"): Row(
        ok={"alice": 200, "carol": 200}, project="draft", body=const({"organisation": "techco"})
    ),
    ("POST", COMMAND + "attach_document"): Row(
        ok={"alice": 200, "carol": 200},
        project="draft",
        body=const({"kind": "board_resolution", "sha256": sha("board"), "title": "董事会决议"}),
    ),
    ("POST", COMMAND + "attest"): Row(ok={"alice": 200}, project="draft", body=const({"statement": "accuracy"})),
    ("POST", COMMAND + "submit"): Row(ok={"alice": 200}, project="draft"),
    ("POST", COMMAND + "withdraw"): Row(ok={"alice": 200}, project="draft", body=const({"reason": "调整方案"})),
    ("POST", COMMAND + "supply_information"): Row(
        ok={"alice": 200}, project="returned", body=const({"summary": "已补充风险补偿金证明"})
    ),
    ("POST", COMMAND + "accept_intake"): Row(ok={"carol": 200}, project="submitted"),
    ("POST", COMMAND + "request_information"): Row(
        ok={"carol": 200}, project="submitted", body=const({"items": ["补充材料"]})
    ),
    ("POST", COMMAND + "assign_case_officer"): Row(
        ok={"carol": 200, "ada": 200}, project="review", body=const({"officer": "chen"})
    ),
    ("POST", COMMAND + "file_assessment"): Row(
        ok={"sam": 200},
        project="review",
        body=const({"topic": "security", "outcome": "favourable", "summary": "符合 JR/T 0199-2020"}),
    ),
    ("POST", COMMAND + "open_public_notice"): Row(ok={"carol": 200}, project="review"),
    ("POST", COMMAND + "waive_condition"): Row(
        ok={"ada": 200}, project="review", body=const({"condition_id": "fs.adm.innovation", "reason": "同类首发"})
    ),
    # the public comments and objects with a token or without one; no other role may
    ("POST", COMMAND + "comment"): Row(ok={"pat": 200, "none": 200}, project="notice", body=const({"text": "支持"})),
    ("POST", COMMAND + "object"): Row(
        ok={"pat": 200, "none": 200},
        project="notice",
        body=const({"grounds": "异议", "name": "王先生", "contact": "wang@example.cn"}),
    ),
    ("POST", COMMAND + "dispose_objection"): Row(
        ok={"carol": 200}, project="notice", body=lambda w, a: {"objection_id": w.objection, "outcome": "dismissed"}
    ),
    ("POST", COMMAND + "recommend"): Row(ok={"carol": 200}, project="closed2", body=const({"decision": "admit"})),
    ("POST", COMMAND + "approve"): Row(ok={"ada": 200}, project="closed", body=const({"decision": "admit"})),
    ("POST", COMMAND + "start_test"): Row(ok={"alice": 200, "carol": 200}, project="admitted"),
    ("POST", COMMAND + "report_metrics"): Row(
        ok={"alice": 200},
        project="testing",
        body=lambda w, a: {"period_start": day(a, -29), "period_end": day(a), "metrics": {"transactions": 900}},
    ),
    ("POST", COMMAND + "report_incident"): Row(
        ok={"alice": 200, "carol": 200},
        project="testing",
        body=lambda w, a: {"incident_id": "inc-9", "severity": 3, "kind": "outage", "occurred_on": day(a)},
    ),
    ("POST", COMMAND + "reclassify_incident"): Row(
        ok={"carol": 200, "ada": 200},
        project="testing",
        body=lambda w, a: {"incident_id": w.incident, "severity": 1, "reason": "按一级事件认定"},
    ),
    ("POST", COMMAND + "remediate_incident"): Row(
        ok={"alice": 200, "carol": 200}, project="testing", body=lambda w, a: {"incident_id": w.incident}
    ),
    ("POST", COMMAND + "log_complaint"): Row(
        ok={"alice": 200, "carol": 200},
        project="testing",
        body=lambda w, a: {"complaint_id": "c-1", "category": "fees", "received_on": day(a)},
    ),
    ("POST", COMMAND + "request_extension"): Row(ok={"alice": 200}, project="testing", body=const({"months": 3})),
    ("POST", COMMAND + "grant_extension"): Row(ok={"ada": 200}, project="extension"),
    ("POST", COMMAND + "refuse_extension"): Row(ok={"ada": 200}, project="extension"),
    ("POST", COMMAND + "suspend"): Row(
        ok={"carol": 200, "ada": 200}, project="testing", body=const({"category": "supervisory_review"})
    ),
    ("POST", COMMAND + "reinstate"): Row(ok={"ada": 200}, project="suspended"),
    # (the testing pilot has no breach awaiting a disposition: the roles that may send it are told so)
    ("POST", COMMAND + "dispose_breach"): Row(
        ok={"carol": 409, "ada": 409},
        project="testing",
        body=const({"breach_position": 1, "outcome": "no_action", "reason": "已核查"}),
    ),
    ("POST", COMMAND + "submit_final_report"): Row(
        ok={"alice": 200}, project="testing", body=const({"sha256": sha("report"), "summary": "阶段性总结"})
    ),
    ("POST", COMMAND + "accept_final_report"): Row(ok={"carol": 200, "sam": 200}, project="final"),
    # a voluntary exit is the applicant's: the case officer may use the route, for a forced exit only
    ("POST", COMMAND + "initiate_exit"): Row(
        ok={"alice": 200, "carol": 403},
        project="testing",
        body=lambda w, a: {"mode": "voluntary", "users_notified_on": day(a), "planned_exit_on": day(a, 31)},
    ),
    ("POST", COMMAND + "confirm_exit"): Row(ok={"carol": 200, "ada": 200}, project="exiting"),
    # a data asset's own life: on this (fintech) test, whoever may act is refused for the program
    ("POST", COMMAND + "register_pledge"): Row(
        ok={"alice": 409, "carol": 409},
        project="testing",
        body=lambda w, a: {"pledgee": "福州农村商业银行", "registration_no": "ZY-1", "on": day(a)},
    ),
    ("POST", COMMAND + "release_pledge"): Row(
        ok={"alice": 409, "carol": 409}, project="testing", body=lambda w, a: {"on": day(a)}
    ),
    ("POST", COMMAND + "realise_pledge"): Row(
        ok={"carol": 409, "ada": 409}, project="testing", body=lambda w, a: {"on": day(a)}
    ),
    ("POST", COMMAND + "register_change"): Row(
        ok={"alice": 409, "carol": 409},
        project="testing",
        body=lambda w, a: {"description": "更新频率调整", "effective_on": day(a)},
    ),
    ("POST", COMMAND + "record_external_fact"): Row(
        ok={"carol": 200, "ada": 200},
        project="testing",
        body=lambda w, a: {"trigger": "media_report", "on": day(a), "detail": "媒体报道"},
    ),
    ("POST", "/api/v1/projects/{project_id:str}/documents"): Row(
        ok={"alice": 201, "carol": 201},
        project="draft",
        body=const({"kind": "board_resolution", "title": "董事会决议"}),
        files={"file": ("resolution.pdf", b"%PDF-1.7 board resolution", "application/pdf")},
    ),
    # the world's documents were attached by hash alone: no file to download, for whoever may ask
    ("GET", "/api/v1/projects/{project_id:str}/documents/{sha256:str}"): Row(
        ok={"alice": 404, **{who: 404 for who in READERS}},
        project="draft",
        path=lambda w: f"/api/v1/projects/{w['draft']}/documents/{sha('financial_licence')}",
    ),
    # -- the pages: a bearer token is no session, so the signed-in pages send everybody to the
    # sign-in form (200 once the redirect is followed), and every form posted without its CSRF
    # token is refused, whoever sends it
    ("GET", "/"): PUBLIC_200,
    ("GET", "/register/{project_id:str}"): Row(ok={"*": 200}, public=True, project="notice"),
    ("GET", "/login"): PUBLIC_200,
    ("GET", "/static/web/{file_path:path}"): Row(ok={"*": 200}, public=True, path=lambda w: "/static/web/site.css"),
    ("GET", "/projects/{project_id:str}/documents/{sha256:str}"): Row(
        ok={"*": 200}, public=True, path=lambda w: f"/projects/{w['draft']}/documents/{sha('financial_licence')}"
    ),
    **{
        ("GET", path): Row(ok={"*": 200}, public=True, project=project)
        for path, project in (
            ("/my", None),
            ("/queue", None),
            ("/dashboard", None),
            ("/audit", None),
            ("/audit/export", None),
            ("/projects/{project_id:str}", "draft"),
            ("/projects/{project_id:str}/timeline", "draft"),
            ("/projects/{project_id:str}/metrics", "testing"),
            ("/projects/{project_id:str}/draft", "draft"),
        )
    },
    ("GET", "/projects/{project_id:str}/draft/{step:str}"): Row(
        ok={"*": 200}, public=True, path=lambda w: f"/projects/{w['draft']}/draft/statement"
    ),
    **{
        ("POST", path): Row(ok={"*": 403}, public=True, path=lambda w, at=at: at(w))
        for path, at in (
            ("/login", lambda w: "/login"),
            ("/logout", lambda w: "/logout"),
            ("/projects/new", lambda w: "/projects/new"),
            ("/register/{project_id:str}/{action:str}", lambda w: f"/register/{w['notice']}/comment"),
            ("/projects/{project_id:str}/draft/{step:str}", lambda w: f"/projects/{w['draft']}/draft/statement"),
            ("/projects/{project_id:str}/act/{action:str}", lambda w: f"/projects/{w['submitted']}/act/accept_intake"),
            ("/projects/{project_id:str}/documents", lambda w: f"/projects/{w['draft']}/documents"),
        )
    },
}

ROUTES = app_routes()


def test_every_route_has_a_row_and_every_row_a_route() -> None:
    assert set(MATRIX) == set(ROUTES), {"no row": set(ROUTES) - set(MATRIX), "no route": set(MATRIX) - set(ROUTES)}


def _request(row: Row, route: tuple[str, str], who: str, w: World, a: Api) -> tuple[str, Any]:
    method, template = route
    if row.path is not None:
        path = row.path(w)
    elif row.project is not None:
        path = template.replace("{project_id:str}", w[row.project])
    else:
        path = template
    assert "{" not in path, path
    body = row.body(w, a) if row.body else ({} if method == "POST" else None)
    return path, body


@pytest.mark.parametrize("who", IDENTITIES)
@pytest.mark.parametrize("route", ROUTES, ids=lambda r: f"{r[0]} {r[1]}")
def test_matrix(route: tuple[str, str], who: str, template: Template, shared_world_api: Api, tmp_path: Path) -> None:
    row = MATRIX.get(route)
    assert row is not None, f"{route} has no row in the authorisation matrix"
    expected = row.expected(who)
    method = route[0]
    w = template.world
    if method == "POST" and expected not in (401, 403, 404):
        # this request changes the world: give it a copy of its own
        with world_copy(template, tmp_path) as a:
            _check(a, row, route, who, expected, w)
    else:
        _check(shared_world_api, row, route, who, expected, w)


def _check(a: Api, row: Row, route: tuple[str, str], who: str, expected: int, w: World) -> None:
    path, body = _request(row, route, who, w, a)
    head = a.head()
    if route[0] == "GET":
        r = a.get(path, None if who == "none" else who, params=row.query)
    elif row.files is not None:
        r = a.client.post(path, headers=a.auth(None if who == "none" else who), data=body, files=row.files)
    else:
        r = a.post(path, None if who == "none" else who, body, params=row.query)
    assert r.status_code == expected, f"{who} {route}: {r.status_code} {r.text[:400]}"
    if r.status_code >= 400 and path.startswith("/api/"):
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["status"] == expected
    if not 200 <= r.status_code < 300:
        assert a.head() == head, "a refused request appended events"
    if r.status_code == 401:
        assert r.headers["www-authenticate"] == "Bearer"


def test_a_partner_acts_for_itself_and_never_for_the_lead(api: Api) -> None:
    """A technology partner (tom, of techco) on alice's draft: the application, its partners,
    sending it and withdrawing it are the lead's (403 ``lead_only``, nothing written); its own
    attestation, its own documents and its own withdrawal are its own."""
    pid = api.create("ecny-pilot")
    api.do(pid, "alice", "add_partner", {"organisation": "techco", "name": "榕城数科", "role": "technology_partner"})
    api.do(pid, "alice", "add_partner", {"organisation": "newco", "name": "新公司", "role": "technology_partner"})
    head = api.head()
    for action, body in (
        ("edit_draft", {"section": "statement", "fields": {"channels": ["柜台"]}}),
        ("add_partner", {"organisation": "xmbank", "name": "厦门银行", "role": "technology_partner"}),
        ("withdraw_partner", {"organisation": "newco"}),
        ("submit", {}),
        ("withdraw", {"reason": "不做了"}),
    ):
        r = api.post(f"/api/v1/projects/{pid}/{action}", "tom", body)
        assert r.status_code == 403 and r.json()["code"] == "lead_only", (action, r.text)
        assert "fzbank" in r.json()["message_en"] and r.json()["message_zh"]
        assert api.head() == head
    api.do(pid, "tom", "attest", {"statement": "no_violations"})
    api.do(pid, "tom", "attach_document", {"kind": "security_assessment", "sha256": "a" * 64, "title": "安全评估"})
    r = api.post(
        f"/api/v1/projects/{pid}/attach_document",
        "tom",
        {"kind": "board_resolution", "sha256": "b" * 64, "title": "董事会决议", "holder": "fzbank"},
    )
    assert r.status_code == 403 and r.json()["code"] == "not_your_organisation"  # not for the lead either
    api.do(pid, "tom", "withdraw_partner", {"organisation": "techco"})
    assert api.get(f"/api/v1/projects/{pid}", "tom").status_code == 404  # no longer one of its applicants
    assert api.state(pid) == "DRAFT"
