"""Checks of the client's own inputs (credentials, base URL, durations), before anything is sent.

Every failure is an :class:`~getsales_async.ArgumentError` whose one-line message says what to do
and never contains a secret: a credential is described by position and character class only, and
a URL is shown with any ``user:password@`` masked. :func:`seconds_problem` returns the message
instead, for constructors that collect every problem (or raise another error type).
"""

from __future__ import annotations

import ipaddress
import math

import httpx

from ._config import LOOPBACK_HOSTS
from ._errors import ArgumentError

__all__ = ["check_base_url", "check_credential", "is_in_process", "mask_url", "seconds_problem"]

_PRINTABLE = range(0x21, 0x7F)  # printable ASCII without the space
_WHERE = {
    "api_key": "Workspace Settings -> API Keys",
    "team_id": "the team id in Workspace Settings",
}


def _describe(char: str) -> str:
    names = {"\r": "a carriage return (CR)", "\n": "a line feed (LF)", "\t": "a tab"}
    names |= {"\x00": "a NUL byte", " ": "a space"}
    if char in names:
        return names[char]
    if ord(char) < 0x20 or ord(char) == 0x7F:
        return f"a control character (U+{ord(char):04X})"
    if char.isspace():
        return f"a whitespace character (U+{ord(char):04X})"
    return f"a non-ASCII character (U+{ord(char):04X})"


def check_credential(name: str, value: str, *, source: str) -> str:
    """``value`` without surrounding whitespace, if the rest is printable ASCII; else ArgumentError.

    Args:
        name: The parameter, e.g. ``"api_key"`` (used in the message).
        value: The credential; it never appears in the message.
        source: Where it came from, e.g. ``"api_key="`` or ``"$GETSALES_API_KEY"``.

    Raises:
        ArgumentError: the value is empty or holds whitespace, a control character or non-ASCII.
    """
    stripped = value.strip()
    if not stripped:
        raise ArgumentError(f"{name} from {source} is empty; pass the value from GetSales")
    for index, char in enumerate(stripped):
        if ord(char) not in _PRINTABLE:
            message = (
                f"{name} from {source} contains {_describe(char)} at position {index + 1} of "
                f"{len(stripped)}; it must be printable ASCII without spaces. Copy it again from "
                f"GetSales ({_WHERE.get(name, 'Workspace Settings')})."
            )
            raise ArgumentError(message)
    return stripped


def mask_url(url: str) -> str:
    """``url`` with any ``user:password@`` replaced by ``***@``, for messages and reprs."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    authority, slash, path = rest.partition("/")
    if "@" in authority:
        authority = "***@" + authority.rpartition("@")[2]
    return f"{scheme}{sep}{authority}{slash}{path}"


def is_in_process(transport: httpx.AsyncBaseTransport | None) -> bool:
    """Whether requests through ``transport`` never leave the process (ASGI app, mock)."""
    return type(transport) in (httpx.ASGITransport, httpx.MockTransport)


def _is_loopback(host: str) -> bool:
    if host.lower() in LOOPBACK_HOSTS:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_base_url(url: str, *, allow_insecure_http: bool, in_process: bool) -> str:
    """The API root without a trailing slash, if safe to send the key to; else ArgumentError.

    ``https://`` always; ``http://`` only to a loopback host (``localhost``, ``127.0.0.0/8``,
    ``::1``), through an in-process transport, or with ``allow_insecure_http=True``. Credentials in
    the URL are refused: httpx would send them as Basic auth *instead of* the API key.

    Raises:
        ArgumentError: another scheme, no host, credentials in the URL, or plain HTTP elsewhere.
    """
    shown = mask_url(url)
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError, ValueError):
        raise ArgumentError(f"base_url {shown!r} is not a valid URL") from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        message = f"base_url must be https://host (got {shown!r}), e.g. https://amazing.getsales.io"
        raise ArgumentError(message)
    if parsed.userinfo:
        message = (
            f"base_url {shown!r} contains credentials (user:password@); httpx would send them as "
            "Basic auth instead of the API key. Remove them (for an authenticating proxy pass "
            "http_client=httpx.AsyncClient(proxy=...))."
        )
        raise ArgumentError(message)
    secure = parsed.scheme == "https" or allow_insecure_http or in_process
    if not secure and not _is_loopback(parsed.host):
        message = (
            f"base_url {shown!r} would send the API key unencrypted over plain HTTP to "
            f"{parsed.host}; use https://, or pass allow_insecure_http=True if you must"
        )
        raise ArgumentError(message)
    return url.rstrip("/")


def seconds_problem(name: str, value: object, *, positive: bool = False) -> str | None:
    """Why ``value`` is not a duration (``None`` when it is): a finite number of seconds, ``>= 0``
    (above 0 when ``positive``); a bool is not a number."""
    kind = "a positive finite number of seconds" if positive else "a finite number of seconds >= 0"
    problem = f"{name} must be {kind}, got {value!r}"
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return problem
    return None if value > 0 or (value == 0 and not positive) else problem
