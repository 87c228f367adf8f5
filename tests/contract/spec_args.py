"""Build SDK call arguments for any operation from the spec's parameters and request body schema.

Nothing here is written per operation. :func:`example_value` turns a schema into a valid value:
an enum's first value, else the schema's ``example``, else its ``default``, else a value for its
``format`` (date-time, date, email, uri, uuid; small CSV bytes for ``binary``) or type (integers at
their minimum, one item per array, objects with their required properties). The ``minimal`` set
stops there; the ``full`` set also fills in every optional property and query parameter (nested
up to :data:`MAX_DEPTH` levels).

:func:`call_args` maps the values onto a resource method the way the SDK flattens a request: path
parameters positional (in path order); query parameters and the JSON body's top-level fields as
keyword arguments named like the fields (Python keywords gain a trailing underscore); a
``oneOf``/array request body as one ``body=`` argument. Paginated methods take no ``limit`` or
``offset`` (their paginator sends those).
"""

from __future__ import annotations

import keyword
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "ARGUMENT_SETS",
    "CSV_BYTES",
    "CallArgs",
    "OperationSpec",
    "call_args",
    "example_value",
    "flatten",
    "iter_operations",
    "kwarg_name",
    "resolve",
]

HTTP_METHODS = ("get", "put", "post", "delete", "patch")
ARGUMENT_SETS = ("minimal", "full")
PAGINATION_FIELDS = frozenset({"limit", "offset"})
MAX_DEPTH = 3
STRING = "contract_test"
CSV_BYTES = b"linkedin_id,first_name,work_email\nhttps://www.linkedin.com/in/contract-test,Ada,ada@example.com\n"
FORMATS: dict[str, Any] = {
    "date-time": "2026-01-02T03:04:05Z",
    "date": "2026-01-02",
    "email": "contract@example.com",
    "uri": "https://example.com/contract",
    "url": "https://example.com/contract",
    "uuid": "5f0c1f2e-8d3a-4b7e-9c1d-2a3b4c5d6e7f",
    "binary": CSV_BYTES,
}


@dataclass(frozen=True)
class OperationSpec:
    """One operation of the spec, with path-level parameters merged into its own."""

    operation_id: str
    method: str
    path: str
    operation: dict[str, Any]
    parameters: list[dict[str, Any]]


@dataclass
class CallArgs:
    """Arguments for one resource method call, and the request body they should produce."""

    args: list[Any] = field(default_factory=list)
    kwargs: dict[str, Any] = field(default_factory=dict)
    content_type: str | None = None
    body: Any = None


def resolve(doc: dict[str, Any], node: Any) -> Any:
    """Follow local ``$ref`` pointers (``#/components/...``) until a concrete node is reached."""
    seen: set[str] = set()
    while isinstance(node, dict) and "$ref" in node:
        ref = node["$ref"]
        if not ref.startswith("#/") or ref in seen:
            raise ValueError(f"cannot resolve $ref {ref!r}")
        seen.add(ref)
        target: Any = doc
        for part in ref[2:].split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node = target
    return node


def flatten(doc: dict[str, Any], schema: Any) -> dict[str, Any]:
    """A schema with ``$ref`` resolved and ``allOf`` merged (``oneOf``/``anyOf`` left in place)."""
    schema = resolve(doc, schema)
    if not isinstance(schema, dict):
        return {}
    if "allOf" not in schema:
        return schema
    merged: dict[str, Any] = {k: v for k, v in schema.items() if k != "allOf"}
    properties: dict[str, Any] = dict(merged.get("properties", {}))
    required: list[str] = list(merged.get("required", []))
    for part in map(lambda p: flatten(doc, p), schema["allOf"]):
        properties.update(part.get("properties", {}))
        required += [name for name in part.get("required", []) if name not in required]
        for key, value in part.items():
            if key not in ("properties", "required"):
                merged.setdefault(key, value)
    if properties:
        merged["properties"] = properties
    if required:
        merged["required"] = required
    return merged


def _string(schema: dict[str, Any]) -> Any:
    if schema.get("format") in FORMATS:
        return FORMATS[schema["format"]]
    value = STRING.ljust(schema.get("minLength", 0), "x")[: schema.get("maxLength")]
    pattern = schema.get("pattern")
    if pattern is not None and re.search(pattern, value) is None:
        raise ValueError(
            f"{value!r} does not match pattern {pattern!r}; give the schema an example"
        )
    return value


def _number(schema: dict[str, Any]) -> int | float:
    value = schema.get("minimum", 1)
    if schema.get("exclusiveMinimum") is True:
        value += 1
    if value > schema.get("maximum", value):
        raise ValueError(f"no number >= {value} is <= maximum {schema['maximum']}")
    return int(value) if schema.get("type") == "integer" else float(value)


