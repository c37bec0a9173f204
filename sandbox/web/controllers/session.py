"""Signing in with an API token and out again."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import QueryParameter
from litestar.response import Redirect

from sandbox.tokens import Tokens
from sandbox.web.pages import page
from sandbox.web.sessions import COOKIE, Sessions

#: Where each role lands after signing in.
HOME = {
    "applicant": "/my",
    "case_officer": "/queue",
    "assessor": "/queue",
    "approver": "/queue",
    "auditor": "/audit",
    "public": "/",
}


def _safe_next(target: str | None) -> str | None:
    """A local path to go back to (never another site: ``//evil`` or ``http:`` are dropped)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return None


class SessionController(Controller):
    """The session: open to anyone (signing in is how one gets a role)."""

    @get("/login", sync_to_thread=False)
    def form(
        self, request: Request[Any, Any, Any], next: Annotated[str | None, QueryParameter(max_length=2000)] = None
    ) -> Response[str]:
        return page(request, None, "login.html", next=_safe_next(next) or "")

    @post("/login", status_code=303)
    async def sign_in(
        self, request: Request[Any, Any, Any], tokens: NamedDependency[Tokens], sessions: NamedDependency[Sessions]
    ) -> Any:
        """Start a session for a live token; the form again with a 401 for any other."""
        form = await request.form()
        info = tokens.authenticate(str(form.get("token") or "").strip())
        back = _safe_next(str(form.get("next") or ""))
        if info is None:
            return page(request, None, "login.html", status=401, failed=True, next=back or "")
        session = sessions.start(info, tokens.clock())
        response = Redirect(path=back or HOME.get(info.role, "/"), status_code=303)
        response.set_cookie(
            COOKIE, session, httponly=True, samesite="strict", path="/", secure=request.url.scheme == "https"
        )
        return response

    @post("/logout", status_code=303)
    async def sign_out(self, request: Request[Any, Any, Any], sessions: NamedDependency[Sessions]) -> Redirect:
        sessions.end(request.cookies.get(COOKIE))
        response = Redirect(path="/", status_code=303)
        response.delete_cookie(COOKIE, path="/")
        return response
