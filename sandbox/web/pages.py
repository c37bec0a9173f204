"""What every page shares: who is signed in, the language, rendering, and the error pages.

A page handler is as thin as an API handler: its controller's guard (:func:`page_for`) lets
through the roles that may open it (the sign-in page for nobody signed in), it gets the
signed-in actor and the services it uses as named dependencies (``actor``, ``credential``,
``services``, see ``sandbox.api.dependencies``), calls the same service function as the API's
route, and renders what comes back with :func:`page`. A refusal becomes the same problem the API
would answer (one mapping, ``sandbox.api.problems.HANDLERS``), shown beside the form field it
names.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Hashable
from typing import Any

import msgspec
from litestar import Request, Response
from litestar.enums import MediaType
from litestar.exceptions import PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.response import Redirect
from litestar.utils.scope.state import ScopeState

from sandbox.api.auth import Connection, Guard, preflight, session_of
from sandbox.api.dependencies import PageServices
from sandbox.api.problems import HANDLERS, Problem, invalid_input, problem
from sandbox.service import Registry
from sandbox.web import i18n
from sandbox.web.render import personalise, render
from schemas.commands import Actor
from schemas.validation import Violation


class FormInvalid(Exception):
    """A posted form whose fields do not convert to the command: the API's 400 for such a body."""

    def __init__(self, errors: list[Violation]) -> None:
        self.errors = errors
        super().__init__(f"{len(errors)} invalid fields")


class SignInRequired(Exception):
    """A signed-in page opened without a live session: the answer is the sign-in form."""


def viewer(request: Request[Any, Any, Any]) -> tuple[Actor | None, str | None]:
    """Who is signed in (None when nobody is) and their token's id: what the pages' session
    middleware put in the connection, or, for an error page of a path no route has (no router's
    middleware saw it), the session looked up now."""
    if "user" in request.scope:
        return request.scope["user"], request.scope.get("auth")
    found = session_of(request)
    return found.user, found.auth


def page_for(roles: Collection[str]) -> Guard:
    """A page guard: the sign-in page without a live session, the 403 page for a role not in
    ``roles``."""

    async def guard(connection: Connection, _: BaseRouteHandler) -> None:
        if preflight(connection):
            return
        actor = connection.user
        if actor is None:
            raise SignInRequired
        if actor.role not in roles:
            raise PermissionDeniedException(f"the role {i18n.Words('en').role(actor.role)} may not open this page")

    guard.__name__ = f"page_for({', '.join(sorted(roles))})"
    return guard


def lang_of(request: Request[Any, Any, Any]) -> i18n.Lang:
    return i18n.lang_of(request.query_params.get("lang"), request.cookies.get(i18n.COOKIE))


def page(
    request: Request[Any, Any, Any],
    services: PageServices | None,
    template: str,
    status: int = 200,
    *,
    cache: tuple[Hashable, object] | None = None,
    build: Callable[[], dict[str, Any]] | None = None,
    **context: Any,
) -> Response[str]:
    """A page in the request's language, with the signed-in user, if any. ``?lang=`` is
    remembered in a cookie. ``services`` name the programs (an error page, which gets no
    services, names none).

    With ``cache=(key, stamp)`` the rendered page is kept (see ``sandbox.web.render``) under the
    key, the reader, the language and the path, and used again while the stamp is unchanged;
    ``build`` then gives the context, called only when the page must be rendered."""
    lang = lang_of(request)
    user, token_id = viewer(request)
    kept = services.pages if services is not None and cache is not None else None
    full_key = (template, lang, token_id if user else None, request.url.path, cache[0]) if cache else None
    rendered = kept.get(full_key, cache[1]) if kept is not None and cache is not None else None
    if rendered is None:
        words = i18n.Words(lang, program_names(services.registry) if services is not None else None)
        values = {**(build() if build else {}), **context}
        base = {"t": words, "lang": lang, "user": user, "path": request.url.path}
        rendered = render(template, {**base, **values})
        if kept is not None and cache is not None:
            kept.put(full_key, cache[1], rendered)
    csrf = ScopeState.from_scope(request.scope).csrf_token
    response = Response(
        personalise(rendered, csrf if isinstance(csrf, str) else ""), status_code=status, media_type=MediaType.HTML
    )
    if request.query_params.get("lang") in i18n.LANGS:
        response.set_cookie(i18n.COOKIE, lang, max_age=365 * 86400, httponly=True, samesite="lax", path="/")
    return response


