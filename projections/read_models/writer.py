"""The reader that keeps the read models current: it folds every project event into a stored
project state and rewrites the rows that state determines, in the same transaction as its
checkpoint, so a crash never leaves half an event applied and a restart resumes exactly where it
stopped. ``rebuild`` drops everything and replays the log; the result equals the incrementally
maintained tables.

An event the fold cannot apply (a bug, or an event type newer than this code), or that this code
cannot even decode (a type or schema version a newer release wrote, a damaged row), does not stop
the reader: it is recorded in ``rm_failures`` (position, project, event type, error) with the
checkpoint, logged at ERROR, skipped, and the reader goes on; :meth:`ReadModels.failures` lists
them. Such a project's stored state lacks that event, so the service never decides a command on
it (:meth:`ReadModels.snapshot` refuses it and the service replays the log instead).
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeGuard

import msgspec
import sqlite_utils

from events.model import RecordedEvent
from events.store import EventLog, GroupLog, ProjectionHost, Snapshot
from projections.catalog import Catalog
from projections.project import INITIAL, Draft, ProjectState, evolve, fold, freeze, thaw
from projections.project import apply as apply_event
from projections.public import register_entry
from projections.read_models import schema
from projections.read_models.queries import Queries
from projections.read_models.rows import (
    DECISION_TYPES,
    PROJECT_COLUMNS,
    Derived,
    Failure,
    audit_values,
    project_row,
    queue_rows,
    search_row,
)
from projections.read_models.schema import READER
from projections.read_models.states import STATE_SCHEMA, decode_state, encode_state
from projections.read_models.tuning import REBUILD_BATCH, Upsert, collector_paused, even_chunk
from schemas.base import Event
from schemas.streams import PROJECT_PREFIX

log = logging.getLogger("projections.read_models")

_entry_encoder = msgspec.json.Encoder()


_PROJECT_UPSERT = Upsert("rm_projects", PROJECT_COLUMNS)
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
_REGISTER_UPSERT = Upsert("rm_register", ("id", "entry", "program_key", "region", "state"))
#: (an update fires the full-text index's trigger: written only when the searched text changes)
_SEARCH_UPSERT = Upsert("rm_search", ("id", "title", "applicants"))
_AUDIT_INSERT = "INSERT INTO rm_audit (position, project_id, recommendation) VALUES (?, ?, ?)"


#: About how many times a rebuild tells its ``progress`` (once a percent of the log, or once a
#: batch for a log of fewer than a hundred batches): the CLI's progress bar takes about a
#: millisecond to redraw, so once for each of a rebuild's short batches would add a quarter to
#: its time.
PROGRESS_CALLS = 100

#: A project's stored state is a snapshot: it is written again once the project is this many
#: events ahead of it (and always for a project with an event the reader could not fold). A
#: reader folds the project's later events onto it, so a long history is not re-encoded and
#: rewritten with every event.
SNAPSHOT_EVERY = 32


def _failed_positions(conn: sqlite3.Connection, project_id: str) -> set[int]:
    """The positions of the project's events the reader recorded it could not fold or read."""
    sql = "SELECT position FROM rm_failures WHERE project_id = ? AND stage = 'fold'"
    return {position for (position,) in conn.execute(sql, (project_id,))}


def _left_out(position: int, stream_id: str, type_: str, error: Exception) -> None:
    """An event that cannot be decoded, met again after the reader recorded it: left out."""


