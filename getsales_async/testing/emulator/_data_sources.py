"""LinkedIn imports (data sources): CRUD, a status that moves on the clock, and metrics.

An import is created ``not_started``; it goes ``in_progress`` after
``timings.data_source_pickup`` and ``completed`` after ``timings.data_source_run`` (with
``repeat_after_minutes`` it starts again that long after completing). ``on_hold`` stops it until
it is set ``in_progress`` again. The emulator does not scrape LinkedIn: metrics count the
contacts that carry the import's ``data_source_uuid``, nothing is queued or rejected.
``payload`` must hold the LinkedIn ``url`` to scrape (an http(s) URL).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from ._http import EMPTY, Call, Fields, Record, Reply, get_handler, list_handler, public
from ._state import EmulatorState

__all__ = ["HANDLERS", "TIMERS", "TYPES"]

TYPES = (
    "csv_leads",
    "sn_leads_search",
    "sn_leads_saved_search",
    "sn_leads_list",
    "sn_accounts_search",
    "sn_accounts_saved_search",
    "sn_accounts_list",
    "ln_leads_search",
    "ln_accounts_search",
    "ln_my_network",
    "ln_my_messenger",
    "post_engagement",
    "recruiter_leads_search",
)
STATUSES = (
    "not_started",
    "in_progress",
    "on_hold",
    "completed",
    "failed",
    "contacts_limit_achieved",
)


def _payload(body: Fields, *, required: bool) -> dict[str, Any] | None:
    payload = body.mapping("payload", required=required)
    if payload is None:
        return None
    url = payload.get("url")
    parts = urlsplit(url) if isinstance(url, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
        body.fail(
            "payload.url", "The payload must hold the LinkedIn url to scrape (http or https)."
        )
    return payload


def _read(call: Call, body: Fields, *, creating: bool) -> dict[str, Any]:
    state, team = call.state, call.team_id
    values: dict[str, Any] = {
        "type": body.choice("type", TYPES, required=creating),
        "list_uuid": body.string("list_uuid", required=creating),
        "payload": _payload(body, required=creating),
        "tags": body.strings("tags", nullable=True),
        "repeat_after_minutes": body.integer("repeat_after_minutes", nullable=True, minimum=1),
    }
    if (
        values["list_uuid"] is not None
        and state.lists.get(values["list_uuid"], {}).get("team_id") != team
    ):
        body.fail("list_uuid", "The selected list_uuid is invalid: the list does not exist.")
    profile = body.string("sender_profile_uuid", nullable=True)
    if profile is not None and state.sender_profiles.get(profile, {}).get("team_id") != team:
        body.fail("sender_profile_uuid", "The selected sender_profile_uuid is invalid.")
    values["sender_profile_uuid"] = profile
    if not creating:
        values["status"] = body.choice("status", STATUSES)
    return {k: v for k, v in values.items() if v is not None or body.has(k)}


def create(call: Call) -> Reply:
    """``POST /leads/api/data-sources``: 201, ``not_started``."""
    state = call.state
    body = Fields(call.body)
    values = _read(call, body, creating=True)
    body.done()
    fields = {
        "sender_profile_uuid": None,
        "tags": None,
        "repeat_after_minutes": None,
        "status": "not_started",
        "errors": [],
        "user_id": state.user_id(call.team_id),
        **values,
    }
    source = state.create(state.data_sources, call.team_id, fields)
    state.schedule(
        state.clock_time() + state.timings.data_source_pickup, "data_source", source["uuid"]
    )
    return Reply(201, public(source))


def update(call: Call) -> Reply:
    """``PUT /leads/api/data-sources/{uuid}``: partial; ``on_hold`` pauses, ``in_progress`` resumes."""
    state = call.state
    source = state.get(state.data_sources, call.team_id, call.params["uuid"], "Data source")
    body = Fields(call.body)
    values = _read(call, body, creating=False)
    body.done()
    resumed = values.get("status") == "in_progress" and source["status"] != "in_progress"
    source.update(values)
    state.touch(source)
    if resumed:
        state.schedule(
            state.clock_time() + state.timings.data_source_run, "data_source", source["uuid"]
        )
    return Reply(200, public(source))


def delete(call: Call) -> Reply:
    """``DELETE /leads/api/data-sources/{uuid}``: 200 without a body; imported contacts stay."""
    state = call.state
    source = state.get(state.data_sources, call.team_id, call.params["uuid"], "Data source")
    del state.data_sources[source["uuid"]]
    return Reply(200, EMPTY)


def _progress(state: EmulatorState, key: str, at: float) -> None:
    """Timer ``data_source``: ``not_started`` → ``in_progress`` → ``completed`` (→ again)."""
    source = state.data_sources.get(key)
    if source is None or source["status"] in ("on_hold", "failed", "contacts_limit_achieved"):
        return
    source["updated_at"] = state.iso_at(at)
    if source["status"] in ("not_started", "completed"):
        source["status"] = "in_progress"
        state.schedule(at + state.timings.data_source_run, "data_source", key)
        return
    source["status"] = "completed"
    if source.get("repeat_after_minutes"):
        state.schedule(at + 60.0 * source["repeat_after_minutes"], "data_source", key)


def _metrics(state: EmulatorState, source: Record) -> dict[str, int]:
    saved = sum(
        1 for lead in state.leads.values() if lead.get("data_source_uuid") == source["uuid"]
    )
    names = (
        "queued_records",
        "duplicate_records",
        "blacklisted_records",
        "error_records",
        "child_queued_records",
        "child_saved_records",
        "child_duplicate_records",
    )
    return {"saved_records": saved, **dict.fromkeys(names, 0)}


def metrics(call: Call) -> Reply:
    """``PUT /leads/api/data-sources/metrics``: counters per import of ``uuids``."""
    state = call.state
    body = Fields(call.body)
    uuids = body.strings("uuids", required=True) or []
    body.done()
    found = [s for s in state.of_team(state.data_sources, call.team_id) if s["uuid"] in uuids]
    return Reply(200, {s["uuid"]: _metrics(state, s) for s in found})


HANDLERS: dict[str, Callable[[Call], Reply]] = {
    "listDataSources": list_handler(lambda s: s.data_sources, "type"),
    "createDataSource": create,
    "getDataSource": get_handler(lambda s: s.data_sources, "Data source"),
    "updateDataSource": update,
    "deleteDataSource": delete,
    "dataSourceMetrics": metrics,
}

TIMERS = {"data_source": _progress}
"""Timer kind → what happens when it is due (run by ``_engine``)."""
