"""The catalog's service: publishing a program version, replacing a reference dataset, and
installing the bundled ones, on the store.

Each command reads straight down, as a project's does: read what the log holds (the program's
published versions, or the reference data in force and the dataset's version), ask the pure
decider (:mod:`sandbox.deciders.catalog`), append its event with the stream's version and the
command id. The append refuses it if another lands on the stream meanwhile. A repeated command
id is answered with its first position, if it came with the same request (see
:mod:`sandbox.idempotency`); otherwise it is refused.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

from events.model import AppendResult, NewEvent, StreamWrite
from events.store import EventLog
from projections.catalog import DATASETS, Catalog
from sandbox.deciders import catalog
from sandbox.idempotency import Idempotency, correlation
from sandbox.metadata import SYSTEM, by_actor
from schemas import commands as c
from schemas.base import Event
from schemas.bundled import load_programs, load_reference
from schemas.commands import Actor
from schemas.programs import ProgramDefinition
from schemas.reference import Dataset
from schemas.streams import PROGRAM_PREFIX, REFERENCE_PREFIX

#: The append (with the read models, in one transaction): the registry's.
Commit = Callable[[Sequence[StreamWrite], str], AppendResult]


class CatalogService:
    """The catalog's commands over one store, appended through ``commit``."""

    def __init__(
        self,
        store: EventLog,
        catalog: Catalog,
        commit: Commit,
        clock: Callable[[], dt.datetime],
        idempotency: Idempotency,
    ) -> None:
        self.store = store
        self.catalog = catalog
        self.commit = commit
        self.clock = clock
        self.idempotency = idempotency

    def publish_program(
        self,
        definition: ProgramDefinition,
        actor: Actor,
        *,
        command_id: str,
        changes: Sequence[str] = (),
        request: str | None = None,
    ) -> int:
        """Publish a new program version (see :func:`catalog.publish_program`): its position.
        ``request``: the digest of the request that carried it (see
        ``sandbox.service.CommandOptions``)."""
        command = c.PublishProgramVersion(definition=definition, changes=list(changes))
        published = self.catalog.program_versions(definition.key)
        stream = PROGRAM_PREFIX + definition.key
        decided = partial(catalog.publish_program, command, published, actor)
        return self._record(stream, len(published), decided, actor, command_id, request)

    def update_reference(
        self,
        dataset: Dataset,
        records: list[dict[str, Any]],
        actor: Actor,
        *,
        command_id: str,
        changes: Sequence[str] = (),
        expected_version: int | None = None,
        request: str | None = None,
    ) -> int:
        """Replace one reference dataset (see :func:`catalog.update_reference`): its position. A
        caller that read it names the version it read (``expected_version``, the API's
        ``If-Match``), and a change made meanwhile is refused with
        :class:`~sandbox.deciders.catalog.PreconditionFailed`, never overwritten."""
        command = c.UpdateReferenceData(dataset=dataset, records=records, changes=list(changes))
        stream = REFERENCE_PREFIX + dataset
        version = self.store.stream_version(stream)
        decided = partial(catalog.update_reference, command, self.catalog.reference(), version, actor, expected_version)
        return self._record(stream, version, decided, actor, command_id, request)

    def install_bundled(self) -> int:
        """Publish the bundled programs and reference data once (idempotent by command id): how
        many events that wrote."""
        written = 0
        for definition in load_programs():
            if any(d.version >= definition.version for d in self.catalog.program_versions(definition.key)):
                continue
            self.publish_program(
                definition, SYSTEM, command_id=f"bundled:{definition.ref}", changes=["bundled definition"]
            )
            written += 1
        bundled = load_reference()
        for dataset in DATASETS:
            if self.store.stream_version(REFERENCE_PREFIX + dataset):
                continue
            self.update_reference(
                dataset,
                bundled.records(dataset),
                SYSTEM,
                command_id=f"bundled:reference:{dataset}",
                changes=["bundled reference data"],
            )
            written += 1
        return written

    def _record(
        self,
        stream: str,
        version: int,
        decided: Callable[[], Event],
        actor: Actor,
        command_id: str,
        request: str | None,
    ) -> int:
        """Decide a command on the stream's ``version`` and append its event: its position, or
        for a repeated command id the first one's, if it came with the same request."""
        try:
            event = decided()
        except catalog.Stale as stale:
            earlier = self.idempotency.earlier(stream, command_id, request)  # a retry whose answer was lost
            if earlier is not None:
                return earlier
            raise stale.refusal from None
        meta = by_actor(actor, self.clock(), correlation_id=correlation(command_id, request) if request else None)
        result = self.commit([StreamWrite(stream, (NewEvent(event, meta),), expected=version)], command_id)
        if result.duplicate:
            self.idempotency.same_request(result.first_position, stream, command_id, request)
        return result.last_position
