"""Normalise an OpenAPI document so openapi-python-client 0.29.1 generates correct code from it.

Two layers, applied in order:

1. **Patches** from ``overrides/patches.yaml``: targeted, documented edits keyed by path + method or
   by JSON pointer (``merge``, ``set`` or ``remove``). A patch whose target is missing is reported
   and skipped, so an upstream bundle that already fixed the problem still generates.
2. **Rules**: generic rewrites that make any GetSales-like bundle safe for the generator
   (see ``RULES`` below and ``overrides/README.md``). They are idempotent: our own snapshot passes
   through them almost unchanged.

The output is deterministic: the same input always gives byte-identical JSON.
"""

from __future__ import annotations

import copy
import json
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import yaml
from spec_facts import CONTENT_TYPE_KEY, REQUIRED_ALTERNATIVES_KEY

__all__ = ["load_spec", "main", "normalize"]

HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
RESERVED_CLASS_NAMES = {"Response", "Client", "AuthenticatedClient", "File", "Unset", "Errors"}
DROPPED_HEADER_PARAMS = {"team-id", "authorization"}

Json = Any
Log = Callable[[str], None]


def load_spec(path: Path) -> dict[str, Json]:
    """Load a YAML or JSON OpenAPI document."""
    text = path.read_text(encoding="utf-8")
    doc = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    if not isinstance(doc, dict) or "paths" not in doc:
        raise SystemExit(
            f"{path}: not an OpenAPI document (no 'paths'); check the file or run `make spec`"
        )
    return doc


# --------------------------------------------------------------------------- helpers


def pascal_case(name: str) -> str:
    """Approximate openapi-python-client's class naming (``pipeline-stage`` -> ``PipelineStage``)."""
    words = re.findall(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])", re.sub(r"[^A-Za-z0-9]+", " ", name))
    return "".join(w[:1].upper() + w[1:] for w in words)


def operations(doc: dict[str, Json]) -> Iterator[tuple[str, str, dict[str, Json]]]:
    for path, item in (doc.get("paths") or {}).items():
        if not isinstance(item, dict):
            continue
        for method in HTTP_METHODS:
            op = item.get(method)
            if isinstance(op, dict):
                yield path, method, op


def walk(node: Json, visit: Callable[[dict[str, Json]], None]) -> None:
    """Call ``visit`` on every mapping in the tree, children after parents."""
    if isinstance(node, dict):
        visit(node)
        for value in list(node.values()):
            walk(value, visit)
    elif isinstance(node, list):
        for value in node:
            walk(value, visit)


def resolve_pointer(doc: Json, pointer: str) -> tuple[Json, str | int]:
    """Return (parent, key) for a JSON pointer; raise KeyError when the parent is missing."""
    parts = [p.replace("~1", "/").replace("~0", "~") for p in pointer.lstrip("/").split("/")]
    node = doc
    for part in parts[:-1]:
        node = node[int(part)] if isinstance(node, list) else node[part]
    last: str | int = int(parts[-1]) if isinstance(node, list) else parts[-1]
    return node, last


def deep_merge(target: dict[str, Json], value: dict[str, Json]) -> None:
    for key, sub in value.items():
        if isinstance(sub, dict) and isinstance(target.get(key), dict):
            deep_merge(target[key], sub)
        else:
            target[key] = copy.deepcopy(sub)


# --------------------------------------------------------------------------- patches


