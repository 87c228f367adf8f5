"""A transport that fails a chosen request: ambiguously (a gateway 504, a read timeout) or a 422."""

from __future__ import annotations

from typing import Literal

import httpx

__all__ = ["FailNth"]


class FailNth(httpx.AsyncBaseTransport):
    """Passes requests to ``inner``; the ``nth`` request whose path ends with ``path`` fails.

    Args:
        inner: the real transport (the emulator's).
        path: suffix of the paths to watch.
        failure: ``"504"`` (a gateway page), ``"timeout"`` (``httpx.ReadTimeout``) or ``"422"``
            (a refusal in the API's envelope).
        nth: which matching request fails (1 = the first).
        after_sending: send it to ``inner`` first, then lose the answer (the server acted).
    """

    def __init__(
        self,
        inner: httpx.AsyncBaseTransport,
        *,
        path: str,
        failure: Literal["504", "timeout", "422"],
        nth: int = 1,
        after_sending: bool = False,
    ) -> None:
        self.inner = inner
        self.path = path
        self.failure = failure
        self.nth = nth
        self.after_sending = after_sending
        self.attempts = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if not request.url.path.endswith(self.path):
            return await self.inner.handle_async_request(request)
        self.attempts += 1
        if self.attempts != self.nth:
            return await self.inner.handle_async_request(request)
        if self.after_sending:
            response = await self.inner.handle_async_request(request)
            await response.aread()
        if self.failure == "timeout":
            raise httpx.ReadTimeout("timed out reading the answer", request=request)
        if self.failure == "422":
            error = {"reason": "validation_error", "message": "Refused.", "data": {"x": ["No."]}}
            return httpx.Response(422, json={"error": error, "message": "Validation failed"})
        page = "<html><head><title>504 Gateway Time-out</title></head></html>"
        return httpx.Response(504, text=page, headers={"content-type": "text/html"})

    async def aclose(self) -> None:
        await self.inner.aclose()
