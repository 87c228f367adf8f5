"""The exception tree of getsales-async, and :func:`from_response` that builds it from a response.

Every exception the SDK raises derives from :class:`GetSalesError`::

    GetSalesError
    ├── APIConnectionError              no response: DNS, refused, reset, protocol error
    │   └── APITimeoutError             no response in time (connect, read, write or pool)
    ├── APIResponseValidationError      a 2xx body that does not parse (bad JSON, too deep, ...)
    │   └── ResponseTooLargeError       a body larger than max_response_bytes (the rest unread)
    ├── APIStatusError                  the server answered 3xx/4xx/5xx (any other 4xx is this class)
    │   ├── RedirectError               3xx: never followed (the key stays here); names the host
    │   ├── BadRequestError             400 bad_request
    │   ├── AuthenticationError         401 auth_exception
    │   ├── PaymentRequiredError        402 payment_required (e.g. out of enrichment credits)
    │   ├── PermissionDeniedError       403 access_denied
    │   ├── NotFoundError               404
    │   ├── ConflictError               409
    │   ├── UnprocessableEntityError    422 validation_error (see ``field_errors``)
    │   ├── RateLimitError              429 (see ``retry_after``)
    │   ├── MailboxCheckFailedError     433 the mailbox SMTP/IMAP check failed
    │   └── InternalServerError         500-599
    ├── PaginationWindowError           offset + limit would pass the 10,000-result search window
    └── ArgumentError (also ValueError) a local argument check failed; no request was sent

Errors never hold request headers, so the API key cannot leak through ``str()``, ``repr()`` or
logs. The request is described by method and URL path only; the query string is dropped.

An error body that cannot be parsed (invalid or too deeply nested JSON, bad encoding) never breaks
:func:`from_response`: the status still decides the class, and ``body`` holds the raw text.
"""

from __future__ import annotations

import html
import json
import re
import time
from collections.abc import Mapping
from typing import Any, ClassVar, Literal

import httpx

from ._config import MAX_ERROR_FIELD_DEPTH, SEARCH_WINDOW

__all__ = [
    "PARSE_ERRORS",
    "APIConnectionError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "ArgumentError",
    "AuthenticationError",
    "BadRequestError",
    "ConflictError",
    "GetSalesError",
    "InternalServerError",
    "MailboxCheckFailedError",
    "NotFoundError",
    "PaginationWindowError",
    "PaymentRequiredError",
    "PermissionDeniedError",
    "RateLimitError",
    "RedirectError",
    "ResponseTooLargeError",
    "UnprocessableEntityError",
    "from_response",
]

# Everything a JSON decode can raise on hostile input: bad syntax or encoding (ValueError, with
# UnicodeDecodeError and JSONDecodeError), nesting past the interpreter's recursion limit
# (RecursionError), a non-text value (TypeError), or a number too large to convert (OverflowError).
PARSE_ERRORS: tuple[type[Exception], ...] = (ValueError, RecursionError, TypeError, OverflowError)

# Response headers that carry a request id, in order of preference.
REQUEST_ID_HEADERS = ("x-request-id", "request-id", "x-amzn-requestid", "cf-ray")

_SNIPPET_CHARS = 200  # text/HTML bodies are shortened to this in ``message``
_STR_MESSAGE_CHARS = 300  # ``str()`` shortens a message to this
_STR_MAX_FIELDS = 5  # ``str()`` lists at most this many field errors
_REDACTED = "[redacted]"
# Patterns of the error paths only: compiled on first use (``re`` caches them), not at import.
_BEARER_PATTERN = r"(?i)\bbearer\s+[A-Za-z0-9\-._~+/]+=*"
_TITLE_PATTERN = r"(?is)<title[^>]*>(.*?)</title\s*>"
_SCRIPT_PATTERN = r"(?is)<(script|style)\b.*?</\1\s*>"
_TAG_PATTERN = r"(?s)<[^>]*>"
_FALLBACK_PHRASES = {433: "Mailbox SMTP/IMAP check failed"}


