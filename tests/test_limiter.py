"""AsyncRateLimiter: GCRA spacing and bursts, FIFO fairness, cancellation, pauses, sharing per key."""

from __future__ import annotations

import gc
import hashlib
import math
from collections.abc import Awaitable, Callable

import anyio
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from getsales_async._clock import MonotonicClock
from getsales_async._errors import APITimeoutError, RateLimitError
from getsales_async._limiter import (
    AsyncRateLimiter,
    RateLimit,
    key_fingerprint,
    shared_limiter,
)
from getsales_async._statistics import LimiterStatistics
from getsales_async.testing import VirtualClock

FIVE_PER_SECOND = RateLimit(requests=5, period=1.0, burst=1)  # emission interval 0.2 s
EPS = 1e-9  # float slack when comparing times built by repeated additions of 0.2


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    """Run every async test on both anyio backends."""
    backend: str = request.param
    return backend


def max_in_any_window(times: list[float], period: float) -> int:
    """The largest number of ``times`` inside any half-open window ``[t, t + period)``."""
    ordered = sorted(times)
    best = 0
    for i, start in enumerate(ordered):
        inside = sum(1 for t in ordered[i:] if t < start + period - EPS)
        best = max(best, inside)
    return best


async def admission_times(
    limiter: AsyncRateLimiter, clock: VirtualClock, count: int
) -> list[float]:
    """Start ``count`` tasks that acquire at once; return their admission times in order."""
    times: list[float] = []

    async def one() -> None:
        await limiter.acquire()
        times.append(clock.now())

    with anyio.fail_after(5):  # real-time guard: a stuck queue fails instead of hanging
        async with anyio.create_task_group() as tg:
            for _ in range(count):
                tg.start_soon(one)
    return times


async def start_waiters(
    tg: anyio.abc.TaskGroup,
    limiter: AsyncRateLimiter,
    clock: VirtualClock,
    names: list[str],
    admitted: list[tuple[str, float]],
) -> dict[str, anyio.CancelScope]:
    """Queue one waiter per name, in list order (each arrives 1 ms after the previous one)."""
    scopes: dict[str, anyio.CancelScope] = {}

    def waiter(name: str, arrival: float) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            await clock.sleep(arrival)
            with scopes[name]:
                await limiter.acquire()
                admitted.append((name, clock.now()))

        return run

    start = clock.now()
    for index, name in enumerate(names, start=1):
        scopes[name] = anyio.CancelScope()
        tg.start_soon(waiter(name, start + index * 0.001 - clock.now()))
    await clock.sleep(len(names) * 0.001 + 0.001)  # everybody is queued after this
    return scopes


