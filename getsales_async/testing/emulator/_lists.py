"""Lists and tags: names unique within the team; deleting one unlinks its contacts and companies."""

from __future__ import annotations

from collections.abc import Callable

from ._http import (
    Call,
    Fields,
    Reply,
    list_handler,
    public,
    unique_name,
)

__all__ = ["HANDLERS"]


# ---------------------------------------------------------------------------- lists


def create_list(call: Call) -> Reply:
    """``POST /leads/api/lists``: names are unique within the team."""
    state = call.state
    body = Fields(call.body)
    name = body.string("name", required=True)
    unique_name(body, list(state.of_team(state.lists, call.team_id)), name)
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
    unique_name(body, list(state.of_team(state.lists, call.team_id)), name, exclude=record["uuid"])
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
    unique_name(body, list(state.of_team(state.tags, call.team_id)), name)
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
    unique_name(body, list(state.of_team(state.tags, call.team_id)), name, exclude=record["uuid"])
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


HANDLERS: dict[str, Callable[[Call], Reply]] = {
    "listLists": list_handler(lambda s: s.lists, "name"),
    "createList": create_list,
    "getList": get_list,
    "updateList": update_list,
    "deleteList": delete_list,
    "listTags": list_handler(lambda s: s.tags, "name"),
    "createTag": create_tag,
    "updateTag": update_tag,
    "deleteTag": delete_tag,
}
