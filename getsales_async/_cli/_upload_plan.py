"""What ``import-leads --strategy file`` uploads: the file's rows, regrouped by their tags (local).

A server-side import takes its columns (``{field: column}``), a list and one set of tag uuids for
every row: it has no per-row tags and no custom fields. So, before any request:

- **Columns.** The file's column mapping is the one ``--strategy rows`` uses
  (:class:`~getsales_async._columns.ColumnMapping`: names, aliases, ``--map``). Each contact field
  column is uploaded under its field name; ``email`` (the upsert's generic e-mail) goes as
  ``work_email`` and ``linkedin`` as ``linkedin_id``, the import's names. ``cf:`` columns, two
  columns that would feed one import field, or no ``linkedin_id`` / ``work_email`` /
  ``personal_email`` column make the file unfit for a file import (:class:`NotForFile`).
- **Tags.** Rows are written to one CSV per distinct set of row tags (the ``tags`` column, case
  ignored), at most :data:`MAX_TAG_SETS`, each row in file order within its set; each set is
  imported with its tags (plus ``--tag``). Rows of one contact that carry different tags land
  in different uploads, imported one upload after the other, so which row's values the contact
  ends with can differ from a per-row import (where the later line wins).
- **Rows left out.** Rows that cannot be sent (malformed, or no identifier at all) are left out
  and reported by line, as ``--strategy rows`` fails them without a request.

The CSVs go to a temporary directory, deleted by :meth:`UploadPlan.close`.
"""

from __future__ import annotations

import csv
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from .._columns import Column, ColumnMapping
from .._csv import CsvProblem, LeadsCsv
from .._import_mapping import IDENTIFIER_FIELDS

__all__ = [
    "MAX_TAG_SETS",
    "NotForFile",
    "TagSet",
    "UploadColumn",
    "UploadPlan",
    "prepare_upload",
    "upload_columns",
]

MAX_TAG_SETS = 32  # distinct sets of row tags (one upload each) a file import accepts
SHOWN_LEFT_OUT = 20  # rows left out listed by line
RENAMED = {"email": "work_email", "linkedin": "linkedin_id"}  # upsert field -> import field


class NotForFile(Exception):
    """The file cannot be imported with ``--strategy file``: ``reason``, and ``fix`` (what to do)."""

    def __init__(self, reason: str, fix: str) -> None:
        super().__init__(f"{reason}; {fix}")
        self.reason = reason
        self.fix = fix


@dataclass(frozen=True)
class UploadColumn:
    """A column of the file and the import field it is uploaded as."""

    column: Column
    field: str

    def describe(self) -> str:
        """One line of the printed mapping."""
        line = self.column.describe()
        return line if self.column.target == self.field else f"{line}, uploaded as {self.field}"


def upload_columns(mapping: ColumnMapping) -> list[UploadColumn]:
    """The columns a file import sends, under the import's field names.

    Raises:
        NotForFile: a custom field column, two columns for one import field, no identifier.
    """
    for c in mapping.columns:
        if c.kind == "custom":
            raise NotForFile(
                f"column {c.header!r} sets the custom field {c.target!r}, which a file import cannot",
                f'use --strategy rows, or leave the column out with --map "{c.header}="',
            )
    out: list[UploadColumn] = []
    owners: dict[str, str] = {}
    for c in mapping.columns:
        if c.kind != "field" or c.target is None or c.target == "tags":
            continue
        name = RENAMED.get(c.target, c.target)
        if name in owners:
            raise NotForFile(
                f"columns {owners[name]!r} and {c.header!r} both become {name} in a file import",
                f'use --strategy rows, or leave one out with --map "{c.header}="',
            )
        owners[name] = c.header
        out.append(UploadColumn(c, name))
    if not any(u.field in IDENTIFIER_FIELDS for u in out):
        raise NotForFile(
            "a file import needs a linkedin_id, work_email or personal_email column",
            "use --strategy rows (it also matches contacts by name and company)",
        )
    return out


def _distinct(names: Iterable[str]) -> tuple[str, ...]:
    """Tag names without blanks and case-insensitive repeats, sorted (case ignored)."""
    seen: dict[str, str] = {}
    for name in names:
        text = name.strip()
        if text:
            seen.setdefault(text.casefold(), text)
    return tuple(sorted(seen.values(), key=str.casefold))


