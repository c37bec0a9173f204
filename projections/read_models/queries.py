"""The reads over the read-model tables: the list of projects, the public register, the work
queue, the audit trail and what the reader could not derive.

Reads run through the store's port (:meth:`events.store.ProjectionHost.reading`): while no
other thread of this process writes through the store, and the ones made of several statements
inside one read transaction, so they never see a half-written chunk or a page that does not match
its total.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import msgspec
import sqlite_utils

from events.store import ProjectionHost
from projections.read_models.rows import Failure, audit_entry
from projections.read_models.search import search_clause, terms
from schemas.lifecycle import State

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


class Queries:
    """The reads of the read models a store hosts (see the module docstring)."""

    store: ProjectionHost[sqlite_utils.Database]

    @contextmanager
    def _reading(self, *, statements: int = 1) -> Iterator[sqlite3.Connection]:
        """The connection for reads (see :meth:`ProjectionHost.reading`); reads of several
        statements run in one read transaction (one snapshot of the file)."""
        with self.store.reading(snapshot=statements > 1) as db:
            yield db.conn

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        with self._reading() as conn:
            cursor = conn.execute(sql, params)
            names = [d[0] for d in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

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
        search: str | None = None,
        submitted_from: dt.date | None = None,
        submitted_to: dt.date | None = None,
        sort: str = "id",
        descending: bool = False,
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[int, list[dict[str, Any]]]:
        """Filter, sort and page the projects; returns (total matching, page). ``applicant``
        matches the lead organisation or any partner still in the project; ``search``, any part
        of the title or the applicants (see :mod:`.search`)."""
        where, params = _filters(program=program, state=state, region=region, search=search)
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

    def register(
        self,
        *,
        q: str | None = None,
        program: str | None = None,
        state: str | None = None,
        region: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[int, list[Any]]:
        """A page of the public register, by project id, filtered by program, state and region
        and searched by any part of a title or an applicant (``q``, see :mod:`.search`);
        returns (total matching, entries)."""
        where, params = _filters(program=program, state=state, region=region, search=q)
        clause = f" WHERE {' AND '.join(where)}" if where else ""
        with self._reading(statements=2) as conn:
            total = conn.execute(f"SELECT count(*) FROM rm_register{clause}", params).fetchone()[0]
            rows = conn.execute(
                f"SELECT entry FROM rm_register{clause} ORDER BY id LIMIT ? OFFSET ?", [*params, limit, offset]
            ).fetchall()
        return int(total), [msgspec.json.decode(r[0]) for r in rows]

    def register_entry(self, project_id: str) -> Any | None:
        """A project's entry on the public register (None: not on it)."""
        with self._reading() as conn:
            row = conn.execute("SELECT entry FROM rm_register WHERE id = ?", (project_id,)).fetchone()
        return msgspec.json.decode(row[0]) if row else None

    def queue(
        self, *, role: str | None = None, today: dt.date | None = None, person: str | None = None
    ) -> list[dict[str, Any]]:
        """What waits for whom, oldest first, with ``overdue`` against ``today`` (the business
        date asked); with ``person``, without the items that person may not take (four eyes)."""
        clause, params = (" WHERE role = ?", [role]) if role else ("", [])
        rows = self._rows(f"SELECT * FROM rm_queue{clause} ORDER BY due_on IS NULL, due_on, since_position", params)
        for row in rows:
            row["excluded"] = msgspec.json.decode(row["excluded"])
            row["overdue"] = bool(today and row["due_on"] and row["due_on"] < today.isoformat())
        return [row for row in rows if person is None or person not in row["excluded"]]

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


def _filters(
    *, program: str | None, state: str | None, region: str | None, search: str | None
) -> tuple[list[str], list[Any]]:
    """The conditions (and their parameters) the project list and the register share: columns
    both tables have, and the search."""
    where: list[str] = []
    params: list[Any] = []
    for column, value in (("program_key", program), ("state", state), ("region", region)):
        if value is not None:
            where.append(f"{column} = ?")
            params.append(value)
    found = terms(search)
    if found:
        clause, more = search_clause(found)
        where.append(clause)
        params += more
    return where, params


def _decode_json(row: dict[str, Any]) -> dict[str, Any]:
    for key in ("partners", "latest_metrics"):
        if key in row and isinstance(row[key], str):
            row[key] = msgspec.json.decode(row[key])
    return row
