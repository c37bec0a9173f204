"""The metadata an event carries: who caused it, when, why, under which rule version.

Pure: each function takes the actor, the moment and what the command said, and returns the
:class:`~schemas.base.EventMetadata` to append with the events; nothing here reads the clock.

A project command's own events carry its actor (:func:`by_actor`); what the system adds in the
same append, the breaches a report crosses and their consequences, carries the system actor and
names the command that caused it (:func:`by_system`); :func:`of_command` gives both for one
command. A timer, the genesis event and the bundled catalog are the system's too.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from events.model import NewEvent
from sandbox.deciders import Decided
from schemas import commands as c
from schemas.base import EventMetadata
from schemas.commands import Actor
from schemas.lifecycle import Role

#: The actor of what the registry records by itself (timers, automatic consequences, the
#: bundled programs and reference data, the genesis event).
SYSTEM = Actor(id="system", role=Role.SYSTEM)

#: Why the system recorded an automatic consequence of a command.
AUTOMATIC = "automatic consequence of a crossed exit criterion"


def by_actor(
    actor: Actor,
    occurred_at: dt.datetime,
    *,
    correlation_id: str | None = None,
    causation_id: str | None = None,
    reason: str | None = None,
    rule_version: str | None = None,
    attachments: tuple[str, ...] = (),
) -> EventMetadata:
    """The metadata of events an actor caused (a command's own, a program published)."""
    return EventMetadata(
        actor=actor.id,
        role=actor.role,
        organisation=actor.organisation,
        occurred_at=occurred_at,
        correlation_id=correlation_id,
        causation_id=causation_id,
        reason=reason,
        rule_version=rule_version,
        attachments=attachments,
    )


def by_system(
    occurred_at: dt.datetime,
    reason: str,
    *,
    correlation_id: str | None = None,
    causation_id: str | None = None,
    rule_version: str | None = None,
) -> EventMetadata:
    """The metadata of events the system recorded by itself, saying why (``reason``) and, for
    a consequence of a command, which command caused it (``causation_id``)."""
    return by_actor(
        SYSTEM,
        occurred_at,
        correlation_id=correlation_id,
        causation_id=causation_id,
        reason=reason,
        rule_version=rule_version,
    )


@dataclass(frozen=True, slots=True)
class CommandMetadata:
    """The metadata of one project command's events: its own, and its automatic consequences'."""

    own: EventMetadata
    automatic: EventMetadata

    def stamp(self, decided: Decided) -> tuple[NewEvent, ...]:
        """The command's events to append, each with its metadata, its own first."""
        return tuple(NewEvent(e, self.own) for e in decided.events) + tuple(
            NewEvent(e, self.automatic) for e in decided.automatic
        )


def of_command(
    command: c.Command,
    actor: Actor,
    occurred_at: dt.datetime,
    *,
    command_id: str,
    correlation_id: str,
    rule_version: str,
) -> CommandMetadata:
    """The metadata of a project command's events, decided under program ``rule_version`` and
    happening at ``occurred_at`` (its business time): its own events carry the actor, its
    reason and the digest of the document it files; the automatic consequences carry the system
    actor and the command's id as their cause. Both carry the correlation id."""
    return CommandMetadata(
        own=by_actor(
            actor,
            occurred_at,
            correlation_id=correlation_id,
            reason=command.reason,
            rule_version=rule_version,
            attachments=attachments(command),
        ),
        automatic=by_system(
            occurred_at,
            AUTOMATIC,
            correlation_id=correlation_id,
            causation_id=command_id,
            rule_version=rule_version,
        ),
    )


def attachments(command: c.Command) -> tuple[str, ...]:
    """The digest of the document a command files, if it files one."""
    digest = getattr(command, "sha256", None)
    return (digest,) if isinstance(digest, str) else ()
