"""The import's column mapping: lenient reading of matches, overrides, both body shapes, refusals."""

from __future__ import annotations

from typing import Any

import pytest

from getsales_async import ArgumentError, UnprocessableEntityError
from getsales_async._import_mapping import (
    build_mapping,
    encode_columns,
    is_mapping_refusal,
    other_shape,
    read_matches,
    unmapped_columns,
)

HEADER = ["First Name", "E-mail", "LinkedIn", "Notes"]


class TestReadMatches:
    @pytest.mark.parametrize(
        ("matches", "expected"),
        [
            ({"first_name": 0, "work_email": 1}, {"first_name": 0, "work_email": 1}),
            ({"first_name": "0", "work_email": "1"}, {"first_name": 0, "work_email": 1}),
            (
                {"First Name": "first_name", "e-mail": "work_email"},
                {"first_name": 0, "work_email": 1},
            ),
            (
                [
                    {"source": "E-mail", "target": "work_email"},
                    {"source": 2, "target": "linkedin_id"},
                ],
                {"work_email": 1, "linkedin_id": 2},
            ),
            (["first_name", None, "linkedin_id"], {"first_name": 0, "linkedin_id": 2}),
            ({"work_email": 9, "x": True, "first_name": None}, {}),
            ([], {}),
            (None, {}),
            ("work_email", {}),
        ],
    )
    def test_every_known_shape_reads_as_field_to_index(
        self, matches: Any, expected: dict[str, int]
    ) -> None:
        """Object, reversed object, source/target pairs and per-column lists all read the same way."""
        assert read_matches(matches, HEADER) == expected


class TestBuildMapping:
    def test_overrides_apply_on_top_and_take_the_column(self) -> None:
        """An override by header or index wins; its column no longer feeds the matched field."""
        matches = {"first_name": 0, "work_email": 1}
        mapping = build_mapping(HEADER, matches, {"personal_email": "e-mail", "headline": 3})
        assert mapping == {"first_name": 0, "personal_email": 1, "headline": 3}

    def test_none_unmaps_a_field(self) -> None:
        """columns={'field': None} drops a match."""
        mapping = build_mapping(HEADER, {"first_name": 0, "work_email": 1}, {"first_name": None})
        assert mapping == {"work_email": 1}

    def test_unknown_column_is_refused(self) -> None:
        """An override naming a column the file lacks is an error listing the columns."""
        with pytest.raises(
            ArgumentError, match=r"columns\['work_email'\] = 'Mail' is not a column"
        ):
            build_mapping(HEADER, {}, {"work_email": "Mail"})

    def test_no_identifier_is_refused_with_what_matched(self) -> None:
        """Without linkedin_id, work_email or personal_email the error says what did match."""
        with pytest.raises(
            ArgumentError, match=r"no identifier column.*first_name <- 'First Name'"
        ):
            build_mapping(HEADER, {"first_name": 0}, None)

    def test_unmapped_columns_are_listed(self) -> None:
        """Columns no field reads are named (#N for a column without a name)."""
        assert unmapped_columns([*HEADER, ""], {"work_email": 1}) == [
            "First Name",
            "LinkedIn",
            "Notes",
            "#5",
        ]


class TestShapes:
    def test_both_documented_shapes(self) -> None:
        """The index's object and the white-label array carry the same mapping."""
        mapping = {"work_email": 1, "linkedin_id": 2}
        assert encode_columns(mapping, HEADER, "object") == mapping
        assert encode_columns(mapping, HEADER, "array") == [
            {"source": "E-mail", "target": "work_email"},
            {"source": "LinkedIn", "target": "linkedin_id"},
        ]
        assert other_shape("object") == "array" and other_shape("array") == "object"

    @pytest.mark.parametrize(
        ("fields", "message", "expected"),
        [
            ({"columns": ["must be an array"]}, "The columns must be an array.", True),
            ({"columns.0.source": ["no such column"]}, "x", True),
            ({"list_uuid": ["The selected list_uuid is invalid."]}, "invalid list", False),
            ({}, "The column mapping is invalid.", True),
            ({}, "The file must have type csv_leads.", False),
        ],
    )
    def test_refusal_about_columns_is_recognised(
        self, fields: dict[str, list[str]], message: str, expected: bool
    ) -> None:
        """Only a 422 about columns triggers the shape fallback, not one about the list or file."""
        error = UnprocessableEntityError(message, reason="validation_error", field_errors=fields)
        assert is_mapping_refusal(error) is expected
