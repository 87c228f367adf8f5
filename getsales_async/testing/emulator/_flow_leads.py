"""Contacts in flows: adding (existing or new), listing, cancelling and removing them.

Adding needs a flow that is ``on`` and a contact source with an enabled sender profile (422
otherwise); a contact already in progress in that flow stays as it is. ``add-new-lead`` upserts
the contact as ``POST /leads/api/leads/upsert`` does (``update_lead_if_exists``), and answers
200 ``{"reason": "skipped"}`` without changing anything when ``skip_if_lead_exists`` is set and
the contact was created more than 10 seconds ago.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from ._automation import OPEN_TASK, active_version, cancel_flow_lead, contact_source, enroll
from ._errors import validation_error
from ._http import Call, Fields, Record, Reply, page_from_fields, paginate, value_matches
from ._leads import apply_upsert, plan_upsert
from ._state import EmulatorState

__all__ = ["HANDLERS", "enrolment", "join"]

SKIP_AGE_S = 10.0
"""``skip_if_lead_exists`` skips contacts created more than this long ago."""


def _running_flow(call: Call, key: str) -> Record:
    state = call.state
    flow = state.get(state.flows, call.team_id, call.params[key], "Flow")
    problem = _not_running(flow)
    if problem is not None:
        raise validation_error({"flow": [problem]})
    return flow


def _not_running(flow: Record) -> str | None:
    return None if flow["status"] == "on" else f"The flow is {flow['status']}; start it first."


def _source_problem(
    state: EmulatorState, flow: Record, source_id: int | None
) -> tuple[Record | None, str | None]:
    source = contact_source(active_version(state, flow), source_id)
    if source is None:
        return None, "The flow has no such contact source."
    enabled = [
        p
        for p in source.get("sender_profiles") or []
        if state.sender_profiles.get(p, {}).get("status") == "enabled"
    ]
    if not enabled:
        return None, "The contact source has no enabled sender profile."
    return source, None


def _source(state: EmulatorState, flow: Record, source_id: int | None) -> Record:
    source, problem = _source_problem(state, flow, source_id)
    if source is None:
        raise validation_error({"contact_source_id": [str(problem)]})
    return source


def enrolment(
    state: EmulatorState, team: int, flow_uuid: str, source_id: int | None = None
) -> tuple[Record, Record] | str:
    """The flow and contact source a contact can be added to, or why not (one sentence).

    The rule of ``addLeadToFlow``: a flow of the team that is ``on``, and a contact source (the
    first when ``source_id`` is ``None``) with an enabled sender profile.
    """
    flow = state.flows.get(flow_uuid)
    if flow is None or flow["team_id"] != team:
        return "No such flow."
    problem = _not_running(flow)
    if problem is not None:
        return problem
    source, problem = _source_problem(state, flow, source_id)
    return (flow, source) if source is not None else str(problem)


def join(state: EmulatorState, flow: Record, lead: Record, source: Record | None) -> None:
    """Add a contact to a flow, unless it is in progress there already."""
    running = any(
        f["flow_uuid"] == flow["uuid"]
        and f["lead_uuid"] == lead["uuid"]
        and f["status"] == "in_progress"
        for f in state.flow_leads.values()
    )
    if not running:
        enroll(state, flow, lead, source)


def add_lead(call: Call) -> Reply:
    """``POST /flows/api/flows/{flowUuid}/leads/{leadUuid}``: 204."""
    state = call.state
    flow = state.get(state.flows, call.team_id, call.params["flow_uuid"], "Flow")
    lead = state.get(state.leads, call.team_id, call.params["lead_uuid"], "Contact")
    body = Fields(call.body)
    source_id = body.integer("contact_source_id", minimum=0)
    body.done()
    flow = _running_flow(call, "flow_uuid")
    join(state, flow, lead, _source(state, flow, source_id))
    return Reply(204)


def _created_long_ago(state: EmulatorState, lead: Record) -> bool:
    created = datetime.fromisoformat(str(lead["created_at"]).replace("Z", "+00:00"))
    return (state.wall_time() - created).total_seconds() > SKIP_AGE_S


def add_new_lead(call: Call) -> Reply:
    """``POST /flows/api/flows/{flowUuid}/add-new-lead``: upsert, then add; 204 (or 200 skipped)."""
    state, team = call.state, call.team_id
    flow = _running_flow(call, "flow_uuid")
    body = Fields(call.body)
    skip = body.boolean("skip_if_lead_exists", False)
    segment = body.integer("flow_segment_id", minimum=0)
    plan = plan_upsert(state, team, body, update_flag="update_lead_if_exists")
    source = _source(state, flow, segment)
    if skip and plan.existing is not None and _created_long_ago(state, plan.existing):
        return Reply(200, {"reason": "skipped"})
    record, _ = apply_upsert(state, team, plan)
    join(state, flow, record, source)
    return Reply(204)


def _matches(flow_lead: Record, conditions: dict[str, Any]) -> bool:
    for key, condition in conditions.items():
        known = key in flow_lead and not key.startswith("_")
        if known and not value_matches(flow_lead[key], condition, field=f"filter.{key}"):
            return False
    return True


def list_flow_leads(call: Call) -> Reply:
    """``POST /flows/api/flows-leads/list``: filter by ``flow_uuid``, ``lead_uuid``, ``status``..."""
    body = Fields(call.body)
    page = page_from_fields(body)
    conditions = body.mapping("filter") or {}
    body.done()
    found = [
        f
        for f in call.state.of_team(call.state.flow_leads, call.team_id)
        if _matches(f, conditions)
    ]
    return Reply(200, paginate(found, page))


def _lead(call: Call) -> Record:
    return call.state.get(call.state.leads, call.team_id, call.params["lead_uuid"], "Contact")


def cancel(call: Call) -> Reply:
    """``PUT /flows/api/flows/leads/{leadUuid}/cancel``: from the given flows; 204."""
    state = call.state
    lead = _lead(call)
    body = Fields(call.body)
    flows = set(body.strings("flow_uuids", required=True) or [])
    body.done()
    for flow_lead in list(state.flow_leads.values()):
        if flow_lead["lead_uuid"] == lead["uuid"] and flow_lead["flow_uuid"] in flows:
            cancel_flow_lead(state, flow_lead, "Cancelled through the API.")
    return Reply(204)


def cancel_all(call: Call) -> Reply:
    """``PUT /flows/api/flows/leads/{leadUuid}/cancel-all``: from every flow; 204."""
    state = call.state
    lead = _lead(call)
    for flow_lead in list(state.flow_leads.values()):
        if flow_lead["lead_uuid"] == lead["uuid"]:
            cancel_flow_lead(state, flow_lead, "Cancelled from all flows through the API.")
    return Reply(204)


def remove(call: Call) -> Reply:
    """``DELETE /flows/api/flows/leads/{leadUuid}``: the contact's flow history (100 at most); 204."""
    state = call.state
    lead = _lead(call)
    doomed = [k for k, f in state.flow_leads.items() if f["lead_uuid"] == lead["uuid"]][:100]
    now = state.now()
    for key in doomed:
        for task in state.tasks.values():
            if task["flow_lead_uuid"] == key and task["status"] in OPEN_TASK:
                task.update(status="canceled", updated_at=now)
        del state.flow_leads[key]
    return Reply(204)


HANDLERS: dict[str, Callable[[Call], Reply]] = {
    "addLeadToFlow": add_lead,
    "addNewLeadToFlow": add_new_lead,
    "listFlowLeads": list_flow_leads,
    "cancelFlowLead": cancel,
    "cancelAllFlowLeads": cancel_all,
    "removeFlowLead": remove,
}