def apply_patches(doc: dict[str, Json], patches: list[dict[str, Json]], log: Log) -> None:
    """Apply the documented patches of ``overrides/patches.yaml``."""
    for patch in patches:
        pid = patch.get("id", "?")
        if not patch.get("why"):
            raise SystemExit(
                f"overrides/patches.yaml: patch {pid!r} has no 'why'; every patch is documented"
            )
        target = patch.get("target") or {}
        pointer = target.get("pointer")
        if "path" in target:
            pointer = "/paths/" + target["path"].replace("~", "~0").replace("/", "~1")
            if "method" in target:
                pointer += "/" + target["method"].lower()
            if target.get("at"):
                pointer += "/" + target["at"].lstrip("/")
        if not pointer:
            raise SystemExit(
                f"overrides/patches.yaml: patch {pid!r} needs target.pointer or target.path"
            )
        kind = patch.get("op", "merge")
        try:
            parent, key = resolve_pointer(doc, pointer)
            if kind == "remove":
                del parent[key]
            elif kind == "set":
                parent[key] = copy.deepcopy(patch["value"])
            elif kind == "merge":
                if not isinstance(parent[key], dict):
                    raise TypeError("merge target is not an object")
                deep_merge(parent[key], patch["value"])
            else:
                raise SystemExit(f"overrides/patches.yaml: patch {pid!r}: unknown op {kind!r}")
        except (KeyError, IndexError, TypeError) as exc:
            log(f"patch {pid}: target {pointer} not applicable ({exc}); skipped")


# --------------------------------------------------------------------------- rules


PINNED_OPERATION_IDS = Path(__file__).resolve().parent.parent / "overrides" / "operation_ids.yaml"


def _pinned_operation_ids() -> dict[str, str]:
    """``"METHOD /path"`` -> operationId, from ``overrides/operation_ids.yaml`` (may be absent)."""
    if not PINNED_OPERATION_IDS.exists():
        return {}
    pinned = yaml.safe_load(PINNED_OPERATION_IDS.read_text(encoding="utf-8")) or {}
    return {str(k): str(v) for k, v in pinned.items()}


def rule_operation_ids(doc: dict[str, Json], log: Log) -> None:
    """Every operation gets a unique operationId.

    A missing one is the pinned id of its endpoint (``overrides/operation_ids.yaml``), so the SDK
    method keeps its name and facts; an endpoint without a pin gets one derived from method + path.
    """
    seen: dict[str, str] = {}
    pinned = _pinned_operation_ids()
    for path, method, op in operations(doc):
        op_id = op.get("operationId")
        where = f"{method.upper()} {path}"
        if not op_id and pinned.get(where):
            op_id = pinned[where]
            log(f"{where}: no operationId; using the pinned {op_id!r}")
            op["operationId"] = op_id
        elif not op_id:
            words = [w for w in re.split(r"[^A-Za-z0-9]+", path) if w and w != "api"]
            op_id = method + "".join(w[:1].upper() + w[1:] for w in words)
            log(f"{where}: no operationId; using {op_id!r}")
            op["operationId"] = op_id
        if op_id in seen:
            new_id = f"{op_id}{method.capitalize()}"
            n = 2
            while new_id in seen:
                new_id = f"{op_id}{method.capitalize()}{n}"
                n += 1
            log(f"{where}: operationId {op_id!r} also used by {seen[op_id]}; renamed to {new_id!r}")
            op["operationId"] = op_id = new_id
        seen[op_id] = where


def rule_parameters(doc: dict[str, Json], log: Log) -> None:
    """Drop auth header parameters (the client sets them); turn ``content:`` params into ``schema:``."""

    def fix(params: list[Json], where: str) -> list[Json]:
        out = []
        for param in params:
            if isinstance(param, dict) and "$ref" not in param:
                if (
                    param.get("in") == "header"
                    and str(param.get("name", "")).lower() in DROPPED_HEADER_PARAMS
                ):
                    log(f"{where}: dropped header parameter {param['name']!r} (set by the client)")
                    continue
                if "content" in param and "schema" not in param:
                    content_parameter_to_schema(param)
            out.append(param)
        return out

    for path, item in (doc.get("paths") or {}).items():
        if isinstance(item, dict) and isinstance(item.get("parameters"), list):
            item["parameters"] = fix(item["parameters"], path)
    for path, method, op in operations(doc):
        if isinstance(op.get("parameters"), list):
            op["parameters"] = fix(op["parameters"], f"{method.upper()} {path}")
    comp = (doc.get("components") or {}).get("parameters") or {}
    for name in list(comp):
        if fix([comp[name]], f"components/parameters/{name}") == []:
            del comp[name]
            # references to a dropped shared header parameter must go too
            ref = f"#/components/parameters/{name}"

            def drop(node: dict[str, Json], ref: str = ref) -> None:
                params = node.get("parameters")
                if isinstance(params, list):
                    node["parameters"] = [
                        p for p in params if not (isinstance(p, dict) and p.get("$ref") == ref)
                    ]

            walk(doc.get("paths"), drop)


