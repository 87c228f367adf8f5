"""Collect every fact about each operation: from openapi-python-client's parse, the spec, overrides.

:func:`collect` walks the parsed project's endpoints and returns, per resource attribute, one
:class:`Op` per operation: the method's parameters (names, types, how each argument is coerced)
and the descriptor facts that ``codegen/resources.py`` renders into the ``OPERATIONS`` table
(``getsales_async/_operation.py`` documents each field). The choices that are not in the spec
come from ``overrides/resources.yaml`` (:class:`ResourceConfig`).
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from spec_facts import SpecOperation, path_key, snake, spec_operations, spec_text

__all__ = ["GEN", "Op", "Param", "ResourceConfig", "collect", "pascal"]

GEN = "getsales_async._generated"
PAGINATION_FIELDS = ("limit", "offset")
NOT_LISTED = "not listed in overrides/resources.yaml: never repeated"
RESERVED_METHODS = frozenset({"with_raw_response"})


@dataclass
class ResourceConfig:
    """The choices of ``overrides/resources.yaml`` (see the comments there)."""

    resources: dict[str, dict[str, Any]]
    methods: dict[str, str]
    get_rule: str
    get_exceptions: dict[str, str]
    safe_to_repeat: dict[str, str]
    not_safe_to_repeat: dict[str, str]
    none_when_not_found: list[str] = field(default_factory=list)
    send_defaults: dict[str, dict[str, Any]] = field(default_factory=dict)
    pairs_to_map: dict[str, list[str]] = field(default_factory=dict)
    search_window: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> ResourceConfig:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        idem = data.get("idempotency") or {}
        config = cls(
            resources=data.get("resources") or {},
            methods=data.get("methods") or {},
            get_rule=str(idem.get("get_rule") or ""),
            get_exceptions=dict(idem.get("get_exceptions") or {}),
            safe_to_repeat=dict(idem.get("safe_to_repeat") or {}),
            not_safe_to_repeat=dict(idem.get("not_safe_to_repeat") or {}),
            none_when_not_found=list(data.get("none_when_not_found") or []),
            send_defaults=dict(data.get("send_defaults") or {}),
            pairs_to_map=dict(data.get("pairs_to_map") or {}),
            search_window=dict(data.get("search_window") or {}),
        )
        both = sorted(set(config.safe_to_repeat) & set(config.not_safe_to_repeat))
        if both:
            raise ValueError(f"overrides/resources.yaml: {both} listed as both safe and not safe")
        return config

    def idempotency(self, operation_id: str, http_method: str) -> tuple[bool, str]:
        """Whether ``operation_id`` may be repeated, and the fact that says so."""
        if http_method == "GET" and operation_id not in self.get_exceptions:
            return True, self.get_rule
        if operation_id in self.safe_to_repeat:
            return True, self.safe_to_repeat[operation_id]
        for table in (self.get_exceptions, self.not_safe_to_repeat):
            if operation_id in table:
                return False, table[operation_id]
        return False, NOT_LISTED


def pascal(name: str) -> str:
    return "".join(w[:1].upper() + w[1:] for w in snake(name).split("_"))


@dataclass
class Param:
    """One method parameter."""

    name: str  # our keyword name (the wire name where it is a valid non-keyword identifier)
    gen: str  # the generated code's python name (`filter_`, `type_`)
    wire: str
    type: str
    required: bool
    default: str | None = None  # python code
    coerce: str = "plain"  # plain | enum | model | filter | file
    cls: str | None = None  # the enum or model class for enum/model/filter
    module: str | None = None  # the models module defining `cls`


@dataclass
class Op:
    """One operation: the method to render and its descriptor facts."""

    operation_id: str
    http_method: str
    path: str
    summary: str
    description: str
    endpoint: str  # module below getsales_async._generated.api
    path_params: list[Param]
    query_params: list[Param]
    body_kind: str = "none"  # none | model | whole
    body_required: bool = True
    multipart: bool = False
    body_class: str | None = None
    body_module: str | None = None
    body_fields: list[Param] = field(default_factory=list)
    body_whole_type: str | None = None
    body_whole_model: str | None = None
    body_whole_module: str | None = None
    return_type: str = "None"
    item_type: str | None = None
    type_imports: set[str] = field(default_factory=set)
    # descriptor facts
    resource: str = ""
    method_name: str = ""
    idempotent: bool = False
    idempotency: str = ""
    result: str = "json"  # json | none | file
    nullable: bool = False
    none_when_not_found: bool = False
    shapes: list[str] = field(default_factory=list)
    declared_status: int = 200
    accept: str | None = None
    page_kind: str | None = None
    page_in: str | None = None
    require_any_of: list[list[str]] = field(default_factory=list)
    require_one_of: list[list[str]] = field(default_factory=list)
    search_window: int | None = None

    @property
    def keyword_params(self) -> list[Param]:
        return self.query_params + (self.body_fields if self.body_kind == "model" else [])


# ----------------------------------------------------------------------------- parameters


def _code(value: Any) -> str:
    """Source code of a generator ``PythonCode`` (type strings, defaults)."""
    getter = getattr(value, "as_unembedded_code", None)
    return str(getter() if getter else value)


def _kind(prop: Any) -> str:
    return str(prop.__class__.__name__)


def builtin_list(text: str) -> str:
    """Resource classes have methods named `list`, which would shadow the builtin in annotations."""
    return re.sub(r"\blist\[", "builtins.list[", text)


def _is_uuid_name(wire: str) -> bool:
    return wire in ("uuid", "uuids") or wire.endswith(("_uuid", "_uuids", "Uuid", "Uuids"))


def _widen(prop: Any, wire: str) -> str:
    """The generated type, widened to what users already hold (literals, mappings, UUIDs, bytes)."""
    text = _code(prop.get_type_string())
    kind = _kind(prop)
    if kind == "FileProperty":
        return text.replace("File", "File | bytes", 1)
    if kind == "EnumProperty":  # strict but ergonomic: the enum or one of its literal values
        base = str(prop.class_info.name)
        literals = ", ".join(repr(spec_text(v)) for v in prop.values.values())
        return text.replace(base, f"{base} | Literal[{literals}]", 1)
    if kind == "ModelProperty":
        base = _code(prop.get_type_string(no_optional=True))
        return text.replace(base, f"{base} | Mapping[str, Any]", 1)
    if kind == "ListProperty" and _kind(prop.inner_property) == "ModelProperty":
        inner = _code(prop.inner_property.get_type_string(no_optional=True))
        return text.replace(f"list[{inner}]", f"Sequence[{inner} | Mapping[str, Any]]", 1)
    if _is_uuid_name(wire):
        if "list[str]" in text:
            return text.replace("list[str]", "Sequence[str | UUID]", 1)
        return re.sub(r"\bstr\b", "str | UUID", text, count=1)
    return text


def _coercion(prop: Any, *, query: bool, multipart: bool, json_query: bool) -> tuple[str, Any]:
    """How the method coerces this argument before the endpoint's ``_get_kwargs`` sees it."""
    kind = _kind(prop)
    if kind == "FileProperty" and multipart:
        return "file", None
    if kind == "EnumProperty" and (query or multipart):
        return "enum", prop.class_info
    if kind == "ModelProperty" and query:
        return ("model" if json_query else "filter"), prop.class_info
    return "plain", None


