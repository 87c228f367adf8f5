"""The column mapping of a server-side import: from the upload's ``matches`` to the request body.

The upload answers with ``matches``, the server's guess of which column holds which field. Its
shape is not documented, so :func:`read_matches` accepts every shape seen in the references:
``{field: column_index}`` (the shape of the import's ``columns`` in the index), ``{header: field}``,
``[{source, target}]`` and a list of fields by column. Caller overrides are applied on top
(:func:`build_mapping`), then the mapping is checked locally before any import starts.

The import's ``columns`` has two documented shapes (``shared/reference/schema-facts.md``): the
GetSales index's object ``{field: column_index}`` (:data:`INDEX_SHAPE`, sent first) and the
white-label reference's array ``[{source: header, target: field}]``. :func:`is_mapping_refusal`
recognises the 422 that means "not this shape", after which the caller retries once with the other
(safe: a refused request started nothing).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

from ._errors import ArgumentError, UnprocessableEntityError

__all__ = [
    "IDENTIFIER_FIELDS",
    "INDEX_SHAPE",
    "MappingShape",
    "build_mapping",
    "encode_columns",
    "is_mapping_refusal",
    "other_shape",
    "read_matches",
    "unmapped_columns",
]

MappingShape = Literal["object", "array"]
INDEX_SHAPE: MappingShape = "object"
IDENTIFIER_FIELDS = ("linkedin_id", "work_email", "personal_email")  # one must be mapped (index)
MAX_MATCHES = 1_000  # entries of `matches` read; more is not a column mapping


def _index_of(source: Any, header: Sequence[str]) -> int | None:
    """A column index from an index (int or digits) or a header name; ``None`` if neither."""
    if isinstance(source, int) and not isinstance(source, bool):
        return source if 0 <= source < len(header) else None
    if isinstance(source, str):
        text = source.strip()
        folded = [h.strip().casefold() for h in header]
        if text.casefold() in folded:
            return folded.index(text.casefold())
        if text.isdigit() and int(text) < len(header):
            return int(text)
    return None


def _from_pairs(items: Sequence[Any], header: Sequence[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for position, item in enumerate(items[:MAX_MATCHES]):
        if isinstance(item, Mapping):
            field = item.get("target") or item.get("field")
            index = _index_of(item.get("source", item.get("column")), header)
        else:  # a list of fields, one per column (null where none matched)
            field, index = item, (position if position < len(header) else None)
        if isinstance(field, str) and field and index is not None:
            out.setdefault(field, index)
    return out


def read_matches(matches: Any, header: Sequence[str]) -> dict[str, int]:
    """The server's proposed mapping as ``{field: column_index}`` (unknown shapes give ``{}``)."""
    if isinstance(matches, list):
        return _from_pairs(matches, header)
    if not isinstance(matches, Mapping):
        return {}
    out: dict[str, int] = {}
    for key, value in list(matches.items())[:MAX_MATCHES]:
        if not isinstance(key, str) or isinstance(value, bool):
            continue
        if isinstance(value, int) or (isinstance(value, str) and value.strip().isdigit()):
            index = _index_of(int(value), header)  # {field: column_index}
            if index is not None:
                out.setdefault(key, index)
        elif isinstance(value, str) and value:  # {header: field}
            header_index = _index_of(key, header)
            if header_index is not None:
                out.setdefault(value, header_index)
    return out


def build_mapping(
    header: Sequence[str],
    matches: Mapping[str, int],
    overrides: Mapping[str, str | int | None] | None,
) -> dict[str, int]:
    """``matches`` with ``overrides`` applied: ``{field: header name or index}``, ``None`` unmaps.

    A column feeds one field: an override takes its column away from any matched field.

    Raises:
        ArgumentError: an override names a column the file does not have.
    """
    mapping = dict(matches)
    for field, source in (overrides or {}).items():
        mapping.pop(field, None)
        if source is None:
            continue
        index = _index_of(source, header)
        if index is None:
            columns = ", ".join(repr(h) for h in header)
            raise ArgumentError(f"columns[{field!r}] = {source!r} is not a column of {columns}")
        mapping = {f: i for f, i in mapping.items() if i != index}
        mapping[field] = index
    if not any(field in mapping for field in IDENTIFIER_FIELDS):
        shown = ", ".join(f"{f} <- {header[i]!r}" for f, i in mapping.items()) or "nothing"
        raise ArgumentError(
            f"no identifier column: map one of {', '.join(IDENTIFIER_FIELDS)} "
            f"(matched: {shown}), e.g. columns={{'work_email': 'Email'}}"
        )
    return dict(sorted(mapping.items(), key=lambda item: item[1]))


def unmapped_columns(header: Sequence[str], mapping: Mapping[str, int]) -> list[str]:
    """The header names of columns no field reads (``#N`` for a column without a name)."""
    used = set(mapping.values())
    return [name or f"#{i + 1}" for i, name in enumerate(header) if i not in used]


def encode_columns(
    mapping: Mapping[str, int], header: Sequence[str], shape: MappingShape
) -> dict[str, int] | list[dict[str, str]]:
    """The import's ``columns`` in one of the two documented shapes."""
    if shape == "object":
        return dict(mapping)
    return [{"source": header[index], "target": field} for field, index in mapping.items()]


def other_shape(shape: MappingShape) -> MappingShape:
    """The shape not tried yet."""
    return "array" if shape == "object" else "object"


def is_mapping_refusal(error: UnprocessableEntityError) -> bool:
    """Whether a 422 is about ``columns`` (the mapping), not about the list, tags or the file."""
    fields = list(error.field_errors)
    if fields:
        return any(f == "columns" or f.startswith(("columns.", "columns[")) for f in fields)
    return "column" in error.message.casefold()
