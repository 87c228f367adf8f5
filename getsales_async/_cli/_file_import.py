"""``import-leads --strategy file``: the server imports the rows; the list's count is watched.

After the same checks as ``--strategy rows`` (the key, the list, the team's tags; the file and its
column mapping were checked and the CSVs written by :mod:`._upload_plan`), in order:

1. ``--dry-run`` stops here and prints the plan (mapping, tag sets, rows left out, requests);
2. the list is created (``--create-list``) and missing tags are created (the import takes tag
   uuids; a per-row import creates them by name the same way);
3. one ``client.files.start_leads_import`` per tag set, one after the other (each uploads its
   CSV, reads the list's count and starts the import); a failure stops the rest, and nothing is
   re-sent after an ambiguous failure;
4. the imports are watched as one (:meth:`ServerImportJob.combined`): the list's contact count
   until every uploaded row joined it, the count stopped changing for ``--idle-timeout`` seconds,
   or ``--wait-timeout`` passed.

Exit codes: 0 when every row of the file was uploaded and seen joining the list; 1 when rows were
left out before the upload (malformed, no identifier), were not seen joining the list (already
in it or in another list, duplicates within the file, blacklisted or refused: which ones the API
does not tell), or were still pending at ``--wait-timeout``, or when a later upload was refused;
3 when an authentication error, an ambiguous failure or a lost connection stopped the uploads
after one started. Errors before the first import started are reported as usual (2 or 3).
"""

from __future__ import annotations

import argparse
import math
import sys
from dataclasses import dataclass
from typing import Any, TextIO

from .._client import AsyncGetSales
from .._csv import DELIMITERS, LeadsCsv
from .._csv_parts import DEFAULT_MAX_PART_BYTES
from .._errors import APIConnectionError, GetSalesError, InternalServerError
from .._server_import import ServerImportError
from .._server_import_job import (
    DEFAULT_IDLE_TIMEOUT_S,
    DEFAULT_WAIT_TIMEOUT_S,
    PER_ROW_NOTE,
    ServerImportJob,
    ServerImportProgress,
    ServerImportResult,
)
from ._common import (
    ExitCode,
    base_url_of,
    describe_error,
    exit_code_of,
    make_client,
    note,
    print_result,
)
from ._import_checks import Target, list_line, remote_checks
from ._strategy import StrategyChoice
from ._upload_plan import TagSet, UploadPlan

__all__ = ["run_file_import"]

PLAIN_PROGRESS_EVERY_S = 5.0
NOT_ADDED_NOTE = (
    "rows not seen joining the list were most likely already in it or in another list, "
    "repeated in the file, blacklisted or refused; which ones the API does not tell "
    "(--strategy rows reports each row)"
)


def _tags_of(args: argparse.Namespace) -> list[str]:
    return [t.strip() for t in args.tag if t.strip()]