def _params(
    props: list[Any],
    *,
    query: bool = False,
    multipart: bool = False,
    json_query: Mapping[str, str] | None = None,
    sent_defaults: Mapping[str, Any] | None = None,
    all_optional: bool = False,
) -> list[Param]:
    out = []
    for prop in props:
        gen, wire = str(prop.python_name), spec_text(prop.name)
        friendly = gen
        shadows_builtin = gen.endswith("_") and gen[:-1] == wire and wire.isidentifier()
        if shadows_builtin and not keyword.iskeyword(wire):
            friendly = wire  # `filter=` rather than `filter_=`: builtins may be shadowed
        required = bool(prop.required) and not all_optional
        sent = (sent_defaults or {}).get(wire)
        coerce, info = _coercion(
            prop, query=query, multipart=multipart, json_query=wire in (json_query or {})
        )
        type_text = builtin_list(_widen(prop, wire))
        if all_optional and prop.required:
            type_text += " | Unset"
        out.append(
            Param(
                name=friendly,
                gen=gen,
                wire=wire,
                type=type_text,
                required=required,
                default=None if required else (repr(sent) if sent is not None else "UNSET"),
                coerce=coerce,
                cls=str(info.name) if info else None,
                module=f"{GEN}.models.{info.module_name}" if info else None,
            )
        )
    return out


