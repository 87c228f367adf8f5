"""LLM connections: provider credentials for AI agents and templates, and the provider catalogue.

``provider`` must be one of :data:`PROVIDERS`. The token is "validated with the provider" on
create and rotate: the emulator refuses (422) one shorter than 8 characters or containing
``invalid``. Answers show the token masked to its last 4 characters, never in full.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ._http import Call, Fields, Record, Reply, list_handler, public

__all__ = ["HANDLERS", "PROVIDERS", "require_llm"]

PROVIDERS: dict[str, tuple[str, ...]] = {
    "openai": ("gpt-4o", "gpt-4o-mini", "gpt-4.1", "gpt-4.1-mini"),
    "anthropic": ("claude-3-5-sonnet", "claude-3-5-haiku", "claude-sonnet-4"),
    "google": ("gemini-1.5-pro", "gemini-1.5-flash", "gemini-2.0-flash"),
    "deepseek": ("deepseek-chat", "deepseek-reasoner"),
    "xai": ("grok-2", "grok-3"),
}
PARAMETERS = {
    "temperature": {"type": "number", "min": 0.0, "max": 2.0, "default": 0.7},
    "max_tokens": {"type": "integer", "min": 1, "max": 8192, "default": 1024},
}
MIN_TOKEN = 8


def _view(connection: Record) -> dict[str, Any]:
    token = str(connection.get("_api_token") or "")
    return {**public(connection), "api_token": f"****{token[-4:]}" if token else None}


def _token(body: Fields, *, required: bool) -> str | None:
    token = body.string("api_token", required=required)
    if token is not None and (len(token) < MIN_TOKEN or "invalid" in token.lower()):
        body.fail("api_token", "The provider rejected the API token.")
        return None
    return token


def require_llm(state: Any, body: Fields, team_id: int, name: str) -> str | None:
    """An optional LLM connection uuid field (a 422 problem when it names none of the team's)."""
    value = body.string(name, nullable=True)
    if value is not None and state.llm_connections.get(value, {}).get("team_id") != team_id:
        body.fail(name, f"The selected {name} is invalid: no such LLM connection.")
    return value


def create(call: Call) -> Reply:
    """``POST /integrations/api/llms``: 201, ``active``."""
    state, team = call.state, call.team_id
    body = Fields(call.body)
    provider = body.choice("provider", tuple(PROVIDERS), required=True)
    name = body.string("name")
    token = _token(body, required=True)
    body.done()
    fields = {
        "name": name or f"{provider} connection",
        "provider": provider,
        "status": "active",
        "owner": state.user_id(team),
        "_api_token": token,
    }
    return Reply(201, _view(state.create(state.llm_connections, team, fields)))


def _connection(call: Call) -> Record:
    return call.state.get(
        call.state.llm_connections, call.team_id, call.params["uuid"], "LLM connection"
    )


def get(call: Call) -> Reply:
    """``GET /integrations/api/llms/{uuid}``: token masked."""
    return Reply(200, _view(_connection(call)))


def update(call: Call) -> Reply:
    """``PUT /integrations/api/llms/{uuid}``: rename and/or rotate the token."""
    connection = _connection(call)
    body = Fields(call.body)
    name = body.string("name")
    token = _token(body, required=False)
    body.done()
    if name is not None:
        connection["name"] = name
    if token is not None:
        connection["_api_token"] = token
    call.state.touch(connection)
    return Reply(200, _view(connection))


def delete(call: Call) -> Reply:
    """``DELETE /integrations/api/llms/{uuid}``: 204 (agents and templates keep the dangling uuid)."""
    connection = _connection(call)
    del call.state.llm_connections[connection["uuid"]]
    return Reply(204)


def config_options(call: Call) -> Reply:
    """``GET /integrations/api/llms/llm-config-options``: providers, models, parameters."""
    return Reply(
        200,
        {
            "providers": list(PROVIDERS),
            "models": {provider: list(models) for provider, models in PROVIDERS.items()},
            "parameters": PARAMETERS,
        },
    )


HANDLERS: dict[str, Callable[[Call], Reply]] = {
    "listLlmConnections": list_handler(
        lambda s: s.llm_connections, "name", "provider", render=_view
    ),
    "createLlmConnection": create,
    "getLlmConnection": get,
    "updateLlmConnection": update,
    "deleteLlmConnection": delete,
    "getLlmConfigOptions": config_options,
}
