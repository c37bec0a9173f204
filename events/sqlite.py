"""The SQLite event store (the embedded default), over sqlite-utils in WAL mode.

One meaning of "transaction" throughout: ``BEGIN IMMEDIATE`` takes the write lock first (waiting
up to the busy timeout), everything inside commits together or rolls back together. Positions are
assigned inside that lock, so they are contiguous and in commit order.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, TypeVar, Unpack

import msgspec
import sqlite_utils

from events.appending import command_event_id, encode_writes, plan_rows
from events.codec import EventCodec, parse_recorded_at
from events.ddl import OBJECTS, STATEMENTS, STORE_SCHEMA_VERSION
from events.errors import (
    ConflictError,
    CorruptEventError,
    ImmutableLogError,
    StoreBusyError,
    StoreError,
    StoreUnavailableError,
)
from events.hashchain import GENESIS_HASH, VerifyReport
from events.logrules import LogVerifier
from events.merkle import Subtrees
from events.merkletable import SQLiteSubtrees, TreeCheck, catch_up, grow, stored_size
from events.model import (
    AppendResult,
    Head,
    RecordedEvent,
    StoredEvent,
    StreamWrite,
)
from events.store import BatchHandler, Snapshot, StreamCut, Unreadable
from schemas.base import Event, EventMetadata, to_utc

Synchronous = Literal["OFF", "NORMAL", "FULL", "EXTRA"]
T = TypeVar("T")
Clock = Callable[[], datetime]

_COLUMNS = (
    "position, stream_id, version, type, schema_version, event_id, data, metadata, "
    "recorded_at, prev_hash, hash"
)
_INSERT = f"INSERT INTO events ({_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?)"
_metadata_decoder = msgspec.json.Decoder(EventMetadata)
_HEAD = "SELECT position, hash, recorded_at FROM events ORDER BY position DESC LIMIT 1"
_STREAM_VERSION = "SELECT max(version) FROM events WHERE stream_id = ?"
_FIRST_OF_COMMAND = "SELECT position FROM events WHERE event_id = ?"
_LEGACY_COMMAND = "SELECT first_position, last_position FROM commands WHERE command_id = ?"
#: The first event after ``?`` that another command appended (metadata that is not JSON counts
#: as another's): the events of one append are contiguous, so its last is the one before.
_AFTER_COMMAND = (
    "SELECT position FROM events WHERE position > ? AND"
    " (CASE WHEN json_valid(metadata) THEN json_extract(metadata, '$.command_id') END) IS NOT ?"
    " ORDER BY position LIMIT 1"
)
#: Rows per query in verify: small pages stay in the CPU cache (measured in bench/store.py).
_VERIFY_BATCH = 200
_NO_TIME = datetime.min.replace(tzinfo=UTC)  # placeholder before the first row's recorded_at


def format_recorded_at(moment: datetime) -> str:
    """Fixed-width UTC text (4-digit year, microseconds, ``Z``), so text order is time order.

    ``isoformat`` always writes four year digits (unlike ``strftime("%Y")`` on glibc, which
    writes ``999``); of a UTC time it ends in ``+00:00``, which becomes ``Z``.
    """
    return to_utc(moment).isoformat(timespec="microseconds")[:-6] + "Z"


def _as_bytes(sql: str) -> str:
    """``sql`` reading the data and metadata columns as their stored bytes (a BLOB)."""
    return sql.replace("data, metadata", "CAST(data AS BLOB), CAST(metadata AS BLOB)", 1)


def utc_now() -> datetime:
    return datetime.now(UTC)


def translate_error(error: sqlite3.Error) -> StoreError:
    """Turn a driver error into the store's own error type."""
    text = str(error)
    lowered = text.lower()
    if "immutable" in lowered:
        return ImmutableLogError(text)
    if "locked" in lowered or "busy" in lowered:
        return StoreBusyError(f"the database stayed locked past the busy timeout: {text}")
    if "full" in lowered:
        return StoreUnavailableError(f"the database is full: {text}")
    if "readonly" in lowered or "read-only" in lowered:
        return StoreUnavailableError(f"the database is read-only: {text}")
    if "unable to open" in lowered or "not a database" in lowered or "disk i/o" in lowered:
        return StoreUnavailableError(f"the database cannot be used: {text}")
    return StoreError(text)


