"""2. Against what users write today: concurrent httpx workers that sleep 15 s on a 429, vs the SDK."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import anyio
import httpx

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

__all__ = ["naive_import", "run"]

NAIVE_KEY = "bench-naive-key"
SDK_KEY = "bench-naive-sdk-key"
BURST = 10
WORKERS = 8  # the naive script's workers, and the SDK's bulk_upsert concurrency
SLEEP_ON_429_S = 15.0  # the public-script pattern: sleep 15 s, then try again
QUOTA_WINDOW_S = 60.0
MAX_ATTEMPTS_PER_ROW = 200  # the naive loop is bounded: it gives up on a row after this many
TARGET_SPEEDUP = 3.0
PLOT = "naive-vs-sdk.png"

METHOD = """\
Both imports send the same N contacts to a fresh emulator process (uvicorn on 127.0.0.1, real
HTTP) whose quota is 600 requests per rolling minute (GCRA, burst 10). **Baseline: the script
users write today**: `httpx.AsyncClient` with 8 concurrent workers and no limiter; each posts one
upsert per row and, on a 429, sleeps 15 s and tries the row again (the pattern of the public
GetSales scripts). **SDK**: `client.leads.bulk_upsert(rows, concurrency=8)` with
`rate_limit=RateLimit.under_quota(600, 60, burst=10)`. **Ratio = baseline wall time / SDK wall
time**; 429s are counted in each emulator's request log. The full run uses the real values
(15 s sleep, 60 s window) with a small N, so it fits the time budget; the smoke run divides both
the sleep and the quota window by 30 (and nothing else), which keeps the shape of the contest.
The plot bins each emulator's log per second."""


async def naive_import(
    base_url: str,
    key: str,
    list_uuid: str,
    rows: Iterator[dict[str, str]],
    *,
    workers: int = WORKERS,
    sleep_on_429: float = SLEEP_ON_429_S,
) -> tuple[int, int]:
    """The usual script: ``workers`` tasks post upserts; a 429 means sleep, then the same row again.

    Returns:
        ``(rows imported, 429 answers seen)``.
    """
    imported = 0
    rate_limited = 0
    headers = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=30.0) as http:

        async def worker() -> None:
            nonlocal imported, rate_limited
            for row in rows:  # one shared iterator: each row goes to exactly one worker
                for _ in range(MAX_ATTEMPTS_PER_ROW):
                    response = await http.post(
                        "/leads/api/leads/upsert", json={"list_uuid": list_uuid, "lead": row}
                    )
                    if response.status_code == 429:
                        rate_limited += 1
                        await anyio.sleep(sleep_on_429)
                        continue
                    response.raise_for_status()
                    imported += 1
                    break
                else:
                    raise BenchmarkError(f"naive script gave up after {MAX_ATTEMPTS_PER_ROW} tries")

        async with anyio.create_task_group() as tg:
            for _ in range(workers):
                tg.start_soon(worker)
    return imported, rate_limited


async def _create_list(base_url: str, key: str) -> str:
    async with httpx.AsyncClient(
        base_url=base_url, headers={"Authorization": f"Bearer {key}"}
    ) as http:
        response = await http.post("/leads/api/lists", json={"name": "bench naive"})
        response.raise_for_status()
        uuid: str = response.json()["uuid"]
        return uuid


