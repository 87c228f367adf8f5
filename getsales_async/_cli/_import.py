"""``getsales import-leads``: upsert contacts from a CSV file into a list, resumably.

In order, and nothing is written before the last check passes:

1. local checks: the file, its delimiter and column mapping, the checkpoint (and, resuming,
   that the options mean the same job);
2. server checks (reads only): the key, the list (created only with ``--create-list``), the
   custom fields of the ``cf:`` columns;
3. ``--dry-run`` stops here and prints the plan; otherwise the mapping is printed and the job
   runs (:func:`getsales_async.bulk_upsert`), then the summary and the exit code.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._checkpoint import CheckpointError
from .._client import AsyncGetSales
from .._csv import DELIMITERS, CsvProblem, LeadsCsv
from .._export import _object_of
from .._import_checkpoint import CheckpointHeader, ImportCheckpoint, ResumeState
from .._import_types import BulkImportAborted, BulkImportSummary, row_identifier_problem
from .._row_identity import RowIdentities
from ._common import (
    EXIT_CODES_HELP,
    PREFLIGHT,
    UUID_RE,
    ExitCode,
    ProgressBar,
    UsageError,
    add_global_options,
    base_url_of,
    describe_error,
    find_list,
    make_client,
    note,
    positive_int,
    print_result,
)

__all__ = ["register", "run"]

DELIMITER_NAMES = {
    "comma": ",",
    "semicolon": ";",
    "tab": "\t",
    "\\t": "\t",
    "pipe": "|",
    **{d: d for d in DELIMITERS},
}
SHOWN_PROBLEMS = 20  # invalid rows listed by a dry run
SHOWN_NAMES = 10  # existing lists named when a list is not found

DESCRIPTION = """\
Upsert contacts from a CSV file into a list, at the key's full quota, resumably.

Columns map to contact fields by name, case and separators ignored (First Name = first_name),
or through aliases (LinkedIn URL -> linkedin_id, Email -> email, Company -> company_name, Title ->
position, ...); cf:NAME columns set the custom field NAME; --map overrides. Unknown columns are
an error unless --ignore-unknown-columns. The mapping is printed before the job starts.

