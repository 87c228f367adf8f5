"""Row identities: by normalised content, stable under insertions, repeats numbered; contact keys."""

from __future__ import annotations

from getsales_async import LeadRow
from getsales_async._row_identity import RowIdentities, contact_key, content_digest


def row(index: int, **lead: object) -> LeadRow:
    return LeadRow(index=index, lead=lead)


class TestRowIdentity:
    def test_identity_follows_content_not_position(self) -> None:
        """The same content has the same identity at any index; insertions above do not move it."""
        a = RowIdentities().identify(row(0, work_email="a@x.example", first_name="A"))
        b = RowIdentities()
        b.identify(row(0, work_email="new@x.example"))
        assert b.identify(row(1, first_name="A", work_email="a@x.example")) == a

    def test_normalisation_ignores_whitespace_blank_fields_and_tag_order(self) -> None:
        """Trimmed values, empty fields and the order of tags do not change the identity."""
        plain = content_digest(row(0, work_email="a@x.example", tags=["x", "y"]))
        noisy = content_digest(
            row(5, work_email=" a@x.example ", position="", tags=["y", "x", "x"])
        )
        assert plain == noisy

    def test_an_edit_changes_the_identity_but_not_the_contact(self) -> None:
        """Editing a field gives a new identity and keeps the contact key."""
        ids = RowIdentities()
        before = ids.identify(row(0, work_email="a@x.example", position="CTO"))
        after = ids.identify(row(0, work_email="a@x.example", position="CEO"))
        assert before[0] != after[0] and before[1] == after[1] is not None

    def test_repeats_of_identical_content_are_numbered(self) -> None:
        """The second identical row gets its own identity, so both are accounted."""
        ids = RowIdentities()
        first = ids.identify(row(0, work_email="a@x.example"))[0]
        second = ids.identify(row(1, work_email="a@x.example"))[0]
        assert second == f"{first}.2"

    def test_custom_fields_are_part_of_the_content(self) -> None:
        """A changed custom field value is a changed row."""
        base = LeadRow(0, {"work_email": "a@x.example"}, {"segment": "ent"})
        other = LeadRow(0, {"work_email": "a@x.example"}, {"segment": "smb"})
        assert content_digest(base) != content_digest(other)

    def test_rows_that_cannot_be_sent_are_identified_by_their_cells(self) -> None:
        """A malformed row's identity comes from its raw cells, and it names no contact."""
        bad = LeadRow(0, {}, source={"email": "x", "name": "y"}, problem="malformed row")
        fixed = LeadRow(0, {}, source={"email": "x", "name": "z"}, problem="malformed row")
        assert content_digest(bad) != content_digest(fixed)
        assert RowIdentities().identify(bad)[1] is None


class TestContactKey:
    def test_linkedin_references_name_the_same_contact(self) -> None:
        """A profile URL given as linkedin_id or linkedin, with or without www, is one contact."""
        assert contact_key({"linkedin_id": "https://www.linkedin.com/in/Ann/"}) == contact_key(
            {"linkedin": "linkedin.com/in/ann"}
        )

    def test_emails_and_names_identify_when_no_linkedin_is_given(self) -> None:
        """An e-mail (any case) or name + company is the key; nothing else gives none."""
        assert contact_key({"work_email": "A@X.example"}) == contact_key({"email": "a@x.example"})
        assert contact_key(
            {"first_name": "Ann", "last_name": "Lee", "company_name": "Acme"}
        ) == contact_key({"name": "ann lee", "company_name": "ACME"})
        assert contact_key({"first_name": "Ann"}) is None
