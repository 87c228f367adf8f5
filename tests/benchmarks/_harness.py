"""What the benchmarks share: sizes, result rows, emulator processes, request logs, plots, machine facts.

Kept free of heavy imports (matplotlib is imported inside :func:`plot_rates`), because the worker
processes of the memory and Redis benchmarks import this module too.
"""

from __future__ import annotations

import json
import os
import platform
import selectors
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

__all__ = [
    "FULL",
    "ROOT",
    "SMOKE",
    "BenchmarkError",
    "EmulatorProcess",
    "Panel",
    "RecordingTransport",
    "Row",
    "Section",
    "Series",
    "Sizes",
    "chunks",
    "contact",
    "first_429",
    "machine_facts",
    "per_second",
    "plot_rates",
    "run_workers",
    "uuid_of",
    "verdict",
]

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 30.0  # how long a child process may take to print its URL
STOP_TIMEOUT_S = 30.0  # how long it may take to exit once asked


class BenchmarkError(Exception):
    """A benchmark could not produce a trustworthy figure (a failed row, a missing process…)."""


@dataclass(frozen=True)
class Sizes:
    """How big each benchmark is; :data:`FULL` for ``make bench``, :data:`SMOKE` for the smoke test."""

    # 1. quota efficiency: rows imported at quota_per_min over real HTTP
    quota_rows: int
    quota_per_min: int
    # 2. against the usual script: rows, quota, and the time scale (1.0 = real 15 s, 60 s window)
    naive_rows: int
    naive_quota_per_min: int
    naive_time_scale: float
    # 3. client overhead: timed requests per variant and round, rounds, warm-up requests
    overhead_requests: int
    overhead_rounds: int
    overhead_warmup: int
    # 4. pagination: contacts read, emulated latency per search request (s)
    pagination_rows: int
    pagination_latency_s: float
    # 5. footprint: fresh interpreters per import-time figure, CSV sizes for peak memory
    import_runs: int
    memory_rows: tuple[int, int]
    # 6. shared quota: rows imported by all workers together, quota, worker processes
    shared_rows: int
    shared_quota_per_min: int
    shared_workers: int
    smoke: bool = False


FULL = Sizes(
    quota_rows=1200,
    quota_per_min=1200,
    naive_rows=120,
    naive_quota_per_min=600,
    naive_time_scale=1.0,
    overhead_requests=600,
    overhead_rounds=5,
    overhead_warmup=300,
    pagination_rows=10_000,
    pagination_latency_s=0.05,
    import_runs=9,
    memory_rows=(10_000, 100_000),
    shared_rows=400,
    shared_quota_per_min=600,
    shared_workers=4,
)

SMOKE = Sizes(
    quota_rows=20,
    quota_per_min=1200,
    naive_rows=20,
    naive_quota_per_min=600,
    naive_time_scale=1 / 30,  # sleep 0.5 s on a 429, quota window 2 s: the same shape, 30x faster
    overhead_requests=50,
    overhead_rounds=2,
    overhead_warmup=10,
    pagination_rows=300,
    pagination_latency_s=0.05,
    import_runs=1,
    memory_rows=(200, 2000),
    shared_rows=40,
    shared_quota_per_min=1200,
    shared_workers=4,
    smoke=True,
)


@dataclass(frozen=True)
class Row:
    """One line of the results table."""

    benchmark: str
    target: str
    measured: str
    baseline: str
    ratio: str
    verdict: str  # "met", "missed", "info" (no target), "skipped" or "error"


@dataclass
class Section:
    """What one benchmark reports: table rows, how it was computed, details, plots, raw numbers."""

    key: str
    title: str
    method: str
    rows: list[Row] = field(default_factory=list)
    details: list[str] = field(default_factory=list)
    plots: list[str] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0


def verdict(met: bool) -> str:
    """``"met"`` or ``"missed"``."""
    return "met" if met else "missed"


def uuid_of(record: object) -> str:
    """The ``uuid`` of a model the SDK returned (typed ``str | Unset``: every field is optional)."""
    uuid = getattr(record, "uuid", None)
    if not isinstance(uuid, str):
        raise BenchmarkError(f"{type(record).__name__} came back without a uuid")
    return uuid


def contact(i: int) -> dict[str, str]:
    """A distinct, valid contact for row ``i`` (LinkedIn profile and work email)."""
    return {
        "first_name": f"Bench{i}",
        "last_name": "Row",
        "company_name": "Acme",
        "position": "CTO",
        "work_email": f"bench.{i}@acme.example",
        "linkedin_id": f"https://www.linkedin.com/in/bench-row-{i:07d}",
    }


# ------------------------------------------------------------------------------ processes


