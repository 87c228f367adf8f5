"""Reading contacts from CSV for imports, and writing contacts and failed rows to CSV.

Columns map to contact fields by header name (``first_name``, ``last_name``, ``company_name``,
``linkedin_id`` or ``linkedin``, ``work_email``, ``personal_email``, ``position``…). ``tags`` holds
tag names separated by ``;`` or ``,``. A column named ``custom_fields.<name>`` or ``cf:<name>``
sets the custom field ``<name>``. Rows that cannot be read (wrong number of columns, bytes that
are not UTF-8, no identifier) are reported with their line number; they never stop the job.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ._bulk import LeadRow, row_identifier_problem

__all__ = ["EXPORT_COLUMNS", "CsvProblem", "read_leads_csv", "write_csv_row"]

CUSTOM_PREFIXES = ("custom_fields.", "cf:")
EXPORT_COLUMNS = (
    "uuid",
    "first_name",
    "last_name",
    "name",
    "company_name",
    "position",
    "linkedin",
    "ln_member_id",
    "work_email",
    "personal_email",
    "list_uuid",
    "tags",
    "status",
    "created_at",
)


@dataclass(frozen=True)
class CsvProblem:
    """A row that could not be turned into a contact."""

    index: int  # data row number, 0-based (line number is index + 2 with a header line)
    line: int
    error: str
    raw: Mapping[str, Any]


def _split_tags(value: str) -> list[str]:
    sep = ";" if ";" in value else ","
    return [t.strip() for t in value.split(sep) if t.strip()]


def read_leads_csv(path: str | Path) -> Iterator[LeadRow | CsvProblem]:
    """Yield a :class:`LeadRow` per good data row and a :class:`CsvProblem` per bad one (streamed)."""
    with open(path, encoding="utf-8-sig", errors="surrogateescape", newline="") as fh:
        reader = csv.reader(fh)
        try:
            header = [h.strip() for h in next(reader)]
        except StopIteration:
            return
        if len(set(header)) != len(header):
            dupes = sorted({h for h in header if header.count(h) > 1})
            raise ValueError(f"{path}: duplicate column names {dupes}; rename them")
        index = -1
        for cells in reader:
            if not any(c.strip() for c in cells):
                continue  # blank line
            index += 1
            line = reader.line_num
            raw = dict(zip(header, cells, strict=False))
            if len(cells) != len(header):
                yield CsvProblem(
                    index,
                    line,
                    f"malformed row: {len(cells)} columns, header has {len(header)}",
                    raw,
                )
                continue
            if any("\udc80" <= ch <= "\udcff" for c in cells for ch in c):
                yield CsvProblem(
                    index, line, "malformed row: bytes that are not UTF-8", _printable(raw)
                )
                continue
            lead: dict[str, Any] = {}
            custom: dict[str, Any] = {}
            for name, value in raw.items():
                value = value.strip()
                if not value or not name:
                    continue
                prefix = next((p for p in CUSTOM_PREFIXES if name.startswith(p)), None)
                if prefix is not None:
                    custom[name[len(prefix) :]] = value
                elif name == "tags":
                    lead["tags"] = _split_tags(value)
                else:
                    lead[name] = value
            problem = row_identifier_problem(lead)
            if problem is not None:
                yield CsvProblem(index, line, problem, raw)
                continue
            yield LeadRow(index=index, lead=lead, custom_fields=custom or None)


def _printable(raw: Mapping[str, Any]) -> dict[str, str]:
    return {
        k: str(v).encode("utf-8", "surrogateescape").decode("utf-8", "replace")
        for k, v in raw.items()
    }


def write_csv_row(writer: Any, row: Sequence[Any]) -> None:
    """Write one row, rendering lists as ``;``-joined text and ``None`` as empty."""
    writer.writerow(
        ["; ".join(map(str, v)) if isinstance(v, list) else ("" if v is None else v) for v in row]
    )


def csv_text(rows: Sequence[Sequence[Any]]) -> str:
    """Rows as CSV text (used in tests and small exports)."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    for row in rows:
        write_csv_row(writer, row)
    return buf.getvalue()
