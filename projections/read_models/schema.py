"""The read-model tables: their shape, their version, and the migration that rebuilds them.

The read models are derived data: a database whose read models have another
:data:`SCHEMA_VERSION` drops them and resets their checkpoint, and the next catch-up rebuilds
them from the log. A table that changes shape (or what its rows derive) bumps the version.
"""

from __future__ import annotations

import sqlite_utils

#: The name of the read models' checkpoint.
READER = "read_models"
TABLES = ("rm_project_states", "rm_projects", "rm_register", "rm_queue", "rm_audit", "rm_failures")
#: The shape of the tables and of the stored states. Opening a database whose read models have
#: another version drops them (the next catch-up rebuilds them from the log): a stored state of
#: an older shape would silently lack what the fold now records. Register entries are JSON held
#: as BLOBs (no text round trip on the hot path); stored states are encoded as
#: :mod:`projections.read_models.states` says. What they derive counts too: a queue item's
#: label, for one.
SCHEMA_VERSION = 10

#: The audit trail's index by project (a rebuild creates it after loading the rows: faster).
AUDIT_INDEX = "rm_audit_project ON rm_audit (project_id, position)"


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
    conn.execute(f"CREATE INDEX IF NOT EXISTS {AUDIT_INDEX}")
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


def drop_tables(db: sqlite_utils.Database) -> None:
    """Drop every read model and its checkpoint (inside the caller's transaction)."""
    for table in TABLES:
        db.conn.execute(f"DROP TABLE IF EXISTS {table}")
    db.conn.execute("DELETE FROM checkpoints WHERE name = ?", (READER,))


def migrate(db: sqlite_utils.Database) -> None:
    """Drop read models of another :data:`SCHEMA_VERSION`, then create what is missing (inside
    the caller's transaction)."""
    conn = db.conn
    conn.execute("CREATE TABLE IF NOT EXISTS rm_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT")
    row = conn.execute("SELECT value FROM rm_meta WHERE key = 'schema_version'").fetchone()
    if row is None or row[0] != str(SCHEMA_VERSION):
        drop_tables(db)
        conn.execute(
            "INSERT OR REPLACE INTO rm_meta (key, value) VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),)
        )
    ensure_tables(db)
