"""Guarantees only the SQLite backend can show: the file on disk, other processes, restarts,
triggers and pragmas."""

from __future__ import annotations

import multiprocessing
import os
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from events import appending
from events.appending import command_event_id
from events.errors import (
    ConflictError,
    ImmutableLogError,
    StoreBusyError,
    StoreError,
    StoreUnavailableError,
)
from events.export import export_lines
from events.importer import import_log
from events.model import ANY, NO_STREAM
from events.sqlite import SQLiteEventStore
from events.store import catch_up
from tests.fixtures.stores import (
    crash_during_catch_up,
    drop_triggers,
    make_codec,
    notes,
    open_sqlite,
    raw_connection,
    write,
)

#: A command record as databases kept them before a command's record became its first event's id.
_LEGACY_RECORD = "INSERT INTO commands (command_id, first_position, last_position, recorded_at) VALUES (?, ?, ?, ?)"


@pytest.fixture
def sqlite_store(db_path: Path) -> Any:
    s = open_sqlite(db_path)
    s.append([write("a", *notes("1", "2")), write("b", *notes("3"))], command_id="c1")
    yield s
    s.close()


# -- idempotency across processes and restarts ---------------------------------------------------


def test_a_command_id_is_remembered_by_another_store_on_the_same_file(
    sqlite_store: SQLiteEventStore, db_path: Path
) -> None:
    other = open_sqlite(db_path, create=False)
    try:
        before = other.head()
        again = other.append([write("a", *notes("x"))], command_id="c1")
        assert again.duplicate
        assert (again.first_position, again.last_position, again.versions) == (1, 3, {"a": 2, "b": 1})
        assert other.head() == before == sqlite_store.head()
    finally:
        other.close()


def test_a_command_id_is_remembered_after_a_restart(sqlite_store: SQLiteEventStore, db_path: Path) -> None:
    sqlite_store.close()
    reopened = open_sqlite(db_path, create=False)
    try:
        again = reopened.append([write("a", *notes("x"))], command_id="c1")
        assert again.duplicate and list(again.positions) == [1, 2, 3]
        assert reopened.head().position == 3
        # versions and positions continue where they were
        fresh = reopened.append([write("a", *notes("4"), expected=2)], command_id="c2")
        assert (fresh.first_position, fresh.versions) == (4, {"a": 3})
    finally:
        reopened.close()


def test_a_conflict_seen_from_another_store_object(sqlite_store: SQLiteEventStore, db_path: Path) -> None:
    other = open_sqlite(db_path, create=False)
    try:
        other.append([write("a", *notes("y"), expected=2)], command_id="c2")
        with pytest.raises(ConflictError) as info:
            sqlite_store.append([write("a", *notes("z"), expected=2)], command_id="c3")
        assert info.value.actual == 3
    finally:
        other.close()


def test_a_repeated_command_is_refused_by_the_event_id_index_alone(
    sqlite_store: SQLiteEventStore, db_path: Path
) -> None:
    conn = raw_connection(db_path)
    try:
        assert conn.execute("SELECT count(*) FROM commands").fetchone() == (0,)  # no second record
        [(first_id,)] = conn.execute("SELECT event_id FROM events WHERE position = 1")
    finally:
        conn.close()
    assert first_id == command_event_id("c1")
    again = sqlite_store.append([write("a", *notes("x"))], command_id="c1")
    assert again.duplicate and (again.first_position, again.last_position) == (1, 3)


