"""Persisted read models in SQLite: projects, the public register, the work queue, the audit
trail, and each project's folded state, kept by one catch-up reader from the log.

- :mod:`.schema`: the tables, their version and the migration (a table of another version is
  dropped and rebuilt from the log);
- :mod:`.rows`: the rows derived from a project's state or a decision (pure);
- :mod:`.states`: how a project's state is stored;
- :mod:`.writer`: :class:`ReadModels`, the reader that folds the log and writes the rows with
  its checkpoint, and the project states it serves the service;
- :mod:`.queries`: the reads (list, register, queue, audit trail, failures);
- :mod:`.tuning`: the performance machinery (the writer's upsert, the rebuild's chunks and
  collector pause), measured by ``bench/projections.py``.
"""

from projections.read_models.queries import SORTABLE
from projections.read_models.rows import DECISIONS, Failure, project_row
from projections.read_models.schema import READER, SCHEMA_VERSION
from projections.read_models.states import decode_state, encode_state
from projections.read_models.writer import SNAPSHOT_EVERY, ReadModels

__all__ = [
    "DECISIONS",
    "READER",
    "SCHEMA_VERSION",
    "SNAPSHOT_EVERY",
    "SORTABLE",
    "Failure",
    "ReadModels",
    "decode_state",
    "encode_state",
    "project_row",
]
