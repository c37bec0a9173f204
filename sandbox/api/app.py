"""The litestar application over one registry database."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import gc
import logging
import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import swagger_ui_bundle
from litestar import Litestar, Request, Router
from litestar.datastructures import State
from litestar.middleware import DefineMiddleware
from litestar.static_files import create_static_files_router

from events.errors import StoreError
from projections.read_models import ReadModels
from sandbox.api.auth import TokenAuthentication
from sandbox.api.common import ViewCache
from sandbox.api.controllers import API_CONTROLLERS, HealthController, SecurityTxtController
from sandbox.api.dependencies import DEPENDENCIES
from sandbox.api.edge import ACCESS, Edge
from sandbox.api.in_turn import resolve_in_turn
from sandbox.api.intake import ANONYMOUS_WRITE, check_write
from sandbox.api.limits import Limits
from sandbox.api.openapi import openapi_config
from sandbox.api.problems import HANDLERS, BadInput
from sandbox.config import HttpSettings, Refused
from sandbox.documents import DocumentStore
from sandbox.registry import init_registry, open_store
from sandbox.service import Registry
from sandbox.tokens import Tokens
from sandbox.transparency import ensure_key, keep_on_tick
from sandbox.web.state import close_pages, open_pages
from schemas.errors import DomainError

Clock = Callable[[], dt.datetime]
log = logging.getLogger("sandbox.api")
STATIC = "/static/swagger"
#: The registry's own static files (the documentation page's script and style).
OWN_STATIC = "/static/registry"

#: The cyclic garbage collector's thresholds while serving. CPython's first generation is
#: collected after 700 net allocations of container objects; a command allocates hundreds
#: (a project state folded, its rows, the exit criteria), so with the default the collector ran
#: every few dozen commands and took about 5% of the server's CPU time, measured in process over
#: 3,200 commands. With 10,000 it ran once in those 3,200 commands.
SERVING_GC_THRESHOLD = (10_000, 20, 20)


def reject_null(request: Request[Any, Any, Any]) -> None:
    """litestar reads ``?position=null`` as "no position" for an optional number, date or time; the
    document says such a parameter is a number (or absent), so the word ``null`` is bad input."""
    signature = getattr(request.route_handler, "parsed_fn_signature", None)
    for name, definition in (signature.parameters.items() if signature else ()):
        wire = getattr(definition.kwarg_definition, "name", None) or name
        if request.query_params.get(wire) != "null" or not definition.is_optional:
            continue
        if not any(t.is_subclass_of(str) for t in definition.inner_types if not t.is_none_type):
            rule = "must be a value of its type, or absent (not the word null)"
            raise BadInput(wire, rule, "须为该类型的值或不给出（不能写 null）", "query")


async def tick_once(registry: Registry, every: float) -> None:
    """Record the timers that have come due, then keep a signed checkpoint of the log's head (if
    the registry has a signing key and the head moved). A tick that fails (a full disk, a locked file) is
    logged and tried again at the next beat: the timers stay due, and recording them twice for
    one state is impossible (their command id is the project's version)."""
    try:
        written = await asyncio.to_thread(registry.tick)
        await asyncio.to_thread(keep_on_tick, registry.store)
    except (StoreError, DomainError, sqlite3.Error, Refused) as e:
        log.warning("timer tick failed, will retry in %gs: %s", every, e)
    else:
        if written:
            log.info("recorded %d timer events", written)


async def ticking(registry: Registry, every: float, stop: asyncio.Event, *, first_after: float = 0) -> None:
    """Tick every ``every`` seconds (the first after ``first_after``) until ``stop`` is set; a
    tick in progress when it is set runs to its end."""
    wait = first_after
    while True:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), wait)
        if stop.is_set():
            return
        await tick_once(registry, every)
        wait = every


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _open(state: State, db_path: str | Path, clock: Clock, create: bool) -> None:
    """Open the registry at ``db_path`` into the app's state: the store (initialised, with the
    bundled programs and a checkpoint signing key if new), the read models, the service and the
    token table."""
    store = open_store(db_path, create=create, clock=clock)
    init_registry(store, clock=clock)
    ensure_key(store)
    read_models = ReadModels(store)
    registry = Registry(store, clock=clock, read_models=read_models)
    registry.install_bundled()
    state.store = store
    state.read_models = read_models
    state.registry = registry
    state.tokens = Tokens.open(store.path, clock=clock)
    state.documents = DocumentStore.beside(store.path)
    open_pages(state, store.path)
    state.views = ViewCache()
    state.closed = False


def _close(state: State) -> None:
    close_pages(state)
    state.tokens.close()
    state.store.close()  # the last connection to close checkpoints the WAL into the file
    state.closed = True


