"""Contacts moving through a flow: enrolment, one task per step, and the step's effect.

A contact added to a flow (status ``on``) gets a flow lead (``in_progress``) with a sender
profile picked from the contact source ("fair": the one with the fewest contacts in progress),
and enters the node the source points at (``after_id``, else the first node nothing leads to).
Entering a node creates a task of the node's ``type``, due after the node's
``delay_in_seconds``. When an automatic task is due (and the flow is ``on``) it runs:

- ``linkedin_send_message`` / ``linkedin_send_inmail`` / ``linkedin_send_connection_request``
  queue a LinkedIn message (text from the node payload's ``template``/``text``/``message``,
  variables filled in), which then progresses on the clock (``_messaging``);
- ``email_send_message`` queues an e-mail from the sender profile's mailbox (the task and the
  flow lead fail when the profile has no mailbox);
- every other type does nothing but take time.

The task is then ``closed`` and the contact enters the node's first ``after`` edge; a node with
none, or an ``end`` node, finishes the flow lead. Manual nodes (``custom``, ``phone_call_phone``,
``rule_manual_router``) wait for ``PUT /flows/api/tasks/{uuid}/complete``. A stopped flow keeps
its tasks waiting; starting it again runs the overdue ones. A reply finishes the contact's flow
leads and cancels their tasks (stop on reply).
"""

from __future__ import annotations

from typing import Any

from ._http import Record
from ._messaging import queue_email, queue_linkedin_message
from ._render import render
from ._state import EmulatorState

__all__ = [
    "MANUAL_TYPES",
    "TIMERS",
    "active_version",
    "cancel_flow_lead",
    "complete_task",
    "contact_source",
    "enroll",
    "resume_flow",
    "sender_load",
    "stop_on_reply",
]

MANUAL_TYPES = frozenset({"custom", "phone_call_phone", "rule_manual_router"})
_LINKEDIN = {
    "linkedin_send_message": "message",
    "linkedin_send_inmail": "InMail",
    "linkedin_send_connection_request": "connection_note",
}
OPEN_TASK = ("in_progress", "delegated", "paused")


def active_version(state: EmulatorState, flow: Record) -> Record | None:
    """The flow's current version (the latest saved)."""
    return state.flow_versions.get(str(flow.get("flow_version_uuid")))


def contact_source(version: Record | None, source_id: int | None) -> Record | None:
    """The version's contact source with this id (the first one when ``None``)."""
    sources = (version or {}).get("contact_sources") or []
    if source_id is None:
        return sources[0] if sources else None
    return next((s for s in sources if s.get("id") == source_id), None)


def _node(version: Record | None, node_id: Any) -> Record | None:
    return next((n for n in (version or {}).get("nodes") or [] if n.get("id") == node_id), None)


def _first_node(version: Record | None, source: Record | None) -> int | None:
    if source is not None and source.get("after_id") is not None:
        return int(source["after_id"])
    nodes = (version or {}).get("nodes") or []
    first = next((n for n in nodes if not n.get("before")), nodes[0] if nodes else None)
    return None if first is None else int(first["id"])


def sender_load(state: EmulatorState) -> dict[str, int]:
    """Sender profile uuid → contacts in progress with it (over every flow)."""
    load: dict[str, int] = {}
    for flow_lead in state.flow_leads.values():
        sender = flow_lead["sender_profile_uuid"]
        if flow_lead["status"] == "in_progress" and sender is not None:
            load[sender] = load.get(sender, 0) + 1
    return load


def _pick_sender(
    state: EmulatorState, source: Record | None, load: dict[str, int] | None
) -> str | None:
    """The enabled sender profile of the source with the fewest contacts in progress."""
    candidates = [
        uuid
        for uuid in (source or {}).get("sender_profiles") or []
        if state.sender_profiles.get(uuid, {}).get("status") == "enabled"
    ]
    if not candidates:
        return None
    counts = load if load is not None else sender_load(state)
    picked = str(min(candidates, key=lambda uuid: counts.get(uuid, 0)))
    if load is not None:
        load[picked] = load.get(picked, 0) + 1
    return picked


