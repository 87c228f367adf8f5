"""``PUT /leads/api/leads/mass-action``: every documented contact action, at once or queued.

The selection is the mass filter (:func:`._leads.select_leads`: ``ids``, ``all``, ``excludeIds``
and search keys), taken when the request arrives. Up to ``BulkConfig.queue_above`` contacts the
action runs at once and the answer is the finished record (``status: "completed"``); above it the
answer is a ``mass_action`` tracking object (``status: "queued"``) and the contacts are processed
by the background worker (:mod:`._background`), a batch at a time; contacts deleted meanwhile are
skipped. Records live in ``state.mass_actions``.

Effects (payloads as the GetSales index documents them; the white-label names are accepted too):

================================  ==========================================================
``contact_add_tags``              ``added_tags`` (names or uuids; missing names are created)
``contact_remove_tags``           ``removed_tags``
``contact_replace_tags``          ``tags`` (an empty list clears them)
``contact_change_list``           ``list_uuid`` (must exist)
``contact_change_pipeline_stage`` ``pipeline_stage_uuid`` (a contact stage of the team)
``contact_change_custom_field``   ``custom_field_uuid`` (a contact field) and ``value``
                                  (``null`` clears it)
``contact_add_to_flow``           ``flow_uuid``: enrolled (kept as ``_flows`` on the contact)
``contact_cancel_from_flows``     ``flow_uuids``: those enrolments cancelled
``contact_assign_ai_agent``       ``ai_agent_uuid`` (kept as ``_ai_agent_uuid``)
``contact_cancel_ai_agent``       the AI agent removed
``contact_delete``                ``reason`` (optional): the contacts are deleted
``contact_export_csv``            a CSV of the contacts; its name in ``result.files``
                                  (:func:`exported_file` reads it)
================================  ==========================================================

Flows and AI agents are checked against ``state.flows`` / ``state.ai_agents`` when the state has
those tables; otherwise any non-empty uuid is accepted.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ._http import Call, Fields, Record, Reply, public
from ._leads import select_leads
from ._state import EmulatorState

__all__ = ["EXPORT_COLUMNS", "HANDLERS", "MASS_ACTION_TYPES", "exported_file"]

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
EXPORT_COLUMNS = (
    "uuid",
    "first_name",
    "last_name",
    "name",
    "company_name",
    "position",
    "linkedin",
    "work_email",
    "personal_email",
    "list_uuid",
    "created_at",
)
_TAG_KEYS = {  # index payload key first, then the white-label ones
    "contact_add_tags": ("added_tags", "tags", "tag_uuids", "tag_uuid"),
    "contact_remove_tags": ("removed_tags", "tags", "tag_uuids", "tag_uuid"),
    "contact_replace_tags": ("tags", "tag_uuids"),
}


@dataclass(frozen=True)
class _Action:
    """A validated mass action: what to do to one contact, and what to do when all are done."""

    apply: Callable[[Record], None]
    finish: Callable[[Record], None] | None = None
    """Called with the mass-action record once every contact is done."""


# ---------------------------------------------------------------------------- payload checks


def _tags(payload: Fields, action: str) -> list[str] | None:
    for key in _TAG_KEYS[action]:
        if payload.has(key):
            value = payload.body[key]
            return [value] if isinstance(value, str) else payload.strings(key)
    payload.fail(_TAG_KEYS[action][0], "The tags are required.")
    return None


def _owned(
    payload: Fields, table: Mapping[str, Record] | None, key: str, team: int, what: str
) -> str | None:
    """A required uuid of the team's record in ``table`` (any uuid when there is no table)."""
    value = payload.string(key, required=True)
    if value is not None and table is not None and table.get(value, {}).get("team_id") != team:
        payload.fail(key, f"The selected {key} is invalid: no such {what}.")
        return None
    return value


def _custom_field(state: EmulatorState, team: int, payload: Fields) -> tuple[str | None, Any]:
    field_uuid = payload.string("custom_field_uuid", required=True)
    field = state.custom_fields.get(field_uuid or "")
    if field_uuid and (field is None or field["team_id"] != team or field["object"] != "lead"):
        payload.fail("custom_field_uuid", "The selected custom_field_uuid is not a contact field.")
    if not payload.has("value"):
        payload.fail("value", "The value field is required (null clears the field).")
    return field_uuid, payload.body.get("value")


# ---------------------------------------------------------------------------- effects


def _tag_action(state: EmulatorState, team: int, action: str, names: list[str]) -> _Action:
    if action == "contact_remove_tags":
        dropped = set(state.tag_uuids(team, names, create=False))

        def remove(lead: Record) -> None:
            state.update_lead(
                lead, {"tags": [t for t in lead.get("tags") or [] if t not in dropped]}
            )

        return _Action(remove)
    wanted = state.tag_uuids(team, names, create=True)
    if action == "contact_replace_tags":
        return _Action(lambda lead: state.update_lead(lead, {"tags": list(wanted)}))

    def add(lead: Record) -> None:
        state.update_lead(lead, {"tags": list(dict.fromkeys([*(lead.get("tags") or []), *wanted]))})

    return _Action(add)


