"""``PUT /leads/api/leads/mass-action``: every documented contact action, at once or queued.

The selection is the mass filter (:func:`._leads.select_leads`: ``ids``, ``all``, ``excludeIds``
and search keys), taken when the request arrives. Up to ``BulkConfig.queue_above`` contacts the
action runs at once and the answer is the finished record (``status: "completed"``); above it the
answer is a ``mass_action`` tracking object (``status: "queued"``) and the contacts are processed
by the background worker (:mod:`._background`), a batch at a time; contacts deleted meanwhile are
skipped. Records live in ``state.mass_actions``.

Each action has the effect of the single-contact operation it stands for, on the same tables:

================================  ==========================================================
``contact_add_tags``              ``added_tags`` (names or uuids; missing names are created)
``contact_remove_tags``           ``removed_tags``
``contact_replace_tags``          ``tags`` (an empty list clears them)
``contact_change_list``           ``list_uuid`` (must exist)
``contact_change_pipeline_stage`` ``pipeline_stage_uuid`` (a contact stage of the team)
``contact_change_custom_field``   ``custom_field_uuid`` (a contact field) and ``value``
                                  (``null`` clears it)
``contact_add_to_flow``           ``flow_uuid``: as ``addLeadToFlow`` (a flow that is ``on``,
                                  its first contact source with an enabled sender profile); a
                                  flow lead per contact not already in progress there
``contact_cancel_from_flows``     ``flow_uuids``: the contacts' flow leads there cancelled, as
                                  ``cancelFlowLead``
``contact_assign_ai_agent``       ``ai_agent_uuid`` (an agent of the team): it classifies the
                                  contacts' replies (:mod:`._ai_agents`)
``contact_cancel_ai_agent``       the contacts' agent removed
``contact_delete``                ``reason`` (optional): deleted as ``deleteLead`` deletes
``contact_export_csv``            a contacts export (:mod:`._exports`), named in
                                  ``result.files`` and served by ``downloadExport``
================================  ==========================================================

Tag, list, stage and custom-field changes go through ``state.update_lead`` (webhooks
``contact_updated``, ``contact_tag_added``, ``contact_pipeline_stage_changed``); deletes through
``state.remove_lead`` (``contact_deleted``); exports send ``contact_exported``. A queued action
is data (:class:`_Effect`, :class:`_MassWork`), so a snapshot taken meanwhile restores it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ._ai_agents import assign_agent
from ._automation import active_version, cancel_flow_lead, contact_source, enroll, sender_load
from ._exports import write_export
from ._flow_leads import enrolment
from ._http import Call, Fields, Record, Reply, public
from ._leads import select_leads
from ._state import EmulatorState

__all__ = ["HANDLERS", "MASS_ACTION_TYPES"]

MASS_ACTION_TYPES = (
    "contact_add_tags",
    "contact_remove_tags",
    "contact_replace_tags",
    "contact_change_list",
    "contact_change_pipeline_stage",
    "contact_change_custom_field",
    "contact_add_to_flow",
    "contact_cancel_from_flows",
    "contact_assign_ai_agent",
    "contact_cancel_ai_agent",
    "contact_delete",
    "contact_export_csv",
)
_TAG_KEYS = {  # index payload key first, then the white-label ones
    "contact_add_tags": ("added_tags", "tags", "tag_uuids", "tag_uuid"),
    "contact_remove_tags": ("removed_tags", "tags", "tag_uuids", "tag_uuid"),
    "contact_replace_tags": ("tags", "tag_uuids"),
}
CANCEL_REASON = "Cancelled through a mass action."


@dataclass(frozen=True)
class _Effect:
    """A validated action: its type and what it resolved to (tag uuids, a list uuid, ...)."""

    type: str
    value: Any = None


# ---------------------------------------------------------------------------- payload checks


def _tags(payload: Fields, action: str) -> list[str] | None:
    for key in _TAG_KEYS[action]:
        if payload.has(key):
            value = payload.body[key]
            return [value] if isinstance(value, str) else payload.strings(key)
    payload.fail(_TAG_KEYS[action][0], "The tags are required.")
    return None


def _owned(
    payload: Fields, table: Mapping[str, Record], key: str, team: int, what: str
) -> str | None:
    """A required uuid of the team's record in ``table``."""
    value = payload.string(key, required=True)
    if value is not None and table.get(value, {}).get("team_id") != team:
        payload.fail(key, f"The selected {key} is invalid: no such {what}.")
        return None
    return value