@dataclass
class TagSet:
    """The rows that carry one set of tags, written to their own CSV."""

    tags: tuple[str, ...]
    path: Path
    rows: int = 0

    def with_extra(self, extra: Sequence[str]) -> tuple[str, ...]:
        """This set's tags plus ``extra`` (``--tag``), without repeats."""
        return _distinct([*self.tags, *extra])

    def describe(self, extra: Sequence[str]) -> str:
        """``'demo' + 'q4'``, or ``no tags``."""
        names = self.with_extra(extra)
        return " + ".join(repr(n) for n in names) if names else "no tags"


@dataclass
class UploadPlan:
    """The CSVs to upload (one per :class:`TagSet`) and the rows left out."""

    columns: list[UploadColumn]
    sets: list[TagSet]
    rows: int = 0
    """Data rows in the file."""
    left_out: int = 0
    left_out_rows: list[dict[str, Any]] = field(default_factory=list)
    """A sample (:data:`SHOWN_LEFT_OUT`) of the rows left out: ``{"line", "error"}``."""
    directory: tempfile.TemporaryDirectory[str] | None = None

    @property
    def header(self) -> list[str]:
        """The uploaded CSVs' header: import field names."""
        return [c.field for c in self.columns]

    @property
    def uploaded(self) -> int:
        """Rows written to the CSVs (every row not left out)."""
        return sum(s.rows for s in self.sets)

    def tag_names(self, extra: Sequence[str]) -> tuple[str, ...]:
        """Every tag the import applies (row tags and ``extra``), without repeats."""
        return _distinct([*extra, *(t for s in self.sets for t in s.tags)])

    def close(self) -> None:
        """Delete the CSVs."""
        if self.directory is not None:
            self.directory.cleanup()
            self.directory = None

    def __enter__(self) -> UploadPlan:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class _Writers:
    """One open CSV per tag set, created as sets appear."""

    def __init__(self, plan: UploadPlan, folder: Path) -> None:
        self.plan = plan
        self.folder = folder
        self.open: dict[frozenset[str], tuple[TagSet, IO[str], Any]] = {}

    def row(self, tags: tuple[str, ...], cells: list[str]) -> None:
        key = frozenset(t.casefold() for t in tags)
        entry = self.open.get(key)
        if entry is None:
            if len(self.open) == MAX_TAG_SETS:
                raise NotForFile(
                    f"the rows carry more than {MAX_TAG_SETS} distinct sets of tags "
                    "(a file import applies one set per upload)",
                    'use --strategy rows, or leave the tags column out with --map "tags="',
                )
            path = self.folder / f"tags-{len(self.open) + 1}.csv"
            handle = path.open("w", newline="", encoding="utf-8")
            writer = csv.writer(handle, lineterminator="\r\n")
            writer.writerow(self.plan.header)
            entry = self.open[key] = (TagSet(tags, path), handle, writer)
            self.plan.sets.append(entry[0])
        entry[2].writerow(cells)
        entry[0].rows += 1

    def close(self) -> None:
        for _set, handle, _writer in self.open.values():
            handle.close()


def _cell(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return "" if value is None else str(value)


def _write(plan: UploadPlan, source: LeadsCsv, writers: _Writers) -> None:
    for item in source.rows():
        plan.rows += 1
        if isinstance(item, CsvProblem):
            plan.left_out += 1
            if len(plan.left_out_rows) < SHOWN_LEFT_OUT:
                plan.left_out_rows.append({"line": item.line, "error": item.error})
            continue
        tags = item.lead.get("tags")
        row_tags = _distinct(tags if isinstance(tags, list) else [])
        cells = [_cell(item.lead.get(c.column.target or "")) for c in plan.columns]
        writers.row(row_tags, cells)


def prepare_upload(source: LeadsCsv, columns: list[UploadColumn]) -> UploadPlan:
    """Read every row of ``source`` once and write the CSVs to upload (no request).

    Raises:
        NotForFile: more than :data:`MAX_TAG_SETS` sets of tags, or no row that can be sent.
    """
    directory = tempfile.TemporaryDirectory(prefix="getsales-import-")
    plan = UploadPlan(columns, [], directory=directory)
    writers = _Writers(plan, Path(directory.name))
    try:
        try:
            _write(plan, source, writers)
        finally:
            writers.close()
        if plan.uploaded == 0:
            raise NotForFile(
                f"no row of {source.path} can be sent ({plan.left_out} left out)",
                "fix the rows (see --dry-run), or use --strategy rows to get them in a failed-rows CSV",
            )
    except BaseException:
        plan.close()
        raise
    return plan
