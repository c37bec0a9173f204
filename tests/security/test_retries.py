"""Retries across the change of command ids: a keyed request recorded before command ids held the
token's id (``http:<actor>:<key>``; without a token, ``http:anonymous:<key>:<digest of the
body>``) and sent again now is answered as a replay, and nothing is appended twice."""

from __future__ import annotations

import hashlib

import msgspec

from sandbox.api.auth import ANONYMOUS_PUBLIC
from sandbox.api.common import request_digest
from schemas import commands as c
from tests.fixtures.api import Api
from tests.fixtures.attacks import noticed

ALICE = c.Actor(id="alice", role="applicant", organisation="fzbank")
DRAFT = {"program_key": "ecny-pilot", "title": "重试", "app_type": "零售", "lead_name": "福州示范银行",
         "lead_kind": "licensed_institution", "region": "福州"}


def test_a_draft_created_under_the_earlier_command_id_is_not_created_again(api: Api) -> None:
    command = c.CreateDraft(**DRAFT)  # (as the server recorded it then: the key as sent, the actor's id)
    first = api.app.state.registry.create_project(
        command, ALICE, command_id="http:alice:create-1", request=request_digest("create_draft", "", command)
    )
    head = api.head()
    again = api.post("/api/v1/projects", "alice", DRAFT, headers={"Idempotency-Key": "create-1"})
    assert again.status_code == 201, again.text
    assert again.json()["project_id"] == first.project_id and again.json()["positions"] == first.positions
    assert api.head() == head and api.get("/api/v1/projects", "alice").json()["total"] == 1
    # the same key with another body is still another request: refused, nothing appended
    other = api.post("/api/v1/projects", "alice", DRAFT | {"title": "另一个"}, headers={"Idempotency-Key": "create-1"})
    assert other.status_code == 422 and other.json()["code"] == "idempotency_key_reused", other.text
    assert api.head() == head
    # a key never used before is a new command, recorded under the current form
    fresh = api.post("/api/v1/projects", "alice", DRAFT, headers={"Idempotency-Key": "create-2"})
    assert fresh.status_code == 201 and api.head() == head + 1
    token = next(t.id for t in api.app.state.tokens.list() if t.name == "alice")
    assert api.events(fresh.json()["project_id"])[0]["metadata"]["command_id"].startswith(f"http:{token}:")


def test_a_command_recorded_under_the_earlier_command_id_is_answered_as_a_replay(api: Api) -> None:
    pid = api.create("ecny-pilot")
    command = c.EditDraft(section="statement", fields={"scenario": "retail"})
    first = api.app.state.registry.execute(
        pid, command, ALICE, command_id="http:alice:edit-1", request=request_digest("edit_draft", pid, command)
    )
    head = api.head()
    again = api.post(f"/api/v1/projects/{pid}/edit_draft", "alice", msgspec.to_builtins(command),
                     headers={"Idempotency-Key": "edit-1"})
    assert again.status_code == 200, again.text
    assert again.json()["positions"] == first.positions and api.head() == head


def test_an_anonymous_comment_recorded_under_the_earlier_command_id_is_answered_as_a_replay(api: Api) -> None:
    pid = noticed(api)
    comment = c.Comment(text="支持")
    digest = hashlib.sha256(msgspec.json.encode(comment)).hexdigest()[:16]
    first = api.app.state.registry.execute(
        pid, comment, ANONYMOUS_PUBLIC, command_id=f"http:anonymous:k-1:{digest}",
        request=request_digest("comment", pid, comment),
    )
    head = api.head()
    again = api.post(f"/api/v1/projects/{pid}/comment", None, {"text": "支持"}, headers={"Idempotency-Key": "k-1"})
    assert again.status_code == 200, again.text
    assert again.json()["positions"] == first.positions and api.head() == head
    # another comment under the same naive key is somebody else's: recorded
    other = api.post(f"/api/v1/projects/{pid}/comment", None, {"text": "反对"}, headers={"Idempotency-Key": "k-1"})
    assert other.status_code == 200 and api.head() == head + 1
