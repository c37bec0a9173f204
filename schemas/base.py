"""Types shared by every event: the UTC timestamp, the event base class and the event metadata.

This module imports nothing of the project. Every stored event is a frozen msgspec Struct that
derives from :class:`Event`; its metadata is an :class:`EventMetadata`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar

import msgspec

#: A timezone-aware timestamp. A naive datetime is refused when decoding.
UtcDatetime = Annotated[datetime, msgspec.Meta(tz=True)]

#: A lowercase hexadecimal SHA-256 digest.
Sha256 = Annotated[str, msgspec.Meta(pattern=r"^[0-9a-f]{64}$")]


def to_utc(moment: datetime) -> datetime:
    """Return ``moment`` in UTC; a naive datetime is refused rather than guessed."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("timestamps must be timezone-aware")
    return moment.astimezone(UTC)


class Event(msgspec.Struct, frozen=True, kw_only=True):
    """Base of every stored event payload.

    ``event_type`` is the stable name stored in the log (defaults to the class name) and
    ``schema_version`` the version of this payload shape. Changing a field's type or removing
    a field needs a new schema version and an upcaster from the old one.
    """

    event_type: ClassVar[str] = ""
    schema_version: ClassVar[int] = 1

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "event_type" not in cls.__dict__:
            cls.event_type = cls.__name__


class EventMetadata(msgspec.Struct, frozen=True, kw_only=True):
    """Who caused an event, when, why and under which rule.

    ``occurred_at`` is business time (when it happened in the world); the store adds
    ``recorded_at`` (when the registry learned it) as a column of its own.
    """

    actor: str
    role: str
    occurred_at: UtcDatetime
    organisation: str | None = None
    command_id: str = ""
    correlation_id: str | None = None
    causation_id: str | None = None
    reason: str | None = None
    rule_version: str | None = None
    attachments: tuple[Sha256, ...] = ()
