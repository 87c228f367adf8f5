"""`make demo`: a complete import against the built-in GetSales emulator, no account needed.

1. Start the emulator on a free loopback port (in a subprocess, real HTTP).
2. Blacklist a company domain and some LinkedIn profiles, create the `segment` custom field.
3. `getsales import-leads examples/contacts.csv --list "Demo import"` (2,100 rows: duplicates,
   blacklisted and malformed rows included) with a progress bar.
4. `getsales export-leads` the list back to CSV.
5. Check that the counts add up, print a summary, stop the emulator.

The emulator runs at 6,000 requests/min (20x production's 300/min) so the demo takes about half a
minute instead of seven; the SDK is told the same quota with --rate-limit (and paces itself 1 %
under it). Against production,
leave both at their defaults.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import anyio

from getsales_async import AsyncGetSales

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "examples" / "contacts.csv"
WORK = ROOT / "build" / "demo"
QUOTA_PER_MIN = 6000
API_KEY = "emulator-key"
LIST_NAME = "Demo import"
BLOCKED_DOMAIN = "blocked-corp.example"
BLOCKED_LINKEDIN_PREFIX = "https://www.linkedin.com/in/blocked-person-"
START_TIMEOUT_S = 30.0


def start_emulator() -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "getsales_async.testing.emulator",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--print-url",
            "--quota",
            str(QUOTA_PER_MIN),
        ],
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    assert proc.stdout is not None
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if line.startswith("http://"):
            return proc, line.strip()
        if not line and proc.poll() is not None:
            break
    proc.kill()
    raise SystemExit(
        "demo: the emulator did not start; run `python -m getsales_async.testing.emulator --print-url` to see why"
    )


def stop(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


async def prepare(base_url: str) -> None:
    async with AsyncGetSales(api_key=API_KEY, base_url=base_url) as client:
        await client.blacklist.add_company(domain=BLOCKED_DOMAIN, name="Blocked Corp")
        for n in range(0, 40, 2):
            await client.blacklist.add_lead(linkedin=f"{BLOCKED_LINKEDIN_PREFIX}{n}")
        await client.custom_fields.create(name="segment", object="lead")


async def emulator_count(base_url: str, list_name: str) -> int:
    async with AsyncGetSales(api_key=API_KEY, base_url=base_url) as client:
        async for lst in client.lists.list(filter={"name": list_name}):
            if lst.name == list_name:
                return (await client.leads.count(filter={"list_uuid": lst.uuid})).total or 0
    return 0


def cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "getsales_async", "--rate-limit", str(QUOTA_PER_MIN), *args],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
        check=False,
    )


def main() -> int:
    WORK.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    proc, url = start_emulator()
    try:
        print(f"emulator: {url} (quota {QUOTA_PER_MIN}/min, 20x production, so the demo is quick)")
        anyio.run(prepare, url)
        env = dict(os.environ, GETSALES_API_KEY=API_KEY, GETSALES_BASE_URL=url)
        env.pop("GETSALES_REDIS_URL", None)
        checkpoint = WORK / "contacts.checkpoint.jsonl"
        failed_csv = WORK / "contacts.failed.csv"
        imported = cli(
            "import-leads",
            str(SAMPLE),
            "--list",
            LIST_NAME,
            "--concurrency",
            "16",
            "--json",
            "--checkpoint",
            str(checkpoint),
            "--failed-csv",
            str(failed_csv),
            env=env,
        )
        if imported.returncode != 0:
            print(imported.stdout)
            return imported.returncode
        report = json.loads(imported.stdout.strip().splitlines()[-1])
        export_path = WORK / "export.csv"
        exported = cli("export-leads", str(export_path), "--list", LIST_NAME, env=env)
        if exported.returncode != 0:
            return exported.returncode
        exported_rows = max(sum(1 for _ in export_path.open(encoding="utf-8")) - 1, 0)
        in_emulator = anyio.run(emulator_count, url, LIST_NAME)
    finally:
        stop(proc)
    elapsed = time.monotonic() - started
    accounted = report["created"] + report["updated"] + report["skipped"] + report["failed"]
    failed_lines = max(sum(1 for _ in failed_csv.open(encoding="utf-8")) - 1, 0)
    checks = {
        "every row accounted for (created+updated+skipped+failed == rows)": accounted
        == report["rows"],
        "exported contacts == contacts created": exported_rows == report["created"],
        "emulator holds exactly the created contacts": in_emulator == report["created"],
        "failed CSV lists every failed row": failed_lines == report["failed"],
    }
    print()
    print("demo summary")
    print(f"  rows in file      {report['rows']}")
    print(f"  created           {report['created']}")
    print(f"  updated           {report['updated']}  (repeats of earlier rows)")
    print(
        f"  failed            {report['failed']}  ({report['malformed']} malformed, the rest blacklisted; see {failed_csv})"
    )
    print(f"  exported          {exported_rows}  -> {export_path}")
    print(f"  import speed      {report['rows_per_second']} rows/s ({report['seconds']} s)")
    print(f"  429s / retries    {report['rate_limited_429']} / {report['retries']}")
    print(f"  total demo time   {elapsed:.1f} s")
    for name, ok in checks.items():
        print(f"  [{'ok' if ok else 'FAIL'}] {name}")
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
