"""User and team, lists, tags, custom fields, pipeline stages, notes and webhooks."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from ._errors import ApiError, not_found
from ._http import (
    Call,
    Fields,
    Record,
    Reply,
    delete_handler,
    filter_from_query,
    list_handler,
    page_from_query,
    paginate,
    public,
    where,
)
from ._state import EmulatorState

__all__ = ["HANDLERS"]

MAX_CUSTOM_FIELDS = 100  # per team and object type; keys 1-100
_FIELD_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_OBJECTS = ("lead", "company")
_CATEGORIES = ("cold", "engaging", "positive", "negative")
_REQUEST_METHODS = ("POST", "GET", "PUT", "PATCH", "DELETE")
_WEBHOOK_STATUSES = ("on", "off")
WEBHOOK_EVENTS = (
    "account_exported",
    "sender_profile_issue",
    "sender_profile_sent_email",
    "sender_profile_sent_linkedin_message",
    "sender_profile_sent_linkedin_connection_request",
    "sender_profile_sent_linkedin_inmail",
    "contact_accepted_linkedin_connection_request",
    "contact_replied_email",
    "contact_replied_linkedin_message",
    "contact_replied_linkedin_inmail",
    "contact_opened_email",
    "contact_clicked_email",
    "contact_unsubscribed_email",
    "email_bounced",
    "contact_enriched",
    "contact_exported",
    "contact_created",
    "contact_updated",
    "contact_deleted",
    "contact_tag_added",
    "contact_pipeline_stage_changed",
)


def _unique_name(
    fields: Fields, records: list[Record], name: str | None, *, exclude: str | None = None
) -> None:
    if name is None:
        return
    wanted = name.strip().casefold()
    if any(str(r["name"]).casefold() == wanted and r["uuid"] != exclude for r in records):
        fields.fail("name", "The name has already been taken.")


# ---------------------------------------------------------------------------- user and team


def get_current_user(call: Call) -> Reply:
    """``GET /id/api/users/current``."""
    return Reply(200, dict(call.state.users[call.team_id]))


def list_teams(call: Call) -> Reply:
    """``GET /id/api/teams``: the one team the key belongs to."""
    return Reply(200, paginate([call.state.teams[call.team_id]], page_from_query(call.query)))


def get_team(call: Call) -> Reply:
    """``GET /id/api/teams/{id}``: 403 for another team, 404 for an unknown one."""
    try:
        team_id = int(call.params["id"])
    except ValueError:
        raise not_found("Team") from None
    if team_id == call.team_id:
        return Reply(200, dict(call.state.teams[team_id]))
    if team_id in call.state.teams:
        raise ApiError(403, "access_denied", "You are not a member of this team.")
    raise not_found("Team")


# ---------------------------------------------------------------------------- lists


def create_list(call: Call) -> Reply:
    """``POST /leads/api/lists``: names are unique within the team."""
    state = call.state
    body = Fields(call.body)
    name = body.string("name", required=True)
    _unique_name(body, list(state.of_team(state.lists, call.team_id)), name)
    body.done()
    record = state.create(state.lists, call.team_id, {"name": str(name).strip()})
    return Reply(201, public(record))


def get_list(call: Call) -> Reply:
    """``GET /leads/api/lists/{uuid}``."""
    return Reply(
        200, public(call.state.get(call.state.lists, call.team_id, call.params["uuid"], "List"))
    )


def update_list(call: Call) -> Reply:
    """``PUT /leads/api/lists/{uuid}``: rename (unique)."""
    state = call.state
    record = state.get(state.lists, call.team_id, call.params["uuid"], "List")
    body = Fields(call.body)
    name = body.string("name", required=True)
    _unique_name(body, list(state.of_team(state.lists, call.team_id)), name, exclude=record["uuid"])
    body.done()
    record["name"] = str(name).strip()
    state.touch(record)
    return Reply(200, public(record))


def delete_list(call: Call) -> Reply:
    """``DELETE /leads/api/lists/{uuid}``: contacts and companies lose the reference."""
    state = call.state
    record = state.get(state.lists, call.team_id, call.params["uuid"], "List")
    del state.lists[record["uuid"]]
    for lead in state.of_team(state.leads, call.team_id):
        if lead["list_uuid"] == record["uuid"]:
            lead["list_uuid"] = None
    for company in state.of_team(state.companies, call.team_id):
        company["lists"] = [u for u in company["lists"] or [] if u != record["uuid"]]
    return Reply(204)


# ---------------------------------------------------------------------------- tags


def create_tag(call: Call) -> Reply:
    """``POST /leads/api/tags``: names are unique within the team."""
    state = call.state
    body = Fields(call.body)
    name = body.string("name", required=True)
    color = body.string("color")
    _unique_name(body, list(state.of_team(state.tags, call.team_id)), name)
    body.done()
    record = state.create(state.tags, call.team_id, {"name": str(name).strip(), "color": color})
    return Reply(201, public(record))


def update_tag(call: Call) -> Reply:
    """``PUT /leads/api/tags/{uuid}``."""
    state = call.state
    record = state.get(state.tags, call.team_id, call.params["uuid"], "Tag")
    body = Fields(call.body)
    name = body.string("name")
    color = body.string("color")
    _unique_name(body, list(state.of_team(state.tags, call.team_id)), name, exclude=record["uuid"])
    body.done()
    if name is not None:
        record["name"] = name.strip()
    if color is not None:
        record["color"] = color
    state.touch(record)
    return Reply(200, public(record))


def delete_tag(call: Call) -> Reply:
    """``DELETE /leads/api/tags/{uuid}``: removed from contacts and companies."""
    state = call.state
    record = state.get(state.tags, call.team_id, call.params["uuid"], "Tag")
    del state.tags[record["uuid"]]
    for table in (state.leads, state.companies):
        for item in state.of_team(table, call.team_id):
            item["tags"] = [t for t in item["tags"] or [] if t != record["uuid"]]
    return Reply(204)


# ---------------------------------------------------------------------------- custom fields


def create_custom_field(call: Call) -> Reply:
    """``POST /leads/api/custom-fields``: the lowest free key 1-100 of the object type."""
    state, team = call.state, call.team_id
    body = Fields(call.body)
    name = body.string("name", required=True, pattern=_FIELD_NAME)
    object_type = body.string("object", required=True)
    order = body.integer("order")
    siblings = [f for f in state.of_team(state.custom_fields, team) if f["object"] == object_type]
    _unique_name(body, siblings, name)
    used = {f["key"] for f in siblings}
    key = next((k for k in range(1, MAX_CUSTOM_FIELDS + 1) if k not in used), None)
    if key is None:
        body.fail(
            "object", f"A team can have at most {MAX_CUSTOM_FIELDS} {object_type} custom fields."
        )
    body.done()
    record = state.create(
        state.custom_fields,
        team,
        {
            "user_id": state.user_id(team),
            "name": name,
            "object": object_type,
            "order": len(siblings) + 1 if order is None else order,
            "key": key,
        },
    )
    return Reply(201, public(record))


def update_custom_field(call: Call) -> Reply:
    """``PUT /leads/api/custom-fields/{uuid}``: rename or reorder (object and key are fixed)."""
    state, team = call.state, call.team_id
    record = state.get(state.custom_fields, team, call.params["uuid"], "Custom field")
    body = Fields(call.body)
    name = body.string("name", pattern=_FIELD_NAME)
    order = body.integer("order")
    siblings = [
        f for f in state.of_team(state.custom_fields, team) if f["object"] == record["object"]
    ]
    _unique_name(body, siblings, name, exclude=record["uuid"])
    body.done()
    if name is not None:
        record["name"] = name
    if order is not None:
        record["order"] = order
    state.touch(record)
    return Reply(200, public(record))


def delete_custom_field(call: Call) -> Reply:
    """``DELETE /leads/api/custom-fields/{uuid}``: its values go too."""
    state = call.state
    record = state.get(state.custom_fields, call.team_id, call.params["uuid"], "Custom field")
    del state.custom_fields[record["uuid"]]
    for table in (state.leads, state.companies):
        for item in state.of_team(table, call.team_id):
            (item.get("_custom_fields") or {}).pop(record["uuid"], None)
    return Reply(204)


# ---------------------------------------------------------------------------- pipeline stages


def _stages(state: EmulatorState, team_id: int, object_type: Any) -> list[Record]:
    stages = [
        s for s in state.of_team(state.pipeline_stages, team_id) if s["object"] == object_type
    ]
    return sorted(stages, key=lambda s: s["order"])


def _renumber(state: EmulatorState, stages: list[Record]) -> None:
    for position, stage in enumerate(stages, start=1):
        if stage["order"] != position:
            stage["order"] = position
            state.touch(stage)


def list_pipeline_stages(call: Call) -> Reply:
    """``GET /leads/api/pipeline-stages``: ordered by object, then position."""
    page = page_from_query(call.query)
    stages = sorted(
        call.state.of_team(call.state.pipeline_stages, call.team_id),
        key=lambda s: (s["object"], s["order"]),
    )
    found = where(stages, filter_from_query(call.query), text=("name",))
    return Reply(200, paginate(found, page, natural_order=True))


def create_pipeline_stage(call: Call) -> Reply:
    """``POST /leads/api/pipeline-stages``: appended, or inserted at ``order``."""
    state, team = call.state, call.team_id
    body = Fields(call.body)
    name = body.string("name", required=True)
    object_type = body.choice("object", _OBJECTS, required=True)
    category = body.choice("category", _CATEGORIES, required=True)
    order = body.integer("order")
    body.done()
    stages = _stages(state, team, object_type)
    at = len(stages) if order is None else min(max(order, 1) - 1, len(stages))
    record = state.create(
        state.pipeline_stages,
        team,
        {
            "name": name,
            "object": object_type,
            "type": "custom",
            "category": category,
            "order": at + 1,
        },
    )
    stages.insert(at, record)
    _renumber(state, stages)
    return Reply(201, public(record))


def update_pipeline_stage(call: Call) -> Reply:
    """``PUT /leads/api/pipeline-stages/{uuid}``: rename, recategorise or move."""
    state, team = call.state, call.team_id
    record = state.get(state.pipeline_stages, team, call.params["uuid"], "Pipeline stage")
    body = Fields(call.body)
    name = body.string("name")
    category = body.choice("category", _CATEGORIES)
    order = body.integer("order")
    body.done()
    if name is not None:
        record["name"] = name
    if category is not None:
        record["category"] = category
    state.touch(record)
    if order is not None:
        stages = [s for s in _stages(state, team, record["object"]) if s is not record]
        stages.insert(min(max(order, 1) - 1, len(stages)), record)
        _renumber(state, stages)
    return Reply(200, public(record))


# ---------------------------------------------------------------------------- notes


def create_note(call: Call) -> Reply:
    """``POST /leads/api/notes``: on an existing contact or company of the team."""
    state, team = call.state, call.team_id
    body = Fields(call.body)
    object_type = body.choice("object", _OBJECTS, required=True)
    object_uuid = body.string("object_uuid", required=True)
    note = body.string("note", required=True)
    table = state.leads if object_type == "lead" else state.companies
    if object_type and object_uuid and table.get(object_uuid, {}).get("team_id") != team:
        body.fail("object_uuid", f"The selected object_uuid is not a {object_type} of this team.")
    body.done()
    fields = {"user_id": state.user_id(team), "object": object_type, "object_uuid": object_uuid}
    record = state.create(state.notes, team, {**fields, "note": note})
    return Reply(201, public(record))


def update_note(call: Call) -> Reply:
    """``PUT /leads/api/notes/{uuid}``: only the text changes."""
    state = call.state
    record = state.get(state.notes, call.team_id, call.params["uuid"], "Note")
    body = Fields(call.body)
    note = body.string("note", required=True)
    body.done()
    record["note"] = note
    state.touch(record)
    return Reply(200, public(record))


# ---------------------------------------------------------------------------- webhooks


def _target_url(body: Fields, *, required: bool) -> str | None:
    url = body.string("target_url", required=required)
    if url is not None:
        try:
            parts = urlsplit(url)
        except ValueError:
            parts = urlsplit("")
        if parts.scheme not in ("http", "https") or not parts.netloc:
            body.fail("target_url", "The target_url must be a valid http(s) URL.")
            return None
    return url


def _webhook_fields(body: Fields, *, creating: bool) -> dict[str, Any]:
    values: dict[str, Any] = {
        "name": body.string("name", required=creating),
        "event": body.choice("event", WEBHOOK_EVENTS, required=creating),
        "request_method": body.choice("request_method", _REQUEST_METHODS),
        "target_url": _target_url(body, required=True),
        "filters": body.mapping("filters", nullable=True),
        "status": body.choice("status", _WEBHOOK_STATUSES),
    }
    body.done()
    if creating:
        values["request_method"] = values["request_method"] or "POST"
        values["status"] = values["status"] or "on"
        return values
    return {k: v for k, v in values.items() if v is not None or (k == "filters" and body.has(k))}


def create_webhook(call: Call) -> Reply:
    """``POST /integrations/api/webhooks``: ``request_method`` defaults to POST, ``status`` to on."""
    state, team = call.state, call.team_id
    values = _webhook_fields(Fields(call.body), creating=True)
    record = state.create(state.webhooks, team, {"user_id": state.user_id(team), **values})
    return Reply(201, public(record))


def get_webhook(call: Call) -> Reply:
    """``GET /integrations/api/webhooks/{uuid}``."""
    state = call.state
    return Reply(
        200, public(state.get(state.webhooks, call.team_id, call.params["uuid"], "Webhook"))
    )


def update_webhook(call: Call) -> Reply:
    """``PUT /integrations/api/webhooks/{uuid}``: ``target_url`` is required."""
    state = call.state
    record = state.get(state.webhooks, call.team_id, call.params["uuid"], "Webhook")
    record.update(_webhook_fields(Fields(call.body), creating=False))
    state.touch(record)
    return Reply(200, public(record))


HANDLERS: dict[str, Callable[[Call], Reply]] = {
    "getCurrentUser": get_current_user,
    "listTeams": list_teams,
    "getTeam": get_team,
    "listLists": list_handler(lambda s: s.lists, "name"),
    "createList": create_list,
    "getList": get_list,
    "updateList": update_list,
    "deleteList": delete_list,
    "listTags": list_handler(lambda s: s.tags, "name"),
    "createTag": create_tag,
    "updateTag": update_tag,
    "deleteTag": delete_tag,
    "listCustomFields": list_handler(lambda s: s.custom_fields, "name"),
    "createCustomField": create_custom_field,
    "updateCustomField": update_custom_field,
    "deleteCustomField": delete_custom_field,
    "listPipelineStages": list_pipeline_stages,
    "createPipelineStage": create_pipeline_stage,
    "updatePipelineStage": update_pipeline_stage,
    "listNotes": list_handler(lambda s: s.notes, "note"),
    "createNote": create_note,
    "updateNote": update_note,
    "deleteNote": delete_handler(lambda s: s.notes, "Note"),
    "listWebhooks": list_handler(lambda s: s.webhooks, "name", "target_url"),
    "createWebhook": create_webhook,
    "getWebhookDetails": get_webhook,
    "updateWebhook": update_webhook,
    "deleteWebhook": delete_handler(lambda s: s.webhooks, "Webhook"),
}
