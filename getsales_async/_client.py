"""``AsyncGetSales``: options, lifecycle, and the HTTP client every generated endpoint goes through.

Example::

    async with AsyncGetSales() as client:          # reads GETSALES_API_KEY / GETSALES_TEAM_ID
        me = await client.request("GET", "/id/api/users/current")
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, Self, TypedDict, Unpack

import httpx

from ._budget import RetryBudget, shared_retry_budget
from ._clock import Clock, MonotonicClock
from ._config import (
    DEFAULT_BASE_URL,
    DEFAULT_CONNECT_TIMEOUT_S,
    DEFAULT_MAX_RESPONSE_BYTES,
    DEFAULT_MAX_RETRIES,
    DEFAULT_MAX_RETRY_AFTER_S,
    DEFAULT_REQUESTS_PER_MINUTE,
    DEFAULT_TIMEOUT_S,
    ENV_API_KEY,
    ENV_BASE_URL,
    ENV_TEAM_ID,
)
from ._errors import ArgumentError
from ._limiter import Limiter, RateLimit, key_fingerprint, shared_limiter
from ._logging import register_secret
from ._resources import ResourcesMixin
from ._retry import RetryPolicy
from ._transport import EXTENSION_KEY, CallOptions, RetryingTransport
from ._validation import check_base_url, check_credential, is_in_process, mask_url
from ._version import __version__

if TYPE_CHECKING:
    from ._bulk import BulkLeadsResource
    from ._mass_actions import ContactMassActions
    from ._pagination import AsyncPaginator, Checkpoint
    from ._redis_limiter import RedisRateLimit, RedisRateLimiter
    from ._server_import import ServerImportFilesResource
    from ._statistics import TransportStatistics

__all__ = ["NOT_GIVEN", "AsyncGetSales", "ClientOptions", "NotGiven"]


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


class ClientOptions(TypedDict, total=False):
    """The options of one client, and what :meth:`AsyncGetSales.with_options` may change.

    The one record of per-client options: the constructor fills it, ``with_options`` merges the
    changes into a copy of it, and :meth:`AsyncGetSales._apply` builds the client from it. A new
    option is a key here, a check in ``_resolve_options`` and its use in ``_apply``. What the copies
    share (the key, its rate limiter, the clock, the connection pool) is in :class:`_Shared` instead.
    """

    team_id: str | int | None
    base_url: str
    timeout: float | httpx.Timeout
    max_retries: int
    default_headers: Mapping[str, str]
    max_retry_after: float
    max_response_bytes: int
    allow_insecure_http: bool


_SHARED_BY_COPIES = (
    "api_key",
    "rate_limit",
    "requests_per_minute",
    "http_client",
    "transport",
    "clock",
    "retry_budget",
)


def _resolve_options(
    options: ClientOptions, *, in_process: bool, team_source: str = "team_id="
) -> ClientOptions:
    """Check every option and normalise it (idempotent), or raise ``ArgumentError`` saying what to do.

    ``in_process``: the requests never leave the process (ASGI or mock transport), so an
    ``http://`` base URL is no risk. ``team_source`` names where the team id came from in messages.
    """
    resolved = options.copy()
    insecure = options["allow_insecure_http"]
    if not isinstance(insecure, bool):
        raise ArgumentError(f"allow_insecure_http must be True or False, got {insecure!r}")
    resolved["base_url"] = check_base_url(
        options["base_url"], allow_insecure_http=insecure, in_process=in_process
    )
    # the policy _apply builds checks max_retries and max_retry_after; build it before any effect
    RetryPolicy(max_retries=options["max_retries"], max_retry_after=options["max_retry_after"])
    team_id = options["team_id"]
    if team_id is not None:
        resolved["team_id"] = check_credential("team_id", str(team_id), source=team_source)
    resolved["timeout"] = _timeout(options["timeout"])
    resolved["default_headers"] = dict(options["default_headers"])
    mrb = options["max_response_bytes"]
    if isinstance(mrb, bool) or not isinstance(mrb, int) or mrb < 1:
        raise ArgumentError(f"max_response_bytes must be a positive int, got {mrb!r}")
    return resolved


@dataclass(eq=False)
class _Shared:
    """What a client shares with its copies: the key, its limiter, the clock, the connection pool.

    The client made by the constructor owns the pool (unless it was lent one through
    ``http_client=``/``transport=``) and a Redis limiter built from a ``RedisRateLimit``; it closes
    them, and sets ``closed`` so that its copies refuse calls from then on.
    """

    api_key: str = field(repr=False)
    clock: Clock
    limiter: Limiter
    budget: RetryBudget
    owned_limiter: RedisRateLimiter | None
    pool: httpx.AsyncBaseTransport
    owns_pool: bool
    lent_headers: Mapping[str, str]  # the headers of a user's http_client
    in_process: bool  # the pool never leaves the process (ASGI, mock): http:// is no risk
    closed: bool = False


def _build_limiter(
    api_key: str,
    rate_limit: RateLimit | RedisRateLimit | Limiter | None,
    requests_per_minute: int | None,
    clock: Clock,
    max_pause: float,
) -> tuple[Limiter, RedisRateLimiter | None]:
    """The key's limiter, and the Redis limiter the client must close (if it built one)."""
    if requests_per_minute is not None:
        if rate_limit is not None:
            raise ArgumentError(
                "pass requests_per_minute= or rate_limit=, not both; with Redis use "
                "RedisRateLimit(url=..., rate=RateLimit.under_quota(N))"
            )
        if isinstance(requests_per_minute, bool) or not isinstance(requests_per_minute, int):
            raise ArgumentError(f"requests_per_minute must be an int, got {requests_per_minute!r}")
        if requests_per_minute < 1:
            raise ArgumentError(
                f"requests_per_minute must be at least 1 (your key's quota), got {requests_per_minute}"
            )
        rate_limit = RateLimit.under_quota(requests_per_minute, 60.0)
    if rate_limit is None:
        rate_limit = RateLimit.under_quota(DEFAULT_REQUESTS_PER_MINUTE, 60.0)  # == RateLimit()
    if isinstance(rate_limit, RateLimit):
        return shared_limiter(api_key, rate_limit, clock=clock, max_pause=max_pause), None
    if isinstance(rate_limit, Limiter):
        return rate_limit, None
    if type(rate_limit).__name__ == "RedisRateLimit":
        # imported only when used: `import getsales_async` stays light without Redis
        from ._redis_limiter import RedisRateLimit

        assert isinstance(rate_limit, RedisRateLimit)
        owned = rate_limit.build(api_key)
        return owned, owned
    raise ArgumentError(
        f"rate_limit must be a RateLimit or a limiter (AsyncRateLimiter, RedisRateLimiter), got {type(rate_limit).__name__}"
    )