def _rebuild(cls: type[BaseException], args: tuple[Any, ...]) -> BaseException:
    """Unpickle helper: make the instance without calling the keyword-only ``__init__``."""
    return cls.__new__(cls, *args)


def _one_line(text: str, limit: int | None = None) -> str:
    """Collapse all whitespace (newlines included) to single spaces, optionally shortened."""
    line = " ".join(text.split())
    if limit is not None and len(line) > limit:
        line = line[: limit - 1].rstrip() + "…"
    return line


class GetSalesError(Exception):
    """Base of every exception raised by getsales-async."""

    def __reduce__(self) -> tuple[Any, ...]:
        # The default reduce calls ``cls(*args)``, which keyword-only constructors reject.
        return (_rebuild, (type(self), self.args), self.__dict__)


class ArgumentError(GetSalesError, ValueError):
    """Raised when a local argument check fails, before any request is sent."""


class APIConnectionError(GetSalesError):
    """Raised when no response arrived: the connection failed, broke or spoke bad HTTP.

    Args:
        message: What went wrong.
        request: The request that failed; only its method and URL path are kept (its headers
            hold the API key). Ignored where ``method`` or ``path`` is given.
        method: HTTP method of the request, if known.
        path: URL path of the request (no query string), if known.
    """

    def __init__(
        self,
        message: str = "Connection error.",
        *,
        request: httpx.Request | None = None,
        method: str | None = None,
        path: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.method = method if method is not None or request is None else request.method
        self.path = path if path is not None or request is None else request.url.path

    def __str__(self) -> str:
        text = _one_line(self.message)
        return f"{text} ({self.method} {self.path})" if self.method and self.path else text

    def __repr__(self) -> str:
        return f"{type(self).__name__}(message={self.message!r}, method={self.method!r}, path={self.path!r})"


class APITimeoutError(APIConnectionError):
    """Raised when the request timed out (connect, read, write or waiting for a pooled connection)."""

    def __init__(
        self,
        message: str = "Request timed out.",
        *,
        request: httpx.Request | None = None,
        method: str | None = None,
        path: str | None = None,
    ) -> None:
        super().__init__(message, request=request, method=method, path=path)


class APIResponseValidationError(GetSalesError):
    """Raised when a 2xx response body does not parse into the operation's declared model.

    Args:
        message: Why parsing failed.
        status_code: HTTP status of the response.
        body: The parsed JSON body, or the raw text if it was not JSON.
        method: HTTP method of the request, if known.
        path: URL path of the request (no query string), if known.
        request_id: The server's request id, if it sent one.
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        body: object = None,
        method: str | None = None,
        path: str | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.body = body
        self.method = method
        self.path = path
        self.request_id = request_id

    def __str__(self) -> str:
        text = f"{self.status_code} response did not match the declared model: {_one_line(self.message, _STR_MESSAGE_CHARS)}"
        if self.method and self.path:
            text += f" ({self.method} {self.path})"
        if self.request_id:
            text += f" [request id {self.request_id}]"
        return text

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(status_code={self.status_code!r}, message={self.message!r}, "
            f"method={self.method!r}, path={self.path!r}, request_id={self.request_id!r})"
        )


class ResponseTooLargeError(APIResponseValidationError):
    """Raised when a response body exceeds ``max_response_bytes``; the rest is not read.

    Args:
        limit: The bound in bytes that was exceeded.
        status_code: HTTP status of the response.
        method: HTTP method of the request, if known.
        path: URL path of the request (no query string), if known.
    """

    def __init__(
        self,
        *,
        limit: int,
        status_code: int,
        method: str | None = None,
        path: str | None = None,
    ) -> None:
        message = (
            f"the response body is larger than max_response_bytes ({limit:,} bytes) and was not "
            "read; raise AsyncGetSales(max_response_bytes=...) if such answers are expected"
        )
        super().__init__(message, status_code=status_code, method=method, path=path)
        self.limit = limit

    def __str__(self) -> str:
        text = f"{self.status_code} response too large: {self.message}"
        return f"{text} ({self.method} {self.path})" if self.method and self.path else text


class APIStatusError(GetSalesError):
    """Raised for a 4xx/5xx response with no more specific class (e.g. 405, 413, 418).

    Build one from a response with :func:`from_response`; it picks the subclass by status.

    Args:
        message: The server's message (see :func:`from_response` for where it comes from).
        status_code: HTTP status; optional on subclasses with a fixed status, which it must match.
        reason: The envelope's ``error.reason`` (e.g. ``"validation_error"``), if any.
        field_errors: Field name to messages, from the envelope's ``error.data``.
        body: The parsed JSON body, the raw text if it was not JSON, or ``None`` if empty.
        method: HTTP method of the request, if known.
        path: URL path of the request (no query string), if known.
        request_id: The server's request id, if it sent one.

    Example::

        try:
            await client.lists.create(name="")
        except UnprocessableEntityError as exc:
            print(exc.field_errors)  # {"name": ["The name field is required."]}
    """

    status_code: int
    _status_range: ClassVar[tuple[int, int] | None] = None  # a class for a range of statuses

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        reason: str | None = None,
        field_errors: Mapping[str, list[str]] | None = None,
        body: object = None,
        method: str | None = None,
        path: str | None = None,
        request_id: str | None = None,
    ) -> None:
        status_code = self._checked_status(status_code)
        super().__init__(message)
        self.status_code = status_code
        self.message = message
        self.reason = reason
        self.field_errors: dict[str, list[str]] = {
            k: list(v) for k, v in (field_errors or {}).items()
        }
        self.body = body
        self.method = method
        self.path = path
        self.request_id = request_id

    @classmethod
    def _checked_status(cls, status_code: int | None) -> int:
        """The status of a new error: the given one, checked against the class's fixed status or
        range, or the fixed one when none is given."""
        span = cls._status_range
        if span is not None and (status_code is None or not span[0] <= status_code <= span[1]):
            msg = f"{cls.__name__} needs status_code= between {span[0]} and {span[1]}, got {status_code!r}"
            raise ArgumentError(msg)
        fixed: int | None = getattr(cls, "status_code", None)
        if status_code is None:
            if fixed is None:
                msg = f"{cls.__name__} needs status_code= (an int such as 418)"
                raise ArgumentError(msg)
            return fixed
        if fixed is not None and status_code != fixed:
            msg = f"{cls.__name__} has status {fixed}, got status_code={status_code}; use from_response() to pick the class"
            raise ArgumentError(msg)
        return status_code

    def __str__(self) -> str:
        head = f"{self.status_code} {self.reason}:" if self.reason else f"{self.status_code}"
        text = f"{head} {_one_line(self.message, _STR_MESSAGE_CHARS)}"
        if self.method and self.path:
            text += f" ({self.method} {self.path})"
        if self.field_errors:
            items = list(self.field_errors.items())
            parts = [
                f"{field}: {_one_line(' '.join(msgs), 200)}"
                for field, msgs in items[:_STR_MAX_FIELDS]
            ]
            if len(items) > _STR_MAX_FIELDS:
                parts.append(f"(+{len(items) - _STR_MAX_FIELDS} more)")
            text += " " + "; ".join(parts)
        if self.request_id:
            text += f" [request id {self.request_id}]"
        return text

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(status_code={self.status_code!r}, reason={self.reason!r}, "
            f"message={self.message!r}, method={self.method!r}, path={self.path!r}, "
            f"request_id={self.request_id!r})"
        )


class RedirectError(APIStatusError):
    """Raised on any 3xx: the SDK never follows a redirect, so the API key never leaves for the
    target. ``location_host`` names the host the server pointed to (``None`` if it gave none);
    usually ``base_url`` is wrong (``http://`` for ``https://``, or an old host name)."""

    _status_range = (300, 399)

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        reason: str | None = None,
        field_errors: Mapping[str, list[str]] | None = None,
        body: object = None,
        method: str | None = None,
        path: str | None = None,
        request_id: str | None = None,
        location_host: str | None = None,
    ) -> None:
        super().__init__(
            message,
            status_code=status_code,
            reason=reason,
            field_errors=field_errors,
            body=body,
            method=method,
            path=path,
            request_id=request_id,
        )
        self.location_host = location_host

    def __repr__(self) -> str:
        return f"{super().__repr__()[:-1]}, location_host={self.location_host!r})"


class BadRequestError(APIStatusError):
    """Raised on 400 (``bad_request``): the server rejected the request as malformed."""

    status_code: Literal[400] = 400


class AuthenticationError(APIStatusError):
    """Raised on 401 (``auth_exception``): the API key is missing, invalid or revoked."""

    status_code: Literal[401] = 401


class PaymentRequiredError(APIStatusError):
    """Raised on 402 (``payment_required``): the team lacks credits or a plan for the action."""

    status_code: Literal[402] = 402


class PermissionDeniedError(APIStatusError):
    """Raised on 403 (``access_denied``): the key may not act on this team or object."""

    status_code: Literal[403] = 403


class NotFoundError(APIStatusError):
    """Raised on 404: the object or the route does not exist."""

    status_code: Literal[404] = 404


class ConflictError(APIStatusError):
    """Raised on 409: the request conflicts with the object's current state."""

    status_code: Literal[409] = 409


class UnprocessableEntityError(APIStatusError):
    """Raised on 422 (``validation_error``): the body failed validation; see ``field_errors``."""

    status_code: Literal[422] = 422


class RateLimitError(APIStatusError):
    """Raised on 429 once retries are used up: over the quota of 300 requests/min per API key.

    ``retry_after`` is the server's advised wait in seconds, or ``None`` if it sent none.
    """

    status_code: Literal[429] = 429

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        reason: str | None = None,
        field_errors: Mapping[str, list[str]] | None = None,
        body: object = None,
        method: str | None = None,
        path: str | None = None,
        request_id: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(
            message,
            status_code=status_code,
            reason=reason,
            field_errors=field_errors,
            body=body,
            method=method,
            path=path,
            request_id=request_id,
        )
        self.retry_after = retry_after

    def __str__(self) -> str:
        text = super().__str__()
        return text if self.retry_after is None else f"{text} (retry after {self.retry_after:g} s)"

    def __repr__(self) -> str:
        return f"{super().__repr__()[:-1]}, retry_after={self.retry_after!r})"


class MailboxCheckFailedError(APIStatusError):
    """Raised on 433: creating a mailbox failed its SMTP or IMAP test connection (see ``message``)."""

    status_code: Literal[433] = 433


class InternalServerError(APIStatusError):
    """Raised on any 5xx. GetSales also answers 500 to some invalid requests (e.g. unknown filters)."""

    _status_range = (500, 599)


class PaginationWindowError(GetSalesError):
    """Raised before a request whose ``offset + limit`` would pass the search window (10,000).

    Elasticsearch-backed searches refuse (with a 500) any page past the window. Split the query
    into partitions by ``created_at`` so each one holds fewer results than the window.

    Args:
        offset: The offset that was about to be requested.
        limit: The page size that was about to be requested.
        window: The largest allowed ``offset + limit``.
    """

    def __init__(self, *, offset: int, limit: int, window: int = SEARCH_WINDOW) -> None:
        message = (
            f"offset + limit = {offset + limit:,} would exceed the {window:,}-result search window "
            f"(offset={offset:,}, limit={limit:,}). Partition the query by created_at, e.g. filter "
            '{"created_at": {">=": "2024-01-01", "<": "2024-02-01"}}, so each partition holds fewer '
            f"than {window:,} results, and page through each partition from offset 0."
        )
        super().__init__(message)
        self.offset = offset
        self.limit = limit
        self.window = window

    def __repr__(self) -> str:
        return f"PaginationWindowError(offset={self.offset!r}, limit={self.limit!r}, window={self.window!r})"


_STATUS_CLASSES: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    402: PaymentRequiredError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: UnprocessableEntityError,
    429: RateLimitError,
    433: MailboxCheckFailedError,
}


