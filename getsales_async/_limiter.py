"""A client-side rate limiter: GCRA, FIFO-fair, cancellation-safe, for asyncio and trio (anyio).

Hand-rolled because no anyio-native GCRA limiter exists: aiolimiter, pyrate-limiter, limits and
httpx-limiter are asyncio-only, aiometer's meter has no burst and a per-batch budget, and
ratelimit-anyio refuses instead of waiting (see the project's SDK anchors, section 8).

GCRA (generic cell rate algorithm) keeps one number, the theoretical arrival time ``TAT``. With an
emission interval ``T = period / requests``, a request at time ``t`` is admitted iff
``t >= TAT - (burst - 1) * T``, and admission sets ``TAT = max(TAT, t) + T``. Any rolling window of
``period`` seconds then sees at most ``requests + burst - 1`` admissions
(:meth:`RateLimit.max_in_window`).

Waiters queue in arrival order; only the head sleeps until its slot, and when admitted it hands
the head over to the next. A cancelled waiter consumes nothing. A 429 calls
:meth:`AsyncRateLimiter.pause_until`, which pushes the schedule back once for everybody.

No anyio synchronisation object outlives a call, so one limiter works across successive event
loops and on trio. It is not thread-safe: use it from one event loop at a time.
"""

from __future__ import annotations

import hashlib
import logging
import math
import threading
import weakref
from collections import deque
from dataclasses import dataclass
from types import TracebackType
from typing import Protocol, runtime_checkable

import anyio
import anyio.lowlevel

from getsales_async._clock import Clock, MonotonicClock
from getsales_async._config import (
    DEFAULT_BURST,
    DEFAULT_RATE_PERIOD_S,
    DEFAULT_RATE_REQUESTS,
    QUOTA_BURST,
)

__all__ = [
    "AsyncRateLimiter",
    "Limiter",
    "LimiterStatistics",
    "RateLimit",
    "key_fingerprint",
    "shared_limiter",
]

logger = logging.getLogger("getsales_async")


@runtime_checkable
class Limiter(Protocol):
    """What the transport needs from a rate limiter (in-process or shared through Redis)."""

    async def acquire(self) -> None:
        """Wait for this request's turn (FIFO); a cancelled waiter consumes nothing."""
        ...

    def pause(self, seconds: float) -> None:
        """Admit nobody for ``seconds`` from now (a 429 pushes the shared schedule back)."""
        ...


FINGERPRINT_HEX_CHARS = 16  # 64 bits of sha256: enough to tell keys apart, useless to recover one


