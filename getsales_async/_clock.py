"""The time seam: everything time-dependent reads time and sleeps through a ``Clock``.

Tests pass a :class:`getsales_async.testing.VirtualClock` and run in virtual time.
"""

from __future__ import annotations

import time
from typing import Protocol, runtime_checkable

import anyio

__all__ = ["Clock", "MonotonicClock", "WallClock"]


@runtime_checkable
class Clock(Protocol):
    """A source of monotonic time (seconds) and a way to sleep on it."""

    def now(self) -> float:
        """Current time in seconds on a monotonic scale."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Sleep for ``seconds`` (returns at once for ``seconds <= 0``, after a checkpoint)."""
        ...


class MonotonicClock:
    """The real clock: ``time.monotonic()`` and ``anyio.sleep`` (asyncio and trio)."""

    def now(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await anyio.sleep(max(0.0, seconds))

    def __repr__(self) -> str:
        return "MonotonicClock()"


class WallClock(Protocol):
    """Seconds since the epoch, for interpreting HTTP dates (``Retry-After``)."""

    def __call__(self) -> float: ...
