"""Named response-shape normalisers: the few ways real answers differ from the declared schema.

Each operation's descriptor names the normalisers its answers need (``Operation.shapes``), applied
in order to the decoded JSON before the generated parser reads it (``api-facts.md`` facts 5,
20-22):

- ``unwrap_data``: a single object may arrive wrapped, ``{"data": {...}}``, or bare;
- ``wrap_items:<key>``: search items may arrive wrapped (``{"lead": {...}, "markers": ...}``) or
  flat; flat ones are wrapped under ``<key>``;
- ``pairs_to_map:<value>,<count>``: group counts sent as ``{"data": [{value, count}, ...]}``
  become the declared ``{value: count}`` map.

Normalisers never fail: data of another shape passes through unchanged for the parser to judge.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

__all__ = ["NORMALISERS", "apply_shapes", "compile_shapes", "unwrap_data"]

Normaliser = Callable[[Any], Any]


def unwrap_data(data: Any) -> Any:
    """``{"data": {...}}`` as the inner object; anything else unchanged."""
    if isinstance(data, dict) and isinstance(data.get("data"), dict):
        return data["data"]
    return data


def _wrap_items(key: str) -> Normaliser:
    def wrap(data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("data"), list):
            data["data"] = [
                {key: item} if isinstance(item, dict) and key not in item else item
                for item in data["data"]
            ]
        return data

    return wrap


def _pairs_to_map(value_key: str, count_key: str) -> Normaliser:
    def to_map(data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("data"), list):
            return {
                str(pair.get(value_key, "")): pair.get(count_key)
                for pair in data["data"]
                if isinstance(pair, dict)
            }
        return data

    return to_map


NORMALISERS: dict[str, Callable[..., Normaliser]] = {
    "unwrap_data": lambda: unwrap_data,
    "wrap_items": _wrap_items,
    "pairs_to_map": _pairs_to_map,
}
"""Normaliser name -> factory taking the name's comma-separated arguments (after ``:``)."""


@cache
def compile_shapes(shapes: tuple[str, ...]) -> tuple[Normaliser, ...]:
    """The normaliser functions for ``shapes`` (``name`` or ``name:arg1,arg2``).

    Raises:
        ValueError: a name that is not in :data:`NORMALISERS`, or the wrong number of arguments.
    """
    compiled = []
    for shape in shapes:
        name, _, args = shape.partition(":")
        factory = NORMALISERS.get(name)
        if factory is None:
            known = ", ".join(sorted(NORMALISERS))
            raise ValueError(f"unknown response shape {shape!r}; known shapes: {known}")
        try:
            compiled.append(factory(*(args.split(",") if args else ())))
        except TypeError as exc:
            raise ValueError(f"response shape {shape!r}: wrong arguments ({exc})") from exc
    return tuple(compiled)


def apply_shapes(shapes: tuple[str, ...], data: Any) -> Any:
    """Apply the named normalisers to decoded JSON, in order."""
    for normalise in compile_shapes(shapes):
        data = normalise(data)
    return data
