"""``getsales import-leads``: contacts from a CSV file into a list, per row or server-side.

In order, and nothing is written before the last check passes:

1. local checks: the file, its delimiter and column mapping (:mod:`._import_checks`), the
   strategy (:mod:`._strategy`: ``rows``, ``file`` or ``auto``); for ``rows`` the checkpoint
   (and, resuming, that the options mean the same job), for ``file`` the CSVs to upload;
2. server checks (reads only): the key, the list (created only with ``--create-list``), the
   custom fields of the ``cf:`` columns, the team's tags;
3. ``--dry-run`` stops here and prints the plan; otherwise the mapping is printed and the job
   runs: per row here (:func:`getsales_async.bulk_upsert`), or server-side
   (:mod:`._file_import`), then the summary and the exit code.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._checkpoint import CheckpointError
from .._client import AsyncGetSales
from .._csv import CsvProblem, LeadsCsv
from .._import_checkpoint import CheckpointHeader, ImportCheckpoint, ResumeState
from .._import_types import BulkImportAborted, BulkImportSummary, row_identifier_problem
from .._row_identity import RowIdentities
from .._server_import_job import DEFAULT_IDLE_TIMEOUT_S, DEFAULT_WAIT_TIMEOUT_S
from ._common import (
    EXIT_CODES_HELP,
    ExitCode,
    ProgressBar,
    UsageError,
    add_global_options,
    base_url_of,
    describe_error,
    make_client,
    note,
    positive_int,
    positive_seconds,
    print_result,
)
from ._file_import import run_file_import
from ._import_checks import Target, list_line, mapping_lines, open_source, remote_checks
from ._strategy import AUTO_FILE_ABOVE_ROWS, StrategyChoice, choose_strategy
from ._upload_plan import MAX_TAG_SETS

__all__ = ["register", "run"]

SHOWN_PROBLEMS = 20  # invalid rows listed by a dry run
DEFAULT_CONCURRENCY = 8

DESCRIPTION = f"""\
Upsert contacts from a CSV file into a list, at the key's full quota, resumably.

Columns map to contact fields by name, case and separators ignored (First Name = first_name),
or through aliases (LinkedIn URL -> linkedin_id, Email -> email, Company -> company_name, Title ->
position, ...); cf:NAME columns set the custom field NAME; --map overrides. Unknown columns are
an error unless --ignore-unknown-columns. The mapping is printed before the job starts.

Every row ends created, updated, skipped or failed. Failed rows go to FILE.failed.csv with all
their columns plus import_line and import_error: fix them in FILE and rerun with --resume, which
sends only the rows not yet done (failed, new and edited rows) and keeps the failed CSV listing
every row still failing.

Strategies (--strategy): rows sends one upsert per row, with the per-row results above. file
uploads the rows as CSV for the server to import in the background: a few requests for any
number of rows, but the API reports no result per row, only how many contacts joined the list
(exit 0 when every row did; 1 when rows were left out as malformed, were not seen joining the
list - already there, repeated, blacklisted - or were still pending at --wait-timeout). file
cannot set custom fields (cf: columns), move contacts from other lists, leave them unchanged,
resume or write a failed-rows CSV; per-row tags work (one upload per distinct set of tags, at
most {MAX_TAG_SETS}). auto, the default, takes file for more than {AUTO_FILE_ABOVE_ROWS:,} rows unless a rows-only
option (--resume, --restart, --checkpoint, --failed-csv, --concurrency, --move-to-list,
--no-update), an earlier per-row checkpoint, cf: columns or too many tag sets need rows; it
prints which it chose and why."""


def register(sub: Any) -> None:
    """Add the ``import-leads`` command."""
    imp = sub.add_parser(
        "import-leads",
        help="import contacts from a CSV file into a list (per row, or server-side)",
        description=DESCRIPTION,
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    imp.add_argument("file", help="the CSV file (UTF-8; comma, semicolon, tab or pipe delimited)")
    imp.add_argument("--list", required=True, help="the list's name or UUID")
    _what_options(imp)
    _column_options(imp)
    _job_options(imp)
    _strategy_options(imp)
    add_global_options(imp, after_command=True)
    imp.set_defaults(run=run, needs_key=True)


def _what_options(imp: argparse.ArgumentParser) -> None:
    """Options that change what the job does to each contact (its meaning)."""
    imp.add_argument(
        "--create-list", action="store_true", help="create the list when no list has that name"
    )
    imp.add_argument(
        "--move-to-list",
        action="store_true",
        help="move contacts that exist in another list into this one (rows only)",
    )
    imp.add_argument(
        "--no-update",
        action="store_true",
        help="leave existing contacts unchanged (reported as skipped; rows only)",
    )
    imp.add_argument(
        "--tag",
        action="append",
        default=[],
        metavar="NAME",
        help="add this tag to every contact (repeatable)",
    )


def _column_options(imp: argparse.ArgumentParser) -> None:
    """Options of the column mapping and the file's format."""
    imp.add_argument(
        "--map",
        action="append",
        default=[],
        metavar="HEADER=FIELD",
        help='map a column to a field ("Profile=linkedin_id", "Segment=cf:segment") or ignore it ("Notes=")',
    )
    imp.add_argument(
        "--ignore-unknown-columns",
        action="store_true",
        help="leave out columns that match no field instead of stopping",
    )
    imp.add_argument(
        "--delimiter", help="comma, semicolon, tab or pipe (default: detected from the header)"
    )