def content_parameter_to_schema(param: dict[str, Json]) -> None:
    """A ``content:`` parameter becomes a ``schema:`` one that remembers its media type.

    openapi-python-client drops ``content:`` parameters silently (#1464); the endpoint template
    reads ``x-getsales-content-type`` back (``codegen/spec_facts.py``) and serialises the value per
    its media type (``application/json``: one JSON string, ``p={"a":1}``).
    """
    media_type, media = next(iter(param["content"].items()), ("", {}))
    param["schema"] = (media or {}).get("schema", {"type": "string"})
    param[CONTENT_TYPE_KEY] = str(media_type)
    del param["content"]


def rule_array_items(doc: dict[str, Json], log: Log) -> None:
    """Arrays without ``items`` (invalid in 3.0) get ``items: {}``."""

    def visit(node: dict[str, Json]) -> None:
        if node.get("type") == "array" and "items" not in node:
            node["items"] = {}

    walk(doc, visit)


def rule_unwrap_single_unions(doc: dict[str, Json], log: Log) -> None:
    """``oneOf``/``anyOf`` with one member becomes ``allOf`` with that member."""

    def visit(node: dict[str, Json]) -> None:
        for key in ("oneOf", "anyOf"):
            members = node.get(key)
            if isinstance(members, list) and len(members) == 1:
                node.pop(key)
                node.setdefault("allOf", []).append(members[0])

    walk(doc, visit)


def rule_validation_only_anyof(doc: dict[str, Json], log: Log) -> None:
    """``anyOf`` of bare ``required`` lists beside ``properties`` (a validation idiom) is dropped.

    The generator would turn the typed object into a union of ``Any``; the rule it expresses
    (at least one of several fields) is checked by the overlay instead.
    """

    def visit(node: dict[str, Json]) -> None:
        for key in ("anyOf", "oneOf"):
            members = node.get(key)
            if (
                isinstance(members, list)
                and "properties" in node
                and all(
                    isinstance(m, dict) and set(m) <= {"required", "description"} for m in members
                )
            ):
                record_required_alternatives(node, key, members)

    walk(doc, visit)


def record_required_alternatives(node: dict[str, Json], key: str, members: list[Json]) -> None:
    """Move a validation-only ``anyOf``/``oneOf`` into ``x-getsales-required-alternatives``.

    The resource generator turns it into a local check (``Operation.require_any_of`` /
    ``require_one_of``) and the description states the rule for the docs.
    """
    groups = [[str(f) for f in m.get("required", [])] for m in members]
    node.pop(key)
    node.setdefault(REQUIRED_ALTERNATIVES_KEY, {})[key] = groups
    alternatives = " | ".join("+".join(g) for g in groups)
    how_many = "exactly" if key == "oneOf" else "at least"
    node["description"] = (
        node.get("description", "") + f"\n\nProvide {how_many} one of: {alternatives}."
    ).strip()


def rule_enums(doc: dict[str, Json], log: Log) -> None:
    """Enums: ``null`` entries become ``nullable``; mixed-type enums lose the enum (they would remove the model)."""

    def visit(node: dict[str, Json]) -> None:
        values = node.get("enum")
        if not isinstance(values, list):
            return
        if None in values:
            node["enum"] = [v for v in values if v is not None]
            node["nullable"] = True
        kinds = {type(v) for v in node["enum"]}
        if len(kinds) > 1:
            node.pop("enum")
            node.setdefault("description", f"Known values: {', '.join(map(str, values))}.")

    walk(doc, visit)


