"""The first step of a server-side import: rows written as CSV parts under the upload limit.

The GetSales upload takes at most 15 MB per file, so the rows (read from a CSV file, or given as
mappings) are written, in order, into comma-delimited UTF-8 parts of at most ``max_part_bytes``
each. Every part starts with the same header line; a row is never split across parts (a part
closes before the row that would take it over the limit). Parts are spooled to anonymous
temporary files, so memory stays flat whatever the row count, and all of them are written before
anything is uploaded: a bad input is reported before any request.

Rows that cannot be imported as written (a different number of cells than the header, bytes that
are not UTF-8) are left out and reported by row and line. Which cells of each row hold a value is
kept as a small histogram of column patterns, so once the server has said which columns are
identifiers, :meth:`SpooledParts.rows_lacking` tells how many rows have none, without rereading
the parts.

Cells are written as given: the parts are read by the server, not opened by people, so the
spreadsheet-formula neutralisation applied to the CSVs the SDK writes for people does not apply
(it would change the imported values).
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
from collections import Counter
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO, Any, BinaryIO, cast

from ._csv import detect_delimiter, has_undecodable_bytes
from ._errors import ArgumentError

__all__ = [
    "DEFAULT_MAX_PART_BYTES",
    "UPLOAD_LIMIT_BYTES",
    "CsvPart",
    "SkippedRow",
    "SpooledParts",
    "read_csv_file",
    "read_source",
    "rows_from_mappings",
    "spool_parts",
]

UPLOAD_LIMIT_BYTES = 15 * 1024 * 1024  # "Max file size is 15 MB" (the index); the larger reading
DEFAULT_MAX_PART_BYTES = 14_000_000  # under 15 MB however a megabyte is counted, with room to spare
SNIFF_BYTES = 64 * 1024  # of a CSV file read to find its delimiter
MAX_SAMPLES = 20  # skipped rows (and rows without an identifier) remembered by number
MAX_PATTERNS = 4096  # distinct "which cells are filled" patterns tracked before giving up

RowItem = tuple[int, int | None, list[str]]  # (1-based data row number, source line, cells)


@dataclass(frozen=True)
class SkippedRow:
    """A row left out of the upload, and why."""

    row: int
    """1-based number of the data row (the header is not counted)."""
    line: int | None
    """Line of the source file where the row ends (the header is line 1); ``None`` for mappings."""
    reason: str


@dataclass(frozen=True)
class CsvPart:
    """One CSV part as written: its number, rows, size in bytes and first data row."""

    number: int
    rows: int
    size: int
    first_row: int


class SpooledParts:
    """CSV parts written to temporary files, ready to upload; :meth:`close` deletes them."""

    def __init__(self, header: Sequence[str]) -> None:
        self.header: tuple[str, ...] = tuple(header)
        self.parts: list[CsvPart] = []
        self.rows = 0
        self.skipped: list[SkippedRow] = []
        self.skipped_count = 0
        self._files: list[BinaryIO] = []
        self._patterns: Counter[int] = Counter()
        self._pattern_rows: dict[int, list[int]] = {}
        self._patterns_complete = True

    def open(self, part: CsvPart) -> BinaryIO:
        """The part's bytes, as a file positioned at its start."""
        handle = self._files[part.number - 1]
        handle.seek(0)
        return handle

    def rows_lacking(self, columns: Collection[int]) -> tuple[int, list[int]] | None:
        """How many written rows have no value in any of ``columns``, and a few of their numbers.

        ``None`` when the input had too many distinct patterns of filled cells to track.
        """
        if not self._patterns_complete:
            return None
        mask = sum(1 << c for c in set(columns))
        lacking = [p for p in self._patterns if not p & mask]
        rows = sorted(r for p in lacking for r in self._pattern_rows[p])[:MAX_SAMPLES]
        return sum(self._patterns[p] for p in lacking), rows

    def skip(self, row: SkippedRow) -> None:
        """Record a row left out."""
        self.skipped_count += 1
        if len(self.skipped) < MAX_SAMPLES:
            self.skipped.append(row)

    def note_pattern(self, row: int, cells: Sequence[str]) -> None:
        """Count which cells of a written row hold a value."""
        pattern = sum(1 << i for i, cell in enumerate(cells) if cell.strip())
        if pattern not in self._patterns and len(self._patterns) >= MAX_PATTERNS:
            self._patterns_complete = False
            return
        self._patterns[pattern] += 1
        sample = self._pattern_rows.setdefault(pattern, [])
        if len(sample) < MAX_SAMPLES:
            sample.append(row)

    def new_file(self) -> BinaryIO:
        """A fresh temporary file for the next part."""
        handle = cast(BinaryIO, tempfile.TemporaryFile())  # noqa: SIM115 - closed by close()
        self._files.append(handle)
        return handle

    def close(self) -> None:
        """Delete the temporary files."""
        for handle in self._files:
            handle.close()
        self._files.clear()

    def __enter__(self) -> SpooledParts:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return (
            f"<SpooledParts rows={self.rows} parts={len(self.parts)} skipped={self.skipped_count}>"
        )


