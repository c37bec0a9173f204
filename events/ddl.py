"""The SQLite schema of the event store. Applied idempotently when a store opens for writing."""

from __future__ import annotations

import re

from events.merkletable import STATEMENTS as TREE_STATEMENTS

STORE_SCHEMA_VERSION = 1

IMMUTABLE_MESSAGE = "events are immutable: {op} on {table} is refused; append a correcting event instead"
APPEND_ONLY_MESSAGE = (
    "events are immutable: an INSERT into {table} that would replace a row or leave a gap is refused;"
    " append a correcting event instead"
)
#: The Merkle tree's subtrees and the signed checkpoints are written once and kept as they are:
#: a changed subtree would serve proofs the events do not give, a changed or dropped checkpoint
#: would hide a head the registry once signed.
TREE_IMMUTABLE_MESSAGE = (
    "the Merkle tree of the log and its signed checkpoints are immutable: {op} on {table} is refused"
)
REPEATED_EVENT_ID_MESSAGE = (
    "events are immutable: an INSERT repeating an event id (events.event_id) is refused;"
    " append a correcting event instead"
)

def _refuse_insert(name: str, table: str, when: str, message: str) -> str:
    """A trigger that refuses an INSERT into ``table`` when ``when`` holds, with ``message``."""
    return f"""
    CREATE TRIGGER IF NOT EXISTS {name}
    BEFORE INSERT ON {table}
    WHEN {when}
    BEGIN
        SELECT RAISE(ABORT, '{message}');
    END
    """


def _refuse_changes(tables: tuple[str, ...], message: str) -> tuple[str, ...]:
    """Triggers that refuse every UPDATE and DELETE on ``tables``, with ``message`` (formatted
    with the operation and the table)."""
    return tuple(
        f"""
        CREATE TRIGGER IF NOT EXISTS {table}_refuse_{op.lower()}
        BEFORE {op} ON {table}
        BEGIN
            SELECT RAISE(ABORT, '{message.format(op=op, table=table)}');
        END
        """
        for table in tables
        for op in ("UPDATE", "DELETE")
    )


STATEMENTS: tuple[str, ...] = (
    """
    CREATE TABLE IF NOT EXISTS events (
        position INTEGER PRIMARY KEY,
        stream_id TEXT NOT NULL,
        version INTEGER NOT NULL CHECK (version >= 1),
        type TEXT NOT NULL,
        schema_version INTEGER NOT NULL CHECK (schema_version >= 1),
        event_id TEXT NOT NULL UNIQUE,
        data TEXT NOT NULL,
        metadata TEXT NOT NULL,
        recorded_at TEXT NOT NULL,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL,
        UNIQUE (stream_id, version)
    ) STRICT
    """,
    # Command records as databases kept them before a command's record became the id of its
    # first event (see events.appending.command_event_id); still read, and written by the
    # importer for events appended that way.
    """
    CREATE TABLE IF NOT EXISTS commands (
        command_id TEXT PRIMARY KEY,
        first_position INTEGER NOT NULL,
        last_position INTEGER NOT NULL,
        recorded_at TEXT NOT NULL
    ) STRICT, WITHOUT ROWID
    """,
    """
    CREATE TABLE IF NOT EXISTS checkpoints (
        name TEXT PRIMARY KEY,
        position INTEGER NOT NULL
    ) STRICT, WITHOUT ROWID
    """,
    # Each stream's latest snapshot: its folded state as of a version, encoded by the reader that
    # folds it (``schema`` is that encoding's version: a reader ignores another's). Derived data,
    # written in the transaction that covers the events it folds, never ahead of its stream.
    """
    CREATE TABLE IF NOT EXISTS snapshots (
        stream_id TEXT PRIMARY KEY,
        version INTEGER NOT NULL CHECK (version >= 1),
        position INTEGER NOT NULL,
        schema INTEGER NOT NULL,
        state BLOB NOT NULL
    ) STRICT, WITHOUT ROWID
    """,
    """
    CREATE TABLE IF NOT EXISTS store_meta (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
    ) STRICT, WITHOUT ROWID
    """,
    *_refuse_changes(("events", "commands"), IMMUTABLE_MESSAGE),
    # INSERT OR REPLACE deletes the row it collides with without firing a DELETE trigger, so an
    # insert must be an append: the next position, a new stream version, a new event id (the
    # last one's message names the column as SQLite's own would: a repeated command is found by it)
    _refuse_insert(
        "events_insert_appends_only",
        "events",
        "NEW.position IS NOT (SELECT coalesce(max(position), 0) + 1 FROM events)"
        " OR EXISTS (SELECT 1 FROM events WHERE stream_id = NEW.stream_id AND version = NEW.version)",
        APPEND_ONLY_MESSAGE.format(table="events"),
    ),
    _refuse_insert(
        "events_insert_new_event_id",
        "events",
        "EXISTS (SELECT 1 FROM events WHERE event_id = NEW.event_id)",
        REPEATED_EVENT_ID_MESSAGE,
    ),
    *TREE_STATEMENTS,
    *_refuse_changes(("merkle_subtrees", "signed_checkpoints"), TREE_IMMUTABLE_MESSAGE),
    # and no INSERT OR REPLACE (or upsert) rewrites one of their rows either
    _refuse_insert(
        "merkle_subtrees_insert_new_only",
        "merkle_subtrees",
        "EXISTS (SELECT 1 FROM merkle_subtrees WHERE level = NEW.level AND idx = NEW.idx)",
        TREE_IMMUTABLE_MESSAGE.format(op="an INSERT replacing a row", table="merkle_subtrees"),
    ),
    _refuse_insert(
        "signed_checkpoints_insert_new_only",
        "signed_checkpoints",
        "EXISTS (SELECT 1 FROM signed_checkpoints WHERE id = NEW.id)",
        TREE_IMMUTABLE_MESSAGE.format(op="an INSERT replacing a row", table="signed_checkpoints"),
    ),
    _refuse_insert(
        "commands_insert_appends_only",
        "commands",
        "EXISTS (SELECT 1 FROM commands WHERE command_id = NEW.command_id)",
        APPEND_ONLY_MESSAGE.format(table="commands"),
    ),
)

#: The tables and triggers the statements create, by name: a store opening a file that lacks any
#: of them (a database written before a trigger was added, or one whose triggers were dropped)
#: runs the statements again.
OBJECTS: frozenset[str] = frozenset(
    re.findall(r"CREATE (?:TABLE|TRIGGER) IF NOT EXISTS (\w+)", "\n".join(STATEMENTS))
)
