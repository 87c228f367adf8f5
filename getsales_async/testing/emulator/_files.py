"""File imports: ``uploadCsv``, then ``importLeadsFromFile`` / ``importCompaniesFromFile``.

Upload (multipart ``file`` + ``type``): the file must be UTF-8, at most
``BulkConfig.max_upload_bytes`` (15 MB), with a header line; the delimiter is detected from the
header (comma, semicolon or pipe, as the index says). The answer previews the file
(``csv_headers``, the first 10 rows as ``csv_preview``) and proposes ``matches``: header names
recognised as fields (case, spaces and punctuation ignored; aliases such as ``Email`` or
``LinkedIn URL``), as ``{field: column_index}``, or ``[]`` when nothing matched.

Import: ``columns`` in either documented shape, as ``BulkConfig.mapping_shapes`` allows: an object
``{field: column_index}`` (the index) or an array ``[{source, target}]`` whose ``source`` is a
header name or a column index (the white-label reference); the other shape answers 422. At least
one identifier must be mapped (contacts: ``linkedin_id``, ``work_email`` or ``personal_email``;
companies: ``linkedin_id`` or ``name``). The emulator requires ``list_uuid`` for contacts (it is
where they go). The rows are then processed in the background (:mod:`._background`): each contact
row runs through the upsert path itself (``plan_upsert`` / ``apply_upsert``: same identifier
rule, deduplication, blacklist refusals and webhook events, ``update_if_exists``/``move_to_list``
at their defaults; not recorded in ``state.upserts``, which logs ``POST /upsert`` calls), each
company row through the company create handler; the job record in ``state.file_imports`` counts
``created``, ``updated``, ``skipped`` and ``failed`` rows (with a sample of errors). The API
itself reports none of that.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ._companies import create_companies
from ._errors import ApiError, not_found, validation_error
from ._http import Call, Fields, Record, Reply, public
from ._leads import apply_upsert, plan_upsert
from ._multipart import MultipartBody
from ._state import EmulatorState

__all__ = ["COMPANY_IMPORT_FIELDS", "HANDLERS", "LEAD_IMPORT_FIELDS", "auto_matches"]

UPLOAD_TYPES = ("csv_leads", "csv_accounts")
PREVIEW_ROWS = 10
DELIMITERS = (",", ";", "|")  # "comma, semicolon, or pipe" (the index), in tie-break order
MAX_ERROR_SAMPLES = 100  # failed rows whose message a job record keeps
LEAD_IDENTIFIERS = ("linkedin_id", "work_email", "personal_email")
COMPANY_IDENTIFIERS = ("linkedin_id", "name")

# field -> header aliases (normalised: lower case, runs of other characters as "_")
LEAD_IMPORT_FIELDS: dict[str, tuple[str, ...]] = {
    "linkedin_id": (
        "linkedin_id",
        "linkedin",
        "linkedin_url",
        "linkedin_profile",
        "linkedin_profile_url",
        "profile_url",
        "sales_navigator_url",
    ),
    "ln_member_id": ("ln_member_id", "member_id"),
    "ln_id": ("ln_id",),
    "sn_id": ("sn_id",),
    "first_name": ("first_name", "firstname", "first", "given_name"),
    "last_name": ("last_name", "lastname", "last", "surname", "family_name"),
    "name": ("name", "full_name", "fullname", "contact_name"),
    "company_name": ("company_name", "company", "organization", "organisation", "account_name"),
    "position": ("position", "title", "job_title", "role"),
    "headline": ("headline",),
    "about": ("about", "summary", "bio"),
    "work_email": ("work_email", "email", "e_mail", "email_address", "business_email"),
    "personal_email": ("personal_email", "private_email"),
    "work_phone_number": ("work_phone_number", "work_phone", "phone", "phone_number"),
    "personal_phone_number": ("personal_phone_number", "personal_phone", "mobile"),
    "raw_address": ("raw_address", "address", "location"),
    "facebook": ("facebook",),
    "twitter": ("twitter",),
    "domain": ("domain", "company_domain"),
}
COMPANY_IMPORT_FIELDS: dict[str, tuple[str, ...]] = {
    "name": ("name", "company", "company_name", "account_name"),
    "linkedin_id": ("linkedin_id", "linkedin", "linkedin_url", "company_linkedin"),
    "domain": ("domain", "company_domain"),
    "website": ("website", "url", "company_website"),
    "industry": ("industry",),
    "employees_range": ("employees_range", "employees", "company_size", "headcount"),
    "hq_raw_address": ("hq_raw_address", "address", "headquarters", "hq"),
}
_NON_WORD = re.compile(r"[^0-9a-z]+")


# ---------------------------------------------------------------------------- reading the CSV


def _normalise(header: str) -> str:
    return _NON_WORD.sub("_", header.casefold()).strip("_")


def auto_matches(headers: Sequence[str], upload_type: str) -> dict[str, int]:
    """``{field: column_index}`` for the headers recognised as fields (the first column wins)."""
    aliases = LEAD_IMPORT_FIELDS if upload_type == "csv_leads" else COMPANY_IMPORT_FIELDS
    lookup = {alias: field for field, names in aliases.items() for alias in names}
    out: dict[str, int] = {}
    for index, header in enumerate(headers):
        field = lookup.get(_normalise(header))
        if field is not None and field not in out:
            out[field] = index
    return out


def detect_delimiter(header_line: str) -> str:
    """The delimiter used most often outside quotes in the header line (comma on a tie or none)."""
    counts = dict.fromkeys(DELIMITERS, 0)
    quoted = False
    for char in header_line:
        if char == '"':
            quoted = not quoted
        elif not quoted and char in counts:
            counts[char] += 1
    best = max(DELIMITERS, key=lambda d: (counts[d], -DELIMITERS.index(d)))
    return best if counts[best] else ","


def _read_csv(data: bytes) -> tuple[str, list[str], list[list[str]]]:
    """Delimiter, header and non-blank rows of an uploaded file; 422 when it cannot be read."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise validation_error({"file": ["The file must be UTF-8 encoded text."]}) from None
    first_line = text.split("\n", 1)[0]
    delimiter = detect_delimiter(first_line)
    try:
        rows = [r for r in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter) if r]
    except csv.Error as exc:
        raise validation_error({"file": [f"The file is not valid CSV: {exc}."]}) from None
    if not rows or not any(cell.strip() for cell in rows[0]):
        raise validation_error({"file": ["The file has no header line."]})
    header = [cell.strip() for cell in rows[0]]
    body = [r for r in rows[1:] if any(cell.strip() for cell in r)]
    return delimiter, header, body