def _class_for(status: int) -> type[APIStatusError]:
    if 500 <= status <= 599:
        return InternalServerError
    if 300 <= status <= 399:
        return RedirectError
    return _STATUS_CLASSES.get(status, APIStatusError)


def _decode(raw: bytes, response: httpx.Response) -> str:
    try:
        return raw.decode(response.charset_encoding or "utf-8", errors="replace")
    except LookupError:  # an unknown charset name in Content-Type
        return raw.decode("utf-8", errors="replace")


def _parse_body(text: str, content_type: str) -> object:
    """The JSON value of ``text`` when it is JSON, else the text itself; ``None`` when empty."""
    stripped = text.strip()
    if not stripped:
        return None
    if "json" in content_type or stripped[0] in "{[":
        try:
            value: object = json.loads(stripped)
        except PARSE_ERRORS:  # not JSON, or nested past the recursion limit: keep the text
            return text
        return value
    return text


def _snippet(text: str, content_type: str) -> str:
    """A short one-line summary of a text or HTML body (an HTML page's title if it has one)."""
    stripped = text.strip()
    if "html" in content_type or stripped.startswith("<"):
        title = re.search(_TITLE_PATTERN, stripped)
        if title and title.group(1).strip():
            stripped = title.group(1)
        else:
            stripped = re.sub(_TAG_PATTERN, " ", re.sub(_SCRIPT_PATTERN, " ", stripped))
        stripped = html.unescape(stripped)
    return _one_line(stripped, _SNIPPET_CHARS)


