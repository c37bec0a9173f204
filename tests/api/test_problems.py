"""Errors are RFC 9457 problems: ``application/problem+json`` with a stable code and a Chinese and an
English message; invalid input names the field path and the rule; domain refusals list what is
missing; and bad input is never a 500."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sandbox.deciders import RULES
from schemas.dates import CHINA
from tests.fixtures.api import Api, assert_chinese_problem
from tests.fixtures.api_world import World

KEYS = {
    "type", "title", "status", "code", "message_zh", "message_en", "detail", "errors", "current_version", "retry_safe"
}


def problem(r: Any, status: int, code: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = r.json()
    assert set(body) == KEYS and body["status"] == status and body["code"] == code, body
    assert body["type"].endswith("/" + code)
    assert body["message_zh"] and body["message_en"] and body["message_zh"] != body["message_en"]
    assert_chinese_problem(body)
    return body


def test_each_kind_of_error_is_a_problem_with_a_stable_code(api: Api) -> None:
    pid = api.create("ecny-pilot")
    problem(api.get("/api/v1/projects"), 401, "unauthenticated")
    problem(api.get("/api/v1/projects", headers={"Authorization": "Basic YWxpY2U6eA=="}), 401, "unauthenticated")
    problem(api.get("/api/v1/projects", "bad"), 401, "unauthenticated")
    problem(api.get("/api/v1/queue", "alice"), 403, "forbidden")
    problem(api.get(f"/api/v1/projects/{pid}", "olga"), 404, "not_found")
    problem(api.get("/api/v1/no-such-route"), 404, "not_found")
    r = api.client.put("/api/v1/projects")
    problem(r, 405, "method_not_allowed")
    assert set(r.headers["allow"].replace(" ", "").split(",")) >= {"GET", "POST"}
    problem(api.post(f"/api/v1/projects/{pid}/start_test", "alice"), 409, "wrong_state")
    problem(api.post("/api/v1/projects", "alice", {"program_key": "no-such", "title": "t", "app_type": "x",
                                                   "lead_name": "x", "lead_kind": "other", "region": "福州"}),
            422, "unknown_program")
    api.do(pid, "alice", "edit_draft", {"section": "statement", "fields": {"x": 1}})
    body = problem(api.post(f"/api/v1/projects/{pid}/submit", "alice", headers={"If-Match": '"1"'}),
                   412, "version_mismatch")
    assert body["current_version"] == 2


def test_a_test_starts_within_the_period_declared_and_admitted_only(api: Api) -> None:
    pid = api.create("ecny-pilot")
    api.ecny_application(pid)
    start = api.clock.today + dt.timedelta(days=100)
    end = start + dt.timedelta(days=200)
    api.do(pid, "alice", "edit_draft", {"section": "boundaries", "fields": {
        "start_date": start.isoformat(), "end_date": end.isoformat()}})
    api.submit_and_open(pid)
    api.close_notices(pid)
    api.admit(pid)
    # the view tells the applicant the period; the start is refused before it
    view = api.get(f"/api/v1/projects/{pid}", "alice").json()
    [period] = [r for r in view["admission"] if r["id"] == "ec.adm.period"]
    assert period["progress"] == {"start": start.isoformat(), "end": end.isoformat(), "max_months": 12}
    body = problem(api.post(f"/api/v1/projects/{pid}/start_test", "alice"), 409, "before_declared_start")
    assert start.isoformat() in body["message_zh"] and start.isoformat() in body["message_en"]
    assert "监管部门终止" in body["message_zh"] and "terminate" in body["message_en"]  # the way out
    queue = api.get("/api/v1/queue?role=applicant", "carol").json()
    [item] = [q for q in queue if q["project_id"] == pid]
    last = end - dt.timedelta(days=1)
    assert item["label_zh"] == f"于 {start} 至 {last} 之间启动测试" and item["due_on"] == last.isoformat()
    api.clock.to(start)
    api.do(pid, "alice", "start_test")
    assert api.state(pid) == "TESTING"


def test_invalid_input_names_the_field_path_and_the_rule(api: Api) -> None:
    pid = api.create("ecny-pilot")
    cases: list[tuple[str, dict[str, Any], str, str]] = [
        ("request_information", {"items": ["补充", ""]}, "items[1]", "length >= 1"),
        ("request_information", {}, "items", "required"),
        ("attach_document", {"kind": "x", "sha256": "not-a-hash", "title": "t"}, "sha256", "regex"),
        ("edit_draft", {"section": "nope", "fields": {}}, "section", "one of: statement, boundaries, test_plan"),
        ("edit_draft", {"section": "product", "fields": {"ok": 1, "share": 0.5}}, "fields.share", "got `float`"),
        ("request_extension", {"months": 99}, "months", "<= 24"),
        ("report_metrics", {"period_start": "2026-01-01", "period_end": "2026-01-31",
                            "metrics": {"transactions": 2**53}}, "metrics.transactions", "<= 9007199254740991"),
        ("log_complaint", {"complaint_id": "c", "category": "x", "received_on": "yesterday"}, "received_on", "date"),
        ("submit", {"actor": "carol"}, "actor", "unknown field `actor`"),
    ]
    head = api.head()
    for action, body, field, rule in cases:
        who = "carol" if action in ("request_information", "log_complaint") else "alice"
        r = api.post(f"/api/v1/projects/{pid}/{action}", who, body)
        got = problem(r, 400, "invalid_input")
        assert got["errors"][0]["field"] == field, (action, got)
        assert rule in got["errors"][0]["rule"], (action, got)
        assert field in got["message_zh"] and field in got["message_en"]
    # parameters are named as the client wrote them, with where they were
    r = api.get("/api/v1/projects", "alice", params={"state": "DRAFT", "limit": 0})
    got = problem(r, 400, "invalid_input")
    assert got["errors"][0] == {"field": "limit", "rule": "Expected `int` >= 1", "rule_zh": "须为不小于 1 的整数",
                                "source": "query"}
    got = problem(api.get("/api/v1/projects", "alice", params={"sort": "secret"}), 400, "invalid_input")
    assert got["errors"][0]["field"] == "sort" and "one of: id, title, state" in got["errors"][0]["rule"]
    assert "须为以下之一：id、title、state" in got["errors"][0]["rule_zh"]
    got = problem(api.get("/api/v1/events", "carol", params=[("after", 1), ("after", 2)]), 400, "invalid_input")
    assert got["errors"][0]["field"] == "after" and "once" in got["errors"][0]["rule"]
    got = problem(api.post(f"/api/v1/projects/{pid}/submit", "alice", headers={"Idempotency-Key": "k" * 201}),
                  400, "invalid_input")
    assert got["errors"][0]["field"] == "Idempotency-Key"
    r = api.client.post(f"/api/v1/projects/{pid}/submit", content=b"{not json", headers={
        **api.auth("alice"), "content-type": "application/json"})
    assert "malformed" in problem(r, 400, "invalid_input")["errors"][0]["rule"]
    assert api.head() == head


def test_every_invalid_field_of_a_body_is_named_in_both_languages(api: Api) -> None:
    pid = api.create("ecny-pilot")
    head = api.head()
    body = {"category": 5, "received_on": "yesterday", "extra": True}
    got = problem(api.post(f"/api/v1/projects/{pid}/log_complaint", "carol", body), 400, "invalid_input")
    assert [(e["field"], e["rule_zh"]) for e in got["errors"]] == [
        ("complaint_id", "缺少必填字段“complaint_id”"),
        ("category", "应为字符串，实为整数"),
        ("received_on", "须为日期（YYYY-MM-DD）"),
        ("extra", "含有未知字段“extra”"),
    ]
    assert got["message_en"].endswith("(and 3 more)") and got["message_zh"].endswith("（另有 3 处）")
    # the items of a list and the values of a mapping, each at its own path
    got = problem(api.post(f"/api/v1/projects/{pid}/request_information", "carol", {"items": ["a", "", 3]}),
                  400, "invalid_input")
    assert [e["field"] for e in got["errors"]] == ["items[1]", "items[2]"]
    assert api.head() == head


def test_a_body_the_json_decoder_cannot_read_is_bad_input(api: Api) -> None:
    """Text in another encoding (GBK, as some Chinese clients send) and nesting deeper than the
    decoder recurses are the client's mistakes: a 400 naming the body, on a signed-in command
    and on the public's comment alike, and nothing written."""
    pid = api.create("ecny-pilot")
    head = api.head()
    bodies = {
        '{"section": "statement", "fields": {"text": "支持"}}'.encode("gbk"): "UTF-8",
        b"[" * 100_000 + b"]" * 100_000: "nested",
        b'{"fields":' * 100_000 + b"1" + b"}" * 100_000: "nested",
        b"": "is required",
        b'{"section": "statement", "fields": {"n": 1e400}}': "Number out of range",  # no float holds it
    }
    for body, rule in bodies.items():
        for who, action in (("alice", "edit_draft"), (None, "comment")):
            r = api.client.post(f"/api/v1/projects/{pid}/{action}", content=body, headers={
                **api.auth(who), "content-type": "application/json"})
            got = problem(r, 400, "invalid_input")
            assert got["errors"][0]["field"] == "body" and rule in got["errors"][0]["rule"], got
    assert api.head() == head