def _job_options(imp: argparse.ArgumentParser) -> None:
    """Options of the run: pace, checks only, resume, where records go."""
    imp.add_argument(
        "--concurrency",
        type=positive_int,
        help=f"requests in flight (default {DEFAULT_CONCURRENCY}; rows only)",
    )
    imp.add_argument(
        "--dry-run",
        action="store_true",
        help="check the file and the server (reads only) and print the plan; send nothing",
    )
    imp.add_argument(
        "--resume",
        action="store_true",
        help="continue the job in the checkpoint: send only rows not done yet (rows only)",
    )
    imp.add_argument(
        "--restart",
        action="store_true",
        help="discard an existing checkpoint and send every row again (rows only)",
    )
    imp.add_argument("--checkpoint", help="checkpoint file (default FILE.checkpoint; rows only)")
    imp.add_argument(
        "--failed-csv", help="where rows still failing go (default FILE.failed.csv; rows only)"
    )


def _strategy_options(imp: argparse.ArgumentParser) -> None:
    """Options of the strategy and of the server-side import."""
    imp.add_argument(
        "--strategy",
        choices=("auto", "rows", "file"),
        default="auto",
        help=f"rows: one upsert per row, results per row; file: server-side import of uploaded "
        f"CSVs, no per-row results; auto (default): file above {AUTO_FILE_ABOVE_ROWS:,} rows "
        "unless the run needs rows",
    )
    imp.add_argument(
        "--wait-timeout",
        type=positive_seconds,
        metavar="SECONDS",
        help=f"file: stop watching the list's count after this long (default {DEFAULT_WAIT_TIMEOUT_S:.0f})",
    )
    imp.add_argument(
        "--idle-timeout",
        type=positive_seconds,
        metavar="SECONDS",
        help="file: take the rows not yet in the list as not added once its count has not "
        f"changed for this long (default {DEFAULT_IDLE_TIMEOUT_S:.0f})",
    )


# ----------------------------------------------------------------------------- local checks


@dataclass
class _Local:
    """What the local checks found."""

    source: LeadsCsv
    input_name: str
    checkpoint: Path
    failed_csv: Path
    resume: bool
    existing: tuple[CheckpointHeader, ResumeState] | None
    tags: tuple[str, ...]


def _writable_target(path: Path, what: str) -> None:
    if path.is_dir():
        raise UsageError(f"{what} {path} is a directory; give a file path")
    if not path.parent.is_dir():
        raise UsageError(f"{what} {path}: the directory {path.parent} does not exist")


def _check_same_job(
    args: argparse.Namespace, header: CheckpointHeader, input_name: str, tags: tuple[str, ...]
) -> None:
    changes = []
    if header.input != input_name:
        changes.append(f"the input was {header.input!r}")
    if args.list not in (header.labels.get("list"), header.meaning.list_uuid):
        changes.append(f"the list was {header.labels.get('list') or header.meaning.list_uuid!r}")
    if header.meaning.update_if_exists == args.no_update:
        changes.append(f"--no-update was {'off' if header.meaning.update_if_exists else 'on'}")
    if header.meaning.move_to_list != args.move_to_list:
        changes.append(f"--move-to-list was {'on' if header.meaning.move_to_list else 'off'}")
    if tuple(sorted(header.meaning.tags)) != tags:
        changes.append(f"the --tag values were {list(header.meaning.tags)}")
    if changes:
        raise UsageError(
            f"cannot resume: {'; '.join(changes)} when checkpoint {args.checkpoint_path} was started; "
            "resume with the same options, or pass --restart to start a new job"
        )


