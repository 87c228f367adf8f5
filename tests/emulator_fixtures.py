"""Fixtures and helpers shared by the emulator's resource tests (``tests/test_emulator_*.py``).

Each test gets a fresh emulator on a virtual clock (no quota), an SDK client on it, and a
webhook receiver mounted from the SDK's own :class:`~getsales_async.webhooks.WebhookReceiver`
that every delivery goes to in-process. A test module takes the fixtures with
``from .emulator_fixtures import *`` (so linters see no redefinition) and the helpers by name.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from getsales_async import AsyncGetSales
from getsales_async._limiter import AsyncRateLimiter, RateLimit
from getsales_async.testing import GetSalesEmulator, VirtualClock
from getsales_async.testing.emulator import DEFAULT_API_KEY
from getsales_async.webhooks import Event, WebhookReceiver

__all__ = ["anyio_backend", "client", "clock", "emulator", "raw", "received"]
"""The fixtures (``from .emulator_fixtures import *``); import the helpers by name."""

BASE = "http://emulator"
AUTH = {"Authorization": f"Bearer {DEFAULT_API_KEY}"}
HOOK_SECRET = "hook-secret-0123456789abcdef"
HOOK_URL = f"https://hooks.example/getsales?token={HOOK_SECRET}"
SCHEDULE: dict[str, Any] = {
    "timezone": "UTC",
    "timeblocks": [{"dow": d, "min": 0, "max": 1440} for d in range(7)],
}


class Received:
    """What the receiver got: the typed events, and whether to fail the next deliveries."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.fail_next = 0

    async def __call__(self, event: Event) -> None:
        if self.fail_next:
            self.fail_next -= 1
            raise RuntimeError("receiver down")
        self.events.append(event)

    def names(self) -> list[str]:
        return [e.event_name for e in self.events]


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def clock() -> AsyncIterator[VirtualClock]:
    """A virtual clock that jumps to the next deadline whenever every task waits."""
    clock = VirtualClock()
    async with clock.autojump():
        yield clock


@pytest.fixture
def received() -> Received:
    return Received()


@pytest.fixture
def emulator(clock: VirtualClock, received: Received) -> GetSalesEmulator:
    """An emulator on the virtual clock (no quota) delivering webhooks to the SDK's receiver."""
    receiver = WebhookReceiver(received, secret=HOOK_SECRET)
    return GetSalesEmulator(
        clock=clock, quota=None, webhook_transport=httpx.ASGITransport(app=receiver)
    )


@pytest.fixture
async def client(emulator: GetSalesEmulator, clock: VirtualClock) -> AsyncIterator[AsyncGetSales]:
    """The SDK on the emulator, with its own generous limiter (the quota is not under test)."""
    async with AsyncGetSales(
        api_key=DEFAULT_API_KEY,
        base_url=BASE,
        transport=emulator.transport(),
        clock=clock,
        max_retries=0,
        rate_limit=AsyncRateLimiter(
            RateLimit(requests=60_000, period=60.0, burst=1_000), clock=clock
        ),
    ) as c:
        yield c


@pytest.fixture
async def raw(emulator: GetSalesEmulator) -> AsyncIterator[httpx.AsyncClient]:
    """Plain httpx on the emulator: every answer as sent."""
    async with httpx.AsyncClient(base_url=BASE, transport=emulator.transport(), headers=AUTH) as c:
        yield c


def uuid_of(record: Any) -> str:
    """A record's ``uuid`` as a plain string (fails the test when it has none)."""
    value = record["uuid"] if isinstance(record, dict) else record.uuid
    assert isinstance(value, str) and value, record
    return value
