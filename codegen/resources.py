"""Generate the resource namespaces (``client.leads.search(...)``) from the parsed spec.

openapi-python-client parses the normalised spec once; ``codegen/generate.py`` hands its
``Project`` to :func:`render_resources`, which writes ``getsales_async/_resources/``: one module per
tag with a resource class (and its ``with_raw_response`` twin), plus an ``__init__`` holding the
operation table and the lazily-built namespaces mixin, and ``docs/operations.md``.

Per operation, the generated method:

- takes path parameters positionally, and query parameters and the JSON/multipart body's top-level
  fields as keyword arguments (nested objects as model instances or plain mappings);
- accepts ``extra_body`` (fields the spec does not know, sent unchanged) and ``request_options``;
- returns the parsed success model (``None`` for 204, ``bytes`` for file downloads), or, for list
  and search operations, an ``AsyncPaginator`` over the items.

Names come from ``overrides/resources.yaml`` (tag -> attribute, operationId -> method overrides).
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

__all__ = ["ResourceConfig", "render_resources"]

GEN = "getsales_async._generated"
PAGINATION_FIELDS = ("limit", "offset")
KEYWORDS = {"self", "request_options", "extra_body", "page_size", "start_offset", "concurrency"}


@dataclass
class ResourceConfig:
    resources: dict[str, dict[str, Any]]
    methods: dict[str, str]
    idempotent_posts: list[str]
    require_one_of: dict[str, list[list[str]]] = field(default_factory=dict)
    none_when_not_found: list[str] = field(default_factory=list)
    send_defaults: dict[str, dict[str, Any]] = field(default_factory=dict)
    pairs_to_map: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> ResourceConfig:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        return cls(
            resources=data.get("resources") or {},
            methods=data.get("methods") or {},
            idempotent_posts=list(data.get("idempotent_posts") or []),
            require_one_of=dict(data.get("require_one_of") or {}),
            none_when_not_found=list(data.get("none_when_not_found") or []),
            send_defaults=dict(data.get("send_defaults") or {}),
            pairs_to_map=dict(data.get("pairs_to_map") or {}),
        )


def snake(name: str) -> str:
    words = re.findall(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+", name)
    return "_".join(w.lower() for w in words)


def pascal(name: str) -> str:
    return "".join(w[:1].upper() + w[1:] for w in snake(name).split("_"))


@dataclass
class Param:
    name: str  # our keyword name (the wire name where it is a valid non-keyword identifier)
    gen: str  # the generated code's python name (`filter_`, `type_`)
    wire: str
    type: str
    required: bool
    default: str | None = None  # python code


@dataclass
class Op:
    operation_id: str
    method_name: str
    http_method: str
    path: str
    summary: str
    description: str
    module: str  # dotted module of the generated endpoint
    path_params: list[Param]
    query_params: list[Param]
    body_kind: str  # none | model | whole
    multipart: bool
    body_class: str | None
    body_module: str | None
    body_fields: list[Param]
    body_whole_type: str | None
    body_whole_model: str | None
    accept: str | None
    return_type: str  # python type of the parsed success value ("None" for no content)
    returns_file: bool
    nullable_result: bool
    idempotent: bool
    page_kind: str | None  # envelope | list | None
    item_type: str | None
    page_in: str | None  # query | body
    unwrap_data: bool
    aggregate_key: str | None = None
    declared_status: int = 200
    require_one_of: list[list[str]] = field(default_factory=list)
    none_when_not_found: bool = False
    pairs_to_map: list[str] | None = None
    empty_list_as_map: bool = False
    type_imports: set[str] = field(default_factory=set)


def _builtin_list(text: str) -> str:
    """Resource classes have methods named `list`, which would shadow the builtin in annotations."""
    return re.sub(r"\blist\[", "builtins.list[", text)


def _type(prop: Any, *, accept_mapping: bool = True) -> str:
    """The parameter type for a property: generated type, widened to accept plain mappings."""
    return _builtin_list(_widen(prop, accept_mapping=accept_mapping))


def _widen(prop: Any, *, accept_mapping: bool) -> str:
    text = _code(prop.get_type_string())
    if prop.__class__.__name__ == "FileProperty":
        return text.replace("File", "File | bytes", 1)
    if prop.__class__.__name__ == "EnumProperty":
        # strict but ergonomic: the enum or one of its literal values
        base = str(prop.class_info.name)
        literals = ", ".join(repr(_text(v)) for v in prop.values.values())
        return text.replace(base, f"{base} | Literal[{literals}]", 1)
    kind = prop.__class__.__name__
    if not accept_mapping:
        return text
    if kind == "ModelProperty":
        base = _code(prop.get_type_string(no_optional=True))
        widened = f"{base} | Mapping[str, Any]"
        return text.replace(base, widened, 1)
    if kind == "ListProperty" and prop.inner_property.__class__.__name__ == "ModelProperty":
        inner = _code(prop.inner_property.get_type_string(no_optional=True))
        return text.replace(f"list[{inner}]", f"Sequence[{inner} | Mapping[str, Any]]", 1)
    return text


def _default(prop: Any, sent: Any = None) -> str | None:
    if prop.required:
        return None
    if sent is not None:
        return repr(sent)
    # Never send the spec's default implicitly: the server applies its own defaults.
    return "UNSET"


def _params(props: list[Any], sent_defaults: Mapping[str, Any] | None = None) -> list[Param]:
    out = []
    for prop in props:
        gen_name = str(prop.python_name)
        wire = _text(prop.name)
        friendly = gen_name
        if (
            gen_name.endswith("_")
            and gen_name[:-1] == wire
            and wire.isidentifier()
            and not keyword.iskeyword(wire)
        ):
            friendly = (
                wire  # `filter=` rather than `filter_=`: builtins may be shadowed, keywords not
            )
        out.append(
            Param(
                name=friendly,
                gen=gen_name,
                wire=wire,
                type=_type(prop),
                required=bool(prop.required),
                default=_default(prop, (sent_defaults or {}).get(_text(prop.name))),
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


def media_types(doc: dict[str, Any], operation_id: str) -> list[str]:
    """Media types of the operation's 2xx responses, from the spec."""
    for item in (doc.get("paths") or {}).values():
        for op in item.values():
            if isinstance(op, dict) and op.get("operationId") == operation_id:
                found: list[str] = []
                for code, response in (op.get("responses") or {}).items():
                    if str(code).startswith("2") and isinstance(response, dict):
                        found += [m for m in (response.get("content") or {}) if m not in found]
                return found
    return []


