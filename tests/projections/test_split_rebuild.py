"""A rebuild split between processes writes exactly the rows a rebuild in one process writes.

Each chunk of the log is folded by several forked processes, each the projects of its share of
the streams, and written by the process holding the write transaction. The tables (rows, audit
trail, queue, failures) and the checkpoint must be the same as those of a replay in one
process, in one chunk or in many. A failure to fold is recorded once: by this process in its own
part, or, when another process's part met it (or that process died), by a replay of the chunk in
this process.
"""

from __future__ import annotations

import datetime as dt
import gc
import logging
import math
import os
import signal
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from events.model import NewEvent, StreamWrite
from projections import read_models
from projections.project import ProjectState
from projections.read_models import ReadModels, default_parts, even_chunk
from sandbox.service import project_stream
from schemas import events as ev
from schemas.base import EventMetadata
from tests.projections.histories import History, sqlite_history
from tests.projections.test_read_model_behaviour import FromTheFuture, sqlite_world


@pytest.fixture(scope="module")
def history() -> Iterator[History]:
    # stopped while most pilots are still under way, so the work queue has items
    with sqlite_history(seed=20261128, projects=12, until=dt.date(2025, 6, 1), read_models=False) as h:
        yield h


def rebuilt(models: ReadModels, parts: int, chunk: int, splits: list[bool] | None = None) -> dict[str, object]:
    """The tables after a rebuild in ``parts`` processes; ``splits`` gets, for each chunk,
    whether it was split (rather than replayed in this process)."""
    models.split_from = 0  # split even a short log
    split = models._split

    def spied(*args: Any) -> Any:
        result = split(*args)
        if splits is not None:
            splits.append(result is not None)
        return result

    models._split = spied  # type: ignore[method-assign]
    try:
        advanced = models.rebuild(parts=parts, chunk=chunk)
    finally:
        del models._split
    assert advanced == models.store.head().position == models.position
    return models.dump()


@pytest.mark.parametrize("chunk", [250_000, 97], ids=["one chunk", "many chunks"])
@pytest.mark.parametrize("parts", [2, 3])
def test_a_split_rebuild_writes_the_rows_of_a_rebuild_in_one_process(
    history: History, parts: int, chunk: int
) -> None:
    models = ReadModels(history.store)
    alone = rebuilt(models, 1, chunk)
    assert alone["rm_projects"] and alone["rm_audit"] and alone["rm_queue"]
    splits: list[bool] = []
    assert rebuilt(models, parts, chunk, splits) == alone
    # as few equal chunks as stay within an eighth over ``chunk``
    assert all(splits) and len(splits) == max(1, math.ceil(models.position / (chunk * 9 / 8)))
    # and the reader goes on from there: a later catch-up reads no event twice
    assert models.catch_up() == 0 and models.dump() == alone