def program_names(registry: Registry) -> dict[str, tuple[str, str]]:
    """Each program's names (of its latest version), by key."""
    names = {}
    for key in registry.program_keys():
        latest = registry.program_versions(key)[-1]
        names[key] = (latest.name_zh, latest.name_en)
    return names


def problem_of(request: Request[Any, Any, Any], exc: Exception) -> Problem:
    """The problem document the API answers for this error (the same codes and bilingual text)."""
    if isinstance(exc, FormInvalid):
        return invalid_input(exc.errors).content
    for kind in type(exc).__mro__:
        handler = HANDLERS.get(kind)
        if handler is not None:
            response: Response[Problem] = handler(request, exc)
            return response.content
    raise exc


def problem_dict(problem: Problem) -> dict[str, Any]:
    found: dict[str, Any] = msgspec.to_builtins(problem)
    return found


def refused(
    request: Request[Any, Any, Any], exc: Exception, *, passing: tuple[int, ...] = (403, 404)
) -> dict[str, Any]:
    """A form's command refused, as its page shows the refusal beside the form: the API's problem
    document for ``exc`` (:func:`problem_of`). One of the ``passing`` statuses (a page its user
    may not see, or that does not exist) is raised on, for the error page."""
    found = problem_of(request, exc)
    if found.status in passing:
        raise exc
    return problem_dict(found)


def on_sign_in(request: Request[Any, Any, Any], _: SignInRequired) -> Response[Any]:
    back = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return Redirect(path=f"/login?next={back}" if request.method == "GET" else "/login", status_code=303)


#: What litestar's CSRF middleware says when a form's token is missing or wrong.
CSRF_REFUSED = "CSRF token verification failed"
CSRF_PROBLEM = problem(
    403,
    "csrf_failed",
    "表单缺少有效的防跨站令牌（CSRF），未做任何更改；请重新打开页面后提交",
    "the form's CSRF token is missing or wrong, so nothing was changed; reload the page and send it again",
).content

_TITLES = {401: "sign_in", 403: "forbidden", 404: "not_found", 405: "method_not_allowed"}


def on_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """An error page in the request's language, with the API's problem (code, Chinese and English)."""
    if isinstance(exc, PermissionDeniedException) and exc.detail == CSRF_REFUSED:
        found, key = CSRF_PROBLEM, "csrf_failed"
    else:
        found = problem_of(request, exc)
        key = _TITLES.get(found.status, "error")
    return page(request, None, "error.html", status=found.status, problem=problem_dict(found), heading=key)


#: The web's handlers: for every error the API maps (the most specific handler of the closest
#: layer wins, so each of the API's keys is taken over), an HTML page instead of JSON.
WEB_HANDLERS: dict[type[Exception] | int, Any] = {kind: on_error for kind in HANDLERS} | {
    SignInRequired: on_sign_in,
    FormInvalid: on_error,
}


#: Paths that always answer problem documents, whatever the client accepts.
API_PATHS = ("/api/", "/schema")


def wants_page(request: Request[Any, Any, Any]) -> bool:
    """A browser's request outside the API: it accepts HTML (``Accept: text/html``, as every
    browser's navigation sends), so its error is a page rather than a problem document."""
    path = request.url.path
    if path == "/api" or path.startswith(API_PATHS):
        return False
    return "text/html" in request.headers.get("accept", "")


def for_browsers(handlers: dict[type[Exception] | int, Any]) -> dict[type[Exception] | int, Any]:
    """The app's own error handlers (an unknown path, a method a path does not take), each
    answering a browser with the error page and anything else as before (problem JSON)."""

    def either(api: Any) -> Any:
        def handle(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
            return on_error(request, exc) if wants_page(request) else api(request, exc)

        handle.__doc__ = api.__doc__
        return handle

    return {kind: either(handler) for kind, handler in handlers.items()}