class SQLiteEventStore:
    """The event store in one SQLite file. Safe to share between threads of one process and
    between processes on the same file.

    It implements every port of :mod:`events.store`: :class:`~events.store.EventStore`, and,
    with the tables it keeps beside the log, :class:`~events.store.ProjectionHost` (its handle is
    the ``sqlite_utils.Database`` on the file), :class:`~events.store.GroupLog` and
    :class:`~events.store.TreeLog`."""

    def __init__(
        self,
        path: str | Path,
        codec: EventCodec,
        *,
        create: bool = True,
        synchronous: Synchronous = "FULL",
        busy_timeout: float = 30.0,
        clock: Clock = utc_now,
    ) -> None:
        self.path = Path(path)
        self.codec = codec
        self._clock = clock
        self._lock = threading.RLock()
        self._depth = 0
        if not create and not self.path.exists():
            raise StoreUnavailableError(f"no registry database at {self.path}")
        try:
            conn = sqlite3.connect(
                str(self.path), isolation_level=None, check_same_thread=False, timeout=busy_timeout
            )
        except sqlite3.Error as e:
            raise translate_error(e) from e
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
            self.db = sqlite_utils.Database(conn)
            if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                conn.execute("PRAGMA journal_mode = WAL")
            conn.execute(f"PRAGMA synchronous = {synchronous}")
            conn.execute("PRAGMA foreign_keys = ON")
            # Some builds of SQLite (Debian's among them) overwrite every freed page with zeros,
            # so dropping or shrinking read-model rows writes all their old pages again (a
            # rebuild's DROP wrote as many bytes as the tables held). FAST zeroes deleted content
            # only in pages written anyway. Events are never deleted, and whatever a read model
            # held is still in the log, so nothing is kept that was meant to be erased.
            conn.execute("PRAGMA secure_delete = FAST")
            self._ensure_schema(conn)
            # In a UTF-8 database (every database this store creates) data and metadata are read
            # as their stored bytes: msgspec decodes them, and verify hashes them, without a
            # round trip through Python text. In any other encoding they are read as text.
            utf8 = conn.execute("PRAGMA encoding").fetchone()[0] == "UTF-8"
        except sqlite3.Error as e:
            conn.close()  # e.g. not a database: do not leak the handle
            raise translate_error(e) from e
        self._conn = conn
        self._legacy_commands = False
        self.reload_command_records()
        self._catch_up_tree()
        self._read_columns = _as_bytes(self._DECODE_COLUMNS) if utf8 else self._DECODE_COLUMNS
        self._verify_sql = _as_bytes(self._STORED_SQL) if utf8 else self._STORED_SQL

    # -- set-up ---------------------------------------------------------------------------

    def reload_command_records(self) -> None:
        """Look again whether the ``commands`` table holds records: older databases recorded
        every command there (see ``_recorded``), and the importer rebuilds them for events
        appended that way. Read when the store opens, and by the importer after it writes."""
        self._legacy_commands = bool(self._fetch("SELECT EXISTS (SELECT 1 FROM commands)")[0][0])

    def _catch_up_tree(self) -> None:
        """Store the Merkle subtrees of events the tree does not cover yet: once, for a database
        written before the tree was kept (or loaded without it); two small reads otherwise."""
        [(head,)] = self._fetch("SELECT coalesce(max(position), 0) FROM events")
        with self._lock:
            if stored_size(self._conn) // 16 >= head // 16:
                return
        with self.transaction():
            catch_up(self._conn)

    #: Stores the subtrees an append completes, in its transaction (see :mod:`events.merkletable`).
    _grow_tree = staticmethod(grow)

    @staticmethod
    def _ensure_schema(conn: sqlite3.Connection) -> None:
        have = {
            row[0]
            for row in conn.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'trigger')")
        }
        if have >= OBJECTS:
            return
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in STATEMENTS:
                conn.execute(statement)
            conn.execute(
                "INSERT OR IGNORE INTO store_meta (key, value) VALUES ('schema_version', ?)",
                (str(STORE_SCHEMA_VERSION),),
            )
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    @property
    def connection(self) -> sqlite3.Connection:
        return self._conn

    def _fetch(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        """Run one read under the lock; a driver error becomes a store error."""
        with self._lock:
            try:
                return self._conn.execute(sql, params).fetchall()
            except sqlite3.Error as e:
                raise translate_error(e) from e

    # -- transactions ----------------------------------------------------------------------

    def transaction(self) -> _Transaction:
        """One write transaction (``BEGIN IMMEDIATE`` … ``COMMIT``, rollback on any exception),
        used as ``with store.transaction() as db:``.

        Nested calls, and appends made inside, join the outer transaction.
        """
        return _Transaction(self)

    @property
    def in_transaction(self) -> bool:
        """Whether a transaction is open on the store's connection (after a failure inside one:
        whether SQLite kept it, or rolled it back whole)."""
        return self._conn.in_transaction

    @contextlib.contextmanager
    def reading(self, *, snapshot: bool = False) -> Iterator[sqlite_utils.Database]:
        """The database for reads, under the lock around the connection (no other thread of
        this process writes through it meanwhile); with ``snapshot``, inside one read
        transaction (``BEGIN`` … ``COMMIT``), so several statements see one state of the file.
        Inside this thread's own transaction, reads join it and see what it wrote."""
        with self._lock:
            conn = self._conn
            if not snapshot or conn.in_transaction:
                yield self.db
                return
            conn.execute("BEGIN")
            try:
                yield self.db
            finally:
                if conn.in_transaction:
                    conn.execute("COMMIT")  # nothing was written: this only ends the snapshot

    @contextlib.contextmanager
    def savepoint(self, name: str = "command") -> Iterator[None]:
        """Inside an open transaction, a part that is undone alone if it raises (``SAVEPOINT``
        … ``RELEASE``, ``ROLLBACK TO`` on an exception; the transaction goes on). If SQLite
        rolled the whole transaction back meanwhile (``in_transaction`` is false), there is
        nothing left to undo: the exception goes to the transaction's owner as it is."""
        conn = self._conn
        conn.execute(f"SAVEPOINT {name}")
        try:
            yield
        except BaseException:
            if conn.in_transaction:
                conn.execute(f"ROLLBACK TO {name}")
                conn.execute(f"RELEASE {name}")
            raise
        conn.execute(f"RELEASE {name}")

    # -- append ----------------------------------------------------------------------------

    def append(self, writes: Sequence[StreamWrite], *, command_id: str) -> AppendResult:
        encoded = encode_writes(self.codec, writes, command_id)
        count = sum(map(len, encoded))
        with self.transaction():
            execute = self._conn.execute
            if self._legacy_commands and (recorded := self._recorded(command_id)):
                return self._result_for(command_id, *recorded, duplicate=True)
            head = execute(_HEAD).fetchone()
            position, prev_hash, last_recorded = head if head is not None else (0, GENESIS_HASH, "")
            # recorded_at never runs backwards along the log, even if the clock does
            now = max(format_recorded_at(self._clock()), last_recorded)
            try:
                rows, versions = plan_rows(
                    writes,
                    encoded,
                    position=position,
                    prev_hash=prev_hash,
                    recorded_at=now,
                    version_of=self._version,
                    command_id=command_id,
                )
            except ConflictError:
                # a repeated command whose streams have moved on since: it was recorded
                if recorded := self._recorded(command_id):
                    return self._result_for(command_id, *recorded, duplicate=True)
                raise
            # The first row's event id is derived from the command id: the index that keeps
            # event ids unique refuses a repeated command, so a new one (the common case) costs
            # no extra read or write. A repeat fails this one statement only, and the
            # transaction has written nothing.
            try:
                if len(rows) == 1:
                    execute(_INSERT, rows[0])
                elif rows:
                    self._conn.executemany(_INSERT, rows)
                elif recorded := self._recorded(command_id):  # nothing to write, nothing refused
                    return self._result_for(command_id, *recorded, duplicate=True)
            except sqlite3.IntegrityError as e:
                if "events.event_id" not in str(e) or not (recorded := self._recorded(command_id)):
                    raise
                return self._result_for(command_id, *recorded, duplicate=True)
            if rows:
                self._grow_tree(self._conn, position, [row[10] for row in rows])
        first, last = (position + 1, position + count) if count else (0, 0)
        return AppendResult(command_id, first, last, versions)

    def _version(self, stream_id: str) -> int:
        [(version,)] = self._fetch(_STREAM_VERSION, (stream_id,))
        return int(version or 0)

    def _recorded(self, command_id: str) -> tuple[int, int] | None:
        """The first and last position a command appended, or None if it appended nothing.

        Its first event carries the id derived from the command id; the events of one append
        are contiguous and all name the command in their metadata. A database written before
        the ids were derived keeps those commands in its ``commands`` table.
        """
        rows = self._fetch(_FIRST_OF_COMMAND, (command_event_id(command_id),))
        if not rows:
            if not self._legacy_commands:
                return None
            legacy = self._fetch(_LEGACY_COMMAND, (command_id,))
            return (int(legacy[0][0]), int(legacy[0][1])) if legacy else None
        first = int(rows[0][0])
        after = self._fetch(_AFTER_COMMAND, (first, command_id))
        last = int(after[0][0]) - 1 if after else self.head().position
        return first, last

    def _result_for(self, command_id: str, first: int, last: int, *, duplicate: bool) -> AppendResult:
        versions = {
            stream: version
            for stream, version in self._fetch(
                "SELECT stream_id, max(version) FROM events WHERE position BETWEEN ? AND ?"
                " GROUP BY stream_id",
                (first, last),
            )
        }
        return AppendResult(command_id, first, last, versions, duplicate=duplicate)

    def command_result(self, command_id: str) -> AppendResult | None:
        with self._lock:
            recorded = self._recorded(command_id)
            return None if recorded is None else self._result_for(command_id, *recorded, duplicate=True)

    # -- reads -----------------------------------------------------------------------------

    def stream_version(self, stream_id: str) -> int:
        with self._lock:
            return self._version(stream_id)

    def _decode_rows(
        self, rows: Sequence[tuple[Any, ...]], unreadable: Unreadable | None = None
    ) -> list[RecordedEvent[Event]]:
        return list(self._decoded((rows,), unreadable))

    def _decoded(
        self, pages: Iterable[Sequence[tuple[Any, ...]]], unreadable: Unreadable | None = None
    ) -> Iterator[RecordedEvent[Event]]:
        """Pages of rows of ``_DECODE_COLUMNS`` as events, decoded one by one. The hot path of
        every read: the payload decoder is looked up once per (type, schema version), and
        ``recorded_at`` is parsed once per run of equal values (one append shares it). A row that
        cannot be decoded raises, or with ``unreadable`` is passed to it and left out."""
        decoder_for = self.codec.decoder_for
        decoders: dict[tuple[str, int], Callable[[bytes | str], Event]] = {}
        decode_metadata = _metadata_decoder.decode
        last_text: str | None = None  # no stored text equals it: the first row always parses
        last_time = _NO_TIME
        for rows in pages:
            for position, stream_id, version, type_, event_id, schema_version, data, metadata, at, hash_ in rows:
                key = (type_, schema_version)
                try:
                    decode = decoders.get(key)
                    if decode is None:
                        decode = decoders[key] = decoder_for(type_, schema_version)
                    payload = decode(data)
                    decoded_metadata = decode_metadata(metadata)
                except (UnicodeDecodeError, StoreError, msgspec.MsgspecError) as e:
                    if unreadable is not None:
                        unreadable(position, stream_id, type_, e)
                        continue
                    if isinstance(e, UnicodeDecodeError):  # read as bytes: msgspec checks the UTF-8
                        raise CorruptEventError(position, f"a stored column is not valid UTF-8 text ({e})") from e
                    raise
                if at != last_text:
                    last_text, last_time = at, parse_recorded_at(at)
                # positional, in RecordedEvent's field order
                yield RecordedEvent(
                    position, stream_id, version, type_, event_id, payload, decoded_metadata, last_time, hash_
                )

    _DECODE_COLUMNS = (
        "position, stream_id, version, type, event_id, schema_version, data, metadata, recorded_at, hash"
    )

    def read_stream(self, stream_id: str, **cut: Unpack[StreamCut]) -> list[RecordedEvent[Event]]:
        return list(self.iter_stream(stream_id, **cut))

    def iter_stream(
        self,
        stream_id: str,
        *,
        from_version: int = 1,
        to_version: int | None = None,
        as_of_position: int | None = None,
        as_of_time: datetime | None = None,
        unreadable: Unreadable | None = None,
    ) -> Iterator[RecordedEvent[Event]]:
        # (``unreadable``: as in ``process``, for a reader that left such events out before.)
        # The rows are read at once (one statement, under the lock); each is decoded when taken.
        # A replay of a long stream (993 events) measured 5-10 % faster this way than decoding
        # the whole list first: its events are made and dropped one at a time, in memory that
        # stays in the CPU's cache.
        sql = f"SELECT {self._read_columns} FROM events WHERE stream_id = ? AND version >= ?"
        params: list[Any] = [stream_id, from_version]
        if to_version is not None:
            sql += " AND version <= ?"
            params.append(to_version)
        if as_of_position is not None:
            sql += " AND position <= ?"
            params.append(as_of_position)
        if as_of_time is not None:
            sql += " AND recorded_at <= ?"
            params.append(format_recorded_at(as_of_time))
        sql += " ORDER BY version"
        return self._decoded((self._fetch(sql, params),), unreadable)

    def read_after(
        self, position: int, *, limit: int = 1000, types: Sequence[str] | None = None
    ) -> list[RecordedEvent[Event]]:
        return self._decode_rows(self._rows_after(position, limit, types))

    def read_positions(self, positions: Sequence[int]) -> list[RecordedEvent[Event]]:
        """The events at these global positions, in the order given (an index over the log, such
        as the audit trail, reads its page of events with one query). A position with no event
        is an error: the index and the log disagree."""
        if not positions:
            return []
        rows = self._fetch(
            f"SELECT {self._read_columns} FROM events WHERE position IN ({','.join('?' * len(positions))})",
            positions,
        )
        by_position = {event.position: event for event in self._decode_rows(rows)}
        missing = [p for p in positions if p not in by_position]
        if missing:
            raise StoreError(f"no event at position {missing[0]}")
        return [by_position[p] for p in positions]

    def _rows_after(self, position: int, limit: int, types: Sequence[str] | None) -> list[Any]:
        sql = f"SELECT {self._read_columns} FROM events WHERE position > ?"
        params: list[Any] = [position]
        if types:
            sql += f" AND type IN ({','.join('?' * len(types))})"
            params.extend(types)
        sql += " ORDER BY position LIMIT ?"
        params.append(limit)
        return self._fetch(sql, params)

    def iter_all(
        self, *, after: int = 0, batch: int = 200, types: Sequence[str] | None = None
    ) -> Iterator[RecordedEvent[Event]]:
        # Rows are read ``batch`` at a time and each is decoded only when the caller asks for
        # it, so an event is usually gone before the next is made. Small pages that stay in the
        # CPU cache measured much faster per event than pages of thousands (bench/store.py).
        return self._decoded(self._pages_after(after, batch, types))

    def _pages_after(self, after: int, batch: int, types: Sequence[str] | None) -> Iterator[list[Any]]:
        while rows := self._rows_after(after, batch, types):
            yield rows
            after = rows[-1][0]

    def iter_stored(self, *, after: int = 0, batch: int = 1000) -> Iterator[StoredEvent]:
        """Rows exactly as stored. A row that cannot be read back at all (a text column that is
        not UTF-8, written by someone bypassing the store) raises :class:`CorruptEventError`
        after every row before it was yielded."""
        raw = msgspec.Raw
        while True:
            rows, unreadable = self._stored_rows(after, batch)
            if not rows and unreadable is None:
                return
            for r in rows:
                yield StoredEvent(
                    r[0],
                    r[1],
                    r[2],
                    r[3],
                    r[4],
                    r[5],
                    raw(r[6].encode()),
                    raw(r[7].encode()),
                    r[8],
                    r[9],
                    r[10],
                )
            if unreadable is not None:
                raise unreadable
            after = rows[-1][0]

    _STORED_SQL = f"SELECT {_COLUMNS} FROM events WHERE position > ? ORDER BY position LIMIT ?"

    def _stored_rows(
        self, after: int, batch: int, sql: str = _STORED_SQL
    ) -> tuple[list[Any], CorruptEventError | None]:
        """A batch of stored rows; if one cannot be decoded, the rows before it and its error."""
        with self._lock:
            try:
                return self._conn.execute(sql, (after, batch)).fetchall(), None
            except sqlite3.OperationalError as e:
                if "decode" not in str(e).lower():
                    raise translate_error(e) from e
                error = e
            # Slow path, only for a damaged file: read row by row up to the unreadable one.
            rows: list[Any] = []
            cursor = self._conn.execute(sql, (after, batch))
            try:
                while (row := cursor.fetchone()) is not None:
                    rows.append(row)
            except sqlite3.OperationalError:
                pass
            [(position,)] = self._fetch(
                "SELECT position FROM events WHERE position > ? ORDER BY position LIMIT 1 OFFSET ?",
                (after, len(rows)),
            )
        return rows, CorruptEventError(int(position), f"a stored column is not valid UTF-8 text ({error})")

    def head(self) -> Head:
        rows = self._fetch("SELECT position, hash, recorded_at FROM events ORDER BY position DESC LIMIT 1")
        return Head(*rows[0]) if rows else Head(0, GENESIS_HASH, None)

    def types_after(self, position: int, types: Sequence[str]) -> tuple[int, bool]:
        [(head, found)] = self._fetch(
            "SELECT (SELECT coalesce(max(position), 0) FROM events),"
            f" EXISTS (SELECT 1 FROM events WHERE position > ? AND type IN ({','.join('?' * len(types))}))",
            (position, *types),
        )
        return int(head), bool(found)

    def position_at(self, moment: datetime) -> int:
        """Binary search over positions: recorded_at never decreases along the log."""
        text = format_recorded_at(moment)
        with self._lock:
            low, high = 0, self.head().position
            while low < high:
                mid = (low + high + 1) // 2
                rows = self._fetch("SELECT recorded_at FROM events WHERE position = ?", (mid,))
                if rows and rows[0][0] <= text:
                    low = mid
                else:
                    high = mid - 1
        return low

    def verify(self) -> VerifyReport:
        # Read what was acknowledged BEFORE the events: the log only grows, so an append
        # committed while we re-hash cannot make the log look truncated. Readers' checkpoints
        # (the registry's read models move theirs with every command) and the command records
        # of older databases both name positions the log once reached.
        [(acknowledged,)] = self._fetch(
            "SELECT max((SELECT coalesce(max(position), 0) FROM checkpoints),"
            " (SELECT coalesce(max(last_position), 0) FROM commands))"
        )
        verifier = LogVerifier()
        with self._lock:
            tree = TreeCheck(self._conn)
        try:
            after = 0
            while True:
                # the rows as stored, straight into the verifier (no StoredEvent per row); an
                # unreadable row ends the batch, after the rows before it were checked
                rows, unreadable = self._stored_rows(after, _VERIFY_BATCH, self._verify_sql)
                if rows and not verifier.feed_rows(rows):
                    return verifier.report()
                tree.feed(row[10] for row in rows)
                if unreadable is not None:
                    raise unreadable
                if not rows:
                    break
                after = rows[-1][0]
        except CorruptEventError as e:
            where = verifier.chain.expected_position
            detail = e.reason if e.position == where else f"position {e.position}: {e.reason}"
            verifier.chain.fail(
                where, f"the stored event cannot be read ({detail})", f"存储的事件无法读取（{detail}）"
            )
            return verifier.report()
        report = verifier.report()
        if acknowledged > report.head_position:
            return VerifyReport(
                ok=False,
                count=report.count,
                head_position=report.head_position,
                head_hash=report.head_hash,
                failed_position=report.head_position + 1,
                reason=(
                    f"the log ends at position {report.head_position} but a reader's checkpoint or a"
                    f" command record reached {acknowledged} (events were removed from the end)"
                ),
                reason_zh=(
                    f"日志止于位置 {report.head_position}，但读取器的检查点或命令记录已到达"
                    f" {acknowledged}（末尾的事件被删除）"
                ),
            )
        with self._lock:
            fault = tree.finish()
        if fault is not None:
            position, reason, reason_zh = fault
            return report.refused(position, f"rule tree: {reason}", f"规则 tree：{reason_zh}", "tree")
        return report

    # -- the Merkle tree ------------------------------------------------------------------------

    def read_tree(self, read: Callable[[Subtrees, int], T]) -> T:
        """``read(subtrees, head position)`` in one read transaction: the tree's complete
        subtrees never change, so any tree size up to that head is proved from them."""
        with self._lock:
            outer = self._conn.in_transaction
            try:
                if not outer:
                    self._conn.execute("BEGIN")
                [(head,)] = self._conn.execute("SELECT coalesce(max(position), 0) FROM events").fetchall()
                return read(SQLiteSubtrees(self._conn), int(head))
            except sqlite3.Error as e:
                raise translate_error(e) from e
            finally:
                if not outer and self._conn.in_transaction:
                    self._conn.execute("COMMIT")

    def keep_checkpoint(self, note: str, key_id: str, signed_at: str, tree_size: int) -> bool:
        """Keep a signed checkpoint unless the last one kept has the same size and key; whether
        it was kept."""
        with self.transaction():
            last = self._conn.execute(
                "SELECT tree_size, key_id FROM signed_checkpoints ORDER BY id DESC LIMIT 1"
            ).fetchone()
            if last is not None and tuple(last) == (tree_size, key_id):
                return False
            self._conn.execute(
                "INSERT INTO signed_checkpoints (tree_size, key_id, signed_at, note) VALUES (?, ?, ?, ?)",
                (tree_size, key_id, signed_at, note),
            )
            return True

    def checkpoints(self, *, limit: int = 100, before: int | None = None) -> list[tuple[int, int, str, str, str]]:
        """Kept checkpoints, newest first: (id, tree size, key id, signed at, note)."""
        rows = self._fetch(
            "SELECT id, tree_size, key_id, signed_at, note FROM signed_checkpoints"
            " WHERE id < coalesce(?, 9223372036854775807) ORDER BY id DESC LIMIT ?",
            (before, limit),
        )
        return [tuple(r) for r in rows]

    # -- catch-up readers --------------------------------------------------------------------

    def checkpoint(self, name: str) -> int:
        rows = self._fetch("SELECT position FROM checkpoints WHERE name = ?", (name,))
        return int(rows[0][0]) if rows else 0

    def checkpoint_and_head(self, name: str) -> tuple[int, int]:
        """A reader's checkpoint and the head's position, read by one statement."""
        [(checkpoint, head)] = self._fetch(
            "SELECT coalesce((SELECT position FROM checkpoints WHERE name = ?), 0),"
            " coalesce((SELECT max(position) FROM events), 0)",
            (name,),
        )
        return int(checkpoint), int(head)

    def process(
        self,
        name: str,
        handler: BatchHandler,
        *,
        batch: int = 500,
        types: Sequence[str] | None = None,
        unreadable: Unreadable | None = None,
    ) -> int:
        with self.transaction() as db:
            after = self.checkpoint(name)
            if types:
                # Advance past events of other types too, so a filtered reader never rescans them.
                window = self._conn.execute(
                    "SELECT max(position) FROM (SELECT position FROM events WHERE position > ?"
                    " ORDER BY position LIMIT ?)",
                    (after, batch),
                ).fetchone()[0]
                if window is None:
                    return 0
                rows = self._rows_after(after, batch, types)
                events = [e for e in self._decode_rows(rows, unreadable) if e.position <= window]
                new_position = int(window)
            else:
                rows = self._rows_after(after, batch, None)
                if not rows:
                    return 0
                events = self._decode_rows(rows, unreadable)
                new_position = int(rows[-1][0])  # (past a last event left out as unreadable)
            if events:
                handler(db, events)
            self.save_checkpoint(name, new_position)
            return new_position - after

    def save_checkpoint(self, name: str, position: int) -> None:
        """Move a reader's checkpoint, inside the transaction that wrote what it covers."""
        with self.transaction():
            self._conn.execute(
                "INSERT INTO checkpoints (name, position) VALUES (?, ?)"
                " ON CONFLICT (name) DO UPDATE SET position = excluded.position",
                (name, position),
            )

    def reset_checkpoint(self, name: str) -> None:
        """Forget a reader's checkpoint, inside the caller's transaction if one is open."""
        with self.transaction():
            self._conn.execute("DELETE FROM checkpoints WHERE name = ?", (name,))

    # -- snapshots ----------------------------------------------------------------------------

    def read_snapshot(self, stream_id: str, schema: int, *, upto: int | None = None) -> Snapshot | None:
        rows = self._fetch(
            "SELECT version, position, state FROM snapshots WHERE stream_id = ? AND schema = ?"
            " AND position <= coalesce(?, position)",
            (stream_id, schema, upto),
        )
        return Snapshot(int(rows[0][0]), int(rows[0][1]), bytes(rows[0][2])) if rows else None

    def keep_snapshots(self, schema: int, snapshots: Iterable[tuple[str, Snapshot]]) -> None:
        with self.transaction():
            self._conn.executemany(
                "INSERT INTO snapshots (stream_id, version, position, schema, state) VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT (stream_id) DO UPDATE SET version = excluded.version,"
                " position = excluded.position, schema = excluded.schema, state = excluded.state",
                ((stream, s.version, s.position, schema, s.state) for stream, s in snapshots),
            )


class _Transaction:
    """The context manager behind :meth:`SQLiteEventStore.transaction`: it holds the store's lock
    from enter to exit, and only the outermost one begins and ends the SQLite transaction. (A
    plain class: every append and every command passes through here.)"""

    __slots__ = ("_store",)

    def __init__(self, store: SQLiteEventStore) -> None:
        self._store = store

    def __enter__(self) -> sqlite_utils.Database:
        store = self._store
        store._lock.acquire()
        if store._depth:
            store._depth += 1
            return store.db
        try:
            store._conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as e:
            store._lock.release()
            raise translate_error(e) from e
        store._depth = 1
        return store.db

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        store = self._store
        try:
            store._depth -= 1
            if store._depth:
                return
            conn = store._conn
            if error is None:
                try:
                    conn.execute("COMMIT")
                except sqlite3.Error as e:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    raise translate_error(e) from e
                return
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            if isinstance(error, sqlite3.Error):
                raise translate_error(error) from error
        finally:
            store._lock.release()
