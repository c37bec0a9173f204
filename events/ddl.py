"""The SQLite schema of the event store. Applied idempotently when a store opens for writing."""

from __future__ import annotations

STORE_SCHEMA_VERSION = 1

IMMUTABLE_MESSAGE = "events are immutable: {op} on {table} is refused; append a correcting event instead"

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
    """
    CREATE TABLE IF NOT EXISTS store_meta (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
    ) STRICT, WITHOUT ROWID
    """,
    *(
        f"""
        CREATE TRIGGER IF NOT EXISTS {table}_refuse_{op.lower()}
        BEFORE {op} ON {table}
        BEGIN
            SELECT RAISE(ABORT, '{IMMUTABLE_MESSAGE.format(op=op, table=table)}');
        END
        """
        for table in ("events", "commands")
        for op in ("UPDATE", "DELETE")
    ),
)
