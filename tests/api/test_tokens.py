"""API tokens: random, shown once, stored only as a hash, with a role, an organisation for
applicants and an optional expiry; listed and revoked. The API honours exactly the live ones."""

from __future__ import annotations

import datetime as dt
import hashlib
import sqlite3

import pytest

from sandbox.tokens import TokenError, Tokens
from tests.api.helpers import Api


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
