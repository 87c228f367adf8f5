"""5. Footprint: import time, full regeneration time, and peak memory of a CSV import by size.

``python -m tests.benchmarks.bench_footprint import-csv URL KEY FILE`` is the worker process whose
memory is measured: it imports FILE (streamed by ``read_leads_csv``) into the emulator at URL, with
a checkpoint and a failed-rows CSV next to FILE as ``getsales import-leads`` keeps them, and
prints one JSON line with its counts and its resident set size before and at peak.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from ._harness import (
    ROOT,
    BenchmarkError,
    EmulatorProcess,
    Row,
    Section,
    Sizes,
    contact,
    run_workers,
    uuid_of,
    verdict,
)

__all__ = ["import_csv", "run"]

KEY = "bench-footprint-key"
CONCURRENCY = 8  # bulk_upsert's default
TARGET_IMPORT_MS = 150.0
TARGET_MEMORY_SPREAD = 0.10
COLD_RUNS = 3  # imports without any bytecode cache (everything compiled from source)
IMPORT_SNIPPET = "import time; t = time.perf_counter(); {}; print(time.perf_counter() - t)"
SDK_IMPORT = "from getsales_async import AsyncGetSales"  # what users write
BASELINE_MODULES = "httpx, attrs, anyio"
BASELINE_IMPORT = f"import {BASELINE_MODULES}"
CSV_COLUMNS = ("first_name", "last_name", "company_name", "position", "work_email", "linkedin_id")
REGENERATE_TIMEOUT_S = 600.0
IMPORT_TIMEOUT_S = 1800.0

METHOD = """\
**Import time**: a fresh interpreter per measurement runs
`t = time.perf_counter(); from getsales_async import AsyncGetSales; print(time.perf_counter() - t)`
(interpreter start-up excluded): the import users write. The package's public names load on first
use (PEP 562), so a bare `import getsales_async` would load next to nothing and flatter the figure.
The baseline does the same with `import httpx, attrs, anyio`, the SDK's dependencies; runs
alternate, and each figure is the best of N. Bytecode caches are warm, as after `pip install`:
they live in a temporary `PYTHONPYCACHEPREFIX`, written by one untimed import of each first (so
`PYTHONDONTWRITEBYTECODE` in the environment does not turn the figure into a compile time). The
same pair without any cache is shown for reference. One extra `python -X importtime` run names the
modules with the largest own import time. **Regeneration**: wall time of
`python codegen/generate.py --output <tmp> --docs <tmp>/ops.md --quiet` (normalise the spec, run
the pinned openapi-python-client, stamp, format with ruff); there is no target or baseline.
**Peak memory**: two CSV files of generated contacts (10,000 and 100,000 rows) are imported by a
worker process with `read_leads_csv` (streamed) into `client.leads.bulk_upsert(..., concurrency=8,
checkpoint=..., input_name=..., failed_csv=..., on_progress=...)`, as `getsales import-leads` does
(the checkpoint records every row; the job remembers each row's identity and each contact it
created, in compact fingerprint tables); the emulator runs in another process (uvicorn on
127.0.0.1, no quota, a fresh one per file) so its records are not counted. The figure is the
worker's peak resident set size (`ru_maxrss`); the baseline is the same for the smaller file.
**Ratio = peak(large) / peak(small)**; flat means within ±10 %. The growth above the worker's RSS
just before the import (interpreter, modules, client) is shown too."""


# ------------------------------------------------------------------------------ worker process


def _rss_kb(field: str) -> int:
    with open("/proc/self/status", encoding="utf-8") as fh:
        for line in fh:
            if line.startswith(f"{field}:"):
                return int(line.split()[1])
    raise BenchmarkError(f"/proc/self/status has no {field}")


async def import_csv(url: str, key: str, path: Path) -> dict[str, Any]:
    """Import ``path`` into the emulator at ``url``; the worker's counts and memory (KiB)."""
    from getsales_async import AsyncGetSales, RateLimit
    from getsales_async._bulk import ImportProgress, LeadRow
    from getsales_async._csv import read_leads_csv

    malformed = 0
    progress_events = 0

    def on_progress(event: ImportProgress) -> None:
        nonlocal progress_events
        progress_events += 1

    def rows() -> Any:
        nonlocal malformed
        for item in read_leads_csv(path):
            if isinstance(item, LeadRow):
                yield item
            else:
                malformed += 1

    unlimited = RateLimit.per_second(100_000, burst=100)
    async with AsyncGetSales(api_key=key, base_url=url, rate_limit=unlimited) as client:
        target = await client.lists.create(name=f"bench footprint {path.stem}")
        before_kb = _rss_kb("VmRSS")
        started = time.monotonic()
        summary = await client.leads.bulk_upsert(
            rows(),
            list_uuid=uuid_of(target),
            concurrency=CONCURRENCY,
            checkpoint=path.with_name(f"{path.name}.checkpoint"),
            input_name=str(path),
            failed_csv=path.with_name(f"{path.name}.failed.csv"),
            on_progress=on_progress,
        )
        elapsed = time.monotonic() - started
    return {
        "created": summary.created,
        "failed": summary.failed,
        "malformed": malformed,
        "progress_events": progress_events,
        "seconds": elapsed,
        "rss_before_kb": before_kb,
        "peak_rss_kb": _rss_kb("VmHWM"),
    }