def create_app(
    db_path: str | Path,
    *,
    clock: Clock = _utc_now,
    create: bool = True,
    debug: bool = False,
    tick_seconds: float = 0,
    settings: HttpSettings | None = None,
) -> Litestar:
    """Build the API over the registry database at ``db_path`` (initialised if new).

    The database is open as soon as the app exists (``app.state.tokens`` can issue tokens before
    it serves); stopping the app closes it, and starting it again reopens it. With
    ``tick_seconds`` > 0 the app records due timers when it starts and then every so many seconds
    (see :func:`ticking`); the ticker stops before the database closes. ``settings`` (by default
    :class:`HttpSettings`' defaults) set the allowed origins, the limits and the access log.

    Every exchange passes through :class:`Edge` (HEAD, security headers, access log); every
    state-changing request to the API through ``intake.check_write`` (JSON only, no foreign
    origin, no repeated key) and, without a token on a public write, the anonymous limits.
    """
    settings = settings or HttpSettings()

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        if app.state.closed:
            await asyncio.to_thread(_open, app.state, db_path, clock, create)
        app.state.appended = asyncio.Condition()
        await asyncio.to_thread(app.state.read_models.catch_up)
        stop = asyncio.Event()
        ticker = None
        if tick_seconds > 0:
            await tick_once(app.state.registry, tick_seconds)  # what came due while it was down
            ticker = asyncio.create_task(ticking(app.state.registry, tick_seconds, stop, first_after=tick_seconds))
        try:
            yield
        finally:
            stop.set()
            if ticker is not None:
                await ticker  # a tick in progress finishes before the database closes
            _close(app.state)

    async def before_request(request: Request[Any, Any, Any]) -> None:
        """Every query parameter of this API is a single value: a repeated one is bad input, not
        something to pick the first (or last) of silently."""
        params = request.query_params
        for name in params:
            if len(params.getall(name)) > 1:
                raise BadInput(name, "must be given at most once", "最多只能给出一次", "query")
        if "null" in params.values():
            reject_null(request)
        await check_write(request, settings)
        if request.route_handler.opt.get(ANONYMOUS_WRITE) and request.user is None:
            limits: Limits = request.app.state.limits
            client = request.client.host if request.client else "unknown"
            limits.anonymous_write(client, str(request.path_params.get("project_id", "")))

    async def after_request(request: Request[Any, Any, Any]) -> None:
        """Wake the event-stream subscribers after every command."""
        if request.method == "POST":
            condition: asyncio.Condition = request.app.state.appended
            async with condition:
                condition.notify_all()

    # (imported here: the pages' modules import the API's, which import this module)
    from sandbox.web.pages import for_browsers
    from sandbox.web.router import static_router, web_router

    app = Litestar(
        route_handlers=[
            Router(
                path="/api/v1", route_handlers=API_CONTROLLERS, middleware=[DefineMiddleware(TokenAuthentication)]
            ),
            HealthController,
            SecurityTxtController,
            create_static_files_router(path=STATIC, directories=[Path(str(swagger_ui_bundle.swagger_ui_path))]),
            web_router(),
            static_router(),
            create_static_files_router(path=OWN_STATIC, directories=[Path(__file__).parent / "static"]),
        ],
        dependencies=DEPENDENCIES,
        exception_handlers=for_browsers(HANDLERS),  # (an unknown page is an HTML page for a browser)
        openapi_config=openapi_config(STATIC, OWN_STATIC),
        lifespan=[lifespan],
        before_request=before_request,
        after_response=after_request,
        debug=debug,
    )
    _open(app.state, db_path, clock, create)
    app.state.settings = settings
    app.state.limits = Limits(settings)
    app.asgi_handler = Edge(app.asgi_handler, access_log=settings.access_log)
    resolve_in_turn(app)
    return app


def run_server(app: Litestar, host: str, port: int, **options: Any) -> None:
    """Serve ``app`` under uvicorn until it is stopped (``options`` go to ``uvicorn.run``).

    A server process lives long and allocates in every request, so the collector is tuned for
    it: what exists when serving starts (the modules, the app, its open database) is frozen out
    of every collection, and the first generation is collected less often (see
    :data:`SERVING_GC_THRESHOLD`). Both are undone when serving stops."""
    import uvicorn

    if app.state.settings.access_log and not ACCESS.handlers:  # (one JSON line each, on stderr)
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(message)s"))
        ACCESS.addHandler(handler)
        ACCESS.setLevel(logging.INFO)
        ACCESS.propagate = False
    previous = gc.get_threshold()
    gc.collect()
    gc.freeze()
    gc.set_threshold(*SERVING_GC_THRESHOLD)
    try:
        uvicorn.run(app, host=host, port=port, log_level="warning", **options)
    finally:
        gc.set_threshold(*previous)
        gc.unfreeze()