# ---------------------------------------------------------------------------- sources


def _check_header(header: Sequence[str], where: str) -> None:
    if not header or not any(h.strip() for h in header):
        raise ArgumentError(f"{where} has no header line; the first line must name the columns")
    names = [h.strip() for h in header]
    dupes = sorted({h for h in names if names.count(h) > 1 and h})
    if dupes:
        raise ArgumentError(f"{where} has duplicate column names {dupes}; rename them")


def _open_text(path: str | os.PathLike[str]) -> IO[str]:
    where = str(path)
    try:
        return open(path, encoding="utf-8-sig", errors="surrogateescape", newline="")
    except FileNotFoundError:
        raise ArgumentError(f"{where}: no such file") from None
    except IsADirectoryError:
        raise ArgumentError(f"{where} is a directory; give a CSV file") from None
    except OSError as exc:
        raise ArgumentError(f"{where}: cannot open ({exc.strerror})") from None


def read_csv_file(
    path: str | os.PathLike[str], *, delimiter: str | None = None
) -> tuple[list[str], Iterator[RowItem | SkippedRow]]:
    """The header and the data rows of a CSV file (UTF-8, BOM allowed; delimiter detected).

    The header is read now; the rows are read as the iterator is consumed (the file is open only
    meanwhile).

    Raises:
        ArgumentError: the file is missing, a directory, empty, or has duplicate column names.
    """
    with _open_text(path) as handle:
        chosen = delimiter or detect_delimiter(handle.read(SNIFF_BYTES).split("\n", 1)[0])
        handle.seek(0)
        header = [h.strip() for h in next(csv.reader(handle, delimiter=chosen), [])]
    _check_header(header, str(path))
    return header, _file_rows(path, chosen)


def _file_rows(path: str | os.PathLike[str], delimiter: str) -> Iterator[RowItem | SkippedRow]:
    with _open_text(path) as handle:
        reader = csv.reader(handle, delimiter=delimiter)
        next(reader, None)  # the header
        number = 0
        for cells in reader:
            if not any(c.strip() for c in cells):
                continue  # a blank line is not a row
            number += 1
            if has_undecodable_bytes(cells):
                yield SkippedRow(number, reader.line_num, "bytes that are not UTF-8")
                continue
            yield number, reader.line_num, cells


def _cell(value: Any, row: int, key: str) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    if isinstance(value, list | tuple) and all(isinstance(v, str | int | float) for v in value):
        return ", ".join(str(v) for v in value)
    raise ArgumentError(
        f"row {row}: {key} is a {type(value).__name__}; give text, a number or a list of text "
        "(custom fields cannot be mapped in a file import: use leads.bulk_upsert for them)"
    )


def rows_from_mappings(
    rows: Iterable[Mapping[str, Any]], *, fields: Sequence[str] | None = None
) -> tuple[list[str], Iterator[RowItem | SkippedRow]]:
    """The header (``fields``, else the first row's keys) and the rows as cells, in header order.

    Raises:
        ArgumentError: (while iterating) a row that is not a mapping, has a key not in the
            header, or a value that is not text, a number or a list of text.
    """
    iterator = iter(rows)
    first = next(iterator, None)
    if fields is None and first is None:
        raise ArgumentError("rows is empty: nothing to import")
    if first is not None and not isinstance(first, Mapping):
        raise ArgumentError(f"rows must be mappings of field to value, got {type(first).__name__}")
    header = [str(f) for f in (fields if fields is not None else (first or {}).keys())]
    _check_header(header, "the rows")

    def generate() -> Iterator[RowItem | SkippedRow]:
        position = {name: i for i, name in enumerate(header)}
        for number, row in enumerate([] if first is None else [first], 1):
            yield _mapping_cells(number, row, position)
        for number, row in enumerate(iterator, 2):
            yield _mapping_cells(number, row, position)

    return header, generate()