class TestRateLimit:
    def test_defaults_fit_the_getsales_quota_always(self) -> None:
        """The default rate is production's 300/min with under_quota's reserve: at most 297."""
        rate = RateLimit()
        assert (rate.requests, rate.period, rate.burst) == (291, 60.0, 7)
        assert rate == RateLimit.under_quota(300)
        assert rate.max_in_window() == 297

    def test_emission_interval_is_period_over_requests_always(self) -> None:
        """The emission interval is the period divided by the requests."""
        assert RateLimit(requests=4, period=2.0, burst=1).emission_interval == 0.5

    def test_helpers_build_expected_rates_always(self) -> None:
        """per_second, per_minute and for_quota build the rates they describe."""
        assert RateLimit.per_second(5) == RateLimit(requests=5, period=1.0, burst=1)
        assert RateLimit.per_minute(297, burst=7) == RateLimit()
        rate = RateLimit.for_quota(300, 60.0, burst=20)
        assert rate == RateLimit(requests=281, period=60.0, burst=20)
        assert rate.max_in_window() == 300

    @pytest.mark.parametrize(
        ("kwargs", "fragment"),
        [
            ({"requests": 0}, "requests must be a positive integer"),
            ({"requests": True}, "requests must be a positive integer"),
            ({"period": 0.0}, "period must be a positive finite number"),
            ({"period": math.inf}, "period must be a positive finite number"),
            ({"burst": 0}, r"burst must be a positive integer \(1 = no burst\)"),
        ],
    )
    def test_construction_raises_when_values_invalid(
        self, kwargs: dict[str, object], fragment: str
    ) -> None:
        """Invalid quotas are refused with a message naming the field and the fix."""
        with pytest.raises(ValueError, match=fragment):
            RateLimit(**kwargs)  # type: ignore[arg-type]

    @pytest.mark.parametrize("requests", [1, 10, 300, 600])
    def test_per_minute_never_exceeds_its_number_whatever_the_burst(self, requests: int) -> None:
        """per_minute(N, burst=B) admits at most N in any minute: the burst is part of N."""
        for burst in sorted({1, min(10, requests), requests}):
            assert RateLimit.per_minute(requests, burst=burst).max_in_window() == requests
            assert RateLimit.per_second(requests, burst=burst).max_in_window() == requests

    def test_for_quota_raises_when_burst_exceeds_quota(self) -> None:
        """A burst larger than the quota cannot fit and is refused."""
        with pytest.raises(ValueError, match="lower the burst"):
            RateLimit.for_quota(5, 1.0, burst=6)

    def test_limiter_raises_when_rate_is_not_a_rate_limit(self) -> None:
        """Passing a number instead of a RateLimit is refused."""
        with pytest.raises(TypeError, match="RateLimit"):
            AsyncRateLimiter(300)  # type: ignore[arg-type]


@pytest.mark.anyio
class TestSpacing:
    async def test_burst_goes_at_once_then_spaced_when_saturated(self) -> None:
        """Up to ``burst`` requests go at once, then one per emission interval."""
        clock = VirtualClock()
        limiter = AsyncRateLimiter(RateLimit(requests=5, period=1.0, burst=3), clock=clock)
        async with clock.autojump():
            times = await admission_times(limiter, clock, 7)
        assert times == pytest.approx([0.0, 0.0, 0.0, 0.2, 0.4, 0.6, 0.8])

    async def test_burst_refills_when_idle(self) -> None:
        """After an idle spell of burst emission intervals, a full burst goes at once again."""
        clock = VirtualClock()
        limiter = AsyncRateLimiter(RateLimit(requests=5, period=1.0, burst=2), clock=clock)
        async with clock.autojump():
            await admission_times(limiter, clock, 4)  # 0, 0, 0.2, 0.4
            await clock.sleep(10.0)
            start = clock.now()
            times = await admission_times(limiter, clock, 3)
        assert [t - start for t in times] == pytest.approx([0.0, 0.0, 0.2])

    async def test_rolling_window_holds_requests_plus_burst_minus_one_when_saturated(
        self,
    ) -> None:
        """A saturating load sees exactly requests + burst - 1 admissions in the busiest window."""
        clock = VirtualClock()
        rate = RateLimit(requests=5, period=1.0, burst=3)
        limiter = AsyncRateLimiter(rate, clock=clock)
        async with clock.autojump():
            times = await admission_times(limiter, clock, 40)
        assert max_in_any_window(times, rate.period) == rate.max_in_window() == 7
        assert times == sorted(times)

    async def test_spacing_uses_real_clock_when_no_clock_given(self) -> None:
        """Without a clock the limiter reads the monotonic clock (burst only, so no waiting)."""
        limiter = AsyncRateLimiter(RateLimit(requests=1, period=3600.0, burst=2))
        assert isinstance(limiter.clock, MonotonicClock)
        await limiter.acquire()
        async with limiter:
            pass
        assert limiter.statistics().acquired_total == 2


