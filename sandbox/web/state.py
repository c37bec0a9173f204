"""What the pages keep in the app's state: the sessions table and the rendered pages."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sandbox.web.render import PageCache
from sandbox.web.sessions import Sessions


def open_pages(state: Any, db_path: str | Path) -> None:
    """Open the sessions of the registry at ``db_path`` (over the token table already in
    ``state.tokens``) and an empty page cache."""
    state.web_sessions = Sessions(db_path, state.tokens)
    state.web_pages = PageCache()


def close_pages(state: Any) -> None:
    state.web_sessions.close()