# ---------------------------------------------------------------------------- upload


def upload_csv(call: Call) -> Reply:
    """``POST /leads/api/file-imports/upload-csv`` (multipart ``file`` + ``type``)."""
    state = call.state
    given = call.body if isinstance(call.body, MultipartBody) else MultipartBody(())
    errors: dict[str, list[str]] = {}
    upload_type = given.get("type")
    type_text = upload_type.text() if upload_type is not None else None
    if type_text is None:
        errors["type"] = ["The type field is required."]
    elif type_text not in UPLOAD_TYPES:
        errors["type"] = [f"The selected type is invalid (one of: {', '.join(UPLOAD_TYPES)})."]
    file = given.get("file")
    limit = state.background.config.max_upload_bytes
    if file is None or file.filename is None:
        errors["file"] = ["The file field is required (a multipart file part)."]
    elif len(file.data) > limit:
        errors["file"] = [f"The file may not be greater than {limit // 1024} kilobytes."]
    if errors:
        raise validation_error(errors)
    assert file is not None and type_text is not None
    delimiter, header, rows = _read_csv(file.data)
    matches = auto_matches(header, type_text)
    record = state.create(
        state.uploads,
        call.team_id,
        {
            "type": type_text,
            "status": "uploaded",
            "payload": {
                "file_name": file.filename,
                "size": len(file.data),
                "delimiter": delimiter,
                "rows": len(rows),
            },
            "csv_headers": header,
            "csv_preview": rows[:PREVIEW_ROWS],
            "matches": matches or [],
            "_rows": rows,
        },
    )
    return Reply(200, public(record))


# ---------------------------------------------------------------------------- the column mapping


