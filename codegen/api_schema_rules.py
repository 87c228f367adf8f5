"""Classify a change inside a request or response schema for SDK users.

``classify_schema`` locates the change (field path, the innermost component schema, the keyword
that changed) in the document that holds it, then applies the rule for that keyword and side. The
rules are listed in ``codegen/api_classify.py``'s docstring; tests/test_api_classify.py is the
table.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from api_findings import (
    DOC_KEYWORDS,
    Diff,
    Finding,
    Json,
    Label,
    Level,
    Root,
    Side,
    Token,
    model_name,
    show,
    verb,
)
from spec_facts import REQUIRED_ALTERNATIVES_KEY

__all__ = ["Location", "classify_schema", "locate"]

TYPED_FORMATS = {"date-time", "date", "binary", "byte", "uuid"}  # formats that change Python types
UPPER_LIMITS = {"maxLength", "maxItems", "maxProperties", "maximum", "exclusiveMaximum"}
LOWER_LIMITS = {"minLength", "minItems", "minProperties", "minimum", "exclusiveMinimum"}
RESTRUCTURING = {"allOf", "items", "not", "properties", "$ref"}
SCHEMA_REF = "#/components/schemas/"
MAX_REF_DEPTH = 32


@dataclass(frozen=True)
class Location:
    """Where a schema change is: field path, innermost component, the nodes, the leaf keyword."""

    field: tuple[str, ...]  # property names, "[]" for array items, "{}" for map values
    component: str | None  # innermost component schema the field lives in
    parent: dict[str, Json] | None  # the object schema holding the last field
    node: dict[str, Json] | None  # the schema the leaf keyword belongs to
    leaf: tuple[Token, ...]  # the keyword that changed: ("type",), ("enum", 3), () for a field
    path: tuple[str, ...] = ()  # the field path from the root, across components
    # each component entered on the way: (name, where its fields start in ``path``)
    entries: tuple[tuple[str, int], ...] = ()


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
    node, i = root, 0
    path: list[str] = []
    entries: list[tuple[str, int]] = []
    parent: dict[str, Json] | None = None
    for kind, width in steps:
        node, name = _deref(doc, node)
        if name:
            entries.append((name, len(path)))
        if not isinstance(node, dict):
            return None
        if kind == "properties":
            parent, prop = node, str(tokens[i + 1])
            path.append(prop)
            node = (node.get("properties") or {}).get(prop)
        elif kind in ("allOf", "oneOf", "anyOf"):
            members, index = node.get(kind) or [], tokens[i + 1]
            node = members[index] if isinstance(index, int) and index < len(members) else None
        else:
            path += {"items": ["[]"], "additionalProperties": ["{}"]}.get(kind, [])
            node = node.get(kind)
        i += width
    if leaf:  # the leaf keyword belongs to the node itself, behind its $ref if any
        node, name = _deref(doc, node)
        if name:
            entries.append((name, len(path)))
            parent = None
    if not isinstance(node, dict) and (leaf or parent is None):
        return None
    component, start = entries[-1] if entries else (None, 0)
    return Location(
        tuple(path[start:]),
        component,
        parent,
        node if isinstance(node, dict) else None,
        leaf,
        tuple(path),
        tuple(entries),
    )


def classify_schema(
    diff: Diff, side: Side, tokens: tuple[Token, ...], root: Root, label: Label
) -> list[Finding]:
    first, second = diff.docs()
    where = locate(first, root(first), tokens) or locate(second, root(second), tokens)
    if where is None:  # no counterpart in either document: name the field from the raw path
        _, leaf = _split(tokens)
        names = [str(t) for t in tokens[: len(tokens) - len(leaf)] if t != "properties"]
        where = Location(tuple(names), None, None, None, leaf, tuple(names))
    before = locate(diff.old, root(diff.old), tokens)
    after = locate(diff.new, root(diff.new), tokens)
    owner = _owner(where, before, after)

    def subject(extra: str = "") -> str:
        component, start = owner
        parts = where.path[start:]
        text = _field_text((*parts, extra) if extra else parts)
        if component:
            model = model_name(component)
            return f"{model}.{text}" if text else model
        return label(text)

    if where.leaf and where.leaf[0] == REQUIRED_ALTERNATIVES_KEY:
        nodes = (before.node if before else None, after.node if after else None)
        return _alternatives(side, subject(), *nodes)
    return _schema_leaf(diff, side, where, subject, before.node if before else None)


def _owner(where: Location, *sides: Location | None) -> tuple[str | None, int]:
    """The model a change is named after: the innermost component both documents reach.

    A field whose ``$ref`` now points at another component (``filter-value`` -> ``object-type``)
    changed as a field of the outer model or argument, not inside either component.
    """
    entries = list(where.entries)
    for other in sides:
        if other is None:
            continue
        common = 0
        while (
            common < min(len(entries), len(other.entries))
            and entries[common] == other.entries[common]
        ):
            common += 1
        entries = entries[:common]
    return entries[-1] if entries else (None, 0)


def _field_text(parts: Sequence[str]) -> str:
    text = ""
    for part in parts:
        text += part if part in ("[]", "{}") or not text else f".{part}"
    return text


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
        what = f"{side} format changed: {show(diff.before)} → {show(diff.after)}"
        return [Finding(level, subject(), what)]
    if key in RESTRUCTURING:
        return [
            Finding(
                "breaking", subject(), f"{side} schema restructured (`{key}` {verb(diff.action)})"
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
            level, subject, f"{side} default changed: {show(diff.before)} → {show(diff.after)}"
        )
    if key == "deprecated":
        return Finding(
            "non-breaking",
            subject,
            f"{side} field {'deprecated' if diff.after else 'no longer deprecated'}",
        )
    if key in DOC_KEYWORDS or key.startswith("x-") or key in ("readOnly", "writeOnly"):
        return Finding("docs", subject, "documentation changed")
    return Finding("non-breaking", subject, f"{side} schema keyword `{key}` {verb(diff.action)}")


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


def _alternatives(
    side: Side, subject: str, before: dict[str, Json] | None, after: dict[str, Json] | None
) -> list[Finding]:
    """An ``anyOf``/``oneOf`` of ``required`` lists ("provide at least one of") added or changed.

    On the request side it constrains callers like a newly required field: breaking when a call
    that was valid before is now refused (the SDK checks it before sending), non-breaking when
    it is dropped or only relaxed, e.g. met by the fields already required. On the response side
    it states what the API sends and changes nothing users call: docs only.
    """
    if side == "response":
        return [Finding("docs", subject, "response field alternatives documented")]
    found: list[Finding] = []
    old_rules, new_rules = _rules_of(before), _rules_of(after)
    required = set((before or {}).get("required") or [])
    for key, how in (("anyOf", "at least one of"), ("oneOf", "exactly one of")):
        old, new = old_rules.get(key, []), new_rules.get(key, [])
        if {frozenset(g) for g in old} == {frozenset(g) for g in new}:
            continue
        if not new:
            found.append(
                Finding("non-breaking", subject, f"request no longer needs {how}: {_groups(old)}")
            )
            continue
        looser = key == "anyOf" and all(
            any(set(n) <= set(o) | required for n in new) for o in old or [[]]
        )
        what = f"request now needs {how}: {_groups(new)}"
        if old:
            what = f"request needs {how}: {_groups(new)} (was: {_groups(old)})"
        found.append(Finding("non-breaking" if looser else "breaking", subject, what))
    return found


def _rules_of(node: dict[str, Json] | None) -> dict[str, list[list[str]]]:
    rules = (node or {}).get(REQUIRED_ALTERNATIVES_KEY)
    if not isinstance(rules, dict):
        return {}
    return {
        str(key): [[str(f) for f in g] for g in groups if isinstance(g, list)]
        for key, groups in rules.items()
        if isinstance(groups, list)
    }


def _groups(groups: list[list[str]]) -> str:
    return " | ".join("+".join(f"`{f}`" for f in g) for g in groups)


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
    what = f"{side} type changed: {show(before)} → {show(after)}"
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
        does = "accepts" if side == "request" else "may return"
        what = f"{side} {does} {'another shape' if more else 'one shape fewer'}"
        return Finding("breaking" if breaking else "non-breaking", subject, what)
    return Finding("breaking", subject, f"{side} union (`{leaf[0]}`) {verb(diff.action)}")


def _limit(diff: Diff, side: Side, subject: str, key: str) -> Finding:
    before, after = diff.before, diff.after
    if key == "pattern":
        tighter = after is not None
    elif key in UPPER_LIMITS:
        tighter = after is not None and (before is None or _num(after) < _num(before))
    else:
        tighter = after is not None and (before is None or _num(after) > _num(before))
    what = f"{side} `{key}` changed: {show(before)} → {show(after)}"
    if side == "response":
        return Finding("docs", subject, what)
    return Finding("breaking" if tighter else "non-breaking", subject, what)


def _num(value: Json) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0
