"""AI agents: classification settings, lead classification, and metrics from stored results.

``classify`` takes the lead profile (``lead_uuid`` of the team and/or free ``text``) and
classifies it at once, deterministically: ``fallback`` when the agent has no LLM connection,
``no_reply`` without text, else by keywords (``negative`` for "not interested", "unsubscribe",
"stop", "no thanks"; ``positive`` for "interested", "yes", "sounds good", "let's talk", "call";
otherwise ``neutral``). The answer is ``{status: "queued", classification_uuid}``; the result
counts in the agent's metrics and is in ``emulator.state.ai_classifications``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from ._http import Call, Fields, Record, Reply, delete_handler, get_handler, list_handler, public
from ._llm_connections import require_llm
from ._shapes import read_uuids, text
from ._state import EmulatorState

__all__ = ["HANDLERS", "classify_text"]

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
    has_llm = agent["classification_llm_uuid"] in state.llm_connections
    fields = {
        "agent_uuid": agent["uuid"],
        "lead_uuid": lead_uuid,
        "text": message,
        "category": classify_text(message, has_llm=has_llm),
    }
    result = state.create(state.ai_classifications, call.team_id, fields)
    return Reply(
        200,
        {"status": "queued", "classification_uuid": result["uuid"], "agent_uuid": agent["uuid"]},
    )


def _metrics(state: EmulatorState, agent: Record) -> dict[str, Any]:
    results = [r for r in state.ai_classifications.values() if r["agent_uuid"] == agent["uuid"]]
    counts = Counter(r["category"] for r in results)
    return {
        **{category: counts[category] for category in CATEGORIES},
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
    return Reply(200, {a["uuid"]: _metrics(state, a) for a in agents})


HANDLERS: dict[str, Callable[[Call], Reply]] = {
    "listAiAgents": list_handler(lambda s: s.ai_agents, "name", "description"),
    "createAiAgent": create,
    "getAiAgent": get_handler(lambda s: s.ai_agents, "AI agent"),
    "updateAiAgent": update,
    "deleteAiAgent": delete_handler(lambda s: s.ai_agents, "AI agent"),
    "classifyLead": classify,
    "getAiAgentMetrics": metrics,
}