def test_each_error_says_where_the_value_was(api: Api) -> None:
    pid = api.create("ecny-pilot")
    cases = [
        (api.get("/api/v1/register", params={"limit": "1e400"}), "limit", "query"),
        (api.get("/api/v1/reference/exchange_rates"), "dataset", "path"),  # (litestar says "body": it starts "data")
        (api.get("/api/v1/events/stream", "carol", headers={"Last-Event-ID": "x"}), "Last-Event-ID", "header"),
        (api.get("/api/v1/events/stream", "carol", params={"after": "x"}), "after", "query"),
        (api.post(f"/api/v1/projects/{pid}/submit", "alice", headers={"If-Match": "v1"}), "If-Match", "header"),
    ]
    for r, field, source in cases:
        got = problem(r, 400, "invalid_input")
        assert (got["errors"][0]["field"], got["errors"][0]["source"]) == (field, source), got


def test_a_refusal_lists_what_is_missing(api: Api) -> None:
    pid = api.create("ecny-pilot")
    api.ecny_application(pid)
    api.do(pid, "alice", "edit_draft", {"section": "boundaries", "fields": {"acceptance_points": 0}})
    api.submit_and_open(pid)
    api.close_notices(pid)
    body = problem(api.post(f"/api/v1/projects/{pid}/recommend", "carol", {"decision": "admit"}),
                   409, "condition_unmet")
    missing = {e["id"]: e for e in body["errors"]}
    assert "ec.adm.acceptance_points" in missing
    assert missing["ec.adm.acceptance_points"]["missing_en"] and missing["ec.adm.acceptance_points"]["label_zh"]
    assert "ec.adm.acceptance_points" in body["message_en"]


