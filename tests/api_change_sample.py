"""A sample upstream change of openapi/bundled.yaml and how the API report must classify it.

Shared by tests/test_api_diff.py, tests/test_api_changelog.py and tests/test_refresh.py. ``before``
is the shipped snapshot with a response enum (the snapshot has none, so "enum value added on the
response side" needs one to start from); ``after`` applies every change of the issue's acceptance
list and a few more.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

from .conftest import load_spec

__all__ = ["EXPECTED", "write_pair"]

LEAD_STATUS = ["ok", "failed_validation", "no_contact_data", "duplicate"]

# (level, subject, message) of every change the report must contain; nothing else may be breaking
EXPECTED: list[tuple[str, str, str]] = [
    ("breaking", "client.teams.get()", "operation removed (GET /id/api/teams/{id})"),
    ("breaking", "Lead.about", "response field removed"),
    ("breaking", "client.leads.upsert(update_if_exists)", "request field is now required"),
    ("breaking", "Lead.connections_number", "response type changed: `integer` → `string`"),
    (
        "breaking",
        "client.linkedin_messages.send(linkedin_messenger_type)",
        "request enum value `sn` removed",
    ),
    (
        "non-breaking",
        "client.leads.archive()",
        "operation added (POST /leads/api/leads/{uuid}/archive)",
    ),
    ("non-breaking", "WebhookEvent", "request enum value `contact_merged` added"),
    (
        "non-breaking",
        "Lead.status",
        "response enum value `archived` added; response enums are open",
    ),
    ("non-breaking", "Lead.loyalty_score", "response field added"),
    (
        "non-breaking",
        "client.pipeline_stages.create(order)",
        "request type changed: `integer` → `number`",
    ),
    ("docs", "client.leads.search()", "documentation changed"),
]


def _before() -> dict[str, Any]:
    doc = copy.deepcopy(load_spec())
    doc["components"]["schemas"]["lead"]["properties"]["status"]["enum"] = list(LEAD_STATUS)
    return doc


def _after(before: dict[str, Any]) -> dict[str, Any]:
    doc = copy.deepcopy(before)
    paths, schemas = doc["paths"], doc["components"]["schemas"]
    paths["/leads/api/leads/{uuid}/archive"] = {
        "post": {
            "operationId": "archiveLead",
            "tags": ["Leads (Contacts)"],
            "summary": "Archive a contact",
            "parameters": [{"$ref": "#/components/parameters/uuid"}],
            "responses": {
                "200": {
                    "description": "The archived contact.",
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/lead"}}
                    },
                }
            },
        }
    }
    del paths["/id/api/teams/{id}"]["get"]
    lead = schemas["lead"]["properties"]
    del lead["about"]
    lead["connections_number"]["type"] = "string"
    lead["status"]["enum"].append("archived")
    lead["loyalty_score"] = {"type": "integer", "nullable": True}
    upsert = paths["/leads/api/leads/upsert"]["post"]["requestBody"]["content"]
    upsert["application/json"]["schema"]["required"].append("update_if_exists")
    schemas["webhook-event"]["enum"].append("contact_merged")
    send = paths["/flows/api/linkedin-messages"]["post"]["requestBody"]["content"]
    send["application/json"]["schema"]["properties"]["linkedin_messenger_type"]["enum"].remove("sn")
    stage = paths["/leads/api/pipeline-stages"]["post"]["requestBody"]["content"]
    stage["application/json"]["schema"]["properties"]["order"]["type"] = "number"
    paths["/leads/api/leads/search"]["post"]["summary"] = "Search contacts (filters and sorting)"
    return doc


def write_pair(folder: Path) -> tuple[Path, Path]:
    """Write the sample's before/after descriptions as YAML into ``folder``; return their paths."""
    before = _before()
    paths = folder / "before.yaml", folder / "after.yaml"
    for path, doc in zip(paths, (before, _after(before)), strict=True):
        dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
        path.write_text(yaml.dump(doc, Dumper=dumper, sort_keys=False), encoding="utf-8")
    return paths


_THING: dict[str, Any] = {
    "type": "object",
    "properties": {
        "id": {"type": "string"},
        "score": {"type": "number"},
        "state": {"type": "string", "enum": ["on", "off"]},
        "name": {"type": "string", "nullable": True},
        "seen_at": {"type": "string"},
    },
}

_THING_INPUT: dict[str, Any] = {
    "type": "object",
    "required": ["name"],
    "properties": {
        "name": {"type": "string", "maxLength": 100},
        "size": {"type": "number"},
        "kind": {"type": "string", "enum": ["x", "y"]},
        "note": {"type": "string"},
    },
}


