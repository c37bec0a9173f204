"""The service layer: the only place that touches the store and the clock.

A project command reads straight down (:meth:`Registry._prepare`): load the project's state,
ask the pure decider (:func:`sandbox.deciders.decide`), record its events, stamped with their
metadata (:mod:`sandbox.metadata`), with the expected version and the command id. What is not
that path has its own module: the catalog's commands, publishing a program version and
replacing a reference dataset (:mod:`sandbox.catalog_service`, which the registry's methods of
those names call), a repeated command id's first result (:mod:`sandbox.idempotency`), timers
(:mod:`sandbox.timers`), group commit (:mod:`sandbox.commits`) and turns (:mod:`sandbox.turns`).

Commands on one project take turns within the process (see :mod:`sandbox.turns`), so they never
conflict with each other; a conflict with another process's append is decided again on the new
state, up to :data:`MAX_ATTEMPTS` times.

With read models, the append and the read models' update commit in one transaction (one sync
to disk), and commands that arrive while a transaction syncs share the next one (see
:class:`GroupCommit`); on an event loop, the commands decided while a commit waits to start
share it (see :class:`LoopGroupCommit`). The state a command is decided on is the read models'
snapshot of the project plus the project's events after it (usually the cached current state,
else a stored snapshot at most 31 events behind), not a replay of its whole history.
Programs and reference data come from the catalog's cache, which notices any program or
reference event appended since it last looked.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Callable, Generator, Iterable, Sequence
from dataclasses import dataclass
from typing import TypedDict, Unpack

from events.errors import ConflictError, StoreBusyError, StoreUnavailableError
from events.model import AppendResult, StreamWrite
from events.store import EventLog
from projections.catalog import Catalog
from projections.project import ProjectState, fold, local_date
from projections.read_models import ReadModels
from sandbox import metadata, timers
from sandbox.catalog_service import CatalogService
from sandbox.commits import GroupCommit, LoopGroupCommit
from sandbox.deciders import Context, Decided, business_time, decide
from sandbox.deciders.catalog import PreconditionFailed
from sandbox.idempotency import CommandResult, Idempotency, correlation
from sandbox.metadata import SYSTEM
from sandbox.timers import TIMED
from sandbox.turns import Turns
from schemas import commands as c
from schemas import events as ev
from schemas.commands import Actor
from schemas.errors import DomainError
from schemas.lifecycle import Role, State
from schemas.programs import ProgramDefinition
from schemas.reference import ReferenceData
from schemas.streams import project_stream

__all__ = [
    "MAX_ATTEMPTS",
    "SYSTEM",
    "TIMED",
    "CommandOptions",
    "CommandResult",
    "PreconditionFailed",
    "Registry",
    "RetriesExhausted",
    "new_project_id",
    "project_stream",
    "refuse_unless_readable",
]

log = logging.getLogger("sandbox.service")

Clock = Callable[[], dt.datetime]

#: How many times a command is decided, each time on the state another process's append left,
#: before its conflict is reported (commands of one process take turns and never conflict).
MAX_ATTEMPTS = 5


class RetriesExhausted(ConflictError):
    """A command without an expected version met a conflict on each of its
    :data:`MAX_ATTEMPTS` decisions (other processes kept appending to the project first).
    Nothing of it was recorded, and it was decided on the current state each time: sending it
    again, with the same command id, is safe."""

    def __init__(self, conflict: ConflictError, attempts: int) -> None:
        super().__init__(conflict.stream_id, conflict.expected, conflict.actual)
        self.attempts = attempts


class CommandOptions(TypedDict, total=False):
    """What may qualify a command, besides its id.

    - ``expected_version``: the project's version the caller saw (``If-Match``); another one is
      refused with :class:`PreconditionFailed`, and a conflict is not decided again.
    - ``now``: the time it is decided at (default: the registry's clock).
    - ``reader``: who must be able to see the project for the command to be decided at all (the
      HTTP layer's caller): a project it may not see is refused as ``not_found``, as one that
      does not exist (see :func:`refuse_unless_readable`).
    - ``request``: a digest of the request that carried the command (the HTTP layer's: its
      action, project and body). It follows the command id in the events' correlation id, so a
      command id used again for another request is refused (``idempotency_key_reused``) instead
      of answered with the first request's result, which would drop the second one unseen.
    """

    expected_version: int | None
    now: dt.datetime | None
    reader: Actor | None
    request: str | None


@dataclass(frozen=True, slots=True)
class Prepared:
    """A command decided and not yet appended: the writes that record it."""

    project_id: str
    version: int  # the project's version it was decided on
    writes: list[StreamWrite]
    event_types: list[str]
    correlation_id: str  # the command id, and the request's digest if one was given


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Registry:
    """Commands and queries over one event store."""

    _read_models: ReadModels | None
    _group: GroupCommit | None  # (with read models: appends and their rows in one transaction)
    _loop_group: LoopGroupCommit | None

    def __init__(self, store: EventLog, *, clock: Clock = _utc_now, read_models: ReadModels | None = None) -> None:
        self.store = store
        self.clock = clock
        self.catalog = read_models.catalog if read_models is not None else Catalog(store)
        self.read_models = read_models
        self.turns = Turns()
        self.idempotency = Idempotency(store)
        self.catalog_service = CatalogService(store, self.catalog, self.commit, clock, self.idempotency)
        # the catalog's commands are its service's (publishing a program version, replacing a
        # reference dataset, installing the bundled ones), appended through this registry's commit
        self.publish_program = self.catalog_service.publish_program
        self.update_reference = self.catalog_service.update_reference
        self.install_bundled = self.catalog_service.install_bundled

    @property
    def read_models(self) -> ReadModels | None:
        return self._read_models

    @read_models.setter
    def read_models(self, models: ReadModels | None) -> None:
        """Keep these read models in every append's transaction (None: append alone); they must
        be those of the registry's store."""
        if models is None:
            self._read_models, self._group, self._loop_group = None, None, None
            return
        store = self.store
        if not models.serves(store):
            raise ValueError("the read models must be those of the registry's store")
        self._read_models = models
        self._group = GroupCommit(store, models)
        self._loop_group = LoopGroupCommit(self._group)

    def refresh(self) -> None:
        """Bring the read models up to the head of the log (appends made through the registry
        do so in their own transaction; this is for appends made around it)."""
        if self.read_models is not None:
            self.read_models.catch_up()

    def commit(self, writes: Sequence[StreamWrite], command_id: str) -> AppendResult:
        """Append, and bring the read models up to the new head in the same transaction."""
        if self._group is None:
            return self.store.append(writes, command_id=command_id)
        return self._group.commit(writes, command_id)

    # -- programs and reference data ------------------------------------------------------------

    def program_versions(self, key: str, *, as_of_position: int | None = None) -> list[ProgramDefinition]:
        return self.catalog.program_versions(key, as_of_position=as_of_position)

    def program_keys(self) -> list[str]:
        """Every program published in the log, the bundled ones first."""
        return self.catalog.program_keys()

    def program(self, key: str, version: int) -> ProgramDefinition:
        return self.catalog.program(key, version)

    def program_in_force(self, key: str, on: dt.date) -> ProgramDefinition:
        return self.catalog.program_in_force(key, on)

    def reference(self, *, as_of_position: int | None = None) -> ReferenceData:
        """The reference data in force (at a past position, if given)."""
        return self.catalog.reference(as_of_position=as_of_position)

    # -- projects -------------------------------------------------------------------------------

    def load(
        self, project_id: str, *, as_of_position: int | None = None, as_of_time: dt.datetime | None = None
    ) -> ProjectState:
        """The project's state (now, or as of a position or time). Now, with read models: their
        snapshot of the project plus its events after the snapshot, the same state as a replay
        (the read models' property tests hold them to it)."""
        stream = project_stream(project_id)
        try:
            if as_of_position is None and as_of_time is None and self.read_models is not None:
                snapshot = self.read_models.snapshot(project_id)
                if snapshot is not None:
                    return fold(self.store.iter_stream(stream, from_version=snapshot.version + 1), snapshot)
            return fold(self.store.iter_stream(stream, as_of_position=as_of_position, as_of_time=as_of_time))
        except (StoreBusyError, StoreUnavailableError):
            raise  # the database, not the project's history
        except Exception as e:  # an event this code cannot read or apply (a newer release's, a bug)
            log.exception("project %s: its history cannot be folded", project_id)
            raise DomainError("history_unreadable", project_id=project_id, error=f"{type(e).__name__}: {e}") from e

    def bound_program(self, state: ProjectState, today: dt.date, key: str | None = None) -> ProgramDefinition:
        if state.program_version:
            return self.program(state.program_key, state.program_version)
        return self.program_in_force(key or state.program_key, today)

    def create_project(
        self,
        command: c.CreateDraft,
        actor: Actor,
        *,
        command_id: str,
        project_id: str | None = None,
        **options: Unpack[CommandOptions],
    ) -> CommandResult:
        """Create a draft under a new id. A repeated command id is answered with the project it
        created the first time (the append recognises the repeat, see :meth:`execute`)."""
        return self.execute(project_id or new_project_id(), command, actor, command_id=command_id, **options)

    def execute(
        self,
        project_id: str,
        command: c.Command,
        actor: Actor,
        *,
        command_id: str,
        **options: Unpack[CommandOptions],
    ) -> CommandResult:
        """Decide and append one command; a repeated command id returns the first result. The
        command waits for the project's turn in this process (see :mod:`sandbox.turns`); a
        conflict with another process's append is decided again on the new state (unless
        ``expected_version`` pins the state the caller saw; see :class:`CommandOptions`)."""
        with self.turns.hold(project_id):
            steps = self._steps(project_id, command, actor, command_id, options)
            step = _advance(steps, None)
            while isinstance(step, Prepared):
                try:
                    outcome: AppendResult | ConflictError = self.commit(step.writes, command_id)
                except ConflictError as e:
                    outcome = e
                step = _advance(steps, outcome)
            return step

    async def execute_async(
        self,
        project_id: str,
        command: c.Command,
        actor: Actor,
        *,
        command_id: str,
        **options: Unpack[CommandOptions],
    ) -> CommandResult:
        """:meth:`execute` on an asyncio event loop: the commands decided while a commit waits
        to start share it (see :class:`LoopGroupCommit`); those on one project take turns."""
        async with self.turns.hold_async(project_id):
            steps = self._steps(project_id, command, actor, command_id, options)
            step = _advance(steps, None)
            while isinstance(step, Prepared):
                try:
                    outcome: AppendResult | ConflictError = await self._commit_on_loop(step.writes, command_id)
                except ConflictError as e:
                    outcome = e
                step = _advance(steps, outcome)
            return step

    async def _commit_on_loop(self, writes: Sequence[StreamWrite], command_id: str) -> AppendResult:
        if self._loop_group is None:
            return self.commit(writes, command_id)
        return await self._loop_group.commit(writes, command_id)

    def _steps(
        self,
        project_id: str,
        command: c.Command,
        actor: Actor,
        command_id: str,
        options: CommandOptions,
    ) -> Generator[Prepared, AppendResult | ConflictError, CommandResult]:
        """The steps of one command, without its append: each decision is yielded, and its
        append's result, or the conflict it met, is sent back in (see :func:`_advance`). A
        conflict is final for a caller that named the version it saw; otherwise the command is
        decided again on the new state, at most :data:`MAX_ATTEMPTS` times in all."""
        for attempt in range(1, MAX_ATTEMPTS + 1):
            prepared = self._prepare(project_id, command, actor, command_id, options)
            if isinstance(prepared, CommandResult):
                return prepared
            outcome = yield prepared
            if isinstance(outcome, ConflictError):
                if options.get("expected_version") is not None:
                    raise outcome
                if attempt == MAX_ATTEMPTS:
                    raise RetriesExhausted(outcome, attempt) from outcome
                continue
            return self._conclude(prepared, outcome)
        raise AssertionError("unreachable")

    def _prepare(
        self,
        project_id: str,
        command: c.Command,
        actor: Actor,
        command_id: str,
        options: CommandOptions,
    ) -> Prepared | CommandResult:
        """Decide a command on the project's current state: the writes that would record it, or,
        for a command id applied before, that first result.

        A command id is looked up only when it matters: the store's append recognises a repeat
        (and writes nothing), and a refusal first checks whether the command was applied before
        (a retry after its first answer was lost is answered with that first result, even though
        the project has moved on since)."""
        correlation_id = correlation(command_id, options.get("request"))
        try:
            state = self._current(project_id, options)
            ctx = self._context(project_id, command, state, actor, options.get("now") or self.clock())
            decided = decide(command, state, ctx)
        except Exception:
            first = self.idempotency.first_result(command_id, correlation_id)  # a retry whose answer was lost
            if first is not None:
                return first
            raise
        return _record(command, state, ctx, decided, command_id, correlation_id)

    def _current(self, project_id: str, options: CommandOptions) -> ProjectState:
        """The project's state a command is decided on, refused unless the reader may see it
        and, given the version the caller saw, unless it is that version."""
        state = self.load(project_id)
        reader, expected_version = options.get("reader"), options.get("expected_version")
        if reader is not None:
            refuse_unless_readable(state, reader, project_id)
        if expected_version is not None and expected_version != state.version:
            raise PreconditionFailed(expected_version, state.version)
        return state

    def _context(
        self, project_id: str, command: c.Command, state: ProjectState, actor: Actor, moment: dt.datetime
    ) -> Context:
        """What the decider is given besides the state: the actor, the moment, the program the
        project is bound to (for a draft, the one in force, of the program a new draft names)
        and the reference data in force."""
        key = command.program_key if isinstance(command, c.CreateDraft) else None
        program = self.bound_program(state, local_date(moment), key)
        return Context(actor=actor, now=moment, program=program, ref=self.reference(), project_id=project_id)

    def _conclude(self, prepared: Prepared, appended: AppendResult) -> CommandResult:
        """What a prepared command's append recorded (the first result, for a repeat)."""
        if appended.duplicate:
            return self.idempotency.replayed(appended.versions, appended.positions, prepared.correlation_id)
        return CommandResult(
            project_id=prepared.project_id,
            version=appended.versions.get(project_stream(prepared.project_id), prepared.version),
            positions=list(appended.positions),
            event_types=prepared.event_types,
        )

    def project_ids(self) -> list[str]:
        return [
            e.payload.project_id
            for e in self.store.iter_all(types=["DraftCreated"])
            if isinstance(e.payload, ev.DraftCreated)
        ]

    def tick(
        self,
        now: dt.datetime | None = None,
        *,
        project_ids: Iterable[str] | None = None,
        skipped: list[str] | None = None,
    ) -> int:
        """Record every timer due at ``now`` for every live project (or for ``project_ids``
        only); twice for one ``now`` adds nothing. Returns how many events it recorded. A
        project whose timers cannot be evaluated is logged and passed over (and added to
        ``skipped``, if given); see :mod:`sandbox.timers`."""
        moment = now or self.clock()
        due = timers.timed_projects(self.read_models, self.project_ids) if project_ids is None else project_ids
        return timers.tick(self, due, moment, skipped)


def refuse_unless_readable(state: ProjectState, reader: Actor, project_id: str) -> None:
    """Refuse (``not_found``) a project that does not exist or, for an applicant, belongs to
    another organisation: an applicant learns nothing of another's project, not even that it
    exists. (Which roles read projects at all is the HTTP layer's guard.)"""
    if state.state == State.NONE or (reader.role == Role.APPLICANT and reader.organisation not in state.applicants()):
        raise DomainError("not_found", project_id=project_id)


def _advance(
    steps: Generator[Prepared, AppendResult | ConflictError, CommandResult],
    outcome: AppendResult | ConflictError | None,
) -> Prepared | CommandResult:
    """The next step of a command: the next decision to append, or its result."""
    try:
        return next(steps) if outcome is None else steps.send(outcome)
    except StopIteration as done:
        result: CommandResult = done.value
        return result


def _record(
    command: c.Command, state: ProjectState, ctx: Context, decided: Decided, command_id: str, correlation_id: str
) -> Prepared:
    """The write that records a decided command: its events, stamped with their metadata (see
    :mod:`sandbox.metadata`), appended to the project's stream at the version decided on."""
    meta = metadata.of_command(
        command,
        ctx.actor,
        business_time(command, ctx.now),
        command_id=command_id,
        correlation_id=correlation_id,
        rule_version=ctx.program.ref,
    )
    stream = project_stream(ctx.project_id)
    return Prepared(
        project_id=ctx.project_id,
        version=state.version,
        writes=[StreamWrite(stream, meta.stamp(decided), expected=state.version)],
        event_types=[e.event_type for e in decided.all],
        correlation_id=correlation_id,
    )


def new_project_id() -> str:
    return uuid.uuid4().hex[:12]
