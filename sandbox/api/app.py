"""The litestar application over one registry database."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import swagger_ui_bundle
from litestar import Litestar, Request, Router
from litestar.openapi.config import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme, Tag
from litestar.static_files import create_static_files_router

from projections.read_models import ReadModels
from sandbox.api.problems import HANDLERS
from sandbox.api.routes import ROUTES, health
from sandbox.registry import init_registry, open_store
from sandbox.service import Registry
from sandbox.tokens import Tokens

Clock = Callable[[], dt.datetime]
STATIC = "/static/swagger"


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def create_app(
    db_path: str | Path,
    *,
    clock: Clock = _utc_now,
    create: bool = True,
    debug: bool = False,
) -> Litestar:
    """Build the API over the registry database at ``db_path`` (initialised if new)."""
    store = open_store(db_path, create=create, clock=clock)
    init_registry(store, clock=clock)
    read_models = ReadModels(store)
    registry = Registry(store, clock=clock, read_models=read_models)
    registry.install_bundled()
    tokens = Tokens(store.db)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        app.state.appended = asyncio.Condition()
        await asyncio.to_thread(read_models.catch_up)
        try:
            yield
        finally:
            store.close()

    async def after_request(request: Request[Any, Any, Any]) -> None:
        if request.method == "POST":
            condition: asyncio.Condition = request.app.state.appended
            async with condition:
                condition.notify_all()

    openapi = OpenAPIConfig(
        title="Sandbox Registry API",
        version="1.0.0",
        description=(
            "Event-sourced registry for regulatory sandboxes (监管沙盒) and digital-finance pilots. "
            "Authenticate with `Authorization: Bearer <token>` (create tokens with `sandbox-registry token create`)."
        ),
        path="/schema",
        render_plugins=[
            SwaggerRenderPlugin(
                js_url=f"{STATIC}/swagger-ui-bundle.js",
                css_url=f"{STATIC}/swagger-ui.css",
                standalone_preset_js_url=f"{STATIC}/swagger-ui-standalone-preset.js",
                path="/",
                favicon="<link rel='icon' href='data:,'>",
            )
        ],
        components=Components(security_schemes={"bearer": SecurityScheme(type="http", scheme="bearer")}),
        tags=[
            Tag(name="projects", description="applications and their state"),
            Tag(name="commands", description="one route per action of the lifecycle"),
            Tag(name="register", description="the public register and public comments"),
            Tag(name="audit", description="verification, export, decisions and the event feed"),
        ],
    )
    api = Router(path="/api/v1", route_handlers=[r for r in ROUTES if r is not health])
    app = Litestar(
        route_handlers=[
            api,
            health,
            create_static_files_router(path=STATIC, directories=[Path(str(swagger_ui_bundle.swagger_ui_path))]),
        ],
        exception_handlers=HANDLERS,
        openapi_config=openapi,
        lifespan=[lifespan],
        after_response=after_request,
        debug=debug,
    )
    app.state.store = store
    app.state.registry = registry
    app.state.read_models = read_models
    app.state.tokens = tokens
    return app