def _small_before() -> dict[str, Any]:
    """A small API: two resources, two models, one unused model."""
    ok = {
        "description": "ok",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/thing"}}},
    }
    return {
        "openapi": "3.0.3",
        "info": {"title": "Things", "version": "1"},
        "paths": {
            "/things": {
                "get": {
                    "operationId": "listThings",
                    "tags": ["Things"],
                    "summary": "List",
                    "parameters": [
                        {"name": "limit", "in": "query", "schema": {"type": "integer"}},
                        {"name": "q", "in": "query", "schema": {"type": "string"}},
                        {
                            "name": "mode",
                            "in": "query",
                            "schema": {"type": "string", "enum": ["a", "b"]},
                        },
                    ],
                    "responses": {"200": ok},
                },
                "post": {
                    "operationId": "createThing",
                    "tags": ["Things"],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/thing-input"}
                            }
                        },
                    },
                    "responses": {"201": ok},
                },
            },
            "/things/{id}": {
                "delete": {
                    "operationId": "deleteThing",
                    "tags": ["Things"],
                    "parameters": [
                        {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
                    ],
                    "responses": {"204": {"description": "gone"}},
                }
            },
            "/gadgets": {
                "get": {
                    "operationId": "listGadgets",
                    "tags": ["Things"],
                    "responses": {"200": {"description": "ok"}},
                },
                "post": {
                    "operationId": "addGadget",
                    "tags": ["Things"],
                    "responses": {"201": {"description": "ok"}},
                },
            },
        },
        "components": {
            "schemas": {
                "thing": copy.deepcopy(_THING),
                "thing-input": copy.deepcopy(_THING_INPUT),
                "legacy": {"type": "object"},
            }
        },
    }


def small_pair() -> tuple[dict[str, Any], dict[str, Any]]:
    """A small API before and after one change of every kind the classifier knows."""
    before = _small_before()
    after = copy.deepcopy(before)
    _change_things(after)
    _change_models(after)
    return before, after


def _change_things(after: dict[str, Any]) -> None:
    """Operation-level changes: parameters, responses, a rename, a new body, a removed path."""
    listing = after["paths"]["/things"]["get"]
    listing["summary"] = "List things"
    params = listing["parameters"]
    params[1]["required"] = True
    params[2]["schema"]["enum"].remove("b")
    params.append(
        {"name": "new_req", "in": "query", "required": True, "schema": {"type": "string"}}
    )
    params.append({"name": "new_opt", "in": "query", "schema": {"type": "string"}})
    del params[0]
    create = after["paths"]["/things"]["post"]
    create["responses"]["200"] = create["responses"].pop("201")
    delete = after["paths"]["/things/{id}"]["delete"]
    delete["operationId"] = "removeThing"
    delete["requestBody"] = {
        "required": False,
        "content": {
            "application/json": {
                "schema": {"type": "object", "properties": {"why": {"type": "string"}}}
            }
        },
    }
    del after["paths"]["/gadgets"]


def _change_models(after: dict[str, Any]) -> None:
    """Model-level changes on the response side (Thing) and the request side (ThingInput)."""
    schemas = after["components"]["schemas"]
    out = schemas["thing"]["properties"]
    out["state"]["enum"].append("standby")
    out["score"]["type"] = "integer"
    out["id"]["nullable"] = True
    del out["name"]["nullable"]
    out["extra"] = {"type": "string"}
    out["seen_at"]["format"] = "date-time"
    inp = schemas["thing-input"]
    inp["properties"]["size"]["type"] = "integer"
    inp["properties"]["kind"]["enum"].append("z")
    inp["properties"]["name"]["maxLength"] = 50
    del inp["properties"]["note"]
    inp["properties"]["color"] = {"type": "string"}
    inp["properties"]["shape"] = {"type": "string"}
    inp["required"].append("shape")
    inp["anyOf"] = [{"required": ["size"]}, {"required": ["color"]}]  # "provide at least one of"
    del schemas["legacy"]
    schemas["widget"] = {"type": "object"}


# (level, subject, message) for small_pair(), with the SDK names of api_diff.method_namer()
SMALL_EXPECTED: list[tuple[str, str, str]] = [
    ("breaking", "Legacy", "model removed from getsales_async.models"),
    ("breaking", "Thing.id", "response value may now be null"),
    ("breaking", "Thing.seen_at", "response format changed: (none) → `date-time`"),
    ("breaking", "ThingInput.name", "request `maxLength` changed: `100` → `50`"),
    ("breaking", "ThingInput.note", "request field removed"),
    ("breaking", "ThingInput.shape", "required request field added"),
    ("breaking", "ThingInput.size", "request type changed: `number` → `integer`"),
    ("breaking", "ThingInput", "request now needs at least one of: `size` | `color`"),
    ("breaking", "client.things.add_gadget()", "operation removed (POST /gadgets)"),
    ("breaking", "client.things.create()", "success response `201` removed"),
    (
        "breaking",
        "client.things.delete()",
        "method renamed to `client.things.remove()`",
    ),
    ("breaking", "client.things.list_gadgets()", "operation removed (GET /gadgets)"),
    ("breaking", "client.things.list(limit)", "parameter removed"),
    ("breaking", "client.things.list(mode)", "request enum value `b` removed"),
    ("breaking", "client.things.list(new_req)", "required parameter added"),
    ("breaking", "client.things.list(q)", "parameter is now required"),
    ("non-breaking", "Thing.extra", "response field added"),
    ("non-breaking", "Thing.name", "response value is no longer null"),
    ("non-breaking", "Thing.score", "response type changed: `number` → `integer`"),
    ("non-breaking", "Thing.state", "response enum value `standby` added; response enums are open"),
    ("non-breaking", "ThingInput.color", "optional request field added"),
    ("non-breaking", "ThingInput.kind", "request enum value `z` added"),
    ("non-breaking", "Widget", "model added to getsales_async.models"),
    ("non-breaking", "client.things.create()", "response `200` added"),
    ("non-breaking", "client.things.list(new_opt)", "optional parameter added"),
    ("non-breaking", "client.things.remove()", "optional request body added"),
    ("docs", "client.things.list()", "documentation changed"),
]
