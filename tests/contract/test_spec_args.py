"""The spec-driven argument generator produces valid values and maps them the way the SDK does."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from ..conftest import load_spec
from .spec_args import CSV_BYTES, OperationSpec, call_args, example_value, iter_operations

DOC: dict[str, Any] = {
    "components": {
        "schemas": {
            "kind": {"type": "string", "enum": ["b", "a"]},
            "base": {
                "type": "object",
                "required": ["id"],
                "properties": {"id": {"type": "integer", "minimum": 5}},
            },
        }
    }
}


def operation(path: str, *, parameters: Any = (), body: Any = None) -> OperationSpec:
    op: dict[str, Any] = {"operationId": "op"}
    if body is not None:
        op["requestBody"] = {"content": {"application/json": {"schema": body}}}
    return OperationSpec("op", "post", path, op, list(parameters))


class TestExampleValue:
    @pytest.mark.parametrize(
        ("schema", "value"),
        [
            ({"$ref": "#/components/schemas/kind"}, "b"),
            ({"type": "string", "example": "ex", "default": "d"}, "ex"),
            ({"type": "integer", "default": 20, "minimum": 1}, 20),
            ({"type": "integer", "minimum": 3}, 3),
            ({"type": "integer", "minimum": 3, "exclusiveMinimum": True}, 4),
            ({"type": "string", "format": "date-time"}, "2026-01-02T03:04:05Z"),
            ({"type": "string", "format": "date"}, "2026-01-02"),
            ({"type": "string", "format": "email"}, "contract@example.com"),
            ({"type": "string", "format": "uri"}, "https://example.com/contract"),
            ({"type": "string", "format": "binary"}, CSV_BYTES),
            ({"type": "string", "minLength": 20}, "contract_testxxxxxxx"),
            ({"type": "array", "items": {"type": "boolean"}}, [True]),
            ({"oneOf": [{"type": "integer"}, {"type": "string"}]}, 1),
            ({"description": "untyped"}, "contract_test"),
        ],
    )
    def test_value_follows_the_schema(self, schema: dict[str, Any], value: Any) -> None:
        """Enums, examples, defaults, formats, bounds, arrays and unions give the documented value."""
        assert example_value(DOC, schema) == value

    def test_objects_hold_required_fields_unless_full(self) -> None:
        """The minimal set fills required properties only; the full set fills optional ones too."""
        schema = {
            "allOf": [
                {"$ref": "#/components/schemas/base"},
                {"type": "object", "properties": {"note": {"type": "string"}}},
            ]
        }
        assert example_value(DOC, schema) == {"id": 5}
        assert example_value(DOC, schema, full=True) == {"id": 5, "note": "contract_test"}

    def test_unsatisfiable_pattern_is_reported(self) -> None:
        """A pattern the generic string does not match asks for an example instead of guessing."""
        with pytest.raises(ValueError, match="example"):
            example_value(DOC, {"type": "string", "pattern": "^[0-9]+$"})


class TestCallArgs:
    def test_path_params_are_positional_in_path_order(self) -> None:
        """``{flowUuid}`` then ``{leadUuid}`` become the first and second positional arguments."""
        params = [
            {"name": "leadUuid", "in": "path", "required": True, "schema": {"type": "string"}},
            {"name": "flowUuid", "in": "path", "required": True, "schema": {"type": "integer"}},
        ]
        args = call_args(
            DOC, operation("/f/{flowUuid}/l/{leadUuid}", parameters=params), paginated=False
        )
        assert args.args == [1, "contract_test"]

    def test_body_fields_become_keywords_and_keywords_gain_an_underscore(self) -> None:
        """Top-level body fields map to same-named keywords; ``from`` becomes ``from_``."""
        body = {
            "type": "object",
            "required": ["from", "filter", "type"],
            "properties": {
                "from": {"type": "string"},
                "filter": {"type": "object"},
                "type": {"$ref": "#/components/schemas/kind"},
            },
        }
        args = call_args(DOC, operation("/x", body=body), paginated=False)
        assert args.kwargs == {"from_": "contract_test", "filter": {}, "type": "b"}
        assert args.body == {"from": "contract_test", "filter": {}, "type": "b"}

    def test_union_body_is_one_body_argument(self) -> None:
        """A ``oneOf`` request body is passed whole as ``body=``."""
        body = {"oneOf": [{"$ref": "#/components/schemas/base"}, {"type": "array"}]}
        args = call_args(DOC, operation("/x", body=body), paginated=False)
        assert args.kwargs == {"body": {"id": 5}}

    def test_paginated_calls_leave_limit_and_offset_to_the_paginator(self) -> None:
        """``limit``/``offset`` are dropped from query and body for paginated methods."""
        params = [{"name": "limit", "in": "query", "required": True, "schema": {"type": "integer"}}]
        body = {
            "type": "object",
            "required": ["offset", "q"],
            "properties": {"offset": {"type": "integer"}, "q": {"type": "string"}},
        }
        args = call_args(DOC, operation("/x", parameters=params, body=body), paginated=True)
        assert args.kwargs == {"q": "contract_test"}

    def test_every_operation_of_the_spec_gets_arguments(self) -> None:
        """Both argument sets can be generated for all 153 operations of the shipped spec."""
        doc = load_spec()
        operations = iter_operations(doc)
        assert len(operations) == 153
        upstream = copy.deepcopy(doc)
        del upstream["paths"]["/leads/api/tags"]["get"]["operationId"]  # a bundle may lack one
        ids = iter_operations(upstream)
        assert "listTags" in ids and "getLeadsTags" not in ids  # its pinned id (operation_ids.yaml)
        for op in operations.values():
            for full in (False, True):
                call_args(doc, op, paginated=False, full=full)
