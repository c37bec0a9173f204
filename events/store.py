"""The event-store ports: what every backend (SQLite now, PostgreSQL later) offers its callers,
split by who uses it. :class:`EventReader` reads (the catalog, the views, idempotency),
:class:`EventLog` appends too (the service), :class:`Tracking` keeps a reader's checkpoint,
:class:`Audit` verifies and exports; :class:`EventStore` is all of them, what every backend
implements. The contract tests in ``tests/contract`` run the same suite against every backend.

A backend that keeps tables beside its log (SQLite) offers more, each port for one caller:
:class:`ProjectionHost` to the read models, which write their tables in the log's transactions;
:class:`GroupLog` to group commit, which appends several commands in one transaction; and
:class:`TreeLog` to the transparency service, which proves and signs the log's Merkle tree.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any, NamedTuple, Protocol, TypedDict, TypeVar, Unpack

from events.hashchain import VerifyReport
from events.merkle import Subtrees
from events.model import AppendResult, Head, RecordedEvent, StoredEvent, StreamWrite
from schemas.base import Event


class StreamCut(TypedDict, total=False):
    """Where a read of one stream starts and stops (the keywords of ``read_stream``)."""

    from_version: int
    to_version: int | None
    as_of_position: int | None
    as_of_time: datetime | None


#: A projection step: given the backend's transaction handle and a batch of events, write rows.
BatchHandler = Callable[[Any, Sequence[RecordedEvent[Event]]], None]
#: The handle a backend gives inside its transactions (for SQLite, the sqlite-utils database).
Handle = TypeVar("Handle", covariant=True)
T = TypeVar("T")
#: Told of a stored event that cannot be decoded (its position, stream, type and the error),
#: by a reader that records such an event and goes on (see :meth:`EventStore.process`).
Unreadable = Callable[[int, str, str, Exception], None]


class EventReader(Protocol):
    """Reading the log: streams, positions, times and the results of command ids. What the
    catalog, the views and the answers to repeated command ids need."""

    def command_result(self, command_id: str) -> AppendResult | None:
        """The result recorded for a command id, if any."""
        ...

    def stream_version(self, stream_id: str) -> int:
        """The stream's current version (0 when the stream does not exist)."""
        ...

    def read_stream(self, stream_id: str, **cut: Unpack[StreamCut]) -> list[RecordedEvent[Event]]:
        """A stream's events in version order, from ``from_version`` (default 1) to
        ``to_version``, optionally cut at a global position or a recorded_at time (inclusive)."""
        ...

    def iter_stream(self, stream_id: str, **cut: Unpack[StreamCut]) -> Iterator[RecordedEvent[Event]]:
        """The events :meth:`read_stream` returns, read when called but decoded one at a time as
        the caller takes them: a fold that keeps no event never holds them all at once."""
        ...

    def read_after(
        self, position: int, *, limit: int = 1000, types: Sequence[str] | None = None
    ) -> list[RecordedEvent[Event]]:
        """Up to ``limit`` events after ``position``, in position order, optionally of some types."""
        ...

    def iter_all(
        self, *, after: int = 0, batch: int = 200, types: Sequence[str] | None = None
    ) -> Iterator[RecordedEvent[Event]]:
        """Every event after ``after`` in position order, read in batches."""
        ...

    def head(self) -> Head:
        """The last position and its hash (position 0 and 64 zeros when empty)."""
        ...

    def types_after(self, position: int, types: Sequence[str]) -> tuple[int, bool]:
        """The head position, and whether an event of one of ``types`` lies after ``position``
        (one look, for a cache that must notice such events)."""
        ...

    def position_at(self, moment: datetime) -> int:
        """The last position recorded at or before ``moment`` (0 if none)."""
        ...


class EventLog(EventReader, Protocol):
    """Appending, and reading what was appended: the command pipeline's port."""

    def append(self, writes: Sequence[StreamWrite], *, command_id: str) -> AppendResult:
        """Append events to one or several streams, all or nothing.

        Each :class:`StreamWrite` states the version it expects its stream at; any mismatch
        raises :class:`~events.errors.ConflictError` and nothing is written. A ``command_id``
        already recorded returns the first append's result and writes nothing.
        """
        ...


class Tracking(Protocol):
    """A named reader that keeps its place in the log: its checkpoint advances in the same
    transaction as what it wrote for the events read (the read models' port to the log)."""

    def checkpoint(self, name: str) -> int:
        """The stored position of a named reader (0 if it never ran)."""
        ...

    def process(
        self,
        name: str,
        handler: BatchHandler,
        *,
        batch: int = 500,
        types: Sequence[str] | None = None,
        unreadable: Unreadable | None = None,
    ) -> int:
        """Feed the next batch after the named checkpoint to ``handler`` and advance the
        checkpoint in the same transaction as the handler's writes. Returns how many positions the
        checkpoint advanced (0 when caught up). If the handler raises, neither its writes nor the
        checkpoint change. An event that cannot be decoded (a type or schema version newer than
        this code, a corrupt row) stops the reader, unless ``unreadable`` is given: it is told
        of the event, inside the same transaction, and the batch goes on without it."""
        ...


class Audit(Protocol):
    """What an audit asks of the log: every stored row exactly as stored (the export), the head
    and a re-hash of the whole chain."""

    def head(self) -> Head:
        """The last position and its hash (position 0 and 64 zeros when empty)."""
        ...

    def iter_stored(self, *, after: int = 0, batch: int = 1000) -> Iterator[StoredEvent]:
        """Every stored row after ``after`` exactly as stored (for export and verification)."""
        ...

    def verify(self) -> VerifyReport:
        """Re-hash every event and check every link; report the first fault."""
        ...


