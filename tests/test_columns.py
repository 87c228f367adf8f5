"""Column mapping: names, aliases, overrides, read-only and unknown columns, clashes."""

from __future__ import annotations

import pytest

from getsales_async._columns import (
    EXPORT_COLUMNS,
    READ_ONLY_FIELDS,
    REPORT_COLUMNS,
    WRITABLE_FIELDS,
    ColumnMapping,
    ColumnMappingError,
)
from getsales_async._generated.models.lead import Lead


class TestMatching:
    @pytest.mark.parametrize(
        ("header", "field"),
        [
            ("first_name", "first_name"),
            ("First Name", "first_name"),
            ("FIRST-NAME", "first_name"),
            ("Firstname", "first_name"),
            ("LinkedIn URL", "linkedin_id"),
            ("linkedin_url", "linkedin_id"),
            ("LinkedIn", "linkedin"),
            ("Email", "email"),
            ("E-mail", "email"),
            ("Work Email", "work_email"),
            ("Company", "company_name"),
            ("Job Title", "position"),
            ("Phone", "work_phone_number"),
            ("Location", "raw_address"),
            ("Tags", "tags"),
        ],
    )
    def test_headers_match_fields_case_and_separator_insensitively(
        self, header: str, field: str
    ) -> None:
        """Headers map to a field by name or alias, whatever their case and separators."""
        mapping = ColumnMapping.build([header])
        assert mapping.as_dict() == {header: field}

    def test_cf_and_custom_fields_prefixes_set_custom_fields(self) -> None:
        """cf:NAME and custom_fields.NAME columns set the custom field NAME."""
        mapping = ColumnMapping.build(["email", "cf:segment", "custom_fields.Tier"])
        assert mapping.custom_fields == ["segment", "Tier"]
        assert mapping.as_dict()["cf:segment"] == "cf:segment"

    def test_export_and_report_columns_are_recognised_and_not_sent(self) -> None:
        """An exported file and a failed-rows CSV map without errors; their extra columns send nothing."""
        mapping = ColumnMapping.build([*REPORT_COLUMNS, *EXPORT_COLUMNS])
        sent = {h for h, target in mapping.as_dict().items() if target is not None}
        assert sent == set(EXPORT_COLUMNS) - set(READ_ONLY_FIELDS)
        assert all(f in WRITABLE_FIELDS for f in sent)

    def test_export_columns_cover_every_contact_field(self) -> None:
        """The export writes every field of the contact model, in the schema's order."""
        fields = [a.name for a in Lead.__attrs_attrs__ if a.name != "additional_properties"]
        assert list(EXPORT_COLUMNS) == fields


class TestMistakes:
    def test_unknown_columns_are_listed_with_suggestions(self) -> None:
        """Every unknown column is named, with the closest field and what to do."""
        with pytest.raises(ColumnMappingError) as info:
            ColumnMapping.build(["email", "frist_name", "foo"])
        message = str(info.value)
        assert "'frist_name' (did you mean first_name?)" in message and "'foo'" in message
        assert "--map" in message and "--ignore-unknown-columns" in message

    def test_unknown_columns_can_be_ignored(self) -> None:
        """With ignore_unknown, unknown columns are left out and reported as ignored."""
        mapping = ColumnMapping.build(["email", "foo"], ignore_unknown=True)
        assert mapping.as_dict() == {"email": "email", "foo": None}
        assert mapping.ignored == ["foo"]

    @pytest.mark.parametrize(
        ("header", "needle"),
        [
            (["email", "email"], "twice"),
            (["Email", "e-mail"], "both map to email"),
            (["cf:Segment", "cf:segment"], "both map to custom field"),
            (["uuid", "created_at"], "no column maps to a contact field"),
        ],
    )
    def test_ambiguous_headers_are_refused(self, header: list[str], needle: str) -> None:
        """Duplicate headers, two columns for one field, or nothing to send are errors."""
        with pytest.raises(ColumnMappingError, match=needle):
            ColumnMapping.build(header)


class TestOverrides:
    def test_map_sends_a_column_to_a_field_or_custom_field_or_nowhere(self) -> None:
        """--map overrides names and aliases: a field, cf:NAME, or empty to ignore."""
        mapping = ColumnMapping.build(
            ["Profile", "Segment", "Notes", "email"],
            overrides={"profile": "linkedin_id", "Segment": "cf:segment", "Notes": ""},
        )
        assert mapping.as_dict() == {
            "Profile": "linkedin_id",
            "Segment": "cf:segment",
            "Notes": None,
            "email": "email",
        }

    @pytest.mark.parametrize(
        ("overrides", "needle"),
        [
            ({"Missing": "email"}, "no column named 'Missing'"),
            ({"Profile": "uuid"}, "not a contact field you can import"),
            ({"Profile": "nonsense"}, "not a contact field you can import"),
        ],
    )
    def test_bad_overrides_are_refused(self, overrides: dict[str, str], needle: str) -> None:
        """An override naming no column, or a field that cannot be imported, is an error."""
        with pytest.raises(ColumnMappingError, match=needle):
            ColumnMapping.build(["Profile", "email"], overrides=overrides)
