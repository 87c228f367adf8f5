"""Facts read from the normalised spec that openapi-python-client's parse does not keep.

The generator drops ``content:`` media types of parameters, the spec's ``anyOf``/``oneOf`` of
``required`` lists and the media types of responses. ``codegen/normalize.py`` records the first two
as extensions (``x-getsales-content-type`` on a parameter, ``x-getsales-required-alternatives``
on a schema); this module reads them back, keyed the way the parsed endpoints can be looked up:
``(METHOD, path with snake_case placeholders)``.

:func:`install_template_globals` makes them available to the endpoint templates
(``query_content_type(endpoint, parameter)``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "CONTENT_TYPE_KEY",
    "REQUIRED_ALTERNATIVES_KEY",
    "SpecOperation",
    "install_template_globals",
    "path_key",
    "spec_operations",
    "spec_text",
]

CONTENT_TYPE_KEY = "x-getsales-content-type"
REQUIRED_ALTERNATIVES_KEY = "x-getsales-required-alternatives"
HTTP_METHODS = ("get", "put", "post", "delete", "patch")


def snake(name: str) -> str:
    """openapi-python-client's snake case (``flowUuid`` -> ``flow_uuid``)."""
    words = re.findall(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+", name)
    return "_".join(w.lower() for w in words)


def path_key(path: str) -> str:
    """The generator snake-cases path placeholders (`{flowUuid}` -> `{flow_uuid}`); compare that way."""
    return re.sub(r"{([^}]+)}", lambda m: "{" + snake(m.group(1)) + "}", path)


@dataclass
class SpecOperation:
    """What the spec says about one operation beyond the generator's parse."""

    operation_id: str
    tag: str
    success_media_types: list[str] = field(default_factory=list)
    query_content_types: dict[str, str] = field(default_factory=dict)
    required_alternatives: dict[str, Any] | None = None


def resolve(doc: dict[str, Any], node: Any) -> Any:
    """Follow local ``$ref`` pointers until a concrete node (a cycle or foreign ref stops)."""
    seen: set[str] = set()
    while isinstance(node, dict) and isinstance(node.get("$ref"), str):
        ref = node["$ref"]
        if not ref.startswith("#/") or ref in seen:
            return node
        seen.add(ref)
        target: Any = doc
        for part in ref[2:].split("/"):
            target = (target or {}).get(part.replace("~1", "/").replace("~0", "~"))
        node = target
    return node


def _parameters(doc: dict[str, Any], item: dict[str, Any], op: dict[str, Any]) -> list[Any]:
    own = [resolve(doc, p) for p in op.get("parameters") or []]
    names = {(p.get("in"), p.get("name")) for p in own if isinstance(p, dict)}
    shared = [resolve(doc, p) for p in item.get("parameters") or []]
    shared = [
        p for p in shared if isinstance(p, dict) and (p.get("in"), p.get("name")) not in names
    ]
    return [p for p in own + shared if isinstance(p, dict)]


def _body_alternatives(doc: dict[str, Any], op: dict[str, Any]) -> dict[str, Any] | None:
    body = resolve(doc, op.get("requestBody"))
    for media in ((body or {}).get("content") or {}).values():
        schema = resolve(doc, (media or {}).get("schema"))
        parts = [schema, *(resolve(doc, p) for p in (schema or {}).get("allOf") or [])]
        for part in parts:
            if isinstance(part, dict) and isinstance(part.get(REQUIRED_ALTERNATIVES_KEY), dict):
                found: dict[str, Any] = part[REQUIRED_ALTERNATIVES_KEY]
                return found
    return None


def _success_media(op: dict[str, Any]) -> list[str]:
    found: list[str] = []
    for code, response in (op.get("responses") or {}).items():
        if str(code).startswith("2") and isinstance(response, dict):
            found += [m for m in (response.get("content") or {}) if m not in found]
    return found


def spec_operations(doc: dict[str, Any]) -> dict[tuple[str, str], SpecOperation]:
    """``(METHOD, path_key)`` -> :class:`SpecOperation` for every operation of the normalised spec."""
    index: dict[tuple[str, str], SpecOperation] = {}
    for path, item in (doc.get("paths") or {}).items():
        if not isinstance(item, dict):
            continue
        for method in HTTP_METHODS:
            op = item.get(method)
            if not isinstance(op, dict):
                continue
            content_types = {
                str(p["name"]): str(p[CONTENT_TYPE_KEY])
                for p in _parameters(doc, item, op)
                if p.get("in") == "query" and CONTENT_TYPE_KEY in p
            }
            index[(method.upper(), path_key(path))] = SpecOperation(
                operation_id=str(op["operationId"]),
                tag=str((op.get("tags") or ["default"])[0]),
                success_media_types=_success_media(op),
                query_content_types=content_types,
                required_alternatives=_body_alternatives(doc, op),
            )
    return index


def install_template_globals(env: Any, doc: dict[str, Any]) -> None:
    """Give the endpoint templates ``query_content_type(endpoint, parameter)``.

    It returns the media type a query parameter was declared with (``content:``), or ``""`` for
    an ordinary ``schema:`` parameter.
    """
    index = spec_operations(doc)

    def query_content_type(endpoint: Any, parameter: Any) -> str:
        key = (str(endpoint.method).upper(), path_key(spec_text(endpoint.path)))
        found = index.get(key)
        return found.query_content_types.get(spec_text(parameter.name), "") if found else ""

    env.globals["query_content_type"] = query_content_type


def spec_text(value: Any) -> str:
    """A spec string as ``str`` (``""`` for none): strings are ``UntrustedString`` in 0.29.1,
    embedded only through escaping helpers."""
    if value is None:
        return ""
    getter = getattr(value, "get_untrusted_value", None)
    return str(getter() if getter else value)