@dataclass(frozen=True)
class RateLimit:
    """A GCRA quota: ``requests`` per ``period`` seconds, with bursts of up to ``burst`` at once.

    These are the raw GCRA parameters: any rolling window of ``period`` seconds sees at most
    ``requests + burst - 1`` requests (:meth:`max_in_window`), so pick
    ``requests + burst - 1 <= server quota``. The constructors say what they guarantee instead:
    :meth:`per_minute` / :meth:`per_second` / :meth:`for_quota` never exceed the number given,
    :meth:`under_quota` also keeps a reserve (what ``AsyncGetSales(requests_per_minute=N)`` uses).

    Args:
        requests: Sustained requests per period (positive integer).
        period: Length of the period in seconds (positive, finite).
        burst: How many requests may go at once after an idle spell (positive integer; 1 means
            evenly spaced).

    Example::

        RateLimit()  # 291 per 60 s, burst 7: at most 297 in any minute (under_quota(300))
        RateLimit.for_quota(300, 60.0, burst=20)  # 281 per 60 s, burst 20: at most 300
        RateLimit.per_minute(600, burst=10)  # 591 per 60 s, burst 10: at most 600
    """

    requests: int = DEFAULT_RATE_REQUESTS
    period: float = DEFAULT_RATE_PERIOD_S
    burst: int = DEFAULT_BURST

    def __post_init__(self) -> None:
        problems = []
        if not _is_positive_int(self.requests):
            problems.append(f"requests must be a positive integer, got {self.requests!r}")
        if not (
            isinstance(self.period, int | float)
            and not isinstance(self.period, bool)
            and math.isfinite(self.period)
            and self.period > 0
        ):
            problems.append(
                f"period must be a positive finite number of seconds, got {self.period!r}"
            )
        if not _is_positive_int(self.burst):
            problems.append(f"burst must be a positive integer (1 = no burst), got {self.burst!r}")
        if problems:
            message = f"invalid RateLimit: {'; '.join(problems)}"
            raise ValueError(message)

    @classmethod
    def per_second(cls, requests: int, *, burst: int = 1) -> RateLimit:
        """At most ``requests`` in any rolling second, up to ``burst`` of them at once.

        The burst comes out of the budget, not on top of it (:meth:`for_quota`).
        """
        return cls.for_quota(requests, 1.0, burst=burst)

    @classmethod
    def per_minute(cls, requests: int, *, burst: int = 1) -> RateLimit:
        """At most ``requests`` in any rolling minute, up to ``burst`` of them at once.

        The burst comes out of the budget, not on top of it: ``per_minute(600, burst=10)`` paces
        591 per minute so that no minute sees more than 600 (:meth:`for_quota`). To stay under a
        server's quota with a safety reserve, use :meth:`under_quota` (or
        ``AsyncGetSales(requests_per_minute=N)``, which does).
        """
        return cls.for_quota(requests, 60.0, burst=burst)

    @classmethod
    def for_quota(
        cls, quota: int, period: float = DEFAULT_RATE_PERIOD_S, *, burst: int
    ) -> RateLimit:
        """The fastest rate with ``burst`` that never exceeds ``quota`` in any rolling ``period``.

        Args:
            quota: The server's limit per rolling ``period``.
            period: The server's window in seconds.
            burst: The burst wanted; must not exceed ``quota``.

        Returns:
            A rate with ``requests = quota - burst + 1``, so ``max_in_window() == quota``.
        """
        if not (_is_positive_int(quota) and _is_positive_int(burst) and burst <= quota):
            message = (
                f"RateLimit.for_quota needs positive integers with burst <= quota, "
                f"got quota={quota!r}, burst={burst!r}; lower the burst"
            )
            raise ValueError(message)
        return cls(requests=quota - burst + 1, period=period, burst=burst)

    @classmethod
    def under_quota(
        cls,
        quota: int,
        period: float = DEFAULT_RATE_PERIOD_S,
        *,
        burst: int = QUOTA_BURST,
        margin: float = 0.01,
    ) -> RateLimit:
        """A client-side rate that stays safely under a server's ``quota`` per ``period``.

        Pacing exactly at the quota (:meth:`for_quota`) still meets a 429 now and then: the
        server stamps arrivals, the client stamps departures, and when the first requests arrive
        late (they open the connections) the server's schedule starts later than the client's.
        A reserve of ``max(1, margin * quota)`` requests is kept back, taken from the burst first:
        ``requests + burst - 1 == quota - reserve``, and a server allowing ``burst`` tolerates
        ``(burst - client burst)`` emission intervals of such lateness. A quota of 1 per period
        keeps no reserve (there is nothing to spare): one request per period, evenly spaced.

        This is what ``AsyncGetSales(requests_per_minute=N)`` uses, with ``period`` 60 s.

        Example::

            RateLimit.under_quota(300)  # 291/min + burst 7: at most 297 in any minute
        """
        if not 0 <= margin < 1:
            raise ValueError(f"margin must be a fraction in [0, 1), got {margin!r}")
        if not _is_positive_int(quota):
            raise ValueError(f"quota must be a positive integer, got {quota!r}")
        reserve = min(max(1, math.ceil(quota * margin)), quota - 1) if margin > 0 else 0
        client_burst = max(1, min(burst - reserve, quota - reserve))
        return cls.for_quota(quota - reserve, period, burst=client_burst)

    @property
    def emission_interval(self) -> float:
        """Seconds between two requests at the sustained rate (``period / requests``)."""
        return self.period / self.requests

    def max_in_window(self) -> int:
        """The most requests any rolling window of ``period`` seconds can see: requests + burst - 1."""
        return self.requests + self.burst - 1


def _is_positive_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


