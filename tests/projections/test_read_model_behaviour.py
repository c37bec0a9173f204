"""What the read models and the service promise beyond replay = incremental: the public notice's
channel, partners found by the applicant filter, an unfoldable event recorded and skipped, bounded
view details, reads that never see a write in progress, one transaction per command, a catalog
that notices changes made elsewhere, and ticks for chosen projects."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import threading
from pathlib import Path
from typing import Any

import msgspec
import pytest

from events.codec import EventCodec
from events.errors import ConflictError
from events.model import NewEvent, StreamWrite
from events.sqlite import SQLiteEventStore
from projections.project import INITIAL, Fact, fold, handled_types
from projections.read_models import READER, SNAPSHOT_EVERY, ReadModels, decode_state
from projections.read_models.states import STATE_SCHEMA
from projections.views import DETAIL_ITEMS, details_of
from sandbox.registry import EVENT_TYPES, open_store
from sandbox.service import Registry
from schemas import commands as c
from schemas import events as ev
from schemas.base import Event, EventMetadata
from schemas.errors import DomainError
from schemas.events import ALL_EVENTS
from schemas.lifecycle import State
from schemas.registry import RegistryCreated
from schemas.streams import project_stream
from tests.fixtures.read_models import models, sqlite_world
from tests.fixtures.world import ALICE, APPROVER, OFFICER, World


class FromTheFuture(Event, frozen=True, kw_only=True):
    """An event type this version of the fold does not know (written by newer code)."""

    note: str


def on_notice(w: World) -> str:
    pid = w.create("fintech-sandbox")
    w.fintech_application(pid)
    w.through_notice(pid)
    return pid


def test_every_event_type_has_a_fold_handler() -> None:
    assert set(ALL_EVENTS) <= handled_types()


def test_the_notice_channel_is_in_the_state_and_on_the_public_register(tmp_path: Path) -> None:
    w = sqlite_world(tmp_path / "r.db")
    pid = on_notice(w)
    assert w.state(pid).notice_channel == "官网公示栏"
    assert models(w).register_entry(pid)["notice_channel"] == "官网公示栏"
    other = w.create("fintech-sandbox")
    w.fintech_application(other)
    w.do(other, ALICE, c.Submit())
    w.do(other, OFFICER, c.AcceptIntake())
    w.assess(other)
    w.do(other, OFFICER, c.OpenPublicNotice())  # no channel named
    assert w.state(other).notice_channel is None
    assert models(w).register_entry(other)["notice_channel"] is None


def test_the_applicant_filter_also_finds_the_projects_an_organisation_partners_in(tmp_path: Path) -> None:
    w = sqlite_world(tmp_path / "r.db")
    pid = w.create("fintech-sandbox")
    w.fintech_application(pid)  # fzbank leads, techco partners
    solo = w.create("fintech-sandbox")
    rm = models(w)
    assert rm.projects(applicant="fzbank")[0] == 2
    total, rows = rm.projects(applicant="techco")
    assert total == 1 and [r["id"] for r in rows] == [pid]
    assert rm.projects(applicant="otherbank")[0] == 0
    w.do(pid, ALICE, c.WithdrawPartner(organisation="techco"))
    assert rm.projects(applicant="techco")[0] == 0
    assert {r["id"] for r in rm.projects(applicant="fzbank")[1]} == {pid, solo}


def test_an_event_the_fold_cannot_apply_is_recorded_skipped_and_the_reader_goes_on(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    w = sqlite_world(tmp_path / "r.db", extra=(FromTheFuture,))
    pid = w.create("fintech-sandbox")
    healthy = w.create("fintech-sandbox")
    meta = EventMetadata(actor="newer-code", role="system", occurred_at=w.clock())
    edit = ev.DraftEdited(section="statement", fields={"user_scope": "福州市"})
    stream = project_stream(pid)
    with caplog.at_level(logging.ERROR, logger="projections.read_models"):
        bad = w.store.append(
            [StreamWrite(stream, (NewEvent(FromTheFuture(note="?"), meta),), expected=1)], command_id="future"
        )
        w.store.append([StreamWrite(stream, (NewEvent(edit, meta),), expected=2)], command_id="after-it")
        rm = models(w)
        rm.catch_up()
    assert rm.position == w.store.head().position  # not wedged
    [failure] = rm.failures()
    assert (failure.position, failure.stage, failure.project_id, failure.type) == (
        bad.first_position,
        "fold",
        pid,
        "FromTheFuture",
    )
    assert "rm_failures" in caplog.text and str(bad.first_position) in caplog.text
    state = rm.state(pid)
    assert state is not None and state.section("statement")["user_scope"] == "福州市"  # later events applied
    assert rm.snapshot(pid) is None  # never decide a command on a state that skipped an event
    with pytest.raises(DomainError, match="FromTheFuture") as refused:
        w.registry.load(pid)  # the service replays the log instead, and meets the event it cannot apply
    assert refused.value.code == "history_unreadable" and pid in refused.value.message_zh
    w.refused(pid, ALICE, c.EditDraft(section="statement", fields={"user_scope": "厦门市"}), "history_unreadable")
    w.do(healthy, ALICE, c.EditDraft(section="statement", fields={"user_scope": "厦门市"}))  # others go on
    incremental = rm.dump()
    rm.rebuild()
    assert rm.dump() == incremental


def test_an_event_this_code_cannot_decode_is_recorded_skipped_and_the_reader_goes_on(tmp_path: Path) -> None:
    """A newer release wrote an event type this one does not know into one project's stream (a
    downgrade, or two releases sharing the file): the read models record it against that
    project and keep following every other, incrementally and in a rebuild alike."""
    path = tmp_path / "r.db"
    w = sqlite_world(path)
    pid = w.create("fintech-sandbox")
    healthy = w.create("fintech-sandbox")
    newer = SQLiteEventStore(path, EventCodec((*EVENT_TYPES, FromTheFuture)), create=False)
    meta = EventMetadata(actor="newer-code", role="system", occurred_at=w.clock())
    bad = newer.append(
        [StreamWrite(project_stream(pid), (NewEvent(FromTheFuture(note="?"), meta),), expected=1)], command_id="newer"
    )
    newer.close()
    # and after it, in the same stream, an event the fold cannot apply (re-folding the project
    # without it reads the stream again, the unreadable event included)
    stray = RegistryCreated(registry_id="r", name="n", created_at=w.clock(), hash_format="x")
    w.store.append([StreamWrite(project_stream(pid), (NewEvent(stray, meta),), expected=2)], command_id="stray")
    w.do(healthy, ALICE, c.EditDraft(section="statement", fields={"user_scope": "厦门市"}))  # follows the append
    rm = models(w)
    assert rm.position == w.store.head().position  # not wedged at the unreadable event
    unread, unfolded = rm.failures()
    assert (unread.position, unread.project_id, unread.type) == (bad.first_position, pid, "FromTheFuture")
    assert "cannot be read" in unread.error
    assert (unfolded.project_id, unfolded.type) == (pid, "RegistryCreated")
    # its state is still read, from a snapshot taken before both (the last events it has)
    rm._cache.clear()  # (read from the tables, as after a restart)
    state = rm.state(pid)
    assert state is not None and state.version == 1 and state.state == State.DRAFT
    assert rm.snapshot(pid) is None  # never decide a command on a state that skipped an event
    state = rm.state(healthy)
    assert state is not None and state.section("statement")["user_scope"] == "厦门市"
    incremental = rm.dump()
    rm.rebuild()
    assert rm.dump() == incremental


def test_an_ending_by_an_exit_criterion_is_not_chained_to_a_recommendation_still_waiting(tmp_path: Path) -> None:
    """A termination recommended but not yet approved, then a licence lost: the exit criterion
    ends the project, and the audit trail does not present the waiting recommendation as the
    decision (nobody approved it)."""
    w = sqlite_world(tmp_path / "r.db")
    pid = on_notice(w)
    w.start_testing(pid)
    w.do(pid, OFFICER, c.Recommend(decision="terminate", category="designation_withdrawn", reason="资质条件丧失"))
    w.do(pid, OFFICER, c.RecordExternalFact(trigger="licence_lost", on=w.clock.today))
    assert w.state(pid).state == State.TERMINATED
    [ended] = [row for row in models(w).audit(pid) if row["type"] == "ProjectTerminated"]
    assert ended["role"] == "system" and "recommendation" not in ended["detail"]


def test_a_failure_of_the_read_models_does_not_fail_the_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    w = sqlite_world(tmp_path / "r.db")
    pid = w.create("fintech-sandbox")
    rm = models(w)
    assert rm.position == w.store.head().position  # kept in the command's own transaction

    def broken(*_: Any) -> None:
        raise RuntimeError("disk says no")

    monkeypatch.setattr(rm, "_write", broken)
    w.do(pid, ALICE, c.EditDraft(section="statement", fields={"user_scope": "福州市"}))
    assert w.store.head().position > rm.position  # the events committed, the rows did not
    monkeypatch.undo()
    assert w.state(pid).section("statement")["user_scope"] == "福州市"
    rm.catch_up()
    assert rm.position == w.store.head().position
    assert rm.state(pid) == fold(w.store.read_stream(project_stream(pid)))


def test_commands_decide_on_the_snapshot_plus_the_events_after_it(tmp_path: Path) -> None:
    w = sqlite_world(tmp_path / "r.db")
    pid = w.create("fintech-sandbox")
    w.fintech_application(pid)
    # an event appended around the registry (another process): the read models are behind
    meta = EventMetadata(actor="alice", role="applicant", organisation="fzbank", occurred_at=w.clock())
    version = w.store.stream_version(project_stream(pid))
    edit = ev.DraftEdited(section="statement", fields={"user_scope": "全省"})
    w.store.append([StreamWrite(project_stream(pid), (NewEvent(edit, meta),), expected=version)], command_id="x")
    rm = models(w)
    assert rm.position < w.store.head().position
    snapshot = rm.snapshot(pid)
    assert snapshot is not None and snapshot.version == version
    loaded = w.registry.load(pid)
    assert loaded == fold(w.store.read_stream(project_stream(pid)))
    assert loaded.section("statement")["user_scope"] == "全省"


def test_reads_never_see_a_write_transaction_in_progress(tmp_path: Path) -> None:
    w = sqlite_world(tmp_path / "r.db")
    pid = w.create("fintech-sandbox")
    rm = models(w)
    store = w.store
    assert isinstance(store, SQLiteEventStore)
    inside, release = threading.Event(), threading.Event()
    seen: list[int] = []

    def writer() -> None:
        with pytest.raises(RuntimeError), store.transaction() as db:
            db.conn.execute("UPDATE rm_projects SET title = 'half-written' WHERE id = ?", (pid,))
            inside.set()
            release.wait(10)
            raise RuntimeError("rolled back")

    def reader() -> None:
        total, rows = rm.projects()
        seen.append(total)
        assert all(r["title"] != "half-written" for r in rows)

    t = threading.Thread(target=writer)
    t.start()
    assert inside.wait(10)
    r = threading.Thread(target=reader)
    r.start()
    r.join(0.3)
    assert r.is_alive()  # waits for the write to end
    release.set()
    t.join(10)
    r.join(10)
    assert seen == [1]
    assert rm.projects()[1][0]["title"] != "half-written"


def built(tmp_path: Path) -> tuple[SQLiteEventStore, dict[str, list[tuple[Any, ...]]]]:
    """A SQLite registry with a project on public notice, and its read models' rows."""
    w = sqlite_world(tmp_path / "r.db")
    on_notice(w)
    store = w.store
    assert isinstance(store, SQLiteEventStore)
    return store, models(w).dump()