def _custom_field(state: EmulatorState, team: int, payload: Fields) -> _Effect | None:
    field_uuid = payload.string("custom_field_uuid", required=True)
    field = state.custom_fields.get(field_uuid or "")
    if field_uuid and (field is None or field["team_id"] != team or field["object"] != "lead"):
        payload.fail("custom_field_uuid", "The selected custom_field_uuid is not a contact field.")
    if not payload.has("value"):
        payload.fail("value", "The value field is required (null clears the field).")
    value = payload.body.get("value")
    return (
        None if field_uuid is None else _Effect("contact_change_custom_field", (field_uuid, value))
    )


def _flow(state: EmulatorState, team: int, payload: Fields) -> _Effect | None:
    flow_uuid = payload.string("flow_uuid", required=True)
    if flow_uuid is None:
        return None
    found = enrolment(state, team, flow_uuid)
    if isinstance(found, str):
        payload.fail("flow_uuid", f"The contacts cannot be added to flow {flow_uuid}: {found}")
        return None
    flow, source = found
    return _Effect("contact_add_to_flow", (flow["uuid"], source.get("id")))


def _tag_effect(state: EmulatorState, team: int, action: str, names: list[str]) -> _Effect:
    create = action != "contact_remove_tags"
    return _Effect(action, tuple(state.tag_uuids(team, names, create=create)))


def _effect(call: Call, action: str | None, body: Fields, payload: Fields) -> _Effect | None:
    """The validated effect of ``action`` (problems recorded in ``body`` and ``payload``)."""
    state, team = call.state, call.team_id
    if action in _TAG_KEYS:
        names = _tags(payload, action)
        return None if names is None else _tag_effect(state, team, action, names)
    if action == "contact_change_list":
        return _Effect(action, _owned(payload, state.lists, "list_uuid", team, "list"))
    if action == "contact_change_pipeline_stage":
        stages = {k: v for k, v in state.pipeline_stages.items() if v["object"] == "lead"}
        stage = _owned(payload, stages, "pipeline_stage_uuid", team, "contact pipeline stage")
        return _Effect(action, stage)
    if action == "contact_change_custom_field":
        return _custom_field(state, team, payload)
    if action == "contact_add_to_flow":
        return _flow(state, team, payload)
    if action == "contact_cancel_from_flows":
        flows = payload.strings("flow_uuids") or []
        if not flows:
            payload.fail("flow_uuids", "The flow_uuids field is required (an array of uuids).")
        return _Effect(action, frozenset(flows))
    if action == "contact_assign_ai_agent":
        return _Effect(action, _owned(payload, state.ai_agents, "ai_agent_uuid", team, "agent"))
    if action in ("contact_cancel_ai_agent", "contact_export_csv"):
        return _Effect(action)
    if action == "contact_delete":
        payload.string("reason", nullable=True)
        return _Effect(action)
    if action is not None:
        body.fail(
            "type", f"Unknown mass action {action!r}; one of: {', '.join(MASS_ACTION_TYPES)}."
        )
    return None


# ---------------------------------------------------------------------------- effects, a batch at a time

Apply = Callable[[EmulatorState, Record, Any, list[Record]], None]
"""``(state, mass-action record, effect value, contacts of the batch)``."""


def _add_tags(state: EmulatorState, record: Record, tags: Any, leads: list[Record]) -> None:
    for lead in leads:
        merged = list(dict.fromkeys([*(lead.get("tags") or []), *tags]))
        state.update_lead(lead, {"tags": merged})


def _remove_tags(state: EmulatorState, record: Record, tags: Any, leads: list[Record]) -> None:
    for lead in leads:
        state.update_lead(lead, {"tags": [t for t in lead.get("tags") or [] if t not in tags]})


def _set(key: str) -> Apply:
    def apply(state: EmulatorState, record: Record, value: Any, leads: list[Record]) -> None:
        for lead in leads:
            state.update_lead(lead, {key: list(value) if key == "tags" else value})

    return apply


def _custom(state: EmulatorState, record: Record, value: Any, leads: list[Record]) -> None:
    field_uuid, given = value
    for lead in leads:
        values = dict(lead.get("_custom_fields") or {})
        if given is None:
            values.pop(field_uuid, None)
        else:
            values[field_uuid] = given
        state.update_lead(lead, {"_custom_fields": values})


