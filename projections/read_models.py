"""Persisted read models in SQLite: projects, the public register, the work queue, the audit trail.

One catch-up reader ("read_models") folds every project event into a stored project state and
rewrites the rows that state determines, in the same transaction as its checkpoint, so a crash
never leaves half an event applied and a restart resumes exactly where it stopped. ``rebuild``
drops everything and replays the log; the result equals the incrementally maintained tables.

An event the fold cannot apply (a bug, or an event type newer than this code), or that this code
cannot even decode (a type or schema version a newer release wrote, a damaged row), does not stop
the reader: it is recorded in ``rm_failures`` (position, project, event type, error) with the
checkpoint, logged at ERROR, skipped, and the reader goes on; :meth:`ReadModels.failures` lists
them. Such a project's stored state lacks that event, so the service never decides a command on
it (:meth:`ReadModels.snapshot` refuses it and the service replays the log instead).

Reads run on the store's connection while no other thread of this process is inside a write
transaction (under the store's lock), and the ones made of several statements inside one read
transaction, so they never see a half-written chunk or a page that does not match its total.
"""

from __future__ import annotations

import datetime as dt
import gc
import logging
import multiprocessing
import os
import shutil
import sqlite3
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from multiprocessing.connection import Connection
from typing import Any, NamedTuple

import lz4.block
import msgspec
import sqlite_utils

from events.model import RecordedEvent
from events.sqlite import SQLiteEventStore
from projections.catalog import Catalog
from projections.project import INITIAL, Draft, ProjectState, Recommendation, evolve, fold, freeze, local_date, thaw
from projections.project import apply as apply_event
from projections.public import queue_items, register_entry
from schemas import events as ev
from schemas.base import Event
from schemas.lifecycle import STATE_LABELS, State

log = logging.getLogger("projections.read_models")

READER = "read_models"
PROJECT_PREFIX = "project-"
TABLES = ("rm_project_states", "rm_projects", "rm_register", "rm_queue", "rm_audit", "rm_failures")
#: The shape of the tables and of the stored states. Opening a database whose read models have
#: another version drops them (the next catch-up rebuilds them from the log): a stored state of
#: an older shape would silently lack what the fold now records. Register entries are JSON held
#: as BLOBs (no text round trip on the hot path); stored states are JSON compressed with LZ4
#: (see ``encode_state``). What they derive counts too: a queue item's label, for one.
SCHEMA_VERSION = 10

_state_encoder = msgspec.json.Encoder()
_entry_encoder = msgspec.json.Encoder()
_state_decoder = msgspec.json.Decoder(ProjectState)


def encode_state(state: ProjectState) -> bytes:
    """A project state as stored: its JSON in an LZ4 block. The states are most of what the read
    models write (a project's documents, reports and history), their JSON halves under LZ4, and
    the block costs a few microseconds each way, so a rebuild writes and checkpoints far fewer
    pages. States are derived data, rebuilt from the log, so their encoding is free to change
    with :data:`SCHEMA_VERSION`."""
    stored: bytes = lz4.block.compress(_state_encoder.encode(state))
    return stored


def decode_state(stored: bytes) -> ProjectState:
    """The state :func:`encode_state` stored."""
    return _state_decoder.decode(lz4.block.decompress(stored))

#: Events that record a decision, for the audit trail.
DECISIONS: tuple[type[Event], ...] = (
    ev.ApplicationSubmitted,
    ev.ApplicationWithdrawn,
    ev.IntakeAccepted,
    ev.InformationRequested,
    ev.PublicNoticeOpened,
    ev.PublicNoticeClosed,
    ev.ObjectionDisposed,
    ev.RecommendationMade,
    ev.DecisionApproved,
    ev.ConditionWaived,
    ev.ProjectAdmitted,
    ev.ApplicationRejected,
    ev.ProjectGraduated,
    ev.TestStarted,
    ev.ExtensionGranted,
    ev.ExtensionRefused,
    ev.ThresholdBreached,
    ev.WarningIssued,
    ev.ProjectSuspended,
    ev.ProjectReinstated,
    ev.TestPeriodEnded,
    ev.FinalReportAccepted,
    ev.ExitInitiated,
    ev.ExitConfirmed,
    ev.ProjectTerminated,
    ev.ProjectRevoked,
)
_DECISION_TYPES = frozenset(t.event_type for t in DECISIONS)


#: The audit trail's index by project (a rebuild creates it after loading the rows: faster).
_AUDIT_INDEX = "rm_audit_project ON rm_audit (project_id, position)"


def ensure_tables(db: sqlite_utils.Database) -> None:
    """Create the read-model tables if missing (inside the caller's transaction)."""
    conn = db.conn
    conn.execute(
        "CREATE TABLE IF NOT EXISTS rm_project_states (project_id TEXT PRIMARY KEY, position INTEGER NOT NULL,"
        " state BLOB NOT NULL) STRICT"
    )
    conn.execute(
        """CREATE TABLE IF NOT EXISTS rm_projects (
            id TEXT PRIMARY KEY, program_key TEXT NOT NULL, program_version INTEGER NOT NULL, title TEXT NOT NULL,
            app_type TEXT NOT NULL, state TEXT NOT NULL, state_zh TEXT NOT NULL, state_en TEXT NOT NULL,
            applicant TEXT NOT NULL, lead_name TEXT NOT NULL, partners TEXT NOT NULL, region TEXT NOT NULL,
            created_on TEXT, submitted_on TEXT, notice_starts TEXT, notice_ends TEXT, admitted_on TEXT,
            test_started_on TEXT, planned_end TEXT, case_officer TEXT, version INTEGER NOT NULL,
            last_position INTEGER NOT NULL, latest_metrics TEXT NOT NULL
        ) STRICT"""
    )
    conn.execute("CREATE INDEX IF NOT EXISTS rm_projects_state ON rm_projects (state, program_key)")
    conn.execute("CREATE INDEX IF NOT EXISTS rm_projects_applicant ON rm_projects (applicant)")
    conn.execute(
        """CREATE TABLE IF NOT EXISTS rm_register (
            id TEXT PRIMARY KEY, entry BLOB NOT NULL, program_key TEXT NOT NULL, region TEXT NOT NULL,
            state TEXT NOT NULL
        ) STRICT"""
    )
    conn.execute(
        """CREATE TABLE IF NOT EXISTS rm_queue (
            project_id TEXT NOT NULL, item TEXT NOT NULL, role TEXT NOT NULL, label_zh TEXT NOT NULL,
            label_en TEXT NOT NULL, due_on TEXT, since_position INTEGER NOT NULL, PRIMARY KEY (project_id, item)
        ) STRICT"""
    )
    # The audit trail indexes the decisions in the log by project, with what only the fold knows
    # (the recommendation a decision completed); who, when, why and the payload are the event's
    # own and are read from the log with the page (see ``audit``), not copied here.
    conn.execute(
        "CREATE TABLE IF NOT EXISTS rm_audit (position INTEGER PRIMARY KEY, project_id TEXT NOT NULL,"
        " recommendation BLOB) STRICT"
    )
    conn.execute(f"CREATE INDEX IF NOT EXISTS {_AUDIT_INDEX}")
    # stage 'fold': the event could not be folded (skipped); stage 'rows': the project's rows
    # could not be derived from its state (its rm_projects/rm_register/rm_queue rows are stale
    # until they are derived again, which removes the record).
    conn.execute(
        """CREATE TABLE IF NOT EXISTS rm_failures (
            position INTEGER NOT NULL, stage TEXT NOT NULL, project_id TEXT NOT NULL, type TEXT NOT NULL,
            error TEXT NOT NULL, PRIMARY KEY (position, stage)
        ) STRICT"""
    )
    conn.execute("CREATE INDEX IF NOT EXISTS rm_failures_project ON rm_failures (project_id)")