@pytest.mark.anyio
class TestFairness:
    async def test_waiters_admitted_in_arrival_order_when_contending(self) -> None:
        """Waiters are admitted strictly in the order they arrived, one slot each."""
        clock = VirtualClock()
        limiter = AsyncRateLimiter(FIVE_PER_SECOND, clock=clock)
        arrived: list[int] = []
        admitted: list[int] = []

        async def waiter(index: int) -> None:
            await clock.sleep(0.01 * (index % 7))  # arrivals interleave with admissions
            arrived.append(index)
            await limiter.acquire()
            admitted.append(index)

        async with clock.autojump(), anyio.create_task_group() as tg:
            for index in range(20):
                tg.start_soon(waiter, index)
        assert admitted == arrived
        assert clock.now() == pytest.approx(19 * 0.2)

    async def test_only_head_sleeps_on_clock_when_many_wait(self) -> None:
        """However many tasks queue, only the head sleeps on the clock (no thundering herd)."""
        clock = VirtualClock()
        limiter = AsyncRateLimiter(FIVE_PER_SECOND, clock=clock)
        limiter.acquire_nowait()
        async with anyio.create_task_group() as tg:
            for _ in range(10):
                tg.start_soon(limiter.acquire)
            await anyio.wait_all_tasks_blocked()
            assert clock.sleepers == 1
            assert limiter.statistics().waiting == 10
            tg.cancel_scope.cancel()
        assert limiter.statistics().waiting == 0

    async def test_cancelled_head_consumes_nothing_when_cancelled_while_sleeping(self) -> None:
        """Cancelling the head hands its slot to the next waiter and consumes no quota."""
        clock = VirtualClock()
        limiter = AsyncRateLimiter(FIVE_PER_SECOND, clock=clock)
        admitted: list[tuple[str, float]] = []
        async with clock.autojump(), anyio.create_task_group() as tg:
            limiter.acquire_nowait()  # t=0; the next slot is 0.2
            scopes = await start_waiters(tg, limiter, clock, ["a", "b", "c"], admitted)
            scopes["a"].cancel()
        assert scopes["a"].cancelled_caught
        assert admitted == [("b", pytest.approx(0.2)), ("c", pytest.approx(0.4))]
        assert limiter.statistics().acquired_total == 3

    async def test_cancelled_waiter_consumes_nothing_when_not_head(self) -> None:
        """Cancelling a waiter in the middle of the queue leaves the others' slots unchanged."""
        clock = VirtualClock()
        limiter = AsyncRateLimiter(FIVE_PER_SECOND, clock=clock)
        admitted: list[tuple[str, float]] = []
        async with clock.autojump(), anyio.create_task_group() as tg:
            limiter.acquire_nowait()
            scopes = await start_waiters(tg, limiter, clock, ["a", "b", "c"], admitted)
            scopes["b"].cancel()
        assert scopes["b"].cancelled_caught
        assert admitted == [("a", pytest.approx(0.2)), ("c", pytest.approx(0.4))]
        assert limiter.statistics().acquired_total == 3

    async def test_acquire_consumes_nothing_when_already_cancelled(self) -> None:
        """A task cancelled before it acquires raises at once, even though a slot is free."""
        limiter = AsyncRateLimiter(FIVE_PER_SECOND, clock=VirtualClock())
        with anyio.CancelScope() as scope:
            scope.cancel()
            await limiter.acquire()
        assert scope.cancelled_caught
        assert limiter.statistics().acquired_total == 0
        limiter.acquire_nowait()  # the slot is still there