def rule_nullable_use_site(doc: dict[str, Json], log: Log) -> None:
    """Nullability lives at the use site: ``{nullable: true, allOf: [{$ref}]}``.

    Component schemas lose ``nullable`` and every reference to them becomes nullable instead;
    a ``$ref`` with a ``nullable`` sibling is wrapped in ``allOf``.
    """
    schemas = (doc.get("components") or {}).get("schemas") or {}
    nullable_components = {
        name for name, s in schemas.items() if isinstance(s, dict) and s.pop("nullable", False)
    }
    refs = {f"#/components/schemas/{name}" for name in nullable_components}

    def wrap(node: dict[str, Json]) -> None:
        for key, value in list(node.items()):
            if key == "allOf" and node.get("nullable") and len(value) == 1:
                continue  # already the use-site form {nullable: true, allOf: [{$ref}]}
            targets: list[tuple[Any, Any]] = []
            if isinstance(value, dict):
                targets.append((node, key))
            elif isinstance(value, list):
                targets.extend((value, i) for i in range(len(value)))
            for parent, k in targets:
                sub = parent[k]
                if not isinstance(sub, dict) or "$ref" not in sub:
                    continue
                if sub["$ref"] in refs or sub.get("nullable"):
                    wrapped = {k2: v for k2, v in sub.items() if k2 not in ("$ref", "nullable")}
                    wrapped["nullable"] = True
                    wrapped["allOf"] = [{"$ref": sub["$ref"]}]
                    parent[k] = wrapped

    walk(doc, wrap)


def rule_hoist_nullable_inline_objects(doc: dict[str, Json], log: Log) -> None:
    """A nullable inline object with properties inside a component is hoisted into its own component.

    openapi-python-client 0.29.1 otherwise emits duplicate models and drops the parent (#1121).
    """
    schemas = (doc.get("components") or {}).get("schemas") or {}
    queue = list(schemas.items())
    while queue:
        owner, schema = queue.pop(0)

        def visit(node: dict[str, Json], owner: str = owner) -> None:
            for prop, sub in list((node.get("properties") or {}).items()):
                if (
                    isinstance(sub, dict)
                    and sub.get("nullable")
                    and "properties" in sub
                    and "$ref" not in sub
                ):
                    name = f"{owner}-{prop}"
                    n = 2
                    while name in schemas:
                        name = f"{owner}-{prop}-{n}"
                        n += 1
                    hoisted = {k: v for k, v in sub.items() if k != "nullable"}
                    schemas[name] = hoisted
                    queue.append((name, hoisted))
                    node["properties"][prop] = {
                        "nullable": True,
                        "allOf": [{"$ref": f"#/components/schemas/{name}"}],
                    }
                    log(
                        f"hoisted nullable inline object {owner}.{prop} into components/schemas/{name}"
                    )

        walk(schema, visit)


def rule_schema_names(doc: dict[str, Json], log: Log) -> None:
    """Rename schemas whose class name is reserved or collides with another schema's class name."""
    schemas = (doc.get("components") or {}).get("schemas") or {}
    taken: dict[str, str] = {}
    renames: dict[str, str] = {}
    for name in list(schemas):
        cls = pascal_case(name)
        new = name
        n = 1
        while cls in RESERVED_CLASS_NAMES or cls in taken:
            new = f"{name}-model" if n == 1 else f"{name}-model-{n}"
            cls = pascal_case(new)
            n += 1
        if new != name:
            why = (
                "reserved"
                if pascal_case(name) in RESERVED_CLASS_NAMES
                else f"collides with {taken[pascal_case(name)]!r}"
            )
            log(f"schema {name!r} renamed to {new!r} (class name {pascal_case(name)} {why})")
            renames[name] = new
        taken[cls] = new
    if not renames:
        return
    doc["components"]["schemas"] = {renames.get(k, k): v for k, v in schemas.items()}
    mapping = {
        f"#/components/schemas/{old}": f"#/components/schemas/{new}" for old, new in renames.items()
    }

    def visit(node: dict[str, Json]) -> None:
        ref = node.get("$ref")
        if isinstance(ref, str) and ref in mapping:
            node["$ref"] = mapping[ref]

    walk(doc, visit)


