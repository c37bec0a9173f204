"""Rebuild a registry database from an export, verifying every hash while loading.

The file is read line by line; each line is checked against the framing, the chain and every
rule of :mod:`events.logrules` (the checks ``verify`` makes) before it is written, and a file
that breaks one is refused, naming the first bad line and the rule, with nothing committed. A
command whose first event carries the id derived from its command id is recorded by that
event; for one appended before the ids were derived, a command record is rebuilt from the
events' ``command_id``, so retried commands stay idempotent in the new database either way.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable

from events.export import events_of
from events.logrules import LogVerifier
from events.merkletable import grow
from events.sqlite import SQLiteEventStore

_INSERT = (
    "INSERT INTO events (position, stream_id, version, type, schema_version, event_id, data, metadata,"
    " recorded_at, prev_hash, hash) VALUES (?,?,?,?,?,?,?,?,?,?,?)"
)


def _insert(conn: sqlite3.Connection, rows: list[tuple[object, ...]], before: int) -> None:
    """Insert rows after the first ``before`` events, with the Merkle subtrees they complete."""
    conn.executemany(_INSERT, rows)
    grow(conn, before, [str(row[10]) for row in rows])


class ImportRefused(ValueError):
    """The target database already holds events; nothing was imported. (A file that breaks a
    rule is refused with :class:`events.export.LineRefused`.)"""


def import_log(
    store: SQLiteEventStore,
    lines: Iterable[bytes | str],
    *,
    batch: int = 5000,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Load a verified export (its lines as read, with their newlines) into an empty store in one
    transaction; returns the event count. Raises :class:`events.export.LineRefused` at the first
    line that breaks a rule, having written nothing."""
    if store.head().position:
        raise ImportRefused(f"the target database {store.path} already holds events")
    verifier = LogVerifier()
    legacy = verifier.rules.legacy_commands
    rows: list[tuple[object, ...]] = []
    # Commands appended before ids were derived need a command record: first, last position.
    spans: dict[str, list[int]] = {}
    count = 0
    with store.transaction() as db:
        conn = db.conn
        for _number, event in events_of(lines, verifier):
            data, metadata = bytes(event.data), bytes(event.metadata)
            rows.append(
                (
                    event.position,
                    event.stream_id,
                    event.version,
                    event.type,
                    event.schema_version,
                    event.event_id,
                    data.decode(),
                    metadata.decode(),
                    event.recorded_at,
                    event.prev_hash,
                    event.hash,
                )
            )
            command_id = verifier.rules.command_id or ""
            if legacy.get(command_id) == event.position:
                spans[command_id] = [event.position, event.position]
            elif command_id in spans:
                spans[command_id][1] = event.position
            count += 1
            if len(rows) >= batch:
                _insert(conn, rows, count - len(rows))
                if progress:
                    progress(len(rows))
                rows.clear()
        if rows:
            _insert(conn, rows, count - len(rows))
            if progress:
                progress(len(rows))
        last_recorded = {
            r[0]: r[1]
            for r in conn.execute(
                "SELECT position, recorded_at FROM events WHERE position IN (SELECT max(position) FROM events)"
            )
        }
        stamp = next(iter(last_recorded.values()), "")
        conn.executemany(
            "INSERT INTO commands (command_id, first_position, last_position, recorded_at) VALUES (?, ?, ?, ?)",
            [(cid, first, last, stamp) for cid, (first, last) in spans.items()],
        )
    store.reload_command_records()
    return count

