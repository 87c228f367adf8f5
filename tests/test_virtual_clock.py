"""VirtualClock: virtual time driven by advance() or autojump, on asyncio and trio."""

from __future__ import annotations

import math

import anyio
import anyio.lowlevel
import pytest

from getsales_async._clock import Clock
from getsales_async.testing import VirtualClock


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    """Run every async test on both anyio backends."""
    backend: str = request.param
    return backend


class TestConstruction:
    def test_clock_satisfies_protocol_always(self) -> None:
        """A VirtualClock is a Clock."""
        assert isinstance(VirtualClock(), Clock)

    def test_now_is_start_when_created(self) -> None:
        """Time starts at the given start value."""
        assert VirtualClock(12.5).now() == 12.5

    def test_start_raises_when_not_finite(self) -> None:
        """An infinite start time is refused."""
        with pytest.raises(ValueError, match="finite"):
            VirtualClock(math.inf)

    def test_advance_raises_when_negative(self) -> None:
        """Time never goes back."""
        with pytest.raises(ValueError, match="never goes back"):
            VirtualClock().advance(-1.0)

    def test_repr_shows_time_and_sleepers_always(self) -> None:
        """The repr shows the current time and how many tasks sleep."""
        clock = VirtualClock(3.0)
        assert repr(clock) == (
            "VirtualClock(now=3.0, sleepers=0, next_deadline=None, autojump=False)"
        )


@pytest.mark.anyio
class TestAdvance:
    async def test_sleep_returns_when_time_reaches_deadline(self) -> None:
        """A sleeper wakes only once advance() has reached its deadline."""
        clock = VirtualClock()
        woke_at: list[float] = []

        async def sleeper() -> None:
            await clock.sleep(5.0)
            woke_at.append(clock.now())

        async with anyio.create_task_group() as tg:
            tg.start_soon(sleeper)
            await anyio.wait_all_tasks_blocked()
            assert clock.sleepers == 1
            assert clock.next_deadline == 5.0
            clock.advance(4.0)
            await anyio.wait_all_tasks_blocked()
            assert woke_at == []
            clock.advance(1.0)
            await anyio.wait_all_tasks_blocked()
            assert woke_at == [5.0]
        assert clock.sleepers == 0

    async def test_advance_wakes_only_due_sleepers_when_several_wait(self) -> None:
        """advance() wakes the sleepers that are due, in deadline order, and no others."""
        clock = VirtualClock()
        woken: list[float] = []

        async def sleeper(seconds: float) -> None:
            await clock.sleep(seconds)
            woken.append(seconds)

        async with anyio.create_task_group() as tg:
            for seconds in (3.0, 1.0, 2.0):
                tg.start_soon(sleeper, seconds)
            await anyio.wait_all_tasks_blocked()
            clock.advance(2.5)
            await anyio.wait_all_tasks_blocked()
            assert sorted(woken) == [1.0, 2.0]
            clock.advance(0.5)
        assert sorted(woken) == [1.0, 2.0, 3.0]

    async def test_sleep_is_a_checkpoint_when_not_positive(self) -> None:
        """sleep(0) and negative sleeps return at once without registering a sleeper."""
        clock = VirtualClock()
        await clock.sleep(0)
        await clock.sleep(-1.0)
        assert clock.sleepers == 0
        assert clock.now() == 0.0

    async def test_sleep_raises_when_nan(self) -> None:
        """A NaN sleep is a bug in the caller."""
        with pytest.raises(ValueError, match="NaN"):
            await VirtualClock().sleep(math.nan)

    async def test_cancelled_sleep_forgets_sleeper_when_cancelled(self) -> None:
        """A cancelled sleeper leaves no trace on the clock."""
        clock = VirtualClock()
        with anyio.CancelScope() as scope:
            scope.cancel()
            await clock.sleep(10.0)
        assert scope.cancelled_caught
        assert clock.sleepers == 0

        async with anyio.create_task_group() as tg:
            tg.start_soon(clock.sleep, 10.0)
            tg.start_soon(clock.sleep, 20.0)
            await anyio.wait_all_tasks_blocked()
            assert clock.sleepers == 2
            tg.cancel_scope.cancel()
        assert clock.sleepers == 0
        assert clock.next_deadline is None