def _append_as_older_databases_did(store: SQLiteEventStore, command_id: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A random first event id and a row in the ``commands`` table, as before ids were derived."""
    with monkeypatch.context() as m:
        m.setattr(appending, "command_event_id", lambda _: appending.new_event_id())
        result = store.append([write("old", *notes("o1", "o2"))], command_id=command_id)
    with store.transaction() as db:
        db.execute(_LEGACY_RECORD, (command_id, result.first_position, result.last_position, "2024-01-01T00:00:00Z"))


@pytest.fixture
def older_store(db_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A database begun before event ids were derived: its first append (``old-1``, positions 1
    and 2) has a random first id and a row in ``commands``; ``c1`` (3 to 5) came after the change."""
    s = open_sqlite(db_path)
    _append_as_older_databases_did(s, "old-1", monkeypatch)
    s.append([write("a", *notes("1", "2")), write("b", *notes("3"))], command_id="c1")
    yield s
    s.close()


def test_commands_an_older_database_recorded_in_its_table_stay_idempotent(
    older_store: SQLiteEventStore, db_path: Path
) -> None:
    older_store.append([write("old", *notes("later"))], command_id="new-1")
    reopened = open_sqlite(db_path, create=False)
    try:
        head = reopened.head()
        for expected in (ANY, 0):  # whether or not the versions still hold
            again = reopened.append([write("old", *notes("o1", "o2"), expected=expected)], command_id="old-1")
            assert again.duplicate and (again.first_position, again.last_position) == (1, 2)
            assert again.versions == {"old": 2}
        assert reopened.head() == head
        assert reopened.append([write("a", *notes("x"))], command_id="new-1").duplicate
        recorded = reopened.command_result("old-1")
        assert recorded is not None and (recorded.first_position, recorded.last_position) == (1, 2)
        assert reopened.verify().ok
        attacker = raw_connection(db_path)
        drop_triggers(attacker)
        attacker.execute("DELETE FROM events WHERE position >= 2")
        attacker.close()
        report = reopened.verify()  # the record still names position 2
        assert (report.ok, report.failed_position) == (False, 2) and "removed" in (report.reason or "")
    finally:
        reopened.close()


@pytest.mark.parametrize("older", [False, True])
def test_an_imported_log_keeps_every_command_idempotent(
    request: pytest.FixtureRequest, tmp_path: Path, older: bool
) -> None:
    store: SQLiteEventStore = request.getfixturevalue("older_store" if older else "sqlite_store")
    store.append([write("b", *notes("4", "5"))], command_id="c2")
    lines = list(export_lines(store.iter_stored()))
    target = open_sqlite(tmp_path / "imported.db")
    try:
        assert import_log(target, lines) == store.head().position
        records = target.connection.execute("SELECT command_id, first_position, last_position FROM commands")
        # only a command whose first event does not carry the derived id needs a record
        assert records.fetchall() == ([("old-1", 1, 2)] if older else [])
        head = target.head()
        c1 = (3, 5) if older else (1, 3)
        for command_id, span in (("c1", c1), ("c2", (head.position - 1, head.position))):
            again = target.append([write("z", *notes("again"))], command_id=command_id)
            assert again.duplicate and (again.first_position, again.last_position) == span
        if older:
            assert target.append([write("z", *notes("again"))], command_id="old-1").duplicate
        assert target.head() == head
    finally:
        target.close()


# -- 7. immutability -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE events SET data = '{}' WHERE position = 1",
        "DELETE FROM events WHERE position = 3",
        "DELETE FROM events",
        "UPDATE commands SET last_position = 1",
        "DELETE FROM commands",
    ],
)
def test_the_database_refuses_update_and_delete(sqlite_store: SQLiteEventStore, db_path: Path, sql: str) -> None:
    table = "commands" if "commands" in sql else "events"
    op = sql.split()[0]
    if table == "commands":  # the records an older database kept of its commands
        with sqlite_store.transaction() as db:
            db.execute(_LEGACY_RECORD, ("old-command", 1, 2, "2024-01-01T00:00:00.000000Z"))
    with pytest.raises(ImmutableLogError, match=f"{op} on {table} is refused"), sqlite_store.transaction() as db:
        db.execute(sql)
    # and through a plain sqlite3 connection, as any other program would try
    conn = raw_connection(db_path)
    with pytest.raises(sqlite3.IntegrityError, match="immutable"):
        conn.execute(sql)
    conn.close()
    assert sqlite_store.head().position == 3
    assert sqlite_store.verify().ok


def test_reopening_restores_dropped_triggers(sqlite_store: SQLiteEventStore, db_path: Path) -> None:
    conn = raw_connection(db_path)
    drop_triggers(conn)
    open_sqlite(db_path).close()
    with pytest.raises(sqlite3.IntegrityError, match="immutable"):
        conn.execute("DELETE FROM events")
    conn.close()


def test_a_database_from_before_the_insert_guards_gets_them_when_opened(
    sqlite_store: SQLiteEventStore, db_path: Path
) -> None:
    """A file written before the INSERT triggers existed has every table and the UPDATE and
    DELETE triggers: opening it adds the ones it lacks, and a replacing insert is refused."""
    conn = raw_connection(db_path)
    for name in ("events_insert_appends_only", "events_insert_new_event_id", "commands_insert_appends_only"):
        conn.execute(f"DROP TRIGGER {name}")
    row = conn.execute("SELECT * FROM events WHERE position = 1").fetchone()
    open_sqlite(db_path).close()
    with pytest.raises(sqlite3.IntegrityError, match="immutable"):
        conn.execute(f"INSERT OR REPLACE INTO events VALUES ({', '.join('?' * len(row))})", row)
    conn.close()
    assert sqlite_store.verify().ok