def _path_key(path: str) -> str:
    """The generator snake-cases path parameters (`{flowUuid}` -> `{flow_uuid}`); compare that way."""
    return re.sub(r"{([^}]+)}", lambda m: "{" + snake(m.group(1)).lower() + "}", path)


def spec_index(doc: dict[str, Any]) -> dict[tuple[str, str], tuple[str, str]]:
    """(METHOD, path) -> (operationId, first tag) from the normalised spec."""
    index = {}
    for path, item in (doc.get("paths") or {}).items():
        for method, op in item.items():
            if isinstance(op, dict) and method in ("get", "put", "post", "delete", "patch"):
                tags = op.get("tags") or ["default"]
                index[(method.upper(), _path_key(path))] = (str(op["operationId"]), str(tags[0]))
    return index


def collect(
    project: Any, doc: dict[str, Any], config: ResourceConfig
) -> dict[str, tuple[str, list[Op]]]:
    """Resource attribute -> (tag, operations), from the parsed project."""
    index = spec_index(doc)
    result: dict[str, tuple[str, list[Op]]] = {}
    for tag_id, collection in sorted(project.openapi.endpoint_collections_by_tag.items()):
        for endpoint in collection.endpoints:
            operation_id, tag = index[(endpoint.method.upper(), _path_key(_text(endpoint.path)))]
            op = build_op(
                str(tag_id), operation_id, endpoint, config, media_types(doc, operation_id)
            )
            entry = config.resources.get(tag)
            attribute = (
                entry["attribute"] if entry else snake(re.sub(r"\(.*?\)", "", tag)) or "default"
            )
            nouns = entry.get("nouns", []) if entry else []
            op.method_name = method_name(op.operation_id, nouns, config.methods)
            result.setdefault(attribute, (tag, []))[1].append(op)
    for attribute, (_tag, ops) in result.items():
        names = [op.method_name for op in ops]
        dupes = {n for n in names if names.count(n) > 1}
        if dupes:
            raise ValueError(
                f"resource {attribute}: method names {sorted(dupes)} are not unique; "
                "add entries to `methods` in overrides/resources.yaml"
            )
        ops.sort(key=lambda o: o.method_name)
    return dict(sorted(result.items()))