# --------------------------------------------------------------------------- response types
#
# Issue 15 (typed responses) and issue 18 (nullable enums). Models users read from responses type
# an optional field ``X | None`` (absent or null -> None) and carry their identifier as a plain
# required ``str``/``int``; request models keep ``X | Unset``. openapi-python-client types a
# property without ``Unset`` only when it is *required*, so on the response side every optional
# property becomes required + nullable, and the names that were really optional are recorded in
# ``x-getsales-optional``: ``overrides/templates/model.py.jinja`` gives exactly those a ``None``
# default, reads them with ``d.pop(name, None)`` and leaves them out of ``to_dict`` when None.
# Never validate payloads against the normalised document: its response ``required`` lists are
# the generator's, not the API's.

SCHEMA_REF = "#/components/schemas/"
OPTIONAL_EXT = "x-getsales-optional"
IDENTIFIER_EXT = "x-getsales-identifier"
REQUEST_VARIANT_SUFFIX = "-param"
COMPOSITES = ("allOf", "oneOf", "anyOf")


def _ref_name(node: Json) -> str | None:
    ref = node.get("$ref") if isinstance(node, dict) else None
    if isinstance(ref, str) and ref.startswith(SCHEMA_REF):
        return ref[len(SCHEMA_REF) :]
    return None


def _schema_refs(node: Json) -> set[str]:
    found: set[str] = set()

    def visit(sub: dict[str, Json]) -> None:
        name = _ref_name(sub)
        if name is not None:
            found.add(name)

    walk(node, visit)
    return found


def _closure(schemas: dict[str, Json], start: set[str]) -> set[str]:
    seen: set[str] = set()
    todo = sorted(start)
    while todo:
        name = todo.pop()
        if name in seen or name not in schemas:
            continue
        seen.add(name)
        todo.extend(sorted(_schema_refs(schemas[name]) - seen))
    return seen


def request_roots(doc: dict[str, Json]) -> list[Json]:
    """Everything a client sends: request bodies and parameters (operation, path item, shared)."""
    roots: list[Json] = []
    for item in (doc.get("paths") or {}).values():
        if isinstance(item, dict):
            roots.append(item.get("parameters"))
    for _path, _method, op in operations(doc):
        roots.extend([op.get("requestBody"), op.get("parameters")])
    components = doc.get("components") or {}
    roots.extend([components.get("parameters"), components.get("requestBodies")])
    return [r for r in roots if r]


def response_roots(doc: dict[str, Json]) -> list[Json]:
    """Everything the API answers: operation responses and shared responses."""
    roots: list[Json] = [op.get("responses") for _p, _m, op in operations(doc)]
    roots.append((doc.get("components") or {}).get("responses"))
    return [r for r in roots if r]


def schema_sides(doc: dict[str, Json]) -> tuple[set[str], set[str]]:
    """(component schemas reachable from requests, those reachable from responses)."""
    schemas = (doc.get("components") or {}).get("schemas") or {}
    request = _closure(schemas, set().union(*map(_schema_refs, request_roots(doc))))
    response = _closure(schemas, set().union(*map(_schema_refs, response_roots(doc))))
    return request, response


def _has_properties(schema: Json) -> bool:
    """Whether a schema holds an object with properties (whose fields differ by side)."""
    return any("properties" in node for node in _inline_schemas(schema))


def rule_split_request_response_schemas(doc: dict[str, Json], log: Log) -> None:
    """A schema used in requests and responses gets a request copy named ``<name>-param``.

    The response side keeps the name (``Schedule``: what users read, typed ``X | None``); requests
    use the copy (``ScheduleParam``: what users build, ``X | Unset``), as openai-python's
    ``*Param`` types. References from request bodies, parameters and request-only schemas move
    to the copy.
    """
    schemas = (doc.get("components") or {}).get("schemas") or {}
    request, response = schema_sides(doc)
    # enums and other property-less schemas read the same on both sides: no copy
    shared = sorted(
        name
        for name in request & response
        if any(_has_properties(schemas[n]) for n in _closure(schemas, {name}))
    )
    if not shared:
        return
    mapping: dict[str, str] = {}
    for name in shared:
        new = name + REQUEST_VARIANT_SUFFIX
        n = 2
        while new in schemas:
            new = f"{name}{REQUEST_VARIANT_SUFFIX}-{n}"
            n += 1
        schemas[new] = copy.deepcopy(schemas[name])
        mapping[SCHEMA_REF + name] = SCHEMA_REF + new
        log(f"schema {name!r} is used in requests and responses; requests now use {new!r}")

    def visit(node: dict[str, Json]) -> None:
        ref = node.get("$ref")
        if isinstance(ref, str) and ref in mapping:
            node["$ref"] = mapping[ref]

    for root in request_roots(doc):
        walk(root, visit)
    for name in sorted(request - response) + [m[len(SCHEMA_REF) :] for m in mapping.values()]:
        walk(schemas[name], visit)