_TREE_TAMPERING = [
    "UPDATE merkle_subtrees SET hash = zeroblob(32)",
    "DELETE FROM merkle_subtrees WHERE level = 4",
    "INSERT OR REPLACE INTO merkle_subtrees (level, idx, hash) VALUES (4, 0, zeroblob(32))",
    "UPDATE signed_checkpoints SET note = 'forged'",
    "DELETE FROM signed_checkpoints",
    "INSERT OR REPLACE INTO signed_checkpoints (id, tree_size, key_id, signed_at, note)"
    " VALUES (1, 0, 'k', 'now', 'forged')",
]


def _tree_rows(store: SQLiteEventStore) -> list[tuple[Any, ...]]:
    conn = store.connection
    return [
        *conn.execute("SELECT level, idx, hash FROM merkle_subtrees ORDER BY level, idx"),
        *conn.execute("SELECT * FROM signed_checkpoints ORDER BY id"),
    ]


def _tree_and_checkpoint(store: SQLiteEventStore) -> list[tuple[Any, ...]]:
    """Give the store a stored subtree and a kept checkpoint; their rows as they are."""
    store.append([write("c", *notes(*map(str, range(16))))], command_id="sixteen")  # 19 events: one block
    assert store.keep_checkpoint("a signed note", "0a0b0c0d", "2026-12-08T00:00:00.000000Z", 19)
    return _tree_rows(store)


@pytest.mark.parametrize("sql", _TREE_TAMPERING)
def test_the_tree_and_the_signed_checkpoints_refuse_change(
    sqlite_store: SQLiteEventStore, db_path: Path, sql: str
) -> None:
    """A stored subtree or a kept checkpoint cannot be changed, removed or replaced, through the
    store or through any other connection to the file."""
    before = _tree_and_checkpoint(sqlite_store)
    assert len(before) == 2
    with pytest.raises(ImmutableLogError, match="are immutable"), sqlite_store.transaction() as db:
        db.execute(sql)
    conn = raw_connection(db_path)
    with pytest.raises(sqlite3.IntegrityError, match="Merkle tree of the log and its signed checkpoints"):
        conn.execute(sql)
    conn.close()
    assert _tree_rows(sqlite_store) == before


def test_a_database_from_before_the_tree_guards_gets_them_when_opened(
    sqlite_store: SQLiteEventStore, db_path: Path
) -> None:
    """A file written before the tree's tables were guarded (the tables, no triggers on them)
    gets the triggers when a store opens it."""
    _tree_and_checkpoint(sqlite_store)
    conn = raw_connection(db_path)
    for table in ("merkle_subtrees", "signed_checkpoints"):
        for guard in ("refuse_update", "refuse_delete", "insert_new_only"):
            conn.execute(f"DROP TRIGGER {table}_{guard}")
    conn.execute("SAVEPOINT unguarded")  # without the triggers, the rows can be rewritten...
    conn.execute("DELETE FROM signed_checkpoints")
    conn.execute("ROLLBACK TO unguarded")
    conn.execute("RELEASE unguarded")
    open_sqlite(db_path).close()
    for sql in _TREE_TAMPERING:  # ...and once a store opened the file, no longer
        with pytest.raises(sqlite3.IntegrityError, match="immutable"):
            conn.execute(sql)
    conn.close()


def test_checkpoints_stay_writable(sqlite_store: SQLiteEventStore) -> None:
    sqlite_store.process("r", lambda db, events: None)
    sqlite_store.reset_checkpoint("r")
    assert sqlite_store.checkpoint("r") == 0


# -- durability settings -------------------------------------------------------------------------


def test_wal_and_synchronous_full_by_default(sqlite_store: SQLiteEventStore, db_path: Path) -> None:
    conn = sqlite_store.connection
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert conn.execute("PRAGMA busy_timeout").fetchone()[0] > 0
    other = raw_connection(db_path)  # WAL is a property of the file
    assert other.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    other.close()


def test_dropping_rows_does_not_write_their_freed_pages_again(sqlite_store: SQLiteEventStore, db_path: Path) -> None:
    conn = sqlite_store.connection
    with sqlite_store.transaction():
        conn.execute("CREATE TABLE scratch (body BLOB NOT NULL)")
        conn.executemany("INSERT INTO scratch VALUES (?)", [(os.urandom(3000),) for _ in range(200)])
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    with sqlite_store.transaction():
        conn.execute("DROP TABLE scratch")  # about 200 pages go to the free list
    assert os.path.getsize(f"{db_path}-wal") < 20 * page_size


def test_synchronous_is_configurable_for_bulk_loads(tmp_path: Path) -> None:
    s = open_sqlite(tmp_path / "bulk.db", synchronous="NORMAL")
    assert s.connection.execute("PRAGMA synchronous").fetchone()[0] == 1
    s.close()


