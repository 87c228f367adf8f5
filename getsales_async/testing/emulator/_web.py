"""The Starlette side of the emulator: a route per spec operation, query strings, responses.

Imported on first use, so ``getsales_async.testing`` imports without starlette installed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.datastructures import QueryParams
from starlette.responses import JSONResponse, Response
from starlette.routing import Match, Route
from starlette.types import Scope

from getsales_async._resources import OPERATIONS

from ._errors import ApiError
from ._http import EMPTY, Call, RawBody, Reply
from ._operations import HANDLERS

__all__ = ["ROUTES", "json_response", "match", "query_params", "text_response"]


def _not_implemented(call: Call) -> Reply:
    """The endpoint of operations without a handler (the app answers those itself)."""
    raise AssertionError("unreachable: unimplemented operations are answered before dispatch")


def _routes() -> list[Route]:
    """A route per spec operation; literal paths first, so ``/leads/search`` beats ``/leads/{uuid}``."""
    ops = sorted(OPERATIONS.values(), key=lambda op: op.path.count("{"))
    return [
        Route(
            op.path,
            endpoint=HANDLERS.get(op.operation_id, _not_implemented),
            methods=[op.http_method],
            name=op.operation_id,
        )
        for op in ops
    ]


ROUTES = _routes()


def match(scope: Scope) -> tuple[str, dict[str, str]]:
    """The operationId and path parameters of a request.

    Raises:
        ApiError: 404 for an unknown path, 405 (with ``Allow``) for a method the path lacks.
    """
    allowed: list[str] = []
    allowed_path: str | None = None
    for route in ROUTES:
        found, child = route.matches(scope)
        if found is Match.FULL:
            return route.name, {k: str(v) for k, v in child["path_params"].items()}
        if found is Match.PARTIAL and allowed_path in (None, route.path):
            # The most specific path template only: /leads/search is not /leads/{uuid}.
            allowed_path = route.path
            allowed += sorted((route.methods or set()) - {"HEAD"})
    if allowed:
        methods = ", ".join(dict.fromkeys(allowed))
        raise ApiError(
            405,
            "method_not_allowed",
            f"{scope['method']} is not allowed here; use {methods}.",
            headers={"Allow": methods},
        )
    raise ApiError(404, "not_found", f"No GetSales endpoint at {scope['path']}.")


def query_params(scope: Scope) -> QueryParams:
    """The parsed query string."""
    return QueryParams(scope.get("query_string", b""))


def json_response(status: int, body: Any, headers: Mapping[str, str]) -> Response:
    """A JSON answer (no body for 204)."""
    if status == 204 or body is EMPTY:
        return Response(status_code=status, headers=dict(headers))
    if isinstance(body, RawBody):
        return Response(
            body.content, status_code=status, headers=dict(headers), media_type=body.media_type
        )
    return JSONResponse(body, status_code=status, headers=dict(headers))


def text_response(status: int, content: str | bytes, media_type: str) -> Response:
    """A non-envelope answer: an empty body, or a gateway's HTML page."""
    return Response(content, status_code=status, media_type=media_type)