def _is_untyped_array(node: Json) -> bool:
    return (
        isinstance(node, dict)
        and node.get("type") == "array"
        and node.get("items") in ({}, None)
        and set(node) <= {"type", "items", "description", "maxItems"}
    )


def _is_objectish(node: Json) -> bool:
    return isinstance(node, dict) and (
        "$ref" in node
        or node.get("type") == "object"
        or any(k in node for k in ("allOf", "properties", "additionalProperties"))
    )


def rule_empty_array_as_object(doc: dict[str, Json], log: Log) -> None:
    """``oneOf: [<object or map>, <untyped array>]`` (PHP's ``[]`` for an empty map) -> the object.

    The generated models read ``[]`` as ``{}`` (``dict([]) == {}``), so the field is one mapping
    type everywhere instead of ``Map | list[Any]``, at any depth.
    """

    def visit(node: dict[str, Json]) -> None:
        for key in ("oneOf", "anyOf"):
            members = node.get(key)
            if not (isinstance(members, list) and len(members) == 2):
                continue
            arrays = [m for m in members if _is_untyped_array(m)]
            objects = [m for m in members if _is_objectish(m)]
            if len(arrays) != 1 or len(objects) != 1:
                continue
            node.pop(key)
            obj = copy.deepcopy(objects[0])
            if "$ref" in obj and not node:
                node.update(obj)
            elif "$ref" in obj:
                node["allOf"] = [{"$ref": obj.pop("$ref")}]
                node.update({k: v for k, v in obj.items() if k not in node})
            else:
                node.update({k: v for k, v in obj.items() if k not in node})

    walk(doc, visit)


def _child_schemas(node: dict[str, Json]) -> Iterator[Json]:
    """The inline sub-schemas of a schema (properties, items, maps, composites), not refs."""
    props = node.get("properties")
    if isinstance(props, dict):
        yield from props.values()
    for key in ("items", "additionalProperties", "not"):
        if isinstance(node.get(key), dict):
            yield node[key]
    for key in COMPOSITES:
        if isinstance(node.get(key), list):
            yield from node[key]


def _inline_schemas(node: Json) -> Iterator[dict[str, Json]]:
    """``node`` and every inline schema below it (depth first), stopping at ``$ref``."""
    if not isinstance(node, dict) or "$ref" in node:
        return
    yield node
    for child in _child_schemas(node):
        yield from _inline_schemas(child)


def _content_schemas(responses: Json) -> Iterator[Json]:
    for response in (responses or {}).values() if isinstance(responses, dict) else []:
        for media in ((response or {}).get("content") or {}).values():
            if isinstance(media, dict) and isinstance(media.get("schema"), dict):
                yield media["schema"]


def _identifier(schema: dict[str, Json]) -> str | None:
    """A resource's own identifier: ``uuid`` (string), else ``id`` (integer)."""
    props = schema.get("properties") or {}
    if (props.get("uuid") or {}).get("type") == "string":
        return "uuid"
    if (props.get("id") or {}).get("type") == "integer":
        return "id"
    return None


def _mark_response_object(node: dict[str, Json], identifier: str | None) -> None:
    props = node.get("properties")
    if not isinstance(props, dict) or OPTIONAL_EXT in node:
        return
    required = [r for r in node.get("required") or [] if r in props]
    optional: list[str] = []
    for name, sub in props.items():
        if name in required or name == identifier or not isinstance(sub, dict):
            continue
        sub["nullable"] = True
        sub.pop("default", None)
        optional.append(name)
    if identifier is not None:
        props[identifier].pop("nullable", None)
        node[IDENTIFIER_EXT] = identifier
        if identifier not in required:
            required.append(identifier)
    node["required"] = required + optional
    node[OPTIONAL_EXT] = optional


