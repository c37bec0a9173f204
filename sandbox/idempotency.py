"""Idempotency: a command id sent again is answered with the first result, never recorded twice.

The store recognises a repeated command id at the append (and writes nothing); a refusal first
asks whether the command was recorded before, since a retry whose first answer was lost meets a
state that has moved on. Either way the first result is given back only to the same request: a
command id whose first events went to another stream, or (given the request's digest, which
follows the command id in the events' correlation id) came with another request, is refused
with ``idempotency_key_reused``, so that a second, different request is never dropped unseen.
"""

from __future__ import annotations

from dataclasses import dataclass

from events.model import RecordedEvent
from events.store import EventReader
from schemas import events as ev
from schemas.base import Event
from schemas.errors import DomainError
from schemas.streams import PROJECT_PREFIX


@dataclass(frozen=True, slots=True)
class CommandResult:
    """What a project command recorded: its project's new version, the positions and types of
    its events, and whether it was a repeat answered with the first result."""

    project_id: str
    version: int
    positions: list[int]
    event_types: list[str]
    duplicate: bool = False


def correlation(command_id: str, request: str | None) -> str:
    """The correlation id of a command's events: its id, and the request's digest if given."""
    return f"{command_id}#{request}" if request else command_id


def refuse_another_request(first: RecordedEvent[Event], stream: str | None, correlation_id: str | None) -> None:
    """Refuse a repeated command id whose first event went to another stream (another project,
    program or dataset; ``stream`` None: it must have created a draft) or, given the request's
    ``correlation_id``, came with another request. An event with no digest in its correlation id
    (a command from elsewhere, or from before digests were recorded) is taken for the same
    request if it is in the same stream."""
    elsewhere = first.type != ev.DraftCreated.event_type if stream is None else first.stream_id != stream
    if elsewhere:
        raise DomainError("idempotency_key_reused")
    recorded = first.metadata.correlation_id
    if correlation_id is not None and recorded not in (None, correlation_id, first.metadata.command_id):
        raise DomainError("idempotency_key_reused")


class Idempotency:
    """The first results of command ids, as the store recorded them."""

    def __init__(self, store: EventReader) -> None:
        self.store = store

    def earlier(self, stream: str, command_id: str, request: str | None) -> int | None:
        """The last position a command id appended to ``stream`` before (if with the same
        request), or None: for a catalog command refused on a version it was decided for."""
        previous = self.store.command_result(command_id)
        if previous is None:
            return None
        self.same_request(previous.first_position, stream, command_id, request)
        return previous.last_position

    def same_request(self, first_position: int, stream: str, command_id: str, request: str | None) -> None:
        """Refuse a command id whose first event (at ``first_position``) was another request's."""
        [first] = self.store.read_after(first_position - 1, limit=1)
        refuse_another_request(first, stream, correlation(command_id, request) if request else None)

    def first_result(self, command_id: str, correlation_id: str) -> CommandResult | None:
        """The first result of a project command id recorded before (see :meth:`replayed`), or
        None if it never was."""
        previous = self.store.command_result(command_id)
        if previous is None:
            return None
        return self.replayed(previous.versions, previous.positions, correlation_id)

    def replayed(self, versions: dict[str, int], positions: range, correlation_id: str) -> CommandResult:
        """The first result of a repeated command id, if the first request was this one: its
        events' correlation id is this one's, or just the command id (no request digest was
        recorded: a command from elsewhere, or from before digests were). The result is that of
        the project the first command recorded to."""
        streams = [s for s in versions if s.startswith(PROJECT_PREFIX)]
        project_stream = streams[0] if streams else ""
        events = self.store.read_after(positions.start - 1, limit=len(positions)) if positions else []
        if events:
            refuse_another_request(events[0], project_stream, correlation_id)
        return CommandResult(
            project_id=project_stream.removeprefix(PROJECT_PREFIX),
            version=versions.get(project_stream, 0),
            positions=list(positions),
            event_types=[e.type for e in events],
            duplicate=True,
        )
