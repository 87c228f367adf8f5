"""4. Pagination: reading 10,000 contacts at 50 ms per page, sequentially vs with concurrent prefetch."""

from __future__ import annotations

import json
import math
import time
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any

import anyio
import httpx

from getsales_async import AsyncGetSales, RateLimit
from getsales_async.testing import FaultConfig, GetSalesEmulator

from ._harness import BenchmarkError, Row, Section, Sizes, contact, verdict

__all__ = ["run"]

KEY = "bench-pagination-key"
BASE_URL = "http://emulator"
CONCURRENCY = 8
PAGE_SIZE = 100  # the API's maximum, the SDK's default
# Far above the request rate, so only the emulated latency and the CPU set the pace.
UNLIMITED = RateLimit.per_second(100_000, burst=100)
TARGET_SPEEDUP = 4.0

METHOD = """\
One in-process emulator (`httpx.ASGITransport`), no quota, holding N contacts (seeded through
its API); every search request waits 50 ms of real time first (`FaultConfig(latency=0.05,
only_paths=["searchLeads"])`), the round trip of a distant API. The SDK reads all N with
`async for lead in client.leads.search()` (pages of 100), once with `concurrency=1`
(**baseline**) and once with `concurrency=8`, on the real clock, after one untimed first-page
read that warms imports and caches for both; each figure is the wall time
(time.perf_counter) of the whole loop, and both runs must yield exactly N contacts. **Ratio =
sequential / concurrent.** The latency-only lower bounds (pages x 50 ms sequentially; the first
page, then the rest 8 at a time concurrently) are shown for reference: the rest is CPU (the emulator
filtering and rendering, the SDK parsing 100 models per page), which one event loop cannot
overlap. To tell the two apart, the emulator's own CPU per page is measured by calling its app
directly for every page (`time.process_time()`); the SDK's is the rest."""


async def _seed(emulator: GetSalesEmulator, rows: int) -> None:
    headers = {"Authorization": f"Bearer {KEY}"}
    async with httpx.AsyncClient(
        base_url=BASE_URL, headers=headers, transport=emulator.transport()
    ) as http:
        created = await http.post("/leads/api/lists", json={"name": "bench pagination"})
        created.raise_for_status()
        list_uuid = created.json()["uuid"]
        for i in range(rows):
            response = await http.post(
                "/leads/api/leads/upsert", json={"list_uuid": list_uuid, "lead": contact(i)}
            )
            response.raise_for_status()


async def _read_all(client: AsyncGetSales, concurrency: int) -> tuple[float, float, int]:
    """Wall time, CPU time and number of contacts of one full read."""
    started, cpu = time.perf_counter(), time.process_time()
    count = 0
    async for _ in client.leads.search(page_size=PAGE_SIZE, concurrency=concurrency):
        count += 1
    return time.perf_counter() - started, time.process_time() - cpu, count


async def _emulator_cpu(emulator: GetSalesEmulator, rows: int) -> float:
    """CPU seconds the emulator alone spends answering every page (its app called directly)."""
    statuses: list[int] = []

    async def page(offset: int) -> None:
        body = json.dumps({"limit": PAGE_SIZE, "offset": offset}).encode()
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": "/leads/api/leads/search",
            "raw_path": b"/leads/api/leads/search",
            "query_string": b"",
            "root_path": "",
            "headers": [
                (b"host", b"emulator"),
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"authorization", f"Bearer {KEY}".encode()),
            ],
            "client": ("127.0.0.1", 50000),
            "server": ("emulator", 80),
        }

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start":
                statuses.append(message["status"])

        await emulator.app(scope, receive, send)

    cpu = time.process_time()
    async with anyio.create_task_group() as tg:  # at once, so the emulated latency overlaps
        for offset in range(0, rows, PAGE_SIZE):
            tg.start_soon(page, offset)
    spent = time.process_time() - cpu
    if set(statuses) != {200}:
        raise BenchmarkError(f"direct searches answered {sorted(set(statuses))}")
    return spent


