"""The GetSales emulator: a stateful, in-memory GetSales API for tests (see ``docs/emulator.md``).

Every operation is answered from stored records; background work (messages, flow steps, file
imports, queued mass actions, enrichment, exports) moves on the emulator's clock; registered
webhooks receive deliveries.

Example::

    from getsales_async import AsyncGetSales
    from getsales_async.testing import GetSalesEmulator

    emulator = GetSalesEmulator()
    async with AsyncGetSales(
        api_key="emulator-key", base_url="http://emulator", transport=emulator.transport()
    ) as client:
        ...
"""

from __future__ import annotations

from ._app import (
    DEFAULT_API_KEY,
    DEFAULT_QUOTA,
    DEFAULT_TEAM_ID,
    IMPLEMENTED_OPERATIONS,
    EmulatorSnapshot,
    GetSalesEmulator,
    RecordedRequest,
)
from ._background import BulkConfig
from ._errors import ConnectionDropped
from ._events import DeliveryAttempt, WebhookDelivery
from ._faults import FaultConfig
from ._server import serve, serve_in_thread
from ._state import EmulatorState, UpsertEvent
from ._timings import EmulatorTimings

__all__ = [
    "DEFAULT_API_KEY",
    "DEFAULT_QUOTA",
    "DEFAULT_TEAM_ID",
    "IMPLEMENTED_OPERATIONS",
    "BulkConfig",
    "ConnectionDropped",
    "DeliveryAttempt",
    "EmulatorSnapshot",
    "EmulatorState",
    "EmulatorTimings",
    "FaultConfig",
    "GetSalesEmulator",
    "RecordedRequest",
    "UpsertEvent",
    "WebhookDelivery",
    "serve",
    "serve_in_thread",
]
