"""Flow versions: the node graph and contact sources of a flow, and their validation.

A version is ``{uuid, flow_uuid, nodes, contact_sources, first_common_node_id, created_at}``;
saving one makes it the flow's active version (``flow_version_uuid``). Rules checked (422):

- ``nodes``: integer ``id`` (unique), a ``type`` (a known node type or prefix: ``trigger_``,
  ``linkedin_``, ``gs_``), ``before`` and ``after`` arrays of ``{node_id, branch_id}`` naming
  nodes of the version, ``delay_in_seconds`` >= 0, ``payload`` an object or array;
- ``contact_sources``: at least one ("The contact sources field is required."), each with an
  integer ``id``, sender profiles of the team, an ``after_id`` naming a node.

The active version of a flow that is ``on`` cannot be deleted (422).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from ._errors import validation_error
from ._http import EMPTY, Call, Fields, Record, Reply, page_from_query, public
from ._state import EmulatorState

__all__ = ["HANDLERS", "check_contact_source", "check_node", "first_version"]

NODE_TYPES = frozenset(
    {
        "email_send_message",
        "email_search_waterflow",
        "rule_ab_test",
        "rule_filter",
        "rule_manual_router",
        "ai_rule_filter",
        "util_timer",
        "util_hodor",
        "integration_export_to_crm",
        "phone_call_phone",
        "end",
        "custom",
    }
)
NODE_PREFIXES = ("trigger_", "linkedin_", "gs_")
ROTATION_STRATEGIES = ("fair",)
_TYPE = re.compile(r"[a-z][a-z0-9_]{0,63}")


def _edges(node: Fields, name: str) -> list[dict[str, Any]]:
    edges = node.objects(name, required=True) or []
    for index, edge in enumerate(edges):
        item = Fields(edge, prefix=f"{node.prefix}{name}.{index}.", errors=node.errors)
        for key in ("node_id", "branch_id"):
            if not item.has(key):
                item.fail(key, f"The {key} field is required.")
            item.integer(key, minimum=0)
    return edges


def check_node(node: Fields) -> None:
    """Record the problems of one node (``flow-node-input``)."""
    if not node.has("id"):
        node.fail("id", "The id field is required.")
    node.integer("id", minimum=0)
    kind = node.string("type", required=True, pattern=_TYPE)
    if kind is not None and kind not in NODE_TYPES and not kind.startswith(NODE_PREFIXES):
        node.fail("type", f"Unknown node type {kind!r}.")
    _edges(node, "before")
    _edges(node, "after")
    node.integer("delay_in_seconds", nullable=True, minimum=0)
    if node.has("payload") and not isinstance(node.body["payload"], dict | list):
        node.fail("payload", "The payload must be an object or an array.")


def _check_profiles(state: EmulatorState, team_id: int, fields: Fields) -> None:
    for profile in fields.strings("sender_profiles", nullable=True) or []:
        found = state.sender_profiles.get(profile)
        if found is None or found["team_id"] != team_id:
            fields.fail("sender_profiles", f"The sender profile {profile} does not exist.")


def check_contact_source(
    state: EmulatorState, team_id: int, source: Fields, node_ids: set[int] | None
) -> None:
    """Record the problems of one contact source."""
    if not source.has("id"):
        source.fail("id", "The id field is required.")
    source.integer("id", minimum=0)
    source.string("name", nullable=True)
    source.choice("rotation_strategy", ROTATION_STRATEGIES)
    _check_profiles(state, team_id, source)
    after = source.integer("after_id", nullable=True, minimum=0)
    if after is not None and node_ids is not None and after not in node_ids:
        source.fail("after_id", f"The after_id {after} is not a node of this version.")
    for name in ("active_limit", "coworkers_limit"):
        source.integer(name, nullable=True, minimum=0)


def _check_graph(body: Fields, nodes: list[dict[str, Any]]) -> set[int]:
    ids = [int(n["id"]) for n in nodes if isinstance(n.get("id"), int)]
    if len(ids) != len(set(ids)):
        body.fail("nodes", "Node ids must be unique.")
    known = set(ids)
    for node in nodes:
        for side in ("before", "after"):
            for edge in node.get(side) or []:
                target = edge.get("node_id") if isinstance(edge, dict) else None
                if isinstance(target, int) and target not in known:
                    body.fail("nodes", f"Node {node.get('id')} points to missing node {target}.")
    return known


def _stamp(state: EmulatorState, nodes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    now = state.now()
    defaults = {"automation": "auto", "payload": [], "delay_in_seconds": 0}
    return [{**defaults, "created_at": now, "updated_at": now, **node} for node in nodes]


def _flow(call: Call) -> Record:
    state = call.state
    return state.get(state.flows, call.team_id, call.params["flow_uuid"], "Flow")


def save_version(
    state: EmulatorState,
    flow: Record,
    nodes: list[dict[str, Any]],
    sources: list[dict[str, Any]],
    first_common: int | None,
) -> Record:
    """Store a version and make it the flow's active one."""
    fields = {
        "flow_uuid": flow["uuid"],
        "nodes": _stamp(state, nodes),
        "contact_sources": sources,
        "first_common_node_id": first_common,
    }
    version = state.create(state.flow_versions, flow["team_id"], fields)
    version.pop("updated_at", None)
    flow["flow_version_uuid"] = version["uuid"]
    state.touch(flow)
    return version


