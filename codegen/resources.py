"""Render the resource namespaces (``client.leads.search(...)``) and the operation table.

openapi-python-client parses the normalised spec once; ``codegen/generate.py`` hands its
``Project`` to :func:`render_resources`, which collects every operation's facts
(``codegen/operation_facts.py``) and writes ``getsales_async/_resources/``:

- ``_operations.py``: the ``OPERATIONS`` table, one :class:`getsales_async._operation.Operation`
  descriptor per operation, every fact the transport, the parser and the docs need (idempotency
  with the fact behind it, result kind, response shapes, local checks);
- one module per tag: a resource class whose methods coerce their arguments and pass them with
  their descriptor to ``BaseResource._gs_send``, and its ``with_raw_response`` twin;
- ``__init__.py``: the lazily-built namespaces mixin;

plus ``docs/operations.md``. Per operation, the generated method takes path parameters
positionally, query parameters and the JSON/multipart body's top-level fields as keyword
arguments, ``extra_body`` (fields the spec does not know) and ``request_options``; it returns the
parsed success model (``None`` for no content, ``bytes`` for downloads) or, for list and search
operations, an ``AsyncPaginator``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from operation_facts import GEN, PAGINATION_FIELDS, Op, Param, ResourceConfig, collect, pascal

__all__ = ["ResourceConfig", "render_resources"]

OPS = "_OPS"  # the name the resource modules give the operation table


def _doc(text: str, indent: str) -> str:
    text = text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"').strip()
    lines = text.splitlines() or [""]
    return "\n".join((indent + line) if line.strip() else "" for line in lines)


# ----------------------------------------------------------------------------- methods


def _signature(op: Op, *, paginated: bool) -> list[str]:
    lines = ["self,"]
    lines += [f"{p.name}: {p.type}," for p in op.path_params]
    lines.append("*,")
    keyword = [p for p in op.keyword_params if not (paginated and p.wire in PAGINATION_FIELDS)]
    lines += [f"{p.name}: {p.type}," for p in keyword if p.required]
    if op.body_kind == "whole":
        lines.append(
            f"body: {op.body_whole_type},"
            if op.body_required
            else f"body: {op.body_whole_type} = UNSET,"
        )
    lines += [f"{p.name}: {p.type} = {p.default}," for p in keyword if not p.required]
    if paginated:
        lines += [
            "page_size: int = MAX_PAGE_SIZE,",
            "start_offset: int = 0,",
            "concurrency: int = 1,",
        ]
    if op.body_kind == "model":
        lines.append("extra_body: Mapping[str, Any] | None = None,")
    lines.append("request_options: RequestOptionsArg = None,")
    return lines


def _call_args(op: Op) -> list[str]:
    args = [p.name for p in op.path_params]
    args += [f"{p.name}={p.name}" for p in op.keyword_params]
    if op.body_kind == "whole":
        args.append("body=body")
    if op.body_kind == "model":
        args.append("extra_body=extra_body")
    args.append("request_options=request_options")
    return args


def _coerced(p: Param, imports: list[str]) -> str:
    """The expression passing ``p`` to the endpoint, importing the class its coercion needs."""
    if p.coerce == "file":
        return f"coerce_file({p.name})"
    if p.cls is None:
        return p.name
    imports.append(f"from {p.module} import {p.cls}")
    if p.coerce == "enum":
        return f"coerce_enum({p.cls}, {p.name})"
    helper = "coerce_filter" if p.coerce == "filter" else "coerce_model"
    return f'{helper}({p.cls}, {p.name}, name="{p.name}")'


def _body(op: Op, imports: list[str], out: list[str]) -> str | None:
    """Statements building ``_body`` (appended to ``out``); the expression to pass, or None."""
    if op.body_kind == "model" and op.multipart:
        imports.append(f"from {op.body_module} import {op.body_class}")
        parts = ", ".join(f"{p.gen}={_coerced(p, imports)}" for p in op.body_fields)
        out += [f"_body = {op.body_class}({parts})", "if extra_body:"]
        out.append("    _body.additional_properties.update(extra_body)")
        return "_body"
    if op.body_kind == "model":
        imports.append(f"from {op.body_module} import {op.body_class}")
        pairs = ", ".join(f"{p.wire!r}: {p.name}" for p in op.body_fields)
        optional = "" if op.body_required else ", optional=True"
        return f"build_body({op.body_class}, {{{pairs}}}, extra_body{optional})"
    if op.body_kind == "whole" and op.body_whole_model:
        imports.append(f"from {op.body_whole_module} import {op.body_whole_model}")
        return f"coerce_body({op.body_whole_model}, body)"
    if op.body_kind == "whole":
        return "body"
    return None


def _impl(op: Op) -> list[str]:
    """Body of the raw `_name` method: coerce the arguments, then one `_gs_send` call.

    Locals start with an underscore: parameters are named after API fields (`body`, `filter`...).
    """
    imports: list[str] = []
    statements: list[str] = []
    arguments = [f'"{p.gen}": {_coerced(p, imports)}' for p in op.query_params]
    body = _body(op, imports, statements)
    if body is not None:
        arguments.append(f'"body": {body}')
    path = "".join(f"{p.name}, " for p in op.path_params)
    call = f'return await self._gs_send({OPS}["{op.operation_id}"], ({path}), {{{", ".join(arguments)}}}, request_options)'
    lines = sorted(set(imports))
    return [*lines, *([""] if lines else []), *statements, call]


def _method_doc(op: Op) -> list[str]:
    repeat = "yes" if op.idempotent else "no"
    return [
        op.summary,
        "",
        *op.description.splitlines()[:12],
        "",
        f"``{op.http_method} {op.path}`` (operation ``{op.operation_id}``).",
        f"Repeated after an ambiguous failure: {repeat} ({op.idempotency}).",
    ]


def _paginated_method(op: Op) -> list[str]:
    doc = [
        *_method_doc(op),
        "",
        "Returns an ``AsyncPaginator``: ``async for`` yields items across pages,",
        "``await`` gives the first page, ``.pages()`` iterates pages, ``.checkpoint()`` saves a resume point.",
    ]
    names = [p.name for p in op.path_params]
    names += [p.name for p in op.keyword_params if p.wire not in PAGINATION_FIELDS]
    names += ["extra_body"] if op.body_kind == "model" else []
    arguments = ", ".join(f'"{n}": {n}' for n in names)
    return [
        f"    def {op.method_name}(",
        *(f"        {s}" for s in _signature(op, paginated=True)),
        f"    ) -> AsyncPaginator[{op.item_type}, {op.return_type}]:",
        '        """' + _doc("\n".join(doc), "        ").lstrip(),
        '        """',
        "        return self._gs_paginate(",
        f'            {OPS}["{op.operation_id}"],',
        f"            self._{op.method_name},",
        f"            {{{arguments}}},",
        "            page_size=page_size,",
        "            start_offset=start_offset,",
        "            concurrency=concurrency,",
        "            request_options=request_options,",
        "        )",
    ]


