"""``AsyncGetSales``: options, lifecycle, and the HTTP client every generated endpoint goes through.

Example::

    async with AsyncGetSales() as client:          # reads GETSALES_API_KEY / GETSALES_TEAM_ID
        me = await client.request("GET", "/id/api/users/current")
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import cached_property
from typing import TYPE_CHECKING, Any, Self

import httpx

from ._clock import Clock, MonotonicClock
from ._config import (
    DEFAULT_BASE_URL,
    DEFAULT_CONNECT_TIMEOUT_S,
    DEFAULT_MAX_RETRIES,
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
from ._version import __version__

if TYPE_CHECKING:
    from ._bulk import BulkLeadsResource
    from ._mass_actions import ContactMassActions
    from ._redis_limiter import RedisRateLimit, RedisRateLimiter
    from ._server_import import ServerImportFilesResource

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

    Raises:
        ArgumentError: no API key, or an invalid option.

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
    ) -> None:
        api_key = api_key if api_key is not None else os.environ.get(ENV_API_KEY)
        if not api_key or not api_key.strip():
            raise ArgumentError(
                f"No API key: pass api_key=... or set {ENV_API_KEY} "
                "(GetSales → Workspace Settings → API Keys)."
            )
        api_key = api_key.strip()
        if team_id is None:
            team_id = os.environ.get(ENV_TEAM_ID) or None
        base_url = base_url or os.environ.get(ENV_BASE_URL) or DEFAULT_BASE_URL
        if not base_url.startswith(("http://", "https://")):
            raise ArgumentError(f"base_url must start with http:// or https://, got {base_url!r}")
        if max_retries < 0:
            raise ArgumentError(f"max_retries cannot be negative, got {max_retries}")
        if transport is not None and http_client is not None:
            raise ArgumentError("pass either transport= or http_client=, not both")

        register_secret(api_key)
        self._api_key = api_key
        self._fingerprint = key_fingerprint(api_key)
        self.team_id: str | None = str(team_id) if team_id is not None else None
        self.base_url = base_url.rstrip("/")
        self.max_retries = max_retries
        self._clock: Clock = clock or MonotonicClock()
        self._limiter: Limiter
        self._owned_limiter: RedisRateLimiter | None = None
        if rate_limit is None or isinstance(rate_limit, RateLimit):
            self._limiter = shared_limiter(api_key, rate_limit or RateLimit(), clock=self._clock)
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
            policy=RetryPolicy(max_retries=max_retries),
            clock=self._clock,
            idempotent_posts=IDEMPOTENT_POSTS,
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
        return f"AsyncGetSales(base_url={self.base_url!r}{team}, key=<sha256:{self._fingerprint}>)"

    # ----------------------------------------------------------------------------- namespaces

    @cached_property
    def leads(self) -> BulkLeadsResource:
        """Leads (Contacts) operations, plus ``bulk_upsert`` for import jobs."""
        from ._bulk import BulkLeadsResource

        return BulkLeadsResource(self)

    @cached_property
    def files(self) -> ServerImportFilesResource:
        """File Import / Export operations, plus ``start_leads_import`` (server-side CSV import)."""
        from ._server_import import ServerImportFilesResource

        return ServerImportFilesResource(self)

    @cached_property
    def mass_actions(self) -> ContactMassActions:
        """Typed mass actions on contacts (``PUT /leads/api/leads/mass-action``), never re-sent."""
        from ._mass_actions import ContactMassActions

        return ContactMassActions(self)

    # ----------------------------------------------------------------------------- state

    @property
    def limiter(self) -> Limiter:
        """The rate limiter shared by every client of this API key in the process."""
        return self._limiter

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
            idempotent: whether repeating the call is safe (default: GET/PUT/DELETE only).
            max_retries: per-call retry count.
            timeout: per-call timeout in seconds.
            deadline: seconds from now after which no retry is started.

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
