"""A rebuild drops the read models and replays the log: the same rows in one chunk or in many,
its progress heard as it goes, nothing committed by a rebuild stopped midway, and the collector
as it was once it is done."""

from __future__ import annotations

import datetime as dt
import gc
import math
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from projections.read_models import ReadModels
from projections.read_models.tuning import collector_paused, even_chunk
from tests.fixtures.histories import History, sqlite_history


@pytest.fixture(scope="module")
def history() -> Iterator[History]:
    # stopped while most pilots are still under way, so the work queue has items
    with sqlite_history(seed=20261128, projects=12, until=dt.date(2025, 6, 1), read_models=False) as h:
        yield h


def test_a_rebuild_in_many_chunks_writes_the_rows_of_a_rebuild_in_one(history: History) -> None:
    models = ReadModels(history.store)
    assert models.rebuild(chunk=250_000) == history.store.head().position == models.position
    alone = models.dump()
    assert alone["rm_projects"] and alone["rm_audit"] and alone["rm_queue"]
    assert models.rebuild(chunk=97) == history.store.head().position
    assert models.dump() == alone
    # and the reader goes on from there: a later catch-up reads no event twice
    assert models.catch_up() == 0 and models.dump() == alone


def test_a_rebuild_reports_its_progress_batch_by_batch(history: History) -> None:
    heard: list[int] = []
    advanced = ReadModels(history.store).rebuild(batch=25, progress=heard.append)
    assert sum(heard) == advanced == history.store.head().position
    assert len(heard) > 3 and all(step > 0 for step in heard)


def test_a_rebuild_stopped_midway_commits_nothing_and_resumes_the_collector(history: History) -> None:
    models = ReadModels(history.store)
    fold = models.apply
    calls = 0

    def stopped(*args: Any) -> None:
        nonlocal calls
        calls += 1
        if calls == 3:
            raise KeyboardInterrupt  # the operator stops the rebuild
        fold(*args)

    models.apply = stopped  # type: ignore[method-assign]
    assert gc.isenabled()
    with pytest.raises(KeyboardInterrupt):
        models.rebuild(batch=25)
    assert gc.isenabled()
    assert models.position == 0  # nothing of the chunk was committed
    del models.apply
    assert models.catch_up() == history.store.head().position


def test_the_collector_is_paused_only_while_it_was_running() -> None:
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # left as it was found
    finally:
        gc.enable()


@given(events=st.integers(0, 10**8), chunk=st.integers(1, 10**7))
def test_a_rebuild_cuts_the_log_into_as_few_equal_chunks_as_stay_within_an_eighth_over(
    events: int, chunk: int
) -> None:
    length = even_chunk(events, chunk)
    count = max(1, math.ceil(events / length))
    limit = math.ceil(chunk * 9 / 8)
    assert 1 <= length <= limit
    assert (count - 1) * chunk * 9 < 8 * max(events, 1)  # one chunk fewer would be over the limit
    assert length == max(1, math.ceil(events / count))  # equal, but for rounding
    if chunk < events <= chunk + chunk // 8:
        assert length == events  # a short tail joins the chunk rather than getting its own