def _local_checks(args: argparse.Namespace, source: LeadsCsv) -> _Local:
    if args.resume and args.restart:
        raise UsageError("--resume and --restart contradict each other; pass one")
    path = Path(args.file)
    checkpoint = Path(args.checkpoint or f"{path}.checkpoint")
    failed_csv = Path(args.failed_csv or f"{path}.failed.csv")
    _writable_target(checkpoint, "checkpoint")
    _writable_target(failed_csv, "failed CSV")
    args.checkpoint_path = checkpoint
    existing = ImportCheckpoint.peek(checkpoint)
    tags = tuple(sorted({t.strip() for t in args.tag if t.strip()}))
    input_name = str(path.resolve())
    if existing is not None and not (args.resume or args.restart):
        raise UsageError(
            f"checkpoint {checkpoint} holds an earlier run of this import: pass --resume to "
            "continue it (only rows not done are sent) or --restart to start over"
        )
    if existing is not None and args.resume:
        _check_same_job(args, existing[0], input_name, tags)
    return _Local(
        source,
        input_name,
        checkpoint,
        failed_csv,
        args.resume,
        existing if args.resume else None,
        tags,
    )


# ----------------------------------------------------------------------------- server checks


# ----------------------------------------------------------------------------- dry run


def _plan(local: _Local) -> dict[str, Any]:
    """What a run would do with each row (read from the file and the checkpoint; nothing sent)."""
    state = local.existing[1] if local.existing else None
    identities = RowIdentities()
    counts = dict.fromkeys(
        ("would_send", "invalid", "already_done", "new", "changed", "retried"), 0
    )
    problems: list[dict[str, Any]] = []
    tags: set[str] = set(local.tags)
    for item in local.source.rows():
        row = item.to_row() if isinstance(item, CsvProblem) else item
        row_id, contact = identities.identify(row)
        previous = state.latest.get(row_id) if state else None
        if previous is not None and previous.succeeded:
            counts["already_done"] += 1
            continue
        kind = (
            "retried" if previous else "changed" if state and contact in state.contacts else "new"
        )
        counts[kind] += 1
        problem = row.problem or row_identifier_problem(row.lead)
        if problem is not None:
            counts["invalid"] += 1
            if len(problems) < SHOWN_PROBLEMS:
                problems.append({"line": row.line, "error": problem})
            continue
        counts["would_send"] += 1
        tags.update(row.lead.get("tags") or [])
    return {**counts, "invalid_rows": problems, "tags": sorted(tags)}


def _dry_run(
    args: argparse.Namespace, local: _Local, target: Target, choice: StrategyChoice
) -> int:
    plan = _plan(local)
    new_tags = [t for t in plan.pop("tags") if target.tag_uuid(t) is None]
    minutes = plan["would_send"] / (args.rate_limit * 0.99)
    code = ExitCode.ROWS_FAILED if plan["invalid"] else ExitCode.OK
    report = {
        "dry_run": True,
        **choice.as_dict(),
        "file": str(local.source.path),
        "delimiter": local.source.delimiter,
        "mapping": local.source.mapping.as_dict(),
        "list": {
            "name": target.list_name,
            "uuid": target.list_uuid,
            "exists": target.list_uuid is not None,
        },
        "custom_fields": local.source.mapping.custom_fields,
        "new_tags": new_tags,
        **plan,
        "estimated_minutes": round(minutes, 1),
        "exit_code": int(code),
    }
    lines = [choice.describe(), *mapping_lines(local.source), list_line(target, dry=True)]
    if local.source.mapping.custom_fields:
        lines.append(f"custom fields: {', '.join(local.source.mapping.custom_fields)} (all exist)")
    if new_tags:
        lines.append(f"tags that would be created: {', '.join(new_tags)}")
    lines.append(f"rows: {plan['would_send']} would be sent, {plan['invalid']} cannot be sent")
    if local.existing is not None:
        lines.append(
            f"resume: {plan['already_done']} already done, {plan['retried']} failed before, {plan['new']} new, {plan['changed']} changed"
        )
    lines += [f"  line {p['line']}: {p['error']}" for p in plan["invalid_rows"]]
    lines.append(f"at {args.rate_limit} requests/min that takes about {minutes:.1f} min")
    lines.append("dry run: nothing was sent or written")
    print_result(args, report, "\n".join(lines))
    return code