def test_read_models_of_another_schema_version_are_rebuilt(tmp_path: Path) -> None:
    store, expected = built(tmp_path)
    with store.transaction() as db:
        db.conn.execute("UPDATE rm_meta SET value = '1' WHERE key = 'schema_version'")
        # the store's snapshots, kept by a reader of another schema, in an old shape: ignored
        db.conn.execute("UPDATE snapshots SET schema = 1, state = CAST('{}' AS BLOB)")
    again = ReadModels(store)
    assert store.checkpoint(READER) == 0 and again.dump()["project_states"] == []
    again.catch_up()
    assert again.dump() == expected


def test_read_models_of_an_older_shape_open_rebuilt_with_the_same_rows_and_the_current_tables(tmp_path: Path) -> None:
    store, expected = built(tmp_path)
    current = {t: store.db.table(t).schema for t in store.db.table_names() if t.startswith("rm_")}
    with store.transaction() as db:  # the tables as an older release left them (schema 11)
        db.conn.execute("UPDATE rm_meta SET value = '11' WHERE key = 'schema_version'")
        db.table("rm_projects").transform(drop={"latest_metrics"})
        db.table("rm_register").transform(column_order=("id", "entry"))
        db.table("rm_search").disable_fts()
        db.conn.execute("DROP TABLE rm_search")
        db.conn.execute("DELETE FROM rm_queue")
    assert "latest_metrics" not in store.db.table("rm_projects").columns_dict
    again = ReadModels(store)
    again.catch_up()
    assert again.dump() == expected
    assert {t: store.db.table(t).schema for t in store.db.table_names() if t.startswith("rm_")} == current
    [project] = expected["rm_projects"]
    assert again.register(q=project[3])[0] == 1  # the full-text index is back, with the title