def example_value(doc: dict[str, Any], schema: Any, *, full: bool = False, depth: int = 0) -> Any:
    """A valid value for ``schema`` (see the module docstring for the rules)."""
    schema = flatten(doc, schema)
    nested = {"full": full, "depth": depth + 1}
    if "enum" in schema:
        return schema["enum"][0]
    if "example" in schema:
        return schema["example"]
    if "default" in schema:
        return schema["default"]
    for union in ("oneOf", "anyOf"):
        if union in schema and required_alternatives(schema) is None:
            return example_value(doc, schema[union][0], **nested)
    kind = schema.get("type")
    if kind is None:  # untyped (e.g. a filter value): any JSON value is valid
        kind = "object" if "properties" in schema else "array" if "items" in schema else "string"
    if kind == "string":
        return _string(schema)
    if kind in ("integer", "number"):
        return _number(schema)
    if kind == "boolean":
        return True
    if kind == "array":
        item = example_value(doc, schema.get("items", {}), **nested)
        return [item] * max(1, schema.get("minItems", 1))
    properties = {name: flatten(doc, s) for name, s in schema.get("properties", {}).items()}
    names = list(schema.get("required", []))
    if full and depth < MAX_DEPTH:
        names += [n for n, s in properties.items() if n not in names and not s.get("readOnly")]
    return {name: example_value(doc, properties.get(name, {}), **nested) for name in names}


def required_alternatives(schema: dict[str, Any]) -> tuple[str, list[list[str]]] | None:
    """(``anyOf``/``oneOf``, its groups) for a validation-only union of bare ``required`` lists."""
    for key in ("anyOf", "oneOf"):
        members = schema.get(key)
        if (
            isinstance(members, list)
            and "properties" in schema
            and all(isinstance(m, dict) and set(m) <= {"required", "description"} for m in members)
        ):
            return key, [list(m.get("required", [])) for m in members]
    return None


def kwarg_name(name: str) -> str:
    """The SDK keyword for a spec field: unchanged, except Python keywords gain a ``_``."""
    return f"{name}_" if keyword.iskeyword(name) else name


def generator_operation_ids(doc: dict[str, Any]) -> dict[tuple[str, str], str]:
    """(method, path) -> operationId as the generator names it (derived where the spec has none)."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "codegen"))
    from normalize import rule_operation_ids

    skeleton = {
        "paths": {
            path: {
                method: {"operationId": op.get("operationId")}
                for method, op in item.items()
                if method in HTTP_METHODS and isinstance(op, dict)
            }
            for path, item in doc["paths"].items()
        }
    }
    rule_operation_ids(skeleton, lambda _message: None)
    return {
        (method, path): str(op["operationId"])
        for path, item in skeleton["paths"].items()
        for method, op in item.items()
    }


def iter_operations(doc: dict[str, Any]) -> dict[str, OperationSpec]:
    """Every operation of the spec by operationId (the generator's, also where the spec has none)."""
    ids = generator_operation_ids(doc)
    out: dict[str, OperationSpec] = {}
    for path, item in doc["paths"].items():
        shared = [resolve(doc, p) for p in item.get("parameters", [])]
        for method, operation in item.items():
            if method not in HTTP_METHODS:
                continue
            own = [resolve(doc, p) for p in operation.get("parameters", [])]
            overridden = {(p["in"], p["name"]) for p in own}
            parameters = [p for p in shared if (p["in"], p["name"]) not in overridden] + own
            op_id = ids[(method, path)]
            out[op_id] = OperationSpec(op_id, method, path, operation, parameters)
    return out


def call_args(
    doc: dict[str, Any], op: OperationSpec, *, paginated: bool, full: bool = False
) -> CallArgs:
    """The arguments that call ``op``'s resource method (minimal, or ``full`` with optionals)."""
    out = CallArgs()
    path_params = {p["name"]: p for p in op.parameters if p["in"] == "path"}
    for name in re.findall(r"{([^}]+)}", op.path):
        out.args.append(example_value(doc, path_params[name].get("schema", {})))
    for param in op.parameters:
        if param["in"] == "path" or not (full or param.get("required")):
            continue
        if paginated and param["name"] in PAGINATION_FIELDS:
            continue
        value = example_value(doc, param.get("schema", {}), full=full)
        out.kwargs[kwarg_name(param["name"])] = value
    body = resolve(doc, op.operation.get("requestBody"))
    if not body:
        return out
    out.content_type, media = next(iter(body["content"].items()))
    schema = flatten(doc, media.get("schema", {}))
    alternatives = required_alternatives(schema)
    if alternatives is None and (
        "oneOf" in schema or "anyOf" in schema or schema.get("type") == "array"
    ):
        out.body = out.kwargs["body"] = example_value(doc, schema, full=full)
        return out
    fields = example_value(doc, schema, full=full)
    # The spec's anyOf/oneOf of required lists ("provide at least one identifier") is checked
    # locally by the SDK: a call gives exactly the first group of them.
    mode, (first, *others) = alternatives or ("anyOf", [[]])
    for group in others if mode == "oneOf" else []:
        for name in set(group) - set(first):
            fields.pop(name, None)
    for name in first:
        if name not in fields:
            prop = schema.get("properties", {}).get(name, {"type": "string"})
            fields[name] = example_value(doc, prop, full=full)
    out.body = {
        name: value
        for name, value in fields.items()
        if not (paginated and name in PAGINATION_FIELDS)
    }
    out.kwargs.update({kwarg_name(name): value for name, value in out.body.items()})
    if not out.body and not body.get("required"):
        out.body = None  # an optional body with no field given is not sent at all
    return out