def _code(value: Any) -> str:
    """Source code of a generator ``PythonCode`` (type strings, defaults)."""
    getter = getattr(value, "as_unembedded_code", None)
    return str(getter() if getter else value)


def _text(value: Any) -> str:
    """Spec strings are UntrustedString in 0.29.1; we only embed them through escaping helpers."""
    if value is None:
        return ""
    getter = getattr(value, "get_untrusted_value", None)
    return str(getter() if getter else value)


def build_op(
    tag_id: str, operation_id: str, endpoint: Any, config: ResourceConfig, media: list[str]
) -> Op:
    module = f"{GEN}.api.{tag_id}.{endpoint.name}"
    path_params = _params(endpoint.path_parameters)
    query_params = _params(endpoint.query_parameters)
    imports = _imports(endpoint.path_parameters + endpoint.query_parameters)
    body_kind, body_class, body_module, body_fields, body_whole_type = "none", None, None, [], None
    body_whole_model: str | None = None
    multipart = False
    if endpoint.bodies:
        body = endpoint.bodies[0]
        prop = body.prop
        multipart = str(body.body_type) == "files"
        if prop.__class__.__name__ == "ModelProperty":
            body_kind = "model"
            body_class = str(prop.class_info.name)
            body_module = f"{GEN}.models.{prop.class_info.module_name}"
            fields = _model_fields(prop)
            body_fields = _params(fields, config.send_defaults.get(operation_id))
            imports |= _imports(fields)
        else:
            body_kind = "whole"
            members = list(getattr(prop, "inner_properties", None) or [prop])
            model = next((m for m in members if m.__class__.__name__ == "ModelProperty"), None)
            if model is not None:
                body_whole_model = str(model.class_info.name)
                body_whole_type = _builtin_list(
                    f"{body_whole_model} | Mapping[str, Any] | Sequence[{body_whole_model} | Mapping[str, Any]]"
                )
            else:
                body_whole_type = _type(prop)
            imports |= _imports([prop])
    success = [r for r in endpoint.responses.patterns if 200 <= r.status_code.range[0] < 300]
    content = [
        r
        for r in success
        if r.prop.__class__.__name__ not in ("NoneProperty",)
        and _code(r.prop.get_type_string()) not in ("None", "Any")
    ]
    returns_file = any(r.prop.__class__.__name__ == "FileProperty" for r in content)
    if returns_file:
        return_type = "bytes"
    elif content:
        types = []
        for r in content:
            t = _code(r.prop.get_type_string(no_optional=True))
            if t not in types:
                types.append(t)
        return_type = _builtin_list(" | ".join(types))
        imports |= _imports([r.prop for r in content])
    else:
        return_type = "None"
    nullable_result = len(content) != len(success) and bool(content)
    if nullable_result:
        return_type += " | None"
    declared_nullable = any(
        getattr(getattr(r.prop, "data", None), "nullable", False) for r in content
    )
    none_when_not_found = operation_id in config.none_when_not_found
    if (declared_nullable or none_when_not_found) and not return_type.endswith("| None"):
        return_type += " | None"
        nullable_result = True
    declared_status = next((r.status_code.range[0] for r in content), 200)

    page_kind = item_type = page_in = None
    aggregate_key = None
    empty_list_as_map = any(
        r.prop.__class__.__name__ == "UnionProperty"
        and any(p.__class__.__name__ == "ModelProperty" for p in r.prop.inner_properties)
        and any(
            p.__class__.__name__ == "ListProperty"
            and p.inner_property.__class__.__name__ == "AnyProperty"
            for p in r.prop.inner_properties
        )
        for r in content
    )
    query_names = {p.wire for p in query_params}
    body_names = {p.wire for p in body_fields}
    if set(PAGINATION_FIELDS) <= query_names:
        page_in = "query"
    elif set(PAGINATION_FIELDS) <= body_names:
        page_in = "body"
    unwrap_data = False
    if page_in and len(content) == 1:
        prop = content[0].prop
        kind = prop.__class__.__name__
        if kind == "ModelProperty" and any(
            _text(f.name) == "data" and f.__class__.__name__ == "ListProperty"
            for f in _model_fields(prop)
        ):
            data_prop = next(f for f in _model_fields(prop) if _text(f.name) == "data")
            inner = data_prop.inner_property
            page_kind, item_type = (
                "envelope",
                _builtin_list(_code(inner.get_type_string(no_optional=True))),
            )
            imports |= _imports([inner])
            aggregate_key = _aggregate_key(inner)
        elif kind == "ListProperty":
            page_kind, item_type = (
                "list",
                _builtin_list(_code(prop.inner_property.get_type_string(no_optional=True))),
            )
            imports |= _imports([prop.inner_property])
    if not page_kind:
        page_in = None
        unwrap_data = bool(
            len(content) >= 1
            and all(
                r.prop.__class__.__name__ == "ModelProperty"
                and not any(_text(f.name) == "data" for f in _model_fields(r.prop))
                for r in content
            )
        )
    accept = None
    if media and not any("json" in m for m in media):
        accept = ", ".join(media)  # e.g. text/csv downloads: the client's default Accept is JSON
    method = endpoint.method.upper()
    idempotent = method in ("GET", "PUT", "DELETE") or operation_id in config.idempotent_posts
    summary = _text(endpoint.summary)
    description = _text(endpoint.description)
    path = _text(endpoint.path)
    return Op(
        operation_id=operation_id,
        method_name="",
        http_method=method,
        path=path,
        summary=summary,
        description=description,
        module=module,
        path_params=path_params,
        query_params=query_params,
        body_kind=body_kind,
        body_class=body_class,
        body_module=body_module,
        body_fields=body_fields,
        body_whole_type=body_whole_type,
        body_whole_model=body_whole_model,
        multipart=multipart,
        accept=accept,
        return_type=return_type,
        returns_file=returns_file,
        nullable_result=nullable_result,
        idempotent=idempotent,
        page_kind=page_kind,
        item_type=item_type,
        page_in=page_in,
        unwrap_data=unwrap_data,
        aggregate_key=aggregate_key,
        empty_list_as_map=empty_list_as_map,
        type_imports=imports,
        declared_status=declared_status,
        require_one_of=[list(g) for g in config.require_one_of.get(operation_id, [])],
        none_when_not_found=none_when_not_found,
        pairs_to_map=config.pairs_to_map.get(operation_id),
    )


