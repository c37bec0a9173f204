"""What a read of one project costs the server beyond its own work: no hop to a worker thread (the
guards are coroutines) and no task group for its dependencies (``sandbox.api.in_turn``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import pytest
from litestar.concurrency import set_asyncio_executor
from litestar.di import Provide
from litestar.routes import HTTPRoute

from sandbox.api.in_turn import in_turn, returns_at_once
from tests.fixtures.api import Api


class CountingExecutor(ThreadPoolExecutor):
    """The worker threads litestar runs synchronous callables in, counting what it hands them."""

    def __init__(self) -> None:
        super().__init__(max_workers=2)
        self.submitted = 0

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        self.submitted += 1
        return super().submit(fn, *args, **kwargs)


@pytest.fixture
def threads() -> Iterator[CountingExecutor]:
    executor = CountingExecutor()
    set_asyncio_executor(executor)
    try:
        yield executor
    finally:
        set_asyncio_executor(None)
        executor.shutdown()


def test_a_read_of_one_project_never_leaves_the_event_loop(api: Api, threads: CountingExecutor) -> None:
    pid = api.create("ecny-pilot")
    for who in ("carol", "alice", "audrey"):
        r = api.get(f"/api/v1/projects/{pid}", who)
        assert r.status_code == 200, r.text
    assert threads.submitted == 0
    assert api.get(f"/api/v1/projects/{pid}", "olga").status_code == 404  # (the guards still judge)
    assert api.get(f"/api/v1/projects/{pid}", "pat").status_code == 403
    assert api.get(f"/api/v1/projects/{pid}").status_code == 401
    assert threads.submitted == 0
    assert api.get(f"/api/v1/projects/{pid}/events", "carol").status_code == 200  # a route run in a thread
    assert threads.submitted > 0  # (so the count sees a hop when there is one)


def test_no_route_resolves_plain_providers_in_a_task_group(api: Api) -> None:
    read_one = None
    for route in api.app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler, model in route.route_handler_map.values():
            for batch in model.dependency_batches:
                assert len(batch) == 1 or not all(returns_at_once(d) for d in batch), (route.path, handler)
            if route.path == "/api/v1/projects/{project_id:str}" and "GET" in handler.http_methods:
                read_one = model
    assert read_one is not None
    assert len(read_one.dependency_batches) >= 5  # registry, store, read models, views, actor: one each


def test_a_batch_with_a_coroutine_provider_is_left_to_run_concurrently() -> None:
    from litestar._kwargs.dependencies import DependencyContainer

    def plain() -> int:
        return 1

    async def slow() -> int:
        return 2

    a = DependencyContainer("a", Provide(plain, sync_to_thread=False), [])
    b = DependencyContainer("b", Provide(plain, sync_to_thread=False), [])
    c = DependencyContainer("c", Provide(slow), [])
    d = DependencyContainer("d", Provide(plain, sync_to_thread=False), [a])
    assert in_turn([{b, a}, {d}]) == [{a}, {b}, {d}]
    assert in_turn([{a, c}, {d}]) == [{a, c}, {d}]
