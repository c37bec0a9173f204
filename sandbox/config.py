"""Configuration read from the environment (the service layer's only source of settings)."""

from __future__ import annotations

import os
from dataclasses import dataclass
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


# -- the HTTP server's protections ------------------------------------------------------------

ORIGINS_ENV = "SANDBOX_REGISTRY_ALLOWED_ORIGINS"
ACCESS_LOG_ENV = "SANDBOX_REGISTRY_ACCESS_LOG"
ANON_PER_ADDRESS_ENV = "SANDBOX_REGISTRY_ANON_WRITES_PER_ADDRESS"
ANON_PER_PROJECT_ENV = "SANDBOX_REGISTRY_ANON_WRITES_PER_PROJECT"
STREAMS_PER_TOKEN_ENV = "SANDBOX_REGISTRY_STREAMS_PER_TOKEN"
SECURITY_CONTACT_ENV = "SANDBOX_REGISTRY_SECURITY_CONTACT"


@dataclass(frozen=True, slots=True)
class HttpSettings:
    """What the HTTP server allows, read once when it starts.

    ``allowed_origins``: the origins (``https://registry.example``) besides the server's own from
    which a browser may send a state-changing request; the API and the web pages both use it.
    ``anonymous_writes_per_address`` and ``anonymous_writes_per_project``: how many comments and
    objections without a token one client address, and one project, may file per
    ``anonymous_window_seconds`` (0: no limit). ``streams_per_token``: how many event streams one
    token may hold open at once (0: no limit). ``access_log``: one line per request on the
    ``sandbox.access`` logger. ``security_contacts``: where to report a vulnerability
    (``mailto:`` or ``https:`` addresses), published as ``/.well-known/security.txt`` (RFC 9116);
    none, and the registry publishes no such file.
    """

    allowed_origins: frozenset[str] = frozenset()
    anonymous_writes_per_address: int = 10
    anonymous_writes_per_project: int = 60
    anonymous_window_seconds: float = 60.0
    streams_per_token: int = 4
    access_log: bool = False
    security_contacts: tuple[str, ...] = ()

    @classmethod
    def from_env(cls, *, access_log: bool = True) -> HttpSettings:
        """The settings of ``serve``: each from its environment variable, else its default
        (``access_log`` is the default for ``$SANDBOX_REGISTRY_ACCESS_LOG``)."""
        origins = os.environ.get(ORIGINS_ENV, "")
        return cls(
            allowed_origins=frozenset(origin_of(o) for o in origins.split(",") if o.strip()),
            anonymous_writes_per_address=_count(ANON_PER_ADDRESS_ENV, DEFAULT.anonymous_writes_per_address),
            anonymous_writes_per_project=_count(ANON_PER_PROJECT_ENV, DEFAULT.anonymous_writes_per_project),
            streams_per_token=_count(STREAMS_PER_TOKEN_ENV, DEFAULT.streams_per_token),
            access_log=_switch(ACCESS_LOG_ENV, access_log),
            security_contacts=tuple(
                contact_of(c) for c in os.environ.get(SECURITY_CONTACT_ENV, "").split(",") if c.strip()
            ),
        )


DEFAULT = HttpSettings()
#: No limits: for tests and benchmarks that drive many writes from one address.
UNLIMITED = HttpSettings(anonymous_writes_per_address=0, anonymous_writes_per_project=0, streams_per_token=0)


def origin_of(text: str) -> str:
    """An origin as browsers send it: ``scheme://host[:port]`` in lower case, no trailing slash."""
    origin = text.strip().rstrip("/").lower()
    scheme, sep, rest = origin.partition("://")
    if not sep or scheme not in ("http", "https") or not rest or "/" in rest:
        raise Refused(
            f"${ORIGINS_ENV}: {text.strip()!r} is not an origin such as https://registry.example",
            f"${ORIGINS_ENV}：{text.strip()!r} 不是形如 https://registry.example 的来源",
        )
    return origin


def contact_of(text: str) -> str:
    """A security contact as RFC 9116 writes it: an ``https:`` or ``mailto:`` address; a bare
    e-mail address becomes a ``mailto:`` one."""
    contact = text.strip()
    if "@" in contact and ":" not in contact and " " not in contact:
        contact = f"mailto:{contact}"
    scheme, _, rest = contact.partition(":")
    if scheme not in ("mailto", "https") or not rest or any(c.isspace() for c in contact):
        raise Refused(
            f"${SECURITY_CONTACT_ENV}: {text.strip()!r} is not an e-mail address or an https: address",
            f"${SECURITY_CONTACT_ENV}：{text.strip()!r} 不是电子邮件地址或 https: 地址",
        )
    return contact


def _count(name: str, default: int) -> int:
    text = os.environ.get(name)
    if not text:
        return default
    if not text.strip().isdigit():
        raise Refused(
            f"${name} must be a whole number (0: no limit), not {text!r}",
            f"${name} 须为整数（0 表示不限），而不是 {text!r}",
        )
    return int(text)


def _switch(name: str, default: bool) -> bool:
    text = (os.environ.get(name) or "").strip().lower()
    if not text:
        return default
    if text in ("1", "on", "true", "yes"):
        return True
    if text in ("0", "off", "false", "no"):
        return False
    raise Refused(f"${name} must be on or off, not {text!r}", f"${name} 须为 on 或 off，而不是 {text!r}")
