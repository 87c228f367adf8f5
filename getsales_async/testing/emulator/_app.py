"""``GetSalesEmulator``: a stateful, in-memory GetSales API as an ASGI app.

Each request goes through, in order:

1. authentication: ``Authorization: Bearer <key>`` (401 ``auth_exception``), and an optional
   ``Team-ID`` that must be the key's team (403 ``access_denied``);
2. routing over every operation of the spec (404 for unknown paths and for operations the
   emulator does not implement, 405 for a wrong method);
3. the per-key quota, a GCRA checked without waiting (429; ``Retry-After`` only when
   ``quota_retry_after`` is set, as production sends none); requests that fail routing count too;
4. injected faults: those a test scheduled for the operation (:meth:`inject_fault`) first, then
   :class:`FaultConfig`'s, before the operation has any effect;
5. background work that is due (``_engine``: messages, tasks, enrichment, exports, imports,
   webhook retries) and the webhook deliveries it caused;
6. the operation, a synchronous handler: its reads and writes happen without an ``await``
   in between, so concurrent requests on one event loop never see half a change (the webhook
   test call, which waits for the target's answer, is the one asynchronous handler);
7. the webhook deliveries the operation caused, before the answer is sent;
8. for writes, ``fail_after_commit_rate``: the answer is lost after the write.

Every request is recorded in :attr:`GetSalesEmulator.requests`, with the API key's fingerprint
(never the key).
"""

from __future__ import annotations

import contextlib
import inspect
import json
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import TYPE_CHECKING, Any, cast

import anyio
import anyio.abc
import httpx

from getsales_async._clock import Clock, MonotonicClock
from getsales_async._limiter import AsyncRateLimiter, RateLimit, key_fingerprint

from . import _delivery, _engine
from ._background import BulkConfig
from ._errors import ApiError, ConnectionDropped, bad_request
from ._faults import FaultConfig, FaultDecision, FaultInjector
from ._helpers import ScenarioHelpers
from ._http import Call
from ._multipart import MultipartBody, parse_multipart
from ._operations import BODY_REQUIRED, HANDLERS, IMPLEMENTED_OPERATIONS, READ_POSTS
from ._snapshot import EmulatorSnapshot, load_snapshot, take_snapshot
from ._state import EmulatorState
from ._timings import EmulatorTimings

if TYPE_CHECKING:
    from starlette.datastructures import QueryParams
    from starlette.responses import Response
    from starlette.types import Receive, Scope, Send

__all__ = [
    "DEFAULT_API_KEY",
    "DEFAULT_QUOTA",
    "DEFAULT_TEAM_ID",
    "IMPLEMENTED_OPERATIONS",
    "EmulatorSnapshot",
    "GetSalesEmulator",
    "RecordedRequest",
]

DEFAULT_API_KEY = "emulator-key"
DEFAULT_TEAM_ID = 1
# 300 requests in any rolling minute per key, as production; a burst of 10 admits the SDK's
# default pacing (RateLimit.under_quota(300): 291/min, burst 7) without a single 429.
DEFAULT_QUOTA = RateLimit.for_quota(300, 60.0, burst=10)
# Timestamps start here when a clock is injected, so runs are repeatable.
VIRTUAL_EPOCH = datetime(2025, 1, 1, tzinfo=UTC)

_GATEWAY_PAGES = {
    502: "502 Bad Gateway",
    504: "504 Gateway Time-out",
}


@dataclass(frozen=True)
class RecordedRequest:
    """One request the emulator received, and how it answered."""

    method: str
    path: str
    query: dict[str, list[str]]
    json: Any
    """The decoded JSON body (``None`` when empty or not JSON)."""
    key: str | None
    """The API key's sha256 fingerprint (never the key), or ``None`` when none was sent."""
    status: int | None
    """The status answered, or ``None`` when the connection was dropped."""
    time: float
    """Arrival time on the emulator's clock, in seconds."""
    operation_id: str | None = None
    faults: tuple[str, ...] = ()
    """The injected faults (``latency``, ``drop``, ``error``, ``429``, ``empty_body``,
    ``fail_after_commit``); ``quota`` when the per-key quota refused it."""
    request_id: str = ""
    """The ``X-Request-Id`` the emulator answered with."""


@dataclass
class _Trace:
    """What the pipeline learnt about a request, for the request log."""

    key: str | None = None
    operation_id: str | None = None
    faults: list[str] = field(default_factory=list)


