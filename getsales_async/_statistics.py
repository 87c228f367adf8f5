"""Snapshots of the client's machinery: rate limiter, retry budget and transport counters.

Plain frozen records, built only when someone asks for them (``client.statistics()``,
``limiter.statistics()``, ``budget.statistics()``), so they live apart from the machinery they
describe: a frozen dataclass costs about a millisecond to create, and a client never needs these
to send requests. Each is re-exported by ``getsales_async``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._limiter import RateLimit

__all__ = ["LimiterStatistics", "RetryBudgetStatistics", "TransportStatistics"]


@dataclass(frozen=True)
class LimiterStatistics:
    """A snapshot of an :class:`~getsales_async.AsyncRateLimiter` (times are on the limiter's clock, in seconds)."""

    rate: RateLimit
    """The limiter's quota."""
    acquired_total: int
    """Requests admitted so far."""
    waiting: int
    """Tasks queued in ``acquire()`` right now."""
    wait_seconds_total: float
    """Seconds spent queued, summed over every waiter that has left the queue (admitted or cancelled)."""
    pauses: int
    """Calls to ``pause_until()``/``pause()`` that pushed the schedule back."""
    paused_until: float | None
    """The latest pause deadline ever set, or ``None`` if never paused."""
    tat: float | None
    """The GCRA theoretical arrival time, or ``None`` before the first admission or pause."""
    next_free_at: float
    """When GCRA next allows an admission (``now`` if at once), ignoring queued waiters."""
    timed_out: int = 0
    """Waiters that failed because they could not be admitted before their deadline."""


@dataclass(frozen=True)
class RetryBudgetStatistics:
    """A snapshot of a :class:`~getsales_async.RetryBudget`."""

    capacity: int
    """Most tokens the bucket holds."""
    tokens: int
    """Tokens in the bucket now."""
    withdrawn: int
    """Retries paid for so far."""
    refused: int
    """Retries refused because the bucket could not pay (calls that failed fast)."""


@dataclass(frozen=True)
class TransportStatistics:
    """Counters of one transport since it was created."""

    requests: int
    attempts: int
    retries: int
    rate_limited: int
    failures: int