def _methods(op: Op) -> list[str]:
    """The raw `_name` method and the public `name` method of one operation."""
    sig = [f"        {s}" for s in _signature(op, paginated=False)]
    lines = [
        "",
        f"    async def _{op.method_name}(",
        *sig,
        f"    ) -> RawResponse[{op.return_type}]:",
        f'        """{_doc(op.summary, "").strip() or op.operation_id} (raw response)."""',
        *(f"        {s}" if s else "" for s in _impl(op)),
        "",
    ]
    if op.page_kind:
        return lines + _paginated_method(op)
    return [
        *lines,
        f"    async def {op.method_name}(",
        *sig,
        f"    ) -> {op.return_type}:",
        '        """' + _doc("\n".join(_method_doc(op)), "        ").lstrip(),
        '        """',
        f"        return (await self._{op.method_name}({', '.join(_call_args(op))})).parsed",
    ]


HEADER = [
    "",
    "from __future__ import annotations",
    "",
    "import builtins",
    "from collections.abc import Mapping, Sequence",
    "from typing import TYPE_CHECKING, Any, Literal",
    "from uuid import UUID",
    "",
    "from getsales_async._arguments import build_body, coerce_body, coerce_enum, coerce_file, coerce_filter, coerce_model",
    "from getsales_async._config import MAX_PAGE_SIZE",
    f"from {GEN}.types import UNSET, File, Unset",
    "from getsales_async._pagination import AsyncPaginator",
    "from getsales_async._resource import BaseResource, RawResponse, RequestOptionsArg",
    "",
    f"from ._operations import OPERATIONS as {OPS}",
    "",
    "if TYPE_CHECKING:",
]


