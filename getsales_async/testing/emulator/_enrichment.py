"""Enrichment: queue contacts or companies, watch the queue move on the clock, count credits.

Enriching selects records by ``uuids`` and/or ``filter`` (the mass-action filter: ``all``,
``ids``, ``excludeIds`` and search keys); at least one must match (422). Each costs one credit of
the team's monthly ``credits.advanced_enrichment`` (402 ``payment_required`` when the month's
entries would exceed it). Each record gets a queue entry (integer id) that goes ``waiting`` →
``processing`` (after ``timings.enrichment_pickup``) → ``done`` (after
``timings.enrichment_run``), when the record's ``last_enrich_at`` is set (a contact also gets
``linkedin_status: "ok"``) and webhooks get ``contact_enriched``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ._companies import select_companies
from ._errors import ApiError, validation_error
from ._http import EMPTY, Call, Fields, Record, Reply, int_param, list_handler, public
from ._leads import select_leads
from ._state import EmulatorState

__all__ = ["HANDLERS", "TIMERS"]


def _month_count(state: EmulatorState, team_id: int) -> int:
    month = state.now()[:7]
    return sum(
        1
        for e in state.of_team(state.enrichment_queue, team_id)
        if str(e["created_at"]).startswith(month)
    )


def _queue(state: EmulatorState, team_id: int, object_type: str, records: list[Record]) -> None:
    if not records:
        raise validation_error({"uuids": [f"No {object_type} matches the uuids or filter."]})
    limit = state.teams[team_id]["credits"]["advanced_enrichment"]
    used = _month_count(state, team_id)
    if limit is not None and used + len(records) > limit:
        message = (
            f"Not enough enrichment credits: {limit - used} left this month, {len(records)} asked."
        )
        raise ApiError(402, "payment_required", message)
    for record in records:
        fields = {
            "status": "waiting",
            "attempts": 0,
            "object_type": object_type,
            "object_uuid": record["uuid"],
            "linkedin_account_uuid": None,
        }
        entry = state.create_numbered(state.enrichment_queue, "enrichment", team_id, fields)
        state.schedule(
            state.clock_time() + state.timings.enrichment_pickup, "enrichment", str(entry["id"])
        )


def enrich_leads(call: Call) -> Reply:
    """``PUT /leads/api/leads/advanced-enrichment``: 200 without a body."""
    state, team = call.state, call.team_id
    body = Fields(call.body)
    uuids = body.strings("uuids")
    by_filter = (
        select_leads(state, team, body, everything_by_default=False) if body.has("filter") else []
    )
    body.done()
    chosen = {lead["uuid"]: lead for lead in by_filter}
    for uuid in uuids or []:
        lead = state.leads.get(uuid)
        if lead is not None and lead["team_id"] == team:
            chosen[uuid] = lead
    _queue(state, team, "lead", list(chosen.values()))
    return Reply(200, EMPTY)


def enrich_companies(call: Call) -> Reply:
    """``PUT /leads/api/companies/advanced-enrichment``: ``{count}`` queued."""
    state, team = call.state, call.team_id
    body = Fields(call.body)
    chosen = select_companies(state, team, body, everything_by_default=False)
    body.done()
    _queue(state, team, "company", chosen)
    return Reply(200, {"count": len(chosen)})


def get_entry(call: Call) -> Reply:
    """``GET /leads/api/enrichment-queue/{id}``."""
    key = int_param(call, "id", "Enrichment queue entry")
    entry = call.state.get(call.state.enrichment_queue, call.team_id, key, "Enrichment queue entry")
    return Reply(200, public(entry))


def queue_metrics(call: Call) -> Reply:
    """``POST /leads/api/enrichment-queue/metrics``: entries created this calendar month."""
    return Reply(200, {"this_month_count": _month_count(call.state, call.team_id)})


def _progress(state: EmulatorState, key: str, at: float) -> None:
    """Timer ``enrichment``: ``waiting`` → ``processing`` → ``done`` (the record is updated)."""
    entry = state.enrichment_queue.get(key)
    if entry is None or entry["status"] == "done":
        return
    entry["updated_at"] = state.iso_at(at)
    if entry["status"] == "waiting":
        entry.update(status="processing", attempts=entry["attempts"] + 1)
        state.schedule(at + state.timings.enrichment_run, "enrichment", key)
        return
    entry["status"] = "done"
    table = state.leads if entry["object_type"] == "lead" else state.companies
    record = table.get(str(entry["object_uuid"]))
    if record is None:
        return
    changes: dict[str, Any] = {"last_enrich_at": state.iso_at(at), "updated_at": state.iso_at(at)}
    if entry["object_type"] == "lead":
        changes["linkedin_status"] = "ok"
    record.update(changes)
    if entry["object_type"] == "lead":
        state.outbox.emit(record["team_id"], "contact_enriched", lead=record)


HANDLERS: dict[str, Callable[[Call], Reply]] = {
    "enrichLeads": enrich_leads,
    "enrichCompanies": enrich_companies,
    "listEnrichmentQueue": list_handler(lambda s: s.enrichment_queue, "status"),
    "getEnrichmentQueueEntry": get_entry,
    "enrichmentQueueMetrics": queue_metrics,
}

TIMERS = {"enrichment": _progress}
"""Timer kind → what happens when it is due (run by ``_engine``)."""
