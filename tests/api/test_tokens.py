"""API tokens: random, shown once, stored only as a hash, with a role, an organisation for
applicants and an optional expiry; listed and revoked. The API honours exactly the live ones."""

from __future__ import annotations

import datetime as dt
import hashlib
import sqlite3

import pytest

from sandbox.tokens import TokenError, Tokens
from tests.fixtures.api import Api


def test_a_token_is_stored_only_as_its_hash(api: Api) -> None:
    tokens: Tokens = api.app.state.tokens
    secret, info = tokens.create(name="dora", role="auditor")
    assert secret.startswith("sbr_") and len(secret) > 40
    with sqlite3.connect(api.app.state.store.path) as conn:
        rows = conn.execute("SELECT * FROM api_tokens WHERE name = 'dora'").fetchall()
    assert secret not in repr(rows) and hashlib.sha256(secret.encode()).hexdigest() in repr(rows)
    assert info.role == "auditor" and info.organisation is None
    assert "dora" in [t.name for t in tokens.list()]
    r = api.client.get("/api/v1/audit/verify", headers={"Authorization": f"Bearer {secret}"})
    assert r.status_code == 200


def test_expired_and_revoked_tokens_are_refused(api: Api) -> None:
    tokens: Tokens = api.app.state.tokens
    secret, _ = tokens.create(name="short", role="case_officer", expires_at=api.clock.now + dt.timedelta(hours=1))
    headers = {"Authorization": f"Bearer {secret}"}
    assert api.client.get("/api/v1/queue", headers=headers).status_code == 200
    api.clock.advance(hours=2)
    r = api.client.get("/api/v1/queue", headers=headers)
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    assert tokens.revoke("carol") is True
    assert tokens.revoke("carol") is False  # already revoked
    assert api.get("/api/v1/queue", "carol").status_code == 401
    assert api.get("/api/v1/queue", "chen").status_code == 200


@pytest.mark.parametrize(
    ("header", "status"),
    [("Bearer", 401), ("Bearer ", 401), ("Basic abc", 401), ("bearer sbr_nope", 401), ("Token x", 401)],
)
def test_malformed_authorization_headers_are_401(api: Api, header: str, status: int) -> None:
    assert api.client.get("/api/v1/projects", headers={"Authorization": header}).status_code == status


def test_token_requests_that_cannot_be_honoured(api: Api) -> None:
    tokens: Tokens = api.app.state.tokens
    with pytest.raises(TokenError, match="unknown role"):
        tokens.create(name="x", role="system")
    with pytest.raises(TokenError, match="--org"):
        tokens.create(name="y", role="applicant")
    with pytest.raises(TokenError, match="already exists"):
        tokens.create(name="alice", role="auditor")
    with pytest.raises(TokenError, match="name"):
        tokens.create(name=" ", role="auditor")


def test_four_eyes_compare_persons_not_tokens(api: Api) -> None:
    """One person with an officer's token and an approver's token is one person: the approval of
    what they recommended is refused, whichever token they use, and recorded under their id."""
    tokens: Tokens = api.app.state.tokens
    tokens.add_user(user_id="li.wei", display_name="李伟", roles=("case_officer", "approver"))
    officer, officer_info = tokens.create(user="li.wei", role="case_officer")
    approver, _ = tokens.create(user="li.wei", role="approver")
    assert officer_info.name == "li.wei.case_officer" and officer_info.actor.id == "li.wei"
    pid = api.create("ecny-pilot")
    api.ecny_application(pid)
    api.submit_and_open(pid)
    api.close_notices(pid)
    as_officer = {"Authorization": f"Bearer {officer}"}
    as_approver = {"Authorization": f"Bearer {approver}"}
    r = api.client.post(f"/api/v1/projects/{pid}/recommend", json={"decision": "admit"}, headers=as_officer)
    assert r.status_code == 200, r.text
    head = api.head()
    r = api.client.post(f"/api/v1/projects/{pid}/approve", json={"decision": "admit"}, headers=as_approver)
    assert r.status_code == 409 and r.json()["code"] == "four_eyes", r.text
    assert api.head() == head
    recommended = next(e for e in api.events(pid) if e["type"] == "RecommendationMade")
    assert recommended["metadata"]["actor"] == "li.wei" and recommended["metadata"]["role"] == "case_officer"
    api.do(pid, "ada", "approve", {"decision": "admit"})  # another person may
    assert api.state(pid) == "ADMITTED"


def test_a_users_token_acts_only_in_a_role_granted_to_them_and_for_their_organisation(api: Api) -> None:
    tokens: Tokens = api.app.state.tokens
    tokens.add_user(user_id="wang", display_name="王芳", roles=("applicant",), organisation="fzbank")
    _, info = tokens.create(user="wang", role="applicant")
    assert (info.actor.id, info.actor.organisation) == ("wang", "fzbank")
    with pytest.raises(TokenError, match="not been granted"):
        tokens.create(user="wang", role="approver")
    with pytest.raises(TokenError, match="acts for fzbank"):
        tokens.create(user="wang", role="applicant", organisation="otherbank", name="wang-2")
    with pytest.raises(TokenError, match="no user"):
        tokens.create(user="nobody", role="auditor")
    with pytest.raises(TokenError, match="already exists"):
        tokens.add_user(user_id="wang", display_name="另一个王芳", roles=("auditor",))
    with pytest.raises(TokenError, match="needs --org"):
        tokens.add_user(user_id="zhao", display_name="赵", roles=("applicant",))
    # a token issued without a user is still a user of its own, named by the token
    _, legacy = tokens.create(name="old-officer", role="case_officer")
    assert legacy.user_id is None and legacy.actor.id == "old-officer"