def _imports(props: list[Any]) -> set[str]:
    imports: set[str] = set()
    for prop in props:
        imports |= prop.get_imports(prefix=f"{GEN}.")
        lazy = getattr(prop, "get_lazy_imports", None)
        if lazy is not None:
            imports |= lazy(prefix=f"{GEN}.")
    return {i for i in imports if i.startswith(("from ", "import "))}


def _model_fields(prop: Any) -> list[Any]:
    return list(prop.required_properties or []) + list(prop.optional_properties or [])


def method_name(operation_id: str, nouns: list[str], overrides: dict[str, str]) -> str:
    if operation_id in overrides:
        return overrides[operation_id]
    words = snake(operation_id).split("_")
    rest = [w for w in words if w not in nouns]
    return "_".join(rest) or words[0]


# ----------------------------------------------------------------------------- one operation


def _add_body(op: Op, endpoint: Any, config: ResourceConfig) -> None:
    if not endpoint.bodies:
        return
    body = endpoint.bodies[0]
    prop = body.prop
    op.multipart = str(body.body_type) == "files"
    op.body_required = bool(prop.required)
    if _kind(prop) == "ModelProperty":
        op.body_kind = "model"
        op.body_class = str(prop.class_info.name)
        op.body_module = f"{GEN}.models.{prop.class_info.module_name}"
        fields = _model_fields(prop)
        op.body_fields = _params(
            fields,
            multipart=op.multipart,
            sent_defaults=config.send_defaults.get(op.operation_id),
            all_optional=not op.body_required,
        )
        op.type_imports |= _imports(fields)
        return
    op.body_kind = "whole"
    members = list(getattr(prop, "inner_properties", None) or [prop])
    model = next((m for m in members if _kind(m) == "ModelProperty"), None)
    if model is not None:
        name = str(model.class_info.name)
        op.body_whole_model = name
        op.body_whole_module = f"{GEN}.models.{model.class_info.module_name}"
        op.body_whole_type = builtin_list(
            f"{name} | Mapping[str, Any] | Sequence[{name} | Mapping[str, Any]]"
        )
    else:
        op.body_whole_type = builtin_list(_widen(prop, "body"))
    if not op.body_required:
        op.body_whole_type += " | Unset"
    op.type_imports |= _imports([prop])


def _success(endpoint: Any) -> tuple[list[Any], list[Any]]:
    """(all 2xx responses, those with a body the SDK parses)."""
    success = [r for r in endpoint.responses.patterns if 200 <= r.status_code.range[0] < 300]
    content = [
        r
        for r in success
        if _kind(r.prop) != "NoneProperty"
        and _code(r.prop.get_type_string()) not in ("None", "Any")
    ]
    return success, content


