"""Errors raised by the event store. Driver errors are translated here, never leaked."""

from __future__ import annotations


class StoreError(Exception):
    """Base of every event-store error."""


class ConflictError(StoreError):
    """An append stated an expected stream version that does not match; nothing was written."""

    def __init__(self, stream_id: str, expected: object, actual: int) -> None:
        self.stream_id = stream_id
        self.expected = expected
        self.actual = actual
        super().__init__(
            f"conflict on stream {stream_id!r}: expected version {expected}, actual version {actual}"
        )


class StoreBusyError(StoreError):
    """The write lock could not be taken within the busy timeout; nothing was written."""


class StoreUnavailableError(StoreError):
    """The database file is missing, unreadable, read-only or full."""


class InvalidAppendError(StoreError):
    """An append request is malformed (empty command id, a stream named twice, ...)."""


class UnknownEventTypeError(StoreError):
    """A stored event's (type, schema version) has no registered type or upcaster chain."""


class ImmutableLogError(StoreError):
    """Somebody tried to change or delete a stored event; the database refused."""


class CorruptEventError(StoreError):
    """A stored event cannot even be read back (e.g. a text column that is not valid UTF-8):
    someone changed the file outside the store. ``position`` names the event."""

    def __init__(self, position: int, reason: str) -> None:
        self.position = position
        self.reason = reason
        super().__init__(f"event at position {position} cannot be read: {reason}")
