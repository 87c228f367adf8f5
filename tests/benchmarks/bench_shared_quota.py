"""6. Shared quota: four processes import through one ``RedisRateLimit`` against one emulator.

``python -m tests.benchmarks.bench_shared_quota worker URL REDIS_URL KEY LIST START FIRST LAST QUOTA``
is one worker process: at ``START`` (``time.monotonic()``, which every process of the machine
shares) it imports contacts ``FIRST`` to ``LAST - 1`` and prints one JSON line with its counts and
every answer it received.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import anyio
import httpx

from getsales_async import AsyncGetSales, RateLimit, RedisRateLimit

from ._harness import (
    BenchmarkError,
    EmulatorProcess,
    Panel,
    RecordingTransport,
    Row,
    Section,
    Series,
    Sizes,
    chunks,
    contact,
    first_429,
    plot_rates,
    run_workers,
    uuid_of,
    verdict,
)

__all__ = ["run", "worker"]

KEY = "bench-shared-key"
BURST = 10
CONCURRENCY = 4  # per worker process
START_DELAY_S = 3.0  # time for the workers' interpreters to start before the common start
WORKER_TIMEOUT_S = 900.0
TARGET_EFFICIENCY = 0.97  # the target of benchmark 1, applied to the shared budget
PLOT = "shared-quota-redis.png"
WORKER_BIN_S = 5.0  # per-worker rates are bursty; wider bins show the share
COLORS = ("tab:green", "tab:orange", "tab:purple", "tab:brown", "tab:pink", "tab:olive")

METHOD = """\
A throwaway `redis-server` (no persistence) and one emulator process (uvicorn on 127.0.0.1) with a
quota of Q requests per rolling minute (GCRA, burst 10) for one API key. The parent creates the
list; then 4 worker processes start together (a common `time.monotonic()` instant) and each
imports its quarter of the N contacts with `bulk_upsert(concurrency=4)` through
`AsyncGetSales(rate_limit=RedisRateLimit(url=..., rate=RateLimit.under_quota(Q, 60, burst=10),
on_unavailable="fail"))`, i.e. one shared budget. **Combined efficiency = (N / Q minutes) / (last
worker's finish - first worker's start)**; the baseline is that ideal time. **429s** are counted
in the emulator's log. The target of benchmark 1 (≥ 0.97, no 429) is applied here. The plot shows
each worker's accepted requests per second (from its own transport log) and the emulator's total.
Skipped, with a line in the table, when `redis-server` is not installed."""


# ------------------------------------------------------------------------------ worker process


async def worker(
    url: str, redis_url: str, list_uuid: str, start_at: float, first: int, last: int, quota: int
) -> dict[str, Any]:
    """Import contacts ``first``..``last - 1`` from ``start_at`` on; counts and answers."""
    recorder = RecordingTransport(httpx.AsyncHTTPTransport(retries=0))
    limit = RedisRateLimit(
        url=redis_url, rate=RateLimit.under_quota(quota, 60.0, burst=BURST), on_unavailable="fail"
    )
    try:
        async with AsyncGetSales(
            api_key=KEY, base_url=url, rate_limit=limit, transport=recorder
        ) as client:
            await anyio.sleep(max(0.0, start_at - time.monotonic()))
            started = time.monotonic()
            summary = await client.leads.bulk_upsert(
                (contact(i) for i in range(first, last)),
                list_uuid=list_uuid,
                concurrency=CONCURRENCY,
            )
            finished = time.monotonic()
    finally:
        await recorder.aclose()
    return {
        "rows": last - first,
        "created": summary.created,
        "failed": summary.failed,
        "rate_limited": summary.rate_limited,
        "started": started,
        "finished": finished,
        "answers": recorder.log,
    }


def main(argv: list[str]) -> None:
    """``worker URL REDIS_URL KEY LIST START FIRST LAST QUOTA``: see the module docstring."""
    command, url, redis_url, key, list_uuid, start, first, last, quota = argv
    if command != "worker" or key != KEY:
        raise SystemExit(f"expected: worker URL REDIS_URL {KEY} LIST START FIRST LAST QUOTA")
    result = anyio.run(
        worker,
        url,
        redis_url,
        list_uuid,
        float(start),
        int(first),
        int(last),
        int(quota),
        backend="asyncio",
    )
    print(json.dumps(result))


# ------------------------------------------------------------------------------ the benchmark


def _skipped(message: str) -> Section:
    return Section(
        key="shared",
        title="6. Shared quota through Redis",
        method=METHOD,
        rows=[
            Row(
                benchmark="6. Shared quota: 4 processes, one key, RedisRateLimit",
                target=f"≥ {TARGET_EFFICIENCY} and 429s: 0",
                measured=f"skipped: {message}",
                baseline="—",
                ratio="—",
                verdict="skipped",
            )
        ],
    )


async def _create_list(url: str, redis_url: str, quota: int) -> str:
    limit = RedisRateLimit(
        url=redis_url, rate=RateLimit.under_quota(quota, 60.0, burst=BURST), on_unavailable="fail"
    )
    async with AsyncGetSales(api_key=KEY, base_url=url, rate_limit=limit) as client:
        created = await client.lists.create(name="bench shared quota")
        return uuid_of(created)


def run(sizes: Sizes, plots: Path) -> Section:
    """Run the workers against one emulator and one Redis; see :data:`METHOD`."""
    executable = shutil.which("redis-server")
    if executable is None:
        return _skipped("redis-server is not installed (apt-get install redis-server)")
    from tests.redis_server import RedisServer, free_port

    rows, quota, workers = sizes.shared_rows, sizes.shared_quota_per_min, sizes.shared_workers
    with tempfile.TemporaryDirectory(prefix="bench-redis-") as tmp:
        redis = RedisServer(executable, Path(tmp), free_port())
        redis.start()
        try:
            with EmulatorProcess(api_keys={KEY: 1}, quota=quota, burst=BURST, log=True) as emulator:
                list_uuid = anyio.run(
                    _create_list, emulator.url, redis.url, quota, backend="asyncio"
                )
                start_at = time.monotonic() + START_DELAY_S
                commands = [
                    [
                        sys.executable,
                        "-m",
                        "tests.benchmarks.bench_shared_quota",
                        "worker",
                        emulator.url,
                        redis.url,
                        KEY,
                        list_uuid,
                        repr(start_at),
                        str(first),
                        str(last),
                        str(quota),
                    ]
                    for first, last in chunks(rows, workers)
                ]
                results = run_workers(commands, timeout=WORKER_TIMEOUT_S)
                log = emulator.stop()
        finally:
            redis.stop()

    incomplete = [r for r in results if r["created"] != r["rows"] or r["failed"]]
    if incomplete:
        raise BenchmarkError(f"worker imports incomplete: {incomplete[0]['created']} created")
    started = min(r["started"] for r in results)
    finished = max(r["finished"] for r in results)
    elapsed = finished - started
    ideal = rows / quota * 60.0
    efficiency = ideal / elapsed
    server_429 = sum(1 for _, s in log if s == 429)
    client_429 = sum(r["rate_limited"] for r in results)
    late = max(r["started"] for r in results) - start_at
    workers_series = [
        Series(f"worker {i + 1}", [t for t, s in r["answers"] if s < 400], COLORS[i % len(COLORS)])
        for i, r in enumerate(results)
    ]
    plot_rates(
        plots / PLOT,
        f"{workers} processes, one key, RedisRateLimit: {rows} rows at {quota}/min "
        f"(efficiency {efficiency:.3f}, 429s: {server_429})",
        [
            Panel(
                "all workers together (emulator's log, 1 s bins)",
                [
                    Series("2xx", [t for t, s in log if s is not None and s < 400], "tab:blue"),
                    Series("429", [t for t, s in log if s == 429], "tab:red", bars=True),
                ],
                started,
                finished,
                quota_per_s=quota / 60.0,
            ),
            Panel(
                f"each worker (its own transport log, {WORKER_BIN_S:g} s bins)",
                workers_series,
                started,
                finished,
                width=WORKER_BIN_S,
            ),
        ],
    )
    return Section(
        key="shared",
        title="6. Shared quota through Redis",
        method=METHOD,
        rows=[
            Row(
                benchmark=f"6. Shared quota: {workers} processes, one key, RedisRateLimit, "
                f"{rows} rows at Q = {quota}/min",
                target=f"≥ {TARGET_EFFICIENCY} and 429s: 0",
                measured=f"{efficiency:.3f} ({elapsed:.1f} s), 429s: {server_429}",
                baseline=f"{ideal:.1f} s ideal (N / Q)",
                ratio=f"{efficiency:.3f}",
                verdict=verdict(efficiency >= TARGET_EFFICIENCY and server_429 == 0),
            )
        ],
        details=[
            "Per worker (rows, seconds): "
            + "; ".join(
                f"{r['rows']} rows in {r['finished'] - r['started']:.1f} s" for r in results
            )
            + f". The last worker began {late * 1000:.0f} ms after the common start.",
            f"{len(log)} requests answered by the emulator, {server_429} of them 429; "
            f"{client_429} 429s seen by the workers. " + first_429(log, started, BURST),
        ],
        plots=[PLOT],
        data={
            "rows": rows,
            "quota_per_min": quota,
            "workers": workers,
            "elapsed_s": elapsed,
            "ideal_s": ideal,
            "efficiency": efficiency,
            "server_429": server_429,
            "client_429": client_429,
        },
    )


if __name__ == "__main__":
    main(sys.argv[1:])
