"""Opening a registry: the codec of every event type, the store, and the genesis event."""

from __future__ import annotations

import uuid
from pathlib import Path

from events.codec import EventCodec
from events.hashchain import HASH_FORMAT
from events.model import NO_STREAM, AppendResult, NewEvent, StreamWrite
from events.sqlite import Clock, SQLiteEventStore, Synchronous, utc_now
from events.store import EventLog
from sandbox.metadata import by_system
from schemas.base import Event
from schemas.events import ALL_EVENTS
from schemas.registry import REGISTRY_STREAM, RegistryCreated
from schemas.upgrades import UPCASTERS

GENESIS_COMMAND = "registry:genesis"

EVENT_TYPES: tuple[type[Event], ...] = (RegistryCreated, *ALL_EVENTS)


def make_codec() -> EventCodec:
    """The codec that knows every event type of the product and reads its older payloads."""
    return EventCodec(EVENT_TYPES, UPCASTERS)


def open_store(
    path: str | Path,
    *,
    create: bool = False,
    synchronous: Synchronous = "FULL",
    clock: Clock = utc_now,
) -> SQLiteEventStore:
    """Open the registry database at ``path`` (refusing a missing file unless ``create``)."""
    return SQLiteEventStore(path, make_codec(), create=create, synchronous=synchronous, clock=clock)


def init_registry(store: EventLog, *, name: str = "Sandbox Registry", clock: Clock = utc_now) -> AppendResult:
    """Record the genesis event once; running it again changes nothing."""
    now = clock()
    genesis = RegistryCreated(registry_id=str(uuid.uuid4()), name=name, created_at=now, hash_format=HASH_FORMAT)
    meta = by_system(now, "registry created")
    existing = store.command_result(GENESIS_COMMAND)
    if existing is not None:
        return existing
    return store.append(
        [StreamWrite(REGISTRY_STREAM, (NewEvent(genesis, meta),), expected=NO_STREAM)],
        command_id=GENESIS_COMMAND,
    )
