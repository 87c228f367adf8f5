"""Contacts from CSV files, and CSV files written safely.

Reading (:class:`LeadsCsv`, :func:`read_leads_csv`): the delimiter is detected from the header
(comma, semicolon, tab or pipe; or given), headers map to contact fields through
:class:`~getsales_async._columns.ColumnMapping`, ``tags`` holds tag names separated by ``;`` or
``,``, and rows stream one at a time. A row that cannot become a contact (wrong number of
columns, bytes that are not UTF-8, no identifier) is a :class:`CsvProblem` with its line number;
it never stops the reading.

Writing: every cell the SDK or the CLI writes to a CSV file (failed rows, exports) is neutralised
against CSV injection, as OWASP recommends: a cell starting with ``=``, ``+``, ``-``, ``@``, tab
or carriage return gets a leading ``'``, so a spreadsheet shows it as text instead of running it
as a formula. Reading undoes exactly that (a leading ``'`` before one of those characters is
dropped), so the files this SDK writes re-import unchanged. :class:`AtomicCsvWriter` writes to a
temporary file and replaces the target only when it is complete.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import re
from collections.abc import Generator, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, NamedTuple, Self, TextIO

from ._atomic import move_into_place, temporary_sibling
from ._columns import ColumnMapping
from ._errors import ArgumentError
from ._import_types import LeadRow, row_identifier_problem

__all__ = [
    "DELIMITERS",
    "AtomicCsvWriter",
    "CsvFormatError",
    "CsvProblem",
    "LeadsCsv",
    "detect_delimiter",
    "has_undecodable_bytes",
    "neutralise",
    "read_leads_csv",
    "render_cell",
    "restore",
]

DELIMITERS = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
MAX_HEADER_CHARS = 1 << 20  # a first line longer than this is not a CSV header
_FORMULA = re.compile(r"^'*[=+\-@\t\r]")


class _Record(NamedTuple):
    """One record of the file: the line it starts on, its cells, or why it cannot be parsed."""

    line: int
    cells: list[str]
    error: str | None = None


class CsvFormatError(ArgumentError):
    """Raised when a file cannot be read as a contacts CSV (not a file, no header, not UTF-8…)."""


@dataclass(frozen=True)
class CsvProblem:
    """A row that could not be turned into a contact."""

    index: int  # data row number, 0-based
    line: int  # the line it starts on (the header is line 1)
    error: str
    raw: Mapping[str, Any] = field(repr=False)

    def to_row(self) -> LeadRow:
        """The row as a :class:`LeadRow` that fails without a request (for an import job)."""
        source = {k: str(v) for k, v in self.raw.items()}
        return LeadRow(self.index, {}, line=self.line, source=source, problem=self.error)


# ----------------------------------------------------------------------------- cells


def neutralise(text: str) -> str:
    """A cell made safe for spreadsheets: ``'`` before a leading ``= + - @``, tab or CR."""
    return "'" + text if _FORMULA.match(text) else text


def restore(text: str) -> str:
    """Undo :func:`neutralise` (a cell read from a file this SDK may have written)."""
    return text[1:] if text.startswith("'") and _FORMULA.match(text[1:]) else text


def render_cell(value: Any) -> str:
    """A value as CSV text: lists of strings ``"; "``-joined, other structures as JSON, neutralised."""
    if value is None:
        text = ""
    elif isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, list) and all(isinstance(v, str) for v in value):
        text = "; ".join(value)
    elif isinstance(value, (list, dict)):
        text = json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    else:
        text = str(value)
    return neutralise(text)


def _split_tags(value: str) -> list[str]:
    sep = ";" if ";" in value else ","
    return sorted({t.strip() for t in value.split(sep) if t.strip()})


# ----------------------------------------------------------------------------- reading


def detect_delimiter(first_line: str) -> str:
    """The delimiter of a header line: the candidate found most often outside quotes (comma wins ties)."""
    counts = dict.fromkeys(DELIMITERS, 0)
    quoted = False
    for ch in first_line:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch in counts:
            counts[ch] += 1
    best = max(counts, key=lambda d: (counts[d], d == ","))
    return best if counts[best] else ","


