"""`make demo`: a complete import against the built-in GetSales emulator, no account needed.

1. Start the emulator on a free loopback port (in a subprocess, real HTTP).
2. Blacklist a company domain and some LinkedIn profiles, create the `segment` custom field.
3. `getsales import-leads examples/contacts.csv --list "Demo import" --create-list` (2,100 rows:
   duplicates, blacklisted and malformed rows included): the column mapping, a progress bar, and
   exit code 1 because some rows failed (they are in the failed CSV, with every column).
4. Lift the blacklist and rerun with `--resume`: only the rows that failed are sent again.
5. `getsales export-leads` the list back to CSV.
6. Check that the counts add up, print a summary, stop the emulator.

The emulator runs at 6,000 requests/min (20x production's 300/min) so the demo takes about half a
minute instead of seven; the SDK is told the same quota with --rate-limit (and paces itself 1 %
under it). Against production, leave both at their defaults.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

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


async def lift_blacklist(base_url: str) -> int:
    """Remove every blacklist entry (the "fix" before the resume); returns how many."""
    removed = 0
    async with AsyncGetSales(api_key=API_KEY, base_url=base_url) as client:
        for entry in await client.blacklist.list_companies().to_list():
            await client.blacklist.remove_company(str(entry.uuid))
            removed += 1
        for lead_entry in await client.blacklist.list_leads().to_list():
            await client.blacklist.remove_lead(str(lead_entry.uuid))
            removed += 1
    return removed


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


def import_run(env: dict[str, str], *extra: str) -> tuple[int, dict[str, object]]:
    """Run `getsales import-leads` on the sample; its exit code and JSON report."""
    done = cli(
        "import-leads",
        str(SAMPLE),
        "--list",
        LIST_NAME,
        "--create-list",
        "--concurrency",
        "16",
        "--json",
        "--checkpoint",
        str(WORK / "contacts.checkpoint"),
        "--failed-csv",
        str(WORK / "contacts.failed.csv"),
        *extra,
        env=env,
    )
    report: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return done.returncode, report


def main() -> int:
    shutil.rmtree(WORK, ignore_errors=True)  # a fresh job each time (no old checkpoint)
    WORK.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    proc, url = start_emulator()
    try:
        print(f"emulator: {url} (quota {QUOTA_PER_MIN}/min, 20x production, so the demo is quick)")
        anyio.run(prepare, url)
        env = dict(os.environ, GETSALES_API_KEY=API_KEY, GETSALES_BASE_URL=url)
        env.pop("GETSALES_REDIS_URL", None)
        first_code, first = import_run(env)
        print(
            f"import exit code {first_code}: {first['still_failing']} rows failed (see {first['failed_csv']})"
        )
        if first_code not in (0, 1):
            return first_code
        lifted = anyio.run(lift_blacklist, url)
        print(f"lifted {lifted} blacklist entries; resuming: only rows not done yet are sent")
        second_code, second = import_run(env, "--resume")
        print(
            f"resume exit code {second_code}: {second['retried']} retried, {second['already_done']} already done"
        )
        export_path = WORK / "export.csv"
        exported = cli("export-leads", str(export_path), "--list", LIST_NAME, env=env)
        if exported.returncode != 0:
            return exported.returncode
        exported_rows = max(sum(1 for _ in export_path.open(encoding="utf-8")) - 1, 0)
        in_emulator = anyio.run(emulator_count, url, LIST_NAME)
    finally:
        stop(proc)
    return summary(
        first,
        second,
        first_code,
        second_code,
        exported_rows,
        in_emulator,
        export_path,
        time.monotonic() - started,
    )


def summary(
    first: dict[str, Any],
    second: dict[str, Any],
    first_code: int,
    second_code: int,
    exported_rows: int,
    in_emulator: int,
    export_path: Path,
    elapsed: float,
) -> int:
    failed_csv = Path(str(second["failed_csv"]))
    failed_lines = max(sum(1 for _ in failed_csv.open(encoding="utf-8")) - 1, 0)
    created = first["created"] + second["created"]
    accounted = first["created"] + first["updated"] + first["skipped"] + first["failed"]
    checks = {
        "every row accounted for (created+updated+skipped+failed == rows)": accounted
        == first["rows"],
        "the first run exits 1 (some rows failed), and so does the resume (malformed rows remain)": (
            first_code,
            second_code,
        )
        == (1, 1),
        "the resume sent only the rows that had failed": second["retried"] == first["failed"]
        and second["already_done"] == first["rows"] - first["failed"],
        "only the malformed rows still fail (the blacklisted ones were imported)": second[
            "still_failing"
        ]
        == first["invalid"],
        "exported contacts == contacts created": exported_rows == created,
        "emulator holds exactly the created contacts": in_emulator == created,
        "failed CSV lists every row still failing": failed_lines == second["still_failing"],
    }
    print()
    print("demo summary")
    print(f"  rows in file      {first['rows']}")
    print(f"  created           {first['created']} + {second['created']} on resume")
    print(f"  updated           {first['updated']}  (repeats of earlier rows)")
    print(
        f"  failed            {first['failed']}  ({first['invalid']} malformed, the rest blacklisted)"
    )
    print(f"  still failing     {second['still_failing']}  (malformed; see {failed_csv})")
    print(f"  exit codes        {first_code} then {second_code}  (1: some rows failed)")
    print(f"  exported          {exported_rows}  -> {export_path}")
    print(f"  import speed      {first['rows_per_second']} rows/s ({first['seconds']} s)")
    print(f"  429s / retries    {first['rate_limited_429']} / {first['retries']}")
    print(f"  total demo time   {elapsed:.1f} s")
    for name, ok in checks.items():
        print(f"  [{'ok' if ok else 'FAIL'}] {name}")
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
