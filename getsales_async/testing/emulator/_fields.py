"""Custom fields (keys 1-100 per object type) and pipeline stages (ordered per object type)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from ._http import (
    Call,
    Fields,
    Record,
    Reply,
    filter_from_query,
    list_handler,
    page_from_query,
    paginate,
    public,
    unique_name,
    where,
)
from ._state import EmulatorState

__all__ = ["HANDLERS", "MAX_CUSTOM_FIELDS"]

MAX_CUSTOM_FIELDS = 100  # per team and object type; keys 1-100
_FIELD_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_OBJECTS = ("lead", "company")
_CATEGORIES = ("cold", "engaging", "positive", "negative")


# ---------------------------------------------------------------------------- custom fields


def create_custom_field(call: Call) -> Reply:
    """``POST /leads/api/custom-fields``: the lowest free key 1-100 of the object type."""
    state, team = call.state, call.team_id
    body = Fields(call.body)
    name = body.string("name", required=True, pattern=_FIELD_NAME)
    object_type = body.string("object", required=True)
    order = body.integer("order")
    siblings = [f for f in state.of_team(state.custom_fields, team) if f["object"] == object_type]
    unique_name(body, siblings, name)
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
    unique_name(body, siblings, name, exclude=record["uuid"])
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


HANDLERS: dict[str, Callable[[Call], Reply]] = {
    "listCustomFields": list_handler(lambda s: s.custom_fields, "name"),
    "createCustomField": create_custom_field,
    "updateCustomField": update_custom_field,
    "deleteCustomField": delete_custom_field,
    "listPipelineStages": list_pipeline_stages,
    "createPipelineStage": create_pipeline_stage,
    "updatePipelineStage": update_pipeline_stage,
}
