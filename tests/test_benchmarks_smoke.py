"""The benchmark suite (``python -m tests.benchmarks``) still runs, at tiny sizes, so it cannot rot.

Only that it runs and reports well-formed results is checked, never how fast anything was: speed
claims live in docs/benchmarks.md, measured against a baseline in the same run (STYLE.md rule 21).
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
BENCHMARKS = ["quota", "naive", "overhead", "pagination", "footprint", "shared", "server_import"]
VERDICTS = {"met", "missed", "info", "skipped"}
ROW_FIELDS = ("benchmark", "target", "measured", "baseline", "ratio", "verdict")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# A bound so that a hang fails the test instead of blocking CI; not a claim about speed.
HANG_TIMEOUT_S = 600


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """Run the whole suite once with ``--smoke``; the output folder and the JSON results."""
    out = tmp_path_factory.mktemp("benchmarks")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.benchmarks",
            "--smoke",
            "--output-dir",
            str(out),
            "--json",
            str(out / "results.json"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=HANG_TIMEOUT_S,
        check=False,
    )
    assert done.returncode == 0, f"benchmarks failed:\n{done.stderr[-4000:]}"
    results: dict[str, Any] = json.loads((out / "results.json").read_text(encoding="utf-8"))
    return out, results


def _numbers(value: Any) -> list[float]:
    if isinstance(value, dict):
        return [n for v in value.values() for n in _numbers(v)]
    if isinstance(value, list):
        return [n for v in value for n in _numbers(v)]
    if isinstance(value, int | float) and not isinstance(value, bool):
        return [float(value)]
    return []


class TestBenchmarkSmoke:
    def test_every_benchmark_reports_when_run_at_smoke_sizes(
        self, smoke_run: tuple[Path, dict[str, Any]]
    ) -> None:
        """Each of the seven benchmarks reports at least one complete row with a known verdict."""
        _, results = smoke_run
        assert results["smoke"] is True
        assert [s["key"] for s in results["sections"]] == BENCHMARKS
        for section in results["sections"]:
            assert section["rows"], section["key"]
            assert section["method"].strip(), section["key"]
            for row in section["rows"]:
                assert all(isinstance(row[f], str) and row[f].strip() for f in ROW_FIELDS), row
                assert row["verdict"] in VERDICTS, row

    def test_figures_are_finite_numbers_when_measured(
        self, smoke_run: tuple[Path, dict[str, Any]]
    ) -> None:
        """Every raw figure of a benchmark that ran is a finite number, and some exist."""
        _, results = smoke_run
        for section in results["sections"]:
            if section["rows"][0]["verdict"] == "skipped":
                continue
            numbers = _numbers(section["data"])
            assert numbers, section["key"]
            assert all(math.isfinite(n) for n in numbers), section["key"]

    def test_plots_are_png_files_when_listed(self, smoke_run: tuple[Path, dict[str, Any]]) -> None:
        """Every plot a section names exists as a PNG under benchmarks/ next to the report."""
        out, results = smoke_run
        listed = [p for s in results["sections"] for p in s["plots"]]
        assert listed
        for name in listed:
            assert (out / "benchmarks" / name).read_bytes().startswith(PNG_SIGNATURE), name

    def test_report_has_table_machine_and_command_when_written(
        self, smoke_run: tuple[Path, dict[str, Any]]
    ) -> None:
        """benchmarks.md holds the results table with every row, the machine, the command and date."""
        out, results = smoke_run
        report = (out / "benchmarks.md").read_text(encoding="utf-8")
        assert "| Benchmark | Target | Measured | Baseline (same run) | Ratio | Verdict |" in report
        for section in results["sections"]:
            for row in section["rows"]:
                assert row["benchmark"] in report
        for fact in ("CPU:", "RAM", "Python", "httpx", "anyio", "getsales-async", "Date:"):
            assert fact in report
        assert f"`{results['command']}`" in report
        assert "-m tests.benchmarks --smoke" in results["command"]