def enroll(
    state: EmulatorState,
    flow: Record,
    lead: Record,
    source: Record | None,
    *,
    load: dict[str, int] | None = None,
) -> Record:
    """Add a contact to a flow: a flow lead ``in_progress`` at the source's first node.

    ``load`` (from :func:`sender_load`, kept up to date here) saves a scan of every flow lead
    when many contacts are enrolled at once.
    """
    version = active_version(state, flow)
    fields = {
        "flow_uuid": flow["uuid"],
        "lead_uuid": lead["uuid"],
        "sender_profile_uuid": _pick_sender(state, source, load),
        "status": "in_progress",
        "contact_source_id": (source or {}).get("id"),
        "flow_node_id": None,
        "flow_version_uuid": flow.get("flow_version_uuid"),
        "cancel_reason": None,
        "_replied": False,
    }
    flow_lead = state.create(state.flow_leads, flow["team_id"], fields)
    state.log_activity(
        lead["team_id"], "lead", lead["uuid"], "automation_started", {"flow_uuid": flow["uuid"]}
    )
    _enter(state, flow_lead, _first_node(version, source), state.clock_time())
    return flow_lead


def _enter(state: EmulatorState, flow_lead: Record, node_id: int | None, at: float) -> None:
    """Put the flow lead on a node: a task for it, or finished at an end."""
    version = state.flow_versions.get(str(flow_lead["flow_version_uuid"]))
    node = _node(version, node_id)
    flow_lead["updated_at"] = state.iso_at(at)
    if node is None or node.get("type") == "end":
        flow_lead.update(status="finished", flow_node_id=node_id)
        return
    flow_lead["flow_node_id"] = node["id"]
    due = at + float(node.get("delay_in_seconds") or 0)
    manual = node.get("type") in MANUAL_TYPES
    task = state.create(
        state.tasks, flow_lead["team_id"], _task_fields(state, flow_lead, node, due, manual)
    )
    if not manual:
        state.schedule(due, "task", task["uuid"])


def _task_fields(
    state: EmulatorState, flow_lead: Record, node: Record, due: float, manual: bool
) -> dict[str, Any]:
    given = node.get("payload")
    payload: dict[str, Any] = given if isinstance(given, dict) else {}
    lead = state.leads.get(str(flow_lead["lead_uuid"])) or {}
    sender = state.sender_profiles.get(str(flow_lead["sender_profile_uuid"])) or {}
    return {
        "parent_task_pipeline_uuid": None,
        "assigned_to": sender.get("assignee_user_id"),
        "user_id": state.user_id(flow_lead["team_id"]),
        "lead_uuid": flow_lead["lead_uuid"],
        "company_uuid": lead.get("company_uuid"),
        "sender_profile_uuid": flow_lead["sender_profile_uuid"],
        "mailbox_uuid": sender.get("mailbox_uuid"),
        "flow_uuid": flow_lead["flow_uuid"],
        "flow_lead_uuid": flow_lead["uuid"],
        "flow_origin": "automation",
        "flow_node_id": node["id"],
        "type": str(node.get("type")),
        "automation": "manual" if manual else "auto",
        "automation_error_code": None,
        "status": "in_progress",
        "fork_result": None,
        "payload": {
            "template": _template(payload),
            "rendered_text": None,
            "attachments": None,
            "stop_on_reply_level": None,
            "last_message_at": None,
        },
        "attempts": 0,
        "error_msg": None,
        "priority": 1,
        "number_in_line": None,
        "note": None,
        "timezone": "UTC",
        "schedule_at": state.iso_at(due),
        "executed_at": None,
        "taken_to_execute_at": None,
        "_paused": False,
    }


def _template(payload: dict[str, Any]) -> str | None:
    for key in ("template", "text", "message", "body"):
        if isinstance(payload.get(key), str):
            return str(payload[key])
    return None


def _run_task(state: EmulatorState, key: str, at: float) -> None:
    """Timer ``task``: run a due automatic task (unless its flow is stopped), then move on."""
    task = state.tasks.get(key)
    if task is None or task["status"] != "in_progress":
        return
    flow = state.flows.get(str(task["flow_uuid"]))
    if flow is None or flow["status"] != "on":
        task["_paused"] = True
        return
    task.update(attempts=task["attempts"] + 1, taken_to_execute_at=state.iso_at(at))
    error = _execute(state, task, flow)
    if error is not None:
        task.update(
            status="failed",
            error_msg=error,
            executed_at=state.iso_at(at),
            updated_at=state.iso_at(at),
        )
        flow_lead = state.flow_leads.get(str(task["flow_lead_uuid"]))
        if flow_lead is not None:
            flow_lead.update(status="failed", updated_at=state.iso_at(at))
        return
    _close_and_move_on(state, task, at)