def _mapping_cells(number: int, row: Any, position: Mapping[str, int]) -> RowItem:
    if not isinstance(row, Mapping):
        raise ArgumentError(f"row {number} is a {type(row).__name__}, not a mapping")
    cells = [""] * len(position)
    for key, value in row.items():
        index = position.get(key)
        if index is None:
            raise ArgumentError(
                f"row {number} has {key!r}, which is not a column ({', '.join(position)}); "
                "give every row the same keys, or name them all with fields=[...]"
            )
        cells[index] = _cell(value, number, str(key))
    return number, None, cells


# ---------------------------------------------------------------------------- splitting


class _RowEncoder:
    """One row to CSV bytes (comma-delimited, CRLF, quoted where needed)."""

    def __init__(self) -> None:
        self._buffer = io.StringIO()
        self._writer = csv.writer(self._buffer, lineterminator="\r\n")

    def __call__(self, cells: Sequence[str]) -> bytes:
        self._buffer.seek(0)
        self._buffer.truncate()
        self._writer.writerow(cells)
        return self._buffer.getvalue().encode("utf-8")


def spool_parts(
    header: Sequence[str],
    rows: Iterable[RowItem | SkippedRow],
    *,
    max_part_bytes: int = DEFAULT_MAX_PART_BYTES,
) -> SpooledParts:
    """Write ``rows`` as CSV parts of at most ``max_part_bytes`` each (see the module docstring).

    Raises:
        ArgumentError: the header alone, or the header and one row, exceed ``max_part_bytes``.
    """
    encode = _RowEncoder()
    header_bytes = encode(header)
    if len(header_bytes) >= max_part_bytes:
        raise ArgumentError(
            f"max_part_bytes={max_part_bytes} leaves no room for a row after the "
            f"{len(header_bytes)}-byte header"
        )
    spooled = SpooledParts(header)
    try:
        _write_rows(spooled, header_bytes, rows, encode, max_part_bytes)
    except BaseException:
        spooled.close()
        raise
    finally:
        close = getattr(rows, "close", None)
        if callable(close):
            close()  # the source file, even when writing stopped early
    return spooled


def _write_rows(
    spooled: SpooledParts,
    header_bytes: bytes,
    rows: Iterable[RowItem | SkippedRow],
    encode: _RowEncoder,
    limit: int,
) -> None:
    width = len(spooled.header)
    handle: BinaryIO | None = None
    size = count = first = 0
    for item in rows:
        if isinstance(item, SkippedRow):
            spooled.skip(item)
            continue
        number, line, cells = item
        if len(cells) != width:
            where = f" (line {line})" if line is not None else ""
            reason = f"{len(cells)} cells where the header has {width}{where}"
            spooled.skip(SkippedRow(number, line, reason))
            continue
        data = encode(cells)
        if len(header_bytes) + len(data) > limit:
            where = f", line {line}" if line is not None else ""
            raise ArgumentError(
                f"row {number}{where} takes {len(data)} bytes: with the header it exceeds "
                f"max_part_bytes={limit}; shorten it or raise max_part_bytes (at most "
                f"{UPLOAD_LIMIT_BYTES})"
            )
        if handle is None or size + len(data) > limit:
            if handle is not None:
                spooled.parts.append(CsvPart(len(spooled.parts) + 1, count, size, first))
            handle = spooled.new_file()
            handle.write(header_bytes)
            size, count, first = len(header_bytes), 0, number
        handle.write(data)
        size += len(data)
        count += 1
        spooled.rows += 1
        spooled.note_pattern(number, cells)
    if handle is not None:
        spooled.parts.append(CsvPart(len(spooled.parts) + 1, count, size, first))


def read_source(
    source: str | os.PathLike[str] | Iterable[Mapping[str, Any]],
    *,
    delimiter: str | None,
    fields: Sequence[str] | None,
) -> tuple[list[str], Iterator[RowItem | SkippedRow]]:
    """The header and rows of a path (a CSV file) or an iterable of mappings."""
    if isinstance(source, str | os.PathLike):
        if fields is not None:
            raise ArgumentError("fields= is for rows given as mappings; a CSV file has its header")
        return read_csv_file(Path(source), delimiter=delimiter)
    if isinstance(source, bytes | Mapping):
        raise ArgumentError(
            "source is a path to a CSV file or an iterable of row mappings, "
            f"got {type(source).__name__}"
        )
    if delimiter is not None:
        raise ArgumentError("delimiter= is for CSV files; rows given as mappings have none")
    return rows_from_mappings(source, fields=fields)