@pytest.mark.anyio
class TestPause:
    async def test_pause_until_delays_everyone_once_then_spaces_them(self) -> None:
        """A pause holds every waiter until its end, then admits them one interval apart."""
        clock = VirtualClock()
        limiter = AsyncRateLimiter(RateLimit(requests=5, period=1.0, burst=3), clock=clock)
        admitted: list[tuple[str, float]] = []
        async with clock.autojump(), anyio.create_task_group() as tg:
            for _ in range(3):
                limiter.acquire_nowait()  # the burst is spent at t=0
            await start_waiters(tg, limiter, clock, ["a", "b", "c", "d"], admitted)
            limiter.pause_until(2.0)  # a 429 with Retry-After: 2
            assert clock.sleepers <= 2  # the head and this task, never the whole queue
        assert [name for name, _ in admitted] == ["a", "b", "c", "d"]
        assert [t for _, t in admitted] == pytest.approx([2.0, 2.2, 2.4, 2.6])
        stats = limiter.statistics()
        assert (stats.pauses, stats.paused_until) == (1, 2.0)

    async def test_pause_blocks_newcomers_when_nobody_waits(self) -> None:
        """A pause on an idle limiter makes the next request wait until its end, without a burst."""
        clock = VirtualClock(10.0)
        limiter = AsyncRateLimiter(RateLimit(requests=5, period=1.0, burst=3), clock=clock)
        limiter.pause(3.0)
        with pytest.raises(anyio.WouldBlock):
            limiter.acquire_nowait()
        async with clock.autojump():
            times = await admission_times(limiter, clock, 3)
        assert times == pytest.approx([13.0, 13.2, 13.4])

    async def test_pause_changes_nothing_when_schedule_is_already_later(self) -> None:
        """A pause that ends before the already-booked schedule is a no-op."""
        clock = VirtualClock()
        limiter = AsyncRateLimiter(FIVE_PER_SECOND, clock=clock)
        limiter.pause_until(5.0)
        tat = limiter.statistics().tat
        limiter.pause_until(1.0)
        limiter.pause(-3.0)
        stats = limiter.statistics()
        assert (stats.tat, stats.pauses, stats.paused_until) == (tat, 1, 5.0)

    async def test_pause_raises_when_nan(self) -> None:
        """A NaN deadline is refused."""
        limiter = AsyncRateLimiter(FIVE_PER_SECOND, clock=VirtualClock())
        with pytest.raises(ValueError, match="NaN"):
            limiter.pause_until(math.nan)


@pytest.mark.anyio
class TestDeadlines:
    async def test_waiter_fails_at_once_when_it_certainly_cannot_be_admitted(self) -> None:
        """Behind 5 waiters at 5/s, a 0.5 s timeout cannot be met: APITimeoutError, no wait."""
        clock = VirtualClock()
        limiter = AsyncRateLimiter(FIVE_PER_SECOND, clock=clock)
        admitted: list[tuple[str, float]] = []
        async with clock.autojump(), anyio.create_task_group() as tg:
            limiter.acquire_nowait()
            await start_waiters(tg, limiter, clock, list("abcde"), admitted)
            before = clock.now()
            with pytest.raises(APITimeoutError, match="no rate-limit slot before"):
                await limiter.acquire(timeout=0.5)
            assert clock.now() == before
        assert [name for name, _ in admitted] == list("abcde")
        assert limiter.statistics().timed_out == 1

    async def test_waiter_is_woken_to_fail_at_its_deadline_and_fifo_holds(self) -> None:
        """A waiter whose deadline passes in line fails then; the ones behind keep their slots."""
        clock = VirtualClock()
        limiter = AsyncRateLimiter(FIVE_PER_SECOND, clock=clock)
        events: list[tuple[str, str, float]] = []

        async def waiter(name: str, timeout: float | None) -> None:
            try:
                await limiter.acquire(timeout=timeout)
            except APITimeoutError:
                events.append((name, "timed out", clock.now()))
            else:
                events.append((name, "admitted", clock.now()))

        async with anyio.create_task_group() as tg:  # time moves only by advance()
            limiter.acquire_nowait()  # next slot at 0.2
            tg.start_soon(waiter, "a", 0.25)  # gets 0.2
            await anyio.wait_all_tasks_blocked()
            tg.start_soon(waiter, "b", 0.35)  # could pass if "a" dropped out; its slot is 0.4
            await anyio.wait_all_tasks_blocked()
            tg.start_soon(waiter, "c", None)
            await anyio.wait_all_tasks_blocked()
            while clock.next_deadline is not None:
                clock.advance(clock.next_deadline - clock.now())
                await anyio.wait_all_tasks_blocked()
        assert events == [
            ("a", "admitted", pytest.approx(0.2)),
            ("b", "timed out", pytest.approx(0.35)),
            ("c", "admitted", pytest.approx(0.4)),
        ]

    async def test_pause_past_the_deadlines_fails_waiters_at_once_with_rate_limit_error(
        self,
    ) -> None:
        """A server pause longer than the waiters' deadlines wakes them to fail at once."""
        clock = VirtualClock()
        limiter = AsyncRateLimiter(FIVE_PER_SECOND, clock=clock)
        failures: list[tuple[float, float | None]] = []
        admitted: list[float] = []

        async def waiter(timeout: float | None) -> None:
            try:
                await limiter.acquire(timeout=timeout)
            except RateLimitError as exc:
                failures.append((clock.now(), exc.retry_after))
            else:
                admitted.append(clock.now())

        async with anyio.create_task_group() as tg:  # time moves only by advance()
            limiter.acquire_nowait()
            for timeout in (1.0, 2.0, None):
                tg.start_soon(waiter, timeout)
                await anyio.wait_all_tasks_blocked()
            limiter.pause_until(5.0)  # a 429 with Retry-After: 5
            await anyio.wait_all_tasks_blocked()
            assert failures == [(0.0, pytest.approx(5.0))] * 2
            clock.advance(5.0)
        assert admitted == [pytest.approx(5.0)]
        assert limiter.statistics().timed_out == 2

    async def test_timeout_admits_at_once_when_a_slot_is_free(self) -> None:
        """timeout=0 is fine when nothing has to wait."""
        limiter = AsyncRateLimiter(FIVE_PER_SECOND, clock=VirtualClock())
        await limiter.acquire(timeout=0)
        with pytest.raises(APITimeoutError):
            await limiter.acquire(timeout=0)

    async def test_pause_is_cut_to_max_pause(self) -> None:
        """A pause of 100,000 s holds the key for max_pause (60 s by default), no longer."""
        clock = VirtualClock()
        limiter = AsyncRateLimiter(FIVE_PER_SECOND, clock=clock)
        assert limiter.max_pause == 60.0
        limiter.pause(100_000)
        limiter.pause_until(1e12)
        assert limiter.statistics().paused_until == pytest.approx(60.0)
        async with clock.autojump():
            await limiter.acquire()
        assert clock.now() == pytest.approx(60.0)

    def test_invalid_max_pause_is_refused(self) -> None:
        """max_pause must be finite and not negative."""
        with pytest.raises(ValueError, match="max_pause"):
            AsyncRateLimiter(FIVE_PER_SECOND, max_pause=math.inf)