def _add_to_flow(state: EmulatorState, record: Record, value: Any, leads: list[Record]) -> None:
    flow_uuid, source_id = value
    flow = state.flows.get(flow_uuid)
    if flow is None:  # deleted while the action was queued
        return
    source = contact_source(active_version(state, flow), source_id)
    running = {
        f["lead_uuid"]
        for f in state.flow_leads.values()
        if f["flow_uuid"] == flow_uuid and f["status"] == "in_progress"
    }
    load = sender_load(state)
    for lead in leads:
        if lead["uuid"] not in running:
            enroll(state, flow, lead, source, load=load)
            running.add(lead["uuid"])


def _cancel_flows(state: EmulatorState, record: Record, flows: Any, leads: list[Record]) -> None:
    wanted = {lead["uuid"] for lead in leads}
    for flow_lead in list(state.flow_leads.values()):
        if flow_lead["lead_uuid"] in wanted and flow_lead["flow_uuid"] in flows:
            cancel_flow_lead(state, flow_lead, CANCEL_REASON)


def _agent(state: EmulatorState, record: Record, agent: Any, leads: list[Record]) -> None:
    for lead in leads:
        assign_agent(state, lead, agent)


def _delete(state: EmulatorState, record: Record, value: Any, leads: list[Record]) -> None:
    for lead in leads:
        state.remove_lead(lead["uuid"])


def _collect(state: EmulatorState, record: Record, value: Any, leads: list[Record]) -> None:
    record.setdefault("_exported", []).extend(lead["uuid"] for lead in leads)


_APPLY: dict[str, Apply] = {
    "contact_add_tags": _add_tags,
    "contact_remove_tags": _remove_tags,
    "contact_replace_tags": _set("tags"),
    "contact_change_list": _set("list_uuid"),
    "contact_change_pipeline_stage": _set("pipeline_stage_uuid"),
    "contact_change_custom_field": _custom,
    "contact_add_to_flow": _add_to_flow,
    "contact_cancel_from_flows": _cancel_flows,
    "contact_assign_ai_agent": _agent,
    "contact_cancel_ai_agent": lambda state, record, value, leads: _agent(
        state, record, None, leads
    ),
    "contact_delete": _delete,
    "contact_export_csv": _collect,
}


@dataclass(frozen=True)
class _MassWork:
    """A mass action's work: the effect on the selected contacts, a range at a time."""

    effect: _Effect
    uuids: tuple[str, ...]
    filter: Any

    def run(self, state: EmulatorState, record: Record, start: int, end: int) -> None:
        """Apply the effect to the selected contacts ``[start, end)`` that still exist."""
        team = record["team_id"]
        leads = [
            lead
            for lead_uuid in self.uuids[start:end]
            if (lead := state.leads.get(lead_uuid)) is not None and lead["team_id"] == team
        ]
        if leads or self.effect.type == "contact_export_csv":
            _APPLY[self.effect.type](state, record, self.effect.value, leads)

    def finish(self, state: EmulatorState, record: Record) -> None:
        """Once every contact is done: an export writes its file."""
        if self.effect.type == "contact_export_csv":
            uuids = list(record.pop("_exported", []))
            export = write_export(state, record["team_id"], self.filter, uuids)
            record["result"] = {"files": [f"{export['uuid']}.csv"]}


# ---------------------------------------------------------------------------- the operation


def mass_action(call: Call) -> Reply:
    """``PUT /leads/api/leads/mass-action``: run at once, or queue and answer a tracking object."""
    state, team = call.state, call.team_id
    body = Fields(call.body)
    action = body.string("type", required=True)
    if not body.has("filter"):
        body.fail("filter", "The filter field is required.")
    targets = select_leads(state, team, body, everything_by_default=False)
    payload = body.child("payload")
    effect = _effect(call, action, body, payload)
    body.done()
    assert effect is not None
    # Validated: from here on the request only writes.
    record = state.create(state.mass_actions, team, {"type": action})
    work = _MassWork(effect, tuple(lead["uuid"] for lead in targets), call.body.get("filter"))
    if len(work.uuids) > state.background.config.queue_above:
        state.background.submit(team, record, len(work.uuids), work)
        return Reply(200, public(record))
    work.run(state, record, 0, len(work.uuids))
    work.finish(state, record)
    record.update(status="completed", total=len(work.uuids), processed=len(work.uuids))
    return Reply(200, public(record))


HANDLERS: dict[str, Callable[[Call], Reply]] = {"massActionLeads": mass_action}
