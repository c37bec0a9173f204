"""The read-model tables: their shape, their version, and the migration that rebuilds them.

The tables are declared with sqlite-utils (``Table.create``, ``create_index``, ``enable_fts``).
They are derived data: a database whose read models have another :data:`SCHEMA_VERSION` drops
them and resets their checkpoint, and the next catch-up rebuilds them from the log (a table
transformed in place would keep rows an older fold derived). A table that changes shape, or
what its rows derive, bumps the version.
"""

from __future__ import annotations

from typing import Any

import sqlite_utils

#: The name of the read models' checkpoint.
READER = "read_models"
#: The shape of the tables and of the project states kept as the store's snapshots. Opening a
#: database whose read models have another version drops them (the next catch-up rebuilds them
#: from the log), and the snapshots of the other version are ignored (the store keeps them by
#: this version, see :mod:`projections.read_models.states`): a state of an older shape would
#: silently lack what the fold now records. Register entries are JSON held as BLOBs (no text
#: round trip on the hot path). What they derive counts too: a queue item's label, for one.
SCHEMA_VERSION = 16

#: Each table: its columns, primary key and the columns that may be NULL (all others may not).
_TABLES: dict[str, tuple[dict[str, Any], str | tuple[str, ...], frozenset[str]]] = {
    "rm_projects": (
        {
            "id": str,
            "program_key": str,
            "program_version": int,
            "title": str,
            "app_type": str,
            "state": str,
            "state_zh": str,
            "state_en": str,
            "applicant": str,
            "lead_name": str,
            "partners": str,
            "region": str,
            "created_on": str,
            "submitted_on": str,
            "notice_starts": str,
            "notice_ends": str,
            "admitted_on": str,
            "test_started_on": str,
            "planned_end": str,
            "case_officer": str,
            "version": int,
            "last_position": int,
            "latest_metrics": str,
        },
        "id",
        frozenset(
            {
                "created_on",
                "submitted_on",
                "notice_starts",
                "notice_ends",
                "admitted_on",
                "test_started_on",
                "planned_end",
                "case_officer",
            }
        ),
    ),
    # (the entry last: the filters' columns are read without walking its overflow pages)
    "rm_register": (
        {"id": str, "program_key": str, "region": str, "state": str, "entry": bytes},
        "id",
        frozenset(),
    ),
    # What the search finds a project by (see :mod:`projections.read_models.search`), apart
    # from rm_projects, whose row most events rewrite: the index follows only a change of these.
    "rm_search": ({"id": str, "title": str, "applicants": str}, "id", frozenset()),
    "rm_queue": (
        {
            "project_id": str,
            "item": str,
            "role": str,
            "label_zh": str,
            "label_en": str,
            "due_on": str,
            "since_position": int,
            # the persons who may not take the item (a JSON list: four eyes)
            "excluded": str,
        },
        ("project_id", "item"),
        frozenset({"due_on"}),
    ),
    # The audit trail indexes the decisions in the log by project, with what only the fold knows
    # (the recommendation a decision completed); who, when, why and the payload are the event's
    # own and are read from the log with the page (see ``audit``), not copied here.
    "rm_audit": (
        {"position": int, "project_id": str, "recommendation": bytes},
        "position",
        frozenset({"recommendation"}),
    ),
    # stage 'fold': the event could not be folded (skipped); stage 'rows': the project's rows
    # could not be derived from its state (its rm_projects/rm_register/rm_queue rows are stale
    # until they are derived again, which removes the record).
    "rm_failures": (
        {"position": int, "stage": str, "project_id": str, "type": str, "error": str},
        ("position", "stage"),
        frozenset(),
    ),
}
_INDEXES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("rm_projects", "rm_projects_state", ("state", "program_key")),
    ("rm_projects", "rm_projects_applicant", ("applicant",)),
    ("rm_register", "rm_register_filters", ("state", "program_key", "region")),
    ("rm_audit", "rm_audit_project", ("project_id", "position")),
    ("rm_failures", "rm_failures_project", ("project_id",)),
)
#: The full-text index of rm_search: SQLite's trigram tokenizer, kept by triggers.
SEARCHED = ("title", "applicants")
TABLES = ("rm_search_fts", *_TABLES)
#: Tables older versions kept, dropped with the rest (``rm_project_states`` held the projects'
#: states before the store kept them as snapshots).
_RETIRED = ("rm_project_states",)


def ensure_tables(db: sqlite_utils.Database, *, indexes: bool = True) -> None:
    """Create the read-model tables that are missing (inside the caller's transaction); with
    ``indexes=False`` without the audit trail's index (a rebuild creates it after loading the
    rows: faster)."""
    for name, (columns, pk, nullable) in _TABLES.items():
        db.table(name).create(columns, pk=pk, not_null=set(columns) - nullable, strict=True, if_not_exists=True)
    for table, index, indexed in _INDEXES:
        if indexes or index != "rm_audit_project":
            db.table(table).create_index(indexed, index_name=index, if_not_exists=True)
    if not db.table("rm_search_fts").exists():
        db.table("rm_search").enable_fts(SEARCHED, tokenize="trigram", create_triggers=True)


def drop_tables(db: sqlite_utils.Database) -> None:
    """Drop every read model (inside the caller's transaction, in which the caller also resets
    the reader's checkpoint through the store)."""
    for table in (*TABLES, *_RETIRED):
        db.conn.execute(f"DROP TABLE IF EXISTS {table}")


def migrate(db: sqlite_utils.Database) -> bool:
    """Drop read models of another :data:`SCHEMA_VERSION`, then create what is missing (inside
    the caller's transaction); whether they were dropped (their reader then starts over)."""
    meta = db.table("rm_meta")
    meta.create({"key": str, "value": str}, pk="key", not_null={"key", "value"}, strict=True, if_not_exists=True)
    row = db.conn.execute("SELECT value FROM rm_meta WHERE key = 'schema_version'").fetchone()
    if row is None or row[0] != str(SCHEMA_VERSION):
        drop_tables(db)
        meta.upsert({"key": "schema_version", "value": str(SCHEMA_VERSION)}, pk="key")
        ensure_tables(db)
        return True
    ensure_tables(db)
    return False
