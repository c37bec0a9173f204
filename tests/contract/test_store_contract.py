"""The event-store contract: every test runs against every backend.

Each test states one guarantee of :class:`events.store.EventStore`; the ``store`` fixture is
parametrised over the backends, so a new backend only has to be added to ``support.BACKENDS``.
"""

from __future__ import annotations

import hashlib
import threading
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from events.errors import ConflictError, InvalidAppendError, UnknownEventTypeError
from events.hashchain import GENESIS_HASH, stored_hash
from events.model import ANY, NO_STREAM, NewEvent, RecordedEvent, StreamWrite
from events.store import EventStore, Snapshot, catch_up
from schemas.base import Event
from tests.fixtures.stores import Clock, Noted, Opened, Tagged, insert_row, meta, new, notes, summary, table_rows, write


def texts(events: list[RecordedEvent[Event]]) -> list[str]:
    out = []
    for e in events:
        assert isinstance(e.payload, Noted)
        out.append(e.payload.text)
    return out


def nothing_written(store: EventStore, head_before: Any, command_id: str) -> None:
    assert store.head() == head_before
    assert store.command_result(command_id) is None
    assert store.verify().ok


# -- 1. expected versions ---------------------------------------------------------------------


def test_exact_expected_version_appends_when_it_matches(store: EventStore) -> None:
    r1 = store.append([write("s", *notes("a", "b"), expected=0)], command_id="c1")
    r2 = store.append([write("s", *notes("c"), expected=2)], command_id="c2")
    assert r1.versions == {"s": 2}
    assert r2.versions == {"s": 3}
    assert texts(store.read_stream("s")) == ["a", "b", "c"]


@pytest.mark.parametrize("stale", [0, 1, 3, 7])
def test_exact_expected_version_mismatch_is_a_conflict_carrying_the_actual_version(
    store: EventStore, stale: int
) -> None:
    store.append([write("s", *notes("a", "b"))], command_id="c1")
    before = store.head()
    with pytest.raises(ConflictError) as info:
        store.append([write("s", *notes("x"), expected=stale)], command_id="c2")
    assert (info.value.stream_id, info.value.expected, info.value.actual) == ("s", stale, 2)
    assert "actual version 2" in str(info.value)
    nothing_written(store, before, "c2")
    assert texts(store.read_stream("s")) == ["a", "b"]


def test_no_stream_succeeds_only_for_a_new_stream(store: EventStore) -> None:
    store.append([write("s", Opened(name="one"), expected=NO_STREAM)], command_id="c1")
    before = store.head()
    with pytest.raises(ConflictError) as info:
        store.append([write("s", Opened(name="two"), expected=NO_STREAM)], command_id="c2")
    assert info.value.actual == 1
    assert info.value.expected == NO_STREAM
    nothing_written(store, before, "c2")


def test_any_never_conflicts(store: EventStore) -> None:
    store.append([write("s", *notes("a"), expected=ANY)], command_id="c1")
    store.append([write("s", *notes("b"), expected=ANY)], command_id="c2")
    assert store.stream_version("s") == 2


def test_a_conflicting_command_id_can_be_retried_after_rereading(store: EventStore) -> None:
    store.append([write("s", *notes("a"))], command_id="c1")
    with pytest.raises(ConflictError):
        store.append([write("s", *notes("b"), expected=0)], command_id="c2")
    result = store.append([write("s", *notes("b"), expected=store.stream_version("s"))], command_id="c2")
    assert not result.duplicate
    assert texts(store.read_stream("s")) == ["a", "b"]


@pytest.mark.parametrize("bad", [-1, True, "latest", 1.5, None])
def test_a_malformed_expected_version_is_refused(store: EventStore, bad: Any) -> None:
    with pytest.raises(InvalidAppendError):
        store.append([write("s", *notes("a"), expected=bad)], command_id="c1")
    assert store.head().position == 0


