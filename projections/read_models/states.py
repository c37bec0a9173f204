"""How a project's folded state is stored in ``rm_project_states``: its JSON in an LZ4 block.

The states are most of what the read models write (a project's documents, reports and history);
their JSON halves under LZ4, and the block costs a few microseconds each way, so a rebuild writes
and checkpoints fewer pages (``bench/projections.py`` measures it as ``piece_lz4``). States are
derived data, rebuilt from the log, so their encoding is free to change with the read models'
schema version.
"""

from __future__ import annotations

import lz4.block
import msgspec

from projections.project import ProjectState

_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(ProjectState)


def encode_state(state: ProjectState) -> bytes:
    """A project state as stored."""
    stored: bytes = lz4.block.compress(_encoder.encode(state))
    return stored


def decode_state(stored: bytes) -> ProjectState:
    """The state :func:`encode_state` stored."""
    return _decoder.decode(lz4.block.decompress(stored))


def state_json(state: ProjectState | None) -> bytes:
    """A state as plain JSON (to compare two builds)."""
    return _encoder.encode(state)