def test_the_catalog_notices_programs_and_reference_data_changed_by_another_process(tmp_path: Path) -> None:
    w = sqlite_world(tmp_path / "r.db")
    path = tmp_path / "r.db"
    registry = w.registry
    before = registry.reference()
    assert registry.reference() is before  # cached
    program = registry.program_in_force("fintech-sandbox", dt.date(2025, 3, 3))
    other_store = open_store(path, clock=w.clock)
    try:
        other = Registry(other_store, clock=w.clock)
        areas = [msgspec.to_builtins(a) for a in before.pilot_areas][:1]
        other.update_reference("pilot_areas", areas, APPROVER, command_id="ref-2")
        newer = msgspec.structs.replace(program, version=program.version + 1, effective_from=dt.date(2025, 3, 1))
        other.publish_program(newer, APPROVER, command_id="prog-2")
    finally:
        other_store.close()
    assert len(registry.reference().pilot_areas) == 1
    assert registry.program_in_force("fintech-sandbox", dt.date(2025, 3, 3)).version == program.version + 1
    assert registry.program_in_force("fintech-sandbox", dt.date(2025, 2, 1)).version == program.version


def test_a_registry_refuses_read_models_of_another_store(tmp_path: Path) -> None:
    """Read models are kept in the transactions of the store they serve: those of another store
    object (even on the same file) would commit apart from the events, so they are refused, when
    the registry is made and when its read models are replaced, and the ones it had stay."""
    w = sqlite_world(tmp_path / "r.db")
    mine = models(w)
    other_store = open_store(tmp_path / "r.db", clock=w.clock)
    try:
        theirs = ReadModels(other_store)
        assert mine.serves(w.registry.store) and not theirs.serves(w.registry.store)
        with pytest.raises(ValueError, match="those of the registry's store"):
            Registry(w.registry.store, clock=w.clock, read_models=theirs)
        with pytest.raises(ValueError, match="those of the registry's store"):
            w.registry.read_models = theirs
        assert w.registry.read_models is mine
        pid = w.create("fintech-sandbox")  # still appended with its rows in one transaction
        assert mine.state(pid) is not None and mine.position == w.registry.store.head().position
    finally:
        other_store.close()