def _as_text(value: object) -> str:
    """A field-error message: strings as they are, anything else as (bounded) JSON."""
    if isinstance(value, str):
        return value
    try:
        return _one_line(json.dumps(value), _SNIPPET_CHARS)
    except PARSE_ERRORS:  # nested past the recursion limit
        return "(nested too deeply to show)"


def _flatten_field_errors(
    data: Mapping[str, object], prefix: str = "", depth: int = 0
) -> dict[str, list[str]]:
    """``error.data`` as ``{field: [messages]}``: nested maps get dotted keys, scalars become lists.

    Maps nested deeper than ``MAX_ERROR_FIELD_DEPTH`` are shown as one JSON string.
    """
    out: dict[str, list[str]] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and depth < MAX_ERROR_FIELD_DEPTH:
            out.update(_flatten_field_errors(value, prefix=f"{name}.", depth=depth + 1))
        elif isinstance(value, list):
            out[name] = [_as_text(v) for v in value]
        elif value is not None:
            out[name] = [_as_text(value)]
    return out


def _nonempty_str(value: object) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def _envelope_fields(body: object) -> tuple[str | None, str | None, dict[str, list[str]]]:
    """``(reason, message, field_errors)`` from a JSON body, whatever its shape."""
    if isinstance(body, str):  # a JSON string, or a body that was not JSON at all
        return None, None, {}
    if not isinstance(body, dict):
        return None, None, {}
    reason: str | None = None
    message: str | None = None
    data: object = None
    error = body.get("error")
    if isinstance(error, dict):
        reason = _nonempty_str(error.get("reason"))
        message = _nonempty_str(error.get("message"))
        data = error.get("data")
    elif _nonempty_str(error):
        message = _nonempty_str(error)
    message = message or _nonempty_str(body.get("message"))
    if not isinstance(data, dict):
        data = body.get("errors")  # the framework default for validation errors
    fields = _flatten_field_errors(data) if isinstance(data, dict) else {}
    return reason, message, fields


