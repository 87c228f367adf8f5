"""CSV exports of contacts and companies: queued, finished on the clock, then downloadable.

An export selects records with the mass-action filter (``{all: true}``, ``{ids: [...]}``,
search keys) and answers ``queued`` with ``result: null``. After ``timings.export_run`` it is
``done`` with ``result.files: ["<export uuid>.csv"]`` (also in ``emulator.state.file_exports``)
and webhooks get ``contact_exported`` per contact (``account_exported`` per company). The file
holds the records as they were when it finished; downloading it before then is 422, an unknown
file 404. A ``contact_export_csv`` mass action writes its file here too (:func:`write_export`),
so ``downloadExport`` serves both.

A contacts file has the columns the SDK's own export writes (:class:`getsales_async._export.
ContactCsvFormat`: every contact field in the schema's order, tags as names, a ``cf:NAME`` column
per contact custom field, cells neutralised against CSV injection), so it re-imports as it is.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable
from typing import Any

from getsales_async._csv import render_cell
from getsales_async._export import ContactCsvFormat

from ._companies import select_companies
from ._errors import not_found, validation_error
from ._http import Call, Fields, RawBody, Record, Reply, public
from ._leads import select_leads
from ._state import EmulatorState

__all__ = ["COMPANY_COLUMNS", "HANDLERS", "TIMERS", "contacts_csv", "exported_file", "write_export"]

COMPANY_COLUMNS = (
    "uuid",
    "name",
    "domain",
    "website",
    "linkedin",
    "industry",
    "employees_range",
    "tags",
    "status",
    "created_at",
)
CONTACT_EXPORT = "contact_export_csv"
COMPANY_EXPORT = "account_export_csv"


class _SearchItem:
    """A stored contact in the shape :meth:`ContactCsvFormat.row` reads (a search result item)."""

    def __init__(self, lead: Record) -> None:
        self.lead = self
        self._record = lead
        self.custom_fields: dict[str, Any] = dict(lead.get("_custom_fields") or {})

    def to_dict(self) -> dict[str, Any]:
        return public(self._record)


def _tag_names(state: EmulatorState, team: int) -> dict[str, str]:
    return {str(t["uuid"]): str(t["name"]) for t in state.of_team(state.tags, team)}


def contacts_csv(state: EmulatorState, team: int, leads: Iterable[Record]) -> str:
    """Contacts as the CSV text the SDK's export writes for the same team."""
    custom = {
        str(f["uuid"]): str(f["name"])
        for f in state.of_team(state.custom_fields, team)
        if f["object"] == "lead"
    }
    fmt = ContactCsvFormat(_tag_names(state, team), custom)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(fmt.columns)
    for lead in leads:
        writer.writerow(fmt.row(_SearchItem(lead)))
    return out.getvalue()


def _companies_csv(state: EmulatorState, team: int, companies: Iterable[Record]) -> str:
    names = _tag_names(state, team)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COMPANY_COLUMNS)
    for company in companies:
        row = {**company, "tags": [names.get(t, t) for t in company.get("tags") or []]}
        writer.writerow([render_cell(row.get(c)) for c in COMPANY_COLUMNS])
    return out.getvalue()


def _new_export(state: EmulatorState, team: int, kind: str, given: Any, uuids: list[str]) -> Reply:
    fields = {
        "type": kind,
        "filter": given,
        "status": "queued",
        "result": None,
        "_uuids": uuids,
        "_csv": None,
    }
    export = state.create(state.file_exports, team, fields)
    state.schedule(state.clock_time() + state.timings.export_run, "export", export["uuid"])
    return Reply(200, public(export))


def export_leads(call: Call) -> Reply:
    """``POST /leads/api/file-exports/leads``: ``queued``."""
    state, team = call.state, call.team_id
    body = Fields(call.body)
    if not body.has("filter"):
        body.fail("filter", "The filter field is required.")
    leads = select_leads(state, team, body, everything_by_default=True)
    body.done()
    return _new_export(
        state, team, CONTACT_EXPORT, call.body["filter"], [lead["uuid"] for lead in leads]
    )


def export_companies(call: Call) -> Reply:
    """``POST /leads/api/file-exports/companies``: ``queued``."""
    state, team = call.state, call.team_id
    body = Fields(call.body)
    if body.body.get("filter") is None:
        body.fail("filter", "The filter field is required.")
    found = select_companies(state, team, body, everything_by_default=True)
    body.done()
    uuids = [c["uuid"] for c in found]
    return _new_export(state, team, COMPANY_EXPORT, body.body["filter"], uuids)


def _write(state: EmulatorState, export: Record, at: float) -> None:
    """Write an export's file from the records still there, mark it ``done``, notify webhooks."""
    leads = export["type"] == CONTACT_EXPORT
    table = state.leads if leads else state.companies
    records = [table[u] for u in export["_uuids"] if u in table]
    team = export["team_id"]
    text = contacts_csv(state, team, records) if leads else _companies_csv(state, team, records)
    export.update(
        status="done",
        result={"files": [f"{export['uuid']}.csv"]},
        _csv=text,
        updated_at=state.iso_at(at),
    )
    for record in records:
        if leads:
            state.outbox.emit(team, "contact_exported", lead=record)
        else:
            state.outbox.emit(team, "account_exported", company=record)


def _finish(state: EmulatorState, key: str, at: float) -> None:
    """Timer ``export``: write the file, mark the export ``done``, notify webhooks."""
    export = state.file_exports.get(key)
    if export is not None and export["status"] == "queued":
        _write(state, export, at)


def write_export(state: EmulatorState, team: int, given: Any, uuids: list[str]) -> Record:
    """A contacts export written now (a ``contact_export_csv`` mass action); returns its record."""
    fields = {"type": CONTACT_EXPORT, "filter": given, "status": "queued", "result": None}
    export = state.create(state.file_exports, team, {**fields, "_uuids": uuids, "_csv": None})
    _write(state, export, state.clock_time())
    return export


def exported_file(state: EmulatorState, team_id: int, file_name: str) -> bytes | None:
    """The bytes of a finished export file of the team (what ``downloadExport`` sends), if any."""
    export = state.file_exports.get(file_name.removesuffix(".csv"))
    if export is None or export["team_id"] != team_id or export["status"] != "done":
        return None
    return str(export["_csv"]).encode()


def download(call: Call) -> Reply:
    """``POST /leads/api/file-exports/download``: the CSV (404 unknown, 422 not finished)."""
    body = Fields(call.body)
    name = body.string("file_name", required=True)
    body.done()
    export = call.state.file_exports.get(str(name).removesuffix(".csv"))
    if export is None or export["team_id"] != call.team_id:
        raise not_found("Export file")
    if export["status"] != "done":
        raise validation_error({"file_name": ["The export has not finished yet."]})
    return Reply(200, RawBody(str(export["_csv"]).encode(), "text/csv"))


HANDLERS: dict[str, Callable[[Call], Reply]] = {
    "exportLeads": export_leads,
    "exportCompanies": export_companies,
    "downloadExport": download,
}

TIMERS = {"export": _finish}
"""Timer kind → what happens when it is due (run by ``_engine``)."""
