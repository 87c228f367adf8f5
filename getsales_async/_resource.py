"""What every generated resource method runs on: request options, sending, and lenient parsing.

The generated methods (``getsales_async/_resources/``) build the request with the generated
endpoint's ``_get_kwargs``, send it through the client's rate-limited, retrying transport, and parse
the success body with the endpoint's ``_parse_response`` after normalising the shapes the real API
is known to vary (``api-facts.md`` facts 5, 20-22):

- an object wrapped in ``{"data": {...}}`` or bare;
- a search item flat or wrapped (``{"lead": {...}, "markers": ...}``);
- ``[]`` for an empty map;
- an empty body or ``null`` (``None`` where the operation may return nothing).
"""

from __future__ import annotations

import datetime
import enum
import io
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar, overload

import attrs
import httpx

from ._errors import PARSE_ERRORS, APIResponseValidationError, ArgumentError, NotFoundError
from ._generated.client import Client as _GeneratedClient
from ._generated.types import File, Unset

if TYPE_CHECKING:
    from ._client import AsyncGetSales
    from ._pagination import AsyncPaginator, PageFetcher

__all__ = [
    "BaseResource",
    "RawResponse",
    "RequestOptions",
    "build_body",
    "coerce_body",
    "coerce_enum",
    "coerce_file",
    "coerce_model",
    "require_one_of",
    "to_jsonable",
]

T = TypeVar("T")
M = TypeVar("M")


@dataclass(frozen=True)
class RequestOptions:
    """Per-call overrides.

    Args:
        timeout: seconds for each HTTP attempt of this call.
        max_retries: retries for this call (0 disables retrying).
        deadline: seconds from now after which no retry is started.
    """

    timeout: float | None = None
    max_retries: int | None = None
    deadline: float | None = None


@dataclass(frozen=True)
class RawResponse(Generic[T]):
    """A successful answer: HTTP status, headers, the parsed body and the ``httpx.Response``."""

    status_code: int
    headers: httpx.Headers
    parsed: T
    http_response: httpx.Response

    @property
    def retries(self) -> int:
        """How many retries the call needed."""
        value = self.http_response.extensions.get("getsales.retries", 0)
        return int(value) if isinstance(value, int) else 0


def to_jsonable(value: Any) -> Any:
    """Models -> dicts (``to_dict``), mappings and sequences recursively; ``UNSET`` entries dropped."""
    if attrs.has(type(value)) and hasattr(value, "to_dict"):
        return value.to_dict()
    if isinstance(value, (datetime.datetime, datetime.date)):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items() if not isinstance(v, Unset)}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    return value


def build_body(model: type[M], fields: Mapping[str, Any], extra: Mapping[str, Any] | None) -> M:
    """Build a generated body model from keyword fields (models or plain mappings) plus extras."""
    payload = {k: to_jsonable(v) for k, v in fields.items() if not isinstance(v, Unset)}
    if extra:
        clash = sorted(set(extra) & set(payload))
        if clash:
            raise ArgumentError(f"extra_body repeats {clash}; pass those as keyword arguments only")
        payload.update(to_jsonable(extra))
    from_dict: Callable[[Mapping[str, Any]], M] = model.from_dict  # type: ignore[attr-defined]
    try:
        return from_dict(payload)
    except (KeyError, ValueError, TypeError, AttributeError) as exc:
        raise ArgumentError(f"invalid request body for {model.__name__}: {exc!r}") from exc


def require_one_of(
    values: Mapping[str, Any], groups: list[list[str]], extra: Mapping[str, Any] | None
) -> None:
    """Raise ArgumentError unless every field of at least one group has a value (no request sent)."""
    given = {k for k, v in values.items() if v is not None and not isinstance(v, Unset) and v != ""}
    given |= {k for k, v in (extra or {}).items() if v not in (None, "")}
    if any(all(field in given for field in group) for group in groups):
        return
    options = " or ".join(" + ".join(group) for group in groups)
    raise ArgumentError(f"give at least one identifier: {options}")


def coerce_model(model: type[M], value: M | Mapping[str, Any] | Unset) -> M | Unset:
    """Accept a generated model or a plain mapping for a model-typed parameter."""
    if isinstance(value, (Unset, model)):
        return value
    if isinstance(value, Mapping):
        from_dict: Callable[[Mapping[str, Any]], M] = model.from_dict  # type: ignore[attr-defined]
        return from_dict(to_jsonable(value))
    raise ArgumentError(f"expected {model.__name__} or a mapping, got {type(value).__name__}")


def coerce_body(model: type[M], value: Any) -> Any:
    """Object-or-array bodies: plain mappings (alone or in a list) become ``model`` instances."""
    if isinstance(value, Mapping):
        return coerce_model(model, value)
    if isinstance(value, (list, tuple)):
        return [coerce_model(model, item) if isinstance(item, Mapping) else item for item in value]
    return value


E = TypeVar("E", bound=enum.Enum)


@overload
def coerce_enum(enum_type: type[E], value: E | str) -> E: ...
@overload
def coerce_enum(enum_type: type[E], value: E | str | Unset) -> E | Unset: ...
def coerce_enum(enum_type: type[E], value: E | str | Unset) -> E | Unset:
    """Enum parameters accept the enum member or its literal value."""
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


def _normalise(
    data: Any,
    *,
    unwrap_data: bool,
    aggregate_key: str | None,
    empty_list_as_map: bool,
) -> Any:
    if unwrap_data and isinstance(data, dict) and isinstance(data.get("data"), dict):
        data = data["data"]
    if empty_list_as_map and data == []:
        data = {}
    if aggregate_key and isinstance(data, dict) and isinstance(data.get("data"), list):
        data["data"] = [
            {aggregate_key: item} if isinstance(item, dict) and aggregate_key not in item else item
            for item in data["data"]
        ]
    return data


