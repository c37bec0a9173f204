"""Optimistic concurrency and retries over HTTP: ETag and If-Match (412 with the current version),
a conflict found while appending (409), and Idempotency-Key (a retry returns the first answer and
appends nothing)."""

from __future__ import annotations

import hashlib
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from sandbox.api.common import request_digest
from sandbox.service import MAX_ATTEMPTS, Registry
from schemas import commands as c
from schemas.commands import Actor
from tests.fixtures.api import Api

EDIT = {"section": "statement", "fields": {"channels": ["手机银行"]}}


def draft(api: Api) -> str:
    pid = api.create("ecny-pilot")
    api.do(pid, "alice", "edit_draft", EDIT)
    return pid


def test_etag_is_the_version_and_a_stale_if_match_is_412_with_the_current_version(api: Api) -> None:
    pid = draft(api)
    r = api.get(f"/api/v1/projects/{pid}", "alice")
    assert r.headers["etag"] == '"2"' and r.json()["version"] == 2

    # a matching If-Match (as the ETag, weak, bare or "*") is accepted and moves the ETag on
    r = api.post(f"/api/v1/projects/{pid}/edit_draft", "alice", EDIT, headers={"If-Match": '"2"'})
    assert r.status_code == 200 and r.headers["etag"] == '"3"' and r.json()["version"] == 3
    for value, version in (('W/"3"', 4), ("4", 5), ("*", 6)):
        r = api.post(f"/api/v1/projects/{pid}/edit_draft", "alice", EDIT, headers={"If-Match": value})
        assert (r.status_code, r.json()["version"]) == (200, version)

    # a stale one is refused with the current version, and nothing is appended
    head = api.head()
    r = api.post(f"/api/v1/projects/{pid}/submit", "alice", headers={"If-Match": '"2"'})
    assert r.status_code == 412
    assert r.headers["content-type"] == "application/problem+json"
    assert r.headers["etag"] == '"6"'
    body = r.json()
    assert body["code"] == "version_mismatch" and body["current_version"] == 6
    assert "6" in body["message_zh"] and "6" in body["message_en"]
    assert api.head() == head and api.state(pid) == "DRAFT"

    # a malformed If-Match is bad input, not a mismatch
    r = api.post(f"/api/v1/projects/{pid}/submit", "alice", headers={"If-Match": "yesterday"})
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "If-Match"
    assert api.head() == head


def _race(api: Api, pid: str, monkeypatch: pytest.MonkeyPatch, times: int) -> list[int]:
    """Make another writer (chen, a second session of alice) append to the project right after the
    service has read it, ``times`` times: each append then finds the stream moved on."""
    registry: Registry = api.app.state.registry
    load = registry.load
    sneaked: list[int] = []
    busy: list[bool] = []

    def load_then_interfere(project_id: str, **kw: Any) -> Any:
        state = load(project_id, **kw)
        if len(sneaked) < times and not kw and not busy:
            sneaked.append(state.version)
            busy.append(True)
            try:
                registry.execute(
                    project_id,
                    c.EditDraft(section="statement", fields={"interfering": len(sneaked)}),
                    Actor(id="alice-2", role="applicant", organisation="fzbank"),
                    command_id=f"interfere-{project_id}-{len(sneaked)}",
                )
            finally:
                busy.clear()
        return state

    monkeypatch.setattr(registry, "load", load_then_interfere)
    return sneaked


