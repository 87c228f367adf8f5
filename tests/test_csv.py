"""CSV reading (delimiters, mapping, problems) and writing (injection-safe, atomic, reversible)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from getsales_async import CsvProblem, LeadRow, read_leads_csv
from getsales_async._csv import (
    AtomicCsvWriter,
    CsvFormatError,
    LeadsCsv,
    detect_delimiter,
    neutralise,
    render_cell,
    restore,
)


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding, "surrogateescape"))
    return path


class TestDelimiters:
    @pytest.mark.parametrize(
        ("line", "expected"),
        [
            ("first_name,last_name,email\n", ","),
            ("first_name;last_name;email\n", ";"),
            ("first_name\tlast_name\temail\n", "\t"),
            ("first_name|last_name|email\n", "|"),
            ('"a;b",c,d\n', ","),
            ("email\n", ","),
        ],
    )
    def test_the_delimiter_is_detected_from_the_header(self, line: str, expected: str) -> None:
        """Comma, semicolon, tab and pipe are detected outside quotes; comma by default."""
        assert detect_delimiter(line) == expected

    def test_a_semicolon_file_imports_like_a_comma_file(self, tmp_path: Path) -> None:
        """A semicolon-delimited file with friendly headers yields the same contact."""
        path = write(tmp_path / "c.csv", "First Name;Email;Tags\nAnn;ann@x.example;a, b\n")
        [row] = list(read_leads_csv(path))
        assert isinstance(row, LeadRow)
        assert dict(row.lead) == {"first_name": "Ann", "email": "ann@x.example", "tags": ["a", "b"]}
        assert row.line == 2 and row.source == {
            "First Name": "Ann",
            "Email": "ann@x.example",
            "Tags": "a, b",
        }

    def test_the_delimiter_can_be_forced(self, tmp_path: Path) -> None:
        """delimiter= overrides detection."""
        path = write(tmp_path / "c.csv", "email|name\na@x.example|A;B\n")
        [row] = list(read_leads_csv(path, delimiter="|"))
        assert isinstance(row, LeadRow) and row.lead["name"] == "A;B"


class TestRows:
    def test_bad_rows_are_problems_with_their_line_and_original_cells(self, tmp_path: Path) -> None:
        """Wrong column counts, non-UTF-8 bytes and missing identifiers are CsvProblems; reading goes on."""
        text = (
            "first_name,email,cf:segment\n"
            "Ann,ann@x.example,ent\n"
            "\n"
            "Bob,too,many,cells\n"
            "Cy,\udcff@x.example,smb\n"
            "Dee,,mid\n"
            'Eve,"eve@x.example",ent\n'
        )
        items = list(read_leads_csv(write(tmp_path / "c.csv", text)))
        problems = [i for i in items if isinstance(i, CsvProblem)]
        assert [(p.line, p.error.split(":")[0]) for p in problems] == [
            (4, "malformed row"),
            (5, "malformed row"),
            (6, "no identifier"),
        ]
        assert problems[2].raw == {"first_name": "Dee", "email": "", "cf:segment": "mid"}
        assert [i.line for i in items if isinstance(i, LeadRow)] == [2, 7]

    def test_a_problem_becomes_a_row_that_fails_without_a_request(self, tmp_path: Path) -> None:
        """CsvProblem.to_row keeps the line and cells and carries the problem."""
        [item] = list(read_leads_csv(write(tmp_path / "c.csv", "first_name,email\nDee,\n")))
        assert isinstance(item, CsvProblem)
        row = item.to_row()
        assert (row.line, row.problem, row.source) == (
            2,
            item.error,
            {"first_name": "Dee", "email": ""},
        )

    def test_a_cell_over_the_parser_limit_fails_alone(self, tmp_path: Path) -> None:
        """A record the csv module refuses (a cell over its size limit) is a problem; later rows still read."""
        huge = "x" * (csv.field_size_limit() + 10)
        path = write(tmp_path / "c.csv", f"email,about\na@x.example,{huge}\nb@x.example,ok\n")
        first, second = list(read_leads_csv(path))
        assert isinstance(first, CsvProblem) and "field larger than field limit" in first.error
        assert isinstance(second, LeadRow) and second.line == 3

    def test_trailing_delimiters_are_tolerated(self, tmp_path: Path) -> None:
        """Rows with extra empty cells at the end (a trailing delimiter) are not malformed."""
        [row] = list(read_leads_csv(write(tmp_path / "c.csv", "email,name\na@x.example,A,,\n")))
        assert isinstance(row, LeadRow)

    @pytest.mark.parametrize(
        ("setup", "needle"),
        [
            (lambda p: p, "does not exist"),
            (lambda p: (p.mkdir(), p)[1], "is a directory"),
            (lambda p: write(p, ""), "is empty"),
            (lambda p: write(p, "n\udcffme,email\n"), "header is not UTF-8"),
        ],
    )
    def test_unreadable_files_are_one_clear_error(
        self, tmp_path: Path, setup: object, needle: str
    ) -> None:
        """A missing file, a directory, an empty file or a non-UTF-8 header raise CsvFormatError."""
        path = tmp_path / "c.csv"
        setup(path)  # type: ignore[operator]
        with pytest.raises(CsvFormatError, match=needle):
            LeadsCsv.open(path)

    def test_count_counts_records_not_lines(self, tmp_path: Path) -> None:
        """count() counts data records (quoted newlines and blank lines do not add rows)."""
        path = write(tmp_path / "c.csv", 'email,about\na@x.example,"two\nlines"\n\nb@x.example,x\n')
        assert LeadsCsv.open(path).count() == 2


class TestWriting:
    @pytest.mark.parametrize(
        "cell", ["=1+1", "+44 20", "-5", "@SUM(A1)", "\tx", "\rx", "'=x", "''+x"]
    )
    def test_formula_cells_are_neutralised_and_restored(self, cell: str) -> None:
        """Cells starting with = + - @ tab or CR get a leading quote, which reading removes."""
        safe = neutralise(cell)
        assert safe.startswith("'") and restore(safe) == cell

    @pytest.mark.parametrize("cell", ["plain", "'quoted", "a=b", "", "1-2"])
    def test_other_cells_are_unchanged(self, cell: str) -> None:
        """Cells that cannot start a formula are written and read unchanged."""
        assert neutralise(cell) == cell and restore(cell) == cell

    def test_rendered_values_are_text_a_reader_understands(self) -> None:
        """Lists of names join with '; ', structures become JSON, None is empty, all neutralised."""
        assert render_cell(["a", "b"]) == "a; b"
        assert render_cell([{"x": 1}]) == '[{"x": 1}]'
        assert (render_cell(None), render_cell(True), render_cell(-3)) == ("", "true", "'-3")

    def test_atomic_writer_replaces_the_target_only_on_commit(self, tmp_path: Path) -> None:
        """Until commit the target keeps its old content; a discarded write leaves no trace."""
        target = write(tmp_path / "out.csv", "old\n")
        writer = AtomicCsvWriter(target, ["a", "b"])
        writer.write(["=bad", "ok"])
        assert target.read_text() == "old\n"
        writer.commit()
        assert list(csv.reader(target.read_text().splitlines())) == [["a", "b"], ["'=bad", "ok"]]
        with pytest.raises(RuntimeError), AtomicCsvWriter(target, ["x"]) as out:
            out.write(["y"])
            raise RuntimeError
        assert target.read_text().startswith("a,b") and list(tmp_path.iterdir()) == [target]

    def test_a_written_file_reads_back_to_the_same_values(self, tmp_path: Path) -> None:
        """What the writer writes, the reader reads back unchanged (formulas included)."""
        target = tmp_path / "round.csv"
        with AtomicCsvWriter(target, ["email", "position", "cf:score"]) as out:
            out.write(["a@x.example", "=HYPERLINK()", "-7"])
        [row] = list(read_leads_csv(target))
        assert isinstance(row, LeadRow)
        assert dict(row.lead) == {"email": "a@x.example", "position": "=HYPERLINK()"}
        assert row.custom_fields == {"score": "-7"}
