"""Flow workspaces (automation folders): names unique in the team; deleting archives the flows."""

from __future__ import annotations

from collections.abc import Callable

from ._flows import end_flow_leads
from ._http import EMPTY, Call, Fields, Reply, list_handler, public, unique_name

__all__ = ["HANDLERS"]


def create_workspace(call: Call) -> Reply:
    """``POST /flows/api/flow-workspaces``: 201; ``order`` defaults to the end."""
    state, team = call.state, call.team_id
    body = Fields(call.body)
    name = body.string("name", required=True)
    order = body.integer("order", minimum=0)
    siblings = list(state.of_team(state.flow_workspaces, team))
    unique_name(body, siblings, name)
    body.done()
    fields = {
        "user_id": state.user_id(team),
        "name": str(name).strip(),
        "order": len(siblings) + 1 if order is None else order,
    }
    return Reply(201, public(state.create(state.flow_workspaces, team, fields)))


def update_workspace(call: Call) -> Reply:
    """``PUT /flows/api/flow-workspaces/{uuid}``: name and/or order."""
    state, team = call.state, call.team_id
    workspace = state.get(state.flow_workspaces, team, call.params["uuid"], "Flow workspace")
    body = Fields(call.body)
    name = body.string("name")
    order = body.integer("order", minimum=0)
    unique_name(body, state.of_team(state.flow_workspaces, team), name, exclude=workspace["uuid"])
    body.done()
    if name is not None:
        workspace["name"] = name.strip()
    if order is not None:
        workspace["order"] = order
    state.touch(workspace)
    return Reply(200, public(workspace))


def delete_workspace(call: Call) -> Reply:
    """``DELETE /flows/api/flow-workspaces/{uuid}``: 200; its flows are archived, not deleted."""
    state = call.state
    workspace = state.get(
        state.flow_workspaces, call.team_id, call.params["uuid"], "Flow workspace"
    )
    del state.flow_workspaces[workspace["uuid"]]
    for flow in state.of_team(state.flows, call.team_id):
        if flow["flow_workspace_uuid"] == workspace["uuid"]:
            flow.update(flow_workspace_uuid=None, status="archived")
            state.touch(flow)
            end_flow_leads(state, flow, "Automation archived")
    return Reply(200, EMPTY)


HANDLERS: dict[str, Callable[[Call], Reply]] = {
    "listFlowWorkspaces": list_handler(lambda s: s.flow_workspaces, "name"),
    "createFlowWorkspace": create_workspace,
    "updateFlowWorkspace": update_workspace,
    "deleteFlowWorkspace": delete_workspace,
}
