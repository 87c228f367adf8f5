"""The ``getsales`` command line: import and export contacts, check the key, run the emulator.

The API key comes from ``GETSALES_API_KEY`` (never from an argument, so it stays out of shell
history and process lists); ``--base-url`` (or ``GETSALES_BASE_URL``) targets production or the
emulator; ``GETSALES_REDIS_URL`` shares the quota with other workers through Redis.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

import anyio

from ._bulk import BulkImportAborted, ImportProgress, LeadRow, RowResult, RowStatus
from ._client import AsyncGetSales
from ._config import DEFAULT_BURST, ENV_API_KEY
from ._csv import EXPORT_COLUMNS, CsvProblem, read_leads_csv, write_csv_row
from ._errors import GetSalesError
from ._limiter import RateLimit
from ._redis_limiter import RedisRateLimit

__all__ = ["main"]

ENV_REDIS_URL = "GETSALES_REDIS_URL"
UUID_RE = re.compile(
    r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
)


def _rate_limit(args: argparse.Namespace) -> RateLimit | RedisRateLimit:
    if args.rate_limit < 2:
        rate = RateLimit(requests=1, period=60.0, burst=1)
    else:  # stay 1 % under the server's quota (see RateLimit.under_quota)
        rate = RateLimit.under_quota(
            args.rate_limit, 60.0, burst=min(DEFAULT_BURST, args.rate_limit - 1)
        )
    redis_url = os.environ.get(ENV_REDIS_URL)
    if redis_url:
        return RedisRateLimit(url=redis_url, rate=rate)
    return rate


def _client(args: argparse.Namespace) -> AsyncGetSales:
    return AsyncGetSales(base_url=args.base_url, rate_limit=_rate_limit(args))


class ProgressBar:
    """A one-line progress bar on a terminal; periodic plain lines otherwise."""

    def __init__(self, stream: TextIO, total: int | None) -> None:
        self.stream = stream
        self.total = total
        self.tty = stream.isatty()
        self._last_plain = 0.0

    def __call__(self, p: ImportProgress) -> None:
        done = p.done + p.resumed
        eta = f"{p.eta_s:5.0f}s" if p.eta_s is not None else "    ?"
        counts = (
            f"{done}/{self.total or '?'} ok={p.created + p.updated + p.skipped} failed={p.failed}"
        )
        tail = f"{p.rate_per_s:6.1f} rows/s  in-flight {p.in_flight:3d}  429s {p.rate_limited}  ETA {eta}"
        if self.tty:
            width = 24
            frac = done / self.total if self.total else 0.0
            bar = "#" * int(frac * width) + "-" * (width - int(frac * width))
            self.stream.write(f"\r[{bar}] {counts}  {tail}")
            if p.finished:
                self.stream.write("\n")
        elif p.finished or time.monotonic() - self._last_plain >= 5.0:
            self._last_plain = time.monotonic()
            self.stream.write(f"progress: {counts}  {tail}\n")
        self.stream.flush()


async def _resolve_list(client: AsyncGetSales, ref: str, *, create: bool) -> tuple[str, str]:
    """A list UUID for a name or UUID (the list is created when missing and ``create``)."""
    if UUID_RE.match(ref):
        lst = await client.lists.get(ref)
        return str(lst.uuid), str(lst.name)
    async for lst in client.lists.list(filter={"name": ref}):
        if lst.name == ref:
            return str(lst.uuid), ref
    if not create:
        raise GetSalesError(f"no list named {ref!r}; create it first or pass its UUID")
    created = await client.lists.create(name=ref)
    print(f"created list {ref!r} ({created.uuid})", file=sys.stderr)
    return str(created.uuid), ref


def _count_rows(path: Path) -> int:
    with path.open("rb") as fh:
        return max(sum(1 for line in fh if line.strip()) - 1, 0)


async def cmd_import(args: argparse.Namespace) -> int:
    path = Path(args.file)
    if not path.exists():
        print(f"error: {path} does not exist", file=sys.stderr)
        return 2
    failed_path = Path(args.failed_csv or f"{path}.failed.csv")
    checkpoint = Path(args.checkpoint or f"{path}.checkpoint.jsonl")
    total = _count_rows(path)
    problems: list[CsvProblem] = []

    def rows() -> Any:
        for item in read_leads_csv(path):
            if isinstance(item, CsvProblem):
                problems.append(item)
            else:
                yield item

    if args.dry_run:
        good = sum(1 for _ in rows())
        minutes = good / args.rate_limit
        print(f"dry run: {good} rows would be sent, {len(problems)} rows are malformed")
        print(f"at {args.rate_limit} requests/min that takes about {minutes:.1f} min")
        for p in problems[:20]:
            print(f"  line {p.line}: {p.error}")
        return 0 if not problems else 1

    header: list[str] = []
    with path.open(encoding="utf-8-sig", errors="replace", newline="") as fh:
        header = next(csv.reader(fh), [])
    failed_fh = failed_path.open("w", encoding="utf-8", newline="")
    failed_writer = csv.writer(failed_fh)
    failed_writer.writerow(["line", "error", *header])
    failures = 0

    def write_failure(line: int, error: str, raw: dict[str, Any]) -> None:
        nonlocal failures
        failures += 1
        write_csv_row(failed_writer, [line, error, *[raw.get(h, "") for h in header]])

    rows_by_index: dict[int, LeadRow] = {}

    def source() -> Any:
        for row in rows():
            rows_by_index[row.index] = row
            yield row

    def on_result(result: RowResult) -> None:
        row = rows_by_index.pop(result.index, None)
        if result.status is RowStatus.FAILED:
            raw = dict(row.lead) if row else {}
            write_failure(
                result.index + 2, result.error or "failed", {k: v for k, v in raw.items()}
            )

    try:
        async with _client(args) as client:
            list_uuid, list_name = await _resolve_list(client, args.list, create=True)
            bar = ProgressBar(sys.stderr, total)
            try:
                summary = await client.leads.bulk_upsert(
                    source(),
                    list_uuid=list_uuid,
                    concurrency=args.concurrency,
                    checkpoint=checkpoint,
                    resume=args.resume,
                    job_id=f"{path.resolve()}|{list_uuid}",
                    total=total,
                    on_result=on_result,
                    on_progress=bar,
                    update_if_exists=not args.no_update,
                )
            except BulkImportAborted as exc:
                print(f"\nerror: {exc}", file=sys.stderr)
                return 3
    finally:
        for p in problems:
            write_failure(p.line, p.error, dict(p.raw))
        failed_fh.close()
    report = {
        "list": list_name,
        "rows": total,
        "created": summary.created,
        "updated": summary.updated,
        "skipped": summary.skipped,
        "failed": summary.failed + len(problems),
        "malformed": len(problems),
        "resumed": summary.resumed,
        "rate_limited_429": summary.rate_limited,
        "retries": summary.retries,
        "seconds": round(summary.elapsed_s, 2),
        "rows_per_second": round(summary.rows_per_second, 1),
        "failed_csv": str(failed_path),
    }
    print(json.dumps(report) if args.json else _format_report(report))
    return 0


def _format_report(report: dict[str, Any]) -> str:
    return "\n".join(f"{k:>18}: {v}" for k, v in report.items())


async def cmd_export(args: argparse.Namespace) -> int:
    out = Path(args.file)
    written = 0
    async with _client(args) as client:
        search_filter: dict[str, Any] = json.loads(args.filter) if args.filter else {}
        if args.list:
            list_uuid, _name = await _resolve_list(client, args.list, create=False)
            search_filter["list_uuid"] = list_uuid
        with out.open("w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(EXPORT_COLUMNS)
            from .models import OrderType

            async for item in client.leads.search(
                filter=search_filter,
                order_field="created_at",
                order_type=OrderType.ASC,
                concurrency=args.concurrency,
            ):
                lead = item.lead
                if not lead:
                    continue
                data = lead.to_dict()
                write_csv_row(writer, [data.get(c) for c in EXPORT_COLUMNS])
                written += 1
    print(f"exported {written} contacts to {out}")
    return 0


async def cmd_whoami(args: argparse.Namespace) -> int:
    async with _client(args) as client:
        me = await client.teams.get_current_user()
        teams = await client.teams.list()
        print(
            f"user: {me.first_name or ''} {me.last_name or ''} <{me.email or '?'}> (id {me.id})".replace(
                "  ", " "
            )
        )
        for team in teams.items:
            print(f"team: {team.name} (id {team.id})")
    return 0


def cmd_emulator_serve(args: argparse.Namespace) -> int:
    from .testing.emulator._main import main as serve_main

    return serve_main(["--port", "8300", *args.emulator_args])


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="getsales", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--base-url", default=None, help="API root (default $GETSALES_BASE_URL or production)"
    )
    parser.add_argument(
        "--rate-limit",
        type=int,
        default=300,
        help="the key's quota in requests per minute (default 300, production's); the CLI paces itself 1%% under it",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    imp = sub.add_parser("import-leads", help="upsert contacts from a CSV file into a list")
    imp.add_argument("file")
    imp.add_argument("--list", required=True, help="list name (created if missing) or UUID")
    imp.add_argument("--concurrency", type=int, default=8)
    imp.add_argument("--resume", action="store_true", help="skip rows recorded in the checkpoint")
    imp.add_argument(
        "--dry-run", action="store_true", help="validate the file and estimate; send nothing"
    )
    imp.add_argument("--checkpoint", help="checkpoint file (default FILE.checkpoint.jsonl)")
    imp.add_argument("--failed-csv", help="where failed rows go (default FILE.failed.csv)")
    imp.add_argument("--no-update", action="store_true", help="leave existing contacts unchanged")
    imp.add_argument("--json", action="store_true", help="print the summary as JSON")
    imp.set_defaults(func=cmd_import, needs_key=lambda a: not a.dry_run)

    exp = sub.add_parser("export-leads", help="write contacts to a CSV file")
    exp.add_argument("file")
    exp.add_argument("--list", help="only contacts of this list (name or UUID)")
    exp.add_argument("--filter", help='search filter as JSON, e.g. \'{"q": "cto"}\'')
    exp.add_argument("--concurrency", type=int, default=4, help="pages fetched at once")
    exp.set_defaults(func=cmd_export)

    who = sub.add_parser("whoami", help="show the user and teams of the API key")
    who.set_defaults(func=cmd_whoami)

    emu = sub.add_parser("emulator", help="the built-in GetSales emulator")
    emu_sub = emu.add_subparsers(dest="emulator_command", required=True)
    serve = emu_sub.add_parser(
        "serve",
        help="serve the emulator on a loopback port (default 8300)",
        description="Options after `serve` go to the emulator: --host, --port, --quota N, "
        "--no-quota, --quota-retry-after, --api-key KEY:TEAM, --seed, --error-rate, "
        "--drop-rate, --latency, --latency-for OP=SECONDS, --fail-after-commit-rate, --print-url.",
    )
    serve.set_defaults(func=cmd_emulator_serve, sync=True, needs_key=lambda a: False)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if getattr(args, "emulator_command", None) == "serve":
        args.emulator_args = extra  # everything after `serve` is the emulator's
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    needs_key = getattr(args, "needs_key", lambda a: True)(args)
    if needs_key and not os.environ.get(ENV_API_KEY):
        print(
            f"error: set {ENV_API_KEY} (GetSales → Workspace Settings → API Keys)", file=sys.stderr
        )
        return 2
    if args.rate_limit < 1:
        print("error: --rate-limit must be at least 1 request per minute", file=sys.stderr)
        return 2
    try:
        if getattr(args, "sync", False):
            return int(args.func(args))
        return int(anyio.run(args.func, args))
    except GetSalesError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\ninterrupted; rerun with --resume to continue", file=sys.stderr)
        return 130