def _secrets_of(request: httpx.Request | None) -> list[str]:
    """The credential strings of a request, so an echo of them in a body can be masked."""
    if request is None:
        return []
    value = request.headers.get("authorization", "")
    candidates = [value, value.partition(" ")[2]]
    return [c for c in candidates if len(c) >= 8]


def _redact(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, _REDACTED)
    return re.sub(_BEARER_PATTERN, f"Bearer {_REDACTED}", text)


def redact_request_secrets(text: str, request: httpx.Request) -> str:
    """``text`` with the request's credentials (and any ``Bearer ...``) masked."""
    return _redact(text, _secrets_of(request))


def _request_of(response: httpx.Response) -> httpx.Request | None:
    try:
        return response.request
    except RuntimeError:  # a Response built without a request
        return None


def from_response(
    response: httpx.Response,
    *,
    body: bytes | None = None,
    now: float | None = None,
) -> APIStatusError:
    """Build the :class:`APIStatusError` subclass that matches a 4xx/5xx response.

    Tolerates any body: the GetSales envelope ``{error: {reason, message, data}, message, code}``,
    ``{message}``, ``{error: "text"}``, a JSON list, plain text, a gateway's HTML page, invalid or
    too deeply nested JSON (kept as text), or nothing. A 3xx gives :class:`RedirectError` naming
    the ``Location`` host. ``message`` is the envelope's ``error.message``, else ``error`` when it is a
    string, else the top-level ``message``, else a short snippet of a text/HTML body, else the HTTP
    reason phrase. Any echo of the request's bearer token is masked.

    Args:
        response: The response; ``response.request`` gives the method and path when attached.
        body: The body bytes, for a streamed response whose content was read separately.
            Defaults to ``response.content`` (empty if the response was never read).
        now: Current time in seconds since the epoch, used to read a ``Retry-After`` HTTP date
            on 429. Defaults to ``time.time()``.

    Returns:
        The exception (not raised), e.g. :class:`UnprocessableEntityError` for 422.
    """
    # Imported here: _retry imports ArgumentError from this module.
    from ._retry import parse_retry_after

    status = response.status_code
    if body is None:
        try:
            body = response.content
        except httpx.ResponseNotRead:
            body = b""
    content_type = response.headers.get("content-type", "").lower()
    request = _request_of(response)
    secrets = _secrets_of(request)

    text = _redact(_decode(body, response), secrets)
    parsed = _parse_body(text, content_type)
    reason, message, field_errors = _envelope_fields(parsed)
    if message is None:
        if isinstance(parsed, str):
            message = _snippet(parsed, content_type) or None
        elif isinstance(parsed, list) and parsed:
            message = _snippet(text, "")
    if message is None:
        message = (
            response.reason_phrase
            or _FALLBACK_PHRASES.get(status)
            or httpx.codes.get_reason_phrase(status)
            or f"HTTP {status}"
        )
    message = _redact(message, secrets)
    field_errors = {k: [_redact(m, secrets) for m in v] for k, v in field_errors.items()}
    request_id = next(
        (response.headers[h] for h in REQUEST_ID_HEADERS if response.headers.get(h)), None
    )
    common: dict[str, Any] = {
        "status_code": status,
        "reason": reason,
        "field_errors": field_errors,
        "body": parsed,
        "method": request.method if request is not None else None,
        "path": request.url.path if request is not None else None,
        "request_id": request_id,
    }
    cls = _class_for(status)
    if cls is RateLimitError:
        retry_after = parse_retry_after(response.headers, now=time.time() if now is None else now)
        return RateLimitError(message, retry_after=retry_after, **common)
    if cls is RedirectError:
        host = _location_host(response)
        target = f"host {host!r}" if host else "an unnamed location"
        return RedirectError(
            f"the server redirected ({status}) to {target}; the SDK does not follow redirects, so "
            "the API key was not sent there. Check base_url (https://, current host name).",
            location_host=host,
            **common,
        )
    return cls(message, **common)


def _location_host(response: httpx.Response) -> str | None:
    """The host a redirect points to (relative locations resolve to the request's host)."""
    location = response.headers.get("location", "").strip()
    if not location:
        return None
    try:
        target = httpx.URL(location)
        request = _request_of(response)
        if not target.host and request is not None:
            target = request.url.join(location)
    except (httpx.InvalidURL, ValueError, TypeError):
        return None
    return target.host or None
