"""``getsales export-leads``: every contact of a search or list to a CSV file, past 10,000 rows.

Uses :class:`getsales_async._export.LeadsCsvExport` (``client.leads.search_all`` split by
``created_at``): all contact fields, tags as names, ``cf:NAME`` custom field columns, cells
neutralised against CSV injection; the file re-imports with ``import-leads``. A killed export
continues with ``--resume``.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from .._export import LeadsCsvExport
from ._common import (
    EXIT_CODES_HELP,
    ExitCode,
    UsageError,
    add_global_options,
    find_list,
    make_client,
    note,
    parse_filter,
    positive_int,
    print_result,
)

__all__ = ["register", "run"]

DESCRIPTION = """\
Write every contact of a search (or of a list) to a CSV file: all contact fields, tags as names,
custom fields as cf:NAME columns. Searches past GetSales' 10,000-row window are split by
created_at, so any number of contacts is exported, each once, oldest first. The file is written
as FILE.partial and renamed when complete; an interrupted export continues with --resume. The
file re-imports with `getsales import-leads`."""


def register(sub: Any) -> None:
    """Add the ``export-leads`` command."""
    exp = sub.add_parser(
        "export-leads",
        help="write contacts to a CSV file (any number, past the 10,000-row search window)",
        description=DESCRIPTION,
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    exp.add_argument("file", help="the CSV file to write")
    exp.add_argument("--list", help="only contacts of this list (name or UUID)")
    exp.add_argument("--filter", help='search filter as a JSON object, e.g. \'{"q": "cto"}\'')
    exp.add_argument(
        "--concurrency", type=positive_int, default=4, help="pages fetched at once (default 4)"
    )
    exp.add_argument("--resume", action="store_true", help="continue an interrupted export of FILE")
    exp.add_argument(
        "--restart",
        action="store_true",
        help="discard an interrupted export of FILE and start over",
    )
    add_global_options(exp, after_command=True)
    exp.set_defaults(run=run, needs_key=True)


def _local_checks(args: argparse.Namespace) -> tuple[Path, dict[str, Any]]:
    if args.resume and args.restart:
        raise UsageError("--resume and --restart contradict each other; pass one")
    out = Path(args.file)
    if out.is_dir():
        raise UsageError(f"{out} is a directory; give a file path")
    if not out.parent.is_dir():
        raise UsageError(f"cannot write {out}: the directory {out.parent} does not exist")
    return out, parse_filter(args.filter)


async def run(args: argparse.Namespace) -> int:
    """Run ``export-leads``; returns the exit code."""
    out, search_filter = _local_checks(args)
    async with make_client(args) as client:
        if args.list and not args.resume:
            found = await find_list(client, args.list)
            if found is None:
                raise UsageError(
                    f"no list {args.list!r}; check the name (getsales whoami shows the key's team)"
                )
            search_filter["list_uuid"] = found[0]
        export = LeadsCsvExport(client, out, filter=search_filter, concurrency=args.concurrency)
        if export.interrupted() and not (args.resume or args.restart):
            raise UsageError(
                f"an interrupted export of {out} exists ({export.checkpoint_path}): pass --resume to continue it or --restart to start over"
            )
        if args.resume and not export.interrupted():
            note(f"nothing to resume for {out}; starting a new export")
        rows = await export.run(resume=args.resume and export.interrupted())
    print_result(
        args,
        {"file": str(out), "rows": rows, "exit_code": int(ExitCode.OK)},
        f"exported {rows} contacts to {out}",
    )
    return ExitCode.OK
