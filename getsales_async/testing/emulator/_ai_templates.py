"""AI templates: message templates with variables, AI drafting, validation and fallback.

``is_public`` (0 or 1) is required on create (production answers a 500 without it; the emulator
a 422). Deleting is a soft delete, as in production: the template gets ``deleted_at`` and still
appears in GET and list; updating or deleting it again is 404.

``render`` takes a stored template (``uuid``) or an inline one, fills ``{{variables}}`` from the
contact and sender profile (``_render``), and answers the rendered body; ``ai_generated_body``
is a deterministic stand-in draft when the template has a ``prompt`` and an LLM connection;
unknown variables are reported in ``handling_error`` and, with ``enable_fallback``, the
``fallback_body`` (``settings.fallback_message``) is given.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ._errors import not_found
from ._http import Call, Fields, Record, Reply, list_handler, public
from ._llm_connections import require_llm
from ._render import render
from ._sender_profiles import require_profile
from ._shapes import text

__all__ = ["HANDLERS"]

TYPES = ("message", "connection_note", "email", "post_comment")
_TEXTS = ("subject", "body", "prompt")
_FLAGS = ("enable_validation", "enable_fallback")


def _read(call: Call, body: Fields, *, creating: bool) -> dict[str, Any]:
    values: dict[str, Any] = {}
    name = body.string("name", required=creating)
    if name is not None:
        values["name"] = name
    if creating:
        values["type"] = body.choice("type", TYPES, required=True)
        public_flag = body.integer("is_public", minimum=0, maximum=1)
        if not body.has("is_public"):
            body.fail("is_public", "The is_public field is required (0 or 1).")
        values["is_public"] = public_flag
    for field in _TEXTS:
        value = text(body, field, nullable=True)
        if body.has(field):
            values[field] = value
    llm = require_llm(call.state, body, call.team_id, "llm_uuid")
    if body.has("llm_uuid"):
        values["llm_uuid"] = llm
    for field in ("llm_config", "settings"):
        mapping = body.mapping(field, nullable=True)
        if body.has(field):
            values[field] = mapping
    for field in _FLAGS:
        if body.has(field):
            values[field] = body.boolean(field, False)
    return values


def create(call: Call) -> Reply:
    """``POST /flows/api/ai-templates``: 201."""
    state = call.state
    body = Fields(call.body)
    values = _read(call, body, creating=True)
    body.done()
    fields = {
        "template_category_uuid": None,
        "subject": None,
        "body": None,
        "attachments": None,
        "llm_uuid": None,
        "llm_config": None,
        "prompt": None,
        "enable_validation": False,
        "validation_llm_uuid": None,
        "validation_llm_config": None,
        "validation_prompt": None,
        "enable_fallback": False,
        "settings": None,
        "deleted_at": None,
        **values,
    }
    return Reply(201, public(state.create(state.ai_templates, call.team_id, fields)))


def _template(call: Call, *, live: bool) -> Record:
    template = call.state.get(
        call.state.ai_templates, call.team_id, call.params["uuid"], "AI template"
    )
    if live and template["deleted_at"] is not None:
        raise not_found("AI template")
    return template


def update(call: Call) -> Reply:
    """``PUT /flows/api/ai-templates/{uuid}``: partial (404 once deleted)."""
    template = _template(call, live=True)
    body = Fields(call.body)
    values = _read(call, body, creating=False)
    body.done()
    template.update(values)
    call.state.touch(template)
    return Reply(200, public(template))


def delete(call: Call) -> Reply:
    """``DELETE /flows/api/ai-templates/{uuid}``: soft delete; 204."""
    template = _template(call, live=True)
    template["deleted_at"] = call.state.now()
    call.state.touch(template)
    return Reply(204)


def _definition(call: Call, body: Fields) -> dict[str, Any]:
    template_uuid = body.string("uuid")
    stored: dict[str, Any] = {}
    if template_uuid is not None:
        found = call.state.ai_templates.get(template_uuid)
        if found is None or found["team_id"] != call.team_id:
            body.fail("uuid", "The selected uuid is invalid: no such AI template.")
        else:
            stored = found
    inline = {
        f: body.body[f]
        for f in ("subject", "body", "prompt", "llm_uuid", "settings", *_FLAGS)
        if f in body.body
    }
    for field in ("subject", "body", "prompt"):
        text(body, field, nullable=True)
    body.mapping("settings", nullable=True)
    return {**stored, **inline}


def render_template(call: Call) -> Reply:
    """``POST /flows/api/ai-templates/render``: rendered, drafted, validated, with fallback."""
    state = call.state
    body = Fields(call.body)
    definition = _definition(call, body)
    profile = require_profile(state, body, call.team_id, "sender_profile_uuid")
    lead_uuid = body.string("lead_uuid", required=True)
    lead = state.leads.get(str(lead_uuid))
    if lead_uuid is not None and (lead is None or lead["team_id"] != call.team_id):
        body.fail("lead_uuid", "The selected lead_uuid is invalid: no such contact.")
    body.done()
    rendered, missing = render(str(definition.get("body") or ""), lead, profile)
    prompt, _ = render(str(definition.get("prompt") or ""), lead, profile)
    has_llm = definition.get("llm_uuid") in state.llm_connections
    error = f"Unknown variables: {', '.join(missing)}." if missing else None
    given = definition.get("settings")
    settings: dict[str, Any] = given if isinstance(given, dict) else {}
    fallback = None
    if missing and definition.get("enable_fallback"):
        fallback = str(settings.get("fallback_message") or "")
    history = (
        [{"valid": not missing, "reason": error}] if definition.get("enable_validation") else []
    )
    return Reply(
        200,
        {
            "llm_instructions": prompt or None,
            "rendered_body": rendered,
            "ai_generated_body": f"{rendered}\n\n[AI draft: {prompt}]"
            if prompt and has_llm
            else None,
            "fallback_body": fallback,
            "handling_error": error,
            "validation_history": history,
        },
    )


HANDLERS: dict[str, Callable[[Call], Reply]] = {
    "listAiTemplates": list_handler(lambda s: s.ai_templates, "name", "body", "subject"),
    "createAiTemplate": create,
    "getAiTemplate": lambda call: Reply(200, public(_template(call, live=False))),
    "updateAiTemplate": update,
    "deleteAiTemplate": delete,
    "renderAiTemplate": render_template,
}
