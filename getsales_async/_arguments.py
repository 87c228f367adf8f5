"""Arguments of the generated resource methods: coerced to what the API takes, checked before sending.

Generated methods call these (``_generated/`` itself never imports the overlay). Everything here
runs before any request, and a bad argument raises :class:`~getsales_async.ArgumentError` with one
line that says what to do:

- values users already hold are accepted: ``uuid.UUID`` (sent as its string), ``datetime``/``date``
  (ISO 8601), enum members or their string values, generated models or plain mappings;
- path parameters must be non-empty and not ``.`` or ``..`` (httpx would collapse such a segment,
  so ``lists.get('.')`` would reach the list collection);
- keys of deepObject query objects (``filter[key]=v``) may not contain ``[`` or ``]``, which would
  change the structure of the encoded query;
- the spec's alternatives of required body fields (``anyOf``/``oneOf`` of ``required`` lists) and
  the 10,000-result search window are checked from the operation's descriptor.
"""

from __future__ import annotations

import datetime
import enum
import io
import uuid
from collections.abc import Callable, Mapping
from typing import Any, TypeVar, overload

import attrs

from ._errors import ArgumentError, PaginationWindowError
from ._generated.types import UNSET, File, Unset
from ._operation import Operation

__all__ = [
    "MAX_ARGUMENT_DEPTH",
    "build_body",
    "check_filter_keys",
    "check_path_params",
    "check_request",
    "coerce_body",
    "coerce_enum",
    "coerce_file",
    "coerce_filter",
    "coerce_model",
    "to_jsonable",
]

MAX_ARGUMENT_DEPTH = 64  # nesting levels of a mapping/list argument (a cycle would recurse forever)

M = TypeVar("M")
E = TypeVar("E", bound=enum.Enum)


def _too_deep() -> ArgumentError:
    return ArgumentError(
        f"argument nested deeper than {MAX_ARGUMENT_DEPTH} levels (a mapping that contains "
        "itself?); pass plain JSON-like data"
    )


def to_jsonable(value: Any, _depth: int = 0) -> Any:
    """JSON-ready data: models via ``to_dict``, UUIDs and enums as their values, dates in ISO 8601.

    Mappings and sequences are converted recursively; ``UNSET`` entries of mappings are dropped.

    Raises:
        ArgumentError: the value nests deeper than :data:`MAX_ARGUMENT_DEPTH` levels.
    """
    if _depth > MAX_ARGUMENT_DEPTH:
        raise _too_deep()
    if isinstance(value, enum.Enum):
        return value.value
    if value is None or isinstance(value, (str, int, float)):
        return value
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    if attrs.has(type(value)) and hasattr(value, "to_dict"):
        return to_jsonable(value.to_dict(), _depth + 1)
    if isinstance(value, Mapping):
        return {
            str(k): to_jsonable(v, _depth + 1) for k, v in value.items() if not isinstance(v, Unset)
        }
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v, _depth + 1) for v in value]
    return value


# ----------------------------------------------------------------------------- checks


def check_path_params(op: Operation, values: tuple[Any, ...]) -> None:
    """Raise ArgumentError unless every path parameter is a non-empty segment other than . and ..

    The value is still percent-encoded when the URL is built (``a/b`` stays one segment).
    """
    for name, value in zip(op.path_params, values, strict=True):
        where = f"{op.resource}.{op.method}(): {name}"
        if isinstance(value, bool) or not isinstance(value, (str, int, uuid.UUID)):
            raise ArgumentError(f"{where} must be a string (or UUID), got {type(value).__name__}")
        if str(value) in ("", ".", ".."):
            raise ArgumentError(
                f"{where}={str(value)!r} would change the request path "
                f"({op.http_method} {op.path}); give the {name} of an existing record"
            )


def check_filter_keys(name: str, value: Any, _depth: int = 0) -> None:
    """Raise ArgumentError if a key of a deepObject query object contains ``[`` or ``]``."""
    if _depth > MAX_ARGUMENT_DEPTH:
        raise _too_deep()
    if isinstance(value, Mapping):
        for key, sub in value.items():
            if "[" in str(key) or "]" in str(key):
                raise ArgumentError(
                    f"{name} key {str(key)!r} contains '[' or ']', which would change the "
                    f"encoded {name}[...] query; use the plain field name and nest operators "
                    f"as a mapping, e.g. {{'created_at': {{'>=': '2024-01-01'}}}}"
                )
            check_filter_keys(name, sub, _depth + 1)
    elif isinstance(value, (list, tuple)):
        for item in value:
            check_filter_keys(name, item, _depth + 1)


def check_request(op: Operation, request: Mapping[str, Any]) -> None:
    """Checks on the built request: required alternatives of body fields, the search window."""
    body = request.get("json")
    if op.require_any_of or op.require_one_of:
        _check_alternatives(op, body if isinstance(body, Mapping) else {})
    if op.search_window is not None:
        page = request.get("params") if op.page_in == "query" else body
        if isinstance(page, Mapping):
            offset, limit = page.get("offset"), page.get("limit")
            if (
                isinstance(offset, int)
                and isinstance(limit, int)
                and offset + limit > op.search_window
            ):
                raise PaginationWindowError(offset=offset, limit=limit, window=op.search_window)


