"""Property: an applicant never receives another organisation's private data.

olga (otherbank) probes the prepared world, where every project is fzbank's: lists with any
filter, single projects now and as of any time or position, their events, commands on them, the
auditor's and regulators' routes, the event feed. Whatever she asks, no answer carries fzbank's
private text, the id of a project that is not on the public register, or fzbank's name outside
the public register, and nothing is appended.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sandbox.deciders import RULES
from tests.fixtures.api import Api
from tests.fixtures.api_world import SECRET, World
from tests.fixtures.templates import Template

PRIVATE = ("draft", "returned", "submitted", "review")  # fzbank's projects that never reached notice
PUBLIC = ("notice", "closed", "admitted", "testing", "final", "exiting")
ACTIONS = sorted(a for a in RULES if a != "create_draft")

projects = st.sampled_from([*PRIVATE, *PUBLIC])
moments = st.datetimes(
    min_value=dt.datetime(2025, 1, 1), max_value=dt.datetime(2025, 6, 1), timezones=st.just(dt.UTC)
)
bodies: st.SearchStrategy[dict[str, Any]] = st.one_of(
    st.just({}),
    st.fixed_dictionaries({"section": st.just("statement"), "fields": st.just({"x": 1})}),
    st.fixed_dictionaries({"decision": st.sampled_from(["admit", "graduate", "exit", "reject"])}),
    st.fixed_dictionaries({"text": st.text(min_size=1, max_size=5)}),
    st.dictionaries(st.sampled_from(["organisation", "actor", "reason", "months"]), st.integers() | st.text()),
)


@st.composite
def requests(draw: st.DrawFn) -> tuple[str, str, dict[str, Any], Any]:
    """(method, path template with {pid}, query, body): one probe."""
    kind = draw(st.sampled_from(["list", "get", "events", "command", "audit", "register"]))
    if kind == "list":
        query = draw(st.fixed_dictionaries({}, optional={
            "applicant": st.sampled_from(["fzbank", "otherbank", "techco"]),
            "program": st.sampled_from(["fintech-sandbox", "ecny-pilot", "data-asset"]),
            "state": st.sampled_from(["DRAFT", "TESTING", "SUBMITTED", "UNDER_REVIEW"]),
            "region": st.just("福州"),
            "sort": st.sampled_from(["id", "title", "applicant", "last_position"]),
            "order": st.sampled_from(["asc", "desc"]),
            "limit": st.integers(1, 500),
            "offset": st.integers(0, 20),
        }))
        return "GET", "/api/v1/projects", query, None
    if kind == "get":
        query = draw(st.one_of(
            st.just({}),
            st.builds(lambda m: {"as_of": m.isoformat()}, moments),
            st.builds(lambda p: {"position": p}, st.integers(0, 400)),
        ))
        return "GET", "/api/v1/projects/{pid}", query, None
    if kind == "events":
        return "GET", "/api/v1/projects/{pid}/events", {}, None
    if kind == "command":
        return "POST", "/api/v1/projects/{pid}/" + draw(st.sampled_from(ACTIONS)), {}, draw(bodies)
    if kind == "audit":
        path = draw(st.sampled_from([
            "/api/v1/queue", "/api/v1/audit/verify", "/api/v1/audit/export", "/api/v1/audit/decisions",
            "/api/v1/audit/decisions/150", "/api/v1/events", "/api/v1/events/stream",
        ]))
        return "GET", path, {"after": 0, "max_events": 1} if path.endswith("stream") else {}, None
    path = draw(st.sampled_from(["/api/v1/register", "/api/v1/register/{pid}"]))
    return "GET", path, {}, None


def leaks(text: str, world: World, path: str) -> list[str]:
    found = [marker for marker in (SECRET, "风控模型参数") if marker in text]
    found += [f"id of {name}" for name in PRIVATE if world[name] in text]
    if not path.startswith("/api/v1/register") and "fzbank" in text:
        found.append("fzbank outside the public register")
    return found


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(probe=requests(), project=projects)
def test_an_applicant_never_receives_another_organisations_private_data(
    shared_world_api: Api, template: Template, probe: tuple[str, str, dict[str, Any], Any], project: str
) -> None:
    api, world = shared_world_api, template.world
    method, template_path, query, body = probe
    pid = world[project]
    path = template_path.replace("{pid}", pid)
    head = api.head()

    def ask(target: str) -> Any:
        if method == "GET":
            return api.get(target, "olga", params=query)
        return api.post(target, "olga", body, params=query)

    r = ask(path)
    assert r.status_code < 500, r.text
    echoed = r.text.replace(pid, "<the id she sent>")  # naming back what she asked for tells her nothing
    assert not leaks(echoed, world, path), (path, query, r.status_code, leaks(echoed, world, path))
    assert api.head() == head, "olga changed fzbank's projects"
    if "/api/v1/projects/" in path and project in PRIVATE:
        # she learns exactly what she would learn about a project that does not exist (a project on the
        # public register is known to exist: she may be told that her role may not comment on it)
        assert r.status_code in (400, 403, 404), (path, r.status_code)
        nothing = ask(template_path.replace("{pid}", "0000nothing0"))
        assert (nothing.status_code, nothing.text.replace("0000nothing0", "<the id she sent>")) == (
            r.status_code,
            echoed,
        )
    if path == "/api/v1/projects":
        items = r.json()["items"]
        assert {i["id"] for i in items} <= {world.other_project}


def test_olga_sees_her_own_project_and_fzbank_sees_none_of_hers(shared_world_api: Api, template: Template) -> None:
    api, world = shared_world_api, template.world
    mine = api.get(f"/api/v1/projects/{world.other_project}", "olga")
    assert mine.status_code == 200 and mine.json()["applicant"] == "otherbank"
    assert api.get(f"/api/v1/projects/{world.other_project}", "alice").status_code == 404
    assert "olga-own" not in api.get("/api/v1/projects", "alice").text


def test_applicants_do_not_learn_who_objected(shared_world_api: Api, template: Template) -> None:
    api, world = shared_world_api, template.world
    objection = next(e for e in api.events(world["notice"], "alice") if e["type"] == "ObjectionFiled")
    assert objection["metadata"]["actor"] == "anonymous" and objection["metadata"]["role"] == "public"
    # the applicant is told what was withheld (so it does not take the hash for the shown values')
    assert set(objection["redacted"]) == {"actor", "organisation", "command_id", "correlation_id", "causation_id",
                                          "data.objector_name", "data.objector_contact"}
    assert objection["data"]["objector_name"] is None and objection["data"]["objector_contact"] is None
    for regulator in ("audrey", "carol", "ada"):
        seen = next(e for e in api.events(world["notice"], regulator) if e["type"] == "ObjectionFiled")
        assert seen["metadata"]["actor"] == "pat" and seen["redacted"] == []
        assert (seen["data"]["objector_name"], seen["data"]["objector_contact"]) == ("林女士", "lin@example.cn")
    public = api.get(f"/api/v1/register/{world['notice']}").text + api.get("/api/v1/register").text
    assert "林女士" not in public and "lin@example.cn" not in public
    assert api.get(f"/api/v1/projects/{world['notice']}/events", "pat").status_code in (403, 404)


def test_a_commenters_identity_does_not_reach_the_applicant(api: Api) -> None:
    pid = api.create("ecny-pilot")
    api.ecny_application(pid)
    api.submit_and_open(pid)
    api.post(f"/api/v1/projects/{pid}/comment", "pat", {"text": "赞成"}, headers={"Idempotency-Key": "pat-1"})
    token = next(t.id for t in api.app.state.tokens.list() if t.name == "pat")
    for who in ("alice",):
        events = api.get(f"/api/v1/projects/{pid}/events", who).text
        view = api.get(f"/api/v1/projects/{pid}", who).text
        assert f"http:{token}" not in events + view and '"actor":"pat"' not in events
    audited = api.events(pid, "audrey")[-1]["metadata"]
    key = hashlib.sha256(b"pat-1").hexdigest()[:16]
    assert audited["actor"] == "pat" and audited["command_id"] == f"http:{token}:{key}"
    assert api.view(pid, "carol")["details"]["append_command"].startswith(f"http:{token}:{key}#")


def test_a_view_kept_for_regulators_is_not_what_the_applicant_gets(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    """A project's view is encoded once per kind of reader and kept until the project changes:
    a regulator reading first must not leave the applicant the regulator's JSON."""
    import sandbox.api.common as common

    encoded: list[object] = []
    encode = common.encode_json

    def counting(value: object) -> bytes:
        encoded.append(value)
        return encode(value)

    pid = api.create("ecny-pilot")
    api.ecny_application(pid)
    api.submit_and_open(pid)
    api.post(f"/api/v1/projects/{pid}/comment", "pat", {"text": "赞成"}, headers={"Idempotency-Key": "pat-1"})
    monkeypatch.setattr(common, "encode_json", counting)
    first = api.get(f"/api/v1/projects/{pid}", "carol")
    token = next(t.id for t in api.app.state.tokens.list() if t.name == "pat")
    first_command = first.json()["details"]["append_command"]
    assert first_command.startswith(f"http:{token}:")
    applicant = api.get(f"/api/v1/projects/{pid}", "alice")
    assert applicant.status_code == 200 and f"http:{token}:" not in applicant.text
    assert applicant.json()["details"]["append_command"] is None
    again = [api.get(f"/api/v1/projects/{pid}", who) for who in ("carol", "alice", "audrey")]
    assert [r.text for r in again] == [first.text, applicant.text, first.text]
    assert len(encoded) == 2  # once for regulators and auditors, once for applicants
    assert first.headers["etag"] == applicant.headers["etag"]
    # A change makes a new view, encoded anew.
    api.post(f"/api/v1/projects/{pid}/comment", "pat", {"text": "再赞成"}, headers={"Idempotency-Key": "pat-2"})
    later = api.get(f"/api/v1/projects/{pid}", "carol")
    later_command = later.json()["details"]["append_command"]
    assert later_command.startswith(f"http:{token}:") and later_command != first_command and len(encoded) == 3


