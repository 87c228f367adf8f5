"""A small ASGI app that receives GetSales webhook deliveries: :class:`WebhookReceiver`.

GetSales signs nothing: a delivery carries no signature, no HMAC header and no shared secret,
and the webhook settings offer no custom headers. What it does let you choose is the
``target_url``, so the receiver checks a secret you put in that URL's query string
(``?token=<secret>``), compared in constant time (``hmac.compare_digest``). Serve it over HTTPS
only, so the URL (and the token) is not readable on the way; rotate the secret by updating the
webhook's ``target_url``.

For each request the receiver, in order: refuses a wrong or missing token (401) and a body over
``max_body_bytes`` (413) before reading it; reads the body (400 when it is not a delivery,
:func:`~getsales_async.webhooks.parse_event`); awaits your handler with the typed event; answers
``200 {"ok": true}``. A handler that raises gets a 500, so GetSales delivers the event again:
keep handlers quick and idempotent (hand slow work to a queue).

It runs under any ASGI server (uvicorn, hypercorn) and mounts in any ASGI framework, asyncio or
trio. Example::

    from getsales_async.webhooks import Event, WebhookReceiver

    async def on_event(event: Event) -> None:
        print(event.event_name, event.contact.uuid if event.contact else None)

    receiver = WebhookReceiver(on_event, secret=os.environ["GETSALES_WEBHOOK_SECRET"])
    url = receiver.target_url("https://example.com/hooks/getsales")  # give this to createWebhook
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from ._webhooks import MAX_BODY_BYTES, Event, WebhookParseError, parse_event

__all__ = ["MIN_SECRET_LENGTH", "WebhookReceiver"]

MIN_SECRET_LENGTH = 16
"""Fewest characters a secret may have (guessable secrets defeat the check)."""
TOKEN_PARAM = "token"
METHODS = frozenset({"POST", "PUT", "PATCH", "GET", "DELETE"})
"""Every ``request_method`` a webhook may use."""

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
Handler = Callable[[Event], Awaitable[None]]

logger = logging.getLogger("getsales_async.webhooks")


class _Refused(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class WebhookReceiver:
    """ASGI app receiving webhook deliveries, checking a URL secret, calling ``handler``.

    Args:
        handler: awaited with each delivery's typed event.
        secret: the token the ``target_url`` carries as ``?token=...``, at least
            :data:`MIN_SECRET_LENGTH` characters; ``None`` accepts every caller (only for
            networks where nobody else can reach the receiver).
        max_body_bytes: largest body accepted (413 beyond), default 1 MiB.

    Raises:
        ValueError: a secret that is empty, too short or not text, or a bad size limit.
    """

    def __init__(
        self, handler: Handler, *, secret: str | None, max_body_bytes: int = MAX_BODY_BYTES
    ) -> None:
        if secret is not None and not (
            isinstance(secret, str) and len(secret) >= MIN_SECRET_LENGTH
        ):
            message = (
                f"secret must be text of at least {MIN_SECRET_LENGTH} characters "
                "(e.g. secrets.token_urlsafe(32)), or None to accept every caller"
            )
            raise ValueError(message)
        if not (isinstance(max_body_bytes, int) and 0 < max_body_bytes <= MAX_BODY_BYTES):
            message = f"max_body_bytes must be 1-{MAX_BODY_BYTES}, got {max_body_bytes!r}"
            raise ValueError(message)
        if not callable(handler):
            message = "handler must be an async function taking the event"
            raise TypeError(message)
        self._handler = handler
        self._secret = secret.encode() if secret is not None else None
        self._max_body_bytes = max_body_bytes

    def target_url(self, url: str) -> str:
        """``url`` with this receiver's token added (``?token=...``): the webhook's ``target_url``."""
        if self._secret is None:
            return url
        parts = urlsplit(url)
        query = [
            (k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != TOKEN_PARAM
        ]
        query.append((TOKEN_PARAM, self._secret.decode()))
        return urlunsplit(parts._replace(query=urlencode(query)))

    def __repr__(self) -> str:
        secret = "set" if self._secret is not None else "none"
        return (
            f"<WebhookReceiver handler={getattr(self._handler, '__name__', '?')} secret={secret}>"
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        try:
            event = await self._event(scope, receive)
        except _Refused as refused:
            await _answer(send, refused.status, {"error": refused.message})
            return
        try:
            await self._handler(event)
        except Exception:
            logger.exception("webhook handler failed on %s; answering 500", event.event_name)
            await _answer(send, 500, {"error": "the handler failed; deliver again"})
            return
        await _answer(send, 200, {"ok": True})

    async def _event(self, scope: Scope, receive: Receive) -> Event:
        if scope.get("method", "").upper() not in METHODS:
            raise _Refused(405, "method not allowed")
        self._check_token(scope)
        declared = _content_length(scope)
        if declared is not None and declared > self._max_body_bytes:
            raise _Refused(413, f"body over {self._max_body_bytes} bytes")
        body = await _read(receive, self._max_body_bytes)
        try:
            return parse_event(body)
        except WebhookParseError as exc:
            raise _Refused(400, str(exc)) from None

    def _check_token(self, scope: Scope) -> None:
        if self._secret is None:
            return
        query = scope.get("query_string", b"").decode("latin-1")
        given = [v for k, v in parse_qsl(query, keep_blank_values=True) if k == TOKEN_PARAM]
        token = given[0].encode() if len(given) == 1 else b""
        if not hmac.compare_digest(token, self._secret):
            raise _Refused(401, "missing or wrong token")


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name.lower() == b"content-length":
            try:
                return int(value)
            except ValueError:
                raise _Refused(400, "bad Content-Length") from None
    return None


async def _read(receive: Receive, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            raise _Refused(400, "the client went away")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise _Refused(413, f"body over {limit} bytes")
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


async def _answer(send: Send, status: int, body: dict[str, Any]) -> None:
    content = json.dumps(body).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(content)).encode()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": content})


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