def _execute(state: EmulatorState, task: Record, flow: Record) -> str | None:
    """The task's effect; returns why it failed, or ``None``."""
    lead = state.leads.get(str(task["lead_uuid"]))
    sender = state.sender_profiles.get(str(task["sender_profile_uuid"]))
    if task["type"] not in _LINKEDIN and task["type"] != "email_send_message":
        return None
    if lead is None or sender is None:
        return "The contact or the sender profile no longer exists."
    text, _ = render(task["payload"]["template"] or "", lead, sender)
    task["payload"]["rendered_text"] = text
    extra = {"task_pipeline_uuid": task["uuid"], "_flow_uuid": flow["uuid"]}
    if task["type"] in _LINKEDIN:
        queue_linkedin_message(
            state,
            sender,
            lead,
            text,
            linkedin_type=_LINKEDIN[task["type"]],
            automation="auto",
            extra=extra,
        )
        return None
    mailbox = state.mailboxes.get(str(sender.get("mailbox_uuid")))
    address = lead.get("work_email") or lead.get("personal_email")
    if mailbox is None or not address:
        return "The sender profile has no mailbox, or the contact no e-mail address."
    fields = {
        "to_email": address,
        "to_name": lead.get("name"),
        "subject": text[:80],
        "flow_uuid": flow["uuid"],
    }
    queue_email(state, mailbox, lead, fields, text)
    return None


def _close_and_move_on(state: EmulatorState, task: Record, at: float) -> None:
    task.update(status="closed", executed_at=state.iso_at(at), updated_at=state.iso_at(at))
    flow_lead = state.flow_leads.get(str(task["flow_lead_uuid"]))
    if flow_lead is None or flow_lead["status"] != "in_progress":
        return
    version = state.flow_versions.get(str(flow_lead["flow_version_uuid"]))
    node = _node(version, task["flow_node_id"])
    edges = (node or {}).get("after") or []
    _enter(state, flow_lead, edges[0].get("node_id") if edges else None, at)


def complete_task(state: EmulatorState, task: Record) -> None:
    """Close a manual task and move its contact on."""
    _close_and_move_on(state, task, state.clock_time())


def _cancel_tasks(state: EmulatorState, flow_lead_uuid: str) -> None:
    now = state.now()
    for task in state.tasks.values():
        if task["flow_lead_uuid"] == flow_lead_uuid and task["status"] in OPEN_TASK:
            task.update(status="canceled", updated_at=now)


def cancel_flow_lead(
    state: EmulatorState, flow_lead: Record, reason: str, status: str = "canceled"
) -> None:
    """End a contact's run in a flow (``canceled`` by default) and cancel its open tasks."""
    if flow_lead["status"] != "in_progress":
        return
    flow_lead.update(status=status, cancel_reason=reason, updated_at=state.now())
    _cancel_tasks(state, flow_lead["uuid"])


def stop_on_reply(state: EmulatorState, lead_uuid: str) -> None:
    """A reply finishes the contact's running flow leads (stop on reply)."""
    for flow_lead in state.flow_leads.values():
        if flow_lead["lead_uuid"] == lead_uuid and flow_lead["status"] == "in_progress":
            flow_lead["_replied"] = True
            cancel_flow_lead(state, flow_lead, "The contact replied.", status="finished")


def resume_flow(state: EmulatorState, flow: Record) -> None:
    """Run the tasks a stopped flow held back (due now at the latest)."""
    now = state.clock_time()
    for task in state.tasks.values():
        if (
            task["flow_uuid"] == flow["uuid"]
            and task["status"] == "in_progress"
            and task["_paused"]
        ):
            task["_paused"] = False
            state.schedule(now, "task", task["uuid"])


TIMERS = {"task": _run_task}
"""Timer kind → what happens when it is due (run by ``_engine``)."""
