"""Users and their API tokens.

A user is a person: an id, a display name, an organisation and the roles granted to them. A
token is random, shown once, stored only as a SHA-256 hash, and acts in one role (of its user's,
when it belongs to one) with an optional expiry; tokens are listed and revoked.

Every event a token's holder causes records the holder's person (the user id; a token created
without ``--user``, as every token before users existed, is a user of its own, named by the
token's name), role and organisation in its metadata. Four eyes and "two distinct approvers"
compare those ids, so one person holding an officer's and an approver's token is still one
person. Users and tokens are operational records, not registry facts, so they live in their own
tables.
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
    #: The person the token belongs to (None: the token is a user of its own, its name).
    user_id: str | None = None

    @property
    def actor(self) -> Actor:
        """The person acting: the token's user, or the token's name where it has none."""
        return Actor(id=self.user_id or self.name, role=self.role, organisation=self.organisation)


@dataclass(frozen=True, slots=True)
class UserInfo:
    """A person: the roles granted to them and the organisation they act for (applicants)."""

    id: str
    display_name: str
    organisation: str | None
    roles: tuple[str, ...]
    created_at: str


_TOKEN_COLUMNS = "id, name, role, organisation, created_at, expires_at, revoked_at, user_id"


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
            self.db.conn.execute(
                """CREATE TABLE IF NOT EXISTS users (
                    id TEXT PRIMARY KEY, display_name TEXT NOT NULL, organisation TEXT, roles TEXT NOT NULL,
                    created_at TEXT NOT NULL
                ) STRICT"""
            )
            columns = {row[1] for row in self.db.conn.execute("PRAGMA table_info(api_tokens)")}
            if "user_id" not in columns:  # (a table of tokens issued before users existed)
                try:
                    self.db.conn.execute("ALTER TABLE api_tokens ADD COLUMN user_id TEXT")
                except sqlite3.OperationalError as e:  # another process added it meanwhile
                    if "duplicate column" not in str(e):
                        raise

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

    # -- users ------------------------------------------------------------------------------------

    def add_user(
        self,
        *,
        user_id: str,
        display_name: str,
        roles: tuple[str, ...],
        organisation: str | None = None,
        now: dt.datetime | None = None,
    ) -> UserInfo:
        """Record a person and the roles granted to them."""
        unknown = [r for r in roles if r not in ROLES]
        if unknown or not roles:
            choices = ", ".join(ROLES)
            raise TokenError(
                f"a user needs one or more roles of {choices} (unknown: {', '.join(unknown) or 'none given'})",
                f"用户须被授予以下角色之一或多个：{choices}（无效：{'、'.join(unknown) or '未给出'}）",
            )
        if Role.APPLICANT in roles and not organisation:
            raise TokenError(
                "a user with the applicant role needs --org (the organisation they act for)",
                "具有申请人角色的用户须给出 --org（其代表的机构）",
            )
        if not user_id.strip() or not display_name.strip():
            raise TokenError("a user needs an id and a display name", "用户须有标识和显示名称")
        info = UserInfo(
            id=user_id,
            display_name=display_name,
            organisation=organisation,
            roles=tuple(dict.fromkeys(roles)),
            created_at=_iso(now or self.clock()),
        )
        try:
            self._write(
                "INSERT INTO users (id, display_name, organisation, roles, created_at) VALUES (?, ?, ?, ?, ?)",
                (info.id, info.display_name, info.organisation, ",".join(info.roles), info.created_at),
            )
        except sqlite3.IntegrityError as e:
            raise TokenError(f"a user {user_id!r} already exists", f"用户 {user_id!r} 已存在") from e
        return info

    def user(self, user_id: str) -> UserInfo | None:
        rows = self._fetch(
            "SELECT id, display_name, organisation, roles, created_at FROM users WHERE id = ?", (user_id,)
        )
        return _user(rows[0]) if rows else None

    def users(self) -> list[UserInfo]:
        rows = self._fetch("SELECT id, display_name, organisation, roles, created_at FROM users ORDER BY id")
        return [_user(row) for row in rows]

    # -- tokens -----------------------------------------------------------------------------------

    def create(
        self,
        *,
        name: str | None = None,
        role: str,
        organisation: str | None = None,
        user: str | None = None,
        expires_at: dt.datetime | None = None,
        now: dt.datetime | None = None,
    ) -> tuple[str, TokenInfo]:
        """Create a token; returns the secret (shown once) and its record. With ``user`` the
        token belongs to that person: ``role`` must be one granted to them, it acts for their
        organisation, and its name defaults to ``<user>.<role>``."""
        if user is not None:
            person = self.user(user)
            if person is None:
                raise TokenError(
                    f"no user {user!r}: add it with `user add`", f"没有用户 {user!r}：请先用 `user add` 添加"
                )
            if role not in person.roles:
                granted = ", ".join(person.roles)
                raise TokenError(
                    f"user {user!r} has not been granted the role {role!r} (granted: {granted})",
                    f"用户 {user!r} 未被授予角色 {role!r}（已授予：{granted}）",
                )
            if organisation is not None and organisation != person.organisation:
                raise TokenError(
                    f"user {user!r} acts for {person.organisation or 'no organisation'}, not {organisation!r}",
                    f"用户 {user!r} 代表 {person.organisation or '（无机构）'}，而非 {organisation!r}",
                )
            organisation = person.organisation if role == Role.APPLICANT else None
            name = name or f"{user}.{role}"
        if name is None:
            raise TokenError("a token needs a name (or --user)", "令牌须有名称（或给出 --user）")
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
            user_id=user,
        )
        try:
            self._write(
                "INSERT INTO api_tokens (id, name, role, organisation, token_hash, created_at, expires_at, revoked_at,"
                " user_id) VALUES (?, ?, ?, ?, ?, ?, ?, NULL, ?)",
                (
                    info.id,
                    info.name,
                    info.role,
                    info.organisation,
                    _hash(secret),
                    info.created_at,
                    info.expires_at,
                    info.user_id,
                ),
            )
        except sqlite3.IntegrityError as e:  # another process created the same name meanwhile
            raise _name_taken(name) from e
        return secret, info

    def list(self) -> list[TokenInfo]:
        rows = self._fetch(f"SELECT {_TOKEN_COLUMNS} FROM api_tokens ORDER BY created_at, name")
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
        rows = self._fetch(f"SELECT {_TOKEN_COLUMNS} FROM api_tokens WHERE {column} = ?", (value,))
        if not rows:
            return None
        info = TokenInfo(*rows[0])
        if info.revoked_at is not None:
            return None
        if info.expires_at is not None and info.expires_at <= _iso(now or self.clock()):
            return None
        return info


def _user(row: Any) -> UserInfo:
    user_id, display_name, organisation, roles, created_at = row
    return UserInfo(user_id, display_name, organisation, tuple(roles.split(",")), created_at)
