"""Programs and reference data as the log holds them, for any moment of its history.

Programs live in ``program-<key>`` streams and reference-data sets in ``reference-<dataset>``
streams. Both the service and the projections read them through this module.
"""

from __future__ import annotations

import datetime as dt
import threading

from events.store import EventReader
from schemas import events as ev
from schemas.errors import DomainError
from schemas.programs import ProgramDefinition
from schemas.reference import Dataset, HolidayCalendar, ReferenceData, with_records
from schemas.streams import PROGRAM_PREFIX, REFERENCE_PREFIX

DATASETS: tuple[Dataset, ...] = ("pilot_areas", "operators", "wallet_tiers", "holidays")
EMPTY_REFERENCE = ReferenceData(pilot_areas=(), operators=(), wallet_tiers=(), holidays=HolidayCalendar(years=()))
#: The event types that change what the catalog answers at the head of the log.
CATALOG_TYPES = (ev.ProgramVersionPublished.event_type, ev.ReferenceDataUpdated.event_type)


class Catalog:
    """Reads program versions and reference data from the store, caching what it read.

    A published program version is never edited, so versions are cached for good. What is in
    force at the head (each program's versions, the version in force on a day, the reference
    data) is cached until a program or reference event is appended: each question first looks
    at the events appended since the last one (usually none or a few: one indexed read) and
    drops the head caches if one of them is a catalog event. Another process's appends are seen
    the same way, since the check reads the log itself.
    """

    def __init__(self, store: EventReader) -> None:
        self.store = store
        self._programs: dict[tuple[str, int], ProgramDefinition] = {}
        self._lock = threading.Lock()
        self._seen = -1  # the log was checked for catalog events up to this position
        self._versions: dict[str, list[ProgramDefinition]] = {}
        self._keys: list[str] | None = None
        self._in_force: dict[tuple[str, dt.date], ProgramDefinition] = {}
        #: the reference data at the head, and the position of its latest event (0 if none)
        self._reference: tuple[ReferenceData, int] | None = None

    def _fresh(self) -> None:
        """Drop the head caches if a catalog event was appended since the last look."""
        with self._lock:
            seen = self._seen
        head, changed = self.store.types_after(max(seen, 0), CATALOG_TYPES)
        if head == seen:
            return
        with self._lock:
            if changed or seen < 0:
                self._keys = None
                self._versions = {}
                self._in_force = {}
                self._reference = None
            if self._seen == seen:
                self._seen = head

    def program_keys(self) -> list[str]:
        """The key of every program published in the log (the bundled ones and any published
        since), in the order they were first published."""
        self._fresh()
        keys = self._keys
        if keys is None:
            published = self.store.iter_all(types=[ev.ProgramVersionPublished.event_type])
            keys = list(
                dict.fromkeys(
                    e.payload.definition.key for e in published if isinstance(e.payload, ev.ProgramVersionPublished)
                )
            )
            with self._lock:
                self._keys = keys
        return list(keys)

    def program_versions(self, key: str, *, as_of_position: int | None = None) -> list[ProgramDefinition]:
        if as_of_position is None:
            self._fresh()
            cached = self._versions.get(key)
            if cached is not None:
                return list(cached)
        events = self.store.read_stream(PROGRAM_PREFIX + key, as_of_position=as_of_position)
        out = [e.payload.definition for e in events if isinstance(e.payload, ev.ProgramVersionPublished)]
        with self._lock:
            for definition in out:
                self._programs[(definition.key, definition.version)] = definition
            if as_of_position is None:
                self._versions[key] = out
        return list(out)

    def program(self, key: str, version: int) -> ProgramDefinition:
        """One program version (the one a project is bound to)."""
        found = self._programs.get((key, version))
        if found is None:
            self.program_versions(key)
            found = self._programs.get((key, version))
        if found is None:
            raise DomainError("unknown_program", program=f"{key}@{version}")
        return found

    def program_in_force(self, key: str, on: dt.date, *, as_of_position: int | None = None) -> ProgramDefinition:
        """The latest version effective on ``on`` (what a project submitted that day binds to)."""
        if as_of_position is None:
            self._fresh()
            cached = self._in_force.get((key, on))
            if cached is not None:
                return cached
        versions = [d for d in self.program_versions(key, as_of_position=as_of_position) if d.effective_from <= on]
        if not versions:
            raise DomainError("unknown_program", program=key)
        found = max(versions, key=lambda d: d.version)
        if as_of_position is None:
            with self._lock:
                self._in_force[(key, on)] = found
        return found

    def reference(self, *, as_of_position: int | None = None) -> ReferenceData:
        """The reference data in force, at the head or as it stood at a past position (the head's
        when no reference set changed after that position, the usual case)."""
        self._fresh()
        current = self._reference
        if current is None:
            current = self._load_reference(None)
            with self._lock:
                self._reference = current
        if as_of_position is None or as_of_position >= current[1]:
            return current[0]
        return self._load_reference(as_of_position)[0]

    def _load_reference(self, as_of_position: int | None) -> tuple[ReferenceData, int]:
        ref = EMPTY_REFERENCE
        last = 0
        for dataset in DATASETS:
            events = self.store.read_stream(REFERENCE_PREFIX + dataset, as_of_position=as_of_position)
            if events and isinstance(events[-1].payload, ev.ReferenceDataUpdated):
                ref = with_records(ref, dataset, events[-1].payload.records)
                last = max(last, events[-1].position)
        return ref, last