def _merged_fields(
    node: dict[str, Json], schemas: dict[str, Json], depth: int = 0
) -> tuple[set[str], set[str]]:
    """(every property name, the required ones) of a schema with its ``allOf`` members merged."""
    props = set(node.get("properties") or {})
    required = props - set(node.get(OPTIONAL_EXT) or [])
    for member in node.get("allOf") or [] if depth < 32 else []:
        name = _ref_name(member)
        target = schemas.get(name) if name else member
        if isinstance(target, dict):
            sub_props, sub_required = _merged_fields(target, schemas, depth + 1)
            props |= sub_props
            required |= sub_required
    return props, required


def _merged_identifier(node: dict[str, Json], schemas: dict[str, Json]) -> str | None:
    for member in node.get("allOf") or []:
        target = schemas.get(_ref_name(member) or "") or member
        if isinstance(target, dict) and target.get(IDENTIFIER_EXT):
            return str(target[IDENTIFIER_EXT])
    return None


def rule_response_optionals(doc: dict[str, Json], log: Log) -> None:
    """Response-side objects: optional properties become required + nullable (see above).

    Runs after the request/response split, so every schema is on one side. A response-side
    component with a ``uuid`` (or integer ``id``) property is a resource: that identifier is
    required and not nullable. ``allOf`` composites get the merged list of optional names.
    """
    schemas = (doc.get("components") or {}).get("schemas") or {}
    request, _response = schema_sides(doc)
    nodes: list[dict[str, Json]] = []
    for name, schema in schemas.items():
        if name in request or not isinstance(schema, dict):
            continue
        ident = _identifier(schema)
        for node in _inline_schemas(schema):
            _mark_response_object(node, ident if node is schema else None)
            nodes.append(node)
    for responses in response_roots(doc):
        for content in _content_schemas(responses):
            for node in _inline_schemas(content):
                _mark_response_object(node, None)
                nodes.append(node)
    for node in nodes:
        members = node.get("allOf") or []
        if len(members) > 1 or (members and node.get("properties")):
            props, required = _merged_fields(node, schemas)
            node[OPTIONAL_EXT] = sorted(props - required)
            ident = node.get(IDENTIFIER_EXT) or _merged_identifier(node, schemas)
            if ident and ident in props:
                node[IDENTIFIER_EXT] = ident


def _needs_titled_union(sub: Json) -> bool:
    """A nullable inline enum, array or object: the generator mishandles or misnames it."""
    return (
        isinstance(sub, dict)
        and bool(sub.get("nullable"))
        and "$ref" not in sub
        and not any(k in sub for k in COMPOSITES)
        and (
            isinstance(sub.get("enum"), list)
            or sub.get("type") in ("array", "object")
            or "properties" in sub
            or "additionalProperties" in sub
        )
    )


def _title_items(schema: dict[str, Json], name: str) -> None:
    """Name inline array items as the generator would outside a union (``<name>_item``)."""
    items = schema.get("items")
    if not isinstance(items, dict) or "$ref" in items:
        return
    if (
        isinstance(items.get("enum"), list)
        or items.get("type") == "object"
        or "properties" in items
    ):
        items.setdefault("title", f"{name}_item")
    if items.get("type") == "array":
        _title_items(items, f"{name}_item")


def _titled_union(sub: dict[str, Json], name: str | None) -> dict[str, Json]:
    member = {k: v for k, v in sub.items() if k not in ("nullable", "description", "default")}
    if name is not None:
        member.setdefault("title", name)
        _title_items(member, name)
    out = {k: v for k, v in sub.items() if k in ("description", "default")}
    out["oneOf"] = [member, {"type": "null"}]
    return out


