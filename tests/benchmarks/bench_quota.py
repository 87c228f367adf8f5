"""1. Quota efficiency: a bulk import paced by the SDK at a scaled quota, over real loopback HTTP."""

from __future__ import annotations

import time
from pathlib import Path

from getsales_async import AsyncGetSales, RateLimit

from ._harness import (
    BenchmarkError,
    EmulatorProcess,
    Panel,
    Row,
    Section,
    Series,
    Sizes,
    contact,
    first_429,
    plot_rates,
    uuid_of,
    verdict,
)

__all__ = ["run"]

KEY = "bench-quota-key"
BURST = 10  # as the emulator's and the SDK's defaults
CONCURRENCY = 8  # bulk_upsert's default
TARGET_EFFICIENCY = 0.97
PLOT = "quota-efficiency.png"

METHOD = """\
The emulator runs in its own process, served by uvicorn on 127.0.0.1 (real HTTP), with a quota of
Q requests per rolling minute (GCRA, burst 10: `RateLimit.for_quota(Q, 60, burst=10)`). The SDK is
given the quota with its default 1 % margin (`rate_limit=RateLimit.under_quota(Q, 60.0, burst=10)`,
so rate + burst - 1 = Q - max(1, Q/100))
and imports N generated contacts with `client.leads.bulk_upsert(rows, list_uuid=..., concurrency=8)`
after creating the list. **Efficiency = (N / Q minutes) / measured wall time** of `bulk_upsert`
(time.monotonic around the call); 1.0 means the import used the whole quota and nothing more. The
baseline is that ideal time, N / Q minutes, a property of the quota. **429s** are counted in the
emulator's own request log (every answer it sent), and cross-checked with the client's counter.
The plot bins the emulator's log per second."""


async def run(sizes: Sizes, plots: Path) -> Section:
    """Import ``sizes.quota_rows`` contacts at ``sizes.quota_per_min``; see :data:`METHOD`."""
    rows, quota = sizes.quota_rows, sizes.quota_per_min
    rate = RateLimit.under_quota(quota, 60.0, burst=BURST)
    with EmulatorProcess(api_keys={KEY: 1}, quota=quota, burst=BURST, log=True) as emulator:
        async with AsyncGetSales(api_key=KEY, base_url=emulator.url, rate_limit=rate) as client:
            target = await client.lists.create(name="bench quota efficiency")
            started = time.monotonic()
            summary = await client.leads.bulk_upsert(
                (contact(i) for i in range(rows)),
                list_uuid=uuid_of(target),
                concurrency=CONCURRENCY,
            )
            elapsed = time.monotonic() - started
        log = emulator.stop()
    if summary.created != rows or summary.failed:
        raise BenchmarkError(
            f"import incomplete: {summary.created} created, {summary.failed} failed of {rows}"
        )
    ideal = rows / quota * 60.0
    efficiency = ideal / elapsed
    server_429 = sum(1 for _, status in log if status == 429)
    ok = [t for t, status in log if status is not None and status < 400 and t >= started]
    plot_rates(
        plots / PLOT,
        f"Bulk import of {rows:,} rows at {quota:,}/min over loopback HTTP "
        f"(efficiency {efficiency:.3f}, 429s: {server_429})",
        [
            Panel(
                "SDK bulk_upsert, concurrency 8 (emulator's log, 1 s bins)",
                [
                    Series("2xx answers", ok, "tab:blue"),
                    Series("429 answers", [t for t, s in log if s == 429], "tab:red", bars=True),
                ],
                started,
                started + elapsed,
                quota_per_s=quota / 60.0,
            )
        ],
    )
    met = efficiency >= TARGET_EFFICIENCY and server_429 == 0
    return Section(
        key="quota",
        title="1. Quota efficiency",
        method=METHOD,
        rows=[
            Row(
                benchmark=f"1. Quota efficiency: {rows:,} rows at Q = {quota:,}/min, real HTTP",
                target=f"≥ {TARGET_EFFICIENCY} and 429s: 0",
                measured=f"{efficiency:.3f} ({elapsed:.1f} s), 429s: {server_429}",
                baseline=f"{ideal:.1f} s ideal (N / Q)",
                ratio=f"{efficiency:.3f}",
                verdict=verdict(met),
            )
        ],
        details=[
            f"{len(log)} requests answered by the emulator (1 list creation + {rows:,} upserts + "
            f"retries); {server_429} of them 429 in its log, {summary.rate_limited} 429s seen by the client.",
            f"Mean rate {rows / elapsed:.2f} rows/s against a quota of {quota / 60:.2f}/s. "
            + first_429(log, started, BURST),
        ],
        plots=[PLOT],
        data={
            "rows": rows,
            "quota_per_min": quota,
            "elapsed_s": elapsed,
            "ideal_s": ideal,
            "efficiency": efficiency,
            "server_429": server_429,
            "client_429": summary.rate_limited,
            "requests": len(log),
        },
    )