def test_a_tick_for_chosen_projects_records_their_timers_only() -> None:
    w = World()
    first, second = w.create("fintech-sandbox"), w.create("fintech-sandbox")
    for pid in (first, second):
        w.fintech_application(pid)
        w.do(pid, ALICE, c.Submit())
        w.do(pid, OFFICER, c.AcceptIntake())
        w.assess(pid)
        w.do(pid, OFFICER, c.OpenPublicNotice(channel="官网"))
    ends = max(w.state(pid).notice_ends or dt.date.min for pid in (first, second))
    w.clock.to(ends + dt.timedelta(days=1))
    assert w.registry.tick(project_ids=[first]) == 1
    assert w.state(first).state == State.NOTICE_CLOSED
    assert w.state(second).state == State.PUBLIC_NOTICE
    assert w.registry.tick(project_ids=[first, "no-such-project"]) == 0
    assert w.tick() == 1
    assert w.state(second).state == State.NOTICE_CLOSED


def test_view_details_keep_the_latest_items_of_each_history_and_say_how_many_were_left_out() -> None:
    facts = tuple(Fact(trigger="trade", on=dt.date(2025, 1, 1), position=i) for i in range(1, DETAIL_ITEMS + 151))
    state = msgspec.structs.replace(INITIAL, facts=facts)
    details = details_of(state)
    assert len(details["facts"]) == DETAIL_ITEMS
    assert details["facts"][-1]["position"] == facts[-1].position
    assert details["omitted"] == {"facts": 150}
    assert details_of(INITIAL)["omitted"] == {}