def test_malformed_appends_are_refused_and_write_nothing(store: EventStore) -> None:
    store.append([write("s", *notes("a"))], command_id="c0")
    before = store.head()
    with pytest.raises(InvalidAppendError):
        store.append([write("s", *notes("b"))], command_id="")
    with pytest.raises(InvalidAppendError, match="named twice"):
        store.append([write("t", *notes("b")), write("t", *notes("c"))], command_id="c1")
    with pytest.raises(InvalidAppendError):
        store.append([write("", *notes("b"))], command_id="c2")

    class Unregistered(Event, frozen=True, kw_only=True):
        x: int

    with pytest.raises(UnknownEventTypeError):
        store.append([write("t", Noted(text="ok"), Unregistered(x=1))], command_id="c3")
    for cid in ("c1", "c2", "c3"):
        nothing_written(store, before, cid)


# -- 3. all or nothing across streams -----------------------------------------------------------


def test_multi_stream_append_writes_every_stream(store: EventStore) -> None:
    result = store.append(
        [write("a", *notes("a1", "a2"), expected=NO_STREAM), write("b", *notes("b1"), expected=0)],
        command_id="c1",
    )
    assert result.versions == {"a": 2, "b": 1}
    assert (result.first_position, result.last_position) == (1, 3)
    assert [(e.stream_id, e.version) for e in store.read_after(0)] == [("a", 1), ("a", 2), ("b", 1)]


def test_conflict_on_the_second_stream_writes_nothing_for_the_first(store: EventStore) -> None:
    store.append([write("b", *notes("b1"))], command_id="c0")
    before = store.head()
    with pytest.raises(ConflictError) as info:
        store.append(
            [write("a", *notes("a1"), expected=NO_STREAM), write("b", *notes("b2"), expected=0)],
            command_id="c1",
        )
    assert (info.value.stream_id, info.value.actual) == ("b", 1)
    assert store.stream_version("a") == 0
    assert store.read_stream("a") == []
    nothing_written(store, before, "c1")
    # the log continues gaplessly afterwards
    store.append([write("a", *notes("a1"))], command_id="c2")
    assert [e.position for e in store.read_after(0)] == [1, 2]


# -- 2. positions and versions --------------------------------------------------------------------


def test_global_positions_are_contiguous_from_1_in_commit_order(store: EventStore) -> None:
    expected_order = []
    for i in range(6):
        stream = f"s{i % 3}"
        payloads = notes(*(f"{i}.{k}" for k in range(i % 3 + 1)))
        result = store.append([write(stream, *payloads)], command_id=f"c{i}")
        assert list(result.positions) == list(
            range(len(expected_order) + 1, len(expected_order) + len(payloads) + 1)
        )
        expected_order += [p.text for p in payloads]
    events = store.read_after(0)
    assert [e.position for e in events] == list(range(1, len(expected_order) + 1))
    assert texts(events) == expected_order
    recorded = [e.recorded_at for e in events]
    assert recorded == sorted(recorded)


def test_stream_versions_start_at_1_and_are_contiguous(store: EventStore) -> None:
    store.append([write("a", *notes("1", "2"))], command_id="c1")
    store.append([write("b", *notes("x"))], command_id="c2")
    store.append([write("a", *notes("3"))], command_id="c3")
    assert [e.version for e in store.read_stream("a")] == [1, 2, 3]
    assert [e.version for e in store.read_stream("b")] == [1]
    assert store.stream_version("a") == 3
    assert store.stream_version("nope") == 0


def test_concurrent_threads_keep_positions_gapless(store: EventStore) -> None:
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            for i in range(25):
                store.append([write(f"t{n}", *notes(str(i)))], command_id=f"t{n}-{i}")
                store.append([write("shared", *notes(f"{n}.{i}"))], command_id=f"t{n}-s{i}")
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert [e.position for e in store.read_after(0, limit=10_000)] == list(range(1, 201))
    assert [e.version for e in store.read_stream("shared")] == list(range(1, 101))
    assert store.verify().ok


def test_types_after_gives_the_head_and_whether_such_an_event_follows(store: EventStore) -> None:
    assert store.types_after(0, ["Noted"]) == (0, False)
    store.append([write("a", *notes("1", "2"))], command_id="c1")
    store.append([write("b", Opened(name="b"))], command_id="c2")
    assert store.types_after(0, ["Noted"]) == (3, True)
    assert store.types_after(2, ["Noted"]) == (3, False)
    assert store.types_after(2, ["Opened", "Noted"]) == (3, True)
    assert store.types_after(3, ["Opened"]) == (3, False)


