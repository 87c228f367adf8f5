"""Reading requests the way the GetSales API does: typed fields, pagination, bracket filters.

- :class:`Fields` type-checks a JSON object against what the spec declares and collects every
  problem into one 422 ``validation_error`` (``error.data`` maps each field to its messages).
- :func:`page_from_query` / :func:`page_from_fields` read ``limit`` (default 20, 1-100), ``offset``
  (>= 0), ``order_field`` (default ``created_at``) and ``order_type`` (default ``desc``).
- :func:`filter_from_query` reads ``filter[field]=v``, ``filter[field][]=a`` and
  ``filter[field][>=]=v`` (and the JSON-string form ``filter={"object":"lead"}``).
- :func:`value_matches` applies one filter-value: a scalar means equals, a list IN, an object
  maps operators to values, ``is_null`` / ``is_not_null`` test for null.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ._errors import not_found, validation_error

if TYPE_CHECKING:
    from starlette.datastructures import QueryParams

    from ._state import EmulatorState

__all__ = [
    "DEFAULT_LIMIT",
    "EMPTY",
    "MAX_LIMIT",
    "Call",
    "Fields",
    "PageParams",
    "RawBody",
    "Record",
    "Reply",
    "delete_handler",
    "filter_from_query",
    "get_handler",
    "int_param",
    "list_handler",
    "page_from_fields",
    "page_from_query",
    "paginate",
    "public",
    "unique_name",
    "value_matches",
    "where",
]

Record = dict[str, Any]

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
MAX_INT32 = 2**31 - 1  # limit and offset are int32 in the spec
EMPTY: Any = object()
"""A :class:`Reply` body meaning "no content" on a 200 (``Reply(200, EMPTY)``), as some operations answer."""
_OPERATORS = frozenset({"=", "!=", "<>", "<", "<=", ">", ">="})
_BRACKET_KEY = re.compile(r"filter\[([^\]]+)\](.*)")
_OPERATOR_SUFFIX = re.compile(r"\[([^\]]*)\]")


@dataclass(frozen=True)
class Call:
    """One authenticated request, as a handler sees it."""

    state: EmulatorState
    team_id: int
    params: Mapping[str, str]
    """Path parameters."""
    query: QueryParams
    body: Any
    """The decoded JSON body (``None`` when there is none)."""


@dataclass(frozen=True)
class RawBody:
    """A :class:`Reply` body that is not JSON (a CSV download)."""

    content: bytes
    media_type: str


@dataclass(frozen=True)
class Reply:
    """A handler's answer: status, JSON body (none for 204) and extra headers."""

    status: int = 200
    body: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)


def public(record: Mapping[str, Any]) -> Record:
    """A record as the API returns it: emulator bookkeeping (keys starting with ``_``) removed."""
    return {k: v for k, v in record.items() if not k.startswith("_")}


def unique_name(
    fields: Fields, records: Iterable[Record], name: str | None, *, exclude: str | None = None
) -> None:
    """Record a 422 when another record already has this name (case-insensitive, trimmed)."""
    if name is None:
        return
    wanted = name.strip().casefold()
    if any(str(r["name"]).strip().casefold() == wanted and r["uuid"] != exclude for r in records):
        fields.fail("name", "The name has already been taken.")


