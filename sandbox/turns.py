"""One command at a time per project, within one process.

Two commands on one project decided at once are decided on the same version, and the second
append is refused as a conflict. Within a process that is avoidable, so the service takes the
project's turn before it decides and keeps it until the command's append has committed: the
next command on that project is decided on the state the first one left. Commands on different
projects never wait for each other (and still share a group commit).

A turn is a lock per project, held only while somebody holds or waits for it (an idle project
costs nothing). Threads take :meth:`Turns.hold`; coroutines take :meth:`Turns.hold_async`,
whose lock belongs to the running event loop. A thread and a coroutine may still race on one
project, as may two processes on one database file: the service decides such a conflict again
(see ``sandbox.service.MAX_ATTEMPTS``).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager


class Turns:
    """Per-key locks for threads and for coroutines (see the module's docstring)."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[str, tuple[threading.Lock, list[int]]] = {}
        self._async: dict[tuple[asyncio.AbstractEventLoop, str], tuple[asyncio.Lock, list[int]]] = {}

    @contextmanager
    def hold(self, key: str) -> Iterator[None]:
        """Wait for ``key``'s turn in this thread, and hold it for the block."""
        with self._guard:
            lock, holders = self._locks.setdefault(key, (threading.Lock(), [0]))
            holders[0] += 1
        try:
            with lock:
                yield
        finally:
            with self._guard:
                holders[0] -= 1
                if not holders[0]:
                    del self._locks[key]

    @asynccontextmanager
    async def hold_async(self, key: str) -> AsyncIterator[None]:
        """Wait for ``key``'s turn on the running event loop, and hold it for the block."""
        slot = (asyncio.get_running_loop(), key)
        lock, holders = self._async.setdefault(slot, (asyncio.Lock(), [0]))  # (one thread: the loop's)
        holders[0] += 1
        try:
            async with lock:
                yield
        finally:
            holders[0] -= 1
            if not holders[0]:
                del self._async[slot]

    def __len__(self) -> int:
        """How many keys are held or waited for now."""
        return len(self._locks) + len(self._async)
