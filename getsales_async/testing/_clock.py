"""A virtual clock for tests: time moves only when the test says so, on asyncio and trio alike.

``VirtualClock`` implements :class:`getsales_async._clock.Clock`. Time starts at ``start`` and moves
only through :meth:`VirtualClock.advance` or, inside ``async with clock.autojump():``, by jumping
to the earliest sleeper's deadline whenever every other task is blocked (the idea of trio's
``MockClock(autojump_threshold=0)``, made portable through anyio).

Example::

    clock = VirtualClock()
    async with clock.autojump():
        await clock.sleep(3600)  # returns at once in real time
    assert clock.now() == 3600

The clock is meant for one event loop at a time and is not thread-safe.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import math
from collections.abc import AsyncIterator, Sized
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import anyio
import anyio.lowlevel

__all__ = ["VirtualClock"]

# How many checkpoints the asyncio fast path of `_wait_all_tasks_blocked` yields, waiting for the
# other tasks to settle, before it falls back to `anyio.wait_all_tasks_blocked()` (which polls
# every 0.1 s of real time).
_ASYNCIO_SETTLE_CHECKPOINTS = 1000
_IDLE_STREAK_WITHOUT_READY_QUEUE = 3

_Sleeper = tuple[float, int, anyio.Event]  # (deadline, arrival number, event set when due)


class VirtualClock:
    """A :class:`~getsales_async._clock.Clock` in virtual time, for asyncio and trio tests.

    Args:
        start: The initial time in seconds.
    """

    def __init__(self, start: float = 0.0) -> None:
        if not math.isfinite(start):
            message = f"VirtualClock start must be a finite number of seconds, got {start!r}"
            raise ValueError(message)
        self._now = float(start)
        self._sleepers: list[_Sleeper] = []
        self._arrivals = itertools.count()
        self._sleeper_registered: anyio.Event | None = None
        self._autojumping = False

    def now(self) -> float:
        """Current virtual time in seconds."""
        return self._now

    @property
    def sleepers(self) -> int:
        """Number of tasks currently sleeping on this clock (infinite sleeps not counted)."""
        return len(self._sleepers)

    @property
    def next_deadline(self) -> float | None:
        """The earliest sleeper deadline, or ``None`` when nobody sleeps."""
        return self._sleepers[0][0] if self._sleepers else None

    async def sleep(self, seconds: float) -> None:
        """Sleep until virtual time has moved ``seconds`` forward (a checkpoint if ``seconds <= 0``).

        Args:
            seconds: How long to sleep in virtual seconds; ``math.inf`` sleeps until cancelled.

        Raises:
            ValueError: ``seconds`` is NaN.
        """
        if math.isnan(seconds):
            message = "VirtualClock.sleep() got NaN seconds; pass a number (0 or more)"
            raise ValueError(message)
        if seconds <= 0:
            await anyio.lowlevel.checkpoint()
            return
        if math.isinf(seconds):
            # Never due: autojump must not jump to infinity, so it is not registered.
            await anyio.Event().wait()
            return
        event = anyio.Event()
        sleeper: _Sleeper = (self._now + seconds, next(self._arrivals), event)
        heapq.heappush(self._sleepers, sleeper)
        if self._sleeper_registered is not None:
            self._sleeper_registered.set()
        try:
            await event.wait()
        finally:
            if not event.is_set():  # cancelled before its deadline: forget it
                self._sleepers.remove(sleeper)
                heapq.heapify(self._sleepers)

    def advance(self, seconds: float) -> None:
        """Move virtual time ``seconds`` forward and wake every sleeper that is now due.

        Woken tasks run at their next scheduling point; follow with
        ``await anyio.wait_all_tasks_blocked()`` to let them.

        Args:
            seconds: How far to move, in seconds (0 or more).

        Raises:
            ValueError: ``seconds`` is negative or not finite.
        """
        if not (math.isfinite(seconds) and seconds >= 0):
            message = (
                f"VirtualClock.advance() needs a finite number of seconds >= 0, got {seconds!r}; "
                "virtual time never goes back"
            )
            raise ValueError(message)
        self._now += seconds
        self._wake_due()

    def autojump(self) -> AbstractAsyncContextManager[None]:
        """Jump time to the next deadline whenever all other tasks are blocked, inside the block.

        A background task waits (without polling) until somebody sleeps on the clock, then waits
        for all other tasks to block and moves time to the earliest deadline, waking that sleeper.
        Do not call ``anyio.wait_all_tasks_blocked()`` from the body while autojumping: two tasks
        waiting for each other to block slows the asyncio backend to its 0.1 s polling.

        Returns:
            An async context manager; time stands still again once it exits.

        Raises:
            RuntimeError: autojump is already active on this clock.
        """
        return self._autojump()

    @asynccontextmanager
    async def _autojump(self) -> AsyncIterator[None]:
        if self._autojumping:
            message = "VirtualClock.autojump() is already active; enter it once per clock"
            raise RuntimeError(message)
        self._autojumping = True
        body_error: Exception | None = None
        try:
            async with anyio.create_task_group() as task_group:
                task_group.start_soon(self._autojump_loop)
                try:
                    yield
                except Exception as exc:
                    # Re-raised below, outside the task group, so that trio's strict
                    # exception groups do not wrap a plain test failure.
                    body_error = exc
                finally:
                    task_group.cancel_scope.cancel()
        finally:
            self._autojumping = False
        if body_error is not None:
            raise body_error

    async def _autojump_loop(self) -> None:
        try:
            while True:
                if not self._sleepers:
                    self._sleeper_registered = anyio.Event()
                    await self._sleeper_registered.wait()
                    self._sleeper_registered = None
                    continue
                await _wait_all_tasks_blocked()
                if self._sleepers:
                    self._now = max(self._now, self._sleepers[0][0])
                    self._wake_due()
        finally:
            self._sleeper_registered = None

    def _wake_due(self) -> None:
        while self._sleepers and self._sleepers[0][0] <= self._now:
            _, _, event = heapq.heappop(self._sleepers)
            event.set()

    def __repr__(self) -> str:
        return (
            f"VirtualClock(now={self._now!r}, sleepers={len(self._sleepers)}, "
            f"next_deadline={self.next_deadline!r}, autojump={self._autojumping})"
        )


async def _wait_all_tasks_blocked() -> None:
    """``anyio.wait_all_tasks_blocked()``, made exact and fast on asyncio.

    On asyncio, anyio polls every 0.1 s of real time while some task is runnable, which makes
    every jump slow, and it can report "all blocked" while a callback that will wake a task (such
    as a finished task's done callback) is still queued. Here the caller yields checkpoints until
    the loop is idle: nothing queued to run and every other task waiting on a pending future (the
    test anyio uses). Trio's implementation is exact and free, so it is used as is.
    """
    try:
        this_task = asyncio.current_task()
    except RuntimeError:  # not running under asyncio (trio)
        this_task = None
    if this_task is None:
        await anyio.wait_all_tasks_blocked()
        return
    loop = asyncio.get_running_loop()
    # The standard event loop exposes its queue of ready callbacks; on other loops (uvloop),
    # demand that every task looks blocked on a few consecutive checkpoints instead.
    ready: Sized | None = getattr(loop, "_ready", None)
    needed = 1 if ready is not None else _IDLE_STREAK_WITHOUT_READY_QUEUE
    streak = 0
    for _ in range(_ASYNCIO_SETTLE_CHECKPOINTS):
        await anyio.lowlevel.checkpoint()
        idle = (ready is None or len(ready) == 0) and all(
            task is this_task or _blocked(task) for task in asyncio.all_tasks(loop)
        )
        streak = streak + 1 if idle else 0
        if streak >= needed:
            return
    await anyio.wait_all_tasks_blocked()


def _blocked(task: asyncio.Task[object]) -> bool:
    waiter: asyncio.Future[object] | None = getattr(task, "_fut_waiter", None)
    return waiter is not None and not waiter.done()