def render_resource(attribute: str, tag: str, ops: list[Op]) -> str:
    cls, raw_cls = pascal(attribute) + "Resource", pascal(attribute) + "ResourceWithRawResponse"
    imports = sorted({i for op in ops for i in op.type_imports if ".types import" not in i})
    lines = [f'"""The `{attribute}` resource: the "{tag}" operations of the GetSales API."""']
    lines += HEADER + ([f"    {i}" for i in imports] or ["    pass"])
    lines += ["", f'__all__ = ["{cls}", "{raw_cls}"]', "", ""]
    lines += [
        f"class {cls}(BaseResource):",
        f'    """{tag}: `client.{attribute}.<method>(...)`."""',
        "",
        "    @property",
        f"    def with_raw_response(self) -> {raw_cls}:",
        '        """The same methods, returning ``RawResponse`` (status, headers, parsed body)."""',
        f"        return {raw_cls}(self)",
    ]
    for op in ops:
        lines += _methods(op)
    lines += [
        "",
        "",
        f"class {raw_cls}:",
        f'    """`client.{attribute}.with_raw_response`: methods return ``RawResponse``."""',
        "",
        f"    def __init__(self, resource: {cls}) -> None:",
        *(f"        self.{op.method_name} = resource._{op.method_name}" for op in ops),
    ]
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------------------- the table


def _descriptor(op: Op, get_rule: str) -> list[str]:
    fields: list[tuple[str, Any]] = [
        ("operation_id", op.operation_id),
        ("resource", op.resource),
        ("method", op.method_name),
        ("http_method", op.http_method),
        ("path", op.path),
        ("endpoint", op.endpoint),
        ("path_params", tuple(p.name for p in op.path_params)),
        ("idempotent", op.idempotent),
        ("idempotency", op.idempotency),
        ("result", op.result),
        ("nullable", op.nullable),
        ("none_when_not_found", op.none_when_not_found),
        ("shapes", tuple(op.shapes)),
        ("declared_status", op.declared_status),
        ("accept", op.accept),
        ("page_kind", op.page_kind),
        ("page_in", op.page_in),
        ("require_any_of", tuple(tuple(g) for g in op.require_any_of)),
        ("require_one_of", tuple(tuple(g) for g in op.require_one_of)),
        ("search_window", op.search_window),
    ]
    defaults: dict[str, Any] = {
        "path_params": (),
        "idempotent": False,
        "result": "json",
        "nullable": False,
        "none_when_not_found": False,
        "shapes": (),
        "declared_status": 200,
        "accept": None,
        "page_kind": None,
        "page_in": None,
        "require_any_of": (),
        "require_one_of": (),
        "search_window": None,
    }
    lines = [f'    "{op.operation_id}": Operation(']
    for name, value in fields:
        if name in defaults and value == defaults[name]:
            continue
        code = "GET_RULE" if name == "idempotency" and value == get_rule else repr(value)
        lines.append(f"        {name}={code},")
    return [*lines, "    ),"]