def rule_nullable_inline_schemas(doc: dict[str, Json], log: Log) -> None:
    """A nullable inline enum, array or object becomes ``oneOf: [<schema, titled>, {type: null}]``.

    openapi-python-client 0.29.1 ignores ``nullable`` on an enum, so ``null`` raised
    ``ValueError`` (#1405) and failed a whole page; the union parses ``null`` as ``None`` and the
    open enum still keeps unknown values (request and response side). For arrays and objects the
    generator's own union would be named ``<Parent><Field>Type0``; the title keeps the names
    a non-nullable field gets (``TeamStatus``, ``LeadSearchResultFlowsItem``). Component schemas
    are nullable at the use site instead (``rule_nullable_use_site``).
    """

    schemas = (doc.get("components") or {}).get("schemas") or {}
    taken = {pascal_case(name) for name in schemas}

    def visit(node: dict[str, Json], owner: str | None = None) -> None:
        props = node.get("properties")
        if isinstance(props, dict):
            for name in list(props):
                if _needs_titled_union(props[name]):
                    # a component's field named like another component keeps the generator's name
                    clash = owner is not None and pascal_case(f"{owner}-{name}") in taken
                    props[name] = _titled_union(props[name], None if clash else name)
        for key in ("items", "additionalProperties"):
            if _needs_titled_union(node.get(key)):
                node[key] = _titled_union(node[key], None)

    for owner, schema in schemas.items():
        if isinstance(schema, dict):
            visit(schema, owner)
        walk(schema, visit)
    walk(doc.get("paths"), visit)


def rule_nullable_allof_drop_type(doc: dict[str, Json], log: Log) -> None:
    """A field ``{nullable: true, allOf: [{$ref}], type: object}`` loses ``type``.

    With a ``type`` beside it the generator follows the reference and drops the nullability, so
    ``null`` failed parsing (``Team.from_dict({"features": None})`` raised ``TypeError``). Only
    fields, items and map values: whether a whole response body may be ``null`` is the resource
    layer's decision (``codegen/resources.py`` reads it from the declared model).
    """

    def fix(sub: Json) -> None:
        if not isinstance(sub, dict):
            return
        members = sub.get("allOf")
        if (
            sub.get("nullable")
            and "type" in sub
            and isinstance(members, list)
            and len(members) == 1
            and _ref_name(members[0])
        ):
            sub.pop("type")

    def visit(node: dict[str, Json]) -> None:
        props = node.get("properties")
        for sub in props.values() if isinstance(props, dict) else []:
            fix(sub)
        for key in ("items", "additionalProperties"):
            fix(node.get(key))
        for key in COMPOSITES:
            members = node.get(key)
            for sub in members if isinstance(members, list) else []:
                fix(sub)

    walk(doc, visit)


RULES: list[Callable[[dict[str, Json], Log], None]] = [
    rule_operation_ids,
    rule_parameters,
    rule_array_items,
    rule_unwrap_single_unions,
    rule_validation_only_anyof,
    rule_empty_array_as_object,
    rule_enums,
    rule_split_request_response_schemas,
    rule_response_optionals,
    rule_nullable_use_site,
    rule_nullable_allof_drop_type,
    rule_hoist_nullable_inline_objects,
    rule_nullable_inline_schemas,
    rule_schema_names,
]


def normalize(doc: dict[str, Json], patches: list[dict[str, Json]], log: Log) -> dict[str, Json]:
    """Return a normalised copy of ``doc``."""
    out = copy.deepcopy(doc)
    apply_patches(out, patches, log)
    for rule in RULES:
        rule(out, log)
    return out


def load_patches(path: Path) -> list[dict[str, Json]]:
    if not path.exists():
        return []
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    patches = data.get("patches") or []
    if not isinstance(patches, list):
        raise SystemExit(f"{path}: 'patches' must be a list")
    return patches


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("spec", type=Path)
    parser.add_argument("output", type=Path)
    parser.add_argument(
        "--patches",
        type=Path,
        default=Path(__file__).resolve().parent.parent / "overrides" / "patches.yaml",
    )
    args = parser.parse_args(argv)
    doc = normalize(
        load_spec(args.spec),
        load_patches(args.patches),
        lambda m: print(f"normalize: {m}", file=sys.stderr),
    )
    args.output.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
