"""Limits a public service needs: how often anonymous clients may write, how many event streams a
token may hold open. In memory, per server process (a restart forgets the counts, which only
ever lets more through).

:class:`Window` counts what each key did in the current window of ``seconds`` (a fixed window,
the simplest thing that bounds a burst and says when to come back); the clock is given, so a
test moves it by hand. :class:`Slots` counts what is open now.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

from sandbox.api.problems import ApiProblem
from sandbox.config import HttpSettings
from schemas.words import plural


class Window:
    """At most ``limit`` events per key in each window of ``seconds`` (``limit`` 0: no limit)."""

    def __init__(self, limit: int, seconds: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit, self.seconds, self.clock = limit, seconds, clock
        self._counts: dict[str, tuple[int, int]] = {}  # key -> (window number, count)
        self._lock = threading.Lock()

    def take(self, key: str) -> float | None:
        """Count one event for ``key``: None if it is allowed, else the seconds until the window
        in which it would be."""
        if self.limit <= 0:
            return None
        now = self.clock()
        window = int(now // self.seconds)
        with self._lock:
            if len(self._counts) > 100_000:  # (keys of windows gone by: drop them)
                self._counts = {k: v for k, v in self._counts.items() if v[0] == window}
            seen, count = self._counts.get(key, (window, 0))
            if seen != window:
                count = 0
            if count >= self.limit:
                return (window + 1) * self.seconds - now
            self._counts[key] = (window, count + 1)
            return None


def retry_after(seconds: float) -> str:
    """A ``Retry-After`` value: whole seconds, at least one."""
    return str(max(1, math.ceil(seconds)))


class Slots:
    """At most ``limit`` things open at once per key (``limit`` 0: no limit)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._open: dict[str, int] = {}
        self._lock = threading.Lock()

    def acquire(self, key: str) -> Callable[[], None] | None:
        """Open one for ``key``: the function that closes it (again and again: only the first
        call counts), or None if ``key`` has its fill."""
        with self._lock:
            count = self._open.get(key, 0)
            if self.limit > 0 and count >= self.limit:
                return None
            self._open[key] = count + 1
        released = False

        def release() -> None:
            nonlocal released
            with self._lock:
                if released:
                    return
                released = True
                left = self._open.get(key, 0) - 1
                if left > 0:
                    self._open[key] = left
                else:
                    self._open.pop(key, None)

        return release

    def open(self, key: str) -> int:
        """How many ``key`` has open."""
        with self._lock:
            return self._open.get(key, 0)


class Limits:
    """The limits of one app, from its settings (``app.state.limits``)."""

    def __init__(self, settings: HttpSettings, *, clock: Callable[[], float] = time.monotonic) -> None:
        window = settings.anonymous_window_seconds
        self.per_address = Window(settings.anonymous_writes_per_address, window, clock=clock)
        self.per_project = Window(settings.anonymous_writes_per_project, window, clock=clock)
        self.streams = Slots(settings.streams_per_token)

    def anonymous_write(self, address: str, project_id: str) -> None:
        """Count a write without a token from ``address`` to ``project_id``: 429 ``rate_limited``
        with ``Retry-After`` once either has had its fill of the window."""
        wait = self.per_address.take(f"address:{address}")
        if wait is None:
            wait = self.per_project.take(f"project:{project_id}")
        if wait is not None:
            raise ApiProblem(
                429,
                "rate_limited",
                f"匿名写入过于频繁，请 {retry_after(wait)} 秒后重试",
                f"too many writes without a token; retry in {retry_after(wait)} s",
                headers={"Retry-After": retry_after(wait)},
            )

    def too_many_streams(self) -> ApiProblem:
        return ApiProblem(
            429,
            "too_many_streams",
            f"该令牌同时打开的事件流已达上限（{self.streams.limit} 个）",
            f"this token already holds {plural(self.streams.limit, 'event stream')} open; close one first",
            headers={"Retry-After": "5"},
        )