def test_commands_that_arrive_together_share_a_transaction_and_stay_all_or_nothing(tmp_path: Path) -> None:
    w = sqlite_world(tmp_path / "r.db")
    a, b = w.create("fintech-sandbox"), w.create("fintech-sandbox")
    group = w.registry._group
    assert group is not None
    meta = EventMetadata(actor="alice", role="applicant", organisation="fzbank", occurred_at=w.clock())

    def edit(pid: str, expected: int) -> StreamWrite:
        change = ev.DraftEdited(section="statement", fields={"user_scope": pid})
        return StreamWrite(project_stream(pid), (NewEvent(change, meta),), expected=expected)

    batch = {
        "first": [edit(a, 1)],
        "conflicting": [edit(b, 1), edit(a, 7)],  # a is not at 7: nothing of it may be written
        "second": [edit(b, 1)],
    }
    outcomes: dict[str, object] = {}

    def send(name: str) -> None:
        try:
            outcomes[name] = group.commit(batch[name], f"group-{name}")
        except Exception as e:
            outcomes[name] = e

    head = w.store.head().position
    group._leader.acquire()  # a transaction is syncing: the three commands queue behind it
    threads = [threading.Thread(target=send, args=(name,)) for name in batch]
    for t in threads:
        t.start()
    for _ in range(1000):
        if len(group._queue) == len(batch):
            break
        threading.Event().wait(0.01)
    group._leader.release()
    for t in threads:
        t.join(10)
    assert isinstance(outcomes["conflicting"], ConflictError)
    assert {name: type(o).__name__ for name, o in outcomes.items() if name != "conflicting"} == {
        "first": "AppendResult",
        "second": "AppendResult",
    }
    assert w.store.head().position == head + 2
    assert w.store.stream_version(project_stream(a)) == w.store.stream_version(project_stream(b)) == 2
    assert w.store.command_result("group-conflicting") is None
    rm = models(w)
    assert rm.position == head + 2  # the read models committed with them
    incremental = rm.dump()
    rm.rebuild()
    assert rm.dump() == incremental


def test_a_command_alone_that_fails_leaves_nothing_behind(tmp_path: Path) -> None:
    w = sqlite_world(tmp_path / "r.db")
    a = w.create("fintech-sandbox")
    group = w.registry._group
    assert group is not None
    meta = EventMetadata(actor="alice", role="applicant", organisation="fzbank", occurred_at=w.clock())
    change = ev.DraftEdited(section="statement", fields={"user_scope": a})
    other = w.create("fintech-sandbox")
    head = w.store.head().position
    before = models(w).dump()
    stale = [
        StreamWrite(project_stream(other), (NewEvent(change, meta),), expected=1),
        StreamWrite(project_stream(a), (NewEvent(change, meta),), expected=7),
    ]
    with pytest.raises(ConflictError):
        group.commit(stale, "alone-conflicting")
    assert w.store.head().position == head
    assert w.store.command_result("alone-conflicting") is None
    assert models(w).dump() == before
    assert group.commit([stale[0]], "alone-fine").positions == range(head + 1, head + 2)


