"""Persisted read models in SQLite: projects, the public register, the work queue, the audit trail.

One catch-up reader ("read_models") folds every project event into a stored project state and
rewrites the rows that state determines, in the same transaction as its checkpoint, so a crash
never leaves half an event applied and a restart resumes exactly where it stopped. ``rebuild``
drops everything and replays the log; the result equals the incrementally maintained tables.
"""

from __future__ import annotations

import datetime as dt
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


def audit_row(event: RecordedEvent[Event], before: ProjectState) -> dict[str, Any]:
    """One decision: who, in which role, when, under which rule version, why, and the chain of
    recommender and approvers where there is one."""
    meta = event.metadata
    detail: dict[str, Any] = {"payload": msgspec.to_builtins(event.payload)}
    pending = before.pending
    if pending is not None and isinstance(
        event.payload,
        ev.DecisionApproved
        | ev.ProjectAdmitted
        | ev.ApplicationRejected
        | ev.ProjectGraduated
        | ev.ExitInitiated
        | ev.ExitConfirmed,
    ):
        detail["recommendation"] = {
            "id": pending.recommendation_id,
            "decision": pending.decision,
            "recommender": pending.recommender,
            "approvers": list(pending.approvers),
            "position": pending.position,
        }
    return {
        "position": event.position,
        "project_id": event.stream_id.removeprefix(PROJECT_PREFIX),
        "type": event.type,
        "actor": meta.actor,
        "role": meta.role,
        "organisation": meta.organisation,
        "occurred_at": meta.occurred_at.isoformat(),
        "recorded_at": event.recorded_at.isoformat(),
        "rule_version": meta.rule_version,
        "reason": meta.reason,
        "detail": msgspec.json.encode(detail).decode(),
    }


class ReadModels:
    """The read models of one SQLite registry and the reader that keeps them current."""

    def __init__(self, store: SQLiteEventStore, catalog: Catalog | None = None) -> None:
        self.store = store
        self.db = store.db
        self.catalog = catalog or Catalog(store)
        with store.transaction() as db:
            ensure_tables(db)

    # -- writing ------------------------------------------------------------------------------

    def _load_state(self, project_id: str) -> ProjectState:
        row = self.db.conn.execute("SELECT state FROM rm_project_states WHERE project_id = ?", (project_id,)).fetchone()
        return _state_decoder.decode(row[0]) if row else INITIAL

    def apply(self, db: sqlite_utils.Database, events: Sequence[RecordedEvent[Event]]) -> None:
        """Fold a batch into the tables (called inside the reader's transaction)."""
        touched: dict[str, ProjectState] = {}
        audit: list[dict[str, Any]] = []
        for event in events:
            if not event.stream_id.startswith(PROJECT_PREFIX):
                continue
            project_id = event.stream_id.removeprefix(PROJECT_PREFIX)
            before = touched.get(project_id)
            if before is None:
                before = self._load_state(project_id)
            if event.type in _DECISION_TYPES:
                audit.append(audit_row(event, before))
            touched[project_id] = evolve(before, event)
        conn = db.conn
        for project_id, state in touched.items():
            conn.execute(
                "INSERT OR REPLACE INTO rm_project_states (project_id, position, state) VALUES (?, ?, ?)",
                (project_id, state.last_position, _state_encoder.encode(state).decode()),
            )
            row = project_row(state)
            conn.execute(
                f"INSERT OR REPLACE INTO rm_projects ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                tuple(row.values()),
            )
            entry = register_entry(state)
            if entry is not None:
                conn.execute(
                    "INSERT OR REPLACE INTO rm_register (id, entry, program_key, region, state, last_position)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    (
                        project_id,
                        msgspec.json.encode(entry).decode(),
                        state.program_key,
                        state.region,
                        state.state.value,
                        state.last_position,
                    ),
                )
            conn.execute("DELETE FROM rm_queue WHERE project_id = ?", (project_id,))
            program = self.catalog.program(state.program_key, state.program_version) if state.program_version else None
            for item in queue_items(state, program):
                conn.execute(
                    "INSERT INTO rm_queue (project_id, item, role, label_zh, label_en, due_on, since_position)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        project_id,
                        item.item,
                        item.role,
                        item.label_zh,
                        item.label_en,
                        _iso(item.due_on),
                        item.since_position,
                    ),
                )
        if audit:
            columns = list(audit[0])
            conn.executemany(
                f"INSERT INTO rm_audit ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
                [tuple(r.values()) for r in audit],
            )

    def catch_up(self, *, batch: int = 2000, progress: Callable[[int], None] | None = None) -> int:
        """Apply every event after the checkpoint; returns how many positions it advanced."""
        total = 0
        while (done := self.store.process(READER, self.apply, batch=batch)) > 0:
            total += done
            if progress:
                progress(done)
        return total

    def rebuild(self, *, batch: int = 2000, progress: Callable[[int], None] | None = None) -> int:
        """Drop every read model and its checkpoint, then replay the whole log."""
        with self.store.transaction() as db:
            for table in TABLES:
                db.conn.execute(f"DROP TABLE IF EXISTS {table}")
            db.conn.execute("DELETE FROM checkpoints WHERE name = ?", (READER,))
            ensure_tables(db)
        return self.catch_up(batch=batch, progress=progress)

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
