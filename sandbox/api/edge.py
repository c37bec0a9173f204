"""What every HTTP exchange passes through, before routing and after its answer is written.

:class:`Edge` wraps the whole application (so a 404 for an unknown path, a static file and an
error page are covered too):

- ``HEAD`` is answered as the ``GET`` of the same path would be, with its headers and without
  its body (an event stream ends after its headers);
- every response carries ``X-Content-Type-Options: nosniff`` and ``Referrer-Policy:
  no-referrer``; a private one (under ``/api/``, or to a request carrying a token or a cookie)
  ``Cache-Control: no-store``; an HTML page a ``Content-Security-Policy`` that lets it run only
  the registry's own scripts and styles and be framed by no one (see :data:`CSP`);
- with ``access_log``, one JSON line per request on the ``sandbox.access`` logger: the time, the
  method, the route's path template (never the path as sent: it may carry anything), the status,
  the duration and the actor's id or ``anonymous``. Never a token, a body, a query or an address.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Iterable
from typing import Any

import msgspec

ACCESS = logging.getLogger("sandbox.access")

#: The policy of every HTML page: its scripts, styles, images and fonts from the registry itself
#: (no inline script or style, nothing from elsewhere), forms posted only to it, never framed.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)

EVERY: tuple[tuple[bytes, bytes], ...] = ((b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer"))
HTML: tuple[tuple[bytes, bytes], ...] = ((b"content-security-policy", CSP.encode()), (b"x-frame-options", b"DENY"))
NO_STORE = (b"cache-control", b"no-store")
CREDENTIALS = frozenset({b"authorization", b"cookie"})

def private(scope: Scope) -> bool:
    """Whether an answer is for one reader only: the API's (which answers per token, and changes
    with every command), or any answer to a request that carries a credential."""
    return scope["path"].startswith("/api/") or any(name in CREDENTIALS for name, _ in scope["headers"])


def secured(scope: Scope, headers: Iterable[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """A response's headers with the ones every answer carries (set, not added twice)."""
    out = [(k, v) for k, v in headers if k.lower() not in _SET]
    out += EVERY
    content_type = next((v for k, v in out if k.lower() == b"content-type"), b"")
    if content_type.lower().startswith(b"text/html"):
        out += HTML
    if private(scope):
        out = [(k, v) for k, v in out if k.lower() != b"cache-control"]
        out.append(NO_STORE)
    return out


_SET = frozenset(k for k, _ in (*EVERY, *HTML))

#: ASGI's shapes, as plain as the server hands them over (litestar's typed dicts tell HTTP from
#: websocket scopes, which this module does by looking).
Scope = Any
Message = Any
Receive = Any
Send = Any
ASGIApp = Any


class AccessLine(msgspec.Struct, kw_only=True):
    """One line of the access log."""

    time: str
    method: str
    path: str
    status: int
    duration_ms: float
    actor: str


_encode = msgspec.json.Encoder().encode


class Edge:
    """The ASGI application around the registry's (see the module's docstring)."""

    def __init__(self, app: ASGIApp, *, access_log: bool = False) -> None:
        self.app = app
        self.access_log = access_log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method = scope["method"]
        head = method == "HEAD"
        if head:
            scope["method"] = "GET"
        status, ended, started = 0, False, time.perf_counter()

        async def sending(message: Message) -> None:
            nonlocal status, ended
            if ended:
                return  # (a HEAD whose GET goes on streaming)
            if message["type"] == "http.response.start":
                status = message["status"]
                message = {**message, "headers": secured(scope, message.get("headers", ()))}
            elif head and message["type"] == "http.response.body":
                message, ended = {"type": "http.response.body", "body": b"", "more_body": False}, True
            await send(message)

        async def receiving() -> Message:
            if ended:
                return {"type": "http.disconnect"}
            return await receive()

        try:
            await self.app(scope, receiving if head else receive, sending)
        finally:
            if self.access_log:
                self._log(scope, method, status, started)

    def _log(self, scope: Scope, method: str, status: int, started: float) -> None:
        user: Any = scope.get("user")  # (the actor the API's token middleware found)
        line = AccessLine(
            time=dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds"),
            method=method,
            path=scope.get("path_template") or "(no route)",
            status=status,
            duration_ms=round((time.perf_counter() - started) * 1000, 3),
            actor=str(getattr(user, "id", None) or "anonymous"),
        )
        ACCESS.info(_encode(line).decode())