def test_the_applicant_sees_an_assessments_topic_and_outcome_not_the_regulators_summary(api: Api) -> None:
    pid = api.create("ecny-pilot")
    api.ecny_application(pid)
    api.do(pid, "alice", "submit")
    api.do(pid, "carol", "accept_intake")
    api.do(pid, "sam", "file_assessment", {"topic": "wallet_limits_review", "outcome": "needs_work",
                                          "summary": "内部意见：限额论证薄弱", "sha256": "a" * 64})
    [mine] = [e for e in api.events(pid, "alice") if e["type"] == "AssessmentFiled"]
    assert (mine["data"]["topic"], mine["data"]["outcome"]) == ("wallet_limits_review", "needs_work")
    assert mine["data"]["summary"] is None and mine["data"]["sha256"] is None
    assert {"data.summary", "data.sha256"} <= set(mine["redacted"])
    assert "限额论证薄弱" not in api.get(f"/api/v1/projects/{pid}/events", "alice").text
    assert "限额论证薄弱" not in api.get(f"/api/v1/projects/{pid}", "alice").text
    for regulator in ("carol", "sam", "ada", "audrey"):
        [seen] = [e for e in api.events(pid, regulator) if e["type"] == "AssessmentFiled"]
        assert seen["data"]["summary"] == "内部意见：限额论证薄弱" and seen["redacted"] == []