class _Watch:
    """Progress of the watched imports on stderr: one line on a terminal, a line every 5 s otherwise."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.tty = stream.isatty()
        self._last: float | None = None

    def __call__(self, p: ServerImportProgress) -> None:
        line = (
            f"server import: {p.added:,}/{p.rows:,} rows joined the list, "
            f"{p.pending:,} not (yet), {p.elapsed:.0f} s"
        )
        if self.tty:
            self.stream.write(f"\r{line}")
        elif self._last is None or p.elapsed - self._last >= PLAIN_PROGRESS_EVERY_S:
            self._last = p.elapsed
            self.stream.write(f"{line}\n")
        self.stream.flush()

    def done(self) -> None:
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()


# ----------------------------------------------------------------------------- dry run


def _parts_of(tag_set: TagSet) -> int:
    return max(1, math.ceil(tag_set.path.stat().st_size / DEFAULT_MAX_PART_BYTES))


def _plan_lines(plan: UploadPlan, source: LeadsCsv, extra: list[str]) -> list[str]:
    delimited = DELIMITERS[source.delimiter]
    lines = [f"{source.path}: {delimited}-delimited; column mapping for a file import:"]
    lines += [f"  {c.describe()}" for c in plan.columns]
    lines += [f"  {line}" for line in _unsent_columns(source, plan)]
    lines.append(f"tags: {len(plan.sets)} set(s), one upload each:")
    lines += [f"  {s.describe(extra)}: {s.rows:,} rows" for s in plan.sets]
    return lines


def _unsent_columns(source: LeadsCsv, plan: UploadPlan) -> list[str]:
    sent = {c.column.index for c in plan.columns}
    return [
        c.describe() + (" (per-row tags: one upload per set)" if c.target == "tags" else "")
        for c in source.mapping.columns
        if c.index not in sent
    ]


def _dry_run(
    args: argparse.Namespace,
    source: LeadsCsv,
    choice: StrategyChoice,
    plan: UploadPlan,
    target: Target,
) -> int:
    extra = _tags_of(args)
    new_tags = [t for t in plan.tag_names(extra) if target.tag_uuid(t) is None]
    parts = sum(_parts_of(s) for s in plan.sets)
    requests = parts + 2 * len(plan.sets) + len(new_tags) + (target.list_uuid is None)
    code = ExitCode.ROWS_FAILED if plan.left_out else ExitCode.OK
    report = {
        "dry_run": True,
        **choice.as_dict(),
        "file": str(source.path),
        "mapping": {c.column.header: c.field for c in plan.columns},
        "list": {"name": target.list_name, "uuid": target.list_uuid},
        "tag_sets": [{"tags": list(s.with_extra(extra)), "rows": s.rows} for s in plan.sets],
        "new_tags": new_tags,
        "would_upload": plan.uploaded,
        "left_out": plan.left_out,
        "left_out_rows": plan.left_out_rows,
        "requests": requests,
        "exit_code": int(code),
    }
    lines = [choice.describe(), *_plan_lines(plan, source, extra), list_line(target, dry=True)]
    if new_tags:
        lines.append(f"tags that would be created: {', '.join(new_tags)}")
    lines.append(f"rows: {plan.uploaded:,} would be uploaded, {plan.left_out:,} left out")
    lines += [f"  line {p['line']}: {p['error']}" for p in plan.left_out_rows]
    lines.append(
        f"requests: about {requests} (uploads, list counts and starts), then a poll of the "
        "list's count every 5-60 s while the server imports"
    )
    lines.append("dry run: nothing was sent or written")
    print_result(args, report, "\n".join(lines))
    return code


# ----------------------------------------------------------------------------- the run


@dataclass
class _Stopped:
    """A tag set whose upload or start failed; the sets after it were not started."""

    number: int
    error: GetSalesError
    uncertain: bool


async def _tag_uuids(client: AsyncGetSales, target: Target, names: tuple[str, ...]) -> None:
    """Create the tags the team lacks (after every check passed); ``target.tags`` learns them."""
    for name in names:
        if target.tag_uuid(name) is None:
            created = await client.tags.create(name=name)
            target.tags[name.casefold()] = str(created.uuid)
            note(f"created tag {name!r}")


async def _start_all(
    client: AsyncGetSales,
    args: argparse.Namespace,
    plan: UploadPlan,
    target: Target,
    list_uuid: str,
) -> tuple[list[ServerImportJob], _Stopped | None]:
    extra = _tags_of(args)
    columns: dict[str, str | int | None] = {name: name for name in plan.header}
    jobs: list[ServerImportJob] = []
    for number, tag_set in enumerate(plan.sets, 1):
        tags = [target.tags[name.casefold()] for name in tag_set.with_extra(extra)]
        try:
            job = await client.files.start_leads_import(
                tag_set.path, list_uuid=list_uuid, tags=tags, columns=columns, delimiter=","
            )
        except ServerImportError as exc:  # a part started, or may have
            if exc.job is not None:
                jobs.append(exc.job)
            return jobs, _Stopped(number, exc, exc.uncertain)
        except GetSalesError as exc:  # this set's import did not start
            if not jobs:
                raise  # nothing started: reported as any error before the job
            return jobs, _Stopped(number, exc, uncertain=False)
        jobs.append(job)
        args.interrupt_hint = (
            "interrupted; the server goes on importing the uploads already started "
            "(see the list's contact count); rerunning uploads every row again"
        )
        note(f"started import {number} of {len(plan.sets)}: {tag_set.rows:,} rows")
    return jobs, None


def _stopped_report(
    args: argparse.Namespace,
    choice: StrategyChoice,
    plan: UploadPlan,
    jobs: list[ServerImportJob],
    stopped: _Stopped,
) -> int:
    error = stopped.error
    aborted = (
        stopped.uncertain
        or isinstance(error, APIConnectionError | InternalServerError)
        or exit_code_of(error) == ExitCode.ABORTED
    )
    code = ExitCode.ABORTED if aborted else ExitCode.ROWS_FAILED
    started = sum(job.rows for job in jobs)
    maybe = (
        f" (upload {stopped.number} may have started as well: compare the list's count)"
        if stopped.uncertain
        else ""
    )
    message = (
        f"import stopped at upload {stopped.number} of {len(plan.sets)}: "
        f"{describe_error(error, base_url_of(args))}; {started:,} rows were started{maybe} and "
        "the server goes on importing them; nothing was re-sent; rerunning uploads every row "
        "again (contacts already imported are matched by the server's deduplication)"
    )
    note(f"getsales: error: {message}")
    report = {
        **choice.as_dict(),
        "rows": plan.rows,
        "started": started,
        "not_started": plan.uploaded - started,
        "left_out": plan.left_out,
        "error": message,
        "exit_code": int(code),
    }
    print_result(args, report, "\n".join(f"{k:>12}: {v}" for k, v in report.items()))
    return code


def _report(
    args: argparse.Namespace,
    choice: StrategyChoice,
    plan: UploadPlan,
    list_name: str,
    job: ServerImportJob,
    result: ServerImportResult,
) -> int:
    ok = result.complete and not plan.left_out
    code = ExitCode.OK if ok else ExitCode.ROWS_FAILED
    report: dict[str, Any] = {
        **choice.as_dict(),
        "list": list_name,
        "rows": plan.rows,
        "uploaded": result.rows,
        "left_out": plan.left_out,
        "uploads": len(job.parts),
        "tag_sets": len(plan.sets),
        "outcome": result.outcome,
        "added": result.added,
        "not_added": result.pending,
        "without_identifier": result.without_identifier,
        "count_before": result.count_before,
        "count_after": result.count_after,
        "seconds": round(result.elapsed, 2),
        "left_out_rows": plan.left_out_rows,
        "note": PER_ROW_NOTE,
        "exit_code": int(code),
    }
    lines = [f"{k:>18}: {v}" for k, v in report.items() if k not in ("left_out_rows", "note")]
    lines += [f"  left out: line {p['line']}: {p['error']}" for p in plan.left_out_rows]
    if plan.left_out > len(plan.left_out_rows):
        lines.append(f"  ... and {plan.left_out - len(plan.left_out_rows)} more left out")
    if result.outcome == "timed_out":
        lines.append("note: the server may still be importing; watch the list's contact count")
    lines.append(f"note: {NOT_ADDED_NOTE if result.pending else PER_ROW_NOTE}")
    print_result(args, report, "\n".join(lines))
    return code


async def run_file_import(
    args: argparse.Namespace, source: LeadsCsv, choice: StrategyChoice, plan: UploadPlan
) -> int:
    """Run ``import-leads`` with the file strategy (see the module docstring)."""
    args.interrupt_hint = "interrupted before any import started; nothing to resume, rerun"
    async with make_client(args) as client:
        target = await remote_checks(client, args, source)
        if args.dry_run:
            return _dry_run(args, source, choice, plan, target)
        plan_lines = _plan_lines(plan, source, _tags_of(args))
        for line in [choice.describe(), *plan_lines, list_line(target, dry=False)]:
            note(line)
        list_uuid = target.list_uuid
        if list_uuid is None:
            created = await client.lists.create(name=args.list)
            list_uuid = str(created.uuid)
            note(f"created list {args.list!r} ({list_uuid})")
        await _tag_uuids(client, target, plan.tag_names(_tags_of(args)))
        jobs, stopped = await _start_all(client, args, plan, target, list_uuid)
        if stopped is not None:
            return _stopped_report(args, choice, plan, jobs, stopped)
        job = ServerImportJob.combined(jobs)
        watch = _Watch(sys.stderr)
        result = await job.wait(
            timeout=args.wait_timeout or DEFAULT_WAIT_TIMEOUT_S,
            idle_timeout=args.idle_timeout or DEFAULT_IDLE_TIMEOUT_S,
            on_progress=watch,
        )
        watch.done()
    return _report(args, choice, plan, target.list_name, job, result)