async def run(sizes: Sizes, plots: Path) -> Section:
    """Read every contact twice, sequentially and prefetching; see :data:`METHOD`."""
    rows, latency = sizes.pagination_rows, sizes.pagination_latency_s
    emulator = GetSalesEmulator(
        api_keys={KEY: 1},
        quota=None,
        faults=FaultConfig(latency=latency, only_paths=["searchLeads"]),
    )
    seed_started = time.perf_counter()
    await _seed(emulator, rows)
    seed_s = time.perf_counter() - seed_started
    async with AsyncGetSales(
        api_key=KEY, base_url=BASE_URL, transport=emulator.transport(), rate_limit=UNLIMITED
    ) as client:
        await client.leads.search(page_size=PAGE_SIZE)  # untimed: imports and caches warm for both
        sequential_s, sequential_cpu, sequential_n = await _read_all(client, 1)
        concurrent_s, concurrent_cpu, concurrent_n = await _read_all(client, CONCURRENCY)
    emulator_cpu = await _emulator_cpu(emulator, rows)
    if sequential_n != rows or concurrent_n != rows:
        raise BenchmarkError(
            f"read {sequential_n} and {concurrent_n} contacts, expected {rows} both times"
        )
    pages = math.ceil(rows / PAGE_SIZE)
    bound_sequential = pages * latency
    bound_concurrent = (1 + math.ceil((pages - 1) / CONCURRENCY)) * latency
    speedup = sequential_s / concurrent_s
    cpu_ms = {
        "all": sequential_cpu / pages * 1000,
        "emulator": emulator_cpu / pages * 1000,
    }
    # a read cannot take less than its CPU time (the smaller of the two runs') or the latency bound
    ceiling = sequential_s / max(min(sequential_cpu, concurrent_cpu), bound_concurrent)
    return Section(
        key="pagination",
        title="4. Pagination",
        method=METHOD,
        rows=[
            Row(
                benchmark=f"4. Pagination: {rows:,} contacts, {latency * 1000:.0f} ms per page, "
                f"concurrency {CONCURRENCY} vs 1",
                target=f"≥ {TARGET_SPEEDUP:g}x faster",
                measured=f"concurrency {CONCURRENCY}: {concurrent_s:.2f} s",
                baseline=f"sequential: {sequential_s:.2f} s",
                ratio=f"{speedup:.1f}x",
                verdict=verdict(speedup >= TARGET_SPEEDUP),
            )
        ],
        details=[
            f"{pages} pages of {PAGE_SIZE}. Latency-only lower bounds: sequential "
            f"{bound_sequential:.2f} s, concurrency {CONCURRENCY} {bound_concurrent:.2f} s "
            f"(at most {bound_sequential / bound_concurrent:.1f}x apart).",
            f"CPU per page (one event loop runs the emulator and the client): "
            f"{cpu_ms['all']:.1f} ms, of which the emulator alone {cpu_ms['emulator']:.1f} ms "
            f"(its app called directly) and the SDK + httpx {cpu_ms['all'] - cpu_ms['emulator']:.1f} "
            f"ms. CPU of the whole read: sequential {sequential_cpu:.2f} s, concurrent "
            f"{concurrent_cpu:.2f} s.",
            f"Concurrent: {concurrent_s:.2f} s against a CPU time of {concurrent_cpu:.2f} s and a "
            f"latency bound of {bound_concurrent:.2f} s. The prefetch keeps {CONCURRENCY} requests "
            f"in flight, starting the next as soon as one answers, and hands pages out in order. "
            f"The emulator's CPU shares the client's event loop, so when {CONCURRENCY} pages wake "
            f"from their 50 ms together their CPU work queues up and they finish together; the "
            f"next {CONCURRENCY} then wait out their latency together, so CPU and latency overlap "
            f"only partly (a remote server's CPU would not queue on the client). "
            f"No prefetching could beat sequential time / max(the smaller CPU time of "
            f"the two runs, latency bound) = "
            f"{ceiling:.1f}x here. ",
            f"Seeding {rows:,} contacts took {seed_s:.1f} s.",
        ],
        data={
            "rows": rows,
            "pages": pages,
            "latency_s": latency,
            "sequential_s": sequential_s,
            "concurrent_s": concurrent_s,
            "speedup": speedup,
            "bound_sequential_s": bound_sequential,
            "bound_concurrent_s": bound_concurrent,
            "cpu_per_page_ms": cpu_ms["all"],
            "emulator_cpu_per_page_ms": cpu_ms["emulator"],
            "ceiling": ceiling,
        },
    )