def test_the_other_parts_rows_come_in_files_that_are_gone_once_their_chunk_commits(
    history: History, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The other processes hand their rows over in files beside the database, copied by
    ``INSERT … SELECT`` in the chunk's transaction: each is detached and deleted after that
    transaction, and their folder with the rebuild."""
    folder = Path(history.store.path).parent
    before = set(folder.iterdir())
    copied: list[str] = []
    copy = read_models._copy_part

    def spied(conn: Any, part: Any, alias: str) -> None:
        assert Path(part.path).is_file() and part.statements
        copied.append(part.path)
        copy(conn, part, alias)
        assert {row[1] for row in conn.execute("PRAGMA database_list")} >= {"main", alias}

    monkeypatch.setattr(read_models, "_copy_part", spied)
    models = ReadModels(history.store)
    alone = rebuilt(models, 1, 97)
    assert rebuilt(models, 3, 97) == alone
    assert len(copied) >= 4  # two other parts, over several chunks
    assert all(Path(path).parent.parent == folder for path in copied)
    assert not any(Path(path).exists() for path in copied)
    assert [row[1] for row in history.store.connection.execute("PRAGMA database_list")] == ["main"]
    assert set(folder.iterdir()) == before


def test_a_part_whose_file_cannot_be_copied_makes_the_chunk_replay_in_one_process(
    history: History, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A part's file that cannot be read (deleted, cut short) fails no rebuild: what was copied
    is rolled back and the chunk is replayed in this process, with the same rows."""
    models = ReadModels(history.store)
    alone = rebuilt(models, 1, 97)
    copy = read_models._copy_part
    calls = 0

    def broken(conn: Any, part: Any, alias: str) -> None:
        nonlocal calls
        calls += 1
        if calls == 2:  # the second chunk's file, after the first chunk went through
            Path(part.path).write_bytes(b"not a database")
        copy(conn, part, alias)

    monkeypatch.setattr(read_models, "_copy_part", broken)
    splits: list[bool] = []
    with caplog.at_level(logging.ERROR, logger="projections.read_models"):
        assert rebuilt(models, 2, 97, splits) == alone
    assert splits[:2] == [True, False]
    assert "could not be copied" in caplog.text
    assert [row[1] for row in history.store.connection.execute("PRAGMA database_list")] == ["main"]


def test_what_a_rebuild_keeps_goes_to_the_oldest_generation_and_a_freeze_is_left_alone(history: History) -> None:
    """The states a rebuild keeps are handed to the collector's oldest generation when it resumes
    (no pass over them as young objects); nothing stays frozen, and a freeze made by someone
    else (a server freezes what it starts with) is not undone."""
    assert gc.isenabled() and gc.get_freeze_count() == 0
    models = ReadModels(history.store)
    models.rebuild(parts=1)
    state, _ = next(iter(models._cache.values()))
    assert gc.get_freeze_count() == 0
    assert any(o is state for o in gc.get_objects(generation=2))
    marker: list[object] = []  # (a tracked object: frozen below, it is in no generation)
    gc.freeze()
    try:
        models.rebuild(parts=1)
        assert gc.get_freeze_count() > 0
        assert not any(o is marker for o in gc.get_objects())
    finally:
        gc.unfreeze()
    assert any(o is marker for o in gc.get_objects(generation=2))


@pytest.mark.parametrize("here", [True, False], ids=["in this process's part", "in another's"])
def test_a_failure_is_recorded_once_and_a_part_that_cannot_record_it_is_replayed_here(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, here: bool
) -> None:
    w = sqlite_world(tmp_path / "r.db", extra=(FromTheFuture,))
    # the parts split streams by the code of their id's last character (part 0 is this process);
    # ids are random: drafts are created until one falls in the part wanted (and a few more)
    pids: list[str] = []
    while len(pids) < 8 or not any((ord(project_stream(p)[-1]) % 2 == 0) == here for p in pids):
        pids.append(w.create("fintech-sandbox"))
    pid = next(p for p in pids if (ord(project_stream(p)[-1]) % 2 == 0) == here)
    meta = EventMetadata(actor="newer-code", role="system", occurred_at=w.clock())
    bad = w.store.append(
        [StreamWrite(project_stream(pid), (NewEvent(FromTheFuture(note="?"), meta),), expected=1)],
        command_id="future",
    )
    edit = ev.DraftEdited(section="statement", fields={"user_scope": "福州市"})
    w.store.append([StreamWrite(project_stream(pid), (NewEvent(edit, meta),), expected=2)], command_id="after")
    models = w.registry.read_models
    assert models is not None
    alone = rebuilt(models, 1, 250_000)
    caplog.clear()
    with caplog.at_level(logging.ERROR, logger="projections.read_models"):
        splits: list[bool] = []
        split = rebuilt(models, 2, 250_000, splits)
    assert split == alone and splits == [here]
    [failure] = models.failures()
    assert (failure.position, failure.project_id) == (bad.first_position, pid)
    assert caplog.text.count("rm_failures") == 1  # logged once, by the process that recorded it


@pytest.fixture
def helpers(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every helper process a rebuild starts, in order."""
    started: list[Any] = []

    class Recorded(read_models._Helper):
        def __init__(self, *args: Any) -> None:
            super().__init__(*args)
            started.append(self)

    monkeypatch.setattr(read_models, "_Helper", Recorded)
    return started


def test_a_part_that_dies_makes_the_chunk_replay_in_one_process(history: History) -> None:
    models = ReadModels(history.store)
    alone = rebuilt(models, 1, 250_000)
    models._serve_part = lambda *args: os._exit(3)  # type: ignore[method-assign]
    splits: list[bool] = []
    try:
        assert rebuilt(models, 2, 250_000, splits) == alone and splits == [False]
    finally:
        del models._serve_part


def test_when_one_part_dies_the_others_are_ended_and_the_chunk_replays_here(
    history: History, helpers: list[Any]
) -> None:
    models = ReadModels(history.store)
    alone = rebuilt(models, 1, 250_000)
    serve = models._serve_part

    def dies_in_part_2(pipe: Any, part: int) -> None:
        if part == 2:
            os._exit(3)
        serve(pipe, part)

    models._serve_part = dies_in_part_2  # type: ignore[method-assign]
    splits: list[bool] = []
    try:
        assert rebuilt(models, 3, 250_000, splits) == alone and splits == [False]
    finally:
        del models._serve_part
    first, second = helpers
    assert second.process.exitcode == 3
    assert first.process.exitcode == -signal.SIGKILL  # its part goes unused: not waited for


def test_the_other_processes_keep_their_parts_states_from_chunk_to_chunk(
    history: History, monkeypatch: pytest.MonkeyPatch
) -> None:
    models = ReadModels(history.store)
    alone = rebuilt(models, 1, 29)
    here = os.getpid()
    decode = read_models.decode_state

    def only_here(stored: bytes) -> ProjectState:
        assert os.getpid() == here, "another process read back a state it had folded"
        return decode(stored)

    monkeypatch.setattr(read_models, "decode_state", only_here)
    splits: list[bool] = []
    assert rebuilt(models, 3, 29, splits) == alone
    assert len(splits) > 3 and all(splits)  # (a part that read one back would have been replayed here)


def test_a_process_with_other_threads_running_is_not_forked() -> None:
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        assert default_parts() == 1
    finally:
        stop.set()
        other.join()


def test_a_split_chunk_reports_its_progress_page_by_page(history: History) -> None:
    models = ReadModels(history.store)
    models.split_from = 0
    heard: list[int] = []
    splits: list[bool] = []
    split = models._split

    def spied(*args: Any) -> Any:
        result = split(*args)
        splits.append(result is not None)
        return result

    models._split = spied  # type: ignore[method-assign]
    try:
        advanced = models.rebuild(parts=2, batch=25, progress=heard.append)
    finally:
        del models._split
    assert splits == [True]  # one chunk, folded by two processes
    assert sum(heard) == advanced == history.store.head().position
    assert len(heard) > 3 and all(step > 0 for step in heard)


def test_a_rebuild_that_fails_here_ends_the_other_processes_at_once(history: History, helpers: list[Any]) -> None:
    models = ReadModels(history.store)
    models.split_from = 0
    here = os.getpid()
    fold = models.apply

    def failing_here(*args: Any) -> None:
        if os.getpid() == here:
            raise KeyboardInterrupt  # the operator stops the rebuild
        fold(*args)

    models.apply = failing_here  # type: ignore[method-assign]
    with pytest.raises(KeyboardInterrupt):
        models.rebuild(parts=2)
    [helper] = helpers
    assert helper.process.exitcode == -signal.SIGKILL  # not left to finish a part nobody reads
    assert models.position == 0  # and nothing of the chunk was committed


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