@dataclass(frozen=True)
class LimiterStatistics:
    """A snapshot of an :class:`AsyncRateLimiter` (times are on the limiter's clock, in seconds)."""

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


class AsyncRateLimiter:
    """Admits requests at a :class:`RateLimit` (GCRA), first come first served, on asyncio or trio.

    Args:
        rate: The quota to enforce.
        clock: Where time is read and slept on; the real monotonic clock by default.

    Example::

        limiter = AsyncRateLimiter(RateLimit.per_minute(299, burst=10))
        async with limiter:
            await client.send(request)
    """

    def __init__(self, rate: RateLimit = RateLimit(), *, clock: Clock | None = None) -> None:
        if not isinstance(rate, RateLimit):
            message = f"rate must be a RateLimit, got {type(rate).__name__}; pass RateLimit(...)"
            raise TypeError(message)
        self._rate = rate
        self._clock: Clock = MonotonicClock() if clock is None else clock
        self._tat: float | None = None
        self._waiters: deque[anyio.Event] = deque()  # FIFO; the head is the only one that sleeps
        self._acquired_total = 0
        self._wait_seconds_total = 0.0
        self._pauses = 0
        self._paused_until: float | None = None
        self._fingerprint: str | None = None  # set by shared_limiter(), shown by __repr__

    @property
    def rate(self) -> RateLimit:
        """The quota this limiter enforces."""
        return self._rate

    @property
    def clock(self) -> Clock:
        """The clock this limiter reads and sleeps on."""
        return self._clock

    async def acquire(self) -> None:
        """Wait for this task's turn and slot, then take it.

        Waiters are admitted in arrival order. If cancelled while waiting, nothing is consumed
        and the next waiter moves up.
        """
        await anyio.lowlevel.checkpoint_if_cancelled()
        try:
            self.acquire_nowait()
        except anyio.WouldBlock:
            await self._wait_in_line()
        else:
            # Admitted already: a checkpoint that cannot be cancelled, so nothing needs refunding.
            await anyio.lowlevel.cancel_shielded_checkpoint()

    def acquire_nowait(self) -> None:
        """Take a slot now, without waiting.

        Raises:
            anyio.WouldBlock: the rate does not allow a request now, or other tasks are queued.
        """
        if self._waiters:
            raise anyio.WouldBlock
        now = self._clock.now()
        if now < self._allowed_at():
            raise anyio.WouldBlock
        self._admit(now)

    async def _wait_in_line(self) -> None:
        turn = anyio.Event()  # set when this waiter becomes the head of the queue
        self._waiters.append(turn)
        queued_at = self._clock.now()
        try:
            if self._waiters[0] is not turn:
                await turn.wait()
            while True:
                now = self._clock.now()
                delay = self._allowed_at() - now
                if delay <= 0:
                    break
                # Re-checked after waking: a pause may have moved the slot meanwhile.
                await self._clock.sleep(delay)
            self._admit(now)
        finally:
            self._wait_seconds_total += self._clock.now() - queued_at
            was_head = self._waiters[0] is turn
            self._waiters.remove(turn)
            if was_head and self._waiters:
                self._waiters[0].set()

    def _allowed_at(self) -> float:
        if self._tat is None:
            return -math.inf
        return self._tat - (self._rate.burst - 1) * self._rate.emission_interval

    def _admit(self, now: float) -> None:
        tat = now if self._tat is None else max(self._tat, now)
        self._tat = tat + self._rate.emission_interval
        self._acquired_total += 1

    def pause_until(self, t: float) -> None:
        """Admit nobody before clock time ``t``, then resume one per emission interval.

        For a 429 with ``Retry-After``: queued waiters keep their place and wait once; the burst
        allowance restarts empty at ``t``, so there is no stampede when the pause ends. A ``t``
        earlier than the current schedule changes nothing.

        Args:
            t: Clock time (seconds, on this limiter's clock) before which nobody is admitted.
        """
        if math.isnan(t):
            message = "pause_until() got NaN; pass a clock time in seconds"
            raise ValueError(message)
        new_tat = t + (self._rate.burst - 1) * self._rate.emission_interval
        if self._tat is not None and new_tat <= self._tat:
            return
        self._tat = new_tat
        self._pauses += 1
        self._paused_until = t if self._paused_until is None else max(self._paused_until, t)
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug(
                "rate limiter %s paused for %.3f s (until %.3f); %d waiting",
                self._fingerprint or hex(id(self)),
                t - self._clock.now(),
                t,
                len(self._waiters),
            )

    def pause(self, seconds: float) -> None:
        """Admit nobody for the next ``seconds``; see :meth:`pause_until`.

        Args:
            seconds: How long to pause, from now (negative values count as 0).
        """
        self.pause_until(self._clock.now() + max(0.0, seconds))

    def statistics(self) -> LimiterStatistics:
        """A snapshot of the limiter's state and counters."""
        now = self._clock.now()
        return LimiterStatistics(
            rate=self._rate,
            acquired_total=self._acquired_total,
            waiting=len(self._waiters),
            wait_seconds_total=self._wait_seconds_total,
            pauses=self._pauses,
            paused_until=self._paused_until,
            tat=self._tat,
            next_free_at=max(now, self._allowed_at()),
        )

    async def __aenter__(self) -> None:
        await self.acquire()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> None:
        return None

    def __repr__(self) -> str:
        now = self._clock.now()
        rate = self._rate
        key = f"key=sha256:{self._fingerprint}, " if self._fingerprint else ""
        paused = ""
        if self._paused_until is not None and self._paused_until > now:
            paused = f", paused_for={self._paused_until - now:.3f}s"
        return (
            f"<{type(self).__name__} {key}rate={rate.requests}/{rate.period:g}s "
            f"burst={rate.burst}, acquired={self._acquired_total}, waiting={len(self._waiters)}, "
            f"next_free_in={max(0.0, self._allowed_at() - now):.3f}s{paused}>"
        )