# -- unusable files --------------------------------------------------------------------------------


def test_missing_file_without_create_is_unavailable(tmp_path: Path) -> None:
    with pytest.raises(StoreUnavailableError, match="no registry database"):
        SQLiteEventStore(tmp_path / "nope.db", make_codec(), create=False)
    assert not (tmp_path / "nope.db").exists()


def test_a_file_that_is_not_a_database_is_unavailable(tmp_path: Path) -> None:
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not sqlite, just some text " * 100)
    with pytest.raises(StoreUnavailableError):
        SQLiteEventStore(junk, make_codec(), create=False)


def test_a_directory_that_does_not_exist_is_unavailable(tmp_path: Path) -> None:
    with pytest.raises(StoreUnavailableError):
        SQLiteEventStore(tmp_path / "no" / "such" / "dir.db", make_codec())


def test_a_held_write_lock_gives_busy_not_a_driver_error(sqlite_store: SQLiteEventStore, db_path: Path) -> None:
    impatient = open_sqlite(db_path, busy_timeout=0.05)
    holder = raw_connection(db_path)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(StoreBusyError):
            impatient.append([write("a", *notes("x"))], command_id="c9")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert impatient.command_result("c9") is None
    assert impatient.append([write("a", *notes("x"))], command_id="c9").first_position == 4
    impatient.close()


# -- 5/9. projections in the same transaction, across a hard crash ---------------------------------------


def test_a_projection_killed_mid_batch_resumes_and_applies_each_event_once(db_path: Path) -> None:
    store = open_sqlite(db_path)
    for i in range(12):
        store.append([write(f"s{i % 3}", *notes(*(f"{i}-{k}" for k in range(i % 4 + 1))))], command_id=f"c{i}")
    total = store.head().position
    store.close()

    ctx = multiprocessing.get_context("spawn")
    child = ctx.Process(target=crash_during_catch_up, args=(str(db_path), "proj", 5, 3))
    child.start()
    child.join(timeout=120)
    assert child.exitcode == 3  # it died in the middle of its third batch

    store = open_sqlite(db_path, create=False)
    try:
        assert store.checkpoint("proj") == 10
        assert [r["position"] for r in store.db["rows"].rows] == list(range(1, 11))

        def project(table: str) -> Any:
            def handler(db: Any, events: Any) -> None:
                for e in events:
                    db[table].insert(
                        {"position": e.position, "stream": e.stream_id, "version": e.version}, pk="position"
                    )

            return handler

        assert catch_up(store, "proj", project("rows"), batch=5) == total - 10
        catch_up(store, "reference", project("reference"), batch=total)
        rows = list(store.db.query("SELECT * FROM rows ORDER BY position"))
        assert rows == list(store.db.query("SELECT * FROM reference ORDER BY position"))
        assert len(rows) == total
        assert store.verify().ok
    finally:
        store.close()


def test_a_handler_that_appends_joins_the_same_transaction(sqlite_store: SQLiteEventStore) -> None:
    def react_then_fail(db: Any, events: Any) -> None:
        sqlite_store.append([write("reactions", *notes("r"), expected=NO_STREAM)], command_id="react-1")
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        sqlite_store.process("r", react_then_fail)
    assert sqlite_store.stream_version("reactions") == 0
    assert sqlite_store.command_result("react-1") is None
    assert sqlite_store.checkpoint("r") == 0


def test_a_repeated_command_inside_a_transaction_leaves_the_transaction_whole(
    sqlite_store: SQLiteEventStore,
) -> None:
    # The repeat is refused by the commands table's key: only that statement fails, so the
    # caller's own writes before and after it still commit together.
    with sqlite_store.transaction():
        sqlite_store.append([write("x", *notes("before"))], command_id="c-before")
        again = sqlite_store.append([write("z", *notes("other"))], command_id="c1")
        sqlite_store.append([write("x", *notes("after"))], command_id="c-after")
    assert again.duplicate
    assert (again.first_position, again.last_position, again.versions) == (1, 3, {"a": 2, "b": 1})
    assert sqlite_store.stream_version("x") == 2
    assert sqlite_store.stream_version("z") == 0
    assert [e.position for e in sqlite_store.read_after(0)] == [1, 2, 3, 4, 5]
    assert sqlite_store.verify().ok


# -- verify against a live, growing log ----------------------------------------------------------------