class Fields:
    """Type-checks the fields of one JSON object; :meth:`done` raises a 422 listing every problem.

    Args:
        body: The decoded JSON (``None`` counts as an empty object).
        prefix: Prepended to field names in error keys (``"lead."``).
        errors: Shared error map (for nested objects); a new one by default.
    """

    def __init__(
        self, body: Any, *, prefix: str = "", errors: dict[str, list[str]] | None = None
    ) -> None:
        self.errors: dict[str, list[str]] = {} if errors is None else errors
        self.prefix = prefix
        if body is None:
            body = {}
        if not isinstance(body, dict):
            where = prefix.rstrip(".") or "body"
            self.fail("", f"The {where} must be a JSON object.")
            body = {}
        self.body: dict[str, Any] = body

    def fail(self, name: str, message: str) -> None:
        """Record a problem with field ``name``."""
        key = (self.prefix + name) or self.prefix.rstrip(".") or "body"
        self.errors.setdefault(key, []).append(message)

    def has(self, name: str) -> bool:
        """Whether the field was sent (even as ``null``)."""
        return name in self.body

    def _absent(self, name: str, *, required: bool, nullable: bool) -> bool:
        """True (after recording any problem) when the value is missing or null."""
        if self.body.get(name) is not None:
            return False
        if required:
            self.fail(name, f"The {name} field is required.")
        elif name in self.body and not nullable:
            self.fail(name, f"The {name} field may not be null.")
        return True

    def string(
        self,
        name: str,
        *,
        required: bool = False,
        nullable: bool = False,
        pattern: re.Pattern[str] | None = None,
    ) -> str | None:
        """A string field (``None`` when absent, null or invalid)."""
        if self._absent(name, required=required, nullable=nullable):
            return None
        value = self.body[name]
        if not isinstance(value, str):
            self.fail(name, f"The {name} must be a string.")
            return None
        if required and not value.strip():
            self.fail(name, f"The {name} field is required.")
            return None
        if pattern is not None and not pattern.fullmatch(value):
            self.fail(name, f"The {name} format is invalid.")
            return None
        return value

    def choice(
        self, name: str, values: Sequence[str], *, required: bool = False, nullable: bool = False
    ) -> str | None:
        """A string field restricted to ``values``."""
        value = self.string(name, required=required, nullable=nullable)
        if value is not None and value not in values:
            self.fail(name, f"The selected {name} is invalid (one of: {', '.join(values)}).")
            return None
        return value

    def boolean(self, name: str, default: bool) -> bool:
        """A boolean field (``default`` when absent)."""
        if self._absent(name, required=False, nullable=False):
            return default
        value = self.body[name]
        if not isinstance(value, bool):
            self.fail(name, f"The {name} field must be true or false.")
            return default
        return value

    def integer(
        self,
        name: str,
        *,
        nullable: bool = False,
        minimum: int | None = None,
        maximum: int | None = None,
    ) -> int | None:
        """An integer field (booleans are not integers)."""
        if self._absent(name, required=False, nullable=nullable):
            return None
        value = self.body[name]
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(name, f"The {name} must be an integer.")
            return None
        return _bounded(self, name, value, minimum, maximum)

    def strings(
        self, name: str, *, required: bool = False, nullable: bool = False
    ) -> list[str] | None:
        """An array-of-strings field."""
        if self._absent(name, required=required, nullable=nullable):
            return None
        value = self.body[name]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.fail(name, f"The {name} must be an array of strings.")
            return None
        return list(value)

    def integers(self, name: str, *, required: bool = False) -> list[int] | None:
        """An array-of-integers field (booleans are not integers)."""
        if self._absent(name, required=required, nullable=False):
            return None
        value = self.body[name]
        if not isinstance(value, list) or not all(
            isinstance(v, int) and not isinstance(v, bool) for v in value
        ):
            self.fail(name, f"The {name} must be an array of integers.")
            return None
        return list(value)

    def objects(
        self, name: str, *, required: bool = False, nullable: bool = False
    ) -> list[dict[str, Any]] | None:
        """An array-of-objects field."""
        if self._absent(name, required=required, nullable=nullable):
            return None
        value = self.body[name]
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            self.fail(name, f"The {name} must be an array of objects.")
            return None
        return list(value)

    def given(self, *names: str) -> dict[str, Any]:
        """The fields among ``names`` that were sent (``null`` included), for partial updates."""
        return {name: self.body[name] for name in names if name in self.body}

    def mapping(
        self, name: str, *, required: bool = False, nullable: bool = False
    ) -> dict[str, Any] | None:
        """An object field."""
        if self._absent(name, required=required, nullable=nullable):
            return None
        value = self.body[name]
        if not isinstance(value, dict):
            self.fail(name, f"The {name} must be an object.")
            return None
        return value

    def child(self, name: str, *, required: bool = False) -> Fields:
        """A nested object's fields, sharing this object's error map."""
        value = self.mapping(name, required=required)
        return Fields(value, prefix=f"{self.prefix}{name}.", errors=self.errors)

    def done(self) -> None:
        """Raise the 422 ``validation_error`` if any problem was recorded."""
        if self.errors:
            raise validation_error(self.errors)