Every row ends created, updated, skipped or failed. Failed rows go to FILE.failed.csv with all
their columns plus import_line and import_error: fix them in FILE and rerun with --resume, which
sends only the rows not yet done (failed, new and edited rows) and keeps the failed CSV listing
every row still failing."""


def register(sub: Any) -> None:
    """Add the ``import-leads`` command."""
    imp = sub.add_parser(
        "import-leads",
        help="upsert contacts from a CSV file into a list",
        description=DESCRIPTION,
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    imp.add_argument("file", help="the CSV file (UTF-8; comma, semicolon, tab or pipe delimited)")
    imp.add_argument("--list", required=True, help="the list's name or UUID")
    _what_options(imp)
    _column_options(imp)
    _job_options(imp)
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
        help="move contacts that exist in another list into this one",
    )
    imp.add_argument(
        "--no-update",
        action="store_true",
        help="leave existing contacts unchanged (reported as skipped)",
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
        "--concurrency", type=positive_int, default=8, help="requests in flight (default 8)"
    )
    imp.add_argument(
        "--dry-run",
        action="store_true",
        help="check the file and the server (reads only) and print the plan; send nothing",
    )
    imp.add_argument(
        "--resume",
        action="store_true",
        help="continue the job in the checkpoint: send only rows not done yet",
    )
    imp.add_argument(
        "--restart",
        action="store_true",
        help="discard an existing checkpoint and send every row again",
    )
    imp.add_argument("--checkpoint", help="checkpoint file (default FILE.checkpoint)")
    imp.add_argument("--failed-csv", help="where rows still failing go (default FILE.failed.csv)")


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


def _overrides(values: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in values:
        header, sep, target = item.rpartition("=")
        if not sep or not header.strip():
            raise UsageError(
                f'--map {item!r}: write it as "Header=field" (or "Header=" to ignore the column)'
            )
        out[header.strip()] = target.strip()
    return out


def _delimiter(text: str | None) -> str | None:
    if text is None:
        return None
    chosen = DELIMITER_NAMES.get(text.strip().lower()) or DELIMITER_NAMES.get(text)
    if chosen is None:
        raise UsageError(f"--delimiter {text!r}: use comma, semicolon, tab or pipe")
    return chosen


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


def _local_checks(args: argparse.Namespace) -> _Local:
    if args.resume and args.restart:
        raise UsageError("--resume and --restart contradict each other; pass one")
    path = Path(args.file)
    source = LeadsCsv.open(
        path,
        delimiter=_delimiter(args.delimiter),
        overrides=_overrides(args.map),
        ignore_unknown=args.ignore_unknown_columns,
    )
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


@dataclass
class _Target:
    """What the server checks found."""

    list_uuid: str | None  # None: the list is to be created
    list_name: str
    existing_tags: set[str] = field(default_factory=set)


async def _list_names(client: AsyncGetSales) -> list[str]:
    names: list[str] = []
    async for lst in client.lists.list(request_options=PREFLIGHT):
        names.append(str(lst.name))
        if len(names) > SHOWN_NAMES:
            break
    return names


async def _check_custom_fields(client: AsyncGetSales, wanted: list[str]) -> None:
    if not wanted:
        return
    known: set[str] = set()
    async for cf in client.custom_fields.list(request_options=PREFLIGHT):
        if _object_of(cf) == "lead":
            known.update({str(cf.name).casefold(), str(cf.uuid)})
    missing = [name for name in wanted if name.casefold() not in known and name not in known]
    if missing:
        listed = ", ".join(repr(m) for m in missing)
        raise UsageError(
            f"contact custom field(s) {listed} do not exist; create them in GetSales "
            f'(Settings > Custom fields) or leave the column out with --map "cf:{missing[0]}="'
        )


async def _remote_checks(client: AsyncGetSales, args: argparse.Namespace, local: _Local) -> _Target:
    await client.teams.get_current_user(request_options=PREFLIGHT)  # the key works
    found = await find_list(client, args.list)
    if found is None and (not args.create_list or UUID_RE.match(args.list)):
        names = await _list_names(client)
        shown = ", ".join(repr(n) for n in names[:SHOWN_NAMES]) + (
            ", ..." if len(names) > SHOWN_NAMES else ""
        )
        hint = "" if UUID_RE.match(args.list) else ", or pass --create-list to create it"
        raise UsageError(f"no list {args.list!r} (lists: {shown or 'none'}); check the name{hint}")
    if local.existing is not None and (
        found is None or found[0] != local.existing[0].meaning.list_uuid
    ):
        raise UsageError(
            f"cannot resume: the checkpoint's list {local.existing[0].meaning.list_uuid} is not {args.list!r}"
        )
    await _check_custom_fields(client, local.source.mapping.custom_fields)
    tags = {
        str(t.name).casefold() async for t in client.tags.list(request_options=PREFLIGHT) if t.name
    }
    return _Target(found[0] if found else None, found[1] if found else args.list, tags)


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


def _dry_run(args: argparse.Namespace, local: _Local, target: _Target) -> int:
    plan = _plan(local)
    new_tags = [t for t in plan.pop("tags") if t.casefold() not in target.existing_tags]
    minutes = plan["would_send"] / (args.rate_limit * 0.99)
    code = ExitCode.ROWS_FAILED if plan["invalid"] else ExitCode.OK
    report = {
        "dry_run": True,
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
    lines = [*_mapping_lines(local), _list_line(target, dry=True)]
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


def _mapping_lines(local: _Local) -> list[str]:
    source = local.source
    head = f"{source.path}: {DELIMITERS[source.delimiter]}-delimited; column mapping:"
    return [head, *(f"  {line}" for line in source.mapping.describe())]


def _list_line(target: _Target, *, dry: bool) -> str:
    if target.list_uuid is None:
        return f"list: {target.list_name!r} does not exist; it {'would be' if dry else 'will be'} created (--create-list)"
    return f"list: {target.list_name!r} ({target.list_uuid})"


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
            concurrency=args.concurrency,
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
) -> int:
    report: dict[str, Any] = {
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


async def run(args: argparse.Namespace) -> int:
    """Run ``import-leads`` (see the module docstring); returns the exit code."""
    local = _local_checks(args)
    async with make_client(args) as client:
        target = await _remote_checks(client, args, local)
        if args.dry_run:
            return _dry_run(args, local, target)
        for line in [*_mapping_lines(local), _list_line(target, dry=False)]:
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
    return _report(args, local, target.list_name, summary, code, error)
