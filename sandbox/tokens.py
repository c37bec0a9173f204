"""API tokens: random, shown once, stored only as a SHA-256 hash, with a role, an optional
organisation (for applicants) and an optional expiry; listed and revoked.

Tokens are operational secrets, not registry facts, so they live in their own table; every event a
token's holder causes records the holder's id, role and organisation in its metadata.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlite_utils

from sandbox.config import Refused
from schemas.commands import Actor
from schemas.lifecycle import Role

PREFIX = "sbr_"
ROLES = tuple(r.value for r in Role if r is not Role.SYSTEM)


class TokenError(Refused):
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


class AlreadyExpired(TokenError):
    """An expiry that is not in the future: the token would be dead when issued."""


def _name_taken(name: str) -> TokenError:
    return TokenError(f"a token named {name!r} already exists", f"名为 {name!r} 的令牌已存在")


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Tokens:
    """The token table of one registry database.

    The HTTP API opens it with :meth:`open`: a connection of its own, so authenticating a request
    never reads inside (or writes into) a transaction another thread has open on the event
    store's connection. Every statement runs under one lock, so the object is thread-safe.
    """

    def __init__(self, db: sqlite_utils.Database, *, clock: Callable[[], dt.datetime] = _utc_now) -> None:
        self.db = db
        self.clock = clock
        self._lock = threading.Lock()
        with self._lock:
            self.db.conn.execute(
                """CREATE TABLE IF NOT EXISTS api_tokens (
                    id TEXT PRIMARY KEY, name TEXT NOT NULL, role TEXT NOT NULL, organisation TEXT,
                    token_hash TEXT NOT NULL UNIQUE, created_at TEXT NOT NULL, expires_at TEXT, revoked_at TEXT
                ) STRICT"""
            )
            # one live token per name; a revoked name can be issued again (its old row stays)
            self.db.conn.execute(
                "CREATE UNIQUE INDEX IF NOT EXISTS api_tokens_live_name ON api_tokens(name) WHERE revoked_at IS NULL"
            )

    @classmethod
    def open(cls, path: str | Path, *, clock: Callable[[], dt.datetime] = _utc_now) -> Tokens:
        """The token table of the database at ``path``, over a connection of its own."""
        conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False, timeout=30.0)
        conn.execute("PRAGMA busy_timeout = 30000")
        return cls(sqlite_utils.Database(conn), clock=clock)

    def close(self) -> None:
        with self._lock:
            self.db.conn.close()

    def _fetch(self, sql: str, params: tuple[object, ...] = ()) -> list[Any]:
        with self._lock:
            rows: list[Any] = self.db.conn.execute(sql, params).fetchall()
            return rows

    def _write(self, sql: str, params: tuple[object, ...]) -> int:
        with self._lock:
            count: int = self.db.conn.execute(sql, params).rowcount
            return count

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
            roles = ", ".join(ROLES)
            raise TokenError(f"unknown role {role!r}; choose one of {roles}", f"没有角色 {role!r}；可选：{roles}")
        if role == Role.APPLICANT and not organisation:
            raise TokenError(
                "an applicant token needs --org (the organisation it acts for)",
                "申请人令牌须给出 --org（其代表的机构）",
            )
        if not name.strip():
            raise TokenError("a token needs a name", "令牌须有名称")
        issued = now or self.clock()
        if expires_at is not None and expires_at <= issued:
            raise AlreadyExpired(
                f"the expiry {_iso(expires_at)} is not after now ({_iso(issued)}): the token would never work",
                f"到期时间 {_iso(expires_at)} 不晚于现在（{_iso(issued)}）：该令牌将无法使用",
            )
        if self._fetch("SELECT 1 FROM api_tokens WHERE name = ? AND revoked_at IS NULL", (name,)):
            raise _name_taken(name)
        secret = PREFIX + secrets.token_urlsafe(32)
        info = TokenInfo(
            id=secrets.token_hex(6),
            name=name,
            role=role,
            organisation=organisation,
            created_at=_iso(issued),
            expires_at=_iso(expires_at) if expires_at else None,
            revoked_at=None,
        )
        try:
            self._write(
                "INSERT INTO api_tokens (id, name, role, organisation, token_hash, created_at, expires_at, revoked_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, NULL)",
                (info.id, info.name, info.role, info.organisation, _hash(secret), info.created_at, info.expires_at),
            )
        except sqlite3.IntegrityError as e:  # another process created the same name meanwhile
            raise _name_taken(name) from e
        return secret, info

    def list(self) -> list[TokenInfo]:
        rows = self._fetch(
            "SELECT id, name, role, organisation, created_at, expires_at, revoked_at FROM api_tokens"
            " ORDER BY created_at, name"
        )
        return [TokenInfo(*row) for row in rows]

    def revoke(self, name_or_id: str, *, now: dt.datetime | None = None) -> bool:
        changed = self._write(
            "UPDATE api_tokens SET revoked_at = ? WHERE (id = ? OR name = ?) AND revoked_at IS NULL",
            (_iso(now or self.clock()), name_or_id, name_or_id),
        )
        return changed > 0

    def authenticate(self, secret: str, *, now: dt.datetime | None = None) -> TokenInfo | None:
        """The live token for a secret, or None (unknown, revoked or expired)."""
        return self._live("token_hash", _hash(secret), now)

    def live(self, token_id: str, *, now: dt.datetime | None = None) -> TokenInfo | None:
        """The token with this id if it is still live (a browser session holds the id, never the
        secret, and asks on every request: a revoked or expired token ends its sessions at once)."""
        return self._live("id", token_id, now)

    def _live(self, column: str, value: str, now: dt.datetime | None) -> TokenInfo | None:
        rows = self._fetch(
            "SELECT id, name, role, organisation, created_at, expires_at, revoked_at FROM api_tokens"
            f" WHERE {column} = ?",
            (value,),
        )
        if not rows:
            return None
        info = TokenInfo(*rows[0])
        if info.revoked_at is not None:
            return None
        if info.expires_at is not None and info.expires_at <= _iso(now or self.clock()):
            return None
        return info