def _add_result(op: Op, endpoint: Any, config: ResourceConfig) -> list[Any]:
    success, content = _success(endpoint)
    if any(_kind(r.prop) == "FileProperty" for r in content):
        op.result, op.return_type = "file", "bytes"
    elif content:
        types: list[str] = []
        for r in content:
            t = _code(r.prop.get_type_string(no_optional=True))
            if t not in types:
                types.append(t)
        op.return_type = builtin_list(" | ".join(types))
        op.type_imports |= _imports([r.prop for r in content])
    else:
        op.result = "none"
    declared_nullable = any(
        getattr(getattr(r.prop, "data", None), "nullable", False) for r in content
    )
    op.none_when_not_found = op.operation_id in config.none_when_not_found
    op.nullable = bool(content) and (
        len(content) != len(success) or declared_nullable or op.none_when_not_found
    )
    if op.nullable and op.result == "json":
        op.return_type += " | None"
    op.declared_status = next((r.status_code.range[0] for r in content), 200)
    return content


def _aggregate_key(item: Any) -> str | None:
    """For a search item that wraps its record (`LeadSearchResult.lead`), the wrapping key."""
    if _kind(item) != "ModelProperty":
        return None
    name = snake(str(item.class_info.name))
    for f in _model_fields(item):
        key = spec_text(f.name)
        if _kind(f) in ("ModelProperty", "UnionProperty") and name.startswith(key + "_"):
            return key
    return None


def _page(op: Op, content: list[Any]) -> Any:
    """Set the page kind and item type of a paginated operation; return the item property."""
    page_in = None
    for where, params in (("query", op.query_params), ("body", op.body_fields)):
        if set(PAGINATION_FIELDS) <= {p.wire for p in params}:
            page_in = where
            break
    if page_in is None or len(content) != 1:
        return None
    prop, inner = content[0].prop, None
    if _kind(prop) == "ModelProperty":
        data = next((f for f in _model_fields(prop) if spec_text(f.name) == "data"), None)
        if data is not None and _kind(data) == "ListProperty":
            op.page_kind, inner = "envelope", data.inner_property
    elif _kind(prop) == "ListProperty":
        op.page_kind, inner = "list", prop.inner_property
    if inner is not None:
        op.page_in = page_in
        op.item_type = builtin_list(_code(inner.get_type_string(no_optional=True)))
        op.type_imports |= _imports([inner])
    return inner


def _add_page_and_shapes(op: Op, content: list[Any], config: ResourceConfig) -> None:
    """Pagination facts and the named response normalisers (``getsales_async/_shapes.py``)."""
    if op.operation_id in config.pairs_to_map:
        op.shapes.append("pairs_to_map:" + ",".join(config.pairs_to_map[op.operation_id]))
    item = _page(op, content)
    if (
        not op.page_kind
        and content
        and all(
            _kind(r.prop) == "ModelProperty"
            and not any(spec_text(f.name) == "data" for f in _model_fields(r.prop))
            for r in content
        )
    ):
        op.shapes.append("unwrap_data")
    key = _aggregate_key(item) if op.page_kind == "envelope" else None
    if key:
        op.shapes.append(f"wrap_items:{key}")


def build_op(tag_id: str, facts: SpecOperation, endpoint: Any, config: ResourceConfig) -> Op:
    """All facts of one operation (its resource and method name are set by :func:`collect`)."""
    json_query = {k: v for k, v in facts.query_content_types.items() if "json" in v}
    op = Op(
        operation_id=facts.operation_id,
        http_method=endpoint.method.upper(),
        path=spec_text(endpoint.path),
        summary=spec_text(endpoint.summary),
        description=spec_text(endpoint.description),
        endpoint=f"{tag_id}.{endpoint.name}",
        path_params=_params(endpoint.path_parameters),
        query_params=_params(endpoint.query_parameters, query=True, json_query=json_query),
    )
    op.type_imports |= _imports(endpoint.path_parameters + endpoint.query_parameters)
    _add_body(op, endpoint, config)
    content = _add_result(op, endpoint, config)
    _add_page_and_shapes(op, content, config)
    media = facts.success_media_types
    if media and not any("json" in m for m in media):
        op.accept = ", ".join(media)  # e.g. text/csv downloads: the client's default Accept is JSON
    op.idempotent, op.idempotency = config.idempotency(op.operation_id, op.http_method)
    alternatives = facts.required_alternatives or {}
    op.require_any_of = [list(g) for g in alternatives.get("anyOf", [])]
    op.require_one_of = [list(g) for g in alternatives.get("oneOf", [])]
    if op.operation_id in (config.search_window.get("operations") or []) and op.page_kind:
        op.search_window = int(config.search_window["size"])
    return op


