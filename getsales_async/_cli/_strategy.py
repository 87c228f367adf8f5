"""Which way ``import-leads`` imports: ``--strategy auto|rows|file`` (decided before any request).

- ``rows``: one upsert per row at the key's quota, with a result per row (created, updated,
  skipped, failed), a failed-rows CSV and a checkpoint to ``--resume``.
- ``file``: the server imports uploaded CSVs in the background (a few requests for any number of
  rows); what is observable is the list's contact count, not a result per row.
- ``auto`` (the default) takes ``file`` for more than :data:`AUTO_FILE_ABOVE_ROWS` data rows,
  unless the run asks for what only ``rows`` gives: a per-row option (:data:`ROWS_ONLY`), an
  earlier per-row run to resume (``FILE.checkpoint`` exists), custom field columns, or more tag
  sets than a file import takes. It says which it chose and why.

Asking for ``file`` with a per-row option, or ``rows`` with a file-only option, is a usage error.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from .._csv import LeadsCsv
from ._common import UsageError
from ._upload_plan import NotForFile, UploadPlan, prepare_upload, upload_columns

__all__ = ["AUTO_FILE_ABOVE_ROWS", "FILE_ONLY", "ROWS_ONLY", "StrategyChoice", "choose_strategy"]

AUTO_FILE_ABOVE_ROWS = 2_000  # about 7 minutes of a 300/min quota one row at a time
ROWS_ONLY = {  # option dest -> flag: what only a per-row import does
    "resume": "--resume",
    "restart": "--restart",
    "checkpoint": "--checkpoint",
    "failed_csv": "--failed-csv",
    "concurrency": "--concurrency",
    "move_to_list": "--move-to-list",
    "no_update": "--no-update",
}
FILE_ONLY = {"wait_timeout": "--wait-timeout", "idle_timeout": "--idle-timeout"}
Strategy = Literal["rows", "file"]


@dataclass
class StrategyChoice:
    """The strategy, why, and (for ``file``) the CSVs prepared for upload."""

    strategy: Strategy
    reason: str
    auto: bool
    plan: UploadPlan | None = None
    unused: list[str] = field(default_factory=list)
    """File-only options given to an ``auto`` run that chose ``rows``."""

    def describe(self) -> str:
        """``strategy: file (auto: 12,000 rows, more than 2,000, ...)``."""
        return f"strategy: {self.strategy} ({'auto: ' if self.auto else ''}{self.reason})"

    def as_dict(self) -> dict[str, str]:
        """The choice in a JSON report."""
        return {"strategy": self.strategy, "strategy_reason": self.reason}


def _given(args: argparse.Namespace, options: dict[str, str]) -> list[str]:
    return [
        flag for dest, flag in options.items() if getattr(args, dest, None) not in (None, False)
    ]


def choose_strategy(args: argparse.Namespace, source: LeadsCsv) -> StrategyChoice:
    """Decide ``args.strategy`` for ``source`` (local: reads the file, sends nothing).

    Raises:
        UsageError: an option of the other strategy, or a file ``--strategy file`` cannot import.
    """
    rows_only, file_only = _given(args, ROWS_ONLY), _given(args, FILE_ONLY)
    if args.strategy == "rows":
        if file_only:
            raise UsageError(
                f"{file_only[0]} applies to --strategy file only; drop it, or pass --strategy file"
            )
        return StrategyChoice("rows", "--strategy rows", auto=False)
    if args.strategy == "file":
        if rows_only:
            raise UsageError(
                f"{rows_only[0]} needs per-row results, which --strategy file cannot give; "
                "drop it, or pass --strategy rows"
            )
        try:
            plan = prepare_upload(source, upload_columns(source.mapping))
        except NotForFile as exc:
            raise UsageError(f"--strategy file: {exc}") from None
        return StrategyChoice("file", "--strategy file", auto=False, plan=plan)
    choice = _auto(args, source, rows_only)
    if choice.strategy == "rows":
        choice.unused = file_only
    return choice


def _auto(args: argparse.Namespace, source: LeadsCsv, rows_only: list[str]) -> StrategyChoice:
    def rows(reason: str) -> StrategyChoice:
        return StrategyChoice("rows", reason, auto=True)

    if rows_only:
        return rows(f"{rows_only[0]} asks for per-row results")
    checkpoint = Path(f"{args.file}.checkpoint")
    if checkpoint.exists():
        return rows(f"{checkpoint} holds an earlier per-row run")
    try:
        columns = upload_columns(source.mapping)
    except NotForFile as exc:
        return rows(exc.reason)
    total = source.count()
    if total <= AUTO_FILE_ABOVE_ROWS:
        return rows(f"{total:,} rows, not more than {AUTO_FILE_ABOVE_ROWS:,}")
    try:
        plan = prepare_upload(source, columns)
    except NotForFile as exc:
        return rows(exc.reason)
    reason = f"{total:,} rows, more than {AUTO_FILE_ABOVE_ROWS:,}, and no per-row option given"
    return StrategyChoice("file", reason, auto=True, plan=plan)
