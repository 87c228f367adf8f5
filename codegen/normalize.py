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


def rule_operation_ids(doc: dict[str, Json], log: Log) -> None:
    """Every operation gets a unique operationId (missing ones derived from method + path)."""
    seen: dict[str, str] = {}
    for path, method, op in operations(doc):
        op_id = op.get("operationId")
        if not op_id:
            words = [w for w in re.split(r"[^A-Za-z0-9]+", path) if w and w != "api"]
            op_id = method + "".join(w[:1].upper() + w[1:] for w in words)
            log(f"{method.upper()} {path}: no operationId; using {op_id!r}")
            op["operationId"] = op_id
        where = f"{method.upper()} {path}"
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


RULES: list[Callable[[dict[str, Json], Log], None]] = [
    rule_operation_ids,
    rule_parameters,
    rule_array_items,
    rule_unwrap_single_unions,
    rule_validation_only_anyof,
    rule_enums,
    rule_nullable_use_site,
    rule_hoist_nullable_inline_objects,
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