def resource_attribute(tag: str, config: ResourceConfig) -> str:
    """``client.<attribute>`` of a tag: configured, or the tag in snake_case without parentheses."""
    entry = config.resources.get(tag)
    if entry:
        return str(entry["attribute"])
    return snake(re.sub(r"\(.*?\)", "", tag)) or "default"


def resource_nouns(tag: str, config: ResourceConfig) -> list[str]:
    """Nouns dropped from the method names of a tag's operations."""
    entry = config.resources.get(tag)
    if entry:
        return list(entry.get("nouns", []))
    return default_nouns(resource_attribute(tag, config))


def default_nouns(attribute: str) -> list[str]:
    """Nouns dropped from method names in a section ``resources.yaml`` does not configure yet."""
    words = attribute.split("_")
    return words + [w[:-1] for w in words if w.endswith("s") and len(w) > 3]


def assign_method_names(ops: list[Op], nouns: list[str], overrides: dict[str, str]) -> None:
    """Short method names, kept unique and valid whatever operations upstream adds.

    Where derived names collide (``deleteLead`` and a new ``deleteLeads`` both give ``delete``),
    the operation named in ``methods`` or else the one with the shortest operationId keeps the
    short name; the others use their full snake_case operationId, so existing names stay stable.
    """
    for op in ops:
        op.method_name = method_name(op.operation_id, nouns, overrides)
    groups: dict[str, list[Op]] = {}
    for op in ops:
        groups.setdefault(op.method_name, []).append(op)
    for name, group in groups.items():
        if len(group) == 1 and name not in RESERVED_METHODS:
            continue
        ranked = sorted(
            group,
            key=lambda o: (o.operation_id not in overrides, len(o.operation_id), o.operation_id),
        )
        keep = ranked[:1] if name not in RESERVED_METHODS else []
        for op in ranked[len(keep) :]:
            op.method_name = snake(op.operation_id)
    seen: set[str] = set()
    for op in sorted(ops, key=lambda o: o.operation_id):
        if keyword.iskeyword(op.method_name) or op.method_name in RESERVED_METHODS:
            op.method_name += "_"
        base, n = op.method_name, 2
        while op.method_name in seen:
            op.method_name, n = f"{base}_{n}", n + 1
        seen.add(op.method_name)


def collect(
    project: Any, doc: dict[str, Any], config: ResourceConfig
) -> dict[str, tuple[str, list[Op]]]:
    """Resource attribute -> (tag, operations), from the parsed project."""
    index = spec_operations(doc)
    result: dict[str, tuple[str, list[Op]]] = {}
    for tag_id, collection in sorted(project.openapi.endpoint_collections_by_tag.items()):
        for endpoint in collection.endpoints:
            facts = index[(endpoint.method.upper(), path_key(spec_text(endpoint.path)))]
            op = build_op(str(tag_id), facts, endpoint, config)
            attribute = resource_attribute(facts.tag, config)
            op.resource = attribute
            result.setdefault(attribute, (facts.tag, []))[1].append(op)
    for tag, ops in result.values():
        assign_method_names(ops, resource_nouns(tag, config), config.methods)
        ops.sort(key=lambda o: o.method_name)
    return dict(sorted(result.items()))
