"""The registry's pages: server-rendered HTML for the public, applicants, regulators and auditors.

Everything the pages need is under one router at ``/``: the controllers, who is signed in (the
session cookie's actor, ``sandbox.api.auth.SessionAuthentication``), their error pages,
CSRF protection for every form (the JSON API under ``/api/v1`` is outside it: bearer tokens carry
no ambient credential), the templates and the vendored static files (htmx, the stylesheet), served
from the package, never from a CDN.
"""

from __future__ import annotations

import secrets
from pathlib import Path

from litestar import Router
from litestar.config.csrf import CSRFConfig
from litestar.middleware.base import DefineMiddleware
from litestar.middleware.csrf import CSRFMiddleware
from litestar.static_files import create_static_files_router

from sandbox.api.auth import SessionAuthentication
from sandbox.web.controllers.drafts import DraftController
from sandbox.web.controllers.oversight import AuditPageController, DashboardController
from sandbox.web.controllers.projects import ProjectPageController
from sandbox.web.controllers.public import RegisterController
from sandbox.web.controllers.session import SessionController
from sandbox.web.controllers.work import MyProjectsController, QueuePageController
from sandbox.web.pages import WEB_HANDLERS

HERE = Path(__file__).parent
STATIC_PATH = "/static/web"


def web_router(csrf_secret: str | None = None) -> Router:
    """The pages, each form protected by a CSRF token (``_csrf_token``, checked against the
    ``csrftoken`` cookie: a POST without it is refused with 403 and changes nothing)."""
    csrf = CSRFConfig(secret=csrf_secret or secrets.token_urlsafe(32), cookie_samesite="strict")
    return Router(
        path="/",
        route_handlers=[
            RegisterController,
            SessionController,
            MyProjectsController,
            QueuePageController,
            ProjectPageController,
            DraftController,
            DashboardController,
            AuditPageController,
        ],
        middleware=[DefineMiddleware(SessionAuthentication), DefineMiddleware(CSRFMiddleware, config=csrf)],
        exception_handlers=WEB_HANDLERS,
        include_in_schema=False,
    )


def static_router() -> Router:
    return create_static_files_router(path=STATIC_PATH, directories=[HERE / "static"], include_in_schema=False)
