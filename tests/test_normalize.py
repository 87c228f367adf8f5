"""codegen/normalize.py: the response-type rules (request/response split, optional fields, maps, nullables)."""

from __future__ import annotations

import copy
import sys
from typing import Any

from .conftest import ROOT

sys.path.insert(0, str(ROOT / "codegen"))

from normalize import (
    IDENTIFIER_EXT,
    OPTIONAL_EXT,
    normalize,
    rule_empty_array_as_object,
    rule_nullable_inline_schemas,
    rule_response_optionals,
    rule_split_request_response_schemas,
)

REF = "#/components/schemas/"


def mini_spec() -> dict[str, Any]:
    """Two operations: one sends a `schedule`, one answers a `flow` holding a `schedule`."""

    def body(schema: dict[str, Any]) -> dict[str, Any]:
        return {"content": {"application/json": {"schema": schema}}}

    return {
        "openapi": "3.0.3",
        "paths": {
            "/flows": {
                "post": {
                    "operationId": "createFlow",
                    "requestBody": body(
                        {"type": "object", "properties": {"schedule": {"$ref": REF + "schedule"}}}
                    ),
                    "responses": {"200": {"description": "ok", **body({"$ref": REF + "flow"})}},
                }
            }
        },
        "components": {
            "schemas": {
                "flow": {
                    "type": "object",
                    "required": ["name"],
                    "properties": {
                        "uuid": {"type": "string"},
                        "name": {"type": "string"},
                        "priority": {"type": "integer", "default": 2},
                        "schedule": {"$ref": REF + "schedule"},
                        "stats": {
                            "oneOf": [
                                {"type": "object", "additionalProperties": {"type": "integer"}},
                                {"type": "array", "items": {}},
                            ]
                        },
                    },
                },
                "schedule": {"type": "object", "properties": {"timezone": {"type": "string"}}},
            }
        },
    }


def quiet(_message: str) -> None:
    return None


class TestSplit:
    def test_schema_on_both_sides_gets_a_request_copy(self) -> None:
        """Requests refer to `<name>-param`; responses keep the original name."""
        doc = mini_spec()
        log: list[str] = []
        rule_split_request_response_schemas(doc, log.append)
        schemas = doc["components"]["schemas"]
        assert schemas["schedule-param"] == schemas["schedule"]
        sent = doc["paths"]["/flows"]["post"]["requestBody"]["content"]["application/json"]
        assert sent["schema"]["properties"]["schedule"] == {"$ref": REF + "schedule-param"}
        assert schemas["flow"]["properties"]["schedule"] == {"$ref": REF + "schedule"}
        assert log == [
            "schema 'schedule' is used in requests and responses; requests now use 'schedule-param'"
        ]

    def test_split_is_idempotent(self) -> None:
        """A second pass finds nothing shared."""
        doc = mini_spec()
        rule_split_request_response_schemas(doc, quiet)
        again = copy.deepcopy(doc)
        rule_split_request_response_schemas(again, quiet)
        assert again == doc


class TestResponseOptionals:
    def test_optional_response_fields_become_required_nullable_and_recorded(self) -> None:
        """The generator sees required + nullable; the extension keeps what was optional."""
        doc = mini_spec()
        rule_split_request_response_schemas(doc, quiet)
        rule_response_optionals(doc, quiet)
        flow = doc["components"]["schemas"]["flow"]
        assert flow[OPTIONAL_EXT] == ["priority", "schedule", "stats"]
        assert flow[IDENTIFIER_EXT] == "uuid"
        assert flow["required"] == ["name", "uuid", "priority", "schedule", "stats"]
        assert flow["properties"]["priority"] == {"type": "integer", "nullable": True}
        assert "nullable" not in flow["properties"]["uuid"]

    def test_request_side_schemas_are_left_alone(self) -> None:
        """Request models keep optional fields optional (they become `X | Unset`)."""
        doc = mini_spec()
        rule_split_request_response_schemas(doc, quiet)
        before = copy.deepcopy(doc["components"]["schemas"]["schedule-param"])
        rule_response_optionals(doc, quiet)
        assert doc["components"]["schemas"]["schedule-param"] == before
        assert doc["components"]["schemas"]["schedule"][OPTIONAL_EXT] == ["timezone"]

    def test_all_of_composite_merges_the_optional_names(self) -> None:
        """A page `allOf: [meta, {data}]` lists meta's optional fields, not the required data."""
        doc = mini_spec()
        schemas = doc["components"]["schemas"]
        schemas["meta"] = {"type": "object", "properties": {"total": {"type": "integer"}}}
        schemas["page"] = {
            "allOf": [
                {"$ref": REF + "meta"},
                {
                    "type": "object",
                    "required": ["data"],
                    "properties": {"data": {"type": "array", "items": {}}},
                },
            ]
        }
        doc["paths"]["/flows"]["get"] = {
            "operationId": "listFlows",
            "responses": {
                "200": {
                    "description": "ok",
                    "content": {"application/json": {"schema": {"$ref": REF + "page"}}},
                }
            },
        }
        rule_response_optionals(doc, quiet)
        assert schemas["page"][OPTIONAL_EXT] == ["total"]


class TestMapsAndNullables:
    def test_object_or_untyped_array_union_becomes_the_object(self) -> None:
        """PHP's `[]` alternative is dropped; the map stays, with its value type."""
        doc = mini_spec()
        rule_empty_array_as_object(doc, quiet)
        stats = doc["components"]["schemas"]["flow"]["properties"]["stats"]
        assert stats == {"type": "object", "additionalProperties": {"type": "integer"}}

    def test_a_typed_array_alternative_is_a_real_union_and_stays(self) -> None:
        """`oneOf: [company, [company]]` is not the empty-map quirk."""
        node = {"oneOf": [{"$ref": REF + "c"}, {"type": "array", "items": {"$ref": REF + "c"}}]}
        doc: dict[str, Any] = {"paths": {}, "components": {"schemas": {"x": node}}}
        rule_empty_array_as_object(doc, quiet)
        assert "oneOf" in doc["components"]["schemas"]["x"]

    def test_nullable_inline_enum_becomes_a_titled_union_with_null(self) -> None:
        """The enum keeps its class name through the title; `null` is a union member."""
        status = {"type": "string", "enum": ["on"], "nullable": True, "description": "d"}
        doc: dict[str, Any] = {
            "paths": {},
            "components": {
                "schemas": {"team": {"type": "object", "properties": {"status": status}}}
            },
        }
        rule_nullable_inline_schemas(doc, quiet)
        assert doc["components"]["schemas"]["team"]["properties"]["status"] == {
            "description": "d",
            "oneOf": [{"type": "string", "enum": ["on"], "title": "status"}, {"type": "null"}],
        }

    def test_title_is_left_out_when_it_would_clash_with_a_component(self) -> None:
        """`mailbox.connection_settings` next to a `mailbox-connection-settings` schema."""
        field = {"type": "object", "additionalProperties": True, "nullable": True}
        doc: dict[str, Any] = {
            "paths": {},
            "components": {
                "schemas": {
                    "mailbox": {"type": "object", "properties": {"connection_settings": field}},
                    "mailbox-connection-settings": {"type": "object"},
                }
            },
        }
        rule_nullable_inline_schemas(doc, quiet)
        member = doc["components"]["schemas"]["mailbox"]["properties"]["connection_settings"]
        assert "title" not in member["oneOf"][0]

    def test_whole_pipeline_is_idempotent_on_the_mini_spec(self) -> None:
        """Normalising twice gives the same document."""
        once = normalize(mini_spec(), [], quiet)
        assert normalize(once, [], quiet) == once