class EmulatorProcess:
    """A ``GetSalesEmulator`` served on loopback by :mod:`._emulator_process` in a child process.

    Args:
        api_keys: key → team id.
        quota: requests per ``period`` per key (GCRA with ``burst``), or ``None`` for none.
        period: the quota window in seconds.
        burst: the quota's burst.
        log: keep the request log; :meth:`stop` returns it.
        rows_per_second: the emulator's background rate for file imports (``BulkConfig``).

    ``with EmulatorProcess(...) as emulator:`` starts it; ``emulator.url`` is where it listens.
    """

    def __init__(
        self,
        *,
        api_keys: dict[str, int],
        quota: int | None,
        period: float = 60.0,
        burst: int = 10,
        log: bool = False,
        rows_per_second: float | None = None,
    ) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix="bench-emulator-")
        self._log_path = Path(self._dir.name) / "requests.json" if log else None
        command = [sys.executable, "-m", "tests.benchmarks._emulator_process"]
        for key, team in api_keys.items():
            command += ["--api-key", f"{key}:{team}"]
        if quota is not None:
            command += ["--quota", str(quota), "--period", repr(period), "--burst", str(burst)]
        if self._log_path is not None:
            command += ["--log", str(self._log_path)]
        if rows_per_second is not None:
            command += ["--rows-per-second", repr(rows_per_second)]
        self._command = command
        self._process: subprocess.Popen[str] | None = None
        self.url = ""
        self.log: list[tuple[float, int | None]] = []

    def __enter__(self) -> EmulatorProcess:
        self._process = subprocess.Popen(
            self._command,
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.url = _read_line(self._process, START_TIMEOUT_S)
        if not self.url.startswith("http://"):
            self.stop()
            raise BenchmarkError(f"the emulator process printed {self.url!r} instead of its URL")
        return self

    @property
    def pid(self) -> int:
        """The child's process id."""
        if self._process is None:
            raise BenchmarkError("the emulator process is not running")
        return self._process.pid

    def stop(self) -> list[tuple[float, int | None]]:
        """Stop the server (close its stdin) and return its request log (empty without ``log``)."""
        process, self._process = self._process, None
        if process is not None:
            assert process.stdin is not None and process.stdout is not None
            process.stdin.close()
            try:
                process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=STOP_TIMEOUT_S)
                raise BenchmarkError("the emulator process did not stop; killed it") from None
            finally:
                process.stdout.close()
            if process.returncode != 0:
                raise BenchmarkError(f"the emulator process exited with {process.returncode}")
            if self._log_path is not None:
                raw = json.loads(self._log_path.read_text(encoding="utf-8"))
                self.log = [(float(t), None if s is None else int(s)) for t, s in raw]
        self._dir.cleanup()
        return self.log

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._process is not None:
            try:
                self.stop()
            except BenchmarkError:
                if exc is None:
                    raise


def _read_line(process: subprocess.Popen[str], timeout: float) -> str:
    """The first line a child prints on stdout, waiting at most ``timeout`` seconds."""
    assert process.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        if not selector.select(timeout):
            process.kill()
            process.wait()
            raise BenchmarkError(f"{process.args!r} printed nothing within {timeout} s")
    return process.stdout.readline().strip()