# -- 4. idempotent command ids -----------------------------------------------------------------


def test_a_repeated_command_id_returns_the_first_result_and_writes_nothing(store: EventStore) -> None:
    first = store.append([write("a", *notes("1", "2")), write("b", *notes("3"))], command_id="c1")
    store.append([write("a", *notes("4"))], command_id="c2")
    before = store.head()
    again = store.append([write("z", *notes("different"))], command_id="c1")
    assert again.duplicate and not first.duplicate
    assert (again.first_position, again.last_position) == (1, 3)
    assert again.versions == first.versions == {"a": 2, "b": 1}
    assert store.head() == before
    assert store.stream_version("z") == 0
    recorded = store.command_result("c1")
    assert recorded is not None
    assert (recorded.first_position, recorded.last_position) == (1, 3)
    assert store.command_result("unknown") is None


def test_a_repeated_command_id_wins_over_a_now_stale_expected_version(store: EventStore) -> None:
    store.append([write("a", *notes("1"), expected=NO_STREAM)], command_id="c1")
    again = store.append([write("a", *notes("1"), expected=NO_STREAM)], command_id="c1")
    assert again.duplicate
    assert store.stream_version("a") == 1


def test_the_first_event_of_a_command_carries_the_id_derived_from_the_command_id(store: EventStore) -> None:
    store.append([write("a", *notes("1", "2")), write("b", *notes("3"))], command_id="c1")
    store.append([write("a"), write("b", *notes("4"))], command_id="命令-2")  # "a" only checked
    ids = [e.event_id for e in store.read_after(0)]
    # recomputed the way the README tells an auditor to, not through the store's own function
    for position, command in ((1, "c1"), (4, "命令-2")):
        h = hashlib.sha256(b"sandbox-registry:command:" + command.encode()).hexdigest()
        derived = uuid.UUID(ids[position - 1])
        assert (derived.version, derived.variant) == (8, uuid.RFC_4122)
        assert derived.hex[:12] == h[:12] and derived.hex[13:16] == h[13:16] and derived.hex[17:] == h[17:32]
        assert int(derived.hex[16], 16) & 3 == int(h[16], 16) & 3  # the variant's two low bits kept
    assert [uuid.UUID(ids[i]).version for i in (1, 2)] == [4, 4]


def test_an_append_that_writes_nothing_records_nothing(store: EventStore) -> None:
    store.append([write("a", *notes("1"))], command_id="c1")
    checked = store.append([write("a", expected=1)], command_id="only-a-check")
    assert (checked.first_position, checked.last_position, checked.duplicate) == (0, 0, False)
    assert store.command_result("only-a-check") is None
    store.append([write("a", *notes("2"))], command_id="c2")
    with pytest.raises(ConflictError):  # repeating it checks the version again
        store.append([write("a", expected=1)], command_id="only-a-check")
    again = store.append([write("a", expected=1)], command_id="c1")  # a recorded command, nothing written
    assert again.duplicate and (again.first_position, again.last_position) == (1, 1)


# -- 4 (envelope). metadata -----------------------------------------------------------------------


def test_metadata_is_stored_with_utc_times_and_the_command_id(store: EventStore) -> None:
    beijing = timezone(timedelta(hours=8))
    occurred = datetime(2024, 3, 1, 8, 0, tzinfo=beijing)
    m = meta(
        occurred_at=occurred,
        organisation="org-1",
        correlation_id="corr",
        causation_id="cause",
        reason="因为",
        rule_version="fintech@3",
        attachments=("a" * 64,),
        command_id="ignored",
    )
    store.append([StreamWrite("s", (NewEvent(Noted(text="x"), m),))], command_id="cmd-7")
    [event] = store.read_stream("s")
    got = event.metadata
    assert got.occurred_at == occurred
    assert got.occurred_at.utcoffset() == timedelta(0)
    assert got.command_id == "cmd-7"
    assert (got.actor, got.role, got.organisation) == ("tester", "officer", "org-1")
    assert (got.correlation_id, got.causation_id, got.reason) == ("corr", "cause", "因为")
    assert got.rule_version == "fintech@3"
    assert got.attachments == ("a" * 64,)
    assert event.recorded_at.tzinfo is not None and event.recorded_at.utcoffset() == timedelta(0)
    stored = next(iter(store.iter_stored()))
    assert b"2024-03-01T00:00:00" in bytes(stored.metadata)
    assert stored.event_id == event.event_id and len(stored.event_id) == 36