def _column_index(source: Any, header: Sequence[str]) -> int | None:
    if isinstance(source, int) and not isinstance(source, bool):
        return source if 0 <= source < len(header) else None
    if not isinstance(source, str):
        return None
    if source in header:
        return header.index(source)
    folded = [h.casefold() for h in header]
    if source.strip().casefold() in folded:
        return folded.index(source.strip().casefold())
    return int(source) if source.isdigit() and int(source) < len(header) else None


def _object_columns(
    given: Mapping[str, Any], header: Sequence[str], fields: Fields
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for field, index in given.items():
        if index is None:
            continue
        if isinstance(index, bool) or not isinstance(index, int):
            fields.fail(f"columns.{field}", "The column number must be an integer.")
        elif not 0 <= index < len(header):
            fields.fail(
                f"columns.{field}", f"The file has no column {index} (0-{len(header) - 1})."
            )
        else:
            out[field] = index
    return out


def _array_columns(given: list[Any], header: Sequence[str], fields: Fields) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for position, item in enumerate(given):
        where = f"columns.{position}"
        if not isinstance(item, dict) or not isinstance(item.get("target"), str):
            fields.fail(where, "Each column is an object with a source and a string target.")
            continue
        if item.get("source") is None:
            continue
        index = _column_index(item.get("source"), header)
        if index is None:
            fields.fail(f"{where}.source", f"{item.get('source')!r} is not a column of the file.")
        elif item["target"] in out:
            fields.fail(f"{where}.target", f"{item['target']} is mapped twice.")
        else:
            out[item["target"]] = index
    return out


def read_columns(
    fields: Fields,
    header: Sequence[str],
    known: Mapping[str, Any],
    identifiers: Sequence[str],
    shapes: Sequence[str],
) -> dict[str, int]:
    """The confirmed mapping ``{field: column_index}``; problems go to ``fields`` (``columns.*``)."""
    given = fields.body.get("columns")
    mapping: dict[str, Any] = {}
    if given is None:
        fields.fail("columns", "The columns field is required.")
    elif isinstance(given, dict) and "object" in shapes:
        mapping = _object_columns(given, header, fields)
    elif isinstance(given, list) and "array" in shapes:
        mapping = _array_columns(given, header, fields)
    elif tuple(shapes) == ("array",):
        fields.fail("columns", "The columns must be an array of {source, target} objects.")
    elif tuple(shapes) == ("object",):
        fields.fail("columns", "The columns must be an object mapping field names to columns.")
    else:
        fields.fail("columns", "The columns must be an object or an array.")
    for field in mapping:
        if field not in known:
            fields.fail(f"columns.{field}", f"Unknown field {field!r}.")
    if given is not None and not fields.errors and not any(f in mapping for f in identifiers):
        fields.fail("columns", f"At least one of {', '.join(identifiers)} must be mapped.")
    return mapping


# ---------------------------------------------------------------------------- import


def _upload_for(call: Call, upload_type: str) -> Record:
    state = call.state
    upload = state.uploads.get(call.params["uuid"])
    if upload is None or upload["team_id"] != call.team_id:
        raise not_found("File import")
    if upload["type"] != upload_type:
        raise validation_error(
            {"file": [f"The uploaded file must have type {upload_type} (it is {upload['type']})."]}
        )
    return upload


def _checked_tags(call: Call, body: Fields) -> list[str]:
    names = body.strings("tags") or []
    found = call.state.tag_uuids(call.team_id, names, create=False)
    if len(found) != len(set(names)):
        body.fail("tags", "The selected tags are invalid: give uuids (or names) of existing tags.")
    return found


def _row_values(row: Sequence[str], mapping: Mapping[str, int]) -> dict[str, Any]:
    return {
        field: row[index].strip()
        for field, index in mapping.items()
        if index < len(row) and row[index].strip()
    }


def _lead_row(state: EmulatorState, team: int, values: dict[str, Any], job: _ImportWork) -> str:
    """One contact row, through the upsert path itself (dedup, blacklists, webhooks)."""
    if job.tags:
        values["tags"] = list(job.tags)
    plan = plan_upsert(state, team, Fields({"lead": values, "list_uuid": job.list_uuid}))
    _, outcome = apply_upsert(state, team, plan, log=False)
    return outcome


def _company_row(state: EmulatorState, team: int, values: dict[str, Any]) -> str:
    """One company row, through company create (dedup by domain and LinkedIn URL)."""
    from starlette.datastructures import QueryParams

    if "linkedin_id" in values:
        values.setdefault("linkedin", values.pop("linkedin_id"))
    before = len(state.companies)
    create_companies(Call(state, team, {}, QueryParams(), values))
    return "created" if len(state.companies) > before else "updated"


@dataclass(frozen=True)
class _ImportWork:
    """A file import's work: the upload's rows ``[start, end)`` through upsert or company create."""

    upload_uuid: str
    mapping: tuple[tuple[str, int], ...]
    list_uuid: str | None = None
    tags: tuple[str, ...] = ()

    def run(self, state: EmulatorState, record: Record, start: int, end: int) -> None:
        """Import rows ``[start, end)``, counting each outcome on ``record``."""
        rows: list[list[str]] = state.uploads[self.upload_uuid]["_rows"]
        team, mapping = record["team_id"], dict(self.mapping)
        for number in range(start, end):
            values = _row_values(rows[number], mapping)
            try:
                if self.list_uuid is None:
                    outcome = _company_row(state, team, values)
                else:
                    outcome = _lead_row(state, team, values, self)
            except ApiError as exc:
                record["failed"] += 1
                if len(record["errors"]) < MAX_ERROR_SAMPLES:
                    record["errors"].append({"row": number + 1, "message": exc.message})
            else:
                record[outcome] += 1

    def finish(self, state: EmulatorState, record: Record) -> None:
        """Nothing: the counts are complete."""


def _start_job(call: Call, upload: Record, job: Mapping[str, Any], work: _ImportWork) -> Reply:
    """Record the import job, queue its rows on the background worker, answer ``in_progress``."""
    state = call.state
    record = state.create(
        state.file_imports,
        call.team_id,
        {"file_uuid": upload["uuid"], "type": upload["type"], **job},
    )
    record.update(created=0, updated=0, skipped=0, failed=0, errors=[])
    upload["status"] = "imported"
    total = len(upload["_rows"])
    state.background.submit(call.team_id, record, total, work, queued_status="in_progress")
    return Reply(200, {k: record[k] for k in ("uuid", "status", "type", "file_uuid", "total")})


def import_leads(call: Call) -> Reply:
    """``POST /leads/api/file-imports/{uuid}/import-leads``: validate, then process in the background."""
    state, team = call.state, call.team_id
    upload = _upload_for(call, "csv_leads")
    body = Fields(call.body)
    shapes = state.background.config.mapping_shapes
    mapping = read_columns(
        body, upload["csv_headers"], LEAD_IMPORT_FIELDS, LEAD_IDENTIFIERS, shapes
    )
    list_uuid = body.string("list_uuid", required=True)
    if list_uuid and state.lists.get(list_uuid, {}).get("team_id") != team:
        body.fail("list_uuid", "The selected list_uuid is invalid: the list does not exist.")
    tags = _checked_tags(call, body)
    body.done()
    assert list_uuid is not None  # checked by done()
    work = _ImportWork(upload["uuid"], tuple(mapping.items()), list_uuid, tuple(tags))
    return _start_job(call, upload, {"list_uuid": list_uuid, "tags": tags}, work)


def import_companies(call: Call) -> Reply:
    """``POST /leads/api/file-imports/{uuid}/import-companies``: companies, in the background."""
    state = call.state
    upload = _upload_for(call, "csv_accounts")
    body = Fields(call.body)
    shapes = state.background.config.mapping_shapes
    mapping = read_columns(
        body, upload["csv_headers"], COMPANY_IMPORT_FIELDS, COMPANY_IDENTIFIERS, shapes
    )
    body.done()
    return _start_job(call, upload, {}, _ImportWork(upload["uuid"], tuple(mapping.items())))


HANDLERS: dict[str, Callable[[Call], Reply]] = {
    "uploadCsv": upload_csv,
    "importLeadsFromFile": import_leads,
    "importCompaniesFromFile": import_companies,
}
