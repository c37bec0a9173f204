"""Configuration read from the environment (the service layer's only source of settings)."""

from __future__ import annotations

import os
from pathlib import Path


class Refused(ValueError):
    """A request the service layer cannot honour, said in English (``str``) and in Chinese
    (``message_zh``), for the CLI to print both."""

    def __init__(self, message: str, message_zh: str) -> None:
        super().__init__(message)
        self.message_zh = message_zh


DEFAULT_DB = "registry.db"
DB_ENV = "SANDBOX_REGISTRY_DB"


def default_db_path() -> Path:
    """``$SANDBOX_REGISTRY_DB`` if set, else ``./registry.db``."""
    return Path(os.environ.get(DB_ENV) or DEFAULT_DB)


TICK_ENV = "SANDBOX_REGISTRY_TICK_SECONDS"
#: Timers are counted in days; once a minute is soon enough to see a notice close on the day.
DEFAULT_TICK_SECONDS = 60.0


def default_tick_seconds() -> float:
    """``$SANDBOX_REGISTRY_TICK_SECONDS`` if set (0 turns the server's timer off), else 60."""
    text = os.environ.get(TICK_ENV)
    if not text:
        return DEFAULT_TICK_SECONDS
    try:
        value = float(text)
    except ValueError as e:
        raise Refused(
            f"${TICK_ENV} must be a number of seconds, not {text!r}", f"${TICK_ENV} 须为秒数，而不是 {text!r}"
        ) from e
    if value < 0:
        raise Refused(
            f"${TICK_ENV} must be 0 or more seconds, not {text!r}", f"${TICK_ENV} 须为 0 或更多秒，而不是 {text!r}"
        )
    return value
