"""Bearer-token authentication and role guards for the HTTP API.

``Authorization: Bearer <token>``: :class:`TokenAuthentication` (the API router's middleware)
reads the token once per request and puts its actor in ``connection.user``; the guards then
decide, before anything of the request is read: a missing or bad token is a 401, a role that
may not use a route a 403. The actor recorded in every event comes from the token, never from
the request body, so clients cannot forge who acted.

A bad token on a public route is ignored (the route needs none); the public's commands
(``comment``, ``object``) take a token if one is given, and refuse a bad one
(:func:`token_if_given`).

The guards are coroutines: litestar runs a plain function guard in a worker thread, a hop to
the thread pool and back for every request, where these only look at ``connection.user``.

The pages are signed in with a session cookie instead (:class:`SessionAuthentication`, the pages'
router's middleware), which puts the same two things in the connection: the actor of the
session's token and the token's id. Both middlewares find the token and session tables in the
app's state: litestar runs a middleware before it injects any dependency (as its own session
middleware finds its store on the app), and the tables are reopened with the app, so they cannot
be handed over when the middleware is declared. Everything after them (guards, handlers, pages)
reads ``connection.user`` or asks for its services by name (``sandbox.api.dependencies``).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Coroutine
from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult

from sandbox.tokens import Tokens
from sandbox.web.sessions import COOKIE, Sessions
from schemas.commands import Actor

ANONYMOUS_PUBLIC = Actor(id="anonymous", role="public")
REGULATORS = frozenset({"case_officer", "assessor", "approver"})
READERS = REGULATORS | {"auditor"}

BEARER: dict[str, list[str]] = {"bearer": []}
SECURITY = [BEARER]
PUBLIC_SECURITY: list[dict[str, list[str]]] = [{}]

Connection = ASGIConnection[Any, Actor | None, str | None, Any]
Guard = Callable[[Connection, BaseRouteHandler], Coroutine[Any, Any, None]]


def _authorization(connection: Connection) -> str | None:
    """The first ``Authorization`` header, read from the raw ASGI headers (whose names are lower
    case): building the request's header map for it cost a read about 3 % of its CPU time."""
    for name, value in connection.scope["headers"]:
        if name == b"authorization":
            return bytes(value).decode("latin-1")
    return None


def authenticate(tokens: Tokens, header: str | None) -> AuthenticationResult:
    """The actor of an ``Authorization`` header (``user``) and its token's id (``auth``), or None
    with why it was refused (``auth``; None when no header was given)."""
    if not header:
        return AuthenticationResult(user=None, auth=None)
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return AuthenticationResult(user=None, auth="the Authorization header must be 'Bearer <token>'")
    info = tokens.authenticate(value.strip())
    if info is None:
        return AuthenticationResult(user=None, auth="the token is unknown, revoked or expired")
    return AuthenticationResult(user=info.actor, auth=info.id)  # (the token's random id: see command_id)


class TokenAuthentication(AbstractAuthenticationMiddleware):
    """Every request's actor from its bearer token (``connection.user``) and the token's id
    (``connection.auth``); without a valid token ``user`` is None and ``auth`` says why a token
    given was refused. It refuses nothing
    itself: the guards do, so that public routes need no token."""

    async def authenticate_request(self, connection: ASGIConnection[Any, Any, Any, Any]) -> AuthenticationResult:
        tokens: Tokens = connection.app.state.tokens
        return authenticate(tokens, _authorization(connection))


def session_of(connection: ASGIConnection[Any, Any, Any, Any]) -> AuthenticationResult:
    """The actor of the connection's session cookie (``user``) and its token's id (``auth``), or
    None for both without a live session. What :class:`SessionAuthentication` puts in the
    connection; an error page of a path no route has (which no router's middleware saw) asks it
    directly."""
    sessions: Sessions = connection.app.state.web_sessions
    info = sessions.resolve(connection.cookies.get(COOKIE))
    return AuthenticationResult(user=info.actor if info else None, auth=info.id if info else None)


class SessionAuthentication(AbstractAuthenticationMiddleware):
    """Every page request's actor from its session (``connection.user``, None when signed out)
    and its token's id (``connection.auth``). It refuses nothing itself: the pages' guards do."""

    async def authenticate_request(self, connection: ASGIConnection[Any, Any, Any, Any]) -> AuthenticationResult:
        return session_of(connection)


def preflight(connection: Connection) -> bool:
    """An ``OPTIONS`` request: it carries no credential (a browser's CORS preflight), is answered
    with the methods allowed and nothing else, and the authentication middlewares leave it alone
    (litestar's default), so the guards let it through rather than read a user it has not got."""
    return connection.scope.get("method") == "OPTIONS"


async def signed_in(connection: Connection, _: BaseRouteHandler) -> None:
    """401 unless the request carries a valid token."""
    if preflight(connection):
        return
    if connection.user is None:
        raise NotAuthorizedException(connection.auth or "a bearer token is required")


async def token_if_given(connection: Connection, _: BaseRouteHandler) -> None:
    """401 for a token that was given and refused; no token is the anonymous public."""
    if preflight(connection):
        return
    if connection.user is None and connection.auth is not None:
        raise NotAuthorizedException(connection.auth)


def role_in(roles: Collection[str]) -> Guard:
    """A guard: 401 without a valid token, 403 for a role not in ``roles``."""

    async def guard(connection: Connection, handler: BaseRouteHandler) -> None:
        if preflight(connection):
            return
        await signed_in(connection, handler)
        role = connection.user.role if connection.user is not None else ""
        if role not in roles:
            raise PermissionDeniedException(f"role '{role}' may not use this resource")

    guard.__name__ = f"role_in({', '.join(sorted(roles))})"
    return guard


def credential_of(connection: Connection) -> str | None:
    """The id of the request's valid token (random, never shown to other readers), else None."""
    return connection.auth if connection.user is not None else None


def actor_of(connection: Connection) -> Actor:
    """The request's actor: its token's, else the anonymous public (a guard has already refused
    a request that needs a token and has none)."""
    return connection.user or ANONYMOUS_PUBLIC