def _commits(w: World) -> list[str]:
    """Every COMMIT the store's connection runs from now on."""
    seen: list[str] = []
    w.store.connection.set_trace_callback(lambda sql: seen.append(sql) if sql == "COMMIT" else None)
    return seen


def test_commands_decided_in_one_turn_of_the_loop_commit_together(tmp_path: Path) -> None:
    w = sqlite_world(tmp_path / "r.db")
    a, b, c_ = (w.create("fintech-sandbox") for _ in range(3))
    head = w.store.head().position
    commits = _commits(w)

    def edit(pid: str, n: int) -> Any:
        command = c.EditDraft(section="statement", fields={"user_scope": f"{pid}-{n}"})
        return w.registry.execute_async(pid, command, ALICE, command_id=f"loop-{pid}-{n}")

    async def together() -> list[Any]:
        # a is edited twice in the same turn: the second was decided on the version the first
        # moves on, so its append conflicts, and it is decided again on the new state
        return await asyncio.gather(edit(a, 1), edit(b, 1), edit(a, 2), edit(c_, 1))

    results = asyncio.run(together())
    assert commits == ["COMMIT", "COMMIT"]  # the four commands, then the one decided again
    assert [(r.project_id, r.version, r.duplicate) for r in results] == [
        (a, 2, False),
        (b, 2, False),
        (a, 3, False),
        (c_, 2, False),
    ]
    assert sorted(p for r in results for p in r.positions) == list(range(head + 1, head + 5))
    assert [e.payload.fields for e in w.store.read_stream(project_stream(a))[1:]] == [  # type: ignore[attr-defined]
        {"user_scope": f"{a}-1"},
        {"user_scope": f"{a}-2"},
    ]
    rm = models(w)
    assert rm.position == head + 4  # the read models committed with them
    incremental = rm.dump()
    rm.rebuild()
    assert rm.dump() == incremental


def test_a_refused_append_fails_alone_in_its_turn_and_a_waiter_that_went_away_still_commits(
    tmp_path: Path,
) -> None:
    w = sqlite_world(tmp_path / "r.db")
    a, b = w.create("fintech-sandbox"), w.create("fintech-sandbox")
    head = w.store.head().position
    group = w.registry._loop_group
    assert group is not None
    meta = EventMetadata(actor="alice", role="applicant", organisation="fzbank", occurred_at=w.clock())
    stale = StreamWrite(
        project_stream(b), (NewEvent(ev.DraftEdited(section="statement", fields={}), meta),), expected=9
    )

    async def turn() -> tuple[BaseException | None, bool, Any]:
        gone = asyncio.ensure_future(
            w.registry.execute_async(a, c.EditDraft(section="statement", fields={"k": 1}), ALICE, command_id="gone")
        )
        refused = asyncio.ensure_future(group.commit([stale], "refused"))
        kept = asyncio.ensure_future(
            w.registry.execute_async(b, c.EditDraft(section="statement", fields={"k": 2}), ALICE, command_id="kept")
        )
        await asyncio.sleep(0)  # all three are waiting for the turn's commit
        gone.cancel()  # its client went away
        await asyncio.wait([gone, refused, kept])
        return refused.exception(), gone.cancelled(), kept.result()

    error, cancelled, kept = asyncio.run(turn())
    assert isinstance(error, ConflictError) and cancelled
    assert kept.version == 2
    assert w.store.head().position == head + 2  # the cancelled waiter's command was recorded
    assert w.store.command_result("gone") is not None and w.store.command_result("refused") is None
    assert w.store.stream_version(project_stream(a)) == 2


