"""How a project's folded state is stored in ``rm_project_states``: its JSON.

States are derived data, rebuilt from the log, so their encoding is free to change with the
read models' schema version. (Compressing them with LZ4 saved about a tenth of the file and no
time: ``bench/projections.py`` measured it against plain JSON before it was removed.)
"""

from __future__ import annotations

import msgspec

from projections.project import ProjectState

_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(ProjectState)


def encode_state(state: ProjectState | None) -> bytes:
    """A project state as stored."""
    return _encoder.encode(state)


def decode_state(stored: bytes) -> ProjectState:
    """The state :func:`encode_state` stored."""
    return _decoder.decode(stored)
