"""Test helpers for code that uses getsales-async: virtual time and the GetSales emulator.

``VirtualClock`` runs time-dependent code in virtual time, on asyncio or trio.
``GetSalesEmulator`` is an in-memory GetSales API (it needs starlette: the ``emulator`` extra).
"""

from __future__ import annotations

from getsales_async.testing._clock import VirtualClock
from getsales_async.testing.emulator import (
    IMPLEMENTED_OPERATIONS,
    BulkConfig,
    DeliveryAttempt,
    EmulatorState,
    EmulatorTimings,
    FaultConfig,
    GetSalesEmulator,
    RecordedRequest,
    UpsertEvent,
    WebhookDelivery,
)

__all__ = [
    "IMPLEMENTED_OPERATIONS",
    "BulkConfig",
    "DeliveryAttempt",
    "EmulatorState",
    "EmulatorTimings",
    "FaultConfig",
    "GetSalesEmulator",
    "RecordedRequest",
    "UpsertEvent",
    "VirtualClock",
    "WebhookDelivery",
]