def _bounded(
    fields: Fields, name: str, value: int, minimum: int | None, maximum: int | None
) -> int | None:
    if minimum is not None and value < minimum:
        fields.fail(name, f"The {name} must be at least {minimum}.")
        return None
    if maximum is not None and value > maximum:
        fields.fail(name, f"The {name} may not be greater than {maximum}.")
        return None
    return value


@dataclass(frozen=True)
class PageParams:
    """Pagination and sorting of one list request."""

    limit: int = DEFAULT_LIMIT
    offset: int = 0
    order_field: str = "created_at"
    order_type: str = "desc"
    order_given: bool = False
    """Whether the client chose ``order_field`` (some lists have another natural order)."""


def page_from_fields(fields: Fields) -> PageParams:
    """Pagination from a JSON body (POST search/list endpoints); problems go to ``fields``."""
    limit = fields.integer("limit", minimum=1, maximum=MAX_LIMIT)
    offset = fields.integer("offset", minimum=0, maximum=MAX_INT32)
    order_field = fields.string("order_field")
    order_type = fields.choice("order_type", ("asc", "desc"))
    return PageParams(
        limit=DEFAULT_LIMIT if limit is None else limit,
        offset=0 if offset is None else offset,
        order_field=order_field or "created_at",
        order_type=order_type or "desc",
        order_given=order_field is not None,
    )


def page_from_query(query: QueryParams) -> PageParams:
    """Pagination from the query string (GET lists); raises 422 on bad values."""
    raw: dict[str, Any] = {}
    fields = Fields(raw)
    for name in ("limit", "offset"):
        text = query.get(name)
        if any(key.startswith(f"{name}[") for key in query):
            fields.fail(name, f"The {name} must be an integer.")
        if text is None:
            continue
        try:
            raw[name] = int(text)
        except ValueError:
            fields.fail(name, f"The {name} must be an integer.")
    for name in ("order_field", "order_type"):
        if query.get(name):
            raw[name] = query[name]
    page = page_from_fields(fields)
    fields.done()
    return page


def filter_from_query(query: QueryParams) -> dict[str, Any]:
    """The ``filter`` of a GET list, from bracket parameters or a JSON string; 422 if malformed."""
    out: dict[str, Any] = {}
    for key, value in query.multi_items():
        if key == "filter":
            try:
                decoded = json.loads(value)
            except ValueError:
                decoded = None
            if not isinstance(decoded, dict):
                raise validation_error({"filter": ["The filter must be an object."]})
            out.update(decoded)
            continue
        match = _BRACKET_KEY.fullmatch(key)
        if match is None:
            continue
        field, rest = match.groups()
        if rest == "":
            out[field] = value
        elif rest == "[]":
            current = out.get(field)
            out[field] = [*current, value] if isinstance(current, list) else [value]
        else:
            operator = _OPERATOR_SUFFIX.fullmatch(rest)
            if operator is None:
                continue  # deeper nesting means nothing to the API: ignored
            current = out.get(field)
            ops = current if isinstance(current, dict) else {}
            ops[operator.group(1)] = value
            out[field] = ops
    return out


def _norm(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).casefold()


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _compare(actual: Any, operator: str, expected: Any) -> bool:
    if operator == "=":
        return _norm(actual) == _norm(expected)
    if operator in ("!=", "<>"):
        return _norm(actual) != _norm(expected)
    if actual is None or expected is None:
        return False
    a, b = _number(actual), _number(expected)
    left: Any = a if a is not None and b is not None else _norm(actual)
    right: Any = b if a is not None and b is not None else _norm(expected)
    if operator == "<":
        return bool(left < right)
    if operator == "<=":
        return bool(left <= right)
    if operator == ">":
        return bool(left > right)
    return bool(left >= right)


