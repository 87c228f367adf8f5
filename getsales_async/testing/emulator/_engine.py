"""The emulator's background work: timers run in due order, and its clock with ``advance()``.

Every piece of work the API does later (a message being sent, a task running, an enrichment or
export finishing, a webhook retry) is a timer in the state (:meth:`EmulatorState.schedule`).
:func:`run_due` runs the timers due at the clock's current reading, earliest first, including
timers those create that are due too; each sees the time it was due, so the outcome does not
depend on how often the emulator looks. It pauses when a timer queues webhook deliveries, so the
app sends them as of that time (a retry 10 s after a failure is attempted 10 s after it, however
far ``advance()`` jumps). The app calls it before every request and in
:meth:`GetSalesEmulator.advance`.
"""

from __future__ import annotations

from collections.abc import Callable

from getsales_async._clock import Clock

from . import _automation, _data_sources, _enrichment, _exports, _messaging
from ._state import EmulatorState

__all__ = ["MAX_TIMERS_PER_RUN", "EmulatorClock", "run_due"]

MAX_ROUNDS = 10_000
"""Rounds of timers-then-deliveries one :meth:`GetSalesEmulator.run_background` makes at most."""

MAX_TIMERS_PER_RUN = 100_000
"""Timers one run handles at most (a flow whose nodes loop without delay would run forever)."""

Timer = Callable[[EmulatorState, str, float], None]


def _webhook_retry(state: EmulatorState, key: str, at: float) -> None:
    state.outbox.due(key)


TIMERS: dict[str, Timer] = {
    **_messaging.TIMERS,
    **_automation.TIMERS,
    **_enrichment.TIMERS,
    **_exports.TIMERS,
    **_data_sources.TIMERS,
    "webhook_retry": _webhook_retry,
}


def run_due(state: EmulatorState) -> float | None:
    """Run the timers due now, earliest first, until one queues webhook deliveries.

    Returns:
        The time that timer was due (send the deliveries as of then, then call again), or
        ``None`` once every due timer has run.
    """
    now = state.clock_time()
    for _ in range(MAX_TIMERS_PER_RUN):
        due = state.pop_due(now)
        if due is None:
            return None
        at, kind, key = due
        TIMERS[kind](state, key, at)
        if state.outbox.queue:
            return at
    return None


class EmulatorClock:
    """The emulator's clock: the injected clock, plus the time skipped with ``advance()``.

    ``now()`` is the injected clock's reading plus every :meth:`skip`; ``sleep()`` sleeps on
    the injected clock. The quota, timestamps and background work all read this clock.
    """

    def __init__(self, base: Clock) -> None:
        self.base = base
        self.skipped = 0.0

    def now(self) -> float:
        """The injected clock's reading plus the skipped time, in seconds."""
        return self.base.now() + self.skipped

    async def sleep(self, seconds: float) -> None:
        """Sleep on the injected clock."""
        await self.base.sleep(seconds)

    def skip(self, seconds: float) -> None:
        """Move this clock ``seconds`` ahead of the injected one."""
        self.skipped += seconds

    def __repr__(self) -> str:
        return f"<EmulatorClock base={self.base!r} skipped={self.skipped:g}s>"
