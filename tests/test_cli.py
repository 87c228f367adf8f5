"""The `getsales` command line against the emulator served on loopback (real HTTP)."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from getsales_async._cli import main
from getsales_async.testing import GetSalesEmulator
from getsales_async.testing.emulator import serve_in_thread

HEADER = ["first_name", "last_name", "company_name", "work_email", "linkedin_id", "tags"]


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[GetSalesEmulator, str]]:
    """An emulator with its own key, served on a loopback port; the CLI environment points at it."""
    key = f"cli-{uuid.uuid4().hex}"
    emulator = GetSalesEmulator(api_keys={key: 1}, quota=None)
    with serve_in_thread(emulator.app) as url:
        monkeypatch.setenv("GETSALES_API_KEY", key)
        monkeypatch.setenv("GETSALES_BASE_URL", url)
        monkeypatch.delenv("GETSALES_REDIS_URL", raising=False)
        yield emulator, url


def write_csv(path: Path, n: int, *, bad: int = 0) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADER)
        for i in range(n):
            writer.writerow(
                [
                    f"F{i}",
                    f"L{i}",
                    f"Co{i}",
                    f"p{i}@co{i}.example",
                    f"https://www.linkedin.com/in/p-{i}",
                    "cli;test",
                ]
            )
        for i in range(bad):
            writer.writerow([f"Bad{i}", "too", "few"])
    return path


class TestImport:
    def test_import_reports_counts_and_writes_failed_rows(
        self,
        served: tuple[GetSalesEmulator, str],
        tmp_path: Path,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        """import-leads creates the list, imports good rows and lists malformed ones with reasons."""
        emulator, _url = served
        source = write_csv(tmp_path / "c.csv", 25, bad=3)
        code = main(
            ["--rate-limit", "100000", "import-leads", str(source), "--list", "CLI list", "--json"]
        )
        assert code == 0
        report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
        assert (report["created"], report["failed"], report["malformed"], report["rows"]) == (
            25,
            3,
            3,
            28,
        )
        failed = list(
            csv.reader((tmp_path / "c.csv.failed.csv").read_text(encoding="utf-8").splitlines())
        )
        assert failed[0][:2] == ["line", "error"] and len(failed) == 4
        assert all("malformed" in row[1] for row in failed[1:])
        assert len(emulator.state.leads) == 25

    def test_dry_run_sends_nothing(
        self,
        served: tuple[GetSalesEmulator, str],
        tmp_path: Path,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        """--dry-run validates and estimates the duration without a single request."""
        emulator, _url = served
        source = write_csv(tmp_path / "c.csv", 10, bad=1)
        assert main(["import-leads", str(source), "--list", "x", "--dry-run"]) == 1
        out = capsys.readouterr().out
        assert "10 rows would be sent" in out and "1 rows are malformed" in out
        assert emulator.requests == []

    def test_missing_key_is_a_clear_error(
        self, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """Without GETSALES_API_KEY the CLI exits 2 and says what to set."""
        monkeypatch.delenv("GETSALES_API_KEY", raising=False)
        assert main(["whoami"]) == 2
        assert "GETSALES_API_KEY" in capsys.readouterr().err

    def test_killed_import_resumes_without_loss_or_duplicates(
        self, served: tuple[GetSalesEmulator, str], tmp_path: Path
    ) -> None:
        """An import killed midway (SIGKILL) and rerun with --resume ends with every row exactly once."""
        emulator, url = served
        source = write_csv(tmp_path / "big.csv", 400)
        checkpoint = tmp_path / "big.checkpoint.jsonl"
        env = dict(os.environ, GETSALES_BASE_URL=url)
        cmd = [
            sys.executable,
            "-m",
            "getsales_async",
            "--rate-limit",
            "3000",
            "import-leads",
            str(source),
            "--list",
            "Resume",
            "--checkpoint",
            str(checkpoint),
            "--concurrency",
            "4",
        ]
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # wait until a good part is done, then kill it
            if checkpoint.exists() and len(checkpoint.read_text().splitlines()) > 120:
                break
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        done_before = len(checkpoint.read_text().splitlines()) - 1
        assert 0 < done_before < 400, "the job should have been killed midway"
        resumed = subprocess.run(
            [*cmd, "--resume", "--json"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert resumed.returncode == 0, resumed.stderr[-2000:]
        report = json.loads(resumed.stdout.strip().splitlines()[-1])
        indexes = [
            json.loads(line)["index"]
            for line in checkpoint.read_text().splitlines()[1:]
            if line.strip()
        ]
        assert sorted(set(indexes)) == list(range(400))
        assert len(indexes) == len(set(indexes))  # no row recorded twice
        assert report["resumed"] >= done_before
        assert len(emulator.state.leads) == 400  # no contact lost or duplicated


class TestExportAndWhoami:
    def test_export_writes_every_contact_of_the_list(
        self,
        served: tuple[GetSalesEmulator, str],
        tmp_path: Path,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        """export-leads writes one CSV row per contact in the list."""
        source = write_csv(tmp_path / "c.csv", 130)
        assert main(["--rate-limit", "100000", "import-leads", str(source), "--list", "Exp"]) == 0
        out = tmp_path / "out.csv"
        assert main(["--rate-limit", "100000", "export-leads", str(out), "--list", "Exp"]) == 0
        rows = list(csv.DictReader(out.read_text(encoding="utf-8").splitlines()))
        assert len(rows) == 130
        assert {r["work_email"] for r in rows} == {f"p{i}@co{i}.example" for i in range(130)}
        assert "exported 130 contacts" in capsys.readouterr().out

    def test_whoami_prints_user_and_team(
        self, served: tuple[GetSalesEmulator, str], capsys: pytest.CaptureFixture[str]
    ) -> None:
        """whoami shows the key's user and team."""
        assert main(["whoami"]) == 0
        out = capsys.readouterr().out
        assert out.startswith("user:") and "team:" in out