def test_a_naive_occurred_at_is_refused_and_nothing_written(store: EventStore) -> None:
    naive = datetime(2024, 3, 1, 8, 0)
    with pytest.raises(InvalidAppendError, match="occurred_at"):
        store.append([StreamWrite("s", (new(Noted(text="x"), occurred_at=naive),))], command_id="c1")
    nothing_written(store, store.head(), "c1")
    assert store.head().position == 0


# -- 8. reads ------------------------------------------------------------------------------------


def test_read_stream_from_and_to_version(store: EventStore) -> None:
    store.append([write("s", *notes("1", "2", "3", "4", "5"))], command_id="c1")
    store.append([write("other", *notes("o"))], command_id="c2")
    assert texts(store.read_stream("s", from_version=3)) == ["3", "4", "5"]
    assert texts(store.read_stream("s", to_version=2)) == ["1", "2"]
    assert texts(store.read_stream("s", from_version=2, to_version=4)) == ["2", "3", "4"]
    assert store.read_stream("s", from_version=6) == []
    assert store.read_stream("missing") == []


def test_read_stream_as_of_position(store: EventStore) -> None:
    store.append([write("s", *notes("1"))], command_id="c1")  # position 1
    store.append([write("other", *notes("o"))], command_id="c2")  # position 2
    store.append([write("s", *notes("2", "3"))], command_id="c3")  # positions 3, 4
    assert texts(store.read_stream("s", as_of_position=0)) == []
    assert texts(store.read_stream("s", as_of_position=2)) == ["1"]
    assert texts(store.read_stream("s", as_of_position=3)) == ["1", "2"]
    assert texts(store.read_stream("s", as_of_position=99)) == ["1", "2", "3"]


def test_read_stream_as_of_time(store: EventStore, clock: Clock) -> None:
    t1 = clock.now
    store.append([write("s", *notes("1"))], command_id="c1")
    t2 = clock.advance(minutes=5)
    store.append([write("s", *notes("2"))], command_id="c2")
    t3 = clock.advance(days=1)
    store.append([write("s", *notes("3"))], command_id="c3")
    assert texts(store.read_stream("s", as_of_time=t1 - timedelta(microseconds=1))) == []
    assert texts(store.read_stream("s", as_of_time=t1)) == ["1"]
    assert texts(store.read_stream("s", as_of_time=t2 + timedelta(minutes=1))) == ["1", "2"]
    # the same instant in another zone means the same cut
    assert texts(store.read_stream("s", as_of_time=t2.astimezone(timezone(timedelta(hours=8))))) == [
        "1",
        "2",
    ]
    assert texts(store.read_stream("s", as_of_time=t3)) == ["1", "2", "3"]
    assert [e.recorded_at for e in store.read_stream("s")] == [t1, t2, t3]