@pytest.mark.anyio
class TestAcquireNowait:
    async def test_acquire_nowait_admits_when_within_burst(self) -> None:
        """acquire_nowait takes the whole burst, then refuses until the next slot."""
        clock = VirtualClock()
        limiter = AsyncRateLimiter(RateLimit(requests=5, period=1.0, burst=2), clock=clock)
        limiter.acquire_nowait()
        limiter.acquire_nowait()
        with pytest.raises(anyio.WouldBlock):
            limiter.acquire_nowait()
        clock.advance(0.2)
        limiter.acquire_nowait()
        assert limiter.statistics().acquired_total == 3

    async def test_acquire_nowait_raises_when_others_are_queued(self) -> None:
        """acquire_nowait never jumps the queue, even when the rate would allow it."""
        clock = VirtualClock()
        limiter = AsyncRateLimiter(FIVE_PER_SECOND, clock=clock)
        limiter.acquire_nowait()
        async with anyio.create_task_group() as tg:
            tg.start_soon(limiter.acquire)
            await anyio.wait_all_tasks_blocked()
            clock.advance(0.2)  # the head's slot is due but it has not run yet
            with pytest.raises(anyio.WouldBlock):
                limiter.acquire_nowait()
        assert limiter.statistics().acquired_total == 2


@pytest.mark.anyio
class TestIntrospection:
    async def test_statistics_reports_counters_when_waiters_were_served(self) -> None:
        """statistics() counts admissions, queued tasks, waiting time and the schedule."""
        clock = VirtualClock()
        limiter = AsyncRateLimiter(FIVE_PER_SECOND, clock=clock)
        async with clock.autojump():
            await admission_times(limiter, clock, 3)  # at 0, 0.2 and 0.4
        stats = limiter.statistics()
        assert stats == LimiterStatistics(
            rate=FIVE_PER_SECOND,
            acquired_total=3,
            waiting=0,
            wait_seconds_total=pytest.approx(0.6),
            pauses=0,
            paused_until=None,
            tat=pytest.approx(0.6),
            next_free_at=pytest.approx(0.6),
        )
        with pytest.raises(AttributeError):
            stats.waiting = 1  # type: ignore[misc]

    async def test_statistics_next_free_is_now_when_fresh(self) -> None:
        """A fresh limiter can admit at once and has no schedule yet."""
        clock = VirtualClock(7.0)
        stats = AsyncRateLimiter(FIVE_PER_SECOND, clock=clock).statistics()
        assert (stats.tat, stats.next_free_at, stats.acquired_total) == (None, 7.0, 0)

    async def test_repr_shows_live_state_when_waiters_queue(self) -> None:
        """The repr shows rate, admissions, queue length, next slot and any pause."""
        clock = VirtualClock()
        limiter = AsyncRateLimiter(FIVE_PER_SECOND, clock=clock)
        assert repr(limiter) == (
            "<AsyncRateLimiter rate=5/1s burst=1, acquired=0, waiting=0, next_free_in=0.000s>"
        )
        limiter.acquire_nowait()
        async with anyio.create_task_group() as tg:
            tg.start_soon(limiter.acquire)
            tg.start_soon(limiter.acquire)
            await anyio.wait_all_tasks_blocked()
            assert repr(limiter) == (
                "<AsyncRateLimiter rate=5/1s burst=1, acquired=1, waiting=2, next_free_in=0.200s>"
            )
            limiter.pause(1.5)
            assert repr(limiter).endswith("waiting=2, next_free_in=1.500s, paused_for=1.500s>")
            tg.cancel_scope.cancel()

    async def test_async_with_acquires_when_entered(self) -> None:
        """``async with limiter:`` takes one slot."""
        limiter = AsyncRateLimiter(FIVE_PER_SECOND, clock=VirtualClock())
        async with limiter:
            assert limiter.statistics().acquired_total == 1


