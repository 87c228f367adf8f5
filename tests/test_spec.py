"""The shipped API description (openapi/bundled.yaml) is valid and faithful to the official index."""

from __future__ import annotations

import re
import subprocess
from typing import Any

import pytest
from openapi_spec_validator import validate

from .conftest import ROOT, SPEC_PATH, load_spec, node_tool, operations_table

HTTP_METHODS = ("get", "put", "post", "delete", "patch")
SHARED_ERRORS = {
    "400": "BadRequest",
    "401": "Unauthorized",
    "402": "PaymentRequired",
    "403": "Forbidden",
    "404": "NotFound",
    "422": "UnprocessableEntity",
    "429": "TooManyRequests",
}
RESERVED = {"Response", "Client", "File", "Unset"}


def iter_operations(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, op)
        for path, item in doc["paths"].items()
        for method, op in item.items()
        if method in HTTP_METHODS
    ]


def class_name(schema_name: str) -> str:
    """openapi-python-client's class name for a component schema."""
    words = re.findall(
        r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])", re.sub(r"[^A-Za-z0-9]+", " ", schema_name)
    )
    return "".join(w[:1].upper() + w[1:] for w in words)


class TestValidity:
    def test_spec_validates_with_openapi_spec_validator(self) -> None:
        """The document is valid OpenAPI 3.0.3."""
        validate(load_spec())

    def test_info_and_server_match_the_index(self) -> None:
        """Title, version, server and global security are as the index states."""
        doc = load_spec()
        assert doc["openapi"] == "3.0.3"
        assert doc["info"]["title"] == "GetSales API"
        assert doc["info"]["version"] == "1.0.0"
        assert [s["url"] for s in doc["servers"]] == ["https://amazing.getsales.io"]
        schemes = doc["components"]["securitySchemes"]
        assert schemes["bearerAuth"] == {
            **schemes["bearerAuth"],
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
        }
        assert schemes["teamId"]["type"] == "apiKey"
        assert (schemes["teamId"]["in"], schemes["teamId"]["name"]) == ("header", "Team-ID")
        # Bearer plus Team-ID as the index states; bearer alone also works (keys carry their team).
        assert doc["security"] == [{"bearerAuth": [], "teamId": []}, {"bearerAuth": []}]

    @pytest.mark.node
    def test_spec_lints_with_redocly_without_errors(self) -> None:
        """Redocly CLI (pinned, from node_modules) reports zero errors."""
        redocly = node_tool("redocly")
        proc = subprocess.run(
            [str(redocly), "lint", str(SPEC_PATH), "--format", "stylish"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]


class TestOperations:
    def test_operations_equal_the_official_table(self) -> None:
        """(method, path, operationId, tag) of every operation equals operations.tsv exactly."""
        have = {
            (m.upper(), p, op.get("operationId"), tuple(op.get("tags", [])))
            for m, p, op in iter_operations(load_spec())
        }
        want = {(r["method"], r["path"], r["operationId"], (r["tag"],)) for r in operations_table()}
        assert len(want) == 153
        assert sorted(have - want) == [] and sorted(want - have) == []

    def test_tags_are_declared_with_descriptions(self) -> None:
        """Each of the 28 index sections is a declared tag with its one-line description."""
        doc = load_spec()
        declared = {t["name"]: t.get("description", "") for t in doc["tags"]}
        used = {r["tag"] for r in operations_table()}
        assert set(declared) == used
        assert len(used) == 28
        assert all(declared.values())

    def test_path_parameters_are_declared(self) -> None:
        """Every `{name}` in a path is a declared path parameter and vice versa."""
        doc = load_spec()
        params = doc["components"]["parameters"]
        for method, path, op in iter_operations(doc):
            names = set()
            for p in op.get("parameters", []):
                p = params[p["$ref"].rsplit("/", 1)[1]] if "$ref" in p else p
                if p["in"] == "path":
                    names.add(p["name"])
                    assert p["required"] is True
            assert names == set(re.findall(r"{(\w+)}", path)), (method, path)

    @pytest.mark.parametrize("row", operations_table(), ids=lambda r: r["operationId"])
    def test_operation_has_summary_success_and_shared_errors(self, row: dict[str, str]) -> None:
        """Each operation has a summary, a 2xx response and references every shared error response."""
        op = load_spec()["paths"][row["path"]][row["method"].lower()]
        assert op.get("summary") and op.get("description")
        responses = op["responses"]
        assert any(code.startswith("2") for code in responses)
        for code, name in SHARED_ERRORS.items():
            assert responses.get(code) == {"$ref": f"#/components/responses/{name}"}, code


class TestComponents:
    def test_shared_pagination_parameters(self) -> None:
        """limit (default 20, max 100), offset (0), order_field (created_at), order_type (asc|desc, desc)."""
        doc = load_spec()
        params = doc["components"]["parameters"]
        assert params["limit"]["schema"]["default"] == 20
        assert params["limit"]["schema"]["maximum"] == 100
        assert params["offset"]["schema"]["default"] == 0
        assert params["order_field"]["schema"]["default"] == "created_at"
        order = doc["components"]["schemas"]["order-type"]
        assert order["enum"] == ["asc", "desc"] and order["default"] == "desc"

    def test_error_envelope_shape(self) -> None:
        """The error envelope is {error:{reason,message,data}, message, code}."""
        schemas = load_spec()["components"]["schemas"]
        assert set(schemas["error"]["properties"]) == {"error", "message", "code"}
        assert set(schemas["error-detail"]["properties"]) == {"reason", "message", "data"}

    def test_list_envelopes_are_named_components(self) -> None:
        """Paginated list responses reference named `*-page` components built on page-meta."""
        doc = load_spec()
        schemas = doc["components"]["schemas"]
        pages = [n for n in schemas if n.endswith("-page")]
        assert len(pages) >= 15
        for name in pages:
            refs = [m.get("$ref") for m in schemas[name].get("allOf", [])]
            assert "#/components/schemas/page-meta" in refs, name

    def test_resource_schemas_exist(self) -> None:
        """Every resource the API returns has a named component schema."""
        schemas = load_spec()["components"]["schemas"]
        for name in (
            "lead",
            "company",
            "contact-list",
            "tag",
            "custom-field",
            "pipeline-stage",
            "note",
            "activity",
            "lead-blacklist-entry",
            "company-blacklist-entry",
            "data-source",
            "data-source-metrics",
            "enrichment-queue-entry",
            "file-import",
            "file-export",
            "flow",
            "flow-version",
            "flow-node",
            "contact-source",
            "flow-lead",
            "flow-workspace",
            "sender-profile",
            "task",
            "linkedin-message",
            "email",
            "mailbox",
            "ai-agent",
            "ai-template",
            "linkedin-browser",
            "browser-log",
            "llm-connection",
            "llm-config-options",
            "webhook",
            "user",
            "team",
            "mass-action",
        ):
            assert name in schemas, name

    def test_class_names_are_unique_and_not_reserved(self) -> None:
        """No two schemas collapse to one Python class name; none is Response/Client/File/Unset."""
        names = [class_name(n) for n in load_spec()["components"]["schemas"]]
        assert len(names) == len(set(names))
        assert not RESERVED & set(names)

    def test_every_array_has_items(self) -> None:
        """No `type: array` anywhere lacks `items`."""
        missing: list[str] = []

        def walk(node: Any, where: str) -> None:
            if isinstance(node, dict):
                if node.get("type") == "array" and "items" not in node:
                    missing.append(where)
                for k, v in node.items():
                    walk(v, f"{where}/{k}")
            elif isinstance(node, list):
                for i, v in enumerate(node):
                    walk(v, f"{where}/{i}")

        walk(load_spec(), "#")
        assert missing == []

    def test_no_closed_enums_in_responses(self) -> None:
        """Response schemas carry no enum (known values are documented instead)."""
        doc = load_spec()
        schemas = doc["components"]["schemas"]
        request_only = set()
        for _m, _p, op in iter_operations(doc):
            for param in op.get("parameters", []):
                if "$ref" in param.get("schema", {}):
                    request_only.add(param["schema"]["$ref"])
        found: list[str] = []
        seen: set[str] = set()

        def walk(node: Any, where: str) -> None:
            if isinstance(node, dict):
                if "enum" in node:
                    found.append(where)
                ref = node.get("$ref")
                if (
                    isinstance(ref, str)
                    and ref.startswith("#/components/schemas/")
                    and ref not in seen
                ):
                    seen.add(ref)
                    walk(schemas[ref.rsplit("/", 1)[1]], ref)
                for k, v in node.items():
                    if k != "$ref":
                        walk(v, f"{where}/{k}")
            elif isinstance(node, list):
                for i, v in enumerate(node):
                    walk(v, f"{where}/{i}")

        for method, path, op in iter_operations(doc):
            for code, resp in op["responses"].items():
                if code.startswith("2"):
                    walk(resp, f"{method} {path} {code}")
        assert found == []
