"""Classify one structural API change for users of this SDK: breaking, non-breaking or docs only.

The differ (api-smart-diff, run by ``codegen/api_diff.py``) reports where two normalised
descriptions differ as JSON paths (``paths/<url>/<method>/requestBody/.../properties/x``) with an
action (add, remove, replace, rename). Its own labels judge wire compatibility for any HTTP client;
an SDK breaks in more places (a removed response field is a removed model attribute, a newly
required request field is a new required argument), so every diff is classified here instead.

This module classifies what surrounds schemas (operations, parameters, bodies, responses, models);
``codegen/api_schema_rules.py`` classifies changes inside a schema. What breaks a user of this SDK
(one branch each; tests/test_api_classify.py is the table):

- operations: removed, renamed (another method name), moved to another tag (``client.<x>``),
  a parameter renamed (path parameters are positional-or-keyword arguments);
- request side (parameters, body): a field or parameter removed, a new required one, an existing
  one newly required, a new or tightened "provide at least / exactly one of" rule
  (``x-getsales-required-alternatives``: a call that was valid is refused), a removed enum value,
  a changed type other than integer -> number, ``null`` no longer accepted, a union member
  removed, a restructured schema, tightened limits;
- response side (2xx bodies): a field removed or no longer always present, a changed type other
  than number -> integer, a value that may now be ``null``, a removed enum value (its enum member
  disappears), a new union member; an added enum value does NOT break: response enums are open;
- models: a component schema removed (its class leaves ``getsales_async.models``).

Other changes to what the SDK generates are non-breaking; text-only ones (summaries,
descriptions, examples) are ``docs``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from api_findings import (
    DOC_KEYWORDS,
    Diff,
    Finding,
    Json,
    Level,
    Root,
    Token,
    model_name,
    verb,
)
from api_schema_rules import classify_schema, locate

__all__ = ["Finding", "Level", "MethodName", "classify", "locate", "model_name"]

MethodName = Callable[[dict[str, Json]], str]  # operation object -> "client.leads.upsert"
HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")


def classify(
    path: Sequence[Token],
    action: str,
    before: Json,
    after: Json,
    old: dict[str, Json],
    new: dict[str, Json],
    method_name: MethodName,
) -> list[Finding]:
    """Classify one diff of the differ; ``old``/``new`` are the normalised documents it compared."""
    diff = Diff(tuple(path), action, before, after, old, new)
    if diff.path == ("paths",) and action == "rename":
        return _path_renamed(diff, method_name)
    if len(diff.path) >= 2 and diff.path[0] == "paths":
        return _path_item(diff, method_name)
    if diff.path[:2] == ("components", "schemas") and len(diff.path) == 3:
        return _model(diff)
    if diff.path[:1] == ("components",):
        return []  # reported through every operation that uses the component
    pointer = "/".join(map(str, diff.path))
    if diff.path[:1] in {("info",), ("tags",), ("externalDocs",)}:
        return [Finding("docs", "API description", f"`{pointer}` changed")]
    return [Finding("non-breaking", "API description", f"`{pointer}` {verb(action)}")]


# --------------------------------------------------------------------------- operations


def _model(diff: Diff) -> list[Finding]:
    name = model_name(str(diff.path[2]))
    if diff.action == "remove":
        return [Finding("breaking", name, "model removed from getsales_async.models")]
    if diff.action == "add":
        return [Finding("non-breaking", name, "model added to getsales_async.models")]
    return []


def _operation(doc: dict[str, Json], url: str, method: str) -> dict[str, Json] | None:
    op = ((doc.get("paths") or {}).get(url) or {}).get(method)
    return op if isinstance(op, dict) else None


def _path_item(diff: Diff, method_name: MethodName) -> list[Finding]:
    url = str(diff.path[1])
    if len(diff.path) == 2:  # a whole path item added or removed: one finding per operation
        item = diff.value if isinstance(diff.value, dict) else {}
        methods = [m for m in HTTP_METHODS if isinstance(item.get(m), dict)]
        return [f for m in methods for f in _added_or_removed(diff, method_name, url, m)]
    method = str(diff.path[2])
    if method not in HTTP_METHODS:
        return [Finding("non-breaking", url, f"path-level `{method}` {verb(diff.action)}")]
    if len(diff.path) == 3:
        return _added_or_removed(diff, method_name, url, method)
    first, second = diff.docs()
    name = method_name(_operation(first, url, method) or _operation(second, url, method) or {})
    found = _operation_part(diff, method_name, name, url, method)
    return [Finding(f.level, f.subject, f.message, f"{name}()") for f in found]


def _path_renamed(diff: Diff, method_name: MethodName) -> list[Finding]:
    """A path template changed (a path parameter renamed): the methods keep their names."""
    item = (diff.new.get("paths") or {}).get(str(diff.after)) or {}
    what = f"path changed: `{diff.before}` → `{diff.after}`"
    return [
        Finding("non-breaking", f"{method_name(op)}()", what, f"{method_name(op)}()")
        for m, op in item.items()
        if m in HTTP_METHODS and isinstance(op, dict)
    ]


def _added_or_removed(diff: Diff, method_name: MethodName, url: str, method: str) -> list[Finding]:
    first, second = diff.docs()
    label = method_name(_operation(first, url, method) or _operation(second, url, method) or {})
    where = f"{method.upper()} {url}"
    if diff.action == "remove":
        return [Finding("breaking", f"{label}()", f"operation removed ({where})", f"{label}()")]
    return [Finding("non-breaking", f"{label}()", f"operation added ({where})", f"{label}()")]


def _operation_part(
    diff: Diff, method_name: MethodName, name: str, url: str, method: str
) -> list[Finding]:
    rest = diff.path[3:]
    head = str(rest[0])
    if head == "parameters" and len(rest) >= 2:
        return _parameter(diff, name, url, method, rest[1], rest[2:])
    if head == "requestBody":
        return _request_body(diff, name, url, method, rest[1:])
    if head == "responses" and len(rest) >= 2:
        return _response(diff, name, url, method, str(rest[1]), rest[2:])
    if head in ("operationId", "tags"):
        return _renamed(diff, method_name, url, method)
    if head == "deprecated":
        what = "operation deprecated" if diff.after else "operation no longer deprecated"
        return [Finding("non-breaking", f"{name}()", what)]
    if head in DOC_KEYWORDS or head.startswith("x-"):
        return [Finding("docs", f"{name}()", "documentation changed")]
    where = "/".join(map(str, rest))
    return [Finding("non-breaking", f"{name}()", f"`{where}` {verb(diff.action)}")]


def _renamed(diff: Diff, method_name: MethodName, url: str, method: str) -> list[Finding]:
    old_name = method_name(_operation(diff.old, url, method) or {})
    new_name = method_name(_operation(diff.new, url, method) or {})
    if old_name == new_name:
        return [Finding("docs", f"{new_name}()", "operation id or tag changed, method name kept")]
    return [Finding("breaking", f"{old_name}()", f"method renamed to `{new_name}()`")]


# --------------------------------------------------------------------------- request and response


def _parameter(
    diff: Diff, name: str, url: str, method: str, index: Token, rest: tuple[Token, ...]
) -> list[Finding]:
    param = _parameter_object(diff, url, method, index)
    pname = str(param.get("name", f"#{index}"))
    subject = f"{name}({pname})"
    kind = "path parameter" if param.get("in") == "path" else "parameter"
    if not rest:
        if diff.action == "remove":
            return [Finding("breaking", subject, f"{kind} removed")]
        if param.get("required"):
            return [Finding("breaking", subject, f"required {kind} added")]
        return [Finding("non-breaking", subject, f"optional {kind} added")]
    if rest == ("required",):
        return [_required_flag(diff, subject, kind)]
    if rest == ("name",):  # matched by position: a renamed argument breaks keyword callers
        what = f"{kind} renamed to `{diff.after}`"
        return [Finding("breaking", f"{name}({diff.before})", what)]
    if rest[0] == "schema":

        def root(doc: dict[str, Json]) -> Json:
            for p in (_operation(doc, url, method) or {}).get("parameters") or []:
                if isinstance(p, dict) and p.get("name") == pname:
                    return p.get("schema")
            return None

        return classify_schema(
            diff, "request", rest[1:], root, lambda t: f"{name}({_join(pname, t)})"
        )
    if rest[0] in ("style", "explode", "content", "allowReserved"):
        return [Finding("non-breaking", subject, f"{kind} serialisation changed (`{rest[0]}`)")]
    return [Finding("docs", subject, "documentation changed")]


def _parameter_object(diff: Diff, url: str, method: str, index: Token) -> dict[str, Json]:
    if len(diff.path) == 5 and isinstance(diff.value, dict):
        return diff.value
    for doc in (diff.old, diff.new):  # kept parameters carry their index in the old list
        params = (_operation(doc, url, method) or {}).get("parameters") or []
        if isinstance(index, int) and 0 <= index < len(params) and isinstance(params[index], dict):
            return dict(params[index])
    return {}


def _required_flag(diff: Diff, subject: str, kind: str) -> Finding:
    if diff.value is True and diff.action != "remove":
        return Finding("breaking", subject, f"{kind} is now required")
    return Finding("non-breaking", subject, f"{kind} is now optional")


def _request_body(
    diff: Diff, name: str, url: str, method: str, rest: tuple[Token, ...]
) -> list[Finding]:
    subject = f"{name}()"
    if not rest:
        if diff.action == "remove":
            return [Finding("breaking", subject, "request body removed")]
        if isinstance(diff.after, dict) and diff.after.get("required") is True:
            return [Finding("breaking", subject, "required request body added")]
        return [Finding("non-breaking", subject, "optional request body added")]
    if rest == ("required",):
        return [_required_flag(diff, subject, "request body")]
    if rest[0] == "content" and len(rest) == 2:
        if diff.action == "remove":
            return [Finding("breaking", subject, f"request body no longer accepts `{rest[1]}`")]
        return [Finding("non-breaking", subject, f"request body also accepts `{rest[1]}`")]
    if rest[0] == "content" and len(rest) >= 3 and rest[2] == "schema":
        root = _media_schema(url, method, ("requestBody", "content", str(rest[1])))
        return classify_schema(diff, "request", rest[3:], root, lambda t: f"{name}({t})")
    return [Finding("docs", subject, "request body documentation changed")]


def _response(
    diff: Diff, name: str, url: str, method: str, status: str, rest: tuple[Token, ...]
) -> list[Finding]:
    subject, success = f"{name}()", status.startswith("2")
    if not rest:
        if diff.action == "remove" and success:
            return [Finding("breaking", subject, f"success response `{status}` removed")]
        return [Finding("non-breaking", subject, f"response `{status}` {verb(diff.action)}")]
    if rest[0] == "content" and len(rest) == 2:
        what = f"response `{status}` media type `{rest[1]}` {verb(diff.action)}"
        return [
            Finding(
                "breaking" if diff.action == "remove" and success else "non-breaking", subject, what
            )
        ]
    if rest[0] == "content" and len(rest) >= 3 and rest[2] == "schema":
        if not success:
            return [Finding("non-breaking", subject, f"error response `{status}` schema changed")]
        root = _media_schema(url, method, ("responses", status, "content", str(rest[1])))
        return classify_schema(
            diff, "response", rest[3:], root, lambda t: f"{name}() → {t}" if t else subject
        )
    if rest[0] == "headers":
        return [Finding("non-breaking", subject, f"response `{status}` headers changed")]
    return [Finding("docs", subject, f"response `{status}` documentation changed")]


def _media_schema(url: str, method: str, keys: tuple[str, ...]) -> Root:
    def root(doc: dict[str, Json]) -> Json:
        node: Json = _operation(doc, url, method)
        for key in keys:
            node = node.get(key) if isinstance(node, dict) else None
        return node.get("schema") if isinstance(node, dict) else None

    return root


def _join(first: str, rest: str) -> str:
    return f"{first}.{rest}" if rest and not rest.startswith("[") else f"{first}{rest}"