def first_version(state: EmulatorState, flow: Record) -> Record:
    """The version a new flow starts with: one ``end`` node and a default contact source."""
    node = {"id": 1, "type": "end", "before": [], "after": []}
    source = {
        "id": 1,
        "name": "Default",
        "rotation_strategy": "fair",
        "sender_profiles": [],
        "after_id": 1,
        "active_limit": None,
        "coworkers_limit": None,
        "mass_actions_filter": None,
        "filter_tree_format": None,
    }
    return save_version(state, flow, [node], [source], None)


def create_version(call: Call) -> Reply:
    """``POST /flows/api/flows/{flowUuid}/flow-versions``: 201, no body; now the active version."""
    state = call.state
    flow = _flow(call)
    body = Fields(call.body)
    nodes = body.objects("nodes", required=True) or []
    sources = body.objects("contact_sources", required=True)
    if sources == []:
        body.fail("contact_sources", "The contact sources field is required.")
    first_common = body.integer("first_common_node_id", nullable=True, minimum=0)
    for index, node in enumerate(nodes):
        check_node(Fields(node, prefix=f"nodes.{index}.", errors=body.errors))
    known = _check_graph(body, nodes)
    for index, source in enumerate(sources or []):
        item = Fields(source, prefix=f"contact_sources.{index}.", errors=body.errors)
        check_contact_source(state, call.team_id, item, known)
    body.done()
    defaults: dict[str, Any] = {
        "rotation_strategy": "fair",
        "sender_profiles": [],
        "after_id": None,
    }
    save_version(state, flow, nodes, [{**defaults, **s} for s in sources or []], first_common)
    return Reply(201, EMPTY)


def list_versions(call: Call) -> Reply:
    """``GET /flows/api/flows/{flowUuid}/flow-versions``: a bare array, newest first, one page."""
    state = call.state
    page = page_from_query(call.query)
    flow = _flow(call)
    versions = [public(v) for v in state.flow_versions.values() if v["flow_uuid"] == flow["uuid"]]
    return Reply(200, versions[::-1][page.offset : page.offset + page.limit])


def get_version(call: Call) -> Reply:
    """``GET /flows/api/flow-versions/{uuid}``."""
    state = call.state
    version = state.get(state.flow_versions, call.team_id, call.params["uuid"], "Flow version")
    return Reply(200, public(version))


def delete_version(call: Call) -> Reply:
    """``DELETE /flows/api/flow-versions/{uuid}``: not the active version of a running flow."""
    state = call.state
    version = state.get(state.flow_versions, call.team_id, call.params["uuid"], "Flow version")
    flow = state.flows.get(str(version["flow_uuid"]))
    if flow is not None and flow["flow_version_uuid"] == version["uuid"]:
        if flow["status"] == "on":
            raise validation_error(
                {"uuid": ["The active version of a running flow cannot be deleted."]}
            )
        older = [
            v
            for v in state.flow_versions.values()
            if v["flow_uuid"] == flow["uuid"] and v is not version
        ]
        flow["flow_version_uuid"] = older[-1]["uuid"] if older else None
    del state.flow_versions[version["uuid"]]
    return Reply(204)


def validate_node(call: Call) -> Reply:
    """``POST /flows/api/flow-versions/validate-node``: 204 when valid, else 422."""
    body = Fields(call.body)
    check_node(body)
    body.done()
    return Reply(204)


def validate_source(call: Call) -> Reply:
    """``POST /flows/api/flow-versions/validate-contact-source``: 200 (no body) or 422."""
    body = Fields(call.body)
    check_contact_source(call.state, call.team_id, body, None)
    body.string("type")
    options = body.mapping("options")
    _check_profiles(
        call.state, call.team_id, Fields(options, prefix="options.", errors=body.errors)
    )
    body.done()
    return Reply(200, EMPTY)


HANDLERS: dict[str, Callable[[Call], Reply]] = {
    "listFlowVersions": list_versions,
    "createFlowVersion": create_version,
    "getFlowVersion": get_version,
    "deleteFlowVersion": delete_version,
    "validateFlowNode": validate_node,
    "validateContactSource": validate_source,
}