class GetSalesEmulator(ScenarioHelpers):
    """A stateful, in-memory GetSales server for tests, in-process or on a port.

    Args:
        api_keys: API key → team id. Default: one key, ``"emulator-key"``, of team 1.
        quota: the per-key quota (GCRA, checked without waiting: over it the answer is 429).
            Default: 300 in any rolling minute; ``None`` disables it.
        quota_retry_after: send a whole-second ``Retry-After`` with the quota's 429s. Default
            ``False``: production sends none (no source shows one), so clients must back off on
            their own; turning it on flatters naive retry loops.
        clock: where time is read and latency is slept (pass the ``VirtualClock`` your client
            uses). Default: the real monotonic clock. With an injected clock, timestamps start at
            2025-01-01T00:00:00Z. :meth:`advance` moves the emulator's time past it.
        faults: faults to inject (:class:`FaultConfig`); ``None`` for none.
        seed: seeds uuids and faults, so runs repeat exactly.
        bulk: how CSV imports and mass actions run (:class:`BulkConfig`: background rate,
            batch size, accepted column-mapping shapes, upload limit). Default: ``BulkConfig()``.
        timings: how long background work takes on the emulator's clock
            (:class:`EmulatorTimings`).
        webhook_transport: where webhook deliveries go: an httpx transport (e.g.
            ``httpx.ASGITransport(app=receiver)``) or ``None`` for the network.

    Example::

        emulator = GetSalesEmulator()
        async with AsyncGetSales(
            api_key="emulator-key", base_url="http://emulator", transport=emulator.transport()
        ) as client:
            lst = await client.lists.create(name="Prospects")
            await client.leads.upsert(lead={"linkedin_id": "jdoe"}, list_uuid=lst.uuid)
        assert len(emulator.state.leads) == 1
    """

    def __init__(
        self,
        *,
        api_keys: Mapping[str, int] | None = None,
        quota: RateLimit | None = DEFAULT_QUOTA,
        quota_retry_after: bool = False,
        clock: Clock | None = None,
        faults: FaultConfig | None = None,
        seed: int = 0,
        bulk: BulkConfig | None = None,
        timings: EmulatorTimings | None = None,
        webhook_transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        keys = dict(api_keys) if api_keys is not None else {DEFAULT_API_KEY: DEFAULT_TEAM_ID}
        problems = [
            f"{key_fingerprint(k) if isinstance(k, str) and k else repr(k)} → {t!r}"
            for k, t in keys.items()
            if not (isinstance(k, str) and k.strip() == k and k)
            or isinstance(t, bool)
            or not isinstance(t, int)
            or t < 1
        ]
        if not keys or problems:
            message = (
                "api_keys maps non-empty API keys (no surrounding spaces) to positive team ids, "
                f"e.g. {{'emulator-key': 1}}; invalid: {', '.join(problems) or 'none given'}"
            )
            raise ValueError(message)
        if quota is not None and not isinstance(quota, RateLimit):
            message = f"quota must be a RateLimit or None, got {type(quota).__name__}"
            raise TypeError(message)
        if faults is not None and not isinstance(faults, FaultConfig):
            message = f"faults must be a FaultConfig or None, got {type(faults).__name__}"
            raise TypeError(message)
        if bulk is not None and not isinstance(bulk, BulkConfig):
            message = f"bulk must be a BulkConfig or None, got {type(bulk).__name__}"
            raise TypeError(message)
        if timings is not None and not isinstance(timings, EmulatorTimings):
            message = f"timings must be EmulatorTimings or None, got {type(timings).__name__}"
            raise TypeError(message)
        _require_starlette()
        self._bulk = bulk or BulkConfig()
        self._api_keys = keys
        self._quota = quota
        self._quota_retry_after = bool(quota_retry_after)
        self._clock = _engine.EmulatorClock(clock if clock is not None else MonotonicClock())
        self._wall_start = VIRTUAL_EPOCH if clock is not None else datetime.now(UTC)
        self._fault_config = faults
        self._seed = seed
        self._timings = timings if timings is not None else EmulatorTimings()
        self._webhook_transport = webhook_transport
        self.reset()

    def reset(self) -> None:
        """Forget everything: records, recorded requests, deliveries, quotas and faults start over."""
        self._state = EmulatorState(
            team_ids=list(dict.fromkeys(self._api_keys.values())),
            seed=self._seed,
            clock=self._clock,
            wall_start=self._wall_start,
            timings=self._timings,
        )
        self._state.background.config = self._bulk
        self._state.webhook_transport = self._webhook_transport
        self._requests: list[RecordedRequest] = []
        self._limiters: dict[str, AsyncRateLimiter] = {}
        self._faults = FaultInjector(self._fault_config, self._seed)
        self._served = 0

    # ------------------------------------------------------------------ public surface

    @property
    def state(self) -> EmulatorState:
        """The records (replaced by :meth:`reset`)."""
        return self._state

    @property
    def requests(self) -> list[RecordedRequest]:
        """A copy of the requests received so far, in arrival order."""
        return list(self._requests)

    @property
    def clock(self) -> Clock:
        """The emulator's clock: the injected one plus the time skipped by :meth:`advance`."""
        return self._clock

    @property
    def faults(self) -> FaultInjector:
        """The fault injector (configured faults, and those scheduled by :meth:`inject_fault`)."""
        return self._faults

    def snapshot(self) -> EmulatorSnapshot:
        """A copy of every record, timer and delivery, for :meth:`restore` (seed once, reuse)."""
        return take_snapshot(self._state, self._shared())

    def restore(self, snapshot: EmulatorSnapshot) -> None:
        """Put the records back as they were at :meth:`snapshot` (the snapshot stays reusable).

        The request log, quotas and faults are left alone (:meth:`reset` clears those).
        """
        if not isinstance(snapshot, EmulatorSnapshot):
            message = f"restore() takes what snapshot() returned, got {type(snapshot).__name__}"
            raise TypeError(message)
        self._state = load_snapshot(snapshot, self._shared())

    def _shared(self) -> dict[str, Any]:
        """Objects a snapshot refers to instead of copying: the clock and the webhook transport."""
        return {"clock": self._clock, "webhook_transport": self._webhook_transport}

    def _skip(self, seconds: float) -> None:
        self._clock.skip(seconds)

    async def run_background(self) -> None:
        """Run the background work due on the emulator's clock and send the webhooks it causes."""
        self._state.background.run_due()  # file imports and queued mass actions
        for _ in range(_engine.MAX_ROUNDS):
            at = _engine.run_due(self._state)
            await _delivery.flush(self._state, at)
            if at is None:
                return

    @property
    def app(self) -> Callable[[Scope, Receive, Send], Any]:
        """The ASGI application."""
        return self._asgi

    def transport(self) -> httpx.ASGITransport:
        """An httpx transport that calls the emulator in-process: ``AsyncGetSales(transport=...)``."""
        return httpx.ASGITransport(app=cast(Any, self._asgi))

    async def serve(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        task_status: anyio.abc.TaskStatus[str] = anyio.TASK_STATUS_IGNORED,
    ) -> None:
        """Serve over HTTP with uvicorn on the running asyncio loop until cancelled.

        Reports the bound URL (``http://127.0.0.1:54321``) through ``task_status``, so
        ``url = await task_group.start(emulator.serve)``. Needs the ``emulator`` extra (uvicorn).

        Args:
            host: interface to bind.
            port: port to bind; 0 picks a free one.
        """
        from ._server import serve

        await serve(self._asgi, host, port, task_status=task_status)

    def serve_in_thread(
        self, host: str = "127.0.0.1", port: int = 0, *, timeout: float = 10.0
    ) -> contextlib.AbstractContextManager[str]:
        """Serve over HTTP from a background thread (its own event loop); yields the URL.

        Works from any test, asyncio or trio. Use the default (real) clock with it: a virtual
        clock cannot be shared across threads.

        Args:
            host: interface to bind.
            port: port to bind; 0 picks a free one.
            timeout: seconds to wait for the server to stop on exit.
        """
        from ._server import serve_in_thread

        return serve_in_thread(self._asgi, host, port, timeout=timeout)

    def seed_leads(
        self,
        leads: int | Iterable[Mapping[str, Any]],
        *,
        list_uuid: str | None = None,
        team_id: int | None = None,
        start: datetime | None = None,
        spacing: float = 1.0,
    ) -> list[str]:
        """Insert contacts straight into memory: fast test data (no HTTP, no quota, no checks).

        Args:
            leads: how many synthetic contacts (``Seed Contact <n>``, with unique e-mails and
                LinkedIn URLs), or the contacts as mappings of contact fields (``linkedin_id``
                is classified as upsert does; ``tags`` are names, created when missing;
                ``custom_fields`` maps existing custom field names to values).
            list_uuid: their list (default: a list named "Seeded contacts", created when missing).
            team_id: their team (default: the first API key's).
            start: ``created_at`` of the first contact (default: so that the last one is now,
                but never before the team's newest contact).
            spacing: seconds between consecutive ``created_at`` values.

        Returns:
            The new contacts' uuids, in order. Contacts are not deduplicated against existing
            ones or checked against blacklists; give each its own identifiers. Webhooks for
            ``contact_created`` (if any) are sent with the next request or ``advance()``.

        Raises:
            ValueError: an unknown field, custom field, list or team.
        """
        from ._seed import seed_leads

        team = team_id if team_id is not None else next(iter(self._api_keys.values()))
        if team not in self._state.teams:
            raise ValueError(
                f"no team {team}; the emulator's teams are {sorted(self._state.teams)}"
            )
        return seed_leads(
            self._state, team, leads, list_uuid=list_uuid, start=start, spacing=spacing
        )

    def __repr__(self) -> str:
        keys = ", ".join(f"sha256:{key_fingerprint(k)}→{t}" for k, t in self._api_keys.items())
        return (
            f"<GetSalesEmulator keys=[{keys}] seed={self._seed} leads={len(self._state.leads)} "
            f"requests={len(self._requests)}>"
        )

    # ------------------------------------------------------------------ the pipeline

    async def _asgi(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        from . import _web

        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        incoming = _Incoming(
            method=scope["method"],
            path=scope["path"],
            query=_web.query_params(scope),
            headers=headers,
            body=_decode(await _read_body(receive), headers.get("content-type", "")),
        )
        arrived = self._clock.now()
        self._served += 1
        request_id = f"emu-{self._served:06d}"
        trace = _Trace()

        def record(status: int | None) -> None:
            self._requests.append(
                RecordedRequest(
                    method=incoming.method,
                    path=incoming.path,
                    query={k: incoming.query.getlist(k) for k in incoming.query},
                    json=None
                    if incoming.body is _INVALID or isinstance(incoming.body, MultipartBody)
                    else incoming.body,
                    key=trace.key,
                    status=status,
                    time=arrived,
                    operation_id=trace.operation_id,
                    faults=tuple(trace.faults),
                    request_id=request_id,
                )
            )

        try:
            response = await self._respond(scope, incoming, trace)
        except ConnectionDropped:
            record(None)
            raise
        response.headers["X-Request-Id"] = request_id
        response.headers["Date"] = format_datetime(self._state.wall_time(), usegmt=True)
        record(response.status_code)
        await response(scope, receive, send)

    async def _respond(self, scope: Scope, incoming: _Incoming, trace: _Trace) -> Response:
        from . import _web

        decision: FaultDecision | None = None
        try:
            team_id = self._authenticate(incoming.headers, trace)
            try:
                operation_id, params = _web.match(scope)
            except ApiError as exc:
                self._check_quota(trace)  # refused requests count against the quota too
                raise exc from None
            trace.operation_id = operation_id
            self._check_quota(trace)
            handler = HANDLERS.get(operation_id)
            if handler is None:
                raise ApiError(
                    404,
                    "not_implemented",
                    f"The GetSales emulator does not implement {operation_id} "
                    f"({incoming.method} {incoming.path}); see IMPLEMENTED_OPERATIONS.",
                )
            read = incoming.method == "GET" or operation_id in READ_POSTS
            decision = self._faults.take(operation_id, incoming.path) or self._faults.decide(
                operation_id, incoming.path, read=read, write=not read
            )
            if decision is not None:
                trace.faults += decision.names
                if decision.latency:
                    await self._clock.sleep(decision.latency)
                early = self._fault_response(decision)
                if early is not None:
                    return early
            if incoming.body is _INVALID:
                multipart = incoming.headers.get("content-type", "").startswith("multipart/")
                raise bad_request(
                    "The multipart body is malformed."
                    if multipart
                    else "The request body is not valid JSON."
                )
            if incoming.body is None and operation_id in BODY_REQUIRED:
                raise bad_request("This operation needs a JSON body.")
            await self.run_background()
            result = handler(Call(self._state, team_id, params, incoming.query, incoming.body))
            reply = await result if inspect.isawaitable(result) else result
        except ApiError as exc:
            await _delivery.flush(self._state)
            return _web.json_response(exc.status, exc.body(), exc.headers)
        await _delivery.flush(self._state)
        if decision is not None and decision.after_commit and reply.status < 400:
            if (
                self._fault_config is not None
                and self._fault_config.fail_after_commit_mode == "drop"
            ):
                raise ConnectionDropped
            return _gateway_response(502)
        return _web.json_response(reply.status, reply.body, reply.headers)

    def _authenticate(self, headers: Mapping[str, str], trace: _Trace) -> int:
        scheme, _, token = headers.get("authorization", "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise ApiError(
                401, "auth_exception", "Send your API key as Authorization: Bearer <key>."
            )
        trace.key = key_fingerprint(token)
        team_id = self._api_keys.get(token)
        if team_id is None:
            raise ApiError(401, "auth_exception", "Invalid or expired API key.")
        asked = headers.get("team-id", "").strip()
        if asked and asked != str(team_id):
            raise ApiError(403, "access_denied", f"The API key has no access to team {asked!r}.")
        return team_id

    def _check_quota(self, trace: _Trace) -> None:
        if self._quota is None or trace.key is None:
            return
        limiter = self._limiters.get(trace.key)
        if limiter is None:
            limiter = self._limiters[trace.key] = AsyncRateLimiter(self._quota, clock=self._clock)
        try:
            limiter.acquire_nowait()
        except anyio.WouldBlock:
            wait = limiter.statistics().next_free_at - self._clock.now()
            seconds = max(1, math.ceil(wait))
            trace.faults.append("quota")
            raise ApiError(
                429,
                "too_many_requests",
                f"Too many requests: at most {self._quota.max_in_window()} per "
                f"{self._quota.period:g} s per API key.",
                headers={"Retry-After": str(seconds)} if self._quota_retry_after else None,
            ) from None

    def _fault_response(self, decision: FaultDecision) -> Response | None:
        from . import _web

        if decision.before == "drop":
            raise ConnectionDropped
        if decision.before == "error":
            if decision.status in _GATEWAY_PAGES:
                return _gateway_response(decision.status)
            error = ApiError(
                decision.status, "service_unavailable", "Service temporarily unavailable."
            )
            return _web.json_response(error.status, error.body(), error.headers)
        if decision.before == "429":
            retry_after = decision.retry_after
            if retry_after is None and self._fault_config is not None:
                retry_after = self._fault_config.retry_after
            headers = {} if retry_after is None else {"Retry-After": f"{retry_after:g}"}
            error = ApiError(429, "too_many_requests", "Too Many Attempts.", headers=headers)
            return _web.json_response(error.status, error.body(), error.headers)
        if decision.before == "empty_body":
            return _web.text_response(200, b"", "application/json")
        return None


_INVALID: Any = object()  # the body of a request whose body is not JSON


@dataclass(frozen=True)
class _Incoming:
    method: str
    path: str
    query: QueryParams
    headers: Mapping[str, str]
    body: Any
    """The decoded JSON body: ``None`` when empty, :data:`_INVALID` when not JSON."""


def _decode(raw: bytes, content_type: str = "") -> Any:
    if content_type.lower().startswith("multipart/form-data"):
        try:
            return parse_multipart(raw, content_type)
        except ValueError:
            return _INVALID
    if not raw.strip():
        return None
    try:
        body = json.loads(raw)
        # Lone UTF-16 surrogates ("\ud800") parse but are no text: refuse them as production does.
        json.dumps(body, ensure_ascii=False).encode("utf-8")
    except (ValueError, RecursionError):  # UnicodeEncodeError is a ValueError
        return _INVALID
    return body


def _require_starlette() -> None:
    try:
        import starlette  # noqa: F401
    except ModuleNotFoundError as exc:  # pragma: no cover - depends on the installed extras
        message = "GetSalesEmulator needs starlette: pip install 'getsales-async[emulator]'"
        raise RuntimeError(message) from exc


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _gateway_response(status: int) -> Response:
    """A gateway's HTML error page, as load balancers send it (not the API's envelope)."""
    from . import _web

    title = _GATEWAY_PAGES[status]
    page = f"<html><head><title>{title}</title></head><body><h1>{title}</h1><hr>nginx</body></html>"
    return _web.text_response(status, page, "text/html")


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