class TestEventLoops:
    def test_limiter_works_when_used_from_successive_event_loops(self, anyio_backend: str) -> None:
        """One limiter keeps its schedule across two separate anyio.run() calls."""
        clock = VirtualClock()
        limiter = AsyncRateLimiter(FIVE_PER_SECOND, clock=clock)
        runs: list[list[float]] = []

        async def run_batch() -> None:
            async with clock.autojump():
                runs.append(await admission_times(limiter, clock, 3))

        anyio.run(run_batch, backend=anyio_backend)
        anyio.run(run_batch, backend=anyio_backend)
        assert runs == [pytest.approx([0.0, 0.2, 0.4]), pytest.approx([0.6, 0.8, 1.0])]


class TestSharedLimiter:
    def test_same_key_shares_one_limiter_when_rates_match(self) -> None:
        """Two clients with the same key get the same limiter, hence one budget."""
        rate = RateLimit()
        first = shared_limiter("key-shared-same", rate)
        assert shared_limiter("key-shared-same", RateLimit(291, 60, 7)) is first

    def test_different_keys_get_separate_limiters_always(self) -> None:
        """Different keys have independent budgets."""
        first = shared_limiter("key-separate-1", FIVE_PER_SECOND)
        second = shared_limiter("key-separate-2", FIVE_PER_SECOND)
        assert first is not second

    def test_shared_limiter_raises_when_rates_conflict(self) -> None:
        """One key has one quota: a second, different rate for it is refused."""
        first = shared_limiter("key-conflict", FIVE_PER_SECOND)
        with pytest.raises(ValueError, match="one key has one quota") as excinfo:
            shared_limiter("key-conflict", RateLimit())
        assert "Pass the same RateLimit" in str(excinfo.value)
        assert "key-conflict" not in str(excinfo.value)
        assert first.rate == FIVE_PER_SECOND

    def test_shared_limiter_raises_when_clocks_conflict(self) -> None:
        """A key's limiter runs on one clock; another explicit clock is refused."""
        clock = VirtualClock()
        first = shared_limiter("key-clock", FIVE_PER_SECOND, clock)
        assert shared_limiter("key-clock", FIVE_PER_SECOND) is first
        assert shared_limiter("key-clock", FIVE_PER_SECOND, clock) is first
        with pytest.raises(ValueError, match="same clock"):
            shared_limiter("key-clock", FIVE_PER_SECOND, VirtualClock())

    def test_same_key_shares_one_limiter_when_each_client_brings_a_real_clock(self) -> None:
        """Separate MonotonicClock instances are one time source, so the key is still shared."""
        first = shared_limiter("key-real-clock", FIVE_PER_SECOND, MonotonicClock())
        assert shared_limiter("key-real-clock", FIVE_PER_SECOND, MonotonicClock()) is first
        with pytest.raises(ValueError, match="same clock"):
            shared_limiter("key-real-clock", FIVE_PER_SECOND, VirtualClock())

    def test_shared_limiter_forgets_limiter_when_unused(self) -> None:
        """Once no client holds a key's limiter, the key can be registered afresh."""
        limiter = shared_limiter("key-forgotten", FIVE_PER_SECOND)
        del limiter
        gc.collect()
        assert shared_limiter("key-forgotten", RateLimit()).rate == RateLimit()

    def test_shared_limiter_raises_when_key_empty(self) -> None:
        """An empty key is a configuration error."""
        with pytest.raises(ValueError, match="empty"):
            shared_limiter("", RateLimit())

    def test_key_never_appears_in_repr_when_shared(self) -> None:
        """Reprs and statistics show the key's fingerprint, never the key."""
        key = "sk_live_0123456789abcdef-secret"
        limiter = shared_limiter(key, FIVE_PER_SECOND, VirtualClock())
        text = repr(limiter) + repr(limiter.statistics())
        assert key not in text
        assert "secret" not in text
        assert f"key=sha256:{key_fingerprint(key)}" in repr(limiter)

    def test_key_fingerprint_is_short_sha256_always(self) -> None:
        """The fingerprint is the first 16 hex digits of the key's sha256."""
        key = "sk_live_abc"
        assert key_fingerprint(key) == hashlib.sha256(key.encode()).hexdigest()[:16]
        assert key_fingerprint(key) != key_fingerprint("sk_live_abd")