def _aggregate_key(item: Any) -> str | None:
    """For a search item that wraps its record (`LeadSearchResult.lead`), the wrapping key.

    The API sends such items wrapped (`{lead, markers, ...}`) or flat; flat ones get wrapped.
    """
    if item.__class__.__name__ != "ModelProperty":
        return None
    name = snake(str(item.class_info.name))
    for f in _model_fields(item):
        key = _text(f.name)
        if f.__class__.__name__ in ("ModelProperty", "UnionProperty") and name.startswith(
            key + "_"
        ):
            return key
    return None


# ----------------------------------------------------------------------------- rendering


def _doc(text: str, indent: str) -> str:
    text = text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"').strip()
    lines = text.splitlines() or [""]
    return "\n".join((indent + line) if line.strip() else "" for line in lines)


def _signature(op: Op, *, paginated: bool) -> list[str]:
    lines = ["self,"]
    for p in op.path_params:
        lines.append(f"{p.name}: {p.type},")
    lines.append("*,")
    keyword: list[Param] = []
    keyword += op.query_params
    if op.body_kind == "model":
        keyword += op.body_fields
    if paginated:
        keyword = [p for p in keyword if p.wire not in PAGINATION_FIELDS]
    required = [p for p in keyword if p.required]
    optional = [p for p in keyword if not p.required]
    for p in required:
        lines.append(f"{p.name}: {p.type},")
    if op.body_kind == "whole":
        lines.append(f"body: {op.body_whole_type},")
    for p in optional:
        lines.append(f"{p.name}: {p.type} = {p.default},")
    if paginated:
        lines.append("page_size: int = MAX_PAGE_SIZE,")
        lines.append("start_offset: int = 0,")
        lines.append("concurrency: int = 1,")
    if op.body_kind == "model":
        lines.append("extra_body: Mapping[str, Any] | None = None,")
    lines.append("request_options: RequestOptions | None = None,")
    return lines


