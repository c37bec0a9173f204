"""The app's dependencies resolved one after another, on the event loop, not in task groups.

litestar resolves every set of a handler's dependencies that do not depend on one another in an
anyio task group, one task each (litestar issue 4563, open in 2.25): a read of one project asked
for five services, so every read created five tasks and went five times round the event loop.
The app's providers are plain functions that hand over a service of the app or the request's
actor and return at once; in a task group they still run one after another, only at a higher
price. :func:`resolve_in_turn` splits each such set into sets of one, which litestar awaits
directly. The order between sets is kept (a provider still runs after those it depends on), and
a set holding any coroutine or generator provider is left to run concurrently as before.
"""

from __future__ import annotations

from collections.abc import Iterable

from litestar import Litestar
from litestar._kwargs.dependencies import DependencyContainer
from litestar.routes import HTTPRoute

Batch = set[DependencyContainer]


def returns_at_once(dependency: DependencyContainer) -> bool:
    """Whether the provider is a plain function (no coroutine, no generator to clean up after)."""
    provide = dependency.provide
    return bool(
        provide.has_sync_callable
        and not provide.has_sync_generator_dependency
        and not provide.has_async_generator_dependency
    )


def in_turn(batches: Iterable[Batch]) -> list[Batch]:
    """``batches`` with every batch of plain functions split into batches of one (sorted by name,
    so that the order does not change from one run to the next)."""
    out: list[Batch] = []
    for batch in batches:
        if len(batch) > 1 and all(returns_at_once(d) for d in batch):
            out += [{d} for d in sorted(batch, key=lambda d: d.key)]
        else:
            out.append(batch)
    return out


def resolve_in_turn(app: Litestar) -> int:
    """Make every HTTP route of ``app`` resolve its plain-function dependencies in turn; returns
    how many handlers changed. Call it once the app is built (routes registered later keep
    litestar's way)."""
    changed = 0
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        models = {id(model): model for _, model in route.route_handler_map.values()}
        for model in models.values():
            batches = in_turn(model.dependency_batches)
            if len(batches) != len(model.dependency_batches):
                model.dependency_batches = batches
                changed += 1
    return changed