def test_iter_stream_cuts_a_stream_and_reads_it_when_called(store: EventStore, clock: Clock) -> None:
    early = clock.now
    store.append([write("s", *notes("1", "2"))], command_id="c1")  # positions 1, 2
    store.append([write("other", *notes("o"))], command_id="c2")  # position 3
    clock.advance(minutes=5)
    store.append([write("s", *notes("3", "4", "5"))], command_id="c3")  # positions 4-6
    cuts: list[tuple[dict[str, Any], list[str]]] = [
        ({}, ["1", "2", "3", "4", "5"]),
        ({"from_version": 2}, ["2", "3", "4", "5"]),
        ({"to_version": 3}, ["1", "2", "3"]),
        ({"from_version": 2, "to_version": 4}, ["2", "3", "4"]),
        ({"as_of_position": 4}, ["1", "2", "3"]),
        ({"as_of_position": 0}, []),
        ({"as_of_time": early}, ["1", "2"]),
        ({"from_version": 2, "as_of_time": early}, ["2"]),
    ]
    for kwargs, expected in cuts:
        assert texts(list(store.iter_stream("s", **kwargs))) == expected, kwargs
    assert list(store.iter_stream("missing")) == []
    # The events are those of the moment it was called: a later append is not among them,
    # even though they are decoded only as they are taken.
    pending = store.iter_stream("s")
    first = next(pending)
    store.append([write("s", *notes("6"))], command_id="c4")
    assert texts([first, *pending]) == ["1", "2", "3", "4", "5"]


def test_read_after_in_batches(store: EventStore) -> None:
    store.append([write("a", *notes(*"abcde"))], command_id="c1")
    store.append([write("b", *notes(*"fg"))], command_id="c2")
    batches, after = [], 0
    while batch := store.read_after(after, limit=3):
        batches.append([e.position for e in batch])
        after = batch[-1].position
    assert batches == [[1, 2, 3], [4, 5, 6], [7]]
    assert store.read_after(7) == []
    assert [e.position for e in store.read_after(2, limit=2)] == [3, 4]


def test_read_after_filtered_by_types(store: EventStore) -> None:
    store.append(
        [write("a", Opened(name="a"), Noted(text="1"), Tagged(label="t"), Noted(text="2"))],
        command_id="c1",
    )
    store.append([write("b", Opened(name="b"), Noted(text="3"))], command_id="c2")
    assert [e.position for e in store.read_after(0, types=["Noted"])] == [2, 4, 6]
    assert [e.position for e in store.read_after(2, types=["Noted"], limit=1)] == [4]
    assert [e.position for e in store.read_after(0, types=["Opened", "Tagged"])] == [1, 3, 5]
    assert store.read_after(0, types=["Nothing"]) == []


def test_iter_all_reads_everything_in_order_whatever_the_batch(store: EventStore) -> None:
    for i in range(5):
        store.append([write(f"s{i % 2}", Opened(name=str(i)), *notes(str(i)))], command_id=f"c{i}")
    everything = summary(store.read_after(0, limit=1000))
    assert len(everything) == 10
    for batch in (1, 3, 1000):
        assert summary(store.iter_all(batch=batch)) == everything
    assert summary(store.iter_all(after=4, batch=2)) == everything[4:]
    assert [e.position for e in store.iter_all(batch=2, types=["Opened"])] == [1, 3, 5, 7, 9]


def test_head_position_and_hash(store: EventStore) -> None:
    empty = store.head()
    assert (empty.position, empty.hash) == (0, GENESIS_HASH)
    store.append([write("s", *notes("a", "b"))], command_id="c1")
    head = store.head()
    last = store.read_after(0)[-1]
    assert (head.position, head.hash) == (2, last.hash)
    stored = list(store.iter_stored())
    assert stored_hash(stored[-1]) == head.hash
    assert stored[1].prev_hash == stored[0].hash and stored[0].prev_hash == GENESIS_HASH


def test_position_at(store: EventStore, clock: Clock) -> None:
    t0 = clock.now
    assert store.position_at(t0) == 0
    store.append([write("s", *notes("1", "2"))], command_id="c1")
    t1 = clock.advance(seconds=10)
    store.append([write("s", *notes("3"))], command_id="c2")
    clock.advance(seconds=10)
    store.append([write("s", *notes("4"))], command_id="c3")
    assert store.position_at(t0 - timedelta(seconds=1)) == 0
    assert store.position_at(t0) == 2
    assert store.position_at(t1 - timedelta(microseconds=1)) == 2
    assert store.position_at(t1) == 3
    assert store.position_at(t1 + timedelta(days=1)) == 4