def test_times_out_of_range_are_bad_input_not_a_crash(api: Api) -> None:
    pid = api.create("ecny-pilot")
    for value in ("0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"):
        got = problem(api.get(f"/api/v1/projects/{pid}", "alice", params={"as_of": value}), 400, "invalid_input")
        assert got["errors"][0]["field"] == "as_of"
    for value in ("null", "-1", str(2**63)):
        problem(api.get(f"/api/v1/projects/{pid}", "alice", params={"position": value}), 400, "invalid_input")
    # a number of seconds past the year 9999 (msgspec raises a plain ValueError for some of them)
    head = api.head()
    for seconds in (253_402_300_800, -62_135_596_801, 10**20):
        got = problem(api.get(f"/api/v1/projects/{pid}", "alice", params={"as_of": str(seconds)}), 400, "invalid_input")
        assert [e["field"] for e in got["errors"]] == ["as_of"]
        body = {"period_start": "2026-01-01", "period_end": "2026-01-31", "metrics": {}, "occurred_at": seconds}
        got = problem(api.post(f"/api/v1/projects/{pid}/report_metrics", "alice", body), 400, "invalid_input")
        assert [e["field"] for e in got["errors"]] == ["occurred_at"], got
    assert api.head() == head
    # long before the registry existed, nothing was recorded: the project did not exist then
    r = api.get(f"/api/v1/projects/{pid}", "alice", params={"as_of": "0076-07-03T03:13:44Z"})
    problem(r, 404, "not_found")
    assert api.get("/api/v1/register", params={"as_of": "0200-01-01T00:00:00Z"}).json()["total"] == 0


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=8)
    | st.sampled_from(["2025-03-03", "9999-12-31", "0001-01-01", "fzbank", "obj-1", "inc-1"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
fields = st.sampled_from([
    "section", "fields", "organisation", "name", "role", "kind", "sha256", "title", "statement", "items",
    "decision", "months", "metrics", "period_start", "period_end", "incident_id", "severity", "occurred_on",
    "category", "trigger", "on", "mode", "users_notified_on", "planned_exit_on", "reason", "objection_id",
    "outcome", "condition_id", "received_on", "complaint_id", "started_on", "starts_on", "summary", "text",
    "occurred_at",
])


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(
    action=st.sampled_from(sorted(a for a in RULES if a != "create_draft")),
    who=st.sampled_from(["alice", "carol", "sam", "ada", "pat"]),
    body=st.dictionaries(fields, json_values, max_size=4) | json_values,
    target=st.integers(0, 2),
)
def test_bad_input_is_never_a_server_error(api: Api, action: str, who: str, body: Any, target: int) -> None:
    if not hasattr(api, "_targets"):
        draft = api.create("ecny-pilot")
        live = api.create("ecny-pilot")
        api.ecny_application(live)
        api.submit_and_open(live)
        api._targets = [draft, live, "nope"]  # type: ignore[attr-defined]
    pid = api._targets[target]  # type: ignore[attr-defined]
    r = api.post(f"/api/v1/projects/{pid}/{action}", who, body)
    assert r.status_code < 500, r.text
    if r.status_code >= 400:
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["code"] and r.json()["message_en"]


def test_dates_the_rules_cannot_compute_with_are_refused_before_they_are_recorded(
    world_api: Api, world: World
) -> None:
    """A start in year 9999 or a complaint in year 1 would make every later evaluation of the
    project overflow (and stop the read models): the edge refuses them, naming the field."""
    api, ids = world_api, world.projects
    head = api.head()
    cases = [
        ("admitted", "alice", "start_test", {"started_on": "9999-12-31"}, "started_on"),
        ("review", "carol", "open_public_notice", {"starts_on": "9999-12-31"}, "starts_on"),
        ("testing", "carol", "log_complaint", {"complaint_id": "z", "category": "k", "received_on": "0001-01-01"},
         "received_on"),
        ("testing", "alice", "report_metrics", {"period_start": "2025-01-01", "period_end": "9999-12-31",
                                                 "metrics": {}}, "period_end"),
        ("draft", "alice", "edit_draft", {"section": "boundaries", "fields": {"end_date": "9999-12-31"}},
         "fields.end_date"),
        # nor a number a JSON client would read as another (the rules do not read this one)
        ("draft", "alice", "edit_draft", {"section": "statement", "fields": {"note": -(10**30)}}, "fields.note"),
    ]
    for name, who, action, body, field in cases:
        got = problem(api.post(f"/api/v1/projects/{ids[name]}/{action}", who, body), 422, "out_of_range")
        assert got["errors"][0]["field"] == field
    assert api.head() == head
    assert api.view(ids["testing"])["state"] == "TESTING"


def test_a_filter_that_cannot_match_is_refused_not_answered_empty(api: Api) -> None:
    """A misspelt state or role would look like an empty result: it is a 422 naming the values
    it may take (in any case); an applicant asking for another organisation's projects gets none
    of them, not its own under that name; as_of and position are alternatives."""
    pid = api.create("ecny-pilot")
    for path, who, params, field in (
        ("/api/v1/projects", "carol", {"state": "BOGUS"}, "state"),
        ("/api/v1/queue", "carol", {"role": "bogus"}, "role"),
        (f"/api/v1/projects/{pid}", "carol", {"as_of": "2026-01-01T00:00:00Z", "position": 1}, "position"),
    ):
        got = problem(api.get(path, who, params=params), 422, "invalid_value")
        assert got["errors"][0]["field"] == field and got["errors"][0]["source"] == "query", got
    assert "DRAFT" in problem(api.get("/api/v1/projects", "carol", params={"state": "x"}), 422,
                              "invalid_value")["errors"][0]["rule"]
    for state in ("DRAFT", "draft", "Draft"):
        assert api.get("/api/v1/projects", "carol", params={"state": state}).json()["total"] == 1
    assert api.get("/api/v1/queue", "carol", params={"role": "Case_Officer"}).status_code == 200
    mine = api.get("/api/v1/projects", "alice", params={"applicant": "fzbank"}).json()
    assert mine["total"] == 1
    theirs = api.get("/api/v1/projects", "alice", params={"applicant": "xmbank"}).json()
    assert theirs["total"] == 0 and theirs["items"] == []


def test_the_past_is_asked_for_as_on_the_command_line(api: Api) -> None:
    """A bare date is the end of that day in China; a position beyond the head is refused (422
    ``out_of_range`` naming ``position``, as the proofs refuse one), not echoed back as if it
    existed, and so is a stream asked to start after the head; a time with a position is 422
    ``invalid_value``."""
    pid = api.create("ecny-pilot")
    head = api.head()
    today = api.get(f"/api/v1/projects/{pid}", "alice", params={"as_of": "2099-01-01"})
    assert today.status_code == 200 and today.json()["as_of_position"] == head
    day = dt.datetime.fromisoformat(api.events(pid, "audrey")[0]["recorded_at"]).astimezone(CHINA).date()
    for path, who in ((f"/api/v1/projects/{pid}", "alice"), ("/api/v1/register", None)):
        bare = api.get(path, who, params={"as_of": day.isoformat()})
        timed = api.get(path, who, params={"as_of": f"{day + dt.timedelta(days=1)}T00:00:00+08:00"})
        assert (bare.status_code, bare.json()) == (timed.status_code, timed.json())
        at_head = api.get(path, who, params={"position": head})
        assert at_head.status_code in (200, 404), at_head.text
        beyond = problem(api.get(path, who, params={"position": head + 1}), 422, "out_of_range")
        assert beyond["errors"][0]["field"] == "position" and beyond["errors"][0]["source"] == "query"
        assert f"position {head}" in beyond["errors"][0]["rule"] and "日志末端" in beyond["errors"][0]["rule_zh"]
        both = problem(api.get(path, who, params={"position": head, "as_of": day.isoformat()}), 422, "invalid_value")
        assert both["errors"][0]["field"] == "position" and "not both" in both["errors"][0]["rule"]
    problem(api.get(f"/api/v1/register/{pid}", params={"position": head + 1}), 422, "out_of_range")
    for params, headers, field, source in (
        ({"after": head + 1}, {}, "after", "query"),
        ({}, {"Last-Event-ID": str(head + 1)}, "Last-Event-ID", "header"),
    ):
        r = api.get("/api/v1/events/stream", "carol", params=params, headers=headers)
        beyond = problem(r, 422, "out_of_range")
        assert (beyond["errors"][0]["field"], beyond["errors"][0]["source"]) == (field, source)
        assert f"position {head}" in beyond["errors"][0]["rule"]
    problem(api.get(f"/api/v1/projects/{pid}", "alice", params={"as_of": "2026-02-30"}), 400, "invalid_input")
