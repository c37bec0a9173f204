"""Group commit: the appends of several commands, with their read models, in one transaction.

Each transaction ends in a sync to disk, which costs more than everything else a command does,
so commands that arrive while one transaction syncs share the next one (:class:`GroupCommit`,
for threads), and commands decided on an event loop while a commit waits to start share it
(:class:`LoopGroupCommit`). Each command keeps its own all-or-nothing append: it runs under its
own savepoint (:meth:`events.store.Transactions.savepoint`). The store is reached through its
port for this, :class:`events.store.GroupLog`.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Sequence
from dataclasses import dataclass

from events.model import AppendResult, StreamWrite
from events.sqlite import translate_error
from events.store import GroupLog
from projections.read_models import ReadModels


@dataclass(slots=True)
class _Pending:
    writes: Sequence[StreamWrite]
    command_id: str
    result: AppendResult | None = None
    error: BaseException | None = None
    done: bool = False

    def outcome(self) -> AppendResult:
        """The append's result, or its error raised."""
        if self.error is not None:
            raise self.error
        assert self.result is not None
        return self.result


class GroupCommit:
    """Appends with their read models, several commands to one transaction when they arrive
    together (group commit): each transaction ends in a sync to disk, which costs more than
    everything else a command does, so commands that queued while one transaction synced share
    the next one.

    Each command keeps its own all-or-nothing append: it runs under its own savepoint, so a
    conflict or a refused write rolls back that command only and is raised to its caller; the
    others commit. Nobody learns of a result before the transaction holding it committed; if the
    commit fails, every command in it gets the error (none of them was recorded). The read
    models follow once per transaction, inside it. Call it outside any transaction of the store
    (the registry always does): a batch must never join a transaction its caller could still
    roll back.
    """

    def __init__(self, store: GroupLog, models: ReadModels) -> None:
        self.store = store
        self.models = models
        self._queue: list[_Pending] = []
        self._queue_lock = threading.Lock()
        self._leader = threading.Lock()

    def commit(self, writes: Sequence[StreamWrite], command_id: str) -> AppendResult:
        mine = _Pending(writes, command_id)
        with self._queue_lock:
            self._queue.append(mine)
        with self._leader:  # whoever holds it commits everything queued, its own command included
            if not mine.done:
                with self._queue_lock:
                    batch, self._queue = self._queue, []
                self.run(batch)
        return mine.outcome()

    def run(self, batch: list[_Pending]) -> None:
        try:
            with self.store.transaction():
                if len(batch) == 1:  # alone, a failed append rolls the whole transaction back
                    only = batch[0]
                    only.result = self.store.append(only.writes, command_id=only.command_id)
                else:
                    for pending in batch:
                        self._in_savepoint(pending)
                self.models.follow()
        except BaseException as e:
            error = translate_error(e) if isinstance(e, sqlite3.Error) else e
            for pending in batch:
                if pending.error is None:
                    pending.result, pending.error = None, error
        finally:
            for pending in batch:
                pending.done = True

    def _in_savepoint(self, pending: _Pending) -> None:
        """One command of a batch: its failure undoes its own writes only."""
        try:
            with self.store.savepoint():
                pending.result = self.store.append(pending.writes, command_id=pending.command_id)
        except Exception as e:
            if not self.store.in_transaction:  # the backend rolled the whole transaction back
                raise
            pending.error = translate_error(e) if isinstance(e, sqlite3.Error) else e


class LoopGroupCommit:
    """Group commit for commands decided on an asyncio event loop. The first command of a batch
    schedules the commit; every command decided before it runs joins the batch. The commit
    waits while each turn of the loop brings more commands (at most ``MAX_TURNS`` turns and
    ``MAX_BATCH`` commands): under load, the requests that arrived while one command was being
    decided share its sync to disk; alone, a command waits for one turn of an idle loop.

    One transaction for the batch; each command keeps its own all-or-nothing append (see
    :class:`GroupCommit`) and learns its result only after the commit. The commit runs on the
    loop between two callbacks, so no handler on the loop ever sees a transaction open. A caller
    that stops waiting (its client went away) does not take its command out of the batch: it is
    recorded, and a retry with its command id gets the first result."""

    MAX_TURNS = 4
    MAX_BATCH = 64

    def __init__(self, group: GroupCommit) -> None:
        self.group = group
        self._batches: dict[asyncio.AbstractEventLoop, list[tuple[_Pending, asyncio.Future[None]]]] = {}

    async def commit(self, writes: Sequence[StreamWrite], command_id: str) -> AppendResult:
        loop = asyncio.get_running_loop()
        batch = self._batches.get(loop)
        if batch is None:
            batch = self._batches[loop] = []
            loop.call_soon(self._when_quiet, loop, 0, 1)
        mine = _Pending(writes, command_id)
        done: asyncio.Future[None] = loop.create_future()
        batch.append((mine, done))
        await done
        return mine.outcome()

    def _when_quiet(self, loop: asyncio.AbstractEventLoop, seen: int, turns: int) -> None:
        """Commit the batch, unless the turn that just ran added to it (and the limits allow)."""
        size = len(self._batches[loop])
        if seen < size < self.MAX_BATCH and turns < self.MAX_TURNS:
            loop.call_soon(self._when_quiet, loop, size, turns + 1)
            return
        batch = self._batches.pop(loop)
        try:
            self.group.run([pending for pending, _ in batch])
        finally:
            for _, done in batch:
                if not done.done():  # (cancelled when its caller stopped waiting)
                    done.set_result(None)
