"""Which CSV column is which contact field: the field catalogue, aliases and the column mapping.

A header is matched to a contact field case- and separator-insensitively (``First Name``,
``first_name`` and ``FIRST-NAME`` are all ``first_name``), then through :data:`ALIASES`
(``LinkedIn URL`` → ``linkedin_id``, ``Email`` → ``email``, ``Company`` → ``company_name``…).
``cf:NAME`` (or ``custom_fields.NAME``) sets the custom field ``NAME``. A column named exactly
like a read-only contact field (``uuid``, ``created_at``… as ``export-leads`` writes them) is
recognised and not imported, and so are the ``import_line`` / ``import_error`` columns of a
failed-rows CSV, so both files re-import as they are. Anything else is an unknown column:
:meth:`ColumnMapping.build` refuses it (listing every one, with the closest field names) unless
told to ignore unknown columns. ``overrides`` (the CLI's ``--map "Header=field"``) win over all
of this; an empty field (``"Header="``) ignores the column.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from ._errors import ArgumentError

__all__ = [
    "ALIASES",
    "CUSTOM_PREFIXES",
    "EXPORT_COLUMNS",
    "READ_ONLY_FIELDS",
    "REPORT_COLUMNS",
    "WRITABLE_FIELDS",
    "Column",
    "ColumnMapping",
    "ColumnMappingError",
    "normalise_header",
]

# Contact fields an upsert writes (inside ``lead``); ``tags`` holds tag names.
WRITABLE_FIELDS = (
    "linkedin_id",
    "linkedin",
    "ln_id",
    "sn_id",
    "ln_member_id",
    "first_name",
    "last_name",
    "name",
    "company_name",
    "email",
    "work_email",
    "personal_email",
    "position",
    "headline",
    "about",
    "domain",
    "raw_address",
    "work_phone_number",
    "personal_phone_number",
    "facebook",
    "twitter",
    "tags",
)
# Every field of a contact as the API returns it, in the schema's order: the export's columns.
EXPORT_COLUMNS = (
    "uuid",
    "team_id",
    "user_id",
    "sender_profile_uuid",
    "list_uuid",
    "data_source_uuid",
    "pipeline_stage_uuid",
    "company_uuid",
    "name",
    "first_name",
    "last_name",
    "company_name",
    "company_ln_id",
    "position",
    "headline",
    "about",
    "avatar_url",
    "ln_id",
    "sn_id",
    "ln_member_id",
    "linkedin",
    "facebook",
    "twitter",
    "work_email",
    "personal_email",
    "work_phone_number",
    "personal_phone_number",
    "connections_number",
    "followers_number",
    "primary_language",
    "supported_languages",
    "has_open_profile",
    "has_verified_profile",
    "has_premium",
    "experience",
    "posts",
    "educations",
    "skills",
    "raw_address",
    "location",
    "tags",
    "status",
    "linkedin_status",
    "email_status",
    "unread_counts",
    "last_automation_approve_at",
    "last_enrich_at",
    "last_stop_on_reply_at",
    "created_at",
    "updated_at",
)
# Contact fields the API sets or derives: an import recognises them and does not send them.
READ_ONLY_FIELDS = tuple(f for f in EXPORT_COLUMNS if f not in WRITABLE_FIELDS)
# Columns a failed-rows CSV adds in front of the original ones.
REPORT_COLUMNS = ("import_line", "import_error")
CUSTOM_PREFIXES = ("cf:", "custom_fields.")
MAX_COLUMNS = 1000  # a header wider than this is refused

# normalised header → field. Exact field names need no entry.
ALIASES: dict[str, str] = {
    **dict.fromkeys(
        (
            "linkedinurl",
            "linkedinprofile",
            "linkedinprofileurl",
            "linkedinlink",
            "profileurl",
        ),
        "linkedin_id",
    ),
    **dict.fromkeys(("first", "firstname", "givenname", "forename"), "first_name"),
    **dict.fromkeys(("last", "lastname", "surname", "familyname"), "last_name"),
    **dict.fromkeys(("fullname", "contactname"), "name"),
    **dict.fromkeys(
        ("company", "companyname", "organization", "organisation", "account", "employer"),
        "company_name",
    ),
    **dict.fromkeys(("emailaddress", "mail"), "email"),
    **dict.fromkeys(("businessemail", "companyemail", "professionalemail"), "work_email"),
    **dict.fromkeys(("privateemail", "homeemail"), "personal_email"),
    **dict.fromkeys(("title", "jobtitle", "role"), "position"),
    **dict.fromkeys(("summary", "bio", "description"), "about"),
    **dict.fromkeys(("website", "companydomain", "companywebsite"), "domain"),
    **dict.fromkeys(("address", "location", "city"), "raw_address"),
    **dict.fromkeys(
        ("phone", "phonenumber", "workphone", "businessphone", "officephone"), "work_phone_number"
    ),
    **dict.fromkeys(
        ("mobile", "mobilephone", "cellphone", "personalphone"), "personal_phone_number"
    ),
    **dict.fromkeys(("salesnavigatorid", "salesnavid"), "sn_id"),
    **dict.fromkeys(("memberid", "linkedinmemberid"), "ln_member_id"),
    **dict.fromkeys(("tag", "labels", "label"), "tags"),
}

_SEPARATORS = re.compile(r"[\s_\-.]+")
Kind = Literal["field", "custom", "read_only", "report", "ignored", "unknown"]


class ColumnMappingError(ArgumentError):
    """Raised when a CSV header cannot be mapped: unknown, duplicate or clashing columns."""


def normalise_header(text: str) -> str:
    """The comparison form of a header: case-folded, without spaces, ``_``, ``-`` or ``.``."""
    return _SEPARATORS.sub("", text.strip().casefold())


_BY_NORMAL = {normalise_header(f): f for f in WRITABLE_FIELDS}


@dataclass(frozen=True)
class Column:
    """One column of the file and what it becomes.

    Attributes:
        header: the header as written in the file.
        index: its 0-based position.
        kind: ``field`` (a contact field), ``custom`` (a custom field), ``read_only`` (a field
            the API sets: not sent), ``report`` (a failed-rows CSV column: not sent),
            ``ignored`` (ignored on request) or ``unknown``.
        target: the contact field, or the custom field's name; ``None`` when not sent.
        how: why: ``"name"``, ``"alias"``, ``"--map"``, ``"prefix"`` or ``""``.
    """

    header: str
    index: int
    kind: Kind
    target: str | None = None
    how: str = ""

    def describe(self) -> str:
        """One line for the printed mapping."""
        head = f"{self.header!r}"
        if self.kind == "field":
            return f"{head} -> {self.target}" + (f" ({self.how})" if self.how != "name" else "")
        if self.kind == "custom":
            return f"{head} -> custom field {self.target!r}"
        if self.kind == "read_only":
            return f"{head} -> not imported (read-only contact field)"
        if self.kind == "report":
            return f"{head} -> not imported (failed-rows report column)"
        return f"{head} -> ignored" + (" (--map)" if self.how == "--map" else "")


def _resolve(header: str) -> tuple[Kind, str | None, str]:
    """What a header means without overrides."""
    text = header.strip()
    folded = text.casefold()
    for prefix in CUSTOM_PREFIXES:
        if folded.startswith(prefix) and text[len(prefix) :].strip():
            return "custom", text[len(prefix) :].strip(), "prefix"
    if text in REPORT_COLUMNS:
        return "report", None, "name"
    if text in READ_ONLY_FIELDS:  # exactly as export-leads writes them
        return "read_only", None, "name"
    normal = normalise_header(text)
    if normal in _BY_NORMAL:
        return "field", _BY_NORMAL[normal], "name"
    if normal in ALIASES:
        return "field", ALIASES[normal], "alias"
    return "unknown", None, ""


def _target_of(spec: str, where: str) -> tuple[Kind, str | None]:
    """The meaning of the right-hand side of ``--map Header=spec``."""
    spec = spec.strip()
    if not spec:
        return "ignored", None
    kind, target, _how = _resolve(spec)
    if kind in ("field", "custom"):
        return kind, target
    fields = ", ".join(WRITABLE_FIELDS)
    message = f"{where}: {spec!r} is not a contact field you can import (one of: {fields}; or cf:NAME for a custom field; or nothing to ignore the column)"
    raise ColumnMappingError(message)


def _apply_overrides(
    columns: list[Column], header: Sequence[str], overrides: Mapping[str, str]
) -> list[Column]:
    by_normal: dict[str, list[int]] = {}
    for i, h in enumerate(header):
        by_normal.setdefault(normalise_header(h), []).append(i)
    for source, spec in overrides.items():
        where = f"--map {source}={spec}"
        exact = [i for i, h in enumerate(header) if h.strip() == source.strip()]
        found = exact or by_normal.get(normalise_header(source), [])
        if len(found) != 1:
            problem = "no column" if not found else "several columns"
            listed = ", ".join(repr(h) for h in header)
            raise ColumnMappingError(f"{where}: {problem} named {source!r} (columns: {listed})")
        kind, target = _target_of(spec, where)
        columns[found[0]] = Column(header[found[0]], found[0], kind, target, "--map")
    return columns


def _check_duplicates(header: Sequence[str]) -> None:
    seen: dict[str, str] = {}
    for h in header:
        key = h.strip()
        if key in seen:
            raise ColumnMappingError(
                f"the header names column {key!r} twice; rename one (or remove it) and retry"
            )
        seen[key] = h


def _check_clashes(columns: Sequence[Column]) -> None:
    owners: dict[tuple[str, str], list[str]] = {}
    for c in columns:
        if c.kind in ("field", "custom") and c.target is not None:
            key = (c.kind, c.target.casefold() if c.kind == "custom" else c.target)
            owners.setdefault(key, []).append(c.header)
    for (kind, target), headers in owners.items():
        if len(headers) > 1:
            what = f"custom field {target!r}" if kind == "custom" else target
            listed = " and ".join(repr(h) for h in headers)
            message = f"columns {listed} both map to {what}; keep one, or send the other elsewhere with --map"
            raise ColumnMappingError(message)


def _unknown_message(unknown: Sequence[Column]) -> str:
    hints = []
    for c in unknown:
        close = difflib.get_close_matches(normalise_header(c.header), list(_BY_NORMAL), n=1)
        hint = f" (did you mean {_BY_NORMAL[close[0]]}?)" if close else ""
        hints.append(f"{c.header!r}{hint}")
    return (
        f"{len(unknown)} column(s) match no contact field: {', '.join(hints)}; "
        'map them with --map "Header=field" (or cf:NAME for a custom field), '
        "or pass --ignore-unknown-columns to leave them out"
    )


@dataclass(frozen=True)
class ColumnMapping:
    """Every column of a header and what it becomes (see the module docstring)."""

    columns: tuple[Column, ...]

    @classmethod
    def build(
        cls,
        header: Sequence[str],
        *,
        overrides: Mapping[str, str] | None = None,
        ignore_unknown: bool = False,
    ) -> ColumnMapping:
        """Map a header.

        Args:
            header: the column names, in file order.
            overrides: header → field (``"cf:NAME"`` for a custom field, ``""`` to ignore).
            ignore_unknown: leave unknown columns out instead of refusing them.

        Raises:
            ColumnMappingError: duplicate headers, two columns for one field, a bad override,
                or unknown columns (unless ``ignore_unknown``).
        """
        if len(header) > MAX_COLUMNS:
            raise ColumnMappingError(
                f"the header has {len(header)} columns; at most {MAX_COLUMNS} are supported"
            )
        _check_duplicates(header)
        columns = [Column(h, i, *_resolve(h)) for i, h in enumerate(header)]
        columns = _apply_overrides(columns, header, overrides or {})
        unknown = [c for c in columns if c.kind == "unknown"]
        if unknown and not ignore_unknown:
            raise ColumnMappingError(_unknown_message(unknown))
        columns = [
            Column(c.header, c.index, "ignored", None, "unknown") if c.kind == "unknown" else c
            for c in columns
        ]
        _check_clashes(columns)
        if not any(c.kind in ("field", "custom") for c in columns):
            raise ColumnMappingError(
                "no column maps to a contact field; is the delimiter right? (see --delimiter)"
            )
        return cls(tuple(columns))

    @property
    def header(self) -> list[str]:
        """The file's column names, in order."""
        return [c.header for c in self.columns]

    @property
    def custom_fields(self) -> list[str]:
        """The custom field names the file sets."""
        return [c.target for c in self.columns if c.kind == "custom" and c.target]

    @property
    def ignored(self) -> list[str]:
        """Headers of the columns left out because they were unknown."""
        return [c.header for c in self.columns if c.kind == "ignored" and c.how == "unknown"]

    def describe(self) -> list[str]:
        """The mapping, one line per column (for printing before a job starts)."""
        return [c.describe() for c in self.columns]

    def as_dict(self) -> dict[str, str | None]:
        """Header → target (``cf:NAME`` for custom fields; ``None`` when not imported)."""
        out: dict[str, str | None] = {}
        for c in self.columns:
            out[c.header] = (
                c.target if c.kind == "field" else f"cf:{c.target}" if c.kind == "custom" else None
            )
        return out
