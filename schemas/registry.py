"""Events of the registry itself."""

from __future__ import annotations

from schemas.base import Event, UtcDatetime

#: The stream that holds the registry's genesis event.
REGISTRY_STREAM = "registry"


class RegistryCreated(Event, frozen=True, kw_only=True):
    """The first event of every registry: its id, name, creation time and hash format."""

    registry_id: str
    name: str
    created_at: UtcDatetime
    hash_format: str
