"""3. Client overhead: CPU per request through the SDK vs raw httpx vs the emulator alone."""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

import httpx

from getsales_async import AsyncGetSales, RateLimit
from getsales_async.testing import GetSalesEmulator

from ._harness import BenchmarkError, Row, Section, Sizes, verdict

__all__ = ["run"]

KEY = "bench-overhead-key"
BASE_URL = "http://emulator"
# Far above anything this loop can send, so the limiter never waits (but still runs).
UNLIMITED = RateLimit.per_second(1_000_000, burst=1_000)
TARGET_RATIO = 1.5

METHOD = """\
One in-process emulator without a quota, reached through `httpx.ASGITransport` (no sockets). Three
ways to fetch the same list, one request at a time: **SDK**: `await client.lists.get(uuid)` (the
rate limiter with a quota far above the request rate, the retrying transport, the generated
endpoint, parsing into the `List` model); **raw httpx (baseline)**: `httpx.AsyncClient` on the
same transport, `await http.get(f"/leads/api/lists/{uuid}")`, `raise_for_status()`, `.json()`;
**emulator only**: the emulator's ASGI app called directly with a prepared scope, which is the
server's share of both figures. CPU time is `time.process_time()` over the timed requests after a
warm-up, in interleaved rounds (SDK, raw, emulator, repeated) with `gc.collect()` before each; a
figure is the median round's CPU time per request. Nothing is subtracted: **ratio = SDK / raw
httpx**, both including the emulator's cost; the SDK's own cost is shown as SDK - raw httpx."""


def _scope(path: str) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"emulator"),
            (b"accept", b"application/json"),
            (b"authorization", f"Bearer {KEY}".encode()),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("emulator", 80),
    }


async def run(sizes: Sizes, plots: Path) -> Section:
    """Measure the three variants; see :data:`METHOD`."""
    emulator = GetSalesEmulator(api_keys={KEY: 1}, quota=None)
    headers = {"Authorization": f"Bearer {KEY}", "Accept": "application/json"}
    async with (
        httpx.AsyncClient(
            base_url=BASE_URL, headers=headers, transport=emulator.transport()
        ) as http,
        AsyncGetSales(
            api_key=KEY, base_url=BASE_URL, transport=emulator.transport(), rate_limit=UNLIMITED
        ) as client,
    ):
        created = await http.post("/leads/api/lists", json={"name": "bench overhead"})
        created.raise_for_status()
        uuid = created.json()["uuid"]
        path = f"/leads/api/lists/{uuid}"
        scope = _scope(path)
        status: list[int] = []

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status.append(message["status"])

        async def via_sdk() -> None:
            found = await client.lists.get(uuid)
            if found.uuid != uuid:
                raise BenchmarkError("the SDK returned another list")

        async def via_httpx() -> None:
            response = await http.get(path)
            response.raise_for_status()
            if response.json()["uuid"] != uuid:
                raise BenchmarkError("raw httpx got another list")

        async def via_app() -> None:
            await emulator.app(scope, receive, send)

        variants: dict[str, Callable[[], Awaitable[None]]] = {
            "sdk": via_sdk,
            "httpx": via_httpx,
            "emulator": via_app,
        }
        for call in variants.values():
            for _ in range(sizes.overhead_warmup):
                await call()
        per_request: dict[str, list[float]] = {name: [] for name in variants}
        for _ in range(sizes.overhead_rounds):
            for name, call in variants.items():
                gc.collect()
                cpu = time.process_time()
                for _ in range(sizes.overhead_requests):
                    await call()
                per_request[name].append((time.process_time() - cpu) / sizes.overhead_requests)
        if set(status) != {200}:
            raise BenchmarkError(f"the emulator answered {sorted(set(status))} to direct calls")

    us = {name: statistics.median(values) * 1e6 for name, values in per_request.items()}
    ratio = us["sdk"] / us["httpx"]
    timed = sizes.overhead_requests * sizes.overhead_rounds
    return Section(
        key="overhead",
        title="3. Client overhead",
        method=METHOD,
        rows=[
            Row(
                benchmark=f"3. Client overhead: CPU per `lists.get`, {timed:,} requests per variant",
                target=f"≤ {TARGET_RATIO:g}x raw httpx",
                measured=f"SDK {us['sdk']:.0f} µs/request",
                baseline=f"raw httpx {us['httpx']:.0f} µs (emulator alone {us['emulator']:.0f} µs)",
                ratio=f"{ratio:.2f}x",
                verdict=verdict(ratio <= TARGET_RATIO),
            )
        ],
        details=[
            f"Median CPU per request over {sizes.overhead_rounds} rounds of "
            f"{sizes.overhead_requests:,}: SDK {us['sdk']:.0f} µs, raw httpx {us['httpx']:.0f} µs, "
            f"emulator alone {us['emulator']:.0f} µs.",
            f"Client side only (emulator's share taken out, for reading, not for the ratio): "
            f"SDK {us['sdk'] - us['emulator']:.0f} µs vs httpx {us['httpx'] - us['emulator']:.0f} µs "
            f"({(us['sdk'] - us['emulator']) / (us['httpx'] - us['emulator']):.2f}x); "
            f"the SDK's own layers cost {us['sdk'] - us['httpx']:.0f} µs per request.",
            "Rounds (µs/request): "
            + "; ".join(
                f"{name} " + ", ".join(f"{v * 1e6:.0f}" for v in values)
                for name, values in per_request.items()
            ),
        ],
        data={
            "requests_per_round": sizes.overhead_requests,
            "rounds": sizes.overhead_rounds,
            "sdk_us": us["sdk"],
            "httpx_us": us["httpx"],
            "emulator_us": us["emulator"],
            "ratio": ratio,
        },
    )
