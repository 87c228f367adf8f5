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
:meth:`AsyncRateLimiter.pause_until`, which pushes the schedule back once for everybody, by at most
``max_pause`` seconds.

Deadlines: ``acquire(timeout=...)`` never waits past its deadline. A waiter that certainly cannot
be admitted in time (the schedule and the waiters ahead of it that will still be there) fails at
once; one whose deadline passes while it waits is woken to fail (the head sleeps until the
earliest of its slot and every waiter's deadline, so no waiter needs a timer of its own). The
others keep their place. The failure is :class:`~getsales_async.RateLimitError` when the key is
paused by the server's ``Retry-After`` past the deadline, else
:class:`~getsales_async.APITimeoutError`.

No anyio synchronisation object outlives a call, so one limiter works across successive event
loops and on trio. It is not thread-safe: use it from one event loop at a time.
"""

from __future__ import annotations

import bisect
import hashlib
import heapq
import itertools
import logging
import math
import threading
import weakref
from collections import deque
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import anyio

from getsales_async._clock import Clock, MonotonicClock
from getsales_async._config import (
    DEFAULT_BURST,
    DEFAULT_MAX_RETRY_AFTER_S,
    DEFAULT_RATE_PERIOD_S,
    DEFAULT_RATE_REQUESTS,
    QUOTA_BURST,
)
from getsales_async._errors import APITimeoutError, GetSalesError, RateLimitError
from getsales_async._validation import seconds_problem

if TYPE_CHECKING:
    from getsales_async._statistics import LimiterStatistics

__all__ = [
    "AsyncRateLimiter",
    "Limiter",
    "RateLimit",
    "key_fingerprint",
    "shared_limiter",
]

logger = logging.getLogger("getsales_async")


@runtime_checkable
class Limiter(Protocol):
    """What the transport needs from a rate limiter (in-process or shared through Redis)."""

    async def acquire(self, *, timeout: float | None = None) -> None:
        """Wait for this request's turn (FIFO); a cancelled waiter consumes nothing.

        Args:
            timeout: Longest wait in seconds (``None``: no limit). A waiter that cannot be
                admitted within it raises :class:`~getsales_async.APITimeoutError` (or
                :class:`~getsales_async.RateLimitError` when a server-requested pause is what
                keeps it out), at once when that is certain.
        """
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
        period_problem = seconds_problem("period", self.period, positive=True)
        if period_problem:
            problems.append(period_problem)
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


class _Waiter:
    """One queued ``acquire()``: its deadline, the event that wakes it, and why it must fail."""

    __slots__ = ("deadline", "event", "failure", "queued")

    def __init__(self, deadline: float | None) -> None:
        self.deadline = deadline
        self.event = anyio.Event()  # set when it becomes the head, or must fail
        self.failure: GetSalesError | None = None
        self.queued = True


class AsyncRateLimiter:
    """Admits requests at a :class:`RateLimit` (GCRA), first come first served, on asyncio or trio.

    Args:
        rate: The quota to enforce.
        clock: Where time is read and slept on; the real monotonic clock by default.
        max_pause: Longest pause (seconds) that :meth:`pause_until` / :meth:`pause` apply; a
            longer one is cut to it, so no ``Retry-After`` can freeze the key for longer.

    Example::

        limiter = AsyncRateLimiter(RateLimit.per_minute(299, burst=10))
        async with limiter:
            await client.send(request)
    """

    def __init__(
        self,
        rate: RateLimit = RateLimit(),
        *,
        clock: Clock | None = None,
        max_pause: float = DEFAULT_MAX_RETRY_AFTER_S,
    ) -> None:
        if not isinstance(rate, RateLimit):
            message = f"rate must be a RateLimit, got {type(rate).__name__}; pass RateLimit(...)"
            raise TypeError(message)
        problem = seconds_problem("max_pause", max_pause)
        if problem:
            raise ValueError(problem)
        self._rate = rate
        self._clock: Clock = MonotonicClock() if clock is None else clock
        self._max_pause = float(max_pause)
        self._tat: float | None = None
        self._waiters: deque[_Waiter] = deque()  # FIFO; the head is the only one that sleeps
        self._deadlines: list[float] = []  # sorted deadlines of queued waiters that have one
        self._due: list[tuple[float, int, _Waiter]] = []  # heap of the same, for expiry
        self._arrivals = itertools.count()
        self._head_scope: anyio.CancelScope | None = None  # the head's sleep, to wake it early
        self._acquired_total = 0
        self._wait_seconds_total = 0.0
        self._timed_out = 0
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

    @property
    def max_pause(self) -> float:
        """The longest pause (seconds) this limiter applies."""
        return self._max_pause

    async def acquire(self, *, timeout: float | None = None) -> None:
        """Wait for this task's turn and slot, then take it.

        Waiters are admitted in arrival order. If cancelled while waiting, nothing is consumed
        and the next waiter moves up.

        Args:
            timeout: Longest wait in seconds on this limiter's clock (``None``: no limit).

        Raises:
            APITimeoutError: no slot before the deadline (at once when that is certain).
            RateLimitError: a server-requested pause (:meth:`pause_until`) lasts past the deadline.
        """
        import anyio.lowlevel  # on first use: `import getsales_async` stays light

        await anyio.lowlevel.checkpoint_if_cancelled()
        try:
            self.acquire_nowait()
        except anyio.WouldBlock:
            deadline = None if timeout is None else self._clock.now() + max(0.0, timeout)
            await self._wait_in_line(deadline)
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

    async def _wait_in_line(self, deadline: float | None) -> None:
        queued_at = self._clock.now()
        if deadline is not None:
            ahead = self._certain_ahead(deadline, len(self._waiters), self._deadlines)
            if self._earliest_admission(ahead, queued_at) > deadline:
                self._timed_out += 1
                raise self._deadline_error(deadline, queued_at)
        waiter = self._enqueue(deadline)
        try:
            while True:
                if waiter.failure is not None:
                    raise waiter.failure
                if self._waiters[0] is waiter:
                    if await self._serve_head(waiter):
                        return
                else:
                    await waiter.event.wait()
                    waiter.event = anyio.Event()  # woken: as the head, or to fail
        finally:
            self._wait_seconds_total += self._clock.now() - queued_at
            self._leave(waiter)

    async def _serve_head(self, waiter: _Waiter) -> bool:
        """One step of the head: expire due waiters, admit if its slot has come, else sleep."""
        now = self._clock.now()
        self._expire_due(now)
        if waiter.failure is not None:
            return False
        allowed = self._allowed_at()
        if allowed <= now:
            self._admit(now)
            return True
        # Sleep until the slot, or until the earliest deadline in the queue (to fail that
        # waiter); re-checked after waking, since a pause may have moved the slot meanwhile.
        # A newcomer never needs an earlier wake: one whose deadline comes before this is
        # certain to miss it and fails on arrival.
        wake_at = min(allowed, self._due[0][0] if self._due else math.inf)
        with anyio.CancelScope() as scope:
            self._head_scope = scope  # a pause that dooms this head cancels the sleep
            try:
                await self._clock.sleep(wake_at - now)
            finally:
                if self._head_scope is scope:
                    self._head_scope = None
        return False

    def _enqueue(self, deadline: float | None) -> _Waiter:
        waiter = _Waiter(deadline)
        self._waiters.append(waiter)
        if deadline is not None:
            bisect.insort(self._deadlines, deadline)
            heapq.heappush(self._due, (deadline, next(self._arrivals), waiter))
        return waiter

    def _leave(self, waiter: _Waiter) -> None:
        """Take ``waiter`` out of the queue (once), handing the head on if it was the head."""
        if not waiter.queued:
            return
        waiter.queued = False
        was_head = self._waiters[0] is waiter
        self._waiters.remove(waiter)
        if waiter.deadline is not None:
            del self._deadlines[bisect.bisect_left(self._deadlines, waiter.deadline)]
        while self._due and not self._due[0][2].queued:
            heapq.heappop(self._due)
        if was_head and self._waiters:
            self._waiters[0].event.set()

    def _fail(self, waiter: _Waiter, now: float) -> None:
        """Wake ``waiter`` to raise its deadline error; the others keep their place."""
        assert waiter.deadline is not None
        self._timed_out += 1
        waiter.failure = self._deadline_error(waiter.deadline, now)
        if self._waiters[0] is waiter and self._head_scope is not None:
            self._head_scope.cancel()  # the head sleeps on the clock, not on its event
            self._head_scope = None
        waiter.event.set()
        self._leave(waiter)

    def _expire_due(self, now: float) -> None:
        """Fail every queued waiter whose deadline has come."""
        while self._due and self._due[0][0] <= now:
            _, _, waiter = heapq.heappop(self._due)
            if waiter.queued:
                self._fail(waiter, now)

    def _expire_unreachable(self, now: float) -> None:
        """Fail, at once, every waiter that now certainly cannot be admitted before its deadline."""
        earlier: list[float] = []  # deadlines of the waiters ahead that stay
        without_deadline = 0
        doomed: list[_Waiter] = []
        for waiter in self._waiters:
            if waiter.deadline is None:
                without_deadline += 1
                continue
            ahead = without_deadline + self._certain_ahead(waiter.deadline, len(earlier), earlier)
            if self._earliest_admission(ahead, now) > waiter.deadline:
                doomed.append(waiter)
            else:
                bisect.insort(earlier, waiter.deadline)
        for waiter in doomed:
            self._fail(waiter, now)

    @staticmethod
    def _certain_ahead(deadline: float, queued: int, deadlines: list[float]) -> int:
        """Of ``queued`` waiters ahead, how many are sure to be there until ``deadline``: those
        without a deadline and those whose deadline is not earlier (``deadlines`` is sorted)."""
        return queued - bisect.bisect_left(deadlines, deadline)

    def _earliest_admission(self, ahead: int, now: float) -> float:
        """When a waiter with ``ahead`` admissions before it can be admitted, at the earliest."""
        tat = now if self._tat is None else max(self._tat, now)
        return max(now, tat + (ahead - self._rate.burst + 1) * self._rate.emission_interval)

    def _deadline_error(self, deadline: float, now: float) -> GetSalesError:
        paused = self._paused_until
        if paused is not None and paused > deadline:
            return RateLimitError(
                f"the key is paused for {paused - now:.3f} s at the server's request "
                "(Retry-After), past this call's deadline",
                retry_after=max(0.0, paused - now),
            )
        return APITimeoutError(
            f"no rate-limit slot before this call's deadline ({max(0.0, deadline - now):.3f} s "
            f"left, {len(self._waiters)} waiting at {self._rate.requests}/{self._rate.period:g}s)"
        )

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
        earlier than the current schedule changes nothing. A ``t`` more than ``max_pause`` ahead
        is cut to ``now + max_pause``. Waiters whose deadline the pause now certainly overruns
        fail at once.

        Args:
            t: Clock time (seconds, on this limiter's clock) before which nobody is admitted.
        """
        if math.isnan(t):
            message = "pause_until() got NaN; pass a clock time in seconds"
            raise ValueError(message)
        now = self._clock.now()
        t = min(t, now + self._max_pause)
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
                t - now,
                t,
                len(self._waiters),
            )
        if self._due:
            self._expire_unreachable(now)

    def pause(self, seconds: float) -> None:
        """Admit nobody for the next ``seconds`` (at most ``max_pause``); see :meth:`pause_until`.

        Args:
            seconds: How long to pause, from now (negative values count as 0).
        """
        if math.isnan(seconds):
            message = "pause() got NaN; pass a number of seconds"
            raise ValueError(message)
        self.pause_until(self._clock.now() + min(max(0.0, seconds), self._max_pause))

    def statistics(self) -> LimiterStatistics:
        """A snapshot of the limiter's state and counters."""
        from getsales_async._statistics import LimiterStatistics  # on first use

        now = self._clock.now()
        return LimiterStatistics(
            rate=self._rate,
            acquired_total=self._acquired_total,
            waiting=len(self._waiters),
            wait_seconds_total=self._wait_seconds_total,
            timed_out=self._timed_out,
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


def shared_limiter(
    key: str,
    rate: RateLimit,
    clock: Clock | None = None,
    *,
    max_pause: float = DEFAULT_MAX_RETRY_AFTER_S,
    scope: str = "",
) -> AsyncRateLimiter:
    """The process-wide limiter for an API key, so every client using the key shares one budget.

    The registry holds the key's fingerprint, never the key, and forgets a limiter once no client
    references it.

    Args:
        key: The API key.
        rate: The key's quota; must equal the rate of an existing limiter for the key.
        clock: The clock for a new limiter. If given, an existing limiter must use this clock
            (any two ``MonotonicClock`` instances count as the same clock).
        max_pause: The pause ceiling of a new limiter (an existing one keeps its own).
        scope: Names a separate limiter for the same key (the Redis fallback's share uses one).

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
        limiter = _registry.get(fingerprint + scope)
        if limiter is None:
            limiter = AsyncRateLimiter(rate, clock=clock, max_pause=max_pause)
            limiter._fingerprint = fingerprint
            _registry[fingerprint + scope] = limiter
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