def _call_args(op: Op, *, paginated: bool) -> list[str]:
    args = [f"{p.name}" for p in op.path_params]
    keyword = list(op.query_params) + (op.body_fields if op.body_kind == "model" else [])
    if paginated:
        keyword = [p for p in keyword if p.wire not in PAGINATION_FIELDS]
    args += [f"{p.name}={p.name}" for p in keyword]
    if op.body_kind == "whole":
        args.append("body=body")
    if paginated:
        args += ["page_size=page_size", "start_offset=start_offset", "concurrency=concurrency"]
    if op.body_kind == "model":
        args.append("extra_body=extra_body")
    args.append("request_options=request_options")
    return args


def _impl(op: Op) -> list[str]:
    """Body of the `_name` implementation: build the request kwargs, send, parse.

    Locals start with an underscore: parameters are named after API fields (`body`, `filter_`...).
    """
    out: list[str] = []
    out.append(
        f"from {op.module.rsplit('.', 1)[0]} import {op.module.rsplit('.', 1)[1]} as _endpoint"
    )
    if op.require_one_of:
        known = {p.wire: p.name for p in [*op.query_params, *op.body_fields]}
        groups = [[g for g in group if g in known] for group in op.require_one_of]
        groups = [g for g in groups if g]
        values = ", ".join(f"{w!r}: {known[w]}" for w in sorted({w for g in groups for w in g}))
        extra = "extra_body" if op.body_kind == "model" else "None"
        out.append(f"require_one_of({{{values}}}, {groups!r}, {extra})")
    call: list[str] = [p.name for p in op.path_params]
    for p in op.query_params:
        if "Literal[" in p.type:
            cls = p.type.split(" | ")[0]
            module = cls_module(op, cls)
            out.append(f"from {module} import {cls} as _{p.gen}enum")
            call.append(f"{p.gen}=coerce_enum(_{p.gen}enum, {p.name})")
        elif "Mapping[str, Any]" in p.type:
            cls = p.type.split(" | ")[0]
            module = cls_module(op, cls)
            out.append(f"from {module} import {cls} as _{p.gen}model")
            out.append(f"_{p.gen}value = coerce_model(_{p.gen}model, {p.name})")
            call.append(f"{p.gen}=_{p.gen}value")
        else:
            call.append(f"{p.gen}={p.name}")
    if op.body_kind == "model" and op.multipart:
        out.append(f"from {op.body_module} import {op.body_class} as _body_model")
        parts = []
        for p in op.body_fields:
            if "File | bytes" in p.type:
                parts.append(f"{p.gen}=coerce_file({p.name})")
            elif "Literal[" in p.type:
                cls = p.type.split(" | ")[0]
                out.append(f"from {cls_module(op, cls)} import {cls} as _{p.gen}enum")
                parts.append(f"{p.gen}=coerce_enum(_{p.gen}enum, {p.name})")
            else:
                parts.append(f"{p.gen}={p.name}")
        out.append(f"_body = _body_model({', '.join(parts)})")
        out.append("if extra_body:")
        out.append("    _body.additional_properties.update(extra_body)")
        call.append("body=_body")
    elif op.body_kind == "model":
        pairs = ", ".join(f"{p.wire!r}: {p.name}" for p in op.body_fields)
        out.append(f"from {op.body_module} import {op.body_class} as _body_model")
        out.append(f"_body = build_body(_body_model, {{{pairs}}}, extra_body)")
        call.append("body=_body")
    elif op.body_kind == "whole" and op.body_whole_model:
        module = cls_module(op, op.body_whole_model)
        out.append(f"from {module} import {op.body_whole_model} as _body_model")
        out.append("_body = coerce_body(_body_model, body)")
        call.append("body=_body")
    elif op.body_kind == "whole":
        call.append("body=body")
    out.append(f"_kwargs = _endpoint._get_kwargs({', '.join(call)})")
    flags = [
        f'operation_id="{op.operation_id}"',
        f"idempotent={op.idempotent}",
        f"expect_body={op.return_type not in ('None',)}",
        f"nullable={op.nullable_result}",
        f"unwrap_data={op.unwrap_data}",
        f"returns_file={op.returns_file}",
    ]
    if op.aggregate_key:
        flags.append(f'aggregate_key="{op.aggregate_key}"')
    if op.empty_list_as_map:
        flags.append("empty_list_as_map=True")
    if op.accept:
        flags.append(f"accept={op.accept!r}")
    if op.declared_status != 200:
        flags.append(f"declared_status={op.declared_status}")
    if op.none_when_not_found:
        flags.append("none_when_not_found=True")
    if op.pairs_to_map:
        flags.append(f"pairs_to_map={tuple(op.pairs_to_map)!r}")
    out.append(
        f"return await self._gs_send(_kwargs, _endpoint._parse_response, {', '.join(flags)}, request_options=request_options)"
    )
    return out


