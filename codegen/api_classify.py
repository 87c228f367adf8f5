"""Classify one structural API change for users of this SDK: breaking, non-breaking or docs only.

The differ (api-smart-diff, run by ``codegen/api_diff.py``) reports where two normalised
descriptions differ as JSON paths (``paths/<url>/<method>/requestBody/.../properties/x``) with an
action (add, remove, replace, rename). Its own labels judge wire compatibility for any HTTP client;
an SDK breaks in more places (a removed response field is a removed model attribute, a newly
required request field is a new required argument), so every diff is classified here instead.

What breaks a user of this SDK (one branch below each; tests/test_api_classify.py is the table):

- operations: removed, renamed (another method name), moved to another tag (``client.<x>``);
- request side (parameters, body): a field or parameter removed, a new required one, an existing
  one newly required, a removed enum value, a changed type other than integer -> number, ``null``
  no longer accepted, a union member removed, a restructured schema, tightened limits;
- response side (2xx bodies): a field removed or no longer always present, a changed type other
  than number -> integer, a value that may now be ``null``, a removed enum value (its enum member
  disappears), a new union member; an added enum value does NOT break: response enums are open;
- models: a component schema removed (its class leaves ``getsales_async.models``).

Other changes to what the SDK generates are non-breaking; text-only ones (summaries,
descriptions, examples) are ``docs``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

__all__ = ["Finding", "Level", "classify", "model_name"]

Level = Literal["breaking", "non-breaking", "docs"]
Side = Literal["request", "response"]
Json = Any
Token = str | int
MethodName = Callable[[dict[str, Json]], str]  # operation object -> "client.leads.upsert"
Root = Callable[[dict[str, Json]], Json]  # document -> the schema a diff path starts from
Label = Callable[[str], str]  # field path text -> subject ("client.leads.upsert(lead.name)")

HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
DOC_KEYWORDS = {"summary", "description", "title", "example", "examples", "externalDocs", "xml"}
TYPED_FORMATS = {"date-time", "date", "binary", "byte", "uuid"}  # formats that change Python types
UPPER_LIMITS = {"maxLength", "maxItems", "maxProperties", "maximum", "exclusiveMaximum"}
LOWER_LIMITS = {"minLength", "minItems", "minProperties", "minimum", "exclusiveMinimum"}
RESTRUCTURING = {"allOf", "items", "not", "properties", "$ref"}
SCHEMA_REF = "#/components/schemas/"
MAX_REF_DEPTH = 32


@dataclass(frozen=True)
class Finding:
    """One classified change, found in one operation (``operation`` None: outside any)."""

    level: Level
    subject: str  # what user code touches: "client.leads.get()", "Lead.about", "WebhookEvent"
    message: str
    operation: str | None = None


@dataclass(frozen=True)
class Diff:
    """One raw diff of the differ, with the two normalised documents it was computed from."""

    path: tuple[Token, ...]
    action: str  # add | remove | replace | rename
    before: Json
    after: Json
    old: dict[str, Json]
    new: dict[str, Json]

    @property
    def value(self) -> Json:
        return self.before if self.action == "remove" else self.after

    def docs(self) -> tuple[dict[str, Json], dict[str, Json]]:
        """Both documents, the one holding the changed node first (old for removals)."""
        return (self.old, self.new) if self.action == "remove" else (self.new, self.old)


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
    if len(diff.path) >= 2 and diff.path[0] == "paths":
        return _path_item(diff, method_name)
    if diff.path[:2] == ("components", "schemas") and len(diff.path) == 3:
        return _model(diff)
    if diff.path[:1] == ("components",):
        return []  # reported through every operation that uses the component
    pointer = "/".join(map(str, diff.path))
    if diff.path[:1] in {("info",), ("tags",), ("externalDocs",)}:
        return [Finding("docs", "API description", f"`{pointer}` changed")]
    return [Finding("non-breaking", "API description", f"`{pointer}` {_verb(action)}")]


def model_name(component: str) -> str:
    """Class name the generator gives a component schema (``webhook-event`` -> ``WebhookEvent``)."""
    words = re.findall(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])", re.sub(r"[^A-Za-z0-9]+", " ", component))
    return "".join(w[:1].upper() + w[1:] for w in words)


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
        return [Finding("non-breaking", url, f"path-level `{method}` {_verb(diff.action)}")]
    if len(diff.path) == 3:
        return _added_or_removed(diff, method_name, url, method)
    first, second = diff.docs()
    name = method_name(_operation(first, url, method) or _operation(second, url, method) or {})
    found = _operation_part(diff, method_name, name, url, method)
    return [Finding(f.level, f.subject, f.message, f"{name}()") for f in found]


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
    return [Finding("non-breaking", f"{name}()", f"`{where}` {_verb(diff.action)}")]


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
    if rest[0] == "schema":

        def root(doc: dict[str, Json]) -> Json:
            for p in (_operation(doc, url, method) or {}).get("parameters") or []:
                if isinstance(p, dict) and p.get("name") == pname:
                    return p.get("schema")
            return None

        return _schema(diff, "request", rest[1:], root, lambda t: f"{name}({_join(pname, t)})")
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
        return _schema(diff, "request", rest[3:], root, lambda t: f"{name}({t})")
    return [Finding("docs", subject, "request body documentation changed")]


def _response(
    diff: Diff, name: str, url: str, method: str, status: str, rest: tuple[Token, ...]
) -> list[Finding]:
    subject, success = f"{name}()", status.startswith("2")
    if not rest:
        if diff.action == "remove" and success:
            return [Finding("breaking", subject, f"success response `{status}` removed")]
        return [Finding("non-breaking", subject, f"response `{status}` {_verb(diff.action)}")]
    if rest[0] == "content" and len(rest) == 2:
        what = f"response `{status}` media type `{rest[1]}` {_verb(diff.action)}"
        return [
            Finding(
                "breaking" if diff.action == "remove" and success else "non-breaking", subject, what
            )
        ]
    if rest[0] == "content" and len(rest) >= 3 and rest[2] == "schema":
        if not success:
            return [Finding("non-breaking", subject, f"error response `{status}` schema changed")]
        root = _media_schema(url, method, ("responses", status, "content", str(rest[1])))
        return _schema(
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


# --------------------------------------------------------------------------- schemas


@dataclass(frozen=True)
class Location:
    """Where a schema change is: field path, innermost component, the nodes, the leaf keyword."""

    field: tuple[str, ...]  # property names, "[]" for array items, "{}" for map values
    component: str | None  # innermost component schema the field lives in
    parent: dict[str, Json] | None  # the object schema holding the last field
    node: dict[str, Json] | None  # the schema the leaf keyword belongs to
    leaf: tuple[Token, ...]  # the keyword that changed: ("type",), ("enum", 3), () for a field


def _split(tokens: tuple[Token, ...]) -> tuple[list[tuple[str, int]], tuple[Token, ...]]:
    """Structural steps (keyword, width) and the leaf keyword after them."""
    steps: list[tuple[str, int]] = []
    i = 0
    while i < len(tokens):
        t, more = tokens[i], len(tokens) - i - 1
        if t == "properties" and more >= 1:
            steps.append(("properties", 2))
        elif t in ("items", "additionalProperties", "not") and more >= 1:
            steps.append((str(t), 1))
        elif t in ("allOf", "oneOf", "anyOf") and more >= 2:
            steps.append((str(t), 2))
        else:
            break
        i += steps[-1][1]
    return steps, tokens[i:]


def _deref(doc: dict[str, Json], node: Json) -> tuple[Json, str | None]:
    """Follow ``$ref`` chains to component schemas; return the target and its component name."""
    name = None
    for _ in range(MAX_REF_DEPTH):
        ref = node.get("$ref") if isinstance(node, dict) else None
        if not isinstance(ref, str) or not ref.startswith(SCHEMA_REF):
            break
        name = ref[len(SCHEMA_REF) :]
        node = ((doc.get("components") or {}).get("schemas") or {}).get(name)
    return node, name


def locate(doc: dict[str, Json], root: Json, tokens: tuple[Token, ...]) -> Location | None:
    """Follow ``tokens`` from the schema ``root`` of ``doc`` through ``$ref``s; None if absent."""
    steps, leaf = _split(tokens)
    node, component, field, parent, i = root, None, [], None, 0
    for kind, width in steps:
        node, name = _deref(doc, node)
        if name:
            component, field = name, []
        if not isinstance(node, dict):
            return None
        if kind == "properties":
            parent, prop = node, str(tokens[i + 1])
            field.append(prop)
            node = (node.get("properties") or {}).get(prop)
        elif kind in ("allOf", "oneOf", "anyOf"):
            members, index = node.get(kind) or [], tokens[i + 1]
            node = members[index] if isinstance(index, int) and index < len(members) else None
        else:
            field += {"items": ["[]"], "additionalProperties": ["{}"]}.get(kind, [])
            node = node.get(kind)
        i += width
    if leaf:  # the leaf keyword belongs to the node itself, behind its $ref if any
        node, name = _deref(doc, node)
        if name:
            component, field, parent = name, [], None
    if not isinstance(node, dict) and (leaf or parent is None):
        return None
    return Location(tuple(field), component, parent, node if isinstance(node, dict) else None, leaf)


def _schema(
    diff: Diff, side: Side, tokens: tuple[Token, ...], root: Root, label: Label
) -> list[Finding]:
    first, second = diff.docs()
    where = locate(first, root(first), tokens) or locate(second, root(second), tokens)
    if where is None:  # no counterpart in either document: name the field from the raw path
        _, leaf = _split(tokens)
        names = [str(t) for t in tokens[: len(tokens) - len(leaf)] if t != "properties"]
        where = Location(tuple(names), None, None, None, leaf)

    def subject(extra: str = "") -> str:
        text = _field_text((*where.field, extra) if extra else where.field)
        if where.component:
            model = model_name(where.component)
            return f"{model}.{text}" if text else model
        return label(text)

    before = locate(diff.old, root(diff.old), tokens)
    return _schema_leaf(diff, side, where, subject, before.node if before else None)


def _field_text(parts: Sequence[str]) -> str:
    text = ""
    for part in parts:
        text += part if part in ("[]", "{}") or not text else f".{part}"
    return text


def _join(first: str, rest: str) -> str:
    return f"{first}.{rest}" if rest and not rest.startswith("[") else f"{first}{rest}"


def _schema_leaf(
    diff: Diff,
    side: Side,
    where: Location,
    subject: Callable[..., str],
    previous: dict[str, Json] | None,
) -> list[Finding]:
    """Classify by the keyword that changed; ``previous`` is its schema in the old document."""
    key = str(where.leaf[0]) if where.leaf else ""
    if not where.leaf:
        return [_property(diff, side, where, subject())]
    if key == "required":
        names = diff.value if isinstance(diff.value, list) else [diff.value]
        return [f for n in names for f in _required(diff, side, where, str(n), subject(str(n)))]
    if key == "type":
        return [_type(diff, side, subject())]
    if key == "nullable":
        return [_nullable(diff, side, subject())]
    if key == "enum":
        return [_enum(diff, side, subject(), where.leaf, previous)]
    if key in ("oneOf", "anyOf"):
        return [_union(diff, side, subject(), where.leaf)]
    if key == "format":
        level: Level = "breaking" if {diff.before, diff.after} & TYPED_FORMATS else "docs"
        what = f"{side} format changed: {_show(diff.before)} → {_show(diff.after)}"
        return [Finding(level, subject(), what)]
    if key in RESTRUCTURING:
        return [
            Finding(
                "breaking", subject(), f"{side} schema restructured (`{key}` {_verb(diff.action)})"
            )
        ]
    if key == "additionalProperties":
        closed = side == "request" and diff.after is False
        what = "no longer accepted" if closed else "changed"
        return [
            Finding(
                "breaking" if closed else "non-breaking", subject(), f"{side} extra fields {what}"
            )
        ]
    if key in UPPER_LIMITS or key in LOWER_LIMITS or key == "pattern":
        return [_limit(diff, side, subject(), key)]
    return [_annotation(diff, side, subject(), key)]


def _annotation(diff: Diff, side: Side, subject: str, key: str) -> Finding:
    if key == "default":
        level: Level = "non-breaking" if side == "request" else "docs"
        return Finding(
            level, subject, f"{side} default changed: {_show(diff.before)} → {_show(diff.after)}"
        )
    if key == "deprecated":
        return Finding(
            "non-breaking",
            subject,
            f"{side} field {'deprecated' if diff.after else 'no longer deprecated'}",
        )
    if key in DOC_KEYWORDS or key.startswith("x-") or key in ("readOnly", "writeOnly"):
        return Finding("docs", subject, "documentation changed")
    return Finding("non-breaking", subject, f"{side} schema keyword `{key}` {_verb(diff.action)}")


def _property(diff: Diff, side: Side, where: Location, subject: str) -> Finding:
    if diff.action == "remove":
        return Finding("breaking", subject, f"{side} field removed")
    if diff.action != "add":
        return Finding("breaking", subject, f"{side} field replaced")
    required = (where.parent or {}).get("required") or []
    if side == "request" and where.field and where.field[-1] in required:
        return Finding("breaking", subject, "required request field added")
    return Finding(
        "non-breaking", subject, f"{'optional ' if side == 'request' else ''}{side} field added"
    )


def _required(diff: Diff, side: Side, where: Location, name: str, subject: str) -> list[Finding]:
    """An entry of ``required`` added or removed: the field ``name`` became required or optional."""
    if diff.action == "add":
        if side == "response":
            return [Finding("non-breaking", subject, "response field is now always present")]
        if not _had_property(diff, where, name):
            return []  # a new required field: reported once, by its property
        return [Finding("breaking", subject, "request field is now required")]
    if diff.action == "remove":
        if side == "request":
            return [Finding("non-breaking", subject, "request field is now optional")]
        return [Finding("breaking", subject, "response field may now be absent")]
    return []


def _had_property(diff: Diff, where: Location, name: str) -> bool:
    """Whether the object that now requires ``name`` already had that property (old document)."""
    holder = _walk(diff.old, diff.path[: len(diff.path) - len(where.leaf)])
    return isinstance(holder, dict) and name in (holder.get("properties") or {})


def _walk(doc: dict[str, Json], tokens: Sequence[Token]) -> Json:
    """The node at a differ path in ``doc``, following ``$ref``s on the way; None if absent."""
    node: Json = doc
    for token in tokens:
        node, _ = _deref(doc, node)
        if isinstance(node, dict):
            node = node.get(str(token))
        elif isinstance(node, list) and isinstance(token, int) and 0 <= token < len(node):
            node = node[token]
        else:
            return None
    return _deref(doc, node)[0]


def _type(diff: Diff, side: Side, subject: str) -> Finding:
    before, after = diff.before, diff.after
    if side == "request":
        safe = (before, after) == ("integer", "number") or after is None  # widened
    else:
        safe = (before, after) == ("number", "integer") or before is None  # narrowed
    what = f"{side} type changed: {_show(before)} → {_show(after)}"
    return Finding("non-breaking" if safe else "breaking", subject, what)


def _nullable(diff: Diff, side: Side, subject: str) -> Finding:
    now = diff.after is True
    if side == "request":
        what = "request value now accepts null" if now else "request value no longer accepts null"
        return Finding("non-breaking" if now else "breaking", subject, what)
    what = "response value may now be null" if now else "response value is no longer null"
    return Finding("breaking" if now else "non-breaking", subject, what)


def _enum(
    diff: Diff,
    side: Side,
    subject: str,
    leaf: tuple[Token, ...],
    previous: dict[str, Json] | None,
) -> Finding:
    new_enum = diff.action == "add" and previous is not None and "enum" not in previous
    if len(leaf) == 2 and not new_enum:  # one value added, removed or replaced
        if diff.action == "add":
            note = "; response enums are open" if side == "response" else ""
            return Finding("non-breaking", subject, f"{side} enum value `{diff.after}` added{note}")
        if diff.action == "remove":
            return Finding("breaking", subject, f"{side} enum value `{diff.before}` removed")
        what = f"{side} enum value `{diff.before}` replaced by `{diff.after}`"
        return Finding("breaking", subject, what)
    restricted = diff.action == "add"  # a closed list where any value was allowed, or back
    # (the differ may report a new enum value by value: each gives this same finding)
    breaking = (side == "request") == restricted
    what = f"{side} values {'restricted to an enum' if restricted else 'no longer an enum'}"
    return Finding("breaking" if breaking else "non-breaking", subject, what)


def _union(diff: Diff, side: Side, subject: str, leaf: tuple[Token, ...]) -> Finding:
    if len(leaf) == 2 and diff.action in ("add", "remove"):
        more = diff.action == "add"
        breaking = (side == "request") != more  # request: fewer shapes break; response: more do
        verb = "accepts" if side == "request" else "may return"
        what = f"{side} {verb} {'another shape' if more else 'one shape fewer'}"
        return Finding("breaking" if breaking else "non-breaking", subject, what)
    return Finding("breaking", subject, f"{side} union (`{leaf[0]}`) {_verb(diff.action)}")


def _limit(diff: Diff, side: Side, subject: str, key: str) -> Finding:
    before, after = diff.before, diff.after
    if key == "pattern":
        tighter = after is not None
    elif key in UPPER_LIMITS:
        tighter = after is not None and (before is None or _num(after) < _num(before))
    else:
        tighter = after is not None and (before is None or _num(after) > _num(before))
    what = f"{side} `{key}` changed: {_show(before)} → {_show(after)}"
    if side == "response":
        return Finding("docs", subject, what)
    return Finding("breaking" if tighter else "non-breaking", subject, what)


def _num(value: Json) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0


def _show(value: Json) -> str:
    if value is None:
        return "(none)"
    return "(schema)" if isinstance(value, dict | list) else f"`{value}`"


def _verb(action: str) -> str:
    verbs = {"add": "added", "remove": "removed", "replace": "changed", "rename": "renamed"}
    return verbs.get(action, action)
