"""Programs and reference data as the log holds them, for any moment of its history.

Programs live in ``program-<key>`` streams and reference-data sets in ``reference-<dataset>``
streams. Both the service and the projections read them through this module.
"""

from __future__ import annotations

import datetime as dt

from events.store import EventStore
from schemas import events as ev
from schemas.errors import DomainError
from schemas.programs import ProgramDefinition
from schemas.reference import Dataset, HolidayCalendar, ReferenceData, with_records

PROGRAM_PREFIX = "program-"
REFERENCE_PREFIX = "reference-"
DATASETS: tuple[Dataset, ...] = ("pilot_areas", "operators", "wallet_tiers", "holidays")
EMPTY_REFERENCE = ReferenceData(pilot_areas=(), operators=(), wallet_tiers=(), holidays=HolidayCalendar(years=()))


class Catalog:
    """Reads program versions and reference data from the store, caching what cannot change:
    a published program version is never edited, and a reference set only grows new versions."""

    def __init__(self, store: EventStore) -> None:
        self.store = store
        self._programs: dict[tuple[str, int], ProgramDefinition] = {}
        self._reference: tuple[tuple[int, ...], ReferenceData] | None = None

    def program_versions(self, key: str, *, as_of_position: int | None = None) -> list[ProgramDefinition]:
        events = self.store.read_stream(PROGRAM_PREFIX + key, as_of_position=as_of_position)
        out = [e.payload.definition for e in events if isinstance(e.payload, ev.ProgramVersionPublished)]
        for definition in out:
            self._programs[(definition.key, definition.version)] = definition
        return out

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
        versions = [d for d in self.program_versions(key, as_of_position=as_of_position) if d.effective_from <= on]
        if not versions:
            raise DomainError("unknown_program", program=key)
        return max(versions, key=lambda d: d.version)

    def reference(self, *, as_of_position: int | None = None) -> ReferenceData:
        """The reference data in force, at the head or as it stood at a past position."""
        versions = tuple(self.store.stream_version(REFERENCE_PREFIX + d) for d in DATASETS)
        if as_of_position is None and self._reference is not None and self._reference[0] == versions:
            return self._reference[1]
        ref = EMPTY_REFERENCE
        for dataset in DATASETS:
            events = self.store.read_stream(REFERENCE_PREFIX + dataset, as_of_position=as_of_position)
            if events and isinstance(events[-1].payload, ev.ReferenceDataUpdated):
                ref = with_records(ref, dataset, events[-1].payload.records)
        if as_of_position is None:
            self._reference = (versions, ref)
        return ref