def cls_module(op: Op, cls: str) -> str:
    """The models module defining ``cls`` (found in the operation's type imports)."""
    for line in op.type_imports:
        if line.startswith("from ") and line.endswith(f" import {cls}"):
            return line.split()[1]
    raise ValueError(f"{op.operation_id}: no import found for {cls}")


def render_resource(attribute: str, tag: str, ops: list[Op]) -> str:
    cls = pascal(attribute) + "Resource"
    raw_cls = pascal(attribute) + "ResourceWithRawResponse"
    imports: set[str] = set()
    for op in ops:
        imports |= op.type_imports
    imports.add(f"from {GEN}.types import UNSET, Unset")
    lines: list[str] = [
        f'"""The `{attribute}` resource: the "{tag}" operations of the GetSales API."""',
        "",
        "from __future__ import annotations",
        "",
        "import builtins",
        "from collections.abc import Mapping, Sequence",
        "from typing import TYPE_CHECKING, Any, Literal",
        "",
        "from getsales_async._config import MAX_PAGE_SIZE",
        "from getsales_async._pagination import AsyncPaginator",
        "from getsales_async._resource import BaseResource, RawResponse, RequestOptions, build_body, coerce_body, coerce_enum, coerce_file, coerce_model, require_one_of",
        f"from {GEN}.types import UNSET, File, Unset",
        "",
        "if TYPE_CHECKING:",
    ]
    type_only = sorted(i for i in imports if ".types import" not in i)
    lines += [f"    {i}" for i in type_only] or ["    pass"]
    lines += ["", f'__all__ = ["{cls}", "{raw_cls}"]', "", ""]
    lines.append(f"class {cls}(BaseResource):")
    lines.append(f'    """{tag}: `client.{attribute}.<method>(...)`."""')
    lines.append("")
    lines.append("    @property")
    lines.append(f"    def with_raw_response(self) -> {raw_cls}:")
    lines.append(
        '        """The same methods, returning ``RawResponse`` (status, headers, parsed body)."""'
    )
    lines.append(f"        return {raw_cls}(self)")
    for op in ops:
        paginated = op.page_kind is not None
        sig = _signature(op, paginated=False)
        doc = [
            op.summary,
            "",
            *op.description.splitlines()[:12],
            "",
            f"``{op.http_method} {op.path}`` (operation ``{op.operation_id}``).",
        ]
        # raw implementation (one page for paginated operations)
        page_type = op.return_type
        lines.append("")
        lines.append(f"    async def _{op.method_name}(")
        lines += [f"        {s}" for s in sig]
        lines.append(f"    ) -> RawResponse[{page_type}]:")
        lines += [f"        {s}" for s in _impl(op)]
        lines.append("")
        if paginated:
            psig = _signature(op, paginated=True)
            lines.append(f"    def {op.method_name}(")
            lines += [f"        {s}" for s in psig]
            lines.append(f"    ) -> AsyncPaginator[{op.item_type}, {page_type}]:")
            lines.append(
                '        """'
                + _doc(
                    "\n".join(
                        [
                            *doc,
                            "",
                            "Returns an ``AsyncPaginator``: ``async for`` yields items across pages,",
                            "``await`` gives the first page, ``.pages()`` iterates pages, ``.checkpoint()`` saves a resume point.",
                        ]
                    ),
                    "        ",
                ).lstrip()
            )
            lines.append('        """')
            args = [p.name for p in op.path_params]
            keyword = [
                p
                for p in (
                    list(op.query_params) + (op.body_fields if op.body_kind == "model" else [])
                )
                if p.wire not in PAGINATION_FIELDS
            ]
            lines.append("        _arguments: dict[str, Any] = {")
            for p in op.path_params:
                lines.append(f'            "{p.name}": {p.name},')
            for p in keyword:
                lines.append(f'            "{p.name}": {p.name},')
            if op.body_kind == "model":
                lines.append('            "extra_body": extra_body,')
            lines.append("        }")
            lines.append("")
            lines.append(
                f"        async def _fetch(_offset: int, _limit: int) -> RawResponse[{page_type}]:"
            )
            call = [*args] + [f"{p.name}={p.name}" for p in keyword]
            call += ["limit=_limit", "offset=_offset"]
            if op.body_kind == "model":
                call.append("extra_body=extra_body")
            call.append("request_options=request_options")
            lines.append(f"            return await self._{op.method_name}({', '.join(call)})")
            lines.append("")
            lines.append("        return self._gs_paginate(")
            lines.append("            _fetch,")
            lines.append(f'            resource="{attribute}",')
            lines.append(f'            method="{op.method_name}",')
            lines.append(f'            page_kind="{op.page_kind}",')
            lines.append("            arguments=_arguments,")
            lines.append("            page_size=page_size,")
            lines.append("            start_offset=start_offset,")
            lines.append("            concurrency=concurrency,")
            lines.append("        )")
        else:
            lines.append(f"    async def {op.method_name}(")
            lines += [f"        {s}" for s in sig]
            lines.append(f"    ) -> {op.return_type}:")
            lines.append('        """' + _doc("\n".join(doc), "        ").lstrip())
            lines.append('        """')
            lines.append(
                f"        return (await self._{op.method_name}({', '.join(_call_args(op, paginated=False))})).parsed"
            )
    # raw twin
    lines += [
        "",
        "",
        f"class {raw_cls}:",
        f'    """`client.{attribute}.with_raw_response`: methods return ``RawResponse``."""',
        "",
    ]
    lines.append(f"    def __init__(self, resource: {cls}) -> None:")
    lines.append("        self._resource = resource")
    for op in ops:
        sig = _signature(op, paginated=False)
        lines.append("")
        lines.append(f"    async def {op.method_name}(")
        lines += [f"        {s}" for s in sig]
        lines.append(f"    ) -> RawResponse[{op.return_type}]:")
        lines.append(f'        """{_doc(op.summary, "")} (raw response)."""')
        lines.append(
            f"        return await self._resource._{op.method_name}({', '.join(_call_args(op, paginated=False))})"
        )
    return "\n".join(lines) + "\n"


