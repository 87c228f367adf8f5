"""CSV exports of contacts and companies: queued, finished on the clock, then downloadable.

An export selects records with the mass-action filter (``{all: true}``, ``{ids: [...]}``,
search keys) and answers ``queued`` with ``result: null``. After ``timings.export_run`` it is
``done`` with ``result.files: ["<export uuid>.csv"]`` (also in ``emulator.state.file_exports``)
and webhooks get ``contact_exported`` per contact (``account_exported`` per company). The file
holds the records as they were when it finished; downloading it before then is 422, an unknown
file 404.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

from ._errors import not_found, validation_error
from ._http import Call, Fields, RawBody, Record, Reply, public, where
from ._leads import select_leads
from ._state import EmulatorState

__all__ = ["COMPANY_COLUMNS", "HANDLERS", "TIMERS"]

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


def _lead_columns() -> tuple[str, ...]:
    from getsales_async._csv import EXPORT_COLUMNS  # the columns the SDK writes, kept in step

    return tuple(EXPORT_COLUMNS)


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
        state, team, "contact_export_csv", call.body["filter"], [lead["uuid"] for lead in leads]
    )


def export_companies(call: Call) -> Reply:
    """``POST /leads/api/file-exports/companies``: ``queued``."""
    state, team = call.state, call.team_id
    body = Fields(call.body)
    given = body.mapping("filter", required=True)
    body.done()
    assert given is not None  # checked by done()
    ids = given.get("ids") if isinstance(given.get("ids"), list) else None
    conditions = {k: v for k, v in given.items() if k not in ("all", "ids", "excludeIds")}
    found = [
        c["uuid"]
        for c in where(state.of_team(state.companies, team), conditions, text=("name", "domain"))
        if ids is None or c["uuid"] in ids
    ]
    return _new_export(state, team, "account_export_csv", given, found)


def _cell(state: EmulatorState, record: Record, column: str) -> str:
    value = record.get(column)
    if column == "tags":
        return ";".join(state.tags[t]["name"] for t in value or [] if t in state.tags)
    return "" if value is None else str(value)


def _finish(state: EmulatorState, key: str, at: float) -> None:
    """Timer ``export``: write the file, mark the export ``done``, notify webhooks."""
    export = state.file_exports.get(key)
    if export is None or export["status"] != "queued":
        return
    leads = export["type"] == "contact_export_csv"
    table = state.leads if leads else state.companies
    columns = _lead_columns() if leads else COMPANY_COLUMNS
    records = [table[u] for u in export["_uuids"] if u in table]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    for record in records:
        writer.writerow([_cell(state, record, c) for c in columns])
    export.update(
        status="done",
        result={"files": [f"{key}.csv"]},
        _csv=out.getvalue(),
        updated_at=state.iso_at(at),
    )
    event = "contact_exported" if leads else "account_exported"
    for record in records:
        if leads:
            state.outbox.emit(record["team_id"], event, lead=record)
        else:
            state.outbox.emit(record["team_id"], event, company=record)


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