def run_workers(commands: Sequence[Sequence[str]], timeout: float) -> list[dict[str, Any]]:
    """Run child processes at once; each prints one JSON object as its last line of stdout."""
    processes = [
        subprocess.Popen(
            list(c), cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for c in commands
    ]
    results: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    problems: list[str] = []
    for process in processes:
        try:
            out, err = process.communicate(timeout=max(1.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            out, err = process.communicate()
            problems.append(f"pid {process.pid} timed out after {timeout:.0f} s")
            continue
        if process.returncode != 0:
            problems.append(f"pid {process.pid} exited {process.returncode}: {err.strip()[-800:]}")
            continue
        results.append(json.loads(out.strip().splitlines()[-1]))
    if problems:
        raise BenchmarkError("; ".join(problems))
    return results


class RecordingTransport(httpx.AsyncBaseTransport):
    """Passes requests to ``inner`` and records ``(time.monotonic(), status)`` of every answer."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.log: list[tuple[float, int]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        self.log.append((time.monotonic(), response.status_code))
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


# ------------------------------------------------------------------------------ rates and plots


def first_429(log: Sequence[tuple[float, int | None]], start: float, burst: int) -> str:
    """Where the first 429 of a server log fell, in words ("" without one)."""
    for number, (t, status) in enumerate(log, 1):
        if status == 429:
            where = f"The first 429 answered request #{number} ({t - start:+.2f} s from the start)"
            if number <= burst + 2 and t - start < 1.0:
                where += (
                    f", the first one after the initial burst of {burst}: the emulator's quota "
                    "schedule starts when the first request (which also opened the connection) "
                    "arrives, a little later than the SDK's own schedule started, so with identical "
                    "GCRA parameters the request after the burst arrives just early"
                )
            return where + "."
    return ""


def per_second(times: Sequence[float], start: float, end: float, width: float = 1.0) -> list[float]:
    """Events per second in consecutive bins of ``width`` seconds from ``start`` to ``end``."""
    bins = max(1, int((end - start) / width + 0.999999))
    counts = [0.0] * bins
    for t in times:
        index = int((t - start) / width)
        if 0 <= index < bins:
            counts[index] += 1
    return [c / width for c in counts]


@dataclass(frozen=True)
class Series:
    """One line of a rate plot: event times, label, colour, and whether to draw it as bars."""

    label: str
    times: Sequence[float]
    color: str
    bars: bool = False


@dataclass(frozen=True)
class Panel:
    """One panel of a rate plot: its series from ``start`` to ``end``, binned every ``width`` s."""

    title: str
    series: Sequence[Series]
    start: float
    end: float
    width: float = 1.0
    quota_per_s: float | None = None  # drawn as a dashed line


def plot_rates(path: Path, title: str, panels: Sequence[Panel]) -> None:
    """Events per second over time, one panel above the other, sharing the x axis.

    Args:
        path: the PNG to write.
        title: the figure's title.
        panels: the panels, top to bottom (x: seconds since each panel's ``start``).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    longest = max(panel.end - panel.start for panel in panels)
    figure, axes = plt.subplots(
        len(panels), 1, figsize=(9, 2.2 + 2.0 * len(panels)), sharex=True, squeeze=False
    )
    for axis, panel in zip(axes[:, 0], panels, strict=True):
        highest = panel.quota_per_s or 0.0
        for line in panel.series:
            rates = per_second(line.times, panel.start, panel.end, panel.width)
            highest = max(highest, *rates)
            xs = [i * panel.width for i in range(len(rates))]
            if line.bars:
                axis.bar(
                    xs,
                    rates,
                    width=panel.width,
                    align="edge",
                    color=line.color,
                    alpha=0.6,
                    label=line.label,
                )
            else:
                axis.step(xs, rates, where="post", color=line.color, label=line.label)
        if panel.quota_per_s is not None:
            axis.axhline(
                panel.quota_per_s,
                color="grey",
                linestyle="--",
                linewidth=1,
                label=f"quota {panel.quota_per_s:g}/s",
            )
        axis.set_title(panel.title, fontsize=10)
        axis.set_ylabel(
            "requests/s" if panel.width == 1.0 else f"requests/s ({panel.width:g} s bins)"
        )
        axis.set_xlim(0, longest)
        axis.set_ylim(0, max(1.0, highest) * 1.45)  # headroom for the legend
        axis.grid(alpha=0.3)
        axis.legend(loc="upper right", fontsize=8, ncols=min(3, len(panel.series) + 1))
    axes[-1, 0].set_xlabel("seconds since the import started")
    figure.suptitle(title, fontsize=11)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100, metadata={"Software": None})
    plt.close(figure)


# ------------------------------------------------------------------------------ machine facts


def _proc_field(path: str, name: str) -> str | None:
    try:
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                key, _, value = line.partition(":")
                if key.strip() == name:
                    return value.strip()
    except OSError:
        return None
    return None


def _version(package: str) -> str:
    try:
        return version(package)
    except PackageNotFoundError:
        return "not installed"


def _command_output(*command: str) -> str | None:
    try:
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def _load_average() -> str:
    try:
        with open("/proc/loadavg", encoding="utf-8") as fh:
            return " ".join(fh.read().split()[:3])
    except OSError:
        return "unknown"


def machine_facts() -> dict[str, str]:
    """CPU model, cores, RAM (from /proc), OS, and the versions that shape the figures."""
    import getsales_async

    mem_kb = _proc_field("/proc/meminfo", "MemTotal")
    ram = f"{int(mem_kb.split()[0]) / 1024**2:.1f} GiB" if mem_kb else "unknown"
    redis_server = _command_output("redis-server", "--version")
    commit = _command_output("git", "rev-parse", "--short", "HEAD") or "unknown"
    dirty = _command_output("git", "status", "--porcelain", "--untracked-files=no")
    return {
        "CPU": _proc_field("/proc/cpuinfo", "model name") or platform.processor() or "unknown",
        "cores": str(os.cpu_count() or "unknown"),
        "RAM": ram,
        "OS": f"{platform.system()} {platform.release()}",
        "load": _load_average(),
        "Python": platform.python_version(),
        "httpx": _version("httpx"),
        "anyio": _version("anyio"),
        "uvicorn": _version("uvicorn"),
        "redis-py": _version("redis"),
        "redis-server": redis_server.split()[2].removeprefix("v=") if redis_server else "absent",
        "getsales-async": f"{getsales_async.__version__} (git {commit}"
        + (", uncommitted changes)" if dirty else ")"),
    }


def chunks(total: int, parts: int) -> Iterator[tuple[int, int]]:
    """``parts`` consecutive ``[start, end)`` ranges covering ``range(total)`` as evenly as possible."""
    start = 0
    for part in range(parts):
        end = start + total // parts + (1 if part < total % parts else 0)
        yield start, end
        start = end