def render_init(resources: dict[str, tuple[str, list[Op]]]) -> str:
    lines = [
        '"""Resource namespaces and the operation table, generated from the spec."""',
        "",
        "from __future__ import annotations",
        "",
        "from dataclasses import dataclass",
        "from functools import cached_property",
        "from typing import TYPE_CHECKING",
        "",
        "if TYPE_CHECKING:",
    ]
    for attribute in resources:
        lines.append(f"    from .{attribute} import {pascal(attribute)}Resource")
    lines += [
        "",
        '__all__ = ["IDEMPOTENT_POSTS", "OPERATIONS", "Operation", "ResourcesMixin"]',
        "",
        "",
        "@dataclass(frozen=True)",
        "class Operation:",
        '    """One API operation and where it lives on the client."""',
        "",
        "    operation_id: str",
        "    resource: str",
        "    method: str",
        "    http_method: str",
        "    path: str",
        "    idempotent: bool",
        "    paginated: bool",
        "",
        "",
        "OPERATIONS: dict[str, Operation] = {",
    ]
    all_ops = sorted(
        (op for _tag, ops in resources.values() for op in ops), key=lambda o: o.operation_id
    )
    attr_of = {op.operation_id: a for a, (_t, ops) in resources.items() for op in ops}
    for op in all_ops:
        lines.append(
            f'    "{op.operation_id}": Operation("{op.operation_id}", "{attr_of[op.operation_id]}", "{op.method_name}", '
            f'"{op.http_method}", "{op.path}", {op.idempotent}, {op.page_kind is not None}),'
        )
    lines.append("}")
    lines.append("")
    lines.append("IDEMPOTENT_POSTS: frozenset[str] = frozenset(")
    lines.append(
        '    op.operation_id for op in OPERATIONS.values() if op.http_method == "POST" and op.idempotent'
    )
    lines.append(")")
    lines += [
        "",
        "",
        "class ResourcesMixin:",
        '    """The `client.<resource>` namespaces, built on first use."""',
        "",
    ]
    for attribute, (tag, _ops) in resources.items():
        cls = f"{pascal(attribute)}Resource"
        lines += [
            "    @cached_property",
            f"    def {attribute}(self) -> {cls}:",
            f'        """{tag} operations."""',
            f"        from .{attribute} import {cls}",
            "",
            f"        return {cls}(self)  # type: ignore[arg-type]",
            "",
        ]
    return "\n".join(lines).rstrip() + "\n"