def key_fingerprint(key: str) -> str:
    """A short sha256 hex digest of an API key, safe for logs, registries and Redis key names.

    Args:
        key: The API key.

    Returns:
        The first 16 hex characters of ``sha256(key)``.
    """
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:FINGERPRINT_HEX_CHARS]


_registry: weakref.WeakValueDictionary[str, AsyncRateLimiter] = weakref.WeakValueDictionary()
_registry_lock = threading.Lock()


def shared_limiter(key: str, rate: RateLimit, clock: Clock | None = None) -> AsyncRateLimiter:
    """The process-wide limiter for an API key, so every client using the key shares one budget.

    The registry holds the key's fingerprint, never the key, and forgets a limiter once no client
    references it.

    Args:
        key: The API key.
        rate: The key's quota; must equal the rate of an existing limiter for the key.
        clock: The clock for a new limiter. If given, an existing limiter must use this clock
            (any two ``MonotonicClock`` instances count as the same clock).

    Returns:
        The existing limiter for the key, or a new one.

    Raises:
        ValueError: the key is empty, or already has a limiter with another rate or clock.
    """
    if not key:
        message = "shared_limiter() needs the API key; got an empty one"
        raise ValueError(message)
    fingerprint = key_fingerprint(key)
    with _registry_lock:
        limiter = _registry.get(fingerprint)
        if limiter is None:
            limiter = AsyncRateLimiter(rate, clock=clock)
            limiter._fingerprint = fingerprint
            _registry[fingerprint] = limiter
            return limiter
    if limiter.rate != rate:
        message = (
            f"API key sha256:{fingerprint} already has a rate limiter with {limiter.rate!r}, "
            f"not {rate!r}: one key has one quota. Pass the same RateLimit to every client "
            "that uses this key, or share one client."
        )
        raise ValueError(message)
    if clock is not None and not _same_clock(limiter.clock, clock):
        message = (
            f"API key sha256:{fingerprint} already has a rate limiter on another clock "
            f"({limiter.clock!r}); pass the same clock to every client that uses this key."
        )
        raise ValueError(message)
    return limiter


def _same_clock(a: Clock, b: Clock) -> bool:
    """Whether two clocks tell the same time: the same object, or both the stateless real clock."""
    return a is b or (type(a) is MonotonicClock and type(b) is MonotonicClock)
