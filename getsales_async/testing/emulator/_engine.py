"""The emulator's background work: timers run in due order, and its clock with ``advance()``.

Every piece of work the API does later (a message being sent, a task running, an enrichment or
export finishing, a webhook retry) is a timer in the state (:meth:`EmulatorState.schedule`).
:func:`run_due` runs every timer due at the clock's current reading, earliest first, including
timers those create that are due too; each sees the time it was due, so the outcome does not
depend on how often the emulator looks. The app calls it before every request and in
:meth:`GetSalesEmulator.advance`.
"""

from __future__ import annotations

from collections.abc import Callable

from getsales_async._clock import Clock

from . import _automation, _data_sources, _enrichment, _exports, _messaging
from ._state import EmulatorState

__all__ = ["MAX_TIMERS_PER_RUN", "EmulatorClock", "run_due"]

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


def run_due(state: EmulatorState) -> int:
    """Run every timer due now, earliest first; returns how many ran."""
    now = state.clock_time()
    ran = 0
    while ran < MAX_TIMERS_PER_RUN:
        due = state.pop_due(now)
        if due is None:
            break
        at, kind, key = due
        TIMERS[kind](state, key, at)
        ran += 1
    return ran


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