def test_a_commit_waits_while_each_turn_brings_more_commands_and_no_longer_than_its_limit(tmp_path: Path) -> None:
    w = sqlite_world(tmp_path / "r.db")
    group = w.registry._loop_group
    assert group is not None
    pids = [w.create("fintech-sandbox") for _ in range(group.MAX_TURNS + 3)]
    commits = _commits(w)
    batches: list[int] = []
    run = group.group.run
    group.group.run = lambda batch: (batches.append(len(batch)), run(batch))[1]  # type: ignore[method-assign]

    async def one_per_turn(pids: list[str]) -> None:
        """A command arrives in each turn of the loop, as requests do while one is decided."""
        waiting = []
        for n, pid in enumerate(pids):
            command = c.EditDraft(section="statement", fields={"n": n})
            waiting.append(asyncio.ensure_future(w.registry.execute_async(pid, command, ALICE, command_id=f"t-{pid}")))
            await asyncio.sleep(0)
        await asyncio.gather(*waiting)

    asyncio.run(one_per_turn(pids[:2]))  # the second arrived in the turn after the first: it joined
    assert batches == [2] and len(commits) == 1
    asyncio.run(one_per_turn(pids[2:]))  # a steady stream: the first commit does not wait for ever
    assert batches[1] == group.MAX_TURNS and sum(batches[1:]) == len(pids) - 2
    assert all(w.store.stream_version(project_stream(pid)) == 2 for pid in pids)


def test_a_project_state_is_stored_as_a_snapshot_every_few_events_and_read_with_the_events_after_it(
    tmp_path: Path,
) -> None:
    w = sqlite_world(tmp_path / "r.db")
    pid, other = w.create("fintech-sandbox"), w.create("fintech-sandbox")
    for n in range(SNAPSHOT_EVERY + 5):
        w.do(pid, ALICE, c.EditDraft(section="statement", fields={"n": n}))
    rm = models(w)

    def stored_version() -> int:
        kept = w.store.read_snapshot(project_stream(pid), STATE_SCHEMA)
        assert kept is not None and decode_state(kept.state).version == kept.version
        return kept.version

    replayed = fold(w.store.read_stream(project_stream(pid)))
    assert replayed.version == SNAPSHOT_EVERY + 6
    assert stored_version() == SNAPSHOT_EVERY + 1  # written again once 32 events ahead, not since
    assert rm.state(pid) == replayed and w.registry.load(pid) == replayed
    cold = ReadModels(w.store)  # nothing cached: every read folds the events after the snapshot
    assert cold.state(pid) == replayed and cold.snapshot(pid) is not None
    # an append made around this reader: a cold reader catching up folds it onto snapshot + tail
    w.store.append(
        [
            StreamWrite(
                project_stream(pid),
                (
                    NewEvent(
                        ev.DraftEdited(section="statement", fields={"n": -1}),
                        EventMetadata(actor="alice", role="applicant", organisation="fzbank", occurred_at=w.clock()),
                    ),
                ),
                expected=replayed.version,
            )
        ],
        command_id="around",
    )
    assert cold.catch_up() == 1
    assert cold.state(pid) == fold(w.store.read_stream(project_stream(pid)))
    w.do(other, ALICE, c.EditDraft(section="statement", fields={"n": 0}))  # the first reader goes on
    incremental = rm.dump()
    rm.rebuild()  # every state stored at the head
    assert stored_version() == replayed.version + 1
    assert rm.dump() == incremental


def test_a_state_read_after_a_restart_is_kept_and_the_next_command_rewrites_its_rows(tmp_path: Path) -> None:
    """A new reader over existing tables has nothing cached: its first read of a project decodes
    the stored state, and keeps it, so the second read runs one statement (the checkpoint) and
    does not touch the table. A command after that starts from the kept state, and its rows
    equal those of a rebuild."""
    path = tmp_path / "r.db"
    w = sqlite_world(path)
    pid = on_notice(w)
    w.store.close()

    again = sqlite_world(path)
    rm = models(again)
    rm.catch_up()
    statements: list[str] = []
    again.store.connection.set_trace_callback(statements.append)
    first = rm.state(pid)
    assert any("snapshots" in s for s in statements)
    statements.clear()
    assert rm.state(pid) == first
    assert len(statements) == 1 and "checkpoints" in statements[0], statements  # a hit: one statement
    again.store.connection.set_trace_callback(None)
    assert first == fold(again.store.read_stream(project_stream(pid)))

    again.clock.advance(days=12)
    again.registry.tick()
    again.do(pid, OFFICER, c.Recommend(decision="admit"))
    incremental = rm.dump()
    assert rm.state(pid) == fold(again.store.read_stream(project_stream(pid)))
    rm.rebuild()
    assert rm.dump() == incremental