def _open_text(path: Path) -> TextIO:
    return path.open(encoding="utf-8-sig", errors="surrogateescape", newline="")


def has_undecodable_bytes(cells: Sequence[str]) -> bool:
    """Whether cells read with ``errors="surrogateescape"`` hold bytes that are not UTF-8."""
    return any("\udc80" <= ch <= "\udcff" for c in cells for ch in c)


def _printable(text: str) -> str:
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _check_file(path: Path) -> None:
    if not path.exists():
        raise CsvFormatError(f"{path} does not exist")
    if path.is_dir():
        raise CsvFormatError(f"{path} is a directory; give the CSV file inside it")
    if not os.access(path, os.R_OK):
        raise CsvFormatError(f"{path} is not readable (check its permissions)")


def _read_first_line(path: Path) -> str:
    with _open_text(path) as fh:
        line = fh.readline(MAX_HEADER_CHARS + 1)
    if len(line) > MAX_HEADER_CHARS:
        raise CsvFormatError(
            f"{path}: the first line is longer than {MAX_HEADER_CHARS} characters; is this a CSV file?"
        )
    return line


class LeadsCsv:
    """An opened contacts CSV: its delimiter, header and column mapping; rows stream on demand.

    Example::

        source = LeadsCsv.open("contacts.csv", overrides={"Profile": "linkedin_id"})
        print("\\n".join(source.mapping.describe()))
        for item in source.rows():
            ...  # LeadRow, or CsvProblem for a row that cannot be sent
    """

    def __init__(self, path: Path, delimiter: str, mapping: ColumnMapping) -> None:
        self.path = path
        self.delimiter = delimiter
        self.mapping = mapping

    @classmethod
    def open(
        cls,
        path: str | os.PathLike[str],
        *,
        delimiter: str | None = None,
        overrides: Mapping[str, str] | None = None,
        ignore_unknown: bool = False,
    ) -> LeadsCsv:
        """Read the header and map it (no data row is read yet).

        Raises:
            CsvFormatError: the file is missing, a directory, unreadable, empty, or its header
                is not UTF-8.
            ColumnMappingError: the header cannot be mapped (see :meth:`ColumnMapping.build`).
        """
        file = Path(path)
        _check_file(file)
        if delimiter is not None and delimiter not in DELIMITERS:
            raise CsvFormatError(f"delimiter must be one of {', '.join(map(repr, DELIMITERS))}")
        first = _read_first_line(file)
        chosen = delimiter or detect_delimiter(first)
        with contextlib.closing(cls._records(file, chosen)) as records:
            header = next(records, None)
        if header is None:
            raise CsvFormatError(f"{file} is empty: the first line must name the columns")
        if header.error is not None:
            raise CsvFormatError(f"{file}: the header cannot be read ({header.error})")
        cells = [h.strip() for h in header.cells]
        if has_undecodable_bytes(cells):
            raise CsvFormatError(f"{file}: the header is not UTF-8 text; save the file as UTF-8")
        return cls(
            file,
            chosen,
            ColumnMapping.build(cells, overrides=overrides, ignore_unknown=ignore_unknown),
        )

    @staticmethod
    def _records(path: Path, delimiter: str) -> Generator[_Record, None, None]:
        """Every non-blank record with the line it starts on; one the parser refuses (a cell
        over the csv module's size limit…) comes with the parser's complaint and no cells."""
        with _open_text(path) as fh:
            reader = csv.reader(fh, delimiter=delimiter)
            previous = 0
            while True:
                try:
                    cells = next(reader)
                except StopIteration:
                    return
                except csv.Error as exc:
                    yield _Record(previous + 1, [], str(exc))
                    previous = reader.line_num
                    continue
                start, previous = previous + 1, reader.line_num
                if any(c.strip() for c in cells):
                    yield _Record(start, cells)

    def rows(self) -> Iterator[LeadRow | CsvProblem]:
        """Every data row, as a :class:`LeadRow` or a :class:`CsvProblem` (streamed)."""
        header = self.mapping.header
        with contextlib.closing(self._records(self.path, self.delimiter)) as records:
            next(records, None)  # the header
            for index, record in enumerate(records):
                yield self._row(index, record, header)

    def _row(self, index: int, record: _Record, header: list[str]) -> LeadRow | CsvProblem:
        line, cells = record.line, record.cells
        if record.error is not None:
            return CsvProblem(index, line, f"malformed row: {record.error}", {})
        while len(cells) > len(header) and not cells[-1].strip():
            cells = cells[:-1]  # trailing empty cells (a trailing delimiter)
        raw = {h: restore(c) for h, c in zip(header, cells, strict=False)}
        if len(cells) != len(header):
            message = f"malformed row: {len(cells)} columns, header has {len(header)}"
            return CsvProblem(index, line, message, raw)
        if has_undecodable_bytes(cells):
            printable = {k: _printable(v) for k, v in raw.items()}
            return CsvProblem(index, line, "malformed row: bytes that are not UTF-8", printable)
        lead: dict[str, Any] = {}
        custom: dict[str, Any] = {}
        for column in self.mapping.columns:
            value = raw[column.header].strip()
            if not value or column.target is None:
                continue
            if column.kind == "custom":
                custom[column.target] = value
            elif column.kind == "field":
                lead[column.target] = _split_tags(value) if column.target == "tags" else value
        problem = row_identifier_problem(lead)
        if problem is not None:
            return CsvProblem(index, line, problem, raw)
        return LeadRow(index, lead, custom or None, line=line, source=raw)

    def count(self) -> int:
        """The number of data rows (a full pass over the file; blank lines not counted)."""
        return max(sum(1 for _ in self._records(self.path, self.delimiter)) - 1, 0)