async def run(sizes: Sizes, plots: Path) -> Section:
    """Time the naive script and the SDK on the same import; see :data:`METHOD`."""
    rows, quota, scale = sizes.naive_rows, sizes.naive_quota_per_min, sizes.naive_time_scale
    window, sleep_s = QUOTA_WINDOW_S * scale, SLEEP_ON_429_S * scale

    def emulator_for(key: str) -> EmulatorProcess:
        return EmulatorProcess(api_keys={key: 1}, quota=quota, period=window, burst=BURST, log=True)

    with emulator_for(SDK_KEY) as emulator:
        rate = RateLimit.under_quota(quota, window, burst=BURST)
        async with AsyncGetSales(api_key=SDK_KEY, base_url=emulator.url, rate_limit=rate) as client:
            target = await client.lists.create(name="bench naive (SDK)")
            sdk_started = time.monotonic()
            summary = await client.leads.bulk_upsert(
                (contact(i) for i in range(rows)), list_uuid=uuid_of(target), concurrency=WORKERS
            )
            sdk_s = time.monotonic() - sdk_started
        sdk_log = emulator.stop()
    if summary.created != rows or summary.failed:
        raise BenchmarkError(f"SDK import incomplete: {summary.created} of {rows} created")

    with emulator_for(NAIVE_KEY) as emulator:
        list_uuid = await _create_list(emulator.url, NAIVE_KEY)
        naive_started = time.monotonic()
        imported, _ = await naive_import(
            emulator.url,
            NAIVE_KEY,
            list_uuid,
            (contact(i) for i in range(rows)),
            sleep_on_429=sleep_s,
        )
        naive_s = time.monotonic() - naive_started
        naive_log = emulator.stop()
    if imported != rows:
        raise BenchmarkError(f"naive import incomplete: {imported} of {rows}")

    sdk_429 = sum(1 for _, s in sdk_log if s == 429)
    naive_429 = sum(1 for _, s in naive_log if s == 429)
    speedup = naive_s / sdk_s
    scaled = "" if scale == 1.0 else f" (time scaled x{scale:.3g})"
    per_window = f"{quota}/min" if window == 60.0 else f"{quota} per {window:g} s"

    width = 1.0 if scale == 1.0 else max(scale, 1 / 8)

    def panel(
        name: str, log: list[tuple[float, int | None]], start: float, seconds: float
    ) -> Panel:
        return Panel(
            f"{name}: {seconds:.1f} s, 429s: {sum(1 for _, s in log if s == 429)}",
            [
                Series("2xx", [t for t, s in log if s is not None and s < 400], "tab:blue"),
                Series("429", [t for t, s in log if s == 429], "tab:red", bars=True),
            ],
            start,
            start + seconds,
            width=width,
            quota_per_s=quota / window,
        )

    plot_rates(
        plots / PLOT,
        f"{rows} rows at {per_window}{scaled}: 8 workers + sleep {sleep_s:g} s on 429 vs the SDK",
        [
            panel(
                "usual script (httpx, 8 workers, sleep on 429)", naive_log, naive_started, naive_s
            ),
            panel("SDK bulk_upsert (concurrency 8)", sdk_log, sdk_started, sdk_s),
        ],
    )
    return Section(
        key="naive",
        title="2. Against what users write today",
        method=METHOD,
        rows=[
            Row(
                benchmark=f"2. vs the usual script: {rows} rows at {per_window}{scaled}, "
                f"sleep {sleep_s:g} s on 429",
                target=f"SDK ≥ {TARGET_SPEEDUP:g}x faster",
                measured=f"SDK {sdk_s:.1f} s, 429s: {sdk_429}",
                baseline=f"script {naive_s:.1f} s, 429s: {naive_429}",
                ratio=f"{speedup:.1f}x",
                verdict=verdict(speedup >= TARGET_SPEEDUP),
            )
        ],
        details=[
            f"Usual script: {naive_s:.1f} s, {len(naive_log)} requests of which {naive_429} "
            f"answered 429 (each followed by a {sleep_s:g} s sleep of that worker).",
            f"SDK: {sdk_s:.1f} s, {len(sdk_log)} requests of which {sdk_429} answered 429; ideal at the quota "
            f"{rows / quota * window:.1f} s. " + first_429(sdk_log, sdk_started, BURST),
        ],
        plots=[PLOT],
        data={
            "rows": rows,
            "quota_per_window": quota,
            "window_s": window,
            "sleep_on_429_s": sleep_s,
            "sdk_s": sdk_s,
            "naive_s": naive_s,
            "speedup": speedup,
            "sdk_429": sdk_429,
            "naive_429": naive_429,
        },
    )