def test_verify_is_not_fooled_by_appends_committed_while_it_runs(
    sqlite_store: SQLiteEventStore, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    writer = open_sqlite(db_path, create=False)
    original = SQLiteEventStore._stored_rows  # the one way verify reads the log
    reads: list[int] = []

    def read_then_append(self: SQLiteEventStore, after: int, batch: int, *sql: str) -> Any:
        rows, unreadable = original(self, after, batch, *sql)
        reads.append(len(rows))
        if not rows and len(reads) == 2:
            # another process commits after verify saw the end of the log
            writer.append([write("late", *notes("x"))], command_id="late-1")
        return rows, unreadable

    monkeypatch.setattr(SQLiteEventStore, "_stored_rows", read_then_append)
    report = sqlite_store.verify()
    writer.close()
    assert reads == [3, 0], "verify must read the log through _stored_rows"
    assert report.ok, report.line()
    assert report.count == 3
    assert sqlite_store.head().position == 4


def test_an_unreadable_text_column_is_reported_not_raised(sqlite_store: SQLiteEventStore, db_path: Path) -> None:
    conn = raw_connection(db_path)
    drop_triggers(conn)
    conn.execute("UPDATE events SET stream_id = CAST(x'61ff' AS TEXT) WHERE position = 2")
    conn.close()
    report = sqlite_store.verify()
    assert not report.ok
    assert report.failed_position == 2
    assert "UTF-8" in (report.reason or "")


def test_events_are_read_at_the_positions_asked_for_in_that_order(sqlite_store: SQLiteEventStore) -> None:
    sqlite_store.append([write("c", *notes("4", "5"))], command_id="c2")
    everything = {e.position: e for e in sqlite_store.read_after(0)}
    assert [e.position for e in sqlite_store.read_positions([5, 2, 4])] == [5, 2, 4]
    assert sqlite_store.read_positions([3]) == [everything[3]]
    assert sqlite_store.read_positions([]) == []
    with pytest.raises(StoreError, match="no event at position 9"):
        sqlite_store.read_positions([2, 9])


def test_a_savepoint_undoes_its_own_writes_and_the_transaction_goes_on(sqlite_store: SQLiteEventStore) -> None:
    with sqlite_store.transaction():
        sqlite_store.append([write("a", *notes("kept"), expected=2)], command_id="c2")
        with pytest.raises(ConflictError), sqlite_store.savepoint():
            sqlite_store.append([write("c", *notes("undone"))], command_id="c3")
            sqlite_store.append([write("a", *notes("conflict"), expected=2)], command_id="c4")
        with sqlite_store.savepoint():
            sqlite_store.append([write("b", *notes("also kept"), expected=1)], command_id="c5")
    assert [e.stream_id for e in sqlite_store.read_after(3)] == ["a", "b"]
    assert sqlite_store.stream_version("c") == 0 and sqlite_store.command_result("c3") is None


# -- hosting a projection (the ProjectionHost port) ----------------------------------------------


def test_a_snapshot_read_sees_one_state_of_the_file_while_another_store_appends(
    sqlite_store: SQLiteEventStore, db_path: Path
) -> None:
    other = open_sqlite(db_path)
    try:
        with sqlite_store.reading(snapshot=True) as db:
            count = "SELECT count(*) FROM events"
            assert db.conn.execute(count).fetchone()[0] == 3
            other.append([write("c", *notes("4"))], command_id="c2")
            assert db.conn.execute(count).fetchone()[0] == 3  # the snapshot holds
        assert not sqlite_store.in_transaction  # the read transaction ended with the block
        with sqlite_store.reading() as db:
            assert db.conn.execute(count).fetchone()[0] == 4
    finally:
        other.close()


def test_reads_inside_the_stores_own_transaction_see_its_writes(sqlite_store: SQLiteEventStore) -> None:
    assert not sqlite_store.in_transaction
    with sqlite_store.transaction():
        assert sqlite_store.in_transaction
        sqlite_store.append([write("c", *notes("4"))], command_id="c2")
        with sqlite_store.reading(snapshot=True) as db:
            assert db.conn.execute("SELECT max(position) FROM events").fetchone()[0] == 4
        assert sqlite_store.in_transaction  # (the snapshot joined it and left it open)
    assert not sqlite_store.in_transaction


def test_a_reset_checkpoint_rolls_back_with_the_transaction_it_was_reset_in(sqlite_store: SQLiteEventStore) -> None:
    sqlite_store.save_checkpoint("r", 3)
    with pytest.raises(RuntimeError), sqlite_store.transaction():
        sqlite_store.reset_checkpoint("r")
        assert sqlite_store.checkpoint_and_head("r") == (0, 3)
        raise RuntimeError("the projection's rebuild failed")
    assert sqlite_store.checkpoint_and_head("r") == (3, 3)