def read_leads_csv(
    path: str | os.PathLike[str],
    *,
    delimiter: str | None = None,
    columns: Mapping[str, str] | None = None,
    ignore_unknown_columns: bool = False,
) -> Iterator[LeadRow | CsvProblem]:
    """Yield a :class:`LeadRow` per good data row and a :class:`CsvProblem` per bad one (streamed).

    Args:
        path: the CSV file.
        delimiter: ``,``, ``;``, tab or ``|`` (default: detected from the header).
        columns: header → field overrides (``"cf:NAME"`` for a custom field, ``""`` to ignore).
        ignore_unknown_columns: leave out columns that match no field instead of refusing the file.

    Raises:
        CsvFormatError: see :meth:`LeadsCsv.open`.
        ColumnMappingError: the header cannot be mapped.
    """
    source = LeadsCsv.open(
        path, delimiter=delimiter, overrides=columns, ignore_unknown=ignore_unknown_columns
    )
    yield from source.rows()


# ----------------------------------------------------------------------------- writing


class AtomicCsvWriter:
    """A CSV file written to a temporary file beside the target and moved into place on commit.

    The target is never truncated or half-written: until :meth:`commit` it keeps its old
    content; after, it has the new one. Cells are neutralised (:func:`render_cell`).

    Example::

        with AtomicCsvWriter("failed.csv", ["line", "error"]) as out:
            out.write([7, "no identifier"])
        # committed on a normal exit, discarded on an exception
    """

    def __init__(self, path: str | os.PathLike[str], header: Sequence[str]) -> None:
        self.path = Path(path)
        if not self.path.parent.is_dir():
            raise CsvFormatError(f"cannot write {self.path}: {self.path.parent} is not a directory")
        self._tmp = temporary_sibling(self.path)
        self._fh = self._tmp.open("w", encoding="utf-8", newline="")
        self._writer = csv.writer(self._fh)
        self.rows = 0
        self._writer.writerow([neutralise(h) for h in header])

    def write(self, row: Sequence[Any]) -> None:
        """Append one row (values rendered and neutralised)."""
        self._writer.writerow([render_cell(v) for v in row])
        self.rows += 1

    def commit(self) -> None:
        """Flush, sync and move the file into place."""
        move_into_place(self._fh, self._tmp, self.path)

    def discard(self) -> None:
        """Drop the temporary file; the target keeps its old content."""
        self._fh.close()
        self._tmp.unlink(missing_ok=True)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.discard()