def test_recorded_at_never_decreases_even_if_the_clock_goes_backwards(
    store: EventStore, clock: Clock
) -> None:
    t0 = clock.now
    store.append([write("s", *notes("1"))], command_id="c1")
    clock.set(t0 - timedelta(hours=3))
    store.append([write("s", *notes("2"))], command_id="c2")
    clock.set(t0 + timedelta(seconds=1))
    store.append([write("s", *notes("3"))], command_id="c3")
    recorded = [e.recorded_at for e in store.read_after(0)]
    assert recorded == [t0, t0, t0 + timedelta(seconds=1)]
    assert store.position_at(t0) == 2
    assert store.verify().ok


def test_recorded_at_is_utc(store: EventStore, clock: Clock) -> None:
    clock.set(datetime(2024, 1, 1, 8, 0, tzinfo=timezone(timedelta(hours=8))))
    store.append([write("s", *notes("1"))], command_id="c1")
    [stored] = list(store.iter_stored())
    assert stored.recorded_at == "2024-01-01T00:00:00.000000Z"
    assert store.head().recorded_at == stored.recorded_at


# -- 6. verify -------------------------------------------------------------------------------------


def test_verify_reports_count_and_head(store: EventStore) -> None:
    assert store.verify().ok and store.verify().count == 0
    store.append([write("a", *notes("1", "2")), write("b", Tagged(label="é", attrs={"k": 1}))], command_id="c")
    report = store.verify()
    assert report.ok
    assert (report.count, report.head_position, report.head_hash) == (3, 3, store.head().hash)
    assert "3 events" in report.line() and store.head().hash in report.line()


# -- 9. catch-up readers ------------------------------------------------------------------------------


def record_positions(tx: Any, events: Any) -> None:
    for e in events:
        insert_row(tx, "seen", {"position": e.position, "stream": e.stream_id, "type": e.type})


def test_process_feeds_batches_and_advances_the_checkpoint(store: EventStore) -> None:
    store.append([write("s", *notes(*"abcde"))], command_id="c1")
    assert store.checkpoint("r") == 0
    assert store.process("r", record_positions, batch=2) == 2
    assert store.checkpoint("r") == 2
    assert [r["position"] for r in table_rows(store, "seen")] == [1, 2]
    assert catch_up(store, "r", record_positions, batch=2) == 3
    assert store.checkpoint("r") == 5
    assert store.process("r", record_positions) == 0
    assert [r["position"] for r in table_rows(store, "seen")] == [1, 2, 3, 4, 5]
    assert store.checkpoint("other") == 0


def test_a_failing_handler_changes_neither_its_writes_nor_the_checkpoint(store: EventStore) -> None:
    store.append([write("s", *notes(*"abcdef"))], command_id="c1")
    store.process("r", record_positions, batch=2)

    def half_then_fail(tx: Any, events: Any) -> None:
        record_positions(tx, events[:1])
        raise RuntimeError("projection bug")

    with pytest.raises(RuntimeError, match="projection bug"):
        store.process("r", half_then_fail, batch=2)
    assert store.checkpoint("r") == 2
    assert [r["position"] for r in table_rows(store, "seen")] == [1, 2]
    # resuming applies each remaining event exactly once
    assert catch_up(store, "r", record_positions, batch=2) == 4
    assert [r["position"] for r in table_rows(store, "seen")] == [1, 2, 3, 4, 5, 6]


def test_catch_up_resumes_where_it_stopped_and_matches_an_uninterrupted_run(store: EventStore) -> None:
    for i in range(7):
        store.append([write(f"s{i % 3}", *notes(*(str(i) * (k + 1) for k in range(i % 3 + 1))))], command_id=f"c{i}")
    calls = 0

    def crash_on_third(tx: Any, events: Any) -> None:
        nonlocal calls
        calls += 1
        for e in events:
            insert_row(tx, "a", {"position": e.position, "text": e.payload.text})
            if calls == 3 and e is events[-1]:
                raise KeyboardInterrupt  # dies mid-batch, after writing rows
    with pytest.raises(KeyboardInterrupt):
        catch_up(store, "a", crash_on_third, batch=3)
    assert store.checkpoint("a") == 6

    def clean(table: str) -> Any:
        def handler(tx: Any, events: Any) -> None:
            for e in events:
                insert_row(tx, table, {"position": e.position, "text": e.payload.text})

        return handler

    catch_up(store, "a", clean("a"), batch=3)
    catch_up(store, "b", clean("b"), batch=1000)
    assert table_rows(store, "a") == table_rows(store, "b")
    assert [r["position"] for r in table_rows(store, "a")] == list(range(1, store.head().position + 1))


