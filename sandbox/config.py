"""Configuration read from the environment (the service layer's only source of settings)."""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_DB = "registry.db"
DB_ENV = "SANDBOX_REGISTRY_DB"


def default_db_path() -> Path:
    """``$SANDBOX_REGISTRY_DB`` if set, else ``./registry.db``."""
    return Path(os.environ.get(DB_ENV) or DEFAULT_DB)