class _DecodedResponse(httpx.Response):
    """What the generated ``_parse_response`` reads: the body already decoded and normalised.

    The generated parsers call ``response.json()``; handing them this instead of the wire response
    spares a second JSON decode of every body (and, where the body was normalised, an encode and a
    third decode): on a 100-contact page that is most of the SDK's own CPU time.
    """

    def __init__(self, status_code: int, decoded: Any, *, request: httpx.Request) -> None:
        super().__init__(status_code, headers={"content-type": "application/json"}, request=request)
        self._decoded = decoded

    def json(self, **kwargs: Any) -> Any:
        return self._decoded


class BaseResource:
    """Base of the generated resource classes; holds the client."""

    def __init__(self, client: AsyncGetSales) -> None:
        self._client = client

    async def _gs_send(
        self,
        kwargs: dict[str, Any],
        parse: Callable[..., Any],
        *,
        operation_id: str,
        idempotent: bool,
        expect_body: bool,
        nullable: bool,
        unwrap_data: bool = False,
        returns_file: bool = False,
        aggregate_key: str | None = None,
        empty_list_as_map: bool = False,
        accept: str | None = None,
        declared_status: int = 200,
        none_when_not_found: bool = False,
        pairs_to_map: tuple[str, str] | None = None,
        request_options: RequestOptions | None = None,
    ) -> RawResponse[Any]:
        options = request_options or RequestOptions()
        client = self._client
        extensions = client._call_options(
            operation_id=operation_id,
            idempotent=idempotent,
            # an empty answer is a glitch worth retrying only where "nothing" is not an answer
            expect_body=expect_body and not nullable,
            max_retries=options.max_retries,
            timeout=options.timeout,
            deadline=options.deadline,
        )
        if accept is not None:
            kwargs["headers"] = {**kwargs.get("headers", {}), "Accept": accept}
        try:
            response = await client._http.request(**kwargs, extensions=extensions)
        except NotFoundError:
            if not none_when_not_found:
                raise
            return RawResponse(404, httpx.Headers(), None, httpx.Response(404))
        parsed = self._gs_parse(
            response,
            parse,
            expect_body=expect_body,
            nullable=nullable,
            unwrap_data=unwrap_data,
            returns_file=returns_file,
            aggregate_key=aggregate_key,
            empty_list_as_map=empty_list_as_map,
            declared_status=declared_status,
            pairs_to_map=pairs_to_map,
        )
        return RawResponse(response.status_code, response.headers, parsed, response)

    def _gs_parse(
        self,
        response: httpx.Response,
        parse: Callable[..., Any],
        *,
        expect_body: bool,
        nullable: bool,
        unwrap_data: bool,
        returns_file: bool,
        aggregate_key: str | None,
        empty_list_as_map: bool,
        declared_status: int = 200,
        pairs_to_map: tuple[str, str] | None = None,
    ) -> Any:
        request = response.request
        if returns_file:
            return response.content
        if response.status_code == 204 or not expect_body:
            return None
        text = response.content.strip()
        if not text or text == b"null":
            if nullable:
                return None
            raise APIResponseValidationError(
                "the server answered with an empty body where data was expected",
                status_code=response.status_code,
                body=response.text,
                method=request.method,
                path=request.url.path,
            )
        try:
            data = json.loads(text)
        except PARSE_ERRORS as exc:  # bad JSON or encoding, or nested past the recursion limit
            raise APIResponseValidationError(
                f"the response body is not JSON ({exc})",
                status_code=response.status_code,
                body=response.text[:2000],
                method=request.method,
                path=request.url.path,
            ) from exc
        if data is None and nullable:
            return None
        if pairs_to_map and isinstance(data, dict) and isinstance(data.get("data"), list):
            key, count = pairs_to_map
            data = {str(p.get(key, "")): p.get(count) for p in data["data"] if isinstance(p, dict)}
        normalised = _normalise(
            data,
            unwrap_data=unwrap_data,
            aggregate_key=aggregate_key,
            empty_list_as_map=empty_list_as_map,
        )
        status = response.status_code
        if status != declared_status and 200 <= status < 300:
            status = declared_status  # e.g. 200 where 201 is documented: same body, parse it
        decoded = _DecodedResponse(status, normalised, request=request)
        try:
            return parse(client=_GeneratedClient(self._client._http), response=decoded)
        except (
            KeyError,
            AttributeError,
            ValueError,
            RecursionError,
            TypeError,
            OverflowError,
        ) as exc:
            raise APIResponseValidationError(
                f"the response does not match the declared schema ({exc!r})",
                status_code=response.status_code,
                body=data,
                method=request.method,
                path=request.url.path,
            ) from exc

    def _gs_paginate(
        self,
        fetch: PageFetcher[Any],
        *,
        resource: str,
        method: str,
        page_kind: str,
        arguments: Mapping[str, Any],
        page_size: int,
        start_offset: int,
        concurrency: int,
    ) -> AsyncPaginator[Any, Any]:
        from ._pagination import AsyncPaginator, Checkpoint

        return AsyncPaginator(
            fetch,
            checkpoint=Checkpoint(
                resource=resource,
                method=method,
                arguments={
                    k: to_jsonable(v)
                    for k, v in arguments.items()
                    if not isinstance(v, Unset) and v is not None
                },
                offset=start_offset,
                page_size=page_size,
            ),
            page_kind=page_kind,
            concurrency=concurrency,
        )