def _set_custom(state: EmulatorState, field_uuid: str, value: Any) -> _Action:
    def apply(lead: Record) -> None:
        values = dict(lead.get("_custom_fields") or {})
        if value is None:
            values.pop(field_uuid, None)
        else:
            values[field_uuid] = value
        state.update_lead(lead, {"_custom_fields": values})

    return _Action(apply)


def _flows(state: EmulatorState, add: list[str], cancel: list[str]) -> _Action:
    def apply(lead: Record) -> None:
        current = [f for f in lead.get("_flows") or [] if f not in cancel]
        state.update_lead(lead, {"_flows": list(dict.fromkeys([*current, *add]))})

    return _Action(apply)


def _export() -> _Action:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(EXPORT_COLUMNS)

    def apply(lead: Record) -> None:
        writer.writerow(["" if lead.get(c) is None else lead[c] for c in EXPORT_COLUMNS])

    def finish(record: Record) -> None:
        name = f"contacts-export-{record['uuid']}.csv"
        record["_files"] = {name: buffer.getvalue().encode("utf-8")}
        record["result"] = {"files": [name]}

    return _Action(apply, finish)


def _action(call: Call, action: str | None, body: Fields, payload: Fields) -> _Action | None:
    """The validated effect of ``action`` (problems recorded in ``body`` and ``payload``)."""
    state, team = call.state, call.team_id
    if action in _TAG_KEYS:
        names = _tags(payload, action)
        return None if names is None else _tag_action(state, team, action, names)
    if action == "contact_change_list":
        target = _owned(payload, state.lists, "list_uuid", team, "list")
        return _Action(lambda lead: state.update_lead(lead, {"list_uuid": target}))
    if action == "contact_change_pipeline_stage":
        stages = {k: v for k, v in state.pipeline_stages.items() if v["object"] == "lead"}
        stage = _owned(payload, stages, "pipeline_stage_uuid", team, "contact pipeline stage")
        return _Action(lambda lead: state.update_lead(lead, {"pipeline_stage_uuid": stage}))
    if action == "contact_change_custom_field":
        field_uuid, value = _custom_field(state, team, payload)
        return None if field_uuid is None else _set_custom(state, field_uuid, value)
    if action == "contact_add_to_flow":
        flow = _owned(payload, getattr(state, "flows", None), "flow_uuid", team, "flow")
        return _flows(state, [flow] if flow else [], [])
    if action == "contact_cancel_from_flows":
        flows = payload.strings("flow_uuids") or []
        if not flows:
            payload.fail("flow_uuids", "The flow_uuids field is required (an array of uuids).")
        return _flows(state, [], flows)
    if action == "contact_assign_ai_agent":
        agent = _owned(payload, getattr(state, "ai_agents", None), "ai_agent_uuid", team, "agent")
        return _Action(lambda lead: state.update_lead(lead, {"_ai_agent_uuid": agent}))
    if action == "contact_cancel_ai_agent":
        return _Action(lambda lead: state.update_lead(lead, {"_ai_agent_uuid": None}))
    if action == "contact_delete":
        payload.string("reason", nullable=True)
        return _Action(lambda lead: state.remove_lead(lead["uuid"]))
    if action == "contact_export_csv":
        return _export()
    if action is not None:
        body.fail(
            "type", f"Unknown mass action {action!r}; one of: {', '.join(MASS_ACTION_TYPES)}."
        )
    return None


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
    effect = _action(call, action, body, payload)
    body.done()
    assert effect is not None
    # Validated: from here on the request only writes.
    record = state.create(state.mass_actions, team, {"type": action})
    uuids = [lead["uuid"] for lead in targets]

    def process(start: int, end: int) -> None:
        for lead_uuid in uuids[start:end]:
            lead = state.leads.get(lead_uuid)
            if lead is not None:
                effect.apply(lead)

    def finish() -> None:
        if effect.finish is not None:
            effect.finish(record)

    if len(uuids) > state.background.config.queue_above:
        state.background.submit(team, record, len(uuids), process, finish=finish)
        return Reply(200, public(record))
    process(0, len(uuids))
    finish()
    record.update(status="completed", total=len(uuids), processed=len(uuids))
    return Reply(200, public(record))


def exported_file(state: EmulatorState, team_id: int, file_name: str) -> bytes | None:
    """The bytes of a CSV a ``contact_export_csv`` mass action produced, if it exists."""
    for record in state.of_team(state.mass_actions, team_id):
        files: dict[str, bytes] = record.get("_files") or {}
        if file_name in files:
            return files[file_name]
    return None


HANDLERS: dict[str, Callable[[Call], Reply]] = {"massActionLeads": mass_action}
