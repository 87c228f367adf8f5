"""How long the emulator's background work takes, on its clock (:class:`EmulatorTimings`)."""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

__all__ = ["EmulatorTimings"]


@dataclass(frozen=True)
class EmulatorTimings:
    """Delays of the work the API does in the background, in seconds of the emulator's clock.

    Nothing here waits in real time: state moves on when the emulator's clock passes these
    delays, which a test drives with :meth:`GetSalesEmulator.advance` (or by advancing the
    ``VirtualClock`` it shares with the emulator).

    Args:
        message_pickup: a LinkedIn message goes ``new`` → ``in_progress`` this long after it was
            queued.
        message_send: ... and ``in_progress`` → ``done`` (with ``sent_at``) this long after that.
        email_send: an e-mail goes ``waiting`` → ``sent`` this long after it was queued.
        enrichment_pickup: an enrichment queue entry goes ``waiting`` → ``processing``.
        enrichment_run: ... and ``processing`` → ``done`` (the contact or company is updated).
        export_run: a CSV export goes ``queued`` → ``done`` (its file can be downloaded).
        data_source_pickup: a LinkedIn import goes ``not_started`` → ``in_progress``.
        data_source_run: ... and ``in_progress`` → ``completed``.
        webhook_retry_delays: after a failed delivery, wait these delays before each retry;
            the delivery is given up after ``len(webhook_retry_delays) + 1`` attempts.
        webhook_timeout: seconds (real time) a delivery waits for the receiver's answer.

    Example::

        GetSalesEmulator(timings=EmulatorTimings(message_pickup=0.0, message_send=1.0))
    """

    message_pickup: float = 10.0
    message_send: float = 20.0
    email_send: float = 30.0
    enrichment_pickup: float = 30.0
    enrichment_run: float = 60.0
    export_run: float = 5.0
    data_source_pickup: float = 30.0
    data_source_run: float = 300.0
    webhook_retry_delays: tuple[float, ...] = (10.0, 60.0, 300.0)
    webhook_timeout: float = 5.0

    def __post_init__(self) -> None:
        problems = []
        for item in fields(self):
            value = getattr(self, item.name)
            values = value if isinstance(value, tuple) else (value,)
            if not all(_seconds(v) for v in values):
                problems.append(f"{item.name} must be finite seconds >= 0, got {value!r}")
        if not self.webhook_timeout > 0:
            problems.append(f"webhook_timeout must be > 0, got {self.webhook_timeout!r}")
        if len(self.webhook_retry_delays) > 20:
            problems.append("webhook_retry_delays allows at most 20 retries")
        if problems:
            message = f"invalid EmulatorTimings: {'; '.join(problems)}"
            raise ValueError(message)


def _seconds(value: object) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value >= 0
    )
