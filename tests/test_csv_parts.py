"""CSV parts for server-side imports: split under the size limit, header in each, rows whole."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from getsales_async import ArgumentError
from getsales_async._csv_parts import (
    SkippedRow,
    SpooledParts,
    read_csv_file,
    read_source,
    rows_from_mappings,
    spool_parts,
)


def parts_of(spooled: SpooledParts) -> list[bytes]:
    return [spooled.open(part).read() for part in spooled.parts]


def parsed(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))


def items(rows: list[list[str]]) -> list[tuple[int, int | None, list[str]]]:
    return [(n, None, row) for n, row in enumerate(rows, 1)]


class TestSplitting:
    def test_parts_close_exactly_at_the_limit(self) -> None:
        """Rows fill a part up to max_part_bytes exactly, and the next row opens a new part."""
        header = ["a", "b"]  # "a,b\r\n": 5 bytes
        rows = [["x" * 3, str(i)] for i in range(7)]  # "xxx,i\r\n": 7 bytes each
        with spool_parts(header, items(rows), max_part_bytes=5 + 3 * 7) as spooled:
            sizes = [len(p) for p in parts_of(spooled)]
            assert sizes == [26, 26, 12]
            assert [p.rows for p in spooled.parts] == [3, 3, 1]
            assert [p.first_row for p in spooled.parts] == [1, 4, 7]
            assert [p.size for p in spooled.parts] == sizes

    def test_header_is_in_every_part_and_rows_are_whole(self) -> None:
        """Each part parses as a CSV with the header first; together they hold every row in order."""
        header = ["name", "note"]
        rows = [[f"n{i}", f'line one\nline "two", {i}'] for i in range(40)]
        with spool_parts(header, items(rows), max_part_bytes=200) as spooled:
            assert len(spooled.parts) > 3
            seen: list[list[str]] = []
            for data in parts_of(spooled):
                assert len(data) <= 200
                table = parsed(data)
                assert table[0] == header
                seen += table[1:]
            assert seen == rows
            assert spooled.rows == 40

    def test_row_larger_than_a_part_is_refused(self) -> None:
        """A row that cannot fit in a part with the header is an error naming the row."""
        rows = [["ok"], ["y" * 100]]
        with pytest.raises(ArgumentError, match=r"row 2 takes 102 bytes.*max_part_bytes=50"):
            spool_parts(["a"], items(rows), max_part_bytes=50)

    def test_header_that_fills_the_limit_is_refused(self) -> None:
        """max_part_bytes must leave room for a row after the header."""
        with pytest.raises(ArgumentError, match="leaves no room"):
            spool_parts(["abcdef"], items([["1"]]), max_part_bytes=8)

    @settings(max_examples=60, deadline=None)
    @given(
        rows=st.lists(
            st.lists(st.text(st.characters(codec="utf-8"), max_size=12), min_size=2, max_size=2),
            max_size=40,
        ),
        limit=st.integers(min_value=120, max_value=400),  # a row is at most 103 bytes
    )
    def test_any_rows_round_trip_within_the_limit(self, rows: list[list[str]], limit: int) -> None:
        """Whatever the cells, every part is within the limit and the parts hold the rows in order."""
        with spool_parts(["h1", "h2"], items(rows), max_part_bytes=limit) as spooled:
            seen: list[list[str]] = []
            for data in parts_of(spooled):
                assert len(data) <= limit
                table = parsed(data)
                assert table[0] == ["h1", "h2"]
                seen += table[1:]
        assert seen == rows

    def test_close_deletes_the_temporary_files(self) -> None:
        """After close the parts can no longer be read."""
        spooled = spool_parts(["a"], items([["1"]]))
        handle = spooled.open(spooled.parts[0])
        spooled.close()
        assert handle.closed


class TestSkippedAndPatterns:
    def test_rows_with_another_cell_count_are_left_out_and_reported(self) -> None:
        """A malformed row is skipped with its number and line; the others are written."""
        source = [(1, 2, ["a", "b"]), (2, 3, ["only"]), (3, 5, ["c", "d"])]
        with spool_parts(["x", "y"], source) as spooled:
            assert spooled.rows == 2
            assert spooled.skipped == [SkippedRow(2, 3, "1 cells where the header has 2 (line 3)")]
            assert spooled.skipped_count == 1

    def test_rows_lacking_counts_rows_without_values_in_columns(self) -> None:
        """rows_lacking tells how many rows have no value in any of the given columns."""
        rows = [["a@x.io", ""], ["", "in/a"], ["", " "], ["b@x.io", "in/b"], ["", ""]]
        with spool_parts(["email", "linkedin"], items(rows)) as spooled:
            assert spooled.rows_lacking([0, 1]) == (2, [3, 5])
            assert spooled.rows_lacking([0]) == (3, [2, 3, 5])


class TestFiles:
    def write(self, tmp_path: Path, text: str, name: str = "in.csv") -> Path:
        path = tmp_path / name
        path.write_bytes(text.encode("utf-8"))
        return path

    @pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
    def test_delimiter_is_detected_from_the_header(self, tmp_path: Path, delimiter: str) -> None:
        """Comma, semicolon, tab and pipe files are read into the same cells."""
        d = delimiter
        path = self.write(tmp_path, f'Email{d}Name\r\na@x.io{d}Ann\r\n\r\nb@x.io{d}"B{d} b"\r\n')
        header, rows = read_csv_file(path)
        assert header == ["Email", "Name"]
        assert list(rows) == [(1, 2, ["a@x.io", "Ann"]), (2, 4, ["b@x.io", f"B{d} b"])]

    def test_delimiter_can_be_forced(self, tmp_path: Path) -> None:
        """delimiter= overrides the detection."""
        path = self.write(tmp_path, "a;b,c\n1;2,3\n")
        header, rows = read_csv_file(path, delimiter=",")
        assert header == ["a;b", "c"]
        assert [cells for _, _, cells in rows] == [["1;2", "3"]]  # type: ignore[misc]

    def test_bytes_that_are_not_utf8_skip_the_row(self, tmp_path: Path) -> None:
        """A row with bytes that are not UTF-8 is reported, not uploaded garbled."""
        path = tmp_path / "bad.csv"
        path.write_bytes(b"a,b\n1,\xff\n2,3\n")
        header, rows = read_csv_file(path)
        with spool_parts(header, rows) as spooled:
            assert spooled.rows == 1
            assert spooled.skipped == [SkippedRow(1, 2, "bytes that are not UTF-8")]

    @pytest.mark.parametrize(
        ("text", "message"),
        [
            ("", "no header line"),
            ("a,b,a\n1,2,3\n", r"duplicate column names \['a'\]"),
        ],
    )
    def test_bad_headers_are_refused(self, tmp_path: Path, text: str, message: str) -> None:
        """An empty file or repeated column names stop before anything is written."""
        with pytest.raises(ArgumentError, match=message):
            read_csv_file(self.write(tmp_path, text))

    def test_missing_file_and_directory_are_one_line_errors(self, tmp_path: Path) -> None:
        """A missing path and a directory give an ArgumentError naming the path."""
        with pytest.raises(ArgumentError, match="no such file"):
            read_csv_file(tmp_path / "nope.csv")
        with pytest.raises(ArgumentError, match="is a directory"):
            read_csv_file(tmp_path)


class TestMappings:
    def test_header_comes_from_the_first_row_and_values_are_text(self) -> None:
        """Mapping rows become cells in header order; lists join, booleans and None render."""
        rows: list[dict[str, Any]] = [
            {"work_email": "a@x.io", "first_name": "Ann", "skills": ["go", "sql"]},
            {"first_name": "Bo", "work_email": None, "skills": True},
        ]
        header, cells = rows_from_mappings(rows)
        assert header == ["work_email", "first_name", "skills"]
        assert [c for _, _, c in cells] == [  # type: ignore[misc]
            ["a@x.io", "Ann", "go, sql"],
            ["", "Bo", "true"],
        ]

    def test_unknown_key_and_nested_value_are_refused(self) -> None:
        """A key outside the header, or a dict value, is an error naming the row."""
        _, cells = rows_from_mappings([{"a": 1}, {"a": 2, "b": 3}])
        with pytest.raises(ArgumentError, match=r"row 2 has 'b'"):
            list(cells)
        _, cells = rows_from_mappings([{"a": {"x": 1}}])
        with pytest.raises(ArgumentError, match="row 1: a is a dict"):
            list(cells)

    def test_fields_name_the_columns(self) -> None:
        """fields= fixes the header, so rows may leave columns out."""
        header, cells = rows_from_mappings([{"b": "2"}], fields=["a", "b"])
        assert header == ["a", "b"]
        assert [c for _, _, c in cells] == [["", "2"]]  # type: ignore[misc]

    @pytest.mark.parametrize(
        ("source", "kwargs", "message"),
        [
            ([], {}, "rows is empty"),
            (["not a mapping"], {}, "rows must be mappings"),
            (b"a,b", {}, "source is a path"),
            ([{"a": 1}], {"delimiter": ";"}, "delimiter= is for CSV files"),
            ("x.csv", {"fields": ["a"]}, "fields= is for rows"),
        ],
    )
    def test_bad_sources_are_refused(
        self, source: Any, kwargs: dict[str, Any], message: str
    ) -> None:
        """Wrong source types and options give one clear line."""
        with pytest.raises(ArgumentError, match=message):
            read_source(source, delimiter=kwargs.get("delimiter"), fields=kwargs.get("fields"))
