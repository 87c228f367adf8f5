"""Flows (automations): CRUD, the status machine, and metrics computed from flow leads and tasks.

A flow is created ``draft`` with a first version (one ``end`` node, a default contact source).
``start``: ``draft``/``off`` → ``on``; it needs a contact source with a sender profile and valid
nodes (422 otherwise), an ``archived`` flow cannot start (422), and held-back tasks run.
``stop``: ``on`` → ``off`` (tasks wait). ``archive`` → ``archived`` and cancels the contacts in
progress, as ``DELETE`` does before the flow disappears ("Automation cancelled because it was
deleted").
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from ._automation import active_version, cancel_flow_lead, resume_flow
from ._errors import validation_error
from ._flow_versions import check_contact_source, check_node, first_version
from ._http import Call, Fields, Record, Reply, get_handler, list_handler, public
from ._shapes import read_schedule
from ._state import EmulatorState

__all__ = ["HANDLERS", "end_flow_leads"]


def _read(call: Call, body: Fields, *, creating: bool) -> dict[str, Any]:
    state = call.state
    values: dict[str, Any] = {}
    name = body.string("name", required=creating)
    if name is not None:
        values["name"] = name
    if body.has("description"):
        values["description"] = body.string("description", nullable=True)
    if creating and not body.has("use_sender_schedule"):
        body.fail("use_sender_schedule", "The use_sender_schedule field is required.")
    if body.has("use_sender_schedule"):
        values["use_sender_schedule"] = body.boolean("use_sender_schedule", False)
    schedule = read_schedule(body, "schedule", required=creating)
    if schedule is not None:
        values["schedule"] = schedule
    priority = body.integer("priority", minimum=0)
    if priority is not None:
        values["priority"] = priority
    if body.has("is_public"):
        values["is_public"] = body.boolean("is_public", False)
    workspace = body.string("flow_workspace_uuid", nullable=True)
    if (
        workspace is not None
        and state.flow_workspaces.get(workspace, {}).get("team_id") != call.team_id
    ):
        body.fail("flow_workspace_uuid", "The selected flow_workspace_uuid is invalid.")
    elif body.has("flow_workspace_uuid"):
        values["flow_workspace_uuid"] = workspace
    return values


def create_flow(call: Call) -> Reply:
    """``POST /flows/api/flows``: 201, ``draft``, with a first version."""
    state, team = call.state, call.team_id
    body = Fields(call.body)
    values = _read(call, body, creating=True)
    body.done()
    fields = {
        "public_uuid": None,
        "flow_workspace_uuid": None,
        "flow_version_uuid": None,
        "description": None,
        "priority": 2,
        "status": "draft",
        "is_public": False,
        "user_id": state.user_id(team),
        **values,
    }
    flow = state.create(state.flows, team, fields)
    first_version(state, flow)
    return Reply(201, public(flow))


def _flow(call: Call) -> Record:
    return call.state.get(call.state.flows, call.team_id, call.params["uuid"], "Flow")


def update_flow(call: Call) -> Reply:
    """``PUT /flows/api/flows/{uuid}``: properties only (status has its own endpoints)."""
    flow = _flow(call)
    body = Fields(call.body)
    values = _read(call, body, creating=False)
    body.done()
    flow.update(values)
    call.state.touch(flow)
    return Reply(200, public(flow))


def end_flow_leads(state: EmulatorState, flow: Record, reason: str) -> None:
    """Cancel every contact in progress in the flow."""
    for flow_lead in state.flow_leads.values():
        if flow_lead["flow_uuid"] == flow["uuid"]:
            cancel_flow_lead(state, flow_lead, reason)


def delete_flow(call: Call) -> Reply:
    """``DELETE /flows/api/flows/{uuid}``: contacts in progress are cancelled, then it is gone."""
    state = call.state
    flow = _flow(call)
    end_flow_leads(state, flow, "Automation cancelled because it was deleted")
    del state.flows[flow["uuid"]]
    return Reply(204)


def _start_problems(state: EmulatorState, flow: Record) -> dict[str, list[str]]:
    version = active_version(state, flow)
    errors: dict[str, list[str]] = {}
    if flow["status"] == "archived":
        errors["status"] = ["An archived flow cannot be started; unarchive it first."]
        return errors
    sources = (version or {}).get("contact_sources") or []
    if not any(s.get("sender_profiles") for s in sources):
        errors["contact_sources"] = ["The flow needs a contact source with a sender profile."]
    node_ids = {n["id"] for n in (version or {}).get("nodes") or []}
    for index, node in enumerate((version or {}).get("nodes") or []):
        check_node(Fields(node, prefix=f"nodes.{index}.", errors=errors))
    for index, source in enumerate(sources):
        check_contact_source(
            state,
            flow["team_id"],
            Fields(source, prefix=f"contact_sources.{index}.", errors=errors),
            node_ids,
        )
    return errors


def start_flow(call: Call) -> Reply:
    """``PUT /flows/api/flows/{uuid}/start``: ``on`` (422 when it cannot run)."""
    state = call.state
    flow = _flow(call)
    errors = _start_problems(state, flow)
    if errors:
        raise validation_error(errors)
    flow["status"] = "on"
    state.touch(flow)
    resume_flow(state, flow)
    return Reply(200, public(flow))


def stop_flow(call: Call) -> Reply:
    """``PUT /flows/api/flows/{uuid}/stop``: ``off``; its tasks wait until it starts again."""
    state = call.state
    flow = _flow(call)
    if flow["status"] in ("draft", "archived"):
        raise validation_error({"status": [f"A {flow['status']} flow is not running."]})
    flow["status"] = "off"
    state.touch(flow)
    return Reply(200, public(flow))


def archive_flow(call: Call) -> Reply:
    """``PUT /flows/api/flows/{uuid}/archive``: ``archived``; contacts in progress are cancelled."""
    state = call.state
    flow = _flow(call)
    flow["status"] = "archived"
    state.touch(flow)
    end_flow_leads(state, flow, "Automation archived")
    return Reply(200, public(flow))


def _metrics(state: EmulatorState, flow: Record) -> dict[str, Any]:
    leads = [f for f in state.flow_leads.values() if f["flow_uuid"] == flow["uuid"]]
    statuses = Counter(f["status"] for f in leads)
    pending = Counter(
        t["type"]
        for t in state.tasks.values()
        if t["flow_uuid"] == flow["uuid"] and t["status"] == "in_progress"
    )
    return {
        "leads_count": len(leads),
        "in_progress_leads_count": statuses["in_progress"],
        "finished_leads_count": statuses["finished"],
        "failed_leads_count": statuses["failed"],
        "canceled_leads_count": statuses["canceled"],
        "task_counts": dict(pending),
    }


def flow_metrics(call: Call) -> Reply:
    """``POST /flows/api/flows/metrics``: counts per flow of ``uuids`` (unknown ones left out)."""
    state = call.state
    body = Fields(call.body)
    uuids = body.strings("uuids", required=True) or []
    body.done()
    flows = [f for f in state.of_team(state.flows, call.team_id) if f["uuid"] in uuids]
    return Reply(200, {f["uuid"]: _metrics(state, f) for f in flows})


def _node_statistics(state: EmulatorState, flow: Record, node_id: int) -> dict[str, Any]:
    tasks = [
        t
        for t in state.tasks.values()
        if t["flow_uuid"] == flow["uuid"] and t["flow_node_id"] == node_id
    ]
    leads = {t["flow_lead_uuid"] for t in tasks}
    replied = sum(1 for uuid in leads if state.flow_leads.get(uuid, {}).get("_replied"))
    sent = sum(1 for t in tasks if t["status"] == "closed")
    return {
        "node_statuses": dict(Counter(t["status"] for t in tasks)),
        "node_conversions": {"sent": sent, "replied": replied} if tasks else [],
        "node_branches": {"0": sent} if sent else [],
    }


def node_statistics(call: Call) -> Reply:
    """``POST /flows/api/flows/{uuid}/statistics/nodes``: per node, from the flow's tasks."""
    state = call.state
    flow = _flow(call)
    body = Fields(call.body)
    node_ids = body.integers("node_ids", required=True) or []
    body.mapping("filter", nullable=True)
    body.done()
    return Reply(200, {str(n): _node_statistics(state, flow, n) for n in dict.fromkeys(node_ids)})


HANDLERS: dict[str, Callable[[Call], Reply]] = {
    "listFlows": list_handler(lambda s: s.flows, "name", "description"),
    "createFlow": create_flow,
    "getFlow": get_handler(lambda s: s.flows, "Flow"),
    "updateFlow": update_flow,
    "deleteFlow": delete_flow,
    "startFlow": start_flow,
    "stopFlow": stop_flow,
    "archiveFlow": archive_flow,
    "getFlowMetrics": flow_metrics,
    "getFlowNodeStatistics": node_statistics,
}