# ----------------------------------------------------------------------------- the run


async def _run_job(
    client: AsyncGetSales, args: argparse.Namespace, local: _Local, list_uuid: str
) -> tuple[BulkImportSummary, ExitCode, str | None]:
    total = local.source.count()
    try:
        summary = await client.leads.bulk_upsert(
            local.source.rows(),
            list_uuid=list_uuid,
            update_if_exists=not args.no_update,
            move_to_list=args.move_to_list,
            tags=local.tags,
            concurrency=args.concurrency or DEFAULT_CONCURRENCY,
            checkpoint=local.checkpoint,
            resume=local.resume,
            input_name=local.input_name,
            checkpoint_labels={"list": args.list},
            failed_csv=local.failed_csv,
            total=total,
            on_progress=ProgressBar(sys.stderr, total),
        )
    except BulkImportAborted as exc:
        return exc.summary, ExitCode.ABORTED, describe_error(exc.cause, base_url_of(args))
    return summary, ExitCode.ROWS_FAILED if summary.still_failing else ExitCode.OK, None


def _report(
    args: argparse.Namespace,
    local: _Local,
    list_name: str,
    summary: BulkImportSummary,
    code: ExitCode,
    error: str | None,
    choice: StrategyChoice,
) -> int:
    report: dict[str, Any] = {
        **choice.as_dict(),
        "list": list_name,
        "rows": summary.done + summary.resumed,
        "created": summary.created,
        "updated": summary.updated,
        "skipped": summary.skipped,
        "failed": summary.failed,
        "invalid": summary.invalid,
        "already_done": summary.resumed,
        "new": summary.new,
        "changed": summary.changed,
        "retried": summary.retried,
        "still_failing": summary.still_failing,
        "rate_limited_429": summary.rate_limited,
        "retries": summary.retries,
        "seconds": round(summary.elapsed_s, 2),
        "rows_per_second": round(summary.rows_per_second, 1),
        "failed_csv": str(local.failed_csv),
        "checkpoint": str(local.checkpoint),
        "exit_code": int(code),
    }
    if error is not None:
        report["error"] = error
        note(f"getsales: error: import stopped: {error}; rerun with --resume once fixed")
    if summary.checkpoint_repaired:
        note(
            "note: the checkpoint's torn last record was cut (a crash mid-write); those rows were sent again"
        )
    print_result(args, report, "\n".join(f"{k:>18}: {v}" for k, v in report.items()))
    return code


async def _run_rows(args: argparse.Namespace, source: LeadsCsv, choice: StrategyChoice) -> int:
    """The per-row import: local checks (checkpoint, failed CSV), server checks, the job."""
    local = _local_checks(args, source)
    async with make_client(args) as client:
        existing = local.existing[0].meaning.list_uuid if local.existing else None
        target = await remote_checks(client, args, source, resume_list_uuid=existing)
        if args.dry_run:
            return _dry_run(args, local, target, choice)
        unused = [f"note: {flag} is not used by the rows strategy" for flag in choice.unused]
        for line in [
            choice.describe(),
            *unused,
            *mapping_lines(source),
            list_line(target, dry=False),
        ]:
            note(line)
        list_uuid = target.list_uuid
        if list_uuid is None:
            created = await client.lists.create(name=args.list)
            list_uuid = str(created.uuid)
            note(f"created list {args.list!r} ({list_uuid})")
        try:
            summary, code, error = await _run_job(client, args, local, list_uuid)
        except CheckpointError as exc:
            raise UsageError(str(exc)) from exc
    return _report(args, local, target.list_name, summary, code, error, choice)


async def run(args: argparse.Namespace) -> int:
    """Run ``import-leads`` (see the module docstring); returns the exit code."""
    source = open_source(args)
    choice = choose_strategy(args, source)
    if choice.plan is None:
        return await _run_rows(args, source, choice)
    with choice.plan as plan:
        return await run_file_import(args, source, choice, plan)