class AsyncGetSales(ResourcesMixin):
    """Async client for the GetSales API.

    Args:
        api_key: API key (Workspace Settings → API Keys). Default: ``$GETSALES_API_KEY``.
        team_id: team (workspace) id sent as ``Team-ID``. Optional: keys carry their team.
            Default: ``$GETSALES_TEAM_ID``.
        base_url: API root. Default: ``$GETSALES_BASE_URL`` or ``https://amazing.getsales.io``.
        timeout: seconds (or an ``httpx.Timeout``) per HTTP attempt; default 60 s, connect 10 s.
        max_retries: retries per call for 429, connection errors and (idempotent calls) 502/503/504.
        requests_per_minute: your key's quota. The client paces itself to never exceed it in any
            rolling minute, keeping a 1 % reserve (:meth:`RateLimit.under_quota`). Default 300,
            production's quota: 291 per minute with bursts of up to 7, at most 297 in any minute.
        rate_limit: instead of ``requests_per_minute``: an exact :class:`RateLimit`; a
            :class:`RedisRateLimit` to share the quota with other processes through Redis; or a
            limiter object to share explicitly. Clients with the same key in one process share one
            limiter.
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
            patient = client.with_options(timeout=120, max_retries=10)  # same pool and limiter
    """

    def __init__(
        self,
        *,
        api_key: str | None = None,
        team_id: str | int | None = None,
        base_url: str | None = None,
        timeout: float | httpx.Timeout | NotGiven = NOT_GIVEN,
        max_retries: int = DEFAULT_MAX_RETRIES,
        requests_per_minute: int | None = None,
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
        if transport is not None and http_client is not None:
            raise ArgumentError("pass either transport= or http_client=, not both")
        if retry_budget is not None and not isinstance(retry_budget, RetryBudget):
            raise ArgumentError("retry_budget must be a RetryBudget (or None for the key's own)")
        if isinstance(timeout, NotGiven):
            timeout = http_client.timeout if http_client is not None else DEFAULT_TIMEOUT_S
        in_process = is_in_process(http_client._transport if http_client is not None else transport)
        options = _resolve_options(
            ClientOptions(
                team_id=team_id if team_id is not None else os.environ.get(ENV_TEAM_ID) or None,
                base_url=base_url or os.environ.get(ENV_BASE_URL) or DEFAULT_BASE_URL,
                timeout=timeout,
                max_retries=max_retries,
                default_headers=default_headers or {},
                max_retry_after=max_retry_after,
                max_response_bytes=max_response_bytes,
                allow_insecure_http=allow_insecure_http,
            ),
            in_process=in_process,
            team_source="team_id=" if team_id is not None else f"${ENV_TEAM_ID}",
        )

        register_secret(api_key)
        clock = clock or MonotonicClock()
        limiter, owned_limiter = _build_limiter(
            api_key, rate_limit, requests_per_minute, clock, max_pause=max_retry_after
        )
        pool: httpx.AsyncBaseTransport
        if http_client is not None:
            pool = http_client._transport  # the user's pool; we do not close it
        else:
            pool = transport or httpx.AsyncHTTPTransport(retries=0)
        self._shared = _Shared(
            api_key=api_key,
            clock=clock,
            limiter=limiter,
            budget=retry_budget or shared_retry_budget(key_fingerprint(api_key)),
            owned_limiter=owned_limiter,
            pool=pool,
            owns_pool=http_client is None and transport is None,
            lent_headers=dict(http_client.headers) if http_client is not None else {},
            in_process=in_process,
        )
        self._is_copy = False
        self._apply(options)

    def _apply(self, options: ClientOptions) -> None:
        """Build this client's retrying transport and httpx client from resolved options."""
        shared = self._shared
        self._options = options
        team_id = options["team_id"]
        self.team_id: str | None = None if team_id is None else str(team_id)
        self.base_url: str = options["base_url"]
        self.timeout = _timeout(options["timeout"])
        self.max_retries: int = options["max_retries"]
        self._fingerprint = key_fingerprint(shared.api_key)
        self._clock = shared.clock
        self._transport = RetryingTransport(
            shared.pool,
            limiter=shared.limiter,
            policy=RetryPolicy(
                max_retries=self.max_retries, max_retry_after=options["max_retry_after"]
            ),
            budget=shared.budget,
            clock=shared.clock,
            max_response_bytes=options["max_response_bytes"],
            owns_inner=shared.owns_pool and not self._is_copy,
        )
        headers = {
            **shared.lent_headers,
            "Accept": "application/json",
            "User-Agent": f"getsales-async/{__version__}",
            "Authorization": f"Bearer {shared.api_key}",
        }
        if self.team_id is not None:
            headers["Team-ID"] = self.team_id
        headers.update(options["default_headers"])
        self._http = httpx.AsyncClient(
            base_url=self.base_url, headers=headers, timeout=self.timeout, transport=self._transport
        )
        self._closed = False

    def with_options(self, **changes: Unpack[ClientOptions]) -> Self:
        """A copy of this client with some options changed, sharing its connection pool and limiter.

        Use it for a call or a scope that needs other settings, e.g.
        ``await client.with_options(timeout=120).leads.count(...)``. Options not given keep this
        client's values; ``default_headers`` are added to this client's. The copy borrows the
        connection pool, the rate limiter and the clock: closing the copy closes nothing shared,
        and once the client made by the constructor is closed, its copies refuse calls too.
        The key, the quota and the pool belong to that client; for another key or quota, create
        a new ``AsyncGetSales``.

        Args:
            **changes: any of ``team_id``, ``base_url``, ``timeout``, ``max_retries``,
                ``default_headers``, ``max_retry_after``, ``max_response_bytes``,
                ``allow_insecure_http`` (as in the constructor).

        Raises:
            ArgumentError: an unknown option, one the copy must share, or an invalid value.
            RuntimeError: this client is closed.
        """
        shared = [name for name in changes if name in _SHARED_BY_COPIES]
        unknown = [name for name in changes if name not in ClientOptions.__optional_keys__]
        if shared:
            raise ArgumentError(
                f"with_options() cannot change {', '.join(shared)}: a copy shares the key, its "
                "rate limiter, the clock and the connection pool; create a new AsyncGetSales instead"
            )
        if unknown:
            accepted = ", ".join(sorted(ClientOptions.__optional_keys__))
            raise ArgumentError(
                f"with_options() got unknown option(s) {', '.join(unknown)}; it accepts {accepted}"
            )
        self._check_open()
        merged = self._options.copy()
        merged.update(changes)
        merged["default_headers"] = {
            **self._options["default_headers"],
            **changes.get("default_headers", {}),
        }
        resolved = _resolve_options(merged, in_process=self._shared.in_process)
        copy = object.__new__(type(self))
        copy._shared = self._shared
        copy._is_copy = True
        copy._apply(resolved)
        return copy

    # ----------------------------------------------------------------------------- lifecycle

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the client.

        The client made by the constructor closes the connection pool (not one lent through
        ``http_client=`` or ``transport=``) and a Redis limiter it built; a copy made by
        :meth:`with_options` only stops accepting calls, leaving the shared pool open.
        """
        if self._closed:
            return
        self._closed = True
        await self._http.aclose()  # closes the pool only when this client owns it
        if not self._is_copy:
            self._shared.closed = True
            if self._shared.owned_limiter is not None:
                await self._shared.owned_limiter.aclose()

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError("this AsyncGetSales client is closed; create a new one")
        if self._shared.closed:
            raise RuntimeError(
                "the client this one was copied from (with_options) is closed, and with it the "
                "connection pool they share; keep that client open while its copies are in use"
            )

    def __repr__(self) -> str:
        team = f", team_id={self.team_id!r}" if self.team_id else ""
        url = mask_url(self.base_url)
        return f"AsyncGetSales(base_url={url!r}{team}, key=<sha256:{self._fingerprint}>)"

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
        return self._shared.limiter

    @property
    def retry_budget(self) -> RetryBudget:
        """The retry budget retries are paid from (shared by the key's clients unless given)."""
        return self._shared.budget

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
        self._check_open()
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