def render_operations_doc(resources: dict[str, tuple[str, list[Op]]]) -> str:
    lines = [
        "# Operations",
        "",
        "Generated by `make generate` from `openapi/bundled.yaml`: every API operation and the client",
        "method that calls it. Methods marked *paginated* return an `AsyncPaginator`.",
        "",
        "| Client method | HTTP | Path | operationId | Notes |",
        "|---|---|---|---|---|",
    ]
    for attribute, (_tag, ops) in resources.items():
        for op in ops:
            notes = []
            if op.page_kind:
                notes.append("paginated")
            if op.idempotent and op.http_method == "POST":
                notes.append("idempotent POST")
            lines.append(
                f"| `client.{attribute}.{op.method_name}` | {op.http_method} | `{op.path}` | `{op.operation_id}` | {', '.join(notes)} |"
            )
    return "\n".join(lines) + "\n"


def render_resources(
    project: Any, doc: dict[str, Any], config: ResourceConfig, out_dir: Path, docs_path: Path
) -> None:
    """Write ``out_dir`` (the ``_resources`` package) and the operations table at ``docs_path``."""
    resources = collect(project, doc, config)
    out_dir.mkdir(parents=True, exist_ok=True)
    for attribute, (tag, ops) in resources.items():
        (out_dir / f"{attribute}.py").write_text(
            render_resource(attribute, tag, ops), encoding="utf-8"
        )
    (out_dir / "__init__.py").write_text(render_init(resources), encoding="utf-8")
    docs_path.parent.mkdir(parents=True, exist_ok=True)
    docs_path.write_text(render_operations_doc(resources), encoding="utf-8")