class Snapshot(NamedTuple):
    """A stream's folded state as of one of its versions, encoded by the reader that folded it."""

    version: int
    position: int
    state: bytes


class Snapshots(Protocol):
    """Each stream's latest snapshot, kept by the store beside the log: a reader folds the
    stream's later events onto it instead of its whole history. ``schema`` is the version of the
    reader's encoding: a snapshot of another schema is ignored (and replaced by the next one
    kept), so a reader whose state changed shape starts from the log again."""

    def read_snapshot(self, stream_id: str, schema: int, *, upto: int | None = None) -> Snapshot | None:
        """The stream's snapshot of this ``schema``, if one is kept (and, with ``upto``, covers no
        event after that position)."""
        ...

    def keep_snapshots(self, schema: int, snapshots: Iterable[tuple[str, Snapshot]]) -> None:
        """Keep these (stream, snapshot) pairs, each replacing its stream's, in the caller's
        transaction if one is open: they commit with the events they cover or not at all."""
        ...


class EventStore(EventLog, Tracking, Audit, Snapshots, Protocol):
    """Append-only, hash-chained event log with optimistic concurrency and idempotent commands:
    every port at once, as a backend offers it (each caller asks for the narrowest it needs)."""

    def close(self) -> None: ...


class Transactions(Protocol[Handle]):
    """Several writes in one transaction of the log: a caller's own writes beside the log's
    (a projection's rows), or several appends that commit together (group commit)."""

    def transaction(self) -> AbstractContextManager[Handle]:
        """One write transaction, giving the backend's handle: everything inside commits
        together or rolls back together. Nested calls, and appends made inside, join the
        outermost one."""
        ...

    def savepoint(self, name: str = "command") -> AbstractContextManager[None]:
        """Inside an open transaction, a part that is undone alone if it raises; the
        transaction goes on (unless the backend rolled it back whole: see
        :attr:`in_transaction`)."""
        ...

    @property
    def in_transaction(self) -> bool:
        """Whether a transaction is open on this store (after a failure, whether the backend
        rolled it back whole)."""
        ...


class GroupLog(EventLog, Transactions[Any], Protocol):
    """Appends of several commands in one transaction, each under its own savepoint, so that
    they share one sync to disk and a refused one undoes only its own (group commit's port)."""


class ProjectionHost(EventReader, Tracking, Transactions[Handle], Snapshots, Protocol[Handle]):
    """What a projection that keeps its tables beside the log needs of the backend (the read
    models' port): its checkpoint moves in the same transaction as its rows (:meth:`process`,
    :meth:`transaction`, :meth:`savepoint`), it reads its tables through :meth:`reading`, and
    it reads the log as any reader does, plus the events an index of its own points at
    (:meth:`read_positions`) and a stream it already met with unreadable events in it.

    ``Handle`` is the backend's handle to its tables (for SQLite, a ``sqlite_utils.Database``
    on the log's file): a projection hosted by one backend writes that backend's tables. The
    in-memory store has no tables and hosts no such projection; it implements the other ports.
    """

    def reading(self, *, snapshot: bool = False) -> AbstractContextManager[Handle]:
        """The handle for reads while no other thread of this process writes through it; with
        ``snapshot``, inside one read transaction, so that several statements see one state of
        the tables (never half a write). Inside this thread's own transaction, reads see what
        it wrote."""
        ...

    def checkpoint_and_head(self, name: str) -> tuple[int, int]:
        """A reader's checkpoint and the head's position, read together."""
        ...

    def reset_checkpoint(self, name: str) -> None:
        """Forget a reader's checkpoint (its next batch starts at the first event), inside the
        caller's transaction if one is open: a projection that drops its tables starts over."""
        ...

    def read_positions(self, positions: Sequence[int]) -> list[RecordedEvent[Event]]:
        """The events at these global positions, in the order given; a position with no event
        is an error (the projection's index and the log disagree)."""
        ...

    def iter_stream(
        self, stream_id: str, *, unreadable: Unreadable | None = None, **cut: Unpack[StreamCut]
    ) -> Iterator[RecordedEvent[Event]]:
        """:meth:`EventReader.iter_stream`; with ``unreadable``, an event that cannot be decoded
        is passed to it and left out (as :meth:`Tracking.process` does), for a reader that met
        and recorded such an event before."""
        ...


class TreeLog(Protocol):
    """The log's Merkle tree and the signed checkpoints kept of it (the transparency service's
    port; the in-memory store keeps no tree)."""

    def read_tree(self, read: Callable[[Subtrees, int], T]) -> T:
        """``read(subtrees, head position)`` on one consistent view of the tree and the head."""
        ...

    def keep_checkpoint(self, note: str, key_id: str, signed_at: str, tree_size: int) -> bool:
        """Keep a signed checkpoint unless the last one kept has the same size and key; whether
        it was kept."""
        ...


def catch_up(
    store: Tracking,
    name: str,
    handler: BatchHandler,
    *,
    batch: int = 500,
    types: Sequence[str] | None = None,
) -> int:
    """Run :meth:`EventStore.process` until the named reader is at the head of the log.

    Returns how many positions it advanced. Each batch commits with its checkpoint, so a crash
    part-way resumes after the last committed batch and applies every event exactly once.
    """
    total = 0
    while (advanced := store.process(name, handler, batch=batch, types=types)) > 0:
        total += advanced
    return total