def test_a_conflict_found_while_appending_is_409_and_appends_nothing_of_the_loser(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    pid = draft(api)
    # with If-Match the service may not re-decide on the new state: the first conflict is final
    sneaked = _race(api, pid, monkeypatch, times=1)
    r = api.post(f"/api/v1/projects/{pid}/edit_draft", "alice", EDIT, headers={"If-Match": '"2"'})
    assert sneaked == [2]
    assert r.status_code == 409, r.text
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert body["code"] == "conflict" and body["current_version"] == 3 and r.headers["etag"] == '"3"'
    types = [e["type"] for e in api.events(pid)]
    assert types == ["DraftCreated", "DraftEdited", "DraftEdited"]  # the interferer's edit only
    # the request named a version no longer current: sending it again as it is would not do
    assert body["retry_safe"] is False


def test_without_if_match_conflicts_are_decided_again_up_to_a_bound_then_a_409_says_retry_is_safe(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another writer (as another process would) appends between the read and the append: the
    command is decided again on the new state, up to MAX_ATTEMPTS times in all."""
    pid = draft(api)
    sneaked = _race(api, pid, monkeypatch, times=MAX_ATTEMPTS - 1)
    r = api.post(f"/api/v1/projects/{pid}/edit_draft", "alice", EDIT)
    assert r.status_code == 200 and len(sneaked) == MAX_ATTEMPTS - 1
    assert r.json()["version"] == 2 + MAX_ATTEMPTS  # decided on the interferers' last version
    other = draft(api)
    sneaked = _race(api, other, monkeypatch, times=MAX_ATTEMPTS)
    key = {"Idempotency-Key": "edit-contended"}
    r = api.post(f"/api/v1/projects/{other}/edit_draft", "alice", EDIT, headers=key)
    assert r.status_code == 409 and len(sneaked) == MAX_ATTEMPTS
    body = r.json()
    assert body["code"] == "conflict" and body["retry_safe"] is True
    assert body["current_version"] == 2 + MAX_ATTEMPTS and "Idempotency-Key" in body["message_en"]
    assert "幂等键" in body["message_zh"]
    assert api.state(other) == "DRAFT"
    # and it was: the same request again lands once the others are done
    again = api.post(f"/api/v1/projects/{other}/edit_draft", "alice", EDIT, headers=key)
    assert again.status_code == 200 and again.json()["version"] == 3 + MAX_ATTEMPTS


def test_commands_racing_in_one_server_take_turns_and_never_conflict(api: Api) -> None:
    """16 clients send 50 commands each to 2 projects at once, without If-Match: every command
    is answered 200 and appended exactly once."""
    projects = [draft(api), draft(api)]
    before = {pid: len(api.events(pid)) for pid in projects}

    def client(i: int) -> list[int]:
        statuses = []
        for k in range(50):
            pid = projects[(i + k) % 2]
            body = {"section": "statement", "fields": {"channels": [f"渠道-{i}-{k}"]}}
            r = api.post(f"/api/v1/projects/{pid}/edit_draft", "alice", body,
                         headers={"Idempotency-Key": f"race-{i}-{k}"})
            statuses.append(r.status_code)
        return statuses

    with ThreadPoolExecutor(max_workers=16) as pool:
        statuses = [status for one in pool.map(client, range(16)) for status in one]
    assert Counter(statuses) == {200: 16 * 50}
    events = [e for pid in projects for e in api.events(pid)[before[pid]:]]
    appended = Counter(e["metadata"]["command_id"] for e in events)
    assert len(appended) == 16 * 50 and set(appended.values()) == {1}
    assert sum(len(api.events(pid)) - before[pid] for pid in projects) == 16 * 50


def test_a_retried_command_returns_the_first_answer_and_appends_nothing(api: Api) -> None:
    pid = draft(api)
    key = {"Idempotency-Key": "report-2025-03-a"}
    first = api.post(f"/api/v1/projects/{pid}/edit_draft", "alice", EDIT, headers=key)
    assert first.status_code == 200 and "idempotent-replayed" not in first.headers
    head = api.head()
    for _ in range(3):
        again = api.post(f"/api/v1/projects/{pid}/edit_draft", "alice", EDIT, headers=key)
        assert again.status_code == first.status_code
        assert again.json() == first.json()
        assert again.headers["etag"] == first.headers["etag"]
        assert again.headers["idempotent-replayed"] == "true"
        assert api.head() == head
    # the key is the actor's own: the same key from somebody else is another command
    other = api.post(f"/api/v1/projects/{pid}/edit_draft", "tom", EDIT, headers=key)
    assert other.status_code == 404  # tom is not (yet) a partner of this project
    # the same key reused for another project is refused, not silently answered
    elsewhere = draft(api)
    head = api.head()
    r = api.post(f"/api/v1/projects/{elsewhere}/edit_draft", "alice", EDIT, headers=key)
    assert r.status_code == 422 and r.json()["code"] == "idempotency_key_reused"
    assert api.head() == head


def test_a_key_used_again_for_another_request_is_refused_not_answered(api: Api) -> None:
    """The same key with another body or on another route is not a retry: answering it with
    the first result would drop the second request unseen (a report that crosses a cap, say).
    It is refused with 422 and nothing is appended; the true retry is still answered."""
    pid = draft(api)
    key = {"Idempotency-Key": "k-reused"}
    first = api.post(f"/api/v1/projects/{pid}/edit_draft", "alice", EDIT, headers=key)
    assert first.status_code == 200
    head = api.head()
    other_body = {"section": "statement", "fields": {"channels": ["柜台"]}}
    for action, body in (("edit_draft", other_body), ("submit", {}), ("withdraw", {"reason": "改主意"})):
        r = api.post(f"/api/v1/projects/{pid}/{action}", "alice", body, headers=key)
        assert r.status_code == 422 and r.json()["code"] == "idempotency_key_reused", (action, r.text)
        assert r.json()["message_zh"] and r.json()["message_en"]
        assert api.head() == head and api.state(pid) == "DRAFT"
    again = api.post(f"/api/v1/projects/{pid}/edit_draft", "alice", EDIT, headers=key)
    assert again.status_code == 200 and again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    # a client that writes a map's keys in another order is still retrying
    fields = {"channels": ["手机银行"], "user_scope": "福州市"}
    ordered = {"Idempotency-Key": "k-ordered"}
    one = api.post(f"/api/v1/projects/{pid}/edit_draft", "alice", {"section": "statement", "fields": fields},
                   headers=ordered)
    head = api.head()
    other_order = {"section": "statement", "fields": dict(reversed(list(fields.items())))}
    two = api.post(f"/api/v1/projects/{pid}/edit_draft", "alice", other_order, headers=ordered)
    assert two.status_code == 200 and two.json() == one.json() and api.head() == head
    # creating a draft: another body under the same key is refused too
    body = {"program_key": "ecny-pilot", "title": "一", "app_type": "零售", "lead_name": "福州示范银行",
            "lead_kind": "licensed_institution", "region": "福州"}
    assert api.post("/api/v1/projects", "alice", body, headers={"Idempotency-Key": "c-1"}).status_code == 201
    head = api.head()
    r = api.post("/api/v1/projects", "alice", {**body, "title": "二"}, headers={"Idempotency-Key": "c-1"})
    assert r.status_code == 422 and r.json()["code"] == "idempotency_key_reused" and api.head() == head


def test_a_retried_create_returns_the_same_project(api: Api) -> None:
    body = {"program_key": "ecny-pilot", "title": "重试", "app_type": "零售", "lead_name": "福州示范银行",
            "lead_kind": "licensed_institution", "region": "福州"}
    key = {"Idempotency-Key": "create-1"}
    first = api.post("/api/v1/projects", "alice", body, headers=key)
    head = api.head()
    again = api.post("/api/v1/projects", "alice", body, headers=key)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and api.head() == head
    assert api.get("/api/v1/projects", "alice").json()["total"] == 1


def test_the_command_id_is_the_tokens_id_and_a_digest_of_its_idempotency_key(api: Api) -> None:
    pid = draft(api)
    api.post(f"/api/v1/projects/{pid}/edit_draft", "alice", EDIT, headers={"Idempotency-Key": "k-7"})
    meta = api.events(pid)[-1]["metadata"]
    token = next(t.id for t in api.app.state.tokens.list() if t.name == "alice")
    expected = f"http:{token}:{hashlib.sha256(b'k-7').hexdigest()[:16]}"
    assert meta["command_id"] == expected
    # the correlation id adds the request's digest: action, project and body
    assert meta["correlation_id"] == f"{expected}#{request_digest('edit_draft', pid, c.EditDraft(**EDIT))}"
    api.post(f"/api/v1/projects/{pid}/edit_draft", "alice", EDIT)
    assert api.events(pid)[-1]["metadata"]["command_id"].startswith("http:")


def test_anonymous_retries_are_scoped_by_what_they_send(api: Api) -> None:
    pid = api.create("ecny-pilot")
    api.ecny_application(pid)
    api.submit_and_open(pid)
    key = {"Idempotency-Key": "1"}
    first = api.post(f"/api/v1/projects/{pid}/comment", None, {"text": "支持"}, headers=key)
    head = api.head()
    again = api.post(f"/api/v1/projects/{pid}/comment", None, {"text": "支持"}, headers=key)
    assert again.json() == first.json() and api.head() == head  # the same person retrying
    other = api.post(f"/api/v1/projects/{pid}/comment", None, {"text": "反对"}, headers=key)
    assert other.status_code == 200 and api.head() == head + 1  # somebody else, same naive key
