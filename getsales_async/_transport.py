"""The httpx transport that applies the rate limiter and the retry policy to every HTTP attempt.

It wraps the real transport (``httpx.AsyncHTTPTransport``, an ASGI transport to the emulator, or a
mock), so every generated endpoint gets limits and retries and pytest-httpx still mocks underneath.
Per attempt it acquires the shared limiter, sends, reads the body (at most ``max_response_bytes``)
and asks :func:`getsales_async._retry.decide` what to do; a retry must also be paid from the key's
retry budget (:mod:`getsales_async._budget`). A retried 429 pauses the *shared* limiter (by at most
``max_retry_after``), so all pending calls on the key wait once instead of stampeding. Error
statuses that are not retried, and every 3xx, become typed exceptions
(:func:`getsales_async._errors.from_response`); transport failures become
:class:`~getsales_async.APIConnectionError` / :class:`~getsales_async.APITimeoutError`.

A call's ``deadline`` bounds every wait: limiter admission, retry sleeps, the shared pause and
(in real time) each attempt's own sending and reading.

Per-call options travel in ``request.extensions["getsales"]`` as a :class:`CallOptions`.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import anyio
import httpx

from ._budget import RetryBudget
from ._clock import Clock, MonotonicClock
from ._config import DEFAULT_MAX_RESPONSE_BYTES, MAX_DOWNLOAD_BYTES
from ._errors import (
    APIConnectionError,
    APIResponseValidationError,
    APITimeoutError,
    GetSalesError,
    RateLimitError,
    ResponseTooLargeError,
    from_response,
    redact_request_secrets,
)
from ._limiter import Limiter
from ._retry import RetryDecision, RetryPolicy, decide, is_idempotent, parse_retry_after

if TYPE_CHECKING:
    from ._statistics import TransportStatistics

__all__ = ["EXTENSION_KEY", "CallOptions", "RetryingTransport"]

EXTENSION_KEY = "getsales"
logger = logging.getLogger("getsales_async")
_DROPPED_HEADERS = (b"content-encoding", b"content-length", b"transfer-encoding")


@dataclass(frozen=True)
class CallOptions:
    """Per-call settings the transport reads from ``request.extensions["getsales"]``.

    Args:
        operation_id: the API operation (appears in logs).
        idempotent: whether the call is safe to repeat after an ambiguous failure (read timeout,
            connection lost after sending, 502/503/504, empty 200). ``None``: GET, HEAD and OPTIONS
            are, nothing else (generated methods always pass their descriptor's flag).
        max_retries: override the client's retry count for this call.
        deadline: absolute time on the client's clock by which the call ends, whatever it waits on.
        expect_body: the operation answers with data, so an empty 2xx body is a server glitch
            (seen on reads in production): retried like a 503 when the call is idempotent.
    """

    operation_id: str | None = None
    idempotent: bool | None = None
    max_retries: int | None = None
    deadline: float | None = None
    expect_body: bool = False


class RetryingTransport(httpx.AsyncBaseTransport):
    """Rate-limit and retry every request sent through ``inner``.

    Args:
        inner: the transport that really sends (closed with this one when ``owns_inner``).
        limiter: the (shared, per API key) limiter every attempt goes through.
        policy: the retry policy (per-call ``max_retries`` overrides its count).
        budget: the key's retry budget; ``None`` gives this transport a budget of its own.
        clock: time source for backoff sleeps and deadlines.
        wall: seconds since the epoch, for ``Retry-After`` HTTP dates.
        rand: uniform [0, 1) source for jitter.
        max_response_bytes: largest body read (decoded); CSV downloads (``Accept: text/csv``)
            have the larger ``MAX_DOWNLOAD_BYTES`` instead.
        owns_inner: close ``inner`` in :meth:`aclose`.
    """

    def __init__(
        self,
        inner: httpx.AsyncBaseTransport,
        *,
        limiter: Limiter,
        policy: RetryPolicy | None = None,
        budget: RetryBudget | None = None,
        clock: Clock | None = None,
        wall: Callable[[], float] = time.time,
        rand: Callable[[], float] = random.random,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        owns_inner: bool = True,
    ) -> None:
        self._inner = inner
        self._limiter = limiter
        self._policy = policy or RetryPolicy()
        self._budget = budget if budget is not None else RetryBudget()
        self._clock: Clock = clock or MonotonicClock()
        self._wall = wall
        self._rand = rand
        self._max_response_bytes = max_response_bytes
        self._owns_inner = owns_inner
        self._requests = 0
        self._attempts = 0
        self._retries = 0
        self._rate_limited = 0
        self._failures = 0

    @property
    def limiter(self) -> Limiter:
        """The limiter every attempt acquires."""
        return self._limiter

    @property
    def budget(self) -> RetryBudget:
        """The retry budget every retry is paid from."""
        return self._budget

    def statistics(self) -> TransportStatistics:
        """Counters: requests, attempts, retries, 429 answers, calls that failed."""
        from ._statistics import TransportStatistics  # on first use

        return TransportStatistics(
            requests=self._requests,
            attempts=self._attempts,
            retries=self._retries,
            rate_limited=self._rate_limited,
            failures=self._failures,
        )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self._requests += 1
        try:
            return await _Call(self, request).run()
        except GetSalesError:
            self._failures += 1
            raise

    async def aclose(self) -> None:
        if self._owns_inner:
            await self._inner.aclose()


class _Call:
    """One request through the transport: each method owns one guarantee of the retry loop."""

    def __init__(self, transport: RetryingTransport, request: httpx.Request) -> None:
        options = request.extensions.get(EXTENSION_KEY)
        if not isinstance(options, CallOptions):
            options = CallOptions()
        idempotent = options.idempotent
        if idempotent is None:
            idempotent = is_idempotent(request.method)
        policy = transport._policy
        if options.max_retries is not None:
            policy = replace(policy, max_retries=options.max_retries)
        self.t = transport
        self.request = request
        self.options = options
        self.idempotent = idempotent
        self.policy = policy
        self.retries_taken = 0
        self.last_cost = 0  # budget tokens the latest retry withdrew

    async def run(self) -> httpx.Response:
        """Attempt until success, a final error, or the deadline."""
        while True:
            await self._acquire()
            self.t._attempts += 1
            try:
                response = await self._send()
            except httpx.TransportError as exc:
                decision = self._decide(None, error=exc)
                if not self._pay(decision):
                    raise self._translate(exc) from exc
                await self._wait(decision)
                continue
            status = response.status_code
            if 200 <= status < 300:
                if not self._is_glitch(response):
                    return self._succeed(response)
                decision = self._decide(503)  # an empty body where data was expected
                if not self._pay(decision):
                    return self._succeed(response)  # the resource layer reports the empty body
                logger.debug(
                    "empty 200 body from %s %s; retrying",
                    self.request.method,
                    self.request.url.path,
                )
                await self._wait(decision)
                continue
            retry_after = None
            if status == 429:
                self.t._rate_limited += 1
                retry_after = parse_retry_after(response.headers, now=self.t._wall())
            decision = self._decide(status, retry_after=retry_after)
            if not self._pay(decision):
                raise from_response(response, body=response.content)
            await self._wait(decision)

    # ------------------------------------------------------------------------- waits

    def _time_left(self) -> float | None:
        if self.options.deadline is None:
            return None
        return self.options.deadline - self.t._clock.now()

    async def _acquire(self) -> None:
        """A slot from the limiter, within the deadline (the error names this request)."""
        time_left = self._time_left()
        if time_left is None:
            await self.t._limiter.acquire()
            return
        try:
            await self.t._limiter.acquire(timeout=max(0.0, time_left))
        except RateLimitError as exc:
            raise RateLimitError(
                exc.message,
                retry_after=exc.retry_after,
                method=self.request.method,
                path=self.request.url.path,
            ) from exc
        except APITimeoutError as exc:
            raise APITimeoutError(exc.message, request=self.request) from exc

    async def _wait(self, decision: RetryDecision) -> None:
        """Sleep before the next attempt; a retried 429 pauses the key for everybody instead."""
        self.retries_taken += 1
        self.t._retries += 1
        delay = decision.delay
        if decision.pause_limiter:
            pause = min(delay, self.policy.max_retry_after)
            if pause > 0:
                self.t._limiter.pause(pause)
            delay -= pause  # the next acquire() waits out the pause, in line
        if delay > 0:
            await self.t._clock.sleep(delay)

    # ------------------------------------------------------------------------- one attempt

    async def _send(self) -> httpx.Response:
        """Send once and read the whole body (bounded), within the deadline in real time."""
        time_left = self._time_left()
        if time_left is None:
            return await self._send_and_read()
        with anyio.move_on_after(max(0.0, time_left)):
            return await self._send_and_read()
        raise APITimeoutError(
            "the deadline passed while waiting for the response", request=self.request
        )

    async def _send_and_read(self) -> httpx.Response:
        response = await self.t._inner.handle_async_request(self.request)
        try:
            # Read the whole body here, so a connection lost mid-body is a transport error this
            # loop retries and translates (the SDK never streams), and a huge body is refused.
            body = await self._read_bounded(response)
        finally:
            await response.aclose()
        headers = [(k, v) for k, v in response.headers.raw if k.lower() not in _DROPPED_HEADERS]
        # The body is decoded already: the headers that described the wire encoding go.
        return httpx.Response(
            response.status_code,
            headers=headers,
            content=body,
            request=self.request,
            extensions=response.extensions,
        )

    async def _read_bounded(self, response: httpx.Response) -> bytes:
        """The decoded body, or ResponseTooLargeError as soon as it passes the bound.

        Two steps, each bounded: the wire bytes, read until they pass the bound (the rest is never
        read), then the decoding (gzip, deflate), stopped as soon as its output passes the bound.
        Decoding runs on httpx's synchronous iterators: stopping an async generator midway would
        leave it to garbage collection, which trio reports as a ResourceWarning.
        """
        limit = self._body_limit()
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise self._too_large(response, limit)
        raw = await self._read_wire(response, limit)
        if not response.headers.get("content-encoding"):
            return raw
        decoding = httpx.Response(response.status_code, headers=response.headers, stream=_Raw(raw))
        chunks: list[bytes] = []
        size = 0
        try:
            for chunk in decoding.iter_bytes():
                size += len(chunk)
                if size > limit:
                    raise self._too_large(response, limit)
                chunks.append(chunk)
        except httpx.DecodingError as exc:  # a body that does not match its Content-Encoding
            raise APIResponseValidationError(
                f"the response body could not be decoded ({exc})",
                status_code=response.status_code,
                method=self.request.method,
                path=self.request.url.path,
            ) from exc
        finally:
            decoding.close()
        return b"".join(chunks)

    async def _read_wire(self, response: httpx.Response, limit: int) -> bytes:
        """The body as sent (still encoded), at most ``limit`` bytes of it."""
        stream = response.stream
        if not isinstance(stream, httpx.AsyncByteStream):
            raise TypeError("an async transport must return an async byte stream")
        iterator = aiter(stream)
        chunks: list[bytes] = []
        size = 0
        try:
            async for chunk in iterator:
                size += len(chunk)
                if size > limit:
                    raise self._too_large(response, limit)
                chunks.append(chunk)
        except ResponseTooLargeError:
            close = getattr(iterator, "aclose", None)  # stop the wire here, not at GC
            if close is not None:
                await close()
            raise
        return b"".join(chunks)

    def _body_limit(self) -> int:
        accept = self.request.headers.get("accept", "")
        return MAX_DOWNLOAD_BYTES if "text/csv" in accept else self.t._max_response_bytes

    def _too_large(self, response: httpx.Response, limit: int) -> ResponseTooLargeError:
        return ResponseTooLargeError(
            limit=limit,
            status_code=response.status_code,
            method=self.request.method,
            path=self.request.url.path,
        )

    # ------------------------------------------------------------------------- decisions

    def _is_glitch(self, response: httpx.Response) -> bool:
        """An empty 200 where the operation answers with data (retried only if idempotent)."""
        if not (self.options.expect_body and response.status_code == 200):
            return False
        return not response.content.strip() and self.idempotent

    def _decide(
        self,
        status: int | None,
        *,
        error: BaseException | None = None,
        retry_after: float | None = None,
    ) -> RetryDecision:
        return decide(
            retries_taken=self.retries_taken,
            policy=self.policy,
            status=status,
            error=error,
            idempotent=self.idempotent,
            retry_after=retry_after,
            time_left=self._time_left(),
            random=self.t._rand,
        )

    def _pay(self, decision: RetryDecision) -> bool:
        """Whether to retry: the decision says so and the key's retry budget can pay for it."""
        if not decision.retry:
            return False
        cost = self.t._budget.withdraw(throttled=decision.throttled)
        if cost is None:
            logger.debug(
                "retry decision: give up: retry budget of the key is exhausted (%d tokens left): %s",
                self.t._budget.tokens,
                decision.reason,
            )
            return False
        self.last_cost = cost
        return True

    def _succeed(self, response: httpx.Response) -> httpx.Response:
        self.t._budget.on_success(self.last_cost)
        response.extensions[f"{EXTENSION_KEY}.retries"] = self.retries_taken
        return response

    def _translate(self, exc: httpx.TransportError) -> APIConnectionError:
        if isinstance(exc, httpx.TimeoutException):
            return APITimeoutError(
                f"{exc.__class__.__name__}: the request timed out", request=self.request
            )
        # A transport error can quote what it could not send (a header value): mask credentials.
        message = redact_request_secrets(f"{exc.__class__.__name__}: {exc}", self.request)
        return APIConnectionError(message, request=self.request)


class _Raw(httpx.SyncByteStream):
    """Bytes already read from the wire, handed to httpx's decoders in small slices."""

    SLICE = 8192  # one slice inflates to at most ~8 MiB (zlib's ratio is ~1,000:1)

    def __init__(self, raw: bytes) -> None:
        self._raw = raw

    def __iter__(self) -> Iterator[bytes]:
        for start in range(0, len(self._raw), self.SLICE):
            yield self._raw[start : start + self.SLICE]