def render_operations(resources: dict[str, tuple[str, list[Op]]], config: ResourceConfig) -> str:
    ops = sorted(
        (op for _tag, group in resources.values() for op in group), key=lambda o: o.operation_id
    )
    lines = [
        '"""The operation table: one descriptor per API operation (``getsales_async/_operation.py``).',
        "",
        "Every fact the transport, the parser and the docs need, in one reviewable file: above all",
        "``idempotent`` (whether the transport may repeat the call after an ambiguous failure) and",
        "the fact behind it, from ``overrides/resources.yaml``.",
        '"""',
        "",
        "from __future__ import annotations",
        "",
        "from getsales_async._operation import Operation",
        "",
        '__all__ = ["GET_RULE", "OPERATIONS"]',
        "",
        f"GET_RULE = {config.get_rule!r}",
        '"""Why every GET operation is safe to repeat (exceptions are listed in overrides/resources.yaml)."""',
        "",
        "OPERATIONS: dict[str, Operation] = {",
    ]
    for op in ops:
        lines += _descriptor(op, config.get_rule)
    return "\n".join([*lines, "}"]) + "\n"


def render_init(resources: dict[str, tuple[str, list[Op]]]) -> str:
    lines = [
        '"""Resource namespaces (``client.<resource>``) and the operation table, generated from the spec."""',
        "",
        "from __future__ import annotations",
        "",
        "from functools import cached_property",
        "from typing import TYPE_CHECKING, Any",
        "",
        "from getsales_async._operation import Operation",
        "",
        "if TYPE_CHECKING:",
        "    from ._operations import GET_RULE, OPERATIONS",
        *(f"    from .{a} import {pascal(a)}Resource" for a in resources),
        "",
        '__all__ = ["GET_RULE", "OPERATIONS", "Operation", "ResourcesMixin"]',
        "",
        "",
        "def __getattr__(name: str) -> Any:",
        '    """The operation table (``OPERATIONS``, ``GET_RULE``), loaded on first use, not at import."""',
        '    if name in ("GET_RULE", "OPERATIONS"):',
        "        from . import _operations",
        "",
        "        return getattr(_operations, name)",
        '    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")',
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
        "Generated by `make generate` from `openapi/bundled.yaml` and `overrides/resources.yaml`: every",
        "API operation and the client method that calls it. Methods marked *paginated* return an",
        "`AsyncPaginator`. *Repeated* says whether the SDK retries the call after an ambiguous failure",
        "(read timeout, connection lost after sending, 502/503/504, empty 200), and the fact that",
        "makes it safe or not; 429 answers are retried for every operation.",
        "",
        "| Client method | HTTP | Path | operationId | Repeated | Notes |",
        "|---|---|---|---|---|---|",
    ]
    for attribute, (_tag, ops) in resources.items():
        for op in ops:
            notes = ["paginated"] if op.page_kind else []
            for kind, groups in (("at least", op.require_any_of), ("exactly", op.require_one_of)):
                if groups:
                    options = ", ".join(" + ".join(f"`{f}`" for f in g) for g in groups)
                    notes.append(f"needs {kind} one of {options}")
            repeat = ("yes: " if op.idempotent else "no: ") + op.idempotency.replace("|", "\\|")
            lines.append(
                f"| `client.{attribute}.{op.method_name}` | {op.http_method} | `{op.path}` "
                f"| `{op.operation_id}` | {repeat} | {'; '.join(notes)} |"
            )
    return "\n".join(lines) + "\n"


def render_resources(
    project: Any, doc: dict[str, Any], config: ResourceConfig, out_dir: Path, docs_path: Path
) -> None:
    """Write ``out_dir`` (the ``_resources`` package) and the operations table at ``docs_path``."""
    resources = collect(project, doc, config)
    out_dir.mkdir(parents=True, exist_ok=True)
    for attribute, (tag, ops) in resources.items():
        text = render_resource(attribute, tag, ops)
        (out_dir / f"{attribute}.py").write_text(text, encoding="utf-8")
    (out_dir / "_operations.py").write_text(render_operations(resources, config), encoding="utf-8")
    (out_dir / "__init__.py").write_text(render_init(resources), encoding="utf-8")
    docs_path.parent.mkdir(parents=True, exist_ok=True)
    docs_path.write_text(render_operations_doc(resources), encoding="utf-8")
