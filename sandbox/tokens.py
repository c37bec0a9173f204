"""API tokens: random, shown once, stored only as a SHA-256 hash, with a role, an optional
organisation (for applicants) and an optional expiry; listed and revoked.

Tokens are operational secrets, not registry facts, so they live in their own table; every event a
token's holder causes records the holder's id, role and organisation in its metadata.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

import sqlite_utils

from schemas.commands import Actor
from schemas.lifecycle import Role

PREFIX = "sbr_"
ROLES = tuple(r.value for r in Role if r is not Role.SYSTEM)


class TokenError(ValueError):
    """A token request that cannot be honoured (unknown role, applicant without organisation)."""


@dataclass(frozen=True, slots=True)
class TokenInfo:
    id: str
    name: str
    role: str
    organisation: str | None
    created_at: str
    expires_at: str | None
    revoked_at: str | None

    @property
    def actor(self) -> Actor:
        return Actor(id=self.name, role=self.role, organisation=self.organisation)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Tokens:
    """The token table of one registry database."""

    def __init__(self, db: sqlite_utils.Database) -> None:
        self.db = db
        self.db.conn.execute(
            """CREATE TABLE IF NOT EXISTS api_tokens (
                id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, role TEXT NOT NULL, organisation TEXT,
                token_hash TEXT NOT NULL UNIQUE, created_at TEXT NOT NULL, expires_at TEXT, revoked_at TEXT
            ) STRICT"""
        )

    def create(
        self,
        *,
        name: str,
        role: str,
        organisation: str | None = None,
        expires_at: dt.datetime | None = None,
        now: dt.datetime | None = None,
    ) -> tuple[str, TokenInfo]:
        """Create a token; returns the secret (shown once) and its record."""
        if role not in ROLES:
            raise TokenError(f"unknown role {role!r}; choose one of {', '.join(ROLES)}")
        if role == Role.APPLICANT and not organisation:
            raise TokenError("an applicant token needs --org (the organisation it acts for)")
        if not name.strip():
            raise TokenError("a token needs a name")
        if self.db.conn.execute("SELECT 1 FROM api_tokens WHERE name = ?", (name,)).fetchone():
            raise TokenError(f"a token named {name!r} already exists")
        secret = PREFIX + secrets.token_urlsafe(32)
        info = TokenInfo(
            id=secrets.token_hex(6),
            name=name,
            role=role,
            organisation=organisation,
            created_at=_iso(now or dt.datetime.now(dt.UTC)),
            expires_at=_iso(expires_at) if expires_at else None,
            revoked_at=None,
        )
        self.db.conn.execute(
            "INSERT INTO api_tokens (id, name, role, organisation, token_hash, created_at, expires_at, revoked_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, NULL)",
            (info.id, info.name, info.role, info.organisation, _hash(secret), info.created_at, info.expires_at),
        )
        return secret, info

    def list(self) -> list[TokenInfo]:
        rows = self.db.conn.execute(
            "SELECT id, name, role, organisation, created_at, expires_at, revoked_at FROM api_tokens"
            " ORDER BY created_at, name"
        )
        return [TokenInfo(*row) for row in rows]

    def revoke(self, name_or_id: str, *, now: dt.datetime | None = None) -> bool:
        cursor = self.db.conn.execute(
            "UPDATE api_tokens SET revoked_at = ? WHERE (id = ? OR name = ?) AND revoked_at IS NULL",
            (_iso(now or dt.datetime.now(dt.UTC)), name_or_id, name_or_id),
        )
        return cursor.rowcount > 0

    def authenticate(self, secret: str, *, now: dt.datetime | None = None) -> TokenInfo | None:
        """The live token for a secret, or None (unknown, revoked or expired)."""
        row = self.db.conn.execute(
            "SELECT id, name, role, organisation, created_at, expires_at, revoked_at FROM api_tokens"
            " WHERE token_hash = ?",
            (_hash(secret),),
        ).fetchone()
        if row is None:
            return None
        info = TokenInfo(*row)
        if info.revoked_at is not None:
            return None
        if info.expires_at is not None and info.expires_at <= _iso(now or dt.datetime.now(dt.UTC)):
            return None
        return info