def _migrate(db: sqlite_utils.Database) -> None:
    """Drop read models of another :data:`SCHEMA_VERSION` (inside the caller's transaction)."""
    conn = db.conn
    conn.execute("CREATE TABLE IF NOT EXISTS rm_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT")
    row = conn.execute("SELECT value FROM rm_meta WHERE key = 'schema_version'").fetchone()
    if row is not None and row[0] == str(SCHEMA_VERSION):
        return
    for table in TABLES:
        conn.execute(f"DROP TABLE IF EXISTS {table}")
    conn.execute("DELETE FROM checkpoints WHERE name = ?", (READER,))
    conn.execute("INSERT OR REPLACE INTO rm_meta (key, value) VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))


def _iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day else None


def project_row(state: ProjectState) -> dict[str, Any]:
    zh, en = STATE_LABELS[state.state]
    latest = state.reports[-1].metrics if state.reports else {}
    return {
        "id": state.project_id,
        "program_key": state.program_key,
        "program_version": state.program_version,
        "title": state.title,
        "app_type": state.app_type,
        "state": state.state.value,
        "state_zh": zh,
        "state_en": en,
        "applicant": state.organisation,
        "lead_name": state.lead_name,
        "partners": msgspec.json.encode([p.organisation for p in state.partners if not p.withdrawn]).decode(),
        "region": state.region,
        "created_on": _iso(state.created_on),
        "submitted_on": _iso(state.submitted_on),
        "notice_starts": _iso(state.notice_starts),
        "notice_ends": _iso(state.notice_ends),
        "admitted_on": _iso(state.admitted_on),
        "test_started_on": _iso(state.test_started_on),
        "planned_end": _iso(state.planned_end),
        "case_officer": state.case_officer,
        "version": state.version,
        "last_position": state.last_position,
        "latest_metrics": msgspec.json.encode(latest).decode(),
    }


_CHAINED = (
    ev.DecisionApproved,
    ev.ProjectAdmitted,
    ev.ApplicationRejected,
    ev.ProjectGraduated,
    ev.ExitInitiated,
    ev.ExitConfirmed,
)
#: A forced ending is the completion of its own recommendation only (an exit criterion may end a
#: project while another recommendation waits).
_ENDINGS: dict[type, str] = {ev.ProjectTerminated: "terminate", ev.ProjectRevoked: "revoke"}
_recommendation_encoder = msgspec.json.Encoder()


def audit_values(event: RecordedEvent[Event], pending: Recommendation | None) -> tuple[int, str, bytes | None]:
    """One decision as an rm_audit row: its position, its project, and for a decision that
    completes a recommendation (``pending``: the one open before the event), that recommendation
    (encoded)."""
    chain = None
    if pending is not None and (
        isinstance(event.payload, _CHAINED)
        or (
            _ENDINGS.get(type(event.payload)) == pending.decision
            and len(pending.approvers) >= pending.approvals_required
        )
    ):
        chain = _recommendation_encoder.encode(
            {
                "id": pending.recommendation_id,
                "decision": pending.decision,
                "recommender": pending.recommender,
                "approvers": pending.approvers,
                "position": pending.position,
            }
        )
    return event.position, event.stream_id.removeprefix(PROJECT_PREFIX), chain


def audit_entry(event: RecordedEvent[Event], project_id: str, recommendation: bytes | None) -> dict[str, Any]:
    """A decision as the audit trail shows it: who, in which role, when, under which rule version,
    why, and the chain of recommender and approvers where there is one."""
    meta = event.metadata
    detail: dict[str, Any] = {"payload": msgspec.to_builtins(event.payload)}
    if recommendation is not None:
        detail["recommendation"] = msgspec.json.decode(recommendation)
    return {
        "position": event.position,
        "project_id": project_id,
        "type": event.type,
        "actor": meta.actor,
        "role": meta.role,
        "organisation": meta.organisation,
        "occurred_at": meta.occurred_at.isoformat(),
        "recorded_at": event.recorded_at.isoformat(),
        "rule_version": meta.rule_version,
        "reason": meta.reason,
        "detail": detail,
    }


#: The columns of rm_projects, in the order ``project_row`` gives them.
PROJECT_COLUMNS = tuple(project_row(INITIAL))


def _upsert(table: str, columns: Sequence[str]) -> str:
    """Insert a row, or update the row with its key (the first column) where it is. Not ``INSERT
    OR REPLACE``: that deletes the old row and inserts anew, which for rows of kilobytes (states,
    register entries) rebalances B-tree pages on every event. Updating in place was the largest
    single cut in a command's CPU time (the server's CPU per request in bench/http.py)."""
    key, *rest = columns
    return (
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
        f" ON CONFLICT ({key}) DO UPDATE SET {', '.join(f'{c} = excluded.{c}' for c in rest)}"
    )


_PROJECT_UPSERT = _upsert("rm_projects", PROJECT_COLUMNS)
#: The columns of rm_projects its indexes hold (the list's filters). SQLite rewrites an index's
#: entry whenever an update sets one of its columns, even to the value it had, and every
#: rewritten page is one more page in the commit's write-ahead log. Most events leave these as
#: they were (a metrics report changes the version, the position and the latest figures), so
#: such a row is updated without them: a report's commit writes about 6 pages instead of 8,
#: against 1 for the bare insert of bench/http.py (counted in the WAL file).
_PROJECT_INDEXED = frozenset({"state", "program_key", "applicant"})
_PROJECT_KEPT = tuple(i for i, column in enumerate(PROJECT_COLUMNS) if column in _PROJECT_INDEXED)
_PROJECT_SET = tuple(i for i, column in enumerate(PROJECT_COLUMNS) if column not in {*_PROJECT_INDEXED, "id"})
_PROJECT_UPDATE = (
    f"UPDATE rm_projects SET {', '.join(f'{PROJECT_COLUMNS[i]} = ?' for i in _PROJECT_SET)} WHERE id = ?"
)
_STATE_UPSERT = _upsert("rm_project_states", ("project_id", "position", "state"))
_REGISTER_UPSERT = _upsert("rm_register", ("id", "entry", "program_key", "region", "state"))
_AUDIT_INSERT = "INSERT INTO rm_audit (position, project_id, recommendation) VALUES (?, ?, ?)"


class Derived(NamedTuple):
    """The rows last written for a project: its rm_projects row, its register entry (encoded;
    None off the register), its queue rows, and the version of its stored state."""

    row: tuple[Any, ...]
    entry: bytes | None
    queue: tuple[tuple[Any, ...], ...]
    stored: int


#: A project's stored state is a snapshot: it is written again once the project is this many
#: events ahead of it (and always for a project with an event the reader could not fold). A
#: reader folds the project's later events onto it, so a long history is not re-encoded and
#: rewritten with every event.
SNAPSHOT_EVERY = 32


class Failure(msgspec.Struct, frozen=True, kw_only=True):
    """An event the read models could not fold (stage ``fold``: skipped), or a project whose rows
    could not be derived from its state (stage ``rows``: its rows are stale)."""

    position: int
    stage: str
    project_id: str
    type: str
    error: str

    @classmethod
    def of_fold(cls, event: RecordedEvent[Any], project_id: str, error: Exception) -> Failure:
        return cls(
            position=event.position,
            stage="fold",
            project_id=project_id,
            type=event.type,
            error=f"{type(error).__name__}: {error}",
        )


def _failed_positions(conn: sqlite3.Connection, project_id: str) -> set[int]:
    """The positions of the project's events the reader recorded it could not fold or read."""
    sql = "SELECT position FROM rm_failures WHERE project_id = ? AND stage = 'fold'"
    return {position for (position,) in conn.execute(sql, (project_id,))}


def _left_out(position: int, stream_id: str, type_: str, error: Exception) -> None:
    """An event that cannot be decoded, met again after the reader recorded it: left out."""


class _NeedsOneProcess(Exception):
    """A part of a split replay, folded in another process, met something only the process
    holding the write transaction can handle (a failure to record)."""


class _Recorder:
    """Stands in for the connection while a part of a split replay is folded: writes the rows
    each statement would write into a file of its own, a table for each run of one statement,
    for the process holding the write transaction to copy into the read models by SQLite's own
    ``INSERT … SELECT`` (see :func:`_copy_part`). Binding every value again there, from rows
    sent through a pipe, took most of that process's time for the other part: 0.14-0.18 s
    against 0.05-0.06 s for half the rows of a 100,000-event rebuild (measured ad hoc)."""

    def __init__(self, path: str) -> None:
        self.conn = self  # (as a ``sqlite_utils.Database``, for ``apply``)
        self.path = path
        self.statements: list[tuple[str, str]] = []  # (a statement, the table of its rows)
        self._file = sqlite3.connect(path, isolation_level=None)
        self._file.execute("PRAGMA journal_mode = OFF")  # scratch: read once, then deleted
        self._file.execute("PRAGMA synchronous = OFF")
        self._file.execute("BEGIN")

    def executemany(self, sql: str, rows: Sequence[tuple[Any, ...]]) -> None:
        rows = list(rows)
        if not rows:
            return
        marks = ", ".join("?" * len(rows[0]))
        if not self.statements or self.statements[-1][0] != sql:
            table = f"s{len(self.statements)}"
            self._file.execute(f"CREATE TABLE {table} ({', '.join(f'c{i}' for i in range(len(rows[0])))})")
            self.statements.append((sql, table))
        self._file.executemany(f"INSERT INTO {self.statements[-1][1]} VALUES ({marks})", rows)

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        raise _NeedsOneProcess(sql)

    def finish(self) -> _Part:
        self._file.execute("COMMIT")
        self._file.close()
        return _Part(self.path, self.statements)

    def discard(self) -> None:
        self._file.close()
        with suppress(OSError):
            os.unlink(self.path)


class _Part(NamedTuple):
    """A folded part as its process sends it: the file of its rows and the statements they
    are for, in the order they were made."""

    path: str
    statements: list[tuple[str, str]]


def _received(pipe: Connection) -> _Part | None:
    """What a forked part sent: its rows' file, or None (it failed, or died before sending)."""
    try:
        part: _Part | None = pipe.recv()
    except (EOFError, OSError):
        return None
    return part


def _copy_part(conn: sqlite3.Connection, part: _Part, alias: str) -> None:
    """Run a part's statements over the rows in its file, attached as ``alias`` (inside the
    chunk's transaction; it is detached after the commit, see ``ReadModels._detach``). An
    ``INSERT … VALUES`` becomes one ``INSERT … SELECT`` of its table (``WHERE true`` keeps an
    upsert's ``ON CONFLICT`` clause apart from the ``SELECT``); another statement runs once per
    row, as it would have here."""
    conn.execute(f"ATTACH DATABASE ? AS {alias}", (part.path,))
    for sql, table in part.statements:
        head, values, tail = sql.partition(" VALUES (")
        if head.startswith("INSERT INTO ") and values:
            conn.execute(f"{head} SELECT * FROM {alias}.{table} WHERE true{tail[tail.index(')') + 1 :]}")
        else:
            conn.executemany(sql, conn.execute(f"SELECT * FROM {alias}.{table}").fetchall())


class _Helper:
    """A forked process that folds its part of every chunk of one rebuild (see ``_split``). It
    keeps the states of its part's projects between chunks, as this process keeps its own:
    nothing is read back from the tables, and each part's states are decoded nowhere."""

    def __init__(self, models: ReadModels, part: int) -> None:
        fork = multiprocessing.get_context("fork")
        self.pipe, theirs = fork.Pipe()
        self.process = fork.Process(target=models._serve_part, args=(theirs, part))
        self.process.start()
        theirs.close()

    def fold(self, start: int, upto: int, batch: int, empty: bool) -> bool:
        """Ask for the part of the chunk ``(start, upto]``; False if the process is gone."""
        try:
            self.pipe.send((start, upto, batch, empty))
        except OSError:
            return False
        return True

    def stop(self, *, kill: bool = False) -> None:
        """Tell the process to end (it ends once idle), or with ``kill`` end it at once: the
        rebuild failed, and the part it may still be folding would be read by nobody."""
        if kill:
            self.process.kill()
        with suppress(OSError):
            self.pipe.send(None)
        self.pipe.close()
        self.process.join()


def _promote_survivors() -> None:
    """Move every object the collector tracks into its oldest generation without a pass over
    them (``gc.freeze`` then ``gc.unfreeze``). What a rebuild leaves behind, the states it keeps,
    lives long; with the collector paused it all waits in the youngest generation, and the first
    pass over it once the collector resumed took 0.09 s of a 2 s rebuild. Nothing is exempted
    from later collections: the oldest generation is collected as usual. Skipped when something
    is frozen already (a server freezes what it starts with), which unfreezing would undo."""
    if gc.get_freeze_count() == 0:
        gc.freeze()
        gc.unfreeze()


def even_chunk(events: int, chunk: int) -> int:
    """The length of the chunks a rebuild of ``events`` events takes: as few equal chunks as
    can each stay within an eighth over ``chunk``. So a log slightly longer than a chunk is one
    chunk, not a chunk and a short tail that would rewrite the rows of every project it touched
    (and fold, hand over and commit once more) for a few events."""
    count = max(1, -(-events * 8 // (chunk * 9)))
    return max(1, -(-events // count))


def default_parts() -> int:
    """How many processes a rebuild splits its chunks between: one per CPU (at most 4) where a
    process can be forked safely (a platform with ``fork``, and no other thread running in this
    one), else 1."""
    if "fork" not in multiprocessing.get_all_start_methods() or threading.active_count() > 1:
        return 1
    return max(1, min(os.cpu_count() or 1, 4))


class ReadModels:
    """The read models of one SQLite registry and the reader that keeps them current.

    ``catch_up`` reads the log in batches and folds them into project drafts (mutable working
    states, see :mod:`projections.project`); every ``chunk`` events (or sooner, once
    ``cache_size`` projects wait to be written), and at the head, it freezes and writes the rows
    of each project it touched once and commits them in the same transaction as the checkpoint.
    A crash rolls the unfinished chunk back and the next catch-up redoes it, so every event is
    applied exactly once. Larger chunks rewrite a busy project's rows less often but hold the
    write lock longer: ``rebuild`` (an operator's command) uses larger ones.

    Called inside a transaction the caller opened (the service's append, see :meth:`follow`),
    catch-up joins it: the events and the rows derived from them commit together.

    The reader also keeps the states it folded in memory (up to ``cache_size`` of them, least
    recently used first out), so a chunk does not read back and decode what the previous one
    wrote, and :meth:`snapshot` serves the service without decoding. The cache is dropped
    whenever the checkpoint is not where this instance left it (another reader moved it, or the
    transaction that wrote it rolled back).
    """

    def __init__(self, store: SQLiteEventStore, catalog: Catalog | None = None, *, cache_size: int = 50_000) -> None:
        self.store = store
        self.db = store.db
        self.catalog = catalog or Catalog(store)
        self.cache_size = cache_size
        #: project -> (its state, the rows last written for it), as the tables hold them at
        #: _cached_upto
        self._cache: OrderedDict[str, tuple[ProjectState, Derived | None]] = OrderedDict()
        self._cached_upto = -1
        self._failed: set[str] = set()  # projects with a 'fold' failure, as of _cached_upto
        self._stale: set[str] = set()  # projects with a 'rows' failure, as of _cached_upto
        self._drafts: dict[str, Draft] | None = None
        self._empty = False  # the tables are known to be empty (a rebuild's first chunk)
        self._lock = threading.RLock()  # taken inside the store's transaction, never around it
        self.parts = 1  # processes a chunk is split between (see ``rebuild``)
        self._helpers: list[_Helper] = []  # the other parts' processes, during a rebuild
        self._scratch: str | None = None  # the folder of the files their rows come in
        self._attached: list[tuple[str, _Part]] = []  # their files (and names), attached until the chunk commits
        #: a chunk is split only when it is at least this long: below it, starting processes
        #: costs more than they save
        self.split_from = 20_000
        self._in_helper = False  # this instance is a forked helper's copy (see _serve_part)
        with store.transaction() as db:
            _migrate(db)
            ensure_tables(db)

    # -- writing ------------------------------------------------------------------------------

    def _load_state(self, project_id: str, before: int) -> ProjectState:
        """The project's state just before the event at position ``before``."""
        cached = self._cache.get(project_id)
        if cached is not None:
            return cached[0]
        if self._empty:
            return INITIAL
        return self._stored(self.db.conn, project_id, before - 1) or INITIAL

    def _stored(self, conn: sqlite3.Connection, project_id: str, upto: int) -> ProjectState | None:
        """The project's stored snapshot with its events up to position ``upto`` folded on,
        leaving out, as the reader did, the ones it recorded it could not fold or read."""
        row = conn.execute("SELECT state FROM rm_project_states WHERE project_id = ?", (project_id,)).fetchone()
        if row is None:
            return None
        state = decode_state(row[0])
        stream = PROJECT_PREFIX + project_id
        # (an event that cannot be read was recorded as a failure when the reader met it)
        events: Iterable[RecordedEvent[Event]] = self.store.iter_stream(
            stream, from_version=state.version + 1, as_of_position=upto, unreadable=_left_out
        )
        if project_id in self._failed:
            failed = _failed_positions(conn, project_id)
            events = (e for e in events if e.position not in failed)
        return fold(events, state)

    def apply(self, db: sqlite_utils.Database, events: Sequence[RecordedEvent[Event]]) -> None:
        """Fold a batch (inside the reader's transaction). Within ``catch_up`` the touched
        projects' rows are written at the end of the chunk; on its own, at once."""
        drafts: dict[str, Draft] = {} if self._drafts is None else self._drafts
        audit: list[tuple[Any, ...]] = []
        prefix_length = len(PROJECT_PREFIX)
        decisions = _DECISION_TYPES
        for event in events:
            stream = event.stream_id
            if not stream.startswith(PROJECT_PREFIX):
                continue
            project_id = stream[prefix_length:]
            draft = drafts.get(project_id)
            if draft is None:
                draft = drafts[project_id] = thaw(self._load_state(project_id, event.position))
            if event.type in decisions:
                audit.append(audit_values(event, draft.pending))
            try:
                apply_event(draft, event)
            except Exception as e:  # one event must not stop the reader
                self._record(
                    db.conn,
                    Failure.of_fold(event, project_id, e),
                )
                drafts[project_id] = self._refold(db.conn, project_id, event.position)
        if audit:
            db.conn.executemany(_AUDIT_INSERT, audit)
        if self._drafts is None:
            self._write(db.conn, {project_id: freeze(d) for project_id, d in drafts.items()})

    def _unreadable(self, position: int, stream_id: str, type_: str, error: Exception) -> None:
        """An event this code cannot decode (a newer release's type or schema version, a damaged
        row): recorded against its project as a failure to fold, so the project's state is not
        taken for the fold of its log, and the reader goes on with every other project."""
        if not stream_id.startswith(PROJECT_PREFIX):
            log.error("read models: the event at position %d (%s) cannot be read: %s", position, type_, error)
            return
        if self._in_helper:  # (only the process holding the write transaction records)
            raise _NeedsOneProcess(f"position {position} cannot be read")
        failure = Failure(
            position=position,
            stage="fold",
            project_id=stream_id.removeprefix(PROJECT_PREFIX),
            type=type_,
            error=f"cannot be read: {type(error).__name__}: {error}",
        )
        self._record(self.db.conn, failure)

    def _record(self, conn: sqlite3.Connection, failure: Failure) -> None:
        conn.execute(
            "INSERT OR REPLACE INTO rm_failures (position, stage, project_id, type, error) VALUES (?, ?, ?, ?, ?)",
            (failure.position, failure.stage, failure.project_id, failure.type, failure.error),
        )
        log.error(
            "read models: %s of project %s failed at position %d (%s): %s; recorded in rm_failures",
            failure.stage,
            failure.project_id,
            failure.position,
            failure.type,
            failure.error,
        )
        if failure.stage == "fold":
            self._failed.add(failure.project_id)
        else:
            self._stale.add(failure.project_id)

    def _refold(self, conn: sqlite3.Connection, project_id: str, before: int) -> Draft:
        """The project's draft as it stood before the event at ``before`` failed half-way: its
        events up to there, less the ones that failed (the slow path, for a failure only)."""
        failed = _failed_positions(conn, project_id)
        state = INITIAL
        stream = self.store.iter_stream(PROJECT_PREFIX + project_id, as_of_position=before - 1, unreadable=_left_out)
        for event in stream:
            if event.position in failed:
                continue
            try:
                state = evolve(state, event)
            except Exception as e:
                self._record(
                    conn,
                    Failure.of_fold(event, project_id, e),
                )
        return thaw(state)

    def _write(
        self, conn: sqlite3.Connection, touched: dict[str, ProjectState], *, known: bool = False
    ) -> dict[str, Derived]:
        """Rewrite every row the touched projects' states determine; returns those rows. With
        ``known`` (the cache holds what the tables hold), a project row, register entry or queue
        rows equal to the ones the cache says were last written are not written again (most
        events leave the register entry and the queue as they were)."""
        states: list[tuple[Any, ...]] = []
        projects: list[tuple[Any, ...]] = []
        updated: list[tuple[Any, ...]] = []  # rows whose indexed columns stay as they were
        register: list[tuple[Any, ...]] = []
        queue: list[tuple[Any, ...]] = []
        requeued: list[tuple[str]] = []
        fresh: list[tuple[str]] = []
        written: dict[str, Derived] = {}
        cache = self._cache
        for project_id, state in touched.items():
            cached = cache.get(project_id) if known else None
            before = cached[1] if cached is not None else None
            if before is None or state.version - before.stored >= SNAPSHOT_EVERY or project_id in self._failed:
                states.append((project_id, state.last_position, encode_state(state)))
                stored = state.version
            else:
                stored = before.stored
            try:
                row = tuple(project_row(state).values())
                entry = register_entry(state)
                program = (
                    self.catalog.program(state.program_key, state.program_version) if state.program_version else None
                )
                items = tuple(
                    (project_id, i.item, i.role, i.label_zh, i.label_en, _iso(i.due_on), i.since_position)
                    for i in queue_items(state, program)
                )
            except Exception as e:  # one project must not stop the reader
                self._record(
                    conn,
                    Failure(
                        position=state.last_position,
                        stage="rows",
                        project_id=project_id,
                        type="rows",
                        error=f"{type(e).__name__}: {e}",
                    ),
                )
                continue
            encoded = _entry_encoder.encode(entry) if entry is not None else None
            if before is None:
                projects.append(row)
            elif before.row != row:
                if all(before.row[i] == row[i] for i in _PROJECT_KEPT):
                    updated.append((*(row[i] for i in _PROJECT_SET), row[0]))
                else:
                    projects.append(row)
            if encoded is not None and (before is None or before.entry != encoded):
                register.append((project_id, encoded, state.program_key, state.region, state.state.value))
            if before is None or before.queue != items:
                requeued.append((project_id,))
                queue.extend(items)
            if project_id in self._stale:  # its rows are current again
                self._stale.discard(project_id)
                fresh.append((project_id,))
            written[project_id] = Derived(row, encoded, items, stored)
        if states:
            conn.executemany(_STATE_UPSERT, states)
        if projects:
            conn.executemany(_PROJECT_UPSERT, projects)
        if updated:
            conn.executemany(_PROJECT_UPDATE, updated)
        if register:
            conn.executemany(_REGISTER_UPSERT, register)
        if requeued and not self._empty:
            conn.executemany("DELETE FROM rm_queue WHERE project_id = ?", requeued)
        if queue:
            conn.executemany(
                "INSERT INTO rm_queue (project_id, item, role, label_zh, label_en, due_on, since_position)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                queue,
            )
        if fresh:
            conn.executemany("DELETE FROM rm_failures WHERE project_id = ? AND stage = 'rows'", fresh)
        return written

    def catch_up(self, *, batch: int = 2000, chunk: int = 50_000, progress: Callable[[int], None] | None = None) -> int:
        """Apply every event after the checkpoint, ``batch`` events per read and at most ``chunk``
        per transaction; returns how many positions it advanced."""
        total = 0
        while True:
            advanced, at_head = self._chunk(batch, chunk, progress)
            total += advanced
            if at_head:
                return total

    def _chunk(self, batch: int, chunk: int, progress: Callable[[int], None] | None) -> tuple[int, bool]:
        """One chunk in one transaction (joining the caller's, if any): (advanced, at the head)."""
        try:
            return self._chunk_in_transaction(batch, chunk, progress)
        finally:
            if self._attached:
                self._detach()

    def _chunk_in_transaction(
        self, batch: int, chunk: int, progress: Callable[[int], None] | None
    ) -> tuple[int, bool]:
        advanced = 0
        at_head = False
        with self.store.transaction() as db, self._lock:
            start = self.store.checkpoint(READER)
            if start != self._cached_upto:
                self._forget(db.conn)
            if start:
                self._empty = False  # another reader got here first: the tables hold rows
            split = self._split(db, start, chunk, batch, progress)
            if split is not None:
                advanced, at_head, states, written = split
            else:
                self._stop_helpers()  # this process folds every part: their states would go stale
                drafts: dict[str, Draft] = {}
                self._drafts = drafts
                try:
                    while advanced < chunk and len(drafts) < self.cache_size:
                        done = self.store.process(READER, self.apply, batch=batch, unreadable=self._unreadable)
                        advanced += done
                        if done and progress:
                            progress(done)
                        # Inside the write transaction nobody else appends: a short batch is the head.
                        if done < batch:
                            at_head = True
                            break
                finally:
                    self._drafts = None
                states = {project_id: freeze(d) for project_id, d in drafts.items()}
                written = self._write(db.conn, states, known=True)
            # Remembered before the commit: if it fails, the checkpoint stays behind
            # _cached_upto and the next chunk drops the cache.
            self._remember(states, written, start + advanced)
        return advanced, at_head

    def _split(
        self,
        db: sqlite_utils.Database,
        start: int,
        chunk: int,
        batch: int,
        progress: Callable[[int], None] | None = None,
    ) -> tuple[int, bool, dict[str, ProjectState], dict[str, Derived]] | None:
        """A chunk of a rebuild folded by ``self.parts`` processes at once, each the projects of
        its part of the streams (see ``pages_of_part``), and written here, in the chunk's
        transaction, with the checkpoint: (advanced, at the head, this process's states and
        rows). None when the chunk is short, or when another process's part met a failure to
        record (the caller then replays the chunk in this process, which records it as usual)."""
        if self.parts < 2:
            return None
        head = self.store.head().position  # inside the write transaction: nobody appends
        upto = min(head, start + chunk)
        if upto - start < self.split_from:
            return None
        failed, stale = set(self._failed), set(self._stale)
        if not self._helpers:
            # beside the database, which takes the same rows (a smaller /tmp could fill up); a
            # rebuild killed before it cleans up leaves this folder behind, safe to delete
            path = os.path.abspath(self.store.path)
            self._scratch = tempfile.mkdtemp(prefix=f".{os.path.basename(path)}-rebuild-", dir=os.path.dirname(path))
            self._helpers = [_Helper(self, part) for part in range(1, self.parts)]
        asked = all([helper.fold(start, upto, batch, self._empty) for helper in self._helpers])
        # This process's part is written as soon as it is folded, while the others may still
        # fold theirs; under a savepoint, so that a part that fails leaves nothing behind.
        conn = db.conn
        conn.execute("SAVEPOINT split")
        states, written = self._fold_part(db, start, upto, 0, batch, progress)
        theirs = [_received(helper.pipe) for helper in self._helpers] if asked else [None]
        copied = not any(part is None for part in theirs)
        if copied:
            try:
                for part in theirs:
                    assert part is not None
                    alias = f"part{len(self._attached)}"
                    self._attached.append((alias, part))
                    _copy_part(conn, part, alias)
            except sqlite3.Error:  # a part's file unreadable (gone, cut short): replayed here
                log.exception("read models: a part of a rebuild could not be copied; it is replayed in one process")
                copied = False
        if not copied:
            # The chunk is replayed here: the helpers' parts, read or not, go unused, and one of
            # them may still be sending its part into a pipe nobody reads.
            self._stop_helpers(kill=True)
            conn.execute("ROLLBACK TO split")
            conn.execute("RELEASE split")
            self._failed, self._stale = failed, stale  # as they were: the chunk is replayed here
            return None
        conn.execute("RELEASE split")
        self.store.save_checkpoint(READER, upto)
        return upto - start, upto == head, states, written

    def _stop_helpers(self, *, kill: bool = False) -> None:
        helpers, self._helpers = self._helpers, []
        for helper in helpers:
            helper.stop(kill=kill)
        scratch, self._scratch = self._scratch, None
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)

    def _detach(self) -> None:
        """Detach the other parts' files from the connection once their chunk's transaction has
        ended (SQLite detaches nothing inside one), and delete them."""
        conn = self.store.connection
        if conn.in_transaction:
            return  # (a caller's transaction: detached after it, by the next chunk or the end)
        for alias, part in self._attached:
            with suppress(sqlite3.Error):
                conn.execute(f"DETACH DATABASE {alias}")
            with suppress(OSError):
                os.unlink(part.path)
        self._attached = []

    def _fold_part(
        self,
        db: sqlite_utils.Database | _Recorder,
        start: int,
        upto: int,
        part: int,
        batch: int,
        progress: Callable[[int], None] | None = None,
    ) -> tuple[dict[str, ProjectState], dict[str, Derived]]:
        """Fold the events of one part of the streams into drafts and write their rows through
        ``db`` (see ``_split``): the states and the rows derived from them. ``progress`` hears
        how far along the log each page of this part reached (the parts advance together), and
        the rest of ``(start, upto]`` once the part is folded."""
        drafts: dict[str, Draft] = {}
        self._drafts = drafts
        reported = start
        try:
            pages = self.store.pages_of_part(
                after=start, upto=upto, part=part, parts=self.parts, batch=batch, unreadable=self._unreadable
            )
            for events in pages:
                self.apply(db, events)  # type: ignore[arg-type]  # (or records them, see _Recorder)
                if progress:
                    progress(events[-1].position - reported)
                    reported = events[-1].position
        finally:
            self._drafts = None
        if progress and upto > reported:
            progress(upto - reported)
        states = {project_id: freeze(d) for project_id, d in drafts.items()}
        return states, self._write(db.conn, states, known=True)  # type: ignore[arg-type]

    def _serve_part(self, pipe: Connection, part: int) -> None:
        """A helper's life (see :class:`_Helper`), on a connection of its own (the parent's is
        never touched here): for each chunk asked for, it folds its part and sends back the
        recorded rows, or None if anything went wrong (the parent then replays the chunk itself,
        and meets the same failure where it can record or raise it). It ends when told to, after
        a failure, or when the rebuild stops listening."""
        # The connection copied by the fork, inside the parent's write transaction, is kept
        # referenced and never used: closing it here could touch what the parent holds. (The
        # process ends with os._exit, which finalizes nothing.)
        inherited = self.store
        self._in_helper = True
        self.store = SQLiteEventStore(inherited.path, inherited.codec, create=False)
        self.db = self.store.db
        self.catalog = Catalog(self.store)
        self._lock = threading.RLock()
        while True:
            try:
                asked = pipe.recv()
            except (EOFError, OSError):
                return  # (the rebuild's process is gone)
            if asked is None:
                return
            start, upto, batch, self._empty = asked
            sent: _Part | None = None
            recorder: _Recorder | None = None
            try:
                assert self._scratch is not None
                recorder = _Recorder(os.path.join(self._scratch, f"part{part}-{upto}.db"))
                states, written = self._fold_part(recorder, start, upto, part, batch)
                self._remember(states, written, upto)
                sent = recorder.finish()
            except _NeedsOneProcess:
                pass  # (expected: the parent records the failure)
            except Exception:
                log.exception("read models: the part %d of a rebuild failed; it is replayed in one process", part)
            if sent is None and recorder is not None:
                recorder.discard()
            try:
                pipe.send(sent)
            except OSError:
                return  # (the rebuild stopped without reading it)
            if sent is None:
                return

    def _forget(self, conn: sqlite3.Connection) -> None:
        self._cache.clear()
        recorded = conn.execute("SELECT DISTINCT project_id, stage FROM rm_failures").fetchall()
        self._failed = {project_id for project_id, stage in recorded if stage == "fold"}
        self._stale = {project_id for project_id, stage in recorded if stage != "fold"}

    def _remember(self, states: dict[str, ProjectState], written: dict[str, Derived], upto: int) -> None:
        cache = self._cache
        for project_id, state in states.items():
            cache[project_id] = (state, written.get(project_id))
            cache.move_to_end(project_id)
        while len(cache) > self.cache_size:
            cache.popitem(last=False)
        self._cached_upto = upto

    def follow(self) -> int:
        """Catch up inside the caller's open transaction (the service calls it in the same
        transaction as its append, so events and rows commit together, with one sync to disk).

        A failure rolls back only the read models' writes (a savepoint), is logged, and leaves
        them behind: a later catch-up retries. The caller's events are not lost for it."""
        conn = self.store.connection
        if not conn.in_transaction:
            raise RuntimeError("ReadModels.follow() runs inside the caller's transaction")
        conn.execute("SAVEPOINT read_models")
        try:
            advanced = self.catch_up()
        except Exception:
            conn.execute("ROLLBACK TO read_models")
            conn.execute("RELEASE read_models")
            with self._lock:
                self._cache.clear()
                self._cached_upto = -1
            log.exception("read models could not follow the append; they will catch up later")
            return 0
        conn.execute("RELEASE read_models")
        return advanced

    def rebuild(
        self,
        *,
        batch: int = 2000,
        chunk: int = 1_000_000,
        progress: Callable[[int], None] | None = None,
        parts: int | None = None,
    ) -> int:
        """Drop every read model and its checkpoint, then replay the whole log.

        Each chunk is folded by ``parts`` processes at once (default: :func:`default_parts`),
        each the projects of its share of the streams, and written by this one in the chunk's
        transaction: the same rows as a replay in one process, which the tests hold it to. The
        other processes live as long as the rebuild and keep their parts' states from chunk to
        chunk, as this one keeps its own.

        A chunk writes the rows of every project it touched once, so fewer, longer chunks write
        less: a million-event log rebuilt in one chunk took 24 s, in chunks of 250,000 events
        34 s (bench/projections.py). The log is cut into equal chunks of at most an eighth over
        ``chunk`` (see :func:`even_chunk`). The price is the write lock, held for a whole
        chunk: commands wait for it (up to the busy timeout), as they would for any rebuild.

        The cyclic garbage collector is paused meanwhile: the replay allocates millions of
        acyclic objects, and collecting them as they go costs about a sixth of the time."""
        self.parts = default_parts() if parts is None else parts
        with self.store.transaction() as db, self._lock:
            for table in TABLES:
                db.conn.execute(f"DROP TABLE IF EXISTS {table}")
            db.conn.execute("DELETE FROM checkpoints WHERE name = ?", (READER,))
            ensure_tables(db)
            db.conn.execute("DROP INDEX rm_audit_project")  # recreated once the rows are in
            self._cache.clear()
            self._failed, self._stale = set(), set()
            self._cached_upto = 0
            chunk = even_chunk(self.store.head().position, chunk)
        paused = gc.isenabled()
        gc.disable()
        try:
            self._empty = True  # the first chunk writes into empty tables: nothing to read back
            try:
                advanced, at_head = self._chunk(batch, chunk, progress)
            finally:
                self._empty = False
            if not at_head:
                advanced += self.catch_up(batch=batch, chunk=chunk, progress=progress)
            with self.store.transaction() as db:
                ensure_tables(db)
            return advanced
        except BaseException:
            self._stop_helpers(kill=True)  # (an operator's Ctrl-C does not wait for their parts)
            raise
        finally:
            self._stop_helpers()
            self.parts = 1
            if paused:
                _promote_survivors()
                gc.enable()

    @property
    def position(self) -> int:
        return self.store.checkpoint(READER)

    # -- reading ------------------------------------------------------------------------------

    @contextmanager
    def _reading(self, *, statements: int = 1) -> Iterator[sqlite3.Connection]:
        """The store's connection while no other thread of this process writes through it;
        reads of several statements run in one read transaction (one snapshot of the file).
        Inside this thread's own transaction, reads see what it wrote."""
        store = self.store
        with store._lock:  # the lock around its connection (see the module docstring)
            conn = store.connection
            if statements == 1 or conn.in_transaction:
                yield conn
                return
            conn.execute("BEGIN")
            try:
                yield conn
            finally:
                if conn.in_transaction:
                    conn.execute("COMMIT")  # nothing was written: this only ends the snapshot

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        with self._reading() as conn:
            cursor = conn.execute(sql, params)
            names = [d[0] for d in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def dump(self) -> dict[str, list[tuple[Any, ...]]]:
        """Every row of every read model, in key order (to compare two builds row for row); for
        project states, each project's state as of the checkpoint (its stored snapshot with its
        later events folded on, which is what every reader gets)."""
        keys = {
            "rm_projects": "id",
            "rm_register": "id",
            "rm_queue": "project_id, item",
            "rm_audit": "position",
            "rm_failures": "position, stage",
        }
        with self._reading(statements=len(keys) + 2) as conn:
            dumped = {
                table: conn.execute(f"SELECT * FROM {table} ORDER BY {order}").fetchall()
                for table, order in keys.items()
            }
            checkpoint = self.store.checkpoint(READER)
            projects = [row[0] for row in conn.execute("SELECT project_id FROM rm_project_states ORDER BY project_id")]
            dumped["rm_project_states"] = [
                (project_id, _state_encoder.encode(self._stored(conn, project_id, checkpoint)))
                for project_id in projects
            ]
            return dumped

    def state(self, project_id: str) -> ProjectState | None:
        """The state of a project as of the checkpoint (None if unknown). A state in the cache
        costs one statement (the checkpoint); one read from the tables, a read transaction."""
        with self._reading(), self._lock:
            hit = self._cached_at(self.store.checkpoint(READER), project_id)
        if hit is not None:
            return hit
        with self._reading(statements=3) as conn, self._lock:
            checkpoint = self.store.checkpoint(READER)
            hit = self._cached_at(checkpoint, project_id)  # (kept by another thread meanwhile)
            if hit is not None:
                return hit
            state = self._stored(conn, project_id, checkpoint)
            if checkpoint == self._cached_upto and state is not None and project_id not in self._failed:
                # kept, so that the next read, command or catch-up of the project (after a
                # restart, say) does not decode it again; the rows written for it are not known,
                # so the next write of the project rewrites them all
                self._remember({project_id: state}, {}, checkpoint)
            return state

    def current_state(self, project_id: str) -> ProjectState | None:
        """The project's state at the head of the log: :meth:`state`, after catching up if
        another process has appended since the checkpoint. A state in the cache, with nothing
        appended elsewhere, costs one statement (the checkpoint and the head together)."""
        with self._reading(), self._lock:
            checkpoint, head = self.store.checkpoint_and_head(READER)
            hit = self._cached_at(checkpoint, project_id) if checkpoint >= head else None
        if hit is not None:
            return hit
        if checkpoint < head:
            self.catch_up()
        return self.state(project_id)

    def _cached_at(self, checkpoint: int, project_id: str) -> ProjectState | None:
        """The project's cached state, if the cache holds the tables as of ``checkpoint``."""
        if checkpoint != self._cached_upto:
            return None
        cached = self._cache.get(project_id)
        return None if cached is None else cached[0]

    def snapshot(self, project_id: str) -> ProjectState | None:
        """A state of the project at or before the checkpoint for deciding a command on (the
        caller folds the project's later events onto it), or None: unknown, or a project with
        an event the reader could not fold, whose stored state therefore is not the fold of its
        log."""
        with self._reading() as conn, self._lock:
            checkpoint = self.store.checkpoint(READER)
            if checkpoint == self._cached_upto and project_id in self._failed:
                return None
            hit = self._cached_at(checkpoint, project_id)
            if hit is not None:
                return hit
            row = conn.execute(
                "SELECT state, EXISTS (SELECT 1 FROM rm_failures f WHERE f.project_id = s.project_id"
                " AND f.stage = 'fold') FROM rm_project_states s WHERE s.project_id = ?",
                (project_id,),
            ).fetchone()
        if row is None or row[1]:
            return None
        return decode_state(row[0])

    def failure_count(self) -> int:
        """How many failures the read models hold (see :meth:`failures`)."""
        with self._reading() as conn:
            return int(conn.execute("SELECT count(*) FROM rm_failures").fetchone()[0])

    def failures(self, project_id: str | None = None) -> list[Failure]:
        """What the reader could not fold or derive (see :class:`Failure`), in log order."""
        clause, params = (" WHERE project_id = ?", [project_id]) if project_id else ("", [])
        rows = self._rows(f"SELECT * FROM rm_failures{clause} ORDER BY position, stage", params)
        return [msgspec.convert(r, Failure) for r in rows]

    def timed(self, states: frozenset[State]) -> list[str]:
        """The projects whose stored state is one of ``states``."""
        marks = ", ".join("?" * len(states))
        with self._reading() as conn:
            rows = conn.execute(
                f"SELECT id FROM rm_projects WHERE state IN ({marks}) ORDER BY id", [s.value for s in states]
            ).fetchall()
        return [r[0] for r in rows]

    def projects(
        self,
        *,
        program: str | None = None,
        state: str | None = None,
        applicant: str | None = None,
        region: str | None = None,
        submitted_from: dt.date | None = None,
        submitted_to: dt.date | None = None,
        sort: str = "id",
        descending: bool = False,
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[int, list[dict[str, Any]]]:
        """Filter, sort and page the projects; returns (total matching, page). ``applicant``
        matches the lead organisation or any partner still in the project."""
        where: list[str] = []
        params: list[Any] = []
        for column, value in (("program_key", program), ("state", state), ("region", region)):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        if applicant is not None:
            where.append("(applicant = ? OR EXISTS (SELECT 1 FROM json_each(rm_projects.partners) WHERE value = ?))")
            params += [applicant, applicant]
        if submitted_from is not None:
            where.append("submitted_on >= ?")
            params.append(submitted_from.isoformat())
        if submitted_to is not None:
            where.append("submitted_on <= ?")
            params.append(submitted_to.isoformat())
        if sort not in SORTABLE:
            raise ValueError(f"cannot sort by {sort!r}; choose one of {', '.join(SORTABLE)}")
        clause = f" WHERE {' AND '.join(where)}" if where else ""
        with self._reading(statements=2) as conn:
            total = conn.execute(f"SELECT count(*) FROM rm_projects{clause}", params).fetchone()[0]
            cursor = conn.execute(
                f"SELECT * FROM rm_projects{clause} ORDER BY {sort} {'DESC' if descending else 'ASC'}, id"
                " LIMIT ? OFFSET ?",
                [*params, limit, offset],
            )
            names = [d[0] for d in cursor.description]
            rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
        return int(total), [_decode_json(r) for r in rows]

    def register(self, *, program: str | None = None, limit: int = 50, offset: int = 0) -> tuple[int, list[Any]]:
        clause, params = (" WHERE program_key = ?", [program]) if program else ("", [])
        with self._reading(statements=2) as conn:
            total = conn.execute(f"SELECT count(*) FROM rm_register{clause}", params).fetchone()[0]
            rows = conn.execute(
                f"SELECT entry FROM rm_register{clause} ORDER BY id LIMIT ? OFFSET ?", [*params, limit, offset]
            ).fetchall()
        return int(total), [msgspec.json.decode(r[0]) for r in rows]

    def register_entry(self, project_id: str) -> Any | None:
        with self._reading() as conn:
            row = conn.execute("SELECT entry FROM rm_register WHERE id = ?", (project_id,)).fetchone()
        return msgspec.json.decode(row[0]) if row else None

    def queue(self, *, role: str | None = None, today: dt.date | None = None) -> list[dict[str, Any]]:
        """What waits for whom, oldest first, with ``overdue`` against ``today``."""
        clause, params = (" WHERE role = ?", [role]) if role else ("", [])
        rows = self._rows(f"SELECT * FROM rm_queue{clause} ORDER BY due_on IS NULL, due_on, since_position", params)
        for row in rows:
            row["overdue"] = bool(today and row["due_on"] and row["due_on"] < today.isoformat())
        return rows

    def audit(self, project_id: str | None = None, *, after: int = 0, limit: int = 200) -> list[dict[str, Any]]:
        """The decisions after position ``after`` (of one project, or of all), oldest first."""
        clause = "WHERE position > ?" + (" AND project_id = ?" if project_id else "")
        params: list[Any] = [after] + ([project_id] if project_id else [])
        with self._reading(statements=2) as conn:
            rows = conn.execute(
                f"SELECT position, project_id, recommendation FROM rm_audit {clause} ORDER BY position LIMIT ?",
                [*params, limit],
            ).fetchall()
            events = self.store.read_positions([row[0] for row in rows])
        return [audit_entry(event, project, chain) for event, (_, project, chain) in zip(events, rows, strict=True)]


SORTABLE = (
    "id",
    "title",
    "state",
    "program_key",
    "applicant",
    "region",
    "submitted_on",
    "admitted_on",
    "last_position",
)


def _decode_json(row: dict[str, Any]) -> dict[str, Any]:
    for key in ("partners", "latest_metrics"):
        if key in row and isinstance(row[key], str):
            row[key] = msgspec.json.decode(row[key])
    return row


def today_of(moment: dt.datetime) -> dt.date:
    return local_date(moment)


__all__ = ["READER", "ReadModels", "State", "project_row"]