def value_matches(actual: Any, condition: Any, *, field: str = "filter") -> bool:
    """Whether a record value satisfies one filter-value (array values: any element).

    Raises:
        ApiError: 422 for an unknown operator.
    """
    if condition == "is_null":
        return actual is None or actual == []
    if condition == "is_not_null":
        return actual is not None and actual != []
    if isinstance(actual, list):
        return any(value_matches(item, condition, field=field) for item in actual)
    if isinstance(condition, list):
        return any(_norm(actual) == _norm(item) for item in condition)
    if isinstance(condition, dict):
        unknown = sorted(set(condition) - _OPERATORS)
        if unknown:
            raise validation_error({field: [f"Unknown filter operator(s): {', '.join(unknown)}."]})
        return all(_compare(actual, op, value) for op, value in condition.items())
    return _norm(actual) == _norm(condition)


def _sort_key(value: Any) -> tuple[int, Any]:
    number = _number(value) if not isinstance(value, str) else None
    if number is not None:
        return (0, number)
    if value is None:
        return (2, "")
    return (1, _norm(value))


def paginate(
    records: Iterable[Record],
    page: PageParams,
    *,
    natural_order: bool = False,
    render: Callable[[Record], Any] = public,
) -> dict[str, Any]:
    """The list envelope ``{data, limit, offset, total, has_more}`` of one page of records.

    Records come in creation order. They are sorted by ``page.order_field`` (creation order for
    ``created_at`` or an unknown field), or kept in the given order when ``natural_order`` is set
    and the client chose no ``order_field``. Items are rendered by ``render`` (by default the
    record without its private keys).
    """
    rows = list(records)
    field = page.order_field
    if not (natural_order and not page.order_given):
        if field != "created_at" and any(field in row for row in rows):
            rows.sort(key=lambda row: _sort_key(row.get(field)))
        if page.order_type == "desc":
            rows.reverse()
    window = rows[page.offset : page.offset + page.limit]
    return {
        "data": [render(row) for row in window],
        "limit": page.limit,
        "offset": page.offset,
        "total": len(rows),
        "has_more": page.offset + len(window) < len(rows),
    }


def where(
    records: Iterable[Record], conditions: Mapping[str, Any], *, text: Sequence[str]
) -> list[Record]:
    """Records matching a filter: ``q`` searches the ``text`` fields, other keys name fields.

    Keys that are not fields of a record are ignored (production answers some with a 500).
    """
    out = []
    for record in records:
        keep = True
        for key, condition in conditions.items():
            if key == "q":
                haystack = " ".join(str(record.get(f) or "") for f in text).casefold()
                keep = str(condition).casefold() in haystack
            elif key in record and not key.startswith("_"):
                keep = value_matches(record[key], condition, field=f"filter.{key}")
            if not keep:
                break
        if keep:
            out.append(record)
    return out


Table = Callable[["EmulatorState"], dict[str, Record]]


def list_handler(
    table: Table, *text: str, render: Callable[[Record], Any] = public
) -> Callable[[Call], Reply]:
    """A GET list handler over a table: bracket filters (``q`` over ``text``), then one page."""

    def handler(call: Call) -> Reply:
        page = page_from_query(call.query)
        records = call.state.of_team(table(call.state), call.team_id)
        found = where(records, filter_from_query(call.query), text=text)
        return Reply(200, paginate(found, page, render=render))

    return handler


def get_handler(table: Table, what: str, key: str = "uuid") -> Callable[[Call], Reply]:
    """A GET-by-uuid handler over a table: 200 with the record, or 404 naming ``what``."""

    def handler(call: Call) -> Reply:
        return Reply(
            200, public(call.state.get(table(call.state), call.team_id, call.params[key], what))
        )

    return handler


def int_param(call: Call, name: str, what: str) -> str:
    """An integer path parameter as its canonical text (the key of int-id tables); 404 otherwise."""
    text = call.params[name]
    if not text.isascii() or not text.isdigit() or len(text) > 18:
        raise not_found(what)
    return str(int(text))


def delete_handler(table: Table, what: str) -> Callable[[Call], Reply]:
    """A DELETE-by-uuid handler over a table: 204, or 404 naming ``what``."""

    def handler(call: Call) -> Reply:
        records = table(call.state)
        record = call.state.get(records, call.team_id, call.params["uuid"], what)
        del records[record["uuid"]]
        return Reply(204)

    return handler