def main(argv: list[str]) -> None:
    """``import-csv URL KEY FILE``: see the module docstring."""
    import anyio

    command, url, key, path = argv
    if command != "import-csv":
        raise SystemExit(f"unknown command {command!r}; expected import-csv")
    result = anyio.run(import_csv, url, key, Path(path), backend="asyncio")
    print(json.dumps(result))


# ------------------------------------------------------------------------------ the benchmark


def _bytecode_env(cache: Path, *, write: bool) -> dict[str, str]:
    """The environment with bytecode caches under ``cache`` only (written there if ``write``)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(cache)
    if not write:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def _import_seconds(statement: str, env: dict[str, str]) -> float:
    done = subprocess.run(
        [sys.executable, "-c", IMPORT_SNIPPET.format(statement)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return float(done.stdout.strip())


def _slowest_imports(count: int, env: dict[str, str]) -> list[tuple[str, float]]:
    """The modules with the largest own import time in one ``-X importtime`` run (ms)."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", SDK_IMPORT],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    entries = []
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        own, _, name = line.removeprefix("import time:").split("|")
        entries.append((name.strip(), int(own) / 1000))
    return sorted(entries, key=lambda e: -e[1])[:count]


def _module_counts() -> tuple[int, int, int]:
    """Modules loaded by :data:`SDK_IMPORT`: its own, all of them, and the baseline's."""
    snippet = (
        "import sys; {}; "
        "print(sum(m.startswith('getsales_async') for m in sys.modules), len(sys.modules))"
    )
    counts = []
    for statement in (SDK_IMPORT, BASELINE_IMPORT):
        done = subprocess.run(
            [sys.executable, "-c", snippet.format(statement)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        counts.append([int(n) for n in done.stdout.split()])
    (own, total), (_, baseline) = counts
    return own, total, baseline


def _write_csv(path: Path, rows: int) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(CSV_COLUMNS)
        for i in range(rows):
            person = contact(i)
            writer.writerow([person[c] for c in CSV_COLUMNS])


def _peak_memory(rows: int, directory: Path) -> dict[str, Any]:
    path = directory / f"contacts-{rows}.csv"
    _write_csv(path, rows)
    with EmulatorProcess(api_keys={KEY: 1}, quota=None) as emulator:
        command = [
            sys.executable,
            "-m",
            "tests.benchmarks.bench_footprint",
            "import-csv",
            emulator.url,
            KEY,
            str(path),
        ]
        [result] = run_workers([command], timeout=IMPORT_TIMEOUT_S)
    if result["created"] != rows or result["failed"] or result["malformed"]:
        raise BenchmarkError(f"CSV import of {rows} rows incomplete: {result}")
    return result


def run(sizes: Sizes, plots: Path) -> Section:
    """Measure import time, regeneration time and peak memory; see :data:`METHOD`."""
    sdk_runs: list[float] = []
    base_runs: list[float] = []
    cold: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="bench-pycache-") as tmp:
        warm = _bytecode_env(Path(tmp) / "warm", write=True)
        for statement in (SDK_IMPORT, BASELINE_IMPORT):
            _import_seconds(statement, warm)  # untimed: writes the bytecode caches
        for _ in range(sizes.import_runs):
            sdk_runs.append(_import_seconds(SDK_IMPORT, warm))
            base_runs.append(_import_seconds(BASELINE_IMPORT, warm))
        slowest = _slowest_imports(5, warm)
        empty = _bytecode_env(Path(tmp) / "empty", write=False)
        for statement in (SDK_IMPORT, BASELINE_IMPORT):
            cold[statement] = min(
                _import_seconds(statement, empty)
                for _ in range(COLD_RUNS if not sizes.smoke else 1)
            )
    sdk_ms, base_ms = min(sdk_runs) * 1000, min(base_runs) * 1000
    own_modules, all_modules, baseline_modules = _module_counts()

    with tempfile.TemporaryDirectory(prefix="bench-regenerate-") as tmp:
        started = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                "codegen/generate.py",
                "--output",
                tmp,
                "--docs",
                f"{tmp}/ops.md",
                "--quiet",
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=REGENERATE_TIMEOUT_S,
            check=True,
        )
        regenerate_s = time.perf_counter() - started
        generated = sum(1 for _ in Path(tmp).rglob("*.py"))
    if generated == 0:
        raise BenchmarkError("codegen/generate.py wrote no Python files")

    small_rows, large_rows = sizes.memory_rows
    with tempfile.TemporaryDirectory(prefix="bench-csv-") as tmp:
        small = _peak_memory(small_rows, Path(tmp))
        large = _peak_memory(large_rows, Path(tmp))
    spread = large["peak_rss_kb"] / small["peak_rss_kb"]
    growth = {
        n: (r["peak_rss_kb"] - r["rss_before_kb"]) / 1024
        for n, r in ((small_rows, small), (large_rows, large))
    }

    def mib(kb: int) -> str:
        return f"{kb / 1024:.1f} MiB"

    return Section(
        key="footprint",
        title="5. Footprint",
        method=METHOD,
        rows=[
            Row(
                benchmark=f"5a. Import time of `{SDK_IMPORT}` (best of {sizes.import_runs})",
                target=f"≤ {TARGET_IMPORT_MS:.0f} ms",
                measured=f"{sdk_ms:.0f} ms",
                baseline=f"{base_ms:.0f} ms (`{BASELINE_IMPORT}`)",
                ratio=f"{sdk_ms / base_ms:.2f}x",
                verdict=verdict(sdk_ms <= TARGET_IMPORT_MS),
            ),
            Row(
                benchmark="5b. Full regeneration (`codegen/generate.py`)",
                target="—",
                measured=f"{regenerate_s:.1f} s ({generated} Python files)",
                baseline="—",
                ratio="—",
                verdict="info",
            ),
            Row(
                benchmark=f"5c. Peak RSS of a streamed CSV import, {large_rows:,} vs "
                f"{small_rows:,} rows",
                target=f"flat (±{TARGET_MEMORY_SPREAD:.0%})",
                measured=f"{mib(large['peak_rss_kb'])} ({large_rows:,} rows)",
                baseline=f"{mib(small['peak_rss_kb'])} ({small_rows:,} rows)",
                ratio=f"{spread:.3f}",
                verdict=verdict(abs(spread - 1) <= TARGET_MEMORY_SPREAD),
            ),
        ],
        details=[
            f"Import time with warm bytecode caches, all runs (ms): `{SDK_IMPORT}` "
            + ", ".join(f"{s * 1000:.0f}" for s in sdk_runs)
            + f"; {BASELINE_MODULES} "
            + ", ".join(f"{s * 1000:.0f}" for s in base_runs)
            + ". Without any bytecode cache (every module compiled from source, best of "
            f"{COLD_RUNS if not sizes.smoke else 1}): SDK "
            f"{cold[SDK_IMPORT] * 1000:.0f} ms, {BASELINE_MODULES} "
            f"{cold[BASELINE_IMPORT] * 1000:.0f} ms.",
            f"`{SDK_IMPORT}` loads {all_modules} modules, {own_modules} of them its own "
            "(generated models, endpoints, pagination, CSV and Redis code load on first use); "
            f"`{BASELINE_IMPORT}` loads "
            f"{baseline_modules}. Largest own import times (one `-X importtime` run): "
            + ", ".join(f"`{name}` {ms:.1f} ms" for name, ms in slowest)
            + ".",
            f"Peak RSS growth above the worker's RSS before the import: {growth[small_rows]:.1f} MiB "
            f"({small_rows:,} rows), {growth[large_rows]:.1f} MiB ({large_rows:,} rows); "
            f"import speed {small_rows / small['seconds']:.0f} and "
            f"{large_rows / large['seconds']:.0f} rows/s over loopback HTTP without a quota.",
        ],
        data={
            "import_ms": sdk_ms,
            "import_baseline_ms": base_ms,
            "import_cold_ms": cold[SDK_IMPORT] * 1000,
            "import_cold_baseline_ms": cold[BASELINE_IMPORT] * 1000,
            "modules": {"own": own_modules, "all": all_modules, "baseline": baseline_modules},
            "regenerate_s": regenerate_s,
            "memory": {str(small_rows): small, str(large_rows): large},
            "memory_ratio": spread,
        },
    )


if __name__ == "__main__":
    main(sys.argv[1:])