class ReadModels(Queries):
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

    def __init__(
        self, store: ProjectionHost[sqlite_utils.Database], catalog: Catalog | None = None, *, cache_size: int = 50_000
    ) -> None:
        self.store = store
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
        with store.transaction() as db:
            if schema.migrate(db):  # (tables of another version were dropped: start over)
                store.reset_checkpoint(READER)

    def serves(self, store: EventLog) -> TypeGuard[GroupLog]:
        """Whether these are the read models of ``store``. If so, that store both appends and
        hosts them, so its appends and these rows can share its transactions (group commit's
        port, which the caller may then use)."""
        host: object = self.store  # (mypy takes the two ports for types no object has at once)
        return store is host

    # -- writing ------------------------------------------------------------------------------

    def _load_state(self, conn: sqlite3.Connection, project_id: str, before: int) -> ProjectState:
        """The project's state just before the event at position ``before``."""
        cached = self._cache.get(project_id)
        if cached is not None:
            return cached[0]
        if self._empty:
            return INITIAL
        return self._stored(conn, project_id, before - 1) or INITIAL

    def _stored(self, conn: sqlite3.Connection, project_id: str, upto: int) -> ProjectState | None:
        """The project's state as of position ``upto`` (None if it had no event by then): the
        store's snapshot of its stream (if one covers no later event) with its events up to
        ``upto`` folded on, leaving out, as the reader did, the ones it recorded it could not
        fold or read."""
        stream = PROJECT_PREFIX + project_id
        kept = self.store.read_snapshot(stream, STATE_SCHEMA, upto=upto)
        state = INITIAL if kept is None else decode_state(kept.state)
        # (an event that cannot be read was recorded as a failure when the reader met it)
        events: Iterable[RecordedEvent[Event]] = self.store.iter_stream(
            stream, from_version=state.version + 1, as_of_position=upto, unreadable=_left_out
        )
        if project_id in self._failed:
            failed = _failed_positions(conn, project_id)
            events = (e for e in events if e.position not in failed)
        folded = fold(events, state)
        return folded if folded.version else None

    def apply(self, db: sqlite_utils.Database, events: Sequence[RecordedEvent[Event]]) -> None:
        """Fold a batch (inside the reader's transaction). Within ``catch_up`` the touched
        projects' rows are written at the end of the chunk; on its own, at once."""
        drafts: dict[str, Draft] = {} if self._drafts is None else self._drafts
        audit: list[tuple[Any, ...]] = []
        prefix_length = len(PROJECT_PREFIX)
        decisions = DECISION_TYPES
        for event in events:
            stream = event.stream_id
            if not stream.startswith(PROJECT_PREFIX):
                continue
            project_id = stream[prefix_length:]
            draft = drafts.get(project_id)
            if draft is None:
                draft = drafts[project_id] = thaw(self._load_state(db.conn, project_id, event.position))
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
        failure = Failure(
            position=position,
            stage="fold",
            project_id=stream_id.removeprefix(PROJECT_PREFIX),
            type=type_,
            error=f"cannot be read: {type(error).__name__}: {error}",
        )
        with self.store.transaction() as db:  # (joins the reader's)
            self._record(db.conn, failure)

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
        kept: list[tuple[str, ProjectState]] = []  # (project, state) to keep as the store's snapshot
        projects: list[tuple[Any, ...]] = []
        updated: list[tuple[Any, ...]] = []  # rows whose indexed columns stay as they were
        register: list[tuple[Any, ...]] = []
        search: list[tuple[str, str, str]] = []
        queue: list[tuple[Any, ...]] = []
        requeued: list[tuple[str]] = []
        fresh: list[tuple[str]] = []
        written: dict[str, Derived] = {}
        cache = self._cache
        for project_id, state in touched.items():
            cached = cache.get(project_id) if known else None
            before = cached[1] if cached is not None else None
            if project_id in self._failed:  # (its state is not the fold of its log: never a snapshot)
                stored = 0 if before is None else before.stored
            elif before is None or state.version - before.stored >= SNAPSHOT_EVERY:
                kept.append((project_id, state))
                stored = state.version
            else:
                stored = before.stored
            try:
                row = tuple(project_row(state).values())
                entry = register_entry(state)
                program = (
                    self.catalog.program(state.program_key, state.program_version) if state.program_version else None
                )
                items = queue_rows(state, program)
                searched = search_row(state)
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
            if before is None or before.search != searched:
                search.append(searched)
            if before is None or before.queue != items:
                requeued.append((project_id,))
                queue.extend(items)
            if project_id in self._stale:  # its rows are current again
                self._stale.discard(project_id)
                fresh.append((project_id,))
            written[project_id] = Derived(row, encoded, items, searched, stored)
        if kept:
            # Each state encoded as the store takes it, not all first: a rebuild's states are tens
            # of megabytes of JSON, which a list would hold at once (and the peak RSS with them).
            self.store.keep_snapshots(
                STATE_SCHEMA,
                (
                    (PROJECT_PREFIX + project_id, Snapshot(state.version, state.last_position, encode_state(state)))
                    for project_id, state in kept
                ),
            )
        if projects:
            _PROJECT_UPSERT(conn, projects)
        if updated:
            conn.executemany(_PROJECT_UPDATE, updated)
        if register:
            _REGISTER_UPSERT(conn, register)
        if search:
            _SEARCH_UPSERT(conn, search)
        if requeued and not self._empty:
            conn.executemany("DELETE FROM rm_queue WHERE project_id = ?", requeued)
        if queue:
            conn.executemany(
                "INSERT INTO rm_queue (project_id, item, role, label_zh, label_en, due_on, since_position, excluded)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                queue,
            )
        if fresh:
            conn.executemany("DELETE FROM rm_failures WHERE project_id = ? AND stage = 'rows'", fresh)
        return written

    def catch_up(self, *, batch: int = 2000, chunk: int = 50_000, progress: Callable[[int], None] | None = None) -> int:
        """Apply every event after the checkpoint, ``batch`` events per read and at most ``chunk``
        per transaction; returns how many positions it advanced."""
        return self._catch_up(batch, chunk, progress, batch)

    def _catch_up(self, batch: int, chunk: int, progress: Callable[[int], None] | None, step: int) -> int:
        total = 0
        while True:
            advanced, at_head = self._chunk(batch, chunk, progress, step)
            total += advanced
            if at_head:
                return total

    def _chunk(
        self, batch: int, chunk: int, progress: Callable[[int], None] | None, step: int
    ) -> tuple[int, bool]:
        """One chunk in one transaction (joining the caller's, if any): (advanced, at the head).
        ``progress`` is told once ``step`` events or more were folded since it last was, and
        at the end."""
        advanced = 0
        at_head = False
        with self.store.transaction() as db, self._lock:
            start = self.store.checkpoint(READER)
            if start != self._cached_upto:
                self._forget(db.conn)
            if start:
                self._empty = False  # another reader got here first: the tables hold rows
            drafts: dict[str, Draft] = {}
            self._drafts = drafts
            reported = 0
            try:
                while advanced < chunk and len(drafts) < self.cache_size:
                    done = self.store.process(READER, self.apply, batch=batch, unreadable=self._unreadable)
                    advanced += done
                    if progress and advanced - reported >= step:
                        progress(advanced - reported)
                        reported = advanced
                    # Inside the write transaction nobody else appends: a short batch is the head.
                    if done < batch:
                        at_head = True
                        break
            finally:
                self._drafts = None
            if progress and advanced > reported:
                progress(advanced - reported)
            states = {project_id: freeze(d) for project_id, d in drafts.items()}
            written = self._write(db.conn, states, known=True)
            # Remembered before the commit: if it fails, the checkpoint stays behind
            # _cached_upto and the next chunk drops the cache.
            self._remember(states, written, start + advanced)
        return advanced, at_head

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
        if not self.store.in_transaction:
            raise RuntimeError("ReadModels.follow() runs inside the caller's transaction")
        try:
            with self.store.savepoint("read_models"):
                return self.catch_up()
        except Exception:
            with self._lock:
                self._cache.clear()
                self._cached_upto = -1
            log.exception("read models could not follow the append; they will catch up later")
            return 0

    def rebuild(
        self,
        *,
        batch: int = REBUILD_BATCH,
        chunk: int = 1_000_000,
        progress: Callable[[int], None] | None = None,
    ) -> int:
        """Drop every read model and its checkpoint, then replay the whole log.

        A chunk writes the rows of every project it touched once, so fewer, longer chunks write
        less: a million-event log rebuilt in one chunk took 24 s, in chunks of 250,000 events
        34 s (bench/projections.py). The log is cut into equal chunks of at most an eighth over
        ``chunk`` (see :func:`even_chunk`). The price is the write lock, held for a whole
        chunk: commands wait for it (up to the busy timeout), as they would for any rebuild.

        The log is read and folded in short batches (:data:`.tuning.REBUILD_BATCH` events), and
        the cyclic garbage collector is paused meanwhile (see :mod:`.tuning`). ``progress`` is
        told the events folded about :data:`PROGRESS_CALLS` times."""
        with self.store.transaction() as db, self._lock:
            schema.drop_tables(db)
            self.store.reset_checkpoint(READER)
            schema.ensure_tables(db, indexes=False)  # (the audit trail's index once the rows are in)
            self._cache.clear()
            self._failed, self._stale = set(), set()
            self._cached_upto = 0
            head = self.store.head().position
            chunk = even_chunk(head, chunk)
            step = max(batch, head // PROGRESS_CALLS)
        with collector_paused():
            self._empty = True  # the first chunk writes into empty tables: nothing to read back
            try:
                advanced, at_head = self._chunk(batch, chunk, progress, step)
            finally:
                self._empty = False
            if not at_head:
                advanced += self._catch_up(batch, chunk, progress, step)
            with self.store.transaction() as db:
                schema.ensure_tables(db)
            return advanced

    @property
    def position(self) -> int:
        return self.store.checkpoint(READER)

    # -- reading the states ---------------------------------------------------------------

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
            known = "SELECT id FROM rm_projects UNION SELECT project_id FROM rm_failures ORDER BY 1"
            projects = [row[0] for row in conn.execute(known)]
            dumped["project_states"] = [
                (project_id, encode_state(self._stored(conn, project_id, checkpoint)))
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
        """A state of the project for deciding a command on (the caller folds the project's
        later events onto it), or None: unknown, or a project with an event the reader could not
        fold (its state here lacks that event). The state cached as of the checkpoint, else the
        store's snapshot of the project's stream, which is kept only for a project whose every
        event folded (see :meth:`_write`): the fold of its log up to the snapshot's version."""
        with self._reading() as conn, self._lock:
            checkpoint = self.store.checkpoint(READER)
            if checkpoint == self._cached_upto:
                if project_id in self._failed:
                    return None
                hit = self._cached_at(checkpoint, project_id)
                if hit is not None:
                    return hit
            elif _failed_positions(conn, project_id):
                return None
            kept = self.store.read_snapshot(PROJECT_PREFIX + project_id, STATE_SCHEMA)
        return None if kept is None else decode_state(kept.state)