@pytest.mark.anyio
class TestAutojump:
    async def test_autojump_jumps_to_deadline_when_all_blocked(self) -> None:
        """A long sleep returns at once in real time, at its virtual deadline."""
        clock = VirtualClock()
        async with clock.autojump():
            await clock.sleep(3600.0)
            assert clock.now() == 3600.0
        async with clock.autojump():  # usable again once exited
            await clock.sleep(1.0)
        assert clock.now() == 3601.0

    async def test_autojump_wakes_in_deadline_order_when_several_sleep(self) -> None:
        """Concurrent sleepers wake in deadline order, each at its own deadline."""
        clock = VirtualClock()
        woken: list[tuple[float, float]] = []

        async def sleeper(seconds: float) -> None:
            await clock.sleep(seconds)
            woken.append((seconds, clock.now()))

        async with clock.autojump(), anyio.create_task_group() as tg:
            for seconds in (3.0, 1.0, 2.0, 1.0):
                tg.start_soon(sleeper, seconds)
        assert woken == [(1.0, 1.0), (1.0, 1.0), (2.0, 2.0), (3.0, 3.0)]

    async def test_autojump_waits_for_busy_tasks_when_they_are_runnable(self) -> None:
        """Time does not jump while another task is still running through checkpoints."""
        clock = VirtualClock()
        seen: dict[str, float] = {}

        async def long_sleeper() -> None:
            await clock.sleep(10.0)
            seen["long"] = clock.now()

        async def busy_then_short() -> None:
            for _ in range(50):
                await anyio.lowlevel.checkpoint()
            await clock.sleep(1.0)
            seen["short"] = clock.now()

        async with clock.autojump(), anyio.create_task_group() as tg:
            tg.start_soon(long_sleeper)
            tg.start_soon(busy_then_short)
        assert seen == {"short": 1.0, "long": 10.0}

    async def test_autojump_waits_for_task_group_exit_when_last_child_finishes(self) -> None:
        """Time does not jump while a finished child's task group is still waking its host."""
        clock = VirtualClock()
        async with clock.autojump(), anyio.create_task_group() as outer:
            outer.start_soon(clock.sleep, 1000.0)
            for _ in range(20):
                async with anyio.create_task_group() as inner:
                    inner.start_soon(clock.sleep, 1.0)
            assert clock.now() == 20.0
            outer.cancel_scope.cancel()

    async def test_autojump_stays_idle_when_nobody_sleeps(self) -> None:
        """Without sleepers the autojump task blocks instead of spinning, and time stands still."""
        clock = VirtualClock()
        async with clock.autojump():
            await anyio.wait_all_tasks_blocked()  # returns only if the jumper is blocked too
            assert clock.now() == 0.0
            await clock.sleep(2.0)  # a sleeper registered later is still jumped to
            assert clock.now() == 2.0

    async def test_autojump_skips_infinite_sleep_when_others_are_due(self) -> None:
        """An infinite sleep never moves time to infinity; finite deadlines still get jumped."""
        clock = VirtualClock()
        async with clock.autojump(), anyio.create_task_group() as tg:
            tg.start_soon(clock.sleep, math.inf)
            await clock.sleep(5.0)
            assert clock.now() == 5.0
            tg.cancel_scope.cancel()
        assert clock.now() == 5.0

    async def test_autojump_reraises_body_error_when_body_fails(self) -> None:
        """An error in the body comes out as itself, not wrapped in an exception group."""
        clock = VirtualClock()
        with pytest.raises(LookupError, match="boom"):
            async with clock.autojump():
                await clock.sleep(1.0)
                raise LookupError("boom")
        assert repr(clock).endswith("autojump=False)")

    async def test_autojump_raises_when_already_active(self) -> None:
        """Entering autojump twice on one clock is refused."""
        clock = VirtualClock()
        async with clock.autojump():
            with pytest.raises(RuntimeError, match="already active"):
                async with clock.autojump():
                    pass  # pragma: no cover

    async def test_advance_still_works_when_autojump_is_active(self) -> None:
        """advance() and autojump compose: advancing past a deadline wakes the sleeper."""
        clock = VirtualClock()
        async with clock.autojump():
            clock.advance(4.0)
            await clock.sleep(1.0)
            assert clock.now() == 5.0
