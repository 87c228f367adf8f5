"""What every generated resource method runs on: request options, sending, and lenient parsing.

A generated method (``getsales_async/_resources/``) coerces its arguments
(:mod:`getsales_async._arguments`) and hands them, with its operation's descriptor
(:class:`~getsales_async._operation.Operation`), to :meth:`BaseResource._gs_send`. That one call
checks the path parameters, builds the request with the generated endpoint's ``_get_kwargs``,
checks the built request (required alternatives, search window), sends it through the client's
rate-limited, retrying transport with the descriptor's idempotency, and parses the answer: the
descriptor's named normalisers (:mod:`getsales_async._shapes`) first, then the endpoint's
``_parse_response``. Any failure to decode or parse a 2xx body is an
:class:`~getsales_async.APIResponseValidationError`.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from types import ModuleType
from typing import TYPE_CHECKING, Any, Generic, TypeAlias, TypedDict, TypeVar

import httpx

from ._arguments import check_path_params, check_request, to_jsonable
from ._errors import APIResponseValidationError, ArgumentError, NotFoundError
from ._generated.client import Client as _GeneratedClient
from ._generated.types import Unset
from ._operation import Operation
from ._shapes import apply_shapes

if TYPE_CHECKING:
    from ._client import AsyncGetSales
    from ._pagination import AsyncPaginator

__all__ = [
    "BaseResource",
    "RawResponse",
    "RequestOptions",
    "RequestOptionsArg",
    "RequestOptionsDict",
    "resolve_request_options",
]

T = TypeVar("T")
ENDPOINTS_PACKAGE = "getsales_async._generated.api"
ERROR_BODY_CHARS = 2000  # of a body that failed to decode, kept on the error


@dataclass(frozen=True)
class RequestOptions:
    """Per-call overrides (or pass the same keys as a dict, :class:`RequestOptionsDict`).

    Args:
        timeout: seconds for each HTTP attempt of this call.
        max_retries: retries for this call (0 disables retrying).
        deadline: seconds from now by which the call ends, whatever it waits on (limiter, retries,
            a server pause); past it the call raises ``APITimeoutError`` or ``RateLimitError``.

    Example::

        await client.lists.get(uuid, request_options=RequestOptions(timeout=5, max_retries=0))
        await client.lists.get(uuid, request_options={"timeout": 5, "max_retries": 0})
    """

    timeout: float | None = None
    max_retries: int | None = None
    deadline: float | None = None


class RequestOptionsDict(TypedDict, total=False):
    """:class:`RequestOptions` as a dict: ``{"timeout": 5, "max_retries": 0}``."""

    timeout: float | None
    max_retries: int | None
    deadline: float | None


RequestOptionsArg: TypeAlias = RequestOptions | RequestOptionsDict | None
_OPTION_NAMES = frozenset(RequestOptionsDict.__annotations__)


def resolve_request_options(value: RequestOptions | Mapping[str, Any] | None) -> RequestOptions:
    """A :class:`RequestOptions` from the object, a dict of its fields, or ``None`` (defaults).

    Raises:
        ArgumentError: an unknown key, or a value that is neither of those.
    """
    if value is None:
        return RequestOptions()
    if isinstance(value, RequestOptions):
        return value
    if isinstance(value, Mapping):
        unknown = sorted(str(k) for k in value if k not in _OPTION_NAMES)
        if unknown:
            raise ArgumentError(f"unknown request option(s) {unknown}; use {sorted(_OPTION_NAMES)}")
        return RequestOptions(**value)
    raise ArgumentError(
        f"request_options must be a RequestOptions or a dict, got {type(value).__name__}"
    )


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


@cache
def endpoint_module(name: str) -> ModuleType:
    """The generated endpoint module ``name`` (``lists.create_list``), imported on first use."""
    return importlib.import_module(f"{ENDPOINTS_PACKAGE}.{name}")


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


def _validation_error(response: httpx.Response, message: str, body: object) -> Exception:
    request = response.request
    return APIResponseValidationError(
        message,
        status_code=response.status_code,
        body=body,
        method=request.method,
        path=request.url.path,
    )


class BaseResource:
    """Base of the generated resource classes; holds the client."""

    def __init__(self, client: AsyncGetSales) -> None:
        self._client = client

    async def _gs_send(
        self,
        op: Operation,
        path: tuple[Any, ...],
        arguments: dict[str, Any],
        request_options: RequestOptions | Mapping[str, Any] | None,
    ) -> RawResponse[Any]:
        """Check, build, send and parse one call of ``op`` (nothing is sent if a check fails).

        Args:
            op: the operation's descriptor.
            path: the path parameters, in ``op.path_params`` order.
            arguments: keyword arguments of the endpoint's ``_get_kwargs`` (query, ``body``).
            request_options: per-call overrides.
        """
        options = resolve_request_options(request_options)
        check_path_params(op, path)
        endpoint = endpoint_module(op.endpoint)
        request: dict[str, Any] = endpoint._get_kwargs(*path, **arguments)
        check_request(op, request)
        if op.accept is not None:
            request["headers"] = {**request.get("headers", {}), "Accept": op.accept}
        client = self._client
        extensions = client._call_options(
            operation_id=op.operation_id,
            idempotent=op.idempotent,
            expect_body=op.expect_body,
            max_retries=options.max_retries,
            timeout=options.timeout,
            deadline=options.deadline,
        )
        try:
            response = await client._http.request(**request, extensions=extensions)
        except NotFoundError:
            if not op.none_when_not_found:
                raise
            return RawResponse(404, httpx.Headers(), None, httpx.Response(404))
        parsed = self._gs_parse(op, response, endpoint._parse_response)
        return RawResponse(response.status_code, response.headers, parsed, response)

    def _gs_parse(self, op: Operation, response: httpx.Response, parse: Callable[..., Any]) -> Any:
        """The parsed success body of ``response`` (``None``/bytes where the descriptor says so).

        Raises:
            APIResponseValidationError: the body is empty where data was expected, is not JSON, or
                does not parse into the declared model (any ``Exception`` while decoding or
                parsing: ``ValueError``, ``RecursionError``, ``UnicodeDecodeError``, ...).
        """
        if op.result == "file":
            return response.content
        if response.status_code == 204 or op.result == "none":
            return None
        text = response.content.strip()
        if not text or text == b"null":
            if op.nullable:
                return None
            raise _validation_error(
                response, "the server answered with an empty body where data was expected", ""
            )
        try:
            data = json.loads(text)
        except Exception as exc:
            body = response.content[:ERROR_BODY_CHARS].decode("utf-8", "replace")
            raise _validation_error(
                response, f"the response body is not JSON ({exc!r})", body
            ) from exc
        if data is None and op.nullable:
            return None
        status = response.status_code
        if status != op.declared_status and 200 <= status < 300:
            status = op.declared_status  # e.g. 200 where 201 is documented: same body, parse it
        try:
            normalised = apply_shapes(op.shapes, data)
            decoded = _DecodedResponse(status, normalised, request=response.request)
            return parse(client=_GeneratedClient(self._client._http), response=decoded)
        except Exception as exc:
            message = f"the response does not match the declared schema ({exc!r:.300})"
            raise _validation_error(response, message, data) from exc

    def _gs_paginate(
        self,
        op: Operation,
        fetch_page: Callable[..., Any],
        arguments: Mapping[str, Any],
        *,
        page_size: int,
        start_offset: int,
        concurrency: int,
        request_options: RequestOptions | Mapping[str, Any] | None,
    ) -> AsyncPaginator[Any, Any]:
        """An ``AsyncPaginator`` calling ``fetch_page(**arguments, limit=, offset=)`` per page."""
        from ._pagination import AsyncPaginator, Checkpoint

        async def fetch(offset: int, limit: int) -> RawResponse[Any]:
            page: RawResponse[Any] = await fetch_page(
                **arguments, limit=limit, offset=offset, request_options=request_options
            )
            return page

        return AsyncPaginator(
            fetch,
            checkpoint=Checkpoint(
                resource=op.resource,
                method=op.method,
                arguments={
                    k: to_jsonable(v)
                    for k, v in arguments.items()
                    if not isinstance(v, Unset) and v is not None
                },
                offset=start_offset,
                page_size=page_size,
            ),
            page_kind=op.page_kind or "envelope",
            concurrency=concurrency,
        )
