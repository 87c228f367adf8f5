"""How the emulator fails: the API's error envelope, and a dropped connection.

Every failure answers with the envelope the GetSales API uses::

    {"error": {"reason": "validation_error", "message": "...", "data": {"name": ["..."]}},
     "message": "Validation failed", "code": 422}

``error.data`` maps fields to messages, or is ``[]`` when there are none (as the API sends it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import httpx

__all__ = [
    "ApiError",
    "ConnectionDropped",
    "bad_request",
    "not_found",
    "validation_error",
]

_TITLES = {
    400: "Bad request",
    401: "Unauthenticated",
    403: "Access denied",
    404: "Not found",
    405: "Method not allowed",
    422: "Validation failed",
    429: "Too many requests",
    500: "Server error",
    502: "Bad gateway",
    503: "Service unavailable",
    504: "Gateway timeout",
}


class ApiError(Exception):
    """An error answer: raised by a handler, turned into the error envelope by the app.

    Args:
        status: HTTP status.
        reason: ``error.reason`` (``validation_error``, ``auth_exception``, ...).
        message: ``error.message``, for humans.
        data: field errors (``{field: [messages]}``); ``None`` sends ``[]``.
        headers: extra response headers (``Retry-After``, ``Allow``).
    """

    def __init__(
        self,
        status: int,
        reason: str,
        message: str,
        data: Mapping[str, Sequence[str]] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason
        self.message = message
        self.data = {k: list(v) for k, v in data.items()} if data else None
        self.headers = dict(headers or {})

    def body(self) -> dict[str, Any]:
        """The JSON envelope."""
        return {
            "error": {
                "reason": self.reason,
                "message": self.message,
                "data": self.data if self.data else [],
            },
            "message": _TITLES.get(self.status, "Error"),
            "code": self.status,
        }


class ConnectionDropped(httpx.RemoteProtocolError):
    """Raised by the app to close the connection without an answer (an injected fault).

    Through ``httpx.ASGITransport`` the exception reaches the client as the transport error it
    is; :func:`~getsales_async.testing.emulator.serve` turns it into a closed socket for uvicorn.
    """

    def __init__(self) -> None:
        super().__init__("Server disconnected without sending a response (emulator fault).")


def not_found(what: str) -> ApiError:
    """404 for a record that does not exist (or belongs to another team)."""
    return ApiError(404, "not_found", f"{what} not found.")


def bad_request(message: str) -> ApiError:
    """400 ``bad_request``: a malformed request."""
    return ApiError(400, "bad_request", message)


def validation_error(errors: Mapping[str, Sequence[str]], message: str | None = None) -> ApiError:
    """422 ``validation_error`` with field errors; the first message is the summary by default."""
    if message is None:
        message = next((m for msgs in errors.values() for m in msgs), "The given data was invalid.")
    return ApiError(422, "validation_error", message, errors)