def _complete(groups: tuple[tuple[str, ...], ...], given: set[str]) -> list[str]:
    return [" + ".join(g) for g in groups if all(field in given for field in g)]


def _check_alternatives(op: Operation, body: Mapping[str, Any]) -> None:
    given = {k for k, v in body.items() if v is not None and v != ""}
    where = f"{op.resource}.{op.method}()"
    if op.require_any_of and not _complete(op.require_any_of, given):
        options = ", ".join(" + ".join(g) for g in op.require_any_of)
        raise ArgumentError(f"{where} needs at least one of: {options}")
    if op.require_one_of:
        complete = _complete(op.require_one_of, given)
        options = ", ".join(" + ".join(g) for g in op.require_one_of)
        if not complete:
            raise ArgumentError(f"{where} needs exactly one of: {options}")
        if len(complete) > 1:
            raise ArgumentError(
                f"{where} takes exactly one of: {options} (got {'; '.join(complete)}); "
                "leave out the others"
            )


# ----------------------------------------------------------------------------- coercions


def _from_dict(model: type[M], payload: Any, what: str) -> M:
    from_dict: Callable[[Any], M] = model.from_dict  # type: ignore[attr-defined]
    try:
        return from_dict(payload)
    except KeyError as exc:
        raise ArgumentError(f"{what} needs the field {exc.args[0]!r}") from exc
    except (ValueError, TypeError, AttributeError) as exc:
        raise ArgumentError(f"invalid {what}: {exc}") from exc


@overload
def build_body(model: type[M], fields: Mapping[str, Any], extra: Mapping[str, Any] | None) -> M: ...
@overload
def build_body(
    model: type[M], fields: Mapping[str, Any], extra: Mapping[str, Any] | None, *, optional: bool
) -> M | Unset: ...
def build_body(
    model: type[M],
    fields: Mapping[str, Any],
    extra: Mapping[str, Any] | None,
    *,
    optional: bool = False,
) -> M | Unset:
    """Build a generated body model from keyword fields (models or plain mappings) plus extras.

    With ``optional`` (the spec's body is not required) and nothing given, the result is
    ``UNSET``: no body and no JSON content type are sent.
    """
    payload = {k: to_jsonable(v) for k, v in fields.items() if not isinstance(v, Unset)}
    if extra:
        clash = sorted(set(extra) & set(payload))
        if clash:
            raise ArgumentError(f"extra_body repeats {clash}; pass those as keyword arguments only")
        payload.update(to_jsonable(extra))
    if optional and not payload:
        return UNSET
    return _from_dict(model, payload, f"request body ({model.__name__})")


def coerce_model(model: type[M], value: M | Mapping[str, Any] | Unset, *, name: str) -> M | Unset:
    """Accept a generated model or a plain mapping for a model-typed parameter."""
    if isinstance(value, (Unset, model)):
        return value
    if isinstance(value, Mapping):
        return _from_dict(model, to_jsonable(value), f"{name} ({model.__name__})")
    raise ArgumentError(
        f"{name} must be a {model.__name__} or a mapping, got {type(value).__name__}"
    )


def coerce_filter(model: type[M], value: M | Mapping[str, Any] | Unset, *, name: str) -> M | Unset:
    """A deepObject query object (``filter[key]=v``): a model or mapping with bracket-free keys."""
    coerced = coerce_model(model, value, name=name)
    if not isinstance(coerced, Unset):
        check_filter_keys(name, to_jsonable(coerced))
    return coerced


def coerce_body(model: type[M], value: Any) -> Any:
    """Object-or-array bodies: plain mappings (alone or in a list) become ``model`` instances."""
    if isinstance(value, Mapping):
        return coerce_model(model, value, name="body")
    if isinstance(value, (list, tuple)):
        return [coerce_model(model, v, name="body") if isinstance(v, Mapping) else v for v in value]
    return value


@overload
def coerce_enum(enum_type: type[E], value: E | str) -> E: ...
@overload
def coerce_enum(enum_type: type[E], value: E | str | Unset) -> E | Unset: ...
def coerce_enum(enum_type: type[E], value: E | str | Unset) -> E | Unset:
    """Enum parameters accept the enum member or its literal value (requests stay strict)."""
    if isinstance(value, (Unset, enum_type)):
        return value
    allowed = [m.value for m in enum_type]
    if value not in allowed:  # generated enums are open for responses; requests stay strict
        choices = ", ".join(repr(v) for v in allowed)
        raise ArgumentError(f"{value!r} is not a valid {enum_type.__name__}; use one of {choices}")
    return enum_type(value)


@overload
def coerce_file(value: File | bytes) -> File: ...
@overload
def coerce_file(value: File | bytes | Unset) -> File | Unset: ...
def coerce_file(value: File | bytes | Unset) -> File | Unset:
    """Upload parts: raw bytes are sent as ``upload.csv`` (``text/csv``); pass a ``File`` to name them."""
    if isinstance(value, bytes):
        return File(payload=io.BytesIO(value), file_name="upload.csv", mime_type="text/csv")
    return value