def test_a_current_state_costs_one_statement_and_catches_up_with_another_process(tmp_path: Path) -> None:
    """``current_state`` reads the checkpoint and the head in one statement: a project cached at
    the head costs that statement alone; once another process has appended, it catches up first
    and answers with the project as the log now has it."""
    path = tmp_path / "r.db"
    w = sqlite_world(path)
    pid = on_notice(w)
    rm = models(w)
    rm.catch_up()
    assert rm.current_state(pid) == fold(w.store.read_stream(project_stream(pid)))
    statements: list[str] = []
    w.store.connection.set_trace_callback(statements.append)
    hit = rm.current_state(pid)
    w.store.connection.set_trace_callback(None)
    assert len(statements) == 1 and "checkpoints" in statements[0] and "events" in statements[0], statements
    other_store = open_store(path, clock=w.clock)
    try:
        other = Registry(other_store, clock=w.clock)
        w.clock.advance(days=12)
        other.tick()
        other.execute(pid, c.Recommend(decision="admit"), OFFICER, command_id="elsewhere")
    finally:
        other_store.close()
    assert rm.state(pid) == hit  # (the cache as of the checkpoint, which has not moved)
    moved = rm.current_state(pid)
    assert moved is not None and hit is not None and moved.version > hit.version and moved.pending is not None
    assert moved == fold(w.store.read_stream(project_stream(pid)))
    assert rm.position == w.store.head().position


def _pages_written(path: Path, since: int) -> set[int]:
    """The page numbers of the frames appended to the write-ahead log after byte ``since``."""
    log = Path(f"{path}-wal").read_bytes()
    page_size = int.from_bytes(log[8:12], "big")
    first = max(since, 32)  # (the log's header)
    return {int.from_bytes(log[at : at + 4], "big") for at in range(first, len(log), 24 + page_size)}


def test_a_report_writes_no_page_of_the_project_lists_indexes(tmp_path: Path) -> None:
    """A metrics report changes a project's version, position and latest figures, not what the
    project list's indexes hold (state, program, applicant), its public entry or what it is
    searched by: its commit leaves their pages as they were. A change of state still moves the
    project in the list."""
    path = tmp_path / "r.db"
    w = sqlite_world(path)
    pid = on_notice(w)
    w.start_testing(pid)
    w.report_month(pid, {"users": 100, "complaints": 0})
    conn = w.store.connection
    conn.execute("PRAGMA wal_autocheckpoint = 0")  # the log only grows while the report commits
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    since = Path(f"{path}-wal").stat().st_size
    w.do(pid, ALICE, c.ReportMetrics(
        period_start=w.clock.today - dt.timedelta(days=1), period_end=w.clock.today,
        metrics={"users": 120, "complaints": 0}, kpis_met=[],
    ))
    names = {page: name for name, page in conn.execute("SELECT name, pageno FROM dbstat")}
    written = {names.get(page) for page in _pages_written(path, since)}
    assert "rm_projects" in written and "events" in written
    assert not written & {"rm_projects_state", "rm_projects_applicant"}, written
    # nor the register, its filters' index, the search's rows or their full-text index
    search = {"rm_search", "rm_search_fts_data", "rm_search_fts_idx", "rm_search_fts_docsize"}
    assert not written & {"rm_register", "rm_register_filters", *search}, written
    row = models(w).projects(state=State.TESTING.value)[1][0]
    assert (row["id"], row["version"]) == (pid, w.state(pid).version)
    assert row["latest_metrics"] == {"users": 120, "complaints": 0}
    today = w.clock.today
    w.do(pid, ALICE, c.InitiateExit(
        mode="voluntary", users_notified_on=today, planned_exit_on=today + dt.timedelta(days=30)))
    assert models(w).projects(state=State.TESTING.value)[0] == 0
    assert [r["id"] for r in models(w).projects(state=State.EXIT_IN_PROGRESS.value)[1]] == [pid]