# Property: random arrivals and cancellations against a small quota.

_TICK = 0.05  # arrival and cancellation times are multiples of 50 ms, so ties are common
_DEADLOCK_AFTER_S = 1000.0  # virtual; every scenario finishes within 4 + 60 * 0.2 seconds


@st.composite
def _scenarios(draw: st.DrawFn) -> tuple[int, list[float], list[float | None]]:
    """A burst, per-task arrival times, and per-task cancellation times (or None)."""
    burst = draw(st.integers(min_value=1, max_value=3))
    count = draw(st.integers(min_value=20, max_value=60))
    arrivals = draw(st.lists(st.integers(0, 80), min_size=count, max_size=count))
    delays = draw(
        st.lists(st.none() | st.integers(0, 40), min_size=count, max_size=count),
    )
    return (
        burst,
        [tick * _TICK for tick in arrivals],
        [None if d is None else (a + d) * _TICK for a, d in zip(arrivals, delays, strict=True)],
    )


@pytest.mark.anyio
class TestProperties:
    @settings(
        max_examples=60,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(scenario=_scenarios())
    async def test_gcra_fifo_and_cancellation_hold_when_arrivals_are_random(
        self, scenario: tuple[int, list[float], list[float | None]]
    ) -> None:
        """Random arrivals and cancellations never break the window bound, FIFO order or quota."""
        burst, arrivals, cancel_at = scenario
        rate = RateLimit(requests=5, period=1.0, burst=burst)
        clock = VirtualClock()
        limiter = AsyncRateLimiter(rate, clock=clock)
        queued: list[int] = []
        admitted: list[tuple[int, float]] = []
        cancelled: set[int] = set()
        scopes: dict[int, anyio.CancelScope] = {}
        cancel_requested: set[int] = set()

        async def waiter(index: int) -> None:
            await clock.sleep(arrivals[index])
            with anyio.CancelScope() as scope:
                scopes[index] = scope
                if index in cancel_requested:
                    scope.cancel()
                queued.append(index)
                await limiter.acquire()
                admitted.append((index, clock.now()))
            if scope.cancelled_caught:
                cancelled.add(index)

        async def canceller(index: int, at: float) -> None:
            await clock.sleep(at)
            cancel_requested.add(index)
            if index in scopes:
                scopes[index].cancel()

        stuck: list[str] = []

        async def watchdog(scope: anyio.CancelScope) -> None:
            await clock.sleep(_DEADLOCK_AFTER_S)  # only reached if everybody else is stuck
            stuck.append(repr(limiter))
            scope.cancel()

        with anyio.fail_after(10):  # real-time guard against a livelock
            async with clock.autojump(), anyio.create_task_group() as outer:
                outer.start_soon(watchdog, outer.cancel_scope)
                async with anyio.create_task_group() as tg:
                    for index, at in enumerate(cancel_at):
                        tg.start_soon(waiter, index)
                        if at is not None:
                            tg.start_soon(canceller, index, at)
                outer.cancel_scope.cancel()
        assert not stuck, f"waiters stuck: {stuck}"

        admitted_at = dict(admitted)
        stayed = [index for index in queued if index not in cancelled]  # arrival order
        # Cancelled waiters were never admitted, consumed nothing, and everybody else got in.
        assert cancelled.isdisjoint(admitted_at)
        assert sorted(stayed) == sorted(admitted_at)
        assert sorted(stayed + sorted(cancelled)) == list(range(len(arrivals)))
        stats = limiter.statistics()
        assert (stats.acquired_total, stats.waiting) == (len(admitted), 0)
        # The GCRA bound on every rolling window.
        assert max_in_any_window(list(admitted_at.values()), rate.period) <= rate.max_in_window()
        # FIFO and work-conserving: in arrival order, each waiter that stayed is admitted at the
        # earliest time GCRA allows and no earlier than the one before it, exactly as if the
        # cancelled waiters had never come. (Tasks admitted at the same instant may *return* from
        # acquire() in any order, so order is checked on admission times.)
        interval = rate.emission_interval
        tat: float | None = None
        previous = -math.inf
        for index in stayed:
            allowed = -math.inf if tat is None else tat - (burst - 1) * interval
            expected = max(arrivals[index], previous, allowed)
            assert admitted_at[index] == pytest.approx(expected, abs=EPS)
            tat = (expected if tat is None else max(tat, expected)) + interval
            previous = expected


class TestUnderQuota:
    @pytest.mark.parametrize("quota", [2, 10, 300, 600, 1200, 6000])
    def test_client_rate_stays_under_the_server_quota(self, quota: int) -> None:
        """under_quota keeps a reserve: at most quota - max(1, 1 %) in any window, burst <= 10."""
        rate = RateLimit.under_quota(quota)
        reserve = max(1, -(-quota // 100))
        assert rate.max_in_window() == quota - reserve
        assert 1 <= rate.burst <= 10

    def test_reserve_comes_out_of_the_burst_first(self) -> None:
        """The reserve shrinks the burst, so a late first request cannot push later ones over."""
        assert (RateLimit.under_quota(300).burst, RateLimit.under_quota(300).requests) == (7, 291)

    def test_a_quota_of_one_keeps_no_reserve(self) -> None:
        """With one request per period there is nothing to spare: one, evenly spaced."""
        assert RateLimit.under_quota(1) == RateLimit(requests=1, period=60.0, burst=1)

    def test_invalid_margin_is_refused(self) -> None:
        """A margin outside [0, 1) is a clear error."""
        with pytest.raises(ValueError, match="margin"):
            RateLimit.under_quota(300, margin=1.5)