def test_a_types_filtered_checkpoint_advances_past_other_types(store: EventStore) -> None:
    store.append([write("s", Opened(name="x"), *notes("1", "2"), Opened(name="y"))], command_id="c1")
    store.append([write("t", *notes("3", "4", "5"))], command_id="c2")  # no Opened at the tail
    seen: list[int] = []

    def opened_only(tx: Any, events: Any) -> None:
        assert all(e.type == "Opened" for e in events)
        seen.extend(e.position for e in events)

    advanced = catch_up(store, "r", opened_only, batch=2, types=["Opened"])
    assert seen == [1, 4]
    assert advanced == 7
    assert store.checkpoint("r") == 7
    assert store.process("r", opened_only, types=["Opened"]) == 0
    # a batch window with no event of the wanted type still moves the checkpoint
    store.append([write("t", *notes("6"))], command_id="c3")
    assert store.process("r", opened_only, types=["Opened"]) == 1
    assert store.checkpoint("r") == 8
    assert seen == [1, 4]


def test_a_stream_named_without_events_only_checks_its_version(store: EventStore) -> None:
    store.append([write("guard", *notes("g"))], command_id="c0")
    before = store.head()
    with pytest.raises(ConflictError) as info:
        store.append([write("guard", expected=0), write("s", *notes("x"))], command_id="c1")
    assert info.value.stream_id == "guard"
    nothing_written(store, before, "c1")
    first = store.append([write("guard", expected=1), write("s", *notes("x"))], command_id="c1")
    again = store.append([write("guard", expected=1), write("s", *notes("x"))], command_id="c1")
    assert first.versions == again.versions == {"s": 1}
    assert (again.first_position, again.last_position) == (first.first_position, first.last_position) == (2, 2)
    assert store.stream_version("guard") == 1


# -- snapshots ----------------------------------------------------------------------------------


def test_a_kept_snapshot_is_read_back_for_its_schema_only(store: EventStore) -> None:
    store.append([write("s", *notes(*"abc"))], command_id="c1")
    assert store.read_snapshot("s", 1) is None
    store.keep_snapshots(1, [("s", Snapshot(version=2, position=2, state=b"ab"))])
    assert store.read_snapshot("s", 1) == Snapshot(2, 2, b"ab")
    assert store.read_snapshot("s", 2) is None  # a reader whose state changed shape starts over
    assert store.read_snapshot("other", 1) is None
    assert store.read_snapshot("s", 1, upto=1) is None  # it covers an event after position 1
    assert store.read_snapshot("s", 1, upto=2) == Snapshot(2, 2, b"ab")
    store.keep_snapshots(2, [("s", Snapshot(version=3, position=3, state=b"abc"))])  # the latest replaces it
    assert store.read_snapshot("s", 2) == Snapshot(3, 3, b"abc") and store.read_snapshot("s", 1) is None


def test_a_snapshot_kept_by_a_failing_reader_is_not_kept(store: EventStore) -> None:
    store.append([write("s", *notes(*"abcd"))], command_id="c1")

    def keep_then_fail(tx: Any, events: Any) -> None:
        last = events[-1]
        store.keep_snapshots(1, [("s", Snapshot(last.version, last.position, b"folded"))])
        raise RuntimeError("projection bug")

    with pytest.raises(RuntimeError, match="projection bug"):
        store.process("r", keep_then_fail, batch=2)
    assert store.read_snapshot("s", 1) is None and store.checkpoint("r") == 0

    def keep(tx: Any, events: Any) -> None:
        last = events[-1]
        store.keep_snapshots(1, [("s", Snapshot(last.version, last.position, b"folded"))])

    store.process("r", keep, batch=2)
    assert store.read_snapshot("s", 1) == Snapshot(2, 2, b"folded")
