"""AI agents: classification settings, lead classification, and metrics from stored results.

``classify`` takes the lead profile (``lead_uuid`` of the team and/or free ``text``) and
classifies it at once, deterministically: ``fallback`` when the agent has no LLM connection,
``no_reply`` without text, else by keywords (``negative`` for "not interested", "unsubscribe",
"stop", "no thanks"; ``positive`` for "interested", "yes", "sounds good", "let's talk", "call";
otherwise ``neutral``). The answer is ``{status: "queued", classification_uuid}``; the result
counts in the agent's metrics and is in ``emulator.state.ai_classifications``.

Contacts are assigned to an agent by the ``contact_assign_ai_agent`` mass action (removed by
``contact_cancel_ai_agent``, or when the agent is deleted). The agent then classifies each reply
of its contacts as it arrives (``emulator.inject_reply``), and the metrics count the contacts
assigned to it (``assigned_contacts``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from ._http import Call, Fields, Record, Reply, get_handler, list_handler, public
from ._llm_connections import require_llm
from ._shapes import read_uuids, text
from ._state import EmulatorState

__all__ = ["HANDLERS", "assign_agent", "classify_reply", "classify_text"]

CATEGORIES = ("positive", "negative", "neutral", "fallback", "no_reply")
_NEGATIVE = ("not interested", "unsubscribe", "stop", "no thanks", "remove me")
_POSITIVE = ("interested", "yes", "sounds good", "let's talk", "call", "sure")


def classify_text(message: str | None, *, has_llm: bool) -> str:
    """The category the emulator's agent gives a reply (see the module docstring)."""
    if not has_llm:
        return "fallback"
    words = (message or "").strip().casefold()
    if not words:
        return "no_reply"
    if any(k in words for k in _NEGATIVE):
        return "negative"
    if any(k in words for k in _POSITIVE):
        return "positive"
    return "neutral"


def _read(call: Call, body: Fields, *, creating: bool) -> dict[str, Any]:
    values: dict[str, Any] = {}
    name = body.string("name", required=creating)
    if name is not None:
        values["name"] = name
    for field in ("description", "avatar_url"):
        value = body.string(field, nullable=True)
        if body.has(field):
            values[field] = value
    llm = require_llm(call.state, body, call.team_id, "classification_llm_uuid")
    if body.has("classification_llm_uuid"):
        values["classification_llm_uuid"] = llm
    config = body.mapping("classification_llm_config", nullable=True)
    if body.has("classification_llm_config"):
        values["classification_llm_config"] = config
    prompt = text(body, "classification_prompt", nullable=True)
    if body.has("classification_prompt"):
        values["classification_prompt"] = prompt
    return values


def create(call: Call) -> Reply:
    """``POST /flows/api/ai-agents``: 201."""
    state = call.state
    body = Fields(call.body)
    values = _read(call, body, creating=True)
    body.done()
    fields = {
        "public_uuid": None,
        "description": None,
        "avatar_url": None,
        "classification_llm_uuid": None,
        "classification_llm_config": None,
        "classification_prompt": None,
        **values,
    }
    return Reply(201, public(state.create(state.ai_agents, call.team_id, fields)))


def _agent(call: Call) -> Record:
    return call.state.get(call.state.ai_agents, call.team_id, call.params["uuid"], "AI agent")


def update(call: Call) -> Reply:
    """``PUT /flows/api/ai-agents/{uuid}``: partial."""
    agent = _agent(call)
    body = Fields(call.body)
    values = _read(call, body, creating=False)
    body.done()
    agent.update(values)
    call.state.touch(agent)
    return Reply(200, public(agent))


def classify(call: Call) -> Reply:
    """``POST /flows/api/ai-agents/{uuid}/classify``: queued (and counted) at once."""
    state = call.state
    agent = _agent(call)
    body = Fields(call.body)
    lead_uuid = body.string("lead_uuid")
    if lead_uuid is not None and state.leads.get(lead_uuid, {}).get("team_id") != call.team_id:
        body.fail("lead_uuid", "The selected lead_uuid is invalid: no such contact.")
    message = text(body, "text") or text(body, "message")
    body.done()
    result = _classification(state, agent, lead_uuid, message)
    return Reply(
        200,
        {"status": "queued", "classification_uuid": result["uuid"], "agent_uuid": agent["uuid"]},
    )


def _classification(
    state: EmulatorState, agent: Record, lead_uuid: str | None, message: str | None
) -> Record:
    has_llm = agent["classification_llm_uuid"] in state.llm_connections
    fields = {
        "agent_uuid": agent["uuid"],
        "lead_uuid": lead_uuid,
        "text": message,
        "category": classify_text(message, has_llm=has_llm),
    }
    return state.create(state.ai_classifications, agent["team_id"], fields)


def assign_agent(state: EmulatorState, lead: Record, agent_uuid: str | None) -> None:
    """Assign a contact to an agent (``None``: remove its agent)."""
    if agent_uuid is None:
        lead.pop("_ai_agent_uuid", None)
    elif agent_uuid in state.ai_agents:
        lead["_ai_agent_uuid"] = agent_uuid


def classify_reply(state: EmulatorState, lead: Record, message: str) -> Record | None:
    """The contact's agent, if it has one, classifies its reply; returns the result."""
    agent = state.ai_agents.get(str(lead.get("_ai_agent_uuid")))
    return None if agent is None else _classification(state, agent, lead["uuid"], message)


def _metrics(state: EmulatorState, agent: Record, assigned: Counter[str]) -> dict[str, Any]:
    results = [r for r in state.ai_classifications.values() if r["agent_uuid"] == agent["uuid"]]
    counts = Counter(r["category"] for r in results)
    return {
        **{category: counts[category] for category in CATEGORIES},
        "assigned_contacts": assigned[agent["uuid"]],
        "last_classified_at": results[-1]["created_at"] if results else None,
    }


def metrics(call: Call) -> Reply:
    """``POST /flows/api/ai-agents/metrics``: counts per agent (``uuids``, default all)."""
    state = call.state
    body = Fields(call.body)
    wanted = read_uuids(body, "uuids", "ai_agent_uuids")
    body.done()
    agents = [
        a
        for a in state.of_team(state.ai_agents, call.team_id)
        if wanted is None or a["uuid"] in wanted
    ]
    assigned = Counter(
        str(lead["_ai_agent_uuid"])
        for lead in state.of_team(state.leads, call.team_id)
        if lead.get("_ai_agent_uuid")
    )
    return Reply(200, {a["uuid"]: _metrics(state, a, assigned) for a in agents})


def delete(call: Call) -> Reply:
    """``DELETE /flows/api/ai-agents/{uuid}``: 204; its contacts lose their agent."""
    state = call.state
    agent = _agent(call)
    for lead in state.of_team(state.leads, call.team_id):
        if lead.get("_ai_agent_uuid") == agent["uuid"]:
            del lead["_ai_agent_uuid"]
    del state.ai_agents[agent["uuid"]]
    return Reply(204)


HANDLERS: dict[str, Callable[[Call], Reply]] = {
    "listAiAgents": list_handler(lambda s: s.ai_agents, "name", "description"),
    "createAiAgent": create,
    "getAiAgent": get_handler(lambda s: s.ai_agents, "AI agent"),
    "updateAiAgent": update,
    "deleteAiAgent": delete,
    "classifyLead": classify,
    "getAiAgentMetrics": metrics,
}
