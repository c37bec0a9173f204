"""How a project's folded state is kept as the store's snapshot of its stream: its JSON, under
the read models' schema version (:data:`STATE_SCHEMA`).

States are derived data, rebuilt from the log, so their encoding is free to change with the
read models' schema version: the store ignores a snapshot of another one. (Compressing them
with LZ4 saved about a tenth of the file and no time: ``bench/projections.py`` measured it
against plain JSON before it was removed.)
"""

from __future__ import annotations

import msgspec

from projections.project import ProjectState
from projections.read_models.schema import SCHEMA_VERSION

#: The schema the read models' snapshots are kept under in the store.
STATE_SCHEMA = SCHEMA_VERSION

_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(ProjectState)


def encode_state(state: ProjectState | None) -> bytes:
    """A project state as stored."""
    return _encoder.encode(state)


def decode_state(stored: bytes) -> ProjectState:
    """The state :func:`encode_state` stored."""
    return _decoder.decode(stored)
