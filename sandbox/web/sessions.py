"""Server-side browser sessions: signing in with an API token starts one, signing out ends it.

The cookie holds a random session id; the database keeps only its SHA-256 beside the id of the
token it was started with (never the token's secret). Every request looks the token up again, so
a session ends at once when its token is revoked or expires. The table lives in the registry's
database, so sessions survive a restart and are shared by every process serving it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import sqlite3
import threading
from pathlib import Path

from sandbox.tokens import TokenInfo, Tokens

COOKIE = "sbr_session"


def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


class Sessions:
    """The ``web_sessions`` table of one registry database, over a connection of its own."""

    def __init__(self, path: str | Path, tokens: Tokens) -> None:
        self.tokens = tokens
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False, timeout=30.0)
        self._conn.execute("PRAGMA busy_timeout = 30000")
        self._conn.execute(
            "CREATE TABLE IF NOT EXISTS web_sessions ("
            " id_hash TEXT PRIMARY KEY, token_id TEXT NOT NULL, started_at TEXT NOT NULL) STRICT"
        )

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def start(self, token: TokenInfo, now: dt.datetime) -> str:
        """A new session for a live token; returns the id for the cookie."""
        session_id = secrets.token_urlsafe(32)
        with self._lock:
            self._conn.execute(
                "INSERT INTO web_sessions (id_hash, token_id, started_at) VALUES (?, ?, ?)",
                (_hash(session_id), token.id, now.astimezone(dt.UTC).isoformat()),
            )
        return session_id

    def resolve(self, session_id: str | None) -> TokenInfo | None:
        """The live token behind a session id, or None (no such session, or its token was
        revoked or has expired: then the session is ended too)."""
        if not session_id:
            return None
        key = _hash(session_id)
        with self._lock:
            row = self._conn.execute("SELECT token_id FROM web_sessions WHERE id_hash = ?", (key,)).fetchone()
        if row is None:
            return None
        info = self.tokens.live(row[0])
        if info is None:
            self.end(session_id)
        return info

    def end(self, session_id: str | None) -> None:
        if not session_id:
            return
        with self._lock:
            self._conn.execute("DELETE FROM web_sessions WHERE id_hash = ?", (_hash(session_id),))
