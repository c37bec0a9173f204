"""Persisted read models in SQLite: projects, the public register, the work queue, the audit trail.

One catch-up reader ("read_models") folds every project event into a stored project state and
rewrites the rows that state determines, in the same transaction as its checkpoint, so a crash
never leaves half an event applied and a restart resumes exactly where it stopped. ``rebuild``
drops everything and replays the log; the result equals the incrementally maintained tables.
"""

from __future__ import annotations

import datetime as dt
import gc
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any

import msgspec
import sqlite_utils

from events.model import RecordedEvent
from events.sqlite import SQLiteEventStore
from projections.catalog import Catalog
from projections.project import INITIAL, ProjectState, evolve, local_date
from projections.public import queue_items, register_entry
from schemas import events as ev
from schemas.base import Event
from schemas.lifecycle import STATE_LABELS, State

READER = "read_models"
PROJECT_PREFIX = "project-"
TABLES = ("rm_project_states", "rm_projects", "rm_register", "rm_queue", "rm_audit")

_state_encoder = msgspec.json.Encoder()
_entry_encoder = msgspec.json.Encoder()
_state_decoder = msgspec.json.Decoder(ProjectState)

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
_DECISION_TYPES = {t.event_type for t in DECISIONS}


def ensure_tables(db: sqlite_utils.Database) -> None:
    """Create the read-model tables if missing (inside the caller's transaction)."""
    conn = db.conn
    conn.execute(
        "CREATE TABLE IF NOT EXISTS rm_project_states (project_id TEXT PRIMARY KEY, position INTEGER NOT NULL,"
        " state TEXT NOT NULL) STRICT"
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
            id TEXT PRIMARY KEY, entry TEXT NOT NULL, program_key TEXT NOT NULL, region TEXT NOT NULL,
            state TEXT NOT NULL, last_position INTEGER NOT NULL
        ) STRICT"""
    )
    conn.execute(
        """CREATE TABLE IF NOT EXISTS rm_queue (
            project_id TEXT NOT NULL, item TEXT NOT NULL, role TEXT NOT NULL, label_zh TEXT NOT NULL,
            label_en TEXT NOT NULL, due_on TEXT, since_position INTEGER NOT NULL, PRIMARY KEY (project_id, item)
        ) STRICT"""
    )
    conn.execute(
        """CREATE TABLE IF NOT EXISTS rm_audit (
            position INTEGER PRIMARY KEY, project_id TEXT NOT NULL, type TEXT NOT NULL, actor TEXT NOT NULL,
            role TEXT NOT NULL, organisation TEXT, occurred_at TEXT NOT NULL, recorded_at TEXT NOT NULL,
            rule_version TEXT, reason TEXT, detail TEXT NOT NULL
        ) STRICT"""
    )
    conn.execute("CREATE INDEX IF NOT EXISTS rm_audit_project ON rm_audit (project_id, position)")


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
_detail_encoder = msgspec.json.Encoder()


def audit_values(event: RecordedEvent[Event], before: ProjectState) -> tuple[Any, ...]:
    """One decision as an rm_audit row (in ``AUDIT_COLUMNS`` order): who, in which role, when,
    under which rule version, why, and the chain of recommender and approvers where there is one."""
    meta = event.metadata
    detail: dict[str, Any] = {"payload": event.payload}
    pending = before.pending
    if pending is not None and isinstance(event.payload, _CHAINED):
        detail["recommendation"] = {
            "id": pending.recommendation_id,
            "decision": pending.decision,
            "recommender": pending.recommender,
            "approvers": pending.approvers,
            "position": pending.position,
        }
    return (
        event.position,
        event.stream_id.removeprefix(PROJECT_PREFIX),
        event.type,
        meta.actor,
        meta.role,
        meta.organisation,
        meta.occurred_at.isoformat(),
        event.recorded_at.isoformat(),
        meta.rule_version,
        meta.reason,
        _detail_encoder.encode(detail).decode(),
    )


def audit_row(event: RecordedEvent[Event], before: ProjectState) -> dict[str, Any]:
    """:func:`audit_values` by column name."""
    return dict(zip(AUDIT_COLUMNS, audit_values(event, before), strict=True))


#: The columns of rm_projects, in the order ``project_row`` gives them.
PROJECT_COLUMNS = tuple(project_row(INITIAL))
#: The columns of rm_audit, in the order ``audit_row`` gives them.
AUDIT_COLUMNS = (
    "position",
    "project_id",
    "type",
    "actor",
    "role",
    "organisation",
    "occurred_at",
    "recorded_at",
    "rule_version",
    "reason",
    "detail",
)
_PROJECT_UPSERT = (
    f"INSERT OR REPLACE INTO rm_projects ({', '.join(PROJECT_COLUMNS)})"
    f" VALUES ({', '.join('?' * len(PROJECT_COLUMNS))})"
)
_AUDIT_INSERT = f"INSERT INTO rm_audit ({', '.join(AUDIT_COLUMNS)}) VALUES ({', '.join('?' * len(AUDIT_COLUMNS))})"


class ReadModels:
    """The read models of one SQLite registry and the reader that keeps them current.

    ``catch_up`` reads the log in batches and folds them into project states; every ``chunk``
    events (or sooner, once ``cache_size`` projects wait to be written), and at the head, it
    writes the rows of each project it touched once and commits them in the same transaction as
    the checkpoint. A crash rolls the unfinished chunk back and the next catch-up redoes it, so
    every event is applied exactly once. Larger chunks rewrite a busy project's rows less often
    but hold the write lock longer: ``rebuild`` (an operator's command) uses larger ones.

    The reader also keeps the states it folded in memory (up to ``cache_size`` of them, least
    recently used first out), so a chunk does not read back and decode what the previous one
    wrote. The cache holds only committed states and is dropped whenever the checkpoint is not
    where this instance left it (another reader moved it).
    """

    def __init__(self, store: SQLiteEventStore, catalog: Catalog | None = None, *, cache_size: int = 50_000) -> None:
        self.store = store
        self.db = store.db
        self.catalog = catalog or Catalog(store)
        self.cache_size = cache_size
        self._cache: OrderedDict[str, ProjectState] = OrderedDict()
        self._cached_upto = -1
        self._pending: dict[str, ProjectState] | None = None
        self._lock = threading.RLock()  # one catch-up at a time per instance (it shares the cache)
        with store.transaction() as db:
            ensure_tables(db)

    # -- writing ------------------------------------------------------------------------------

    def _load_state(self, project_id: str) -> ProjectState:
        if self._pending is not None and (pending := self._pending.get(project_id)) is not None:
            return pending
        cached = self._cache.get(project_id)
        if cached is not None:
            return cached
        row = self.db.conn.execute("SELECT state FROM rm_project_states WHERE project_id = ?", (project_id,)).fetchone()
        return _state_decoder.decode(row[0]) if row else INITIAL

    def apply(self, db: sqlite_utils.Database, events: Sequence[RecordedEvent[Event]]) -> None:
        """Fold a batch (inside the reader's transaction). Within ``catch_up`` the touched
        projects' rows are written at the end of the chunk; on its own, at once."""
        touched: dict[str, ProjectState] = {} if self._pending is None else self._pending
        audit: list[tuple[Any, ...]] = []
        prefix_length = len(PROJECT_PREFIX)
        for event in events:
            stream = event.stream_id
            if not stream.startswith(PROJECT_PREFIX):
                continue
            project_id = stream[prefix_length:]
            before = touched.get(project_id)
            if before is None:
                before = self._load_state(project_id)
            if event.type in _DECISION_TYPES:
                audit.append(audit_values(event, before))
            touched[project_id] = evolve(before, event)
        if audit:
            db.conn.executemany(_AUDIT_INSERT, audit)
        if self._pending is None:
            self._write(db.conn, touched)

    def _write(self, conn: sqlite3.Connection, touched: dict[str, ProjectState]) -> None:
        """Rewrite every row the touched projects' states determine."""
        states: list[tuple[Any, ...]] = []
        projects: list[tuple[Any, ...]] = []
        register: list[tuple[Any, ...]] = []
        queue: list[tuple[Any, ...]] = []
        for project_id, state in touched.items():
            states.append((project_id, state.last_position, _state_encoder.encode(state).decode()))
            projects.append(tuple(project_row(state).values()))
            entry = register_entry(state)
            if entry is not None:
                register.append(
                    (
                        project_id,
                        _entry_encoder.encode(entry).decode(),
                        state.program_key,
                        state.region,
                        state.state.value,
                        state.last_position,
                    )
                )
            program = self.catalog.program(state.program_key, state.program_version) if state.program_version else None
            queue.extend(
                (project_id, i.item, i.role, i.label_zh, i.label_en, _iso(i.due_on), i.since_position)
                for i in queue_items(state, program)
            )
        conn.executemany(
            "INSERT OR REPLACE INTO rm_project_states (project_id, position, state) VALUES (?, ?, ?)", states
        )
        conn.executemany(_PROJECT_UPSERT, projects)
        conn.executemany(
            "INSERT OR REPLACE INTO rm_register (id, entry, program_key, region, state, last_position)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            register,
        )
        conn.executemany("DELETE FROM rm_queue WHERE project_id = ?", [(project_id,) for project_id in touched])
        conn.executemany(
            "INSERT INTO rm_queue (project_id, item, role, label_zh, label_en, due_on, since_position)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            queue,
        )

    def catch_up(
        self, *, batch: int = 2000, chunk: int = 50_000, progress: Callable[[int], None] | None = None
    ) -> int:
        """Apply every event after the checkpoint, ``batch`` events per read and at most ``chunk``
        per transaction; returns how many positions it advanced."""
        with self._lock:
            return self._catch_up(batch, chunk, progress)

    def _catch_up(self, batch: int, chunk: int, progress: Callable[[int], None] | None) -> int:
        total = 0
        while True:
            advanced = 0
            pending: dict[str, ProjectState] = {}
            with self.store.transaction() as db:
                if self.store.checkpoint(READER) != self._cached_upto:
                    self._cache.clear()
                self._pending = pending
                try:
                    at_head = False
                    while advanced < chunk and len(pending) < self.cache_size:
                        done = self.store.process(READER, self.apply, batch=batch)
                        if done == 0:
                            at_head = True
                            break
                        advanced += done
                        if progress:
                            progress(done)
                    self._write(db.conn, pending)
                finally:
                    self._pending = None
                upto = self.store.checkpoint(READER)
            self._remember(pending, upto)  # committed: the states are now what the tables hold
            total += advanced
            if at_head:
                return total

    def _remember(self, states: dict[str, ProjectState], upto: int) -> None:
        cache = self._cache
        for project_id, state in states.items():
            cache[project_id] = state
            cache.move_to_end(project_id)
        while len(cache) > self.cache_size:
            cache.popitem(last=False)
        self._cached_upto = upto

    def rebuild(
        self, *, batch: int = 2000, chunk: int = 250_000, progress: Callable[[int], None] | None = None
    ) -> int:
        """Drop every read model and its checkpoint, then replay the whole log.

        The cyclic garbage collector is paused meanwhile: the replay allocates millions of
        acyclic objects, and collecting them as they go costs about a sixth of the time."""
        with self._lock:
            self._cache.clear()
            self._cached_upto = -1
            with self.store.transaction() as db:
                for table in TABLES:
                    db.conn.execute(f"DROP TABLE IF EXISTS {table}")
                db.conn.execute("DELETE FROM checkpoints WHERE name = ?", (READER,))
                ensure_tables(db)
            paused = gc.isenabled()
            gc.disable()
            try:
                return self._catch_up(batch, chunk, progress)
            finally:
                if paused:
                    gc.enable()

    @property
    def position(self) -> int:
        return self.store.checkpoint(READER)

    # -- reading ------------------------------------------------------------------------------

    def dump(self) -> dict[str, list[tuple[Any, ...]]]:
        """Every row of every read model, in key order (to compare two builds row for row)."""
        keys = {
            "rm_project_states": "project_id",
            "rm_projects": "id",
            "rm_register": "id",
            "rm_queue": "project_id, item",
            "rm_audit": "position",
        }
        return {
            table: list(self.db.conn.execute(f"SELECT * FROM {table} ORDER BY {order}"))
            for table, order in keys.items()
        }

    def state(self, project_id: str) -> ProjectState | None:
        row = self.db.conn.execute("SELECT state FROM rm_project_states WHERE project_id = ?", (project_id,)).fetchone()
        return _state_decoder.decode(row[0]) if row else None

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
        """Filter, sort and page the projects; returns (total matching, page)."""
        where, params = [], []
        for column, value in (("program_key", program), ("state", state), ("applicant", applicant), ("region", region)):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        if submitted_from is not None:
            where.append("submitted_on >= ?")
            params.append(submitted_from.isoformat())
        if submitted_to is not None:
            where.append("submitted_on <= ?")
            params.append(submitted_to.isoformat())
        if sort not in SORTABLE:
            raise ValueError(f"cannot sort by {sort!r}; choose one of {', '.join(SORTABLE)}")
        clause = f" WHERE {' AND '.join(where)}" if where else ""
        total = self.db.conn.execute(f"SELECT count(*) FROM rm_projects{clause}", params).fetchone()[0]
        rows = self.db.query(
            f"SELECT * FROM rm_projects{clause} ORDER BY {sort} {'DESC' if descending else 'ASC'}, id LIMIT ? OFFSET ?",
            [*params, limit, offset],
        )
        return int(total), [_decode_json(r) for r in rows]

    def register(self, *, program: str | None = None, limit: int = 50, offset: int = 0) -> tuple[int, list[Any]]:
        clause, params = (" WHERE program_key = ?", [program]) if program else ("", [])
        total = self.db.conn.execute(f"SELECT count(*) FROM rm_register{clause}", params).fetchone()[0]
        rows = self.db.conn.execute(
            f"SELECT entry FROM rm_register{clause} ORDER BY id LIMIT ? OFFSET ?", [*params, limit, offset]
        )
        return int(total), [msgspec.json.decode(r[0]) for r in rows]

    def register_entry(self, project_id: str) -> Any | None:
        row = self.db.conn.execute("SELECT entry FROM rm_register WHERE id = ?", (project_id,)).fetchone()
        return msgspec.json.decode(row[0]) if row else None

    def queue(self, *, role: str | None = None, today: dt.date | None = None) -> list[dict[str, Any]]:
        """What waits for whom, oldest first, with ``overdue`` against ``today``."""
        clause, params = (" WHERE role = ?", [role]) if role else ("", [])
        rows = list(
            self.db.query(f"SELECT * FROM rm_queue{clause} ORDER BY due_on IS NULL, due_on, since_position", params)
        )
        for row in rows:
            row["overdue"] = bool(today and row["due_on"] and row["due_on"] < today.isoformat())
        return rows

    def audit(self, project_id: str | None = None, *, after: int = 0, limit: int = 200) -> list[dict[str, Any]]:
        clause = "WHERE position > ?" + (" AND project_id = ?" if project_id else "")
        params: list[Any] = [after] + ([project_id] if project_id else [])
        rows = self.db.query(f"SELECT * FROM rm_audit {clause} ORDER BY position LIMIT ?", [*params, limit])
        return [_decode_json(r) for r in rows]


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
    for key in ("partners", "latest_metrics", "detail"):
        if key in row and isinstance(row[key], str):
            row[key] = msgspec.json.decode(row[key])
    return row


def today_of(moment: dt.datetime) -> dt.date:
    return local_date(moment)


__all__ = ["READER", "ReadModels", "State", "project_row"]
