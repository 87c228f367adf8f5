"""``AsyncGetSales``: options, lifecycle, and the HTTP client every generated endpoint goes through.

Example::

    async with AsyncGetSales() as client:          # reads GETSALES_API_KEY / GETSALES_TEAM_ID
        me = await client.request("GET", "/id/api/users/current")
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any, Self

import httpx

from ._budget import RetryBudget, shared_retry_budget
from ._clock import Clock, MonotonicClock
from ._config import (
    DEFAULT_BASE_URL,
    DEFAULT_CONNECT_TIMEOUT_S,
    DEFAULT_MAX_RESPONSE_BYTES,
    DEFAULT_MAX_RETRIES,
    DEFAULT_MAX_RETRY_AFTER_S,
    DEFAULT_TIMEOUT_S,
    ENV_API_KEY,
    ENV_BASE_URL,
    ENV_TEAM_ID,
)
from ._errors import ArgumentError
from ._limiter import Limiter, RateLimit, key_fingerprint, shared_limiter
from ._logging import register_secret
from ._pagination import AsyncPaginator, Checkpoint
from ._resources import IDEMPOTENT_POSTS, ResourcesMixin
from ._retry import RetryPolicy
from ._transport import EXTENSION_KEY, CallOptions, RetryingTransport, TransportStatistics
from ._validation import check_base_url, check_credential, is_in_process, mask_url
from ._version import __version__

if TYPE_CHECKING:
    from ._bulk import BulkLeadsResource
    from ._redis_limiter import RedisRateLimit, RedisRateLimiter

__all__ = ["NOT_GIVEN", "AsyncGetSales", "NotGiven"]


class NotGiven:
    """Sentinel for "argument not passed", where ``None`` means something (httpx ``UseClientDefault``)."""

    _instance: NotGiven | None = None

    def __new__(cls) -> NotGiven:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __bool__(self) -> bool:
        return False

    def __repr__(self) -> str:
        return "NOT_GIVEN"


NOT_GIVEN = NotGiven()


@dataclass(frozen=True)
class _Bounds:
    """The client options that bound waits, sizes and retries (one place, so copies keep them)."""

    max_retry_after: float = DEFAULT_MAX_RETRY_AFTER_S
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES
    retry_budget: RetryBudget | None = None
    allow_insecure_http: bool = False

    def __post_init__(self) -> None:
        mra, mrb = self.max_retry_after, self.max_response_bytes
        if isinstance(mra, bool) or not isinstance(mra, int | float) or not 0 <= mra < float("inf"):
            raise ArgumentError(f"max_retry_after must be finite seconds >= 0, got {mra!r}")
        if isinstance(mrb, bool) or not isinstance(mrb, int) or mrb < 1:
            raise ArgumentError(f"max_response_bytes must be a positive int, got {mrb!r}")
        if self.retry_budget is not None and not isinstance(self.retry_budget, RetryBudget):
            raise ArgumentError("retry_budget must be a RetryBudget (or None for the key's own)")


def _timeout(value: float | httpx.Timeout | None) -> httpx.Timeout:
    if isinstance(value, httpx.Timeout):
        return value
    if value is None:
        raise ArgumentError(
            "timeout=None would let a request hang forever; pass seconds, e.g. timeout=60"
        )
    if value <= 0:
        raise ArgumentError(f"timeout must be positive seconds, got {value!r}")
    return httpx.Timeout(value, connect=min(value, DEFAULT_CONNECT_TIMEOUT_S))


class AsyncGetSales(ResourcesMixin):
    """Async client for the GetSales API.

    Args:
        api_key: API key (Workspace Settings → API Keys). Default: ``$GETSALES_API_KEY``.
        team_id: team (workspace) id sent as ``Team-ID``. Optional: keys carry their team.
            Default: ``$GETSALES_TEAM_ID``.
        base_url: API root. Default: ``$GETSALES_BASE_URL`` or ``https://amazing.getsales.io``.
        timeout: seconds (or an ``httpx.Timeout``) per HTTP attempt; default 60 s, connect 10 s.
        max_retries: retries per call for 429, connection errors and (idempotent calls) 502/503/504.
        rate_limit: a :class:`RateLimit` for this key (default 290/min, burst 10: never more than
            299 requests in any rolling minute); a :class:`RedisRateLimit` to share the quota
            with other processes through Redis; or a limiter object to share explicitly.
            Clients with the same key in one process share one limiter.
        http_client: an ``httpx.AsyncClient`` whose transport, timeout and headers are used (it
            is not modified and not closed by this client).
        transport: the transport that really sends (e.g. ``httpx.ASGITransport`` to the emulator).
        default_headers: extra headers for every request.
        clock: time source for the limiter, backoff and deadlines (tests pass a virtual clock).
        max_retry_after: longest server ``Retry-After`` honoured, in seconds (default 60); above
            it, negative or unparseable, the capped backoff is used. Also caps the pause a 429
            puts on the key's shared limiter.
        max_response_bytes: largest response body read, in bytes (default 32 MiB); a larger one
            raises :class:`ResponseTooLargeError` without being read. CSV downloads are exempt
            (bounded by ``MAX_DOWNLOAD_BYTES``, 1 GiB).
        retry_budget: the :class:`RetryBudget` retries are paid from; default: one per API key
            in the process, shared by its clients. When it is empty, calls fail fast.
        allow_insecure_http: allow ``http://`` to a host other than loopback (the key then
            crosses the network unencrypted). Off by default.

    Raises:
        ArgumentError: no API key, an API key or team id that is not printable ASCII, an unsafe
            ``base_url``, or another invalid option. The message never contains the key.

    Example::

        async with AsyncGetSales(api_key="...") as client:
            lead = await client.leads.get("a1b2...")
    """

    def __init__(
        self,
        *,
        api_key: str | None = None,
        team_id: str | int | None = None,
        base_url: str | None = None,
        timeout: float | httpx.Timeout | NotGiven = NOT_GIVEN,
        max_retries: int = DEFAULT_MAX_RETRIES,
        rate_limit: RateLimit | RedisRateLimit | Limiter | None = None,
        http_client: httpx.AsyncClient | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        default_headers: Mapping[str, str] | None = None,
        clock: Clock | None = None,
        max_retry_after: float = DEFAULT_MAX_RETRY_AFTER_S,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        retry_budget: RetryBudget | None = None,
        allow_insecure_http: bool = False,
    ) -> None:
        key_source = "api_key=" if api_key is not None else f"${ENV_API_KEY}"
        api_key = api_key if api_key is not None else os.environ.get(ENV_API_KEY)
        if not api_key or not api_key.strip():
            raise ArgumentError(
                f"No API key: pass api_key=... or set {ENV_API_KEY} "
                "(GetSales → Workspace Settings → API Keys)."
            )
        api_key = check_credential("api_key", api_key, source=key_source)
        team_source = "team_id=" if team_id is not None else f"${ENV_TEAM_ID}"
        team = str(team_id) if team_id is not None else os.environ.get(ENV_TEAM_ID) or None
        if team is not None:
            team = check_credential("team_id", team, source=team_source)
        if transport is not None and http_client is not None:
            raise ArgumentError("pass either transport= or http_client=, not both")
        self._bounds = _Bounds(
            max_retry_after, max_response_bytes, retry_budget, allow_insecure_http
        )
        sender = http_client._transport if http_client is not None else transport
        base_url = check_base_url(
            base_url or os.environ.get(ENV_BASE_URL) or DEFAULT_BASE_URL,
            allow_insecure_http=allow_insecure_http,
            in_process=is_in_process(sender),
        )
        if max_retries < 0:
            raise ArgumentError(f"max_retries cannot be negative, got {max_retries}")

        register_secret(api_key)
        self._api_key = api_key
        self._fingerprint = key_fingerprint(api_key)
        self.team_id: str | None = team
        self.base_url = base_url
        self.max_retries = max_retries
        self._clock: Clock = clock or MonotonicClock()
        self._limiter: Limiter
        self._owned_limiter: RedisRateLimiter | None = None
        if rate_limit is None or isinstance(rate_limit, RateLimit):
            self._limiter = shared_limiter(
                api_key, rate_limit or RateLimit(), clock=self._clock, max_pause=max_retry_after
            )
        elif isinstance(rate_limit, Limiter):
            self._limiter = rate_limit
        elif type(rate_limit).__name__ == "RedisRateLimit":
            # imported only when used: `import getsales_async` stays light without Redis
            from ._redis_limiter import RedisRateLimit

            assert isinstance(rate_limit, RedisRateLimit)
            self._limiter = self._owned_limiter = rate_limit.build(api_key)
        else:
            raise ArgumentError(
                f"rate_limit must be a RateLimit or a limiter (AsyncRateLimiter, RedisRateLimiter), got {type(rate_limit).__name__}"
            )

        if isinstance(timeout, NotGiven):
            resolved_timeout = (
                http_client.timeout if http_client is not None else _timeout(DEFAULT_TIMEOUT_S)
            )
        else:
            resolved_timeout = _timeout(timeout)
        self.timeout = resolved_timeout

        inner: httpx.AsyncBaseTransport
        owns_inner = True
        if http_client is not None:
            inner = http_client._transport  # the user's pool; we do not close it
            owns_inner = False
        elif transport is not None:
            inner = transport
            owns_inner = False
        else:
            inner = httpx.AsyncHTTPTransport(retries=0)
        self._transport = RetryingTransport(
            inner,
            limiter=self._limiter,
            policy=RetryPolicy(max_retries=max_retries, max_retry_after=max_retry_after),
            budget=retry_budget or shared_retry_budget(self._fingerprint),
            clock=self._clock,
            idempotent_operations=IDEMPOTENT_POSTS,
            max_response_bytes=max_response_bytes,
            owns_inner=owns_inner,
        )
        headers: dict[str, str] = {}
        if http_client is not None:
            headers.update(http_client.headers)
        headers.update(
            {
                "Accept": "application/json",
                "User-Agent": f"getsales-async/{__version__}",
                "Authorization": f"Bearer {api_key}",
            }
        )
        if self.team_id is not None:
            headers["Team-ID"] = self.team_id
        headers.update(default_headers or {})
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            headers=headers,
            timeout=resolved_timeout,
            transport=self._transport,
        )
        self._closed = False

    # ----------------------------------------------------------------------------- lifecycle

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool (a user-supplied ``http_client`` stays open)."""
        if not self._closed:
            self._closed = True
            await self._http.aclose()
            if self._owned_limiter is not None:
                await self._owned_limiter.aclose()

    def __repr__(self) -> str:
        team = f", team_id={self.team_id!r}" if self.team_id else ""
        return f"AsyncGetSales(base_url={mask_url(self.base_url)!r}{team}, key=<sha256:{self._fingerprint}>)"

    # ----------------------------------------------------------------------------- namespaces

    @cached_property
    def leads(self) -> BulkLeadsResource:
        """Leads (Contacts) operations, plus ``bulk_upsert`` for import jobs."""
        from ._bulk import BulkLeadsResource

        return BulkLeadsResource(self)

    # ----------------------------------------------------------------------------- state

    @property
    def limiter(self) -> Limiter:
        """The rate limiter shared by every client of this API key in the process."""
        return self._limiter

    @property
    def retry_budget(self) -> RetryBudget:
        """The retry budget retries are paid from (shared by the key's clients unless given)."""
        return self._transport.budget

    @property
    def clock(self) -> Clock:
        """The time source used for limiting, backoff and deadlines."""
        return self._clock

    def statistics(self) -> TransportStatistics:
        """Request, attempt, retry and 429 counters of this client."""
        return self._transport.statistics()

    # ----------------------------------------------------------------------------- calls

    def _call_options(
        self,
        *,
        operation_id: str | None,
        idempotent: bool | None = None,
        expect_body: bool = False,
        max_retries: int | None = None,
        timeout: float | httpx.Timeout | None = None,
        deadline: float | None = None,
    ) -> dict[str, Any]:
        """The request extensions for one call (per-call overrides of retries, timeout, deadline)."""
        if max_retries is not None and max_retries < 0:
            raise ArgumentError(f"max_retries cannot be negative, got {max_retries}")
        if deadline is not None and deadline <= 0:
            raise ArgumentError(f"deadline must be positive seconds from now, got {deadline!r}")
        extensions: dict[str, Any] = {
            EXTENSION_KEY: CallOptions(
                operation_id=operation_id,
                idempotent=idempotent,
                max_retries=max_retries,
                deadline=None if deadline is None else self._clock.now() + deadline,
                expect_body=expect_body,
            )
        }
        if timeout is not None:
            extensions["timeout"] = _timeout(timeout).as_dict()
        return extensions

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        idempotent: bool | None = None,
        max_retries: int | None = None,
        timeout: float | httpx.Timeout | None = None,
        deadline: float | None = None,
    ) -> httpx.Response:
        """Send a raw request through the limiter and retry policy (escape hatch).

        Args:
            method: HTTP method.
            path: path below the base URL, e.g. ``/leads/api/leads/search``.
            params: query parameters.
            json: JSON body.
            idempotent: whether the call is safe to repeat after an ambiguous failure (read
                timeout, connection lost after sending, 502/503/504). Default: only GET, HEAD and
                OPTIONS are; pass ``True`` for another method you know to be safe. A 429 and a
                connection refused before sending are retried either way.
            max_retries: per-call retry count.
            timeout: per-call timeout in seconds.
            deadline: seconds from now by which the call ends, whatever it waits on (limiter,
                retries, a server pause); past it the call raises ``APITimeoutError`` (or
                ``RateLimitError`` while the server's ``Retry-After`` pause holds the key).

        Returns:
            The successful ``httpx.Response`` (body read).

        Raises:
            APIStatusError: (a subclass per status) for an error answer after retries.
            APIConnectionError: when the server could not be reached after retries.
        """
        if self._closed:
            raise RuntimeError("this AsyncGetSales client is closed; create a new one")
        extensions = self._call_options(
            operation_id=None,
            idempotent=idempotent,
            max_retries=max_retries,
            timeout=timeout,
            deadline=deadline,
        )
        return await self._http.request(
            method, path, params=params, json=json, extensions=extensions
        )

    def resume(self, checkpoint: Checkpoint) -> AsyncPaginator[Any, Any]:
        """Continue a paginated read from a :class:`Checkpoint` (e.g. after a crash).

        Raises:
            ArgumentError: the checkpoint names no paginated method of this client.
        """
        from ._resources import OPERATIONS

        paginated = {(op.resource, op.method) for op in OPERATIONS.values() if op.paginated}
        if (checkpoint.resource, checkpoint.method) not in paginated:
            raise ArgumentError(
                f"checkpoint names {checkpoint.resource}.{checkpoint.method}, "
                "which is not a paginated method of this client"
            )
        method = getattr(getattr(self, checkpoint.resource), checkpoint.method)
        paginator: AsyncPaginator[Any, Any] = method(
            **checkpoint.arguments, start_offset=checkpoint.offset, page_size=checkpoint.page_size
        )
        return paginator
