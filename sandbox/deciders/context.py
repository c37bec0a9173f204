"""What a decision is given (:class:`Context`) and what it returns (:class:`Decided`)."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from events.codec import canonical_json
from projections.project import ProjectState, local_date
from projections.rules import (
    ReferenceView,
)
from schemas.base import Event
from schemas.commands import Actor, Command
from schemas.programs import (
    ProgramDefinition,
)


@dataclass(frozen=True, slots=True)
class Context:
    """Everything a decision may depend on besides the state and the command."""

    actor: Actor
    now: dt.datetime
    program: ProgramDefinition
    ref: ReferenceView
    project_id: str = ""

    @property
    def today(self) -> dt.date:
        return local_date(self.now)


def business_time(command: Command, now: dt.datetime) -> dt.datetime:
    """The moment a command's facts happened: a report back-dated with ``occurred_at`` happened
    then, every other command now. Its events say they occurred then, and the exit criteria it
    may cross are evaluated on that day, never on the day this machine's clock shows."""
    occurred = getattr(command, "occurred_at", None)
    return occurred if isinstance(occurred, dt.datetime) and occurred <= now else now


@dataclass(frozen=True, slots=True)
class Decided:
    """The events a command causes (stamped with the actor) and those the system adds in the
    same append (breaches and their automatic consequences, stamped with the system actor)."""

    events: list[Event]
    automatic: list[Event] = field(default_factory=list)

    @property
    def all(self) -> list[Event]:
        return [*self.events, *self.automatic]


def statement_hash(state: ProjectState) -> str:
    """SHA-256 of the canonical JSON of the innovation statement as it stands."""
    return hashlib.sha256(canonical_json(state.section("statement"))).hexdigest()



def next_id(prefix: str, state: ProjectState) -> str:
    """The id of a thing a command adds (a comment, an objection, a recommendation): unique in
    the project, since it names the version the command creates."""
    return f"{prefix}-{state.version + 1}"


C = TypeVar("C", bound=Command)

#: A decider of one command kind: the events it causes, or a refusal raised.
Decide = Callable[[C, ProjectState, "Context"], list[Event]]
#: A check of one command kind made before it is decided (its dates, say): a refusal raised.
Check = Callable[[C, ProjectState, "Context"], None]


def handles(kind: type[C], decide: Decide[C]) -> tuple[type[Command], Decide[Any]]:
    """One row of a decider table: the command kind and its decider (the type checker holds the
    decider to the kind: it must take that command)."""
    return kind, decide


def checks(kind: type[C], check: Check[C]) -> tuple[type[Command], Check[Any]]:
    """One row of a check table: the command kind and its check."""
    return kind, check
