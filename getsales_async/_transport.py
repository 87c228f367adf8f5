"""The httpx transport that applies the rate limiter and the retry policy to every HTTP attempt.

It wraps the real transport (``httpx.AsyncHTTPTransport``, an ASGI transport to the emulator, or a
mock), so every generated endpoint gets limits and retries and pytest-httpx still mocks underneath.
Per attempt it acquires the shared limiter, sends, and asks :func:`getsales_async._retry.decide`
what to do. A 429 pauses the *shared* limiter until the retry time, so all pending calls on the key
wait once instead of stampeding. Error statuses that are not retried become typed exceptions
(:func:`getsales_async._errors.from_response`); transport failures become
:class:`~getsales_async.APIConnectionError` / :class:`~getsales_async.APITimeoutError`.

Per-call options travel in ``request.extensions["getsales"]`` as a :class:`CallOptions`.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

import httpx

from ._clock import Clock, MonotonicClock
from ._errors import APIConnectionError, APITimeoutError, from_response
from ._limiter import Limiter
from ._retry import RetryDecision, RetryPolicy, decide, is_idempotent, parse_retry_after

__all__ = ["EXTENSION_KEY", "CallOptions", "RetryingTransport", "TransportStatistics"]

EXTENSION_KEY = "getsales"
logger = logging.getLogger("getsales_async")


@dataclass(frozen=True)
class CallOptions:
    """Per-call settings the transport reads from ``request.extensions["getsales"]``.

    Args:
        operation_id: the API operation (decides idempotency of POSTs, appears in logs).
        idempotent: force the idempotency decision (``None``: derive from method + operation).
        max_retries: override the client's retry count for this call.
        deadline: absolute time on the client's clock after which no retry is started.
        expect_body: the operation answers with data, so an empty 2xx body is a server glitch
            (seen on reads in production): retried like a 503 when the call is idempotent.
    """

    operation_id: str | None = None
    idempotent: bool | None = None
    max_retries: int | None = None
    deadline: float | None = None
    expect_body: bool = False


@dataclass(frozen=True)
class TransportStatistics:
    """Counters of one transport since it was created."""

    requests: int
    attempts: int
    retries: int
    rate_limited: int
    failures: int


class RetryingTransport(httpx.AsyncBaseTransport):
    """Rate-limit and retry every request sent through ``inner``.

    Args:
        inner: the transport that really sends (closed with this one when ``owns_inner``).
        limiter: the (shared, per API key) limiter every attempt goes through.
        policy: the retry policy (per-call ``max_retries`` overrides its count).
        clock: time source for backoff sleeps and deadlines.
        wall: seconds since the epoch, for ``Retry-After`` HTTP dates.
        rand: uniform [0, 1) source for jitter.
        idempotent_posts: operationIds of POST operations that are safe to repeat.
        owns_inner: close ``inner`` in :meth:`aclose`.
    """

    def __init__(
        self,
        inner: httpx.AsyncBaseTransport,
        *,
        limiter: Limiter,
        policy: RetryPolicy | None = None,
        clock: Clock | None = None,
        wall: Callable[[], float] = time.time,
        rand: Callable[[], float] = random.random,
        idempotent_posts: frozenset[str] = frozenset(),
        owns_inner: bool = True,
    ) -> None:
        self._inner = inner
        self._limiter = limiter
        self._policy = policy or RetryPolicy()
        self._clock: Clock = clock or MonotonicClock()
        self._wall = wall
        self._rand = rand
        self._idempotent_posts = idempotent_posts
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

    def statistics(self) -> TransportStatistics:
        """Counters: requests, attempts, retries, 429 answers, calls that failed."""
        return TransportStatistics(
            requests=self._requests,
            attempts=self._attempts,
            retries=self._retries,
            rate_limited=self._rate_limited,
            failures=self._failures,
        )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        options = request.extensions.get(EXTENSION_KEY)
        if not isinstance(options, CallOptions):
            options = CallOptions()
        idempotent = options.idempotent
        if idempotent is None:
            idempotent = is_idempotent(request.method, options.operation_id, self._idempotent_posts)
        policy = self._policy
        if options.max_retries is not None:
            policy = replace(policy, max_retries=options.max_retries)
        self._requests += 1
        retries_taken = 0

        def next_step(
            status: int | None, error: BaseException | None = None, retry_after: float | None = None
        ) -> RetryDecision:
            return decide(
                retries_taken=retries_taken,
                policy=policy,
                status=status,
                error=error,
                idempotent=idempotent,
                retry_after=retry_after,
                time_left=self._time_left(options),
                random=self._rand,
            )

        while True:
            await self._limiter.acquire()
            self._attempts += 1
            try:
                response = await self._inner.handle_async_request(request)
                try:
                    # Read the whole body here, so a connection lost mid-body is a transport
                    # error this loop retries and translates (the SDK never streams).
                    body = await response.aread()
                except BaseException:
                    await response.aclose()
                    raise
            except httpx.TransportError as exc:
                decision = next_step(None, exc)
                if not decision.retry:
                    self._failures += 1
                    raise self._translate(exc, request) from exc
                retries_taken += 1
                self._retries += 1
                await self._clock.sleep(decision.delay)
                continue

            response.request = request  # httpx attaches it only after the transport returns
            if response.status_code < 400:
                if not (options.expect_body and response.status_code == 200):
                    response.extensions[f"{EXTENSION_KEY}.retries"] = retries_taken
                    return response
                if body.strip() or not idempotent:
                    response.extensions[f"{EXTENSION_KEY}.retries"] = retries_taken
                    return response
                # an empty body where data was expected: transient, like a 503
                decision = next_step(503)
                if not decision.retry:
                    response.extensions[f"{EXTENSION_KEY}.retries"] = retries_taken
                    return response  # the resource layer reports the empty body
                logger.debug(
                    "empty 200 body from %s %s; retrying", request.method, request.url.path
                )
                await response.aclose()
                retries_taken += 1
                self._retries += 1
                await self._clock.sleep(decision.delay)
                continue

            await response.aclose()
            retry_after = None
            if response.status_code == 429:
                self._rate_limited += 1
                retry_after = parse_retry_after(response.headers, now=self._wall())
            decision = next_step(response.status_code, retry_after=retry_after)
            if response.status_code == 429:
                # Everyone on this key waits until the server's retry time (or our backoff), once.
                pause = retry_after if retry_after is not None else decision.delay
                if pause > 0:
                    self._limiter.pause(pause)
            if not decision.retry:
                self._failures += 1
                raise from_response(response, body=body)
            retries_taken += 1
            self._retries += 1
            if not decision.pause_limiter:
                await self._clock.sleep(decision.delay)

    def _time_left(self, options: CallOptions) -> float | None:
        if options.deadline is None:
            return None
        return options.deadline - self._clock.now()

    @staticmethod
    def _translate(exc: httpx.TransportError, request: httpx.Request) -> APIConnectionError:
        if isinstance(exc, httpx.TimeoutException):
            return APITimeoutError(
                f"{exc.__class__.__name__}: the request timed out", request=request
            )
        return APIConnectionError(f"{exc.__class__.__name__}: {exc}", request=request)

    async def aclose(self) -> None:
        if self._owns_inner:
            await self._inner.aclose()
