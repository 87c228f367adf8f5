"""One API key's quota shared by many workers (processes or machines) through Redis.

The schedule is the same GCRA as :mod:`getsales_async._limiter`, kept in one Redis hash per API key
(``key_prefix + key_fingerprint(api_key)``: the key itself never reaches Redis) and changed only by
Lua scripts, which Redis runs atomically:

* ``_ACQUIRE_LUA`` reads the time from ``redis.call('TIME')``, so host clocks do not matter. It works
  in *reservation* mode: every call commits ``tat = max(tat, now) + T`` and returns how long the
  caller must sleep until its slot (``allow_at - now``). Waiters in all processes are therefore
  served in the order they reached Redis, without polling. After sleeping, the waiter confirms its
  slot with the same script (one more round trip); a slot that a 429 pause now covers is given up
  and a new one reserved behind the pause.
* ``_REFUND_LUA`` gives back the slot of a waiter cancelled while sleeping: only if it is still the
  latest reservation (``tat`` unchanged) is ``tat`` moved back by ``T``, exactly as if the
  reservation never happened. Otherwise the slot stays a *hole*: nobody is admitted in it, so the
  budget is never exceeded, but under saturation the key runs one request below its rate for that
  slot.
* A 429 seen by any worker pushes the shared schedule back for all: ``pause = max(pause, now + s)``
  and ``tat = max(tat, now + s + (burst - 1) * T)``, so nobody is admitted before the pause ends and
  the burst allowance restarts empty. ``s`` is cut to ``max_pause`` (60 s by default) in Python and
  again in the script, so the key's schedule, and the TTL derived from it, is never pushed further
  than that by one pause. :meth:`RedisRateLimiter.pause` is synchronous (the transport calls it), so
  it remembers the pause and applies it to Redis from a background task and, at the latest, with
  the next script call of this limiter.
* Deadlines: ``acquire(timeout=...)`` sends its longest acceptable wait; the script reserves only a
  slot within it and otherwise answers without reserving (nothing to refund), and the caller fails
  at once (``RateLimitError`` when a pause is what keeps it out, else ``APITimeoutError``).

Times are integer microseconds on Redis' clock, and ``T`` is rounded *up* to a whole microsecond, so
rounding can only make the limiter slower, never faster.

Redis unavailable: with ``on_unavailable="local"`` the limiter logs one WARNING per outage, limits
in-process to its share of the rate (``rate / workers``, for the ``workers`` the user declares) and
tries Redis again every ``reconnect_interval`` seconds; with ``"fail"`` it raises
:class:`RateLimiterUnavailableError`. A slot already granted by Redis is honoured either way.

redis-py's asyncio client runs on asyncio only, so this limiter does too: under trio,
:meth:`~RedisRateLimiter.acquire` raises :class:`~getsales_async.ArgumentError`. redis is imported
lazily, so ``import getsales_async`` works without it.
"""

from __future__ import annotations

import asyncio
import logging
import math
import re
import time
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING, Literal, NamedTuple
from urllib.parse import parse_qsl, urlsplit

import anyio
import anyio.lowlevel

from ._config import DEFAULT_MAX_RETRY_AFTER_S
from ._errors import APITimeoutError, ArgumentError, GetSalesError, RateLimitError
from ._limiter import RateLimit, key_fingerprint, shared_limiter
from ._logging import register_secret
from ._validation import seconds_problem

if TYPE_CHECKING:
    from redis.asyncio import Redis
    from redis.commands.core import AsyncScript

__all__ = [
    "DEFAULT_REDIS_KEY_PREFIX",
    "DEFAULT_REDIS_RECONNECT_INTERVAL_S",
    "DEFAULT_REDIS_SOCKET_TIMEOUT_S",
    "RateLimiterUnavailableError",
    "RedisLimiterStatistics",
    "RedisRateLimit",
    "RedisRateLimiter",
]

logger = logging.getLogger("getsales_async")

DEFAULT_REDIS_KEY_PREFIX = "getsales:ratelimit:"
DEFAULT_REDIS_RECONNECT_INTERVAL_S = 5.0  # while Redis is down, try it again this often
DEFAULT_REDIS_SOCKET_TIMEOUT_S = 2.0  # connect and per-command timeout
KEY_TTL_MARGIN_MS = 1000  # the schedule expires this long after it stops mattering
_US = 1_000_000  # microseconds per second
_KEPT = -1  # _Grant.tat of a confirmed (not newly reserved) slot

_REDIS_SCHEMES = ("redis://", "rediss://", "unix://")
_URL_PASSWORD_RE = re.compile(r"^([a-z]+://[^/@:]*:)[^@/]*(@)")  # scheme://user:PASSWORD@
_QUERY_PASSWORD_RE = re.compile(r"(?<=[?&]password=)[^&#]*")  # ?password=PASSWORD
_INSTALL_HINT = "pip install 'getsales-async[redis]'"
_TRIO_MESSAGE = (
    "RedisRateLimiter needs asyncio: redis-py's asyncio client cannot run under trio (or outside "
    "an event loop). Run this program on asyncio (asyncio.run(...) or "
    "anyio.run(..., backend='asyncio')), or use an in-process RateLimit under trio."
)

# KEYS[1]: the schedule, a hash {tat, pause} in microseconds since the epoch on Redis' clock.
# ARGV: [1] interval T (us), [2] tolerance (burst - 1) * T (us), [3] pause (us from now; 0: none),
#       [4] mode: 'reserve' a slot | 'confirm' the slot ARGV[5] after sleeping | 'pause' only,
#       [6] TTL margin (ms), [7] longest acceptable wait (us; -1: any), [8] longest pause (us).
# Returns {wait, slot, tat, reserved, paused_for}: sleep `wait` us and confirm `slot` (wait 0:
# admitted now); `tat` identifies a new reservation (reserved = 1) for a refund. reserved = -1:
# refused, no slot within ARGV[7] (nothing changed but the pause); paused_for = pause left (us).
_ACQUIRE_LUA = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local pause = math.min(tonumber(ARGV[3]), tonumber(ARGV[8]))
local mode = ARGV[4]
local max_wait = tonumber(ARGV[7])
local state = redis.call('HMGET', KEYS[1], 'tat', 'pause')
local tat = tonumber(state[1]) or now
local paused_until = tonumber(state[2]) or 0
local changed = false
if pause > 0 then
  paused_until = math.max(paused_until, now + pause)
  tat = math.max(tat, now + pause + tolerance)
  changed = true
end
local wait, slot, reserved = 0, 0, 0
if mode == 'confirm' then
  slot = tonumber(ARGV[5])
  if slot >= paused_until then
    -- No pause covers this slot since it was reserved: keep it (sleep again if woken early).
    wait = math.max(0, slot - now)
    mode = 'keep'
  end
end
if mode == 'reserve' or mode == 'confirm' then
  slot = math.max(now, tat - tolerance)
  wait = slot - now
  if max_wait >= 0 and wait > max_wait then
    reserved = -1
  else
    tat = math.max(tat, now) + interval
    reserved = 1
    changed = true
  end
end
if changed then
  redis.call('HSET', KEYS[1], 'tat', string.format('%.0f', tat),
             'pause', string.format('%.0f', paused_until))
  local horizon = math.max(tat, paused_until) - now
  redis.call('PEXPIRE', KEYS[1], math.max(0, math.ceil(horizon / 1000)) + tonumber(ARGV[6]))
end
return {wait, slot, tat, reserved, math.max(0, paused_until - now)}
"""

# KEYS[1]: the schedule. ARGV: [1] interval T (us), [2] the tat the cancelled reservation set.
# Moves the schedule back by T iff that reservation is still the latest one. Returns 1 if refunded.
_REFUND_LUA = """
local tat = tonumber(redis.call('HGET', KEYS[1], 'tat'))
if tat == nil or tat ~= tonumber(ARGV[2]) then
  return 0
end
redis.call('HSET', KEYS[1], 'tat', string.format('%.0f', tat - tonumber(ARGV[1])))
return 1
"""


class RateLimiterUnavailableError(GetSalesError):
    """Raised when Redis cannot be reached and ``RedisRateLimit(on_unavailable="fail")`` is set."""


def _redact_url(url: str) -> str:
    """The URL with any password (in the authority or the query) replaced by ``***``."""
    url = _URL_PASSWORD_RE.sub(r"\1***\2", url)
    return _QUERY_PASSWORD_RE.sub("***", url)


@dataclass(frozen=True, repr=False)
class RedisRateLimit:
    """Share one API key's :class:`RateLimit` across processes and machines through Redis.

    Pass it as ``AsyncGetSales(rate_limit=RedisRateLimit(url=...))``; every worker that uses the
    same key, Redis and ``key_prefix`` then draws from one budget, first come first served.

    Args:
        url: Redis URL, e.g. ``redis://127.0.0.1:6379/0`` (``rediss://`` and ``unix://`` work too).
        rate: The key's quota, the same in every worker.
        key_prefix: Prefix of the Redis key; the key name ends with the API key's sha256 fingerprint.
        on_unavailable: ``"local"`` (default): when Redis cannot be reached, log one WARNING and
            limit in-process until Redis is back (N workers may then send up to N times the rate).
            ``"fail"``: raise :class:`RateLimiterUnavailableError` instead.
        reconnect_interval: Seconds between attempts to reach Redis again while it is down.
        socket_timeout: Seconds to wait for Redis to connect or answer one command.
        workers: How many workers (processes) share the key. While Redis is down each limits
            itself to ``rate / workers``, so together they stay within the budget (see
            ``docs/shared-quota.md``); with the default 1 each falls back to the whole rate.
        max_pause: Longest pause (seconds) one 429 puts on the shared schedule.

    Example::

        limit = RedisRateLimit(url="redis://redis:6379/0", rate=RateLimit.per_minute(290, burst=10))
        async with AsyncGetSales(rate_limit=limit) as client:
            ...
    """

    url: str
    rate: RateLimit = field(default_factory=RateLimit)
    key_prefix: str = DEFAULT_REDIS_KEY_PREFIX
    on_unavailable: Literal["local", "fail"] = "local"
    reconnect_interval: float = DEFAULT_REDIS_RECONNECT_INTERVAL_S
    socket_timeout: float = DEFAULT_REDIS_SOCKET_TIMEOUT_S
    workers: int = 1
    max_pause: float = DEFAULT_MAX_RETRY_AFTER_S

    def __post_init__(self) -> None:
        problems = []
        if not isinstance(self.url, str) or not self.url.startswith(_REDIS_SCHEMES):
            shown = _redact_url(self.url) if isinstance(self.url, str) else repr(self.url)
            problems.append(
                f"url must start with redis://, rediss:// or unix://, got {shown!r} "
                "(e.g. redis://127.0.0.1:6379/0)"
            )
        if not isinstance(self.rate, RateLimit):
            problems.append(f"rate must be a RateLimit, got {type(self.rate).__name__}")
        if not isinstance(self.key_prefix, str) or not self.key_prefix:
            problems.append(f"key_prefix must be a non-empty string, got {self.key_prefix!r}")
        if self.on_unavailable not in ("local", "fail"):
            problems.append(
                f"on_unavailable must be 'local' or 'fail', got {self.on_unavailable!r}"
            )
        for name in ("reconnect_interval", "socket_timeout", "max_pause"):
            problem = seconds_problem(name, getattr(self, name), positive=True)
            if problem:
                problems.append(problem)
        if isinstance(self.workers, bool) or not isinstance(self.workers, int) or self.workers < 1:
            problems.append(
                f"workers must be a positive int (processes sharing the key), got {self.workers!r}"
            )
        if problems:
            message = f"invalid RedisRateLimit: {'; '.join(problems)}"
            raise ArgumentError(message)
        parts = urlsplit(self.url)
        passwords = [parts.password, *(v for k, v in parse_qsl(parts.query) if k == "password")]
        for password in passwords:
            if password:
                register_secret(password)  # masked in every log record of the SDK

    def fallback_rate(self) -> RateLimit:
        """The in-process rate of one worker while Redis is down: its share, ``rate / workers``.

        Same ``requests``, ``workers`` times the period, ``burst // workers`` (at least 1). With
        ``r + b - 1`` the shared budget per rolling period, the workers together admit at most
        ``r + max(b, workers) - 1`` in any rolling period while every one of them is in fallback.
        """
        rate = self.rate
        if self.workers == 1:
            return rate
        return RateLimit(
            requests=rate.requests,
            period=rate.period * self.workers,
            burst=max(1, rate.burst // self.workers),
        )

    def build(self, api_key: str) -> RedisRateLimiter:
        """The limiter for ``api_key`` (the client calls this; the key itself is not kept).

        Raises:
            ArgumentError: the key is empty, or the ``redis`` package is not installed.
        """
        return RedisRateLimiter(self, api_key=api_key)

    def __repr__(self) -> str:
        rate = self.rate
        return (
            f"RedisRateLimit(url={_redact_url(self.url)!r}, rate={rate!r}, "
            f"key_prefix={self.key_prefix!r}, on_unavailable={self.on_unavailable!r}, "
            f"workers={self.workers!r})"
        )


@dataclass(frozen=True)
class RedisLimiterStatistics:
    """A snapshot of a :class:`RedisRateLimiter` (counters since it was created)."""

    rate: RateLimit
    """The quota shared through Redis."""
    backend: Literal["redis", "local"]
    """Where admissions go now: the shared Redis schedule, or the in-process fallback."""
    acquired_total: int
    """Requests admitted so far, by Redis or by the fallback."""
    acquired_local: int
    """Of those, admitted by the in-process fallback while Redis was down."""
    waiting: int
    """Tasks inside ``acquire()`` right now."""
    wait_seconds_total: float
    """Seconds spent in ``acquire()``, summed over every call that has returned or been cancelled."""
    pauses: int
    """Calls to ``pause()``/``apause()`` with a positive duration."""
    refunds: int
    """Cancelled waiters whose slot went back to the schedule."""
    holes: int
    """Cancelled waiters whose slot could not go back (a later reservation exists): one lost slot each."""
    outages: int
    """Times Redis became unreachable (each logged one WARNING)."""
    unavailable_for: float | None
    """Seconds since Redis became unreachable, or ``None`` while it is reachable."""


class _Grant(NamedTuple):
    """One answer of the acquire script (microseconds on Redis' clock)."""

    wait: int
    slot: int
    tat: int
    paused_for: int = 0  # the shared pause left when the script ran
    refused: bool = False  # no slot within the caller's longest acceptable wait


class _RedisDown(Exception):
    """Internal: Redis could not be used for this call (``cause`` is None if it was not tried)."""

    def __init__(self, cause: BaseException | None) -> None:
        super().__init__(cause)
        self.cause = cause


@dataclass
class _Connection:
    """The redis-py client, scripts and FIFO lock of one event loop."""

    loop: asyncio.AbstractEventLoop
    client: Redis
    acquire_script: AsyncScript
    refund_script: AsyncScript
    lock: asyncio.Lock  # one script call at a time, in arrival order: FIFO within the process


class RedisRateLimiter:
    """Admits requests at a :class:`RateLimit` shared through Redis by every worker using the key.

    Usually built by ``AsyncGetSales(rate_limit=RedisRateLimit(url=...))``. Runs on asyncio only.

    Args:
        config: Where Redis is, the quota, and what to do when Redis is down.
        api_key: The API key whose quota is shared; only its sha256 fingerprint is kept.

    Raises:
        ArgumentError: the key is empty, or the ``redis`` package is not installed.
        ValueError: the process already limits this key in-process with another rate.

    Example::

        limiter = RedisRateLimit(url="redis://127.0.0.1:6379/0").build(api_key)
        try:
            await limiter.acquire()
        finally:
            await limiter.aclose()
    """

    def __init__(self, config: RedisRateLimit, *, api_key: str) -> None:
        if not isinstance(config, RedisRateLimit):
            message = f"config must be a RedisRateLimit, got {type(config).__name__}"
            raise ArgumentError(message)
        if not isinstance(api_key, str) or not api_key.strip():
            message = "RedisRateLimiter needs the API key whose quota it shares; got an empty one"
            raise ArgumentError(message)
        _import_redis()  # fail early, with the install hint
        rate = config.rate
        self._config = config
        self._fingerprint = key_fingerprint(api_key)
        self._key = config.key_prefix + self._fingerprint
        self._interval_us = math.ceil(rate.period * _US / rate.requests)
        self._tolerance_us = (rate.burst - 1) * self._interval_us
        # The fallback is process-wide for the key: with workers=1 the key's in-process limiter
        # (shared with any in-process client), else a limiter at this worker's share of the rate.
        scope = "" if config.workers == 1 else f":redis-fallback/{config.workers}"
        self._fallback = shared_limiter(
            api_key, config.fallback_rate(), max_pause=config.max_pause, scope=scope
        )
        self._conn: _Connection | None = None
        self._pending_pause_until: float | None = None  # time.monotonic() deadline not yet in Redis
        self._flush_task: asyncio.Task[None] | None = None
        self._down_since: float | None = None  # time.monotonic() when Redis became unreachable
        self._next_probe_at = 0.0
        self._acquired_total = 0
        self._acquired_local = 0
        self._waiting = 0
        self._wait_seconds_total = 0.0
        self._pauses = 0
        self._refunds = 0
        self._holes = 0
        self._outages = 0

    @property
    def config(self) -> RedisRateLimit:
        """Where Redis is, the quota, and the fallback policy."""
        return self._config

    @property
    def rate(self) -> RateLimit:
        """The quota shared through Redis."""
        return self._config.rate

    @property
    def redis_key(self) -> str:
        """The Redis key holding the schedule: the prefix and the API key's fingerprint."""
        return self._key

    # ----------------------------------------------------------------------------- acquire

    async def acquire(self, *, timeout: float | None = None) -> None:
        """Wait for this request's slot in the shared schedule, then take it.

        Waiters are served in the order they reach Redis (FIFO within this process). A waiter
        cancelled while sleeping refunds its slot when it can (see the module docstring).

        Args:
            timeout: Longest wait in seconds (``None``: no limit); no slot is reserved past it.

        Raises:
            ArgumentError: not running on asyncio (redis-py cannot run under trio).
            RateLimiterUnavailableError: Redis is unreachable and ``on_unavailable="fail"``.
            APITimeoutError: no slot within ``timeout`` (at once, nothing reserved).
            RateLimitError: a server-requested pause on the key lasts past ``timeout``.
        """
        await self.acquire_slot(timeout=timeout)

    async def acquire_slot(self, *, timeout: float | None = None) -> float:
        """Like :meth:`acquire`, and return the admitted slot's time.

        Returns:
            Seconds since the epoch on Redis' clock (``time.time()`` when the fallback admitted).
        """
        conn = self._connection()
        await anyio.lowlevel.checkpoint_if_cancelled()
        self._waiting += 1
        started = time.monotonic()
        deadline = None if timeout is None else started + max(0.0, timeout)
        try:
            probe = self._claim_redis()
            if probe is None:
                self._raise_if_failing(None)
            else:
                try:
                    return await self._acquire_redis(conn, probe=probe, deadline=deadline)
                except _RedisDown as down:
                    self._note_down(down.cause)
                    self._raise_if_failing(down.cause)
            return await self._acquire_local(deadline)
        finally:
            self._waiting -= 1
            self._wait_seconds_total += time.monotonic() - started

    async def _acquire_local(self, deadline: float | None) -> float:
        """A slot from the in-process fallback; its time is read at admission, before yielding."""
        try:
            self._fallback.acquire_nowait()
        except anyio.WouldBlock:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            await self._fallback.acquire(timeout=left)  # returns right at admission
            slot = time.time()
        else:
            slot = time.time()
            await anyio.lowlevel.cancel_shielded_checkpoint()
        self._acquired_local += 1
        self._acquired_total += 1
        return slot

    async def _acquire_redis(
        self, conn: _Connection, *, probe: bool, deadline: float | None
    ) -> float:
        grant = await self._eval(conn, "reserve", probe=probe, max_wait=_max_wait_us(deadline))
        self._note_up()
        if grant.refused:
            raise self._deadline_error(grant, deadline)
        try:
            while grant.wait > 0:
                await anyio.sleep(grant.wait / _US)
                try:
                    answer = await self._eval(
                        conn, "confirm", slot=grant.slot, max_wait=_max_wait_us(deadline)
                    )
                except _RedisDown as down:
                    # Redis granted this slot and its time has come: honour it, and let the
                    # next acquire() deal with the outage.
                    if down.cause is not None:
                        self._note_down(down.cause)
                    break
                if answer.refused:  # a pause moved the slot past the deadline
                    raise self._deadline_error(answer, deadline)
                # A kept slot still belongs to the reservation that set ``grant.tat``.
                grant = answer if answer.tat != _KEPT else grant._replace(wait=answer.wait)
        except BaseException:
            await self._refund(conn, grant)
            raise
        self._acquired_total += 1
        return grant.slot / _US

    def _deadline_error(self, grant: _Grant, deadline: float | None) -> GetSalesError:
        left = 0.0 if deadline is None else max(0.0, deadline - time.monotonic())
        if grant.paused_for / _US > left:
            return RateLimitError(
                f"the key is paused for {grant.paused_for / _US:.3f} s at the server's request "
                "(Retry-After, shared through Redis), past this call's deadline",
                retry_after=grant.paused_for / _US,
            )
        return APITimeoutError(
            f"no rate-limit slot before this call's deadline ({left:.3f} s left; the next free "
            f"slot of key sha256:{self._fingerprint} is {grant.wait / _US:.3f} s away)"
        )

    async def _eval(
        self,
        conn: _Connection,
        mode: str,
        *,
        slot: int = -1,
        probe: bool = False,
        max_wait: int = -1,
    ) -> _Grant:
        """Run the acquire script once, in arrival order; Redis failures become ``_RedisDown``."""
        async with conn.lock:
            if self._down_since is not None and not probe:
                raise _RedisDown(None)  # another task found Redis down while this one queued
            pending = self._pending_pause_until
            self._pending_pause_until = None
            pause_us = 0
            if pending is not None:
                pause_us = max(0, math.ceil((pending - time.monotonic()) * _US))
            args = (
                self._interval_us,
                self._tolerance_us,
                pause_us,
                mode,
                slot,
                KEY_TTL_MARGIN_MS,
                max_wait,
                math.ceil(self._config.max_pause * _US),
            )
            try:
                # Shielded (from anyio cancellation): once sent, the answer must be read, or a
                # reservation is lost. A native Task.cancel() can still interrupt: a hole at worst.
                with anyio.CancelScope(shield=True):
                    reply = await conn.acquire_script(keys=[self._key], args=args)
            except BaseException as exc:
                if pending is not None:
                    self._merge_pending_pause(pending)  # pauses are idempotent: resend it
                if isinstance(exc, _redis_errors()):
                    raise _RedisDown(exc) from exc
                raise
        wait, granted_slot, tat, reserved, paused_for = (int(value) for value in reply)
        return _Grant(
            wait=wait,
            slot=granted_slot,
            tat=tat if reserved == 1 else _KEPT,
            paused_for=paused_for,
            refused=reserved == -1,
        )

    async def _refund(self, conn: _Connection, grant: _Grant) -> None:
        """Give a cancelled waiter's slot back if it is still the latest reservation."""
        refunded = 0
        with anyio.CancelScope(shield=True):
            try:
                refunded = int(
                    await conn.refund_script(keys=[self._key], args=(self._interval_us, grant.tat))
                )
            except _redis_errors() as exc:
                logger.debug(
                    "rate limiter sha256:%s could not refund a slot: %r", self._fingerprint, exc
                )
        if refunded:
            self._refunds += 1
        else:
            self._holes += 1

    # ----------------------------------------------------------------------------- pauses

    def pause(self, seconds: float) -> None:
        """Admit nobody, in any worker, for the next ``seconds`` (a 429 calls this).

        Takes effect at once in this process's fallback limiter, and in Redis from a background
        task (or with this limiter's next script call, whichever comes first).

        Args:
            seconds: How long to pause, from now (negative values count as 0; at most
                ``max_pause``).
        """
        seconds = self._pause_seconds(seconds)
        if seconds <= 0:
            return
        self._pauses += 1
        self._fallback.pause(seconds)
        self._merge_pending_pause(time.monotonic() + seconds)
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # applied by the next acquire()
        if self._flush_task is None or self._flush_task.done():
            self._flush_task = loop.create_task(self._flush_pause())

    async def apause(self, seconds: float) -> None:
        """Like :meth:`pause`, and wait until Redis has it.

        Raises:
            ArgumentError: not running on asyncio.
            RateLimiterUnavailableError: Redis is unreachable and ``on_unavailable="fail"``
                (with ``"local"`` the pause applies in-process and reaches Redis when it is back).
        """
        seconds = self._pause_seconds(seconds)
        conn = self._connection()
        if seconds <= 0:
            return
        self._pauses += 1
        self._fallback.pause(seconds)
        self._merge_pending_pause(time.monotonic() + seconds)
        await self._push_pause(conn, raising=True)

    async def _flush_pause(self) -> None:
        """Background task of :meth:`pause`: push pending pauses until none is left."""
        try:
            conn = self._connection()
            while self._pending_pause_until is not None:
                if not await self._push_pause(conn, raising=False):
                    return  # Redis is down: the next successful script call carries the pause
        except Exception as exc:  # a background task has nobody to raise to
            logger.debug(
                "rate limiter sha256:%s could not push a pause: %r", self._fingerprint, exc
            )

    async def _push_pause(self, conn: _Connection, *, raising: bool) -> bool:
        """Send the pending pause to Redis; whether Redis has it."""
        probe = self._claim_redis()
        if probe is None:
            if raising:
                self._raise_if_failing(None)
            return False
        try:
            await self._eval(conn, "pause", probe=probe)
        except _RedisDown as down:
            self._note_down(down.cause)
            if raising:
                self._raise_if_failing(down.cause)
            return False
        self._note_up()
        return True

    def _merge_pending_pause(self, until: float) -> None:
        pending = self._pending_pause_until
        self._pending_pause_until = until if pending is None else max(pending, until)

    def _pause_seconds(self, seconds: float) -> float:
        if math.isnan(seconds):
            message = "pause() got NaN; pass a number of seconds"
            raise ValueError(message)
        return min(max(0.0, seconds), self._config.max_pause)

    # ----------------------------------------------------------------------------- availability

    def _claim_redis(self) -> bool | None:
        """Whether to use Redis now: ``False`` (up), ``True`` (down, this call probes), ``None``."""
        if self._down_since is None:
            return False
        now = time.monotonic()
        if now < self._next_probe_at:
            return None
        self._next_probe_at = now + self._config.reconnect_interval
        return True

    def _note_down(self, cause: BaseException | None) -> None:
        if cause is None:
            return
        now = time.monotonic()
        self._next_probe_at = now + self._config.reconnect_interval
        if self._down_since is not None:
            logger.debug("Redis still unreachable for sha256:%s: %r", self._fingerprint, cause)
            return
        self._down_since = now
        self._outages += 1
        if self._config.on_unavailable == "local":
            logger.warning(
                "Redis at %s is unreachable (%s: %s): rate limiting key sha256:%s in this process "
                "only (each worker now limits only itself); retrying Redis every %g s",
                _redact_url(self._config.url),
                type(cause).__name__,
                cause,
                self._fingerprint,
                self._config.reconnect_interval,
            )

    def _note_up(self) -> None:
        if self._down_since is None:
            return
        logger.info(
            "Redis at %s is reachable again after %.1f s: key sha256:%s shares its quota again",
            _redact_url(self._config.url),
            time.monotonic() - self._down_since,
            self._fingerprint,
        )
        self._down_since = None

    def _raise_if_failing(self, cause: BaseException | None) -> None:
        if self._config.on_unavailable != "fail":
            return
        reason = f" ({type(cause).__name__}: {cause})" if cause is not None else ""
        message = (
            f"Redis at {_redact_url(self._config.url)} is unreachable{reason}, so the shared "
            f"quota of key sha256:{self._fingerprint} cannot be enforced. Start Redis or fix "
            "RedisRateLimit(url=...), or pass on_unavailable='local' to limit in-process "
            "meanwhile."
        )
        raise RateLimiterUnavailableError(message) from cause

    # ----------------------------------------------------------------------------- lifecycle

    def _connection(self) -> _Connection:
        """The client of the running event loop (made on first use); ArgumentError off asyncio."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            raise ArgumentError(_TRIO_MESSAGE) from None
        conn = self._conn
        if conn is not None and conn.loop is loop:
            return conn
        from redis.asyncio import Redis
        from redis.asyncio.retry import Retry
        from redis.backoff import NoBackoff

        timeout = self._config.socket_timeout
        client = Redis.from_url(
            self._config.url,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            # One immediate retry replaces a connection that a Redis restart broke.
            retry=Retry(NoBackoff(), 1),
        )
        self._conn = conn = _Connection(
            loop=loop,
            client=client,
            acquire_script=client.register_script(_ACQUIRE_LUA),
            refund_script=client.register_script(_REFUND_LUA),
            lock=asyncio.Lock(),
        )
        return conn

    async def aclose(self) -> None:
        """Push any pending pause, then close the Redis connections of this event loop.

        The limiter stays usable: the next call connects again.
        """
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # not on asyncio: nothing can have connected
        task, self._flush_task = self._flush_task, None
        if task is not None and task.get_loop() is loop and not task.done():
            with anyio.CancelScope(shield=True):
                await asyncio.wait([task], timeout=self._config.socket_timeout)
        conn, self._conn = self._conn, None  # after the push, which may have connected
        if conn is not None and conn.loop is loop:
            with anyio.CancelScope(shield=True):
                await conn.client.aclose()

    def statistics(self) -> RedisLimiterStatistics:
        """A snapshot of the limiter's state and counters."""
        down = self._down_since
        return RedisLimiterStatistics(
            rate=self._config.rate,
            backend="redis" if down is None else "local",
            acquired_total=self._acquired_total,
            acquired_local=self._acquired_local,
            waiting=self._waiting,
            wait_seconds_total=self._wait_seconds_total,
            pauses=self._pauses,
            refunds=self._refunds,
            holes=self._holes,
            outages=self._outages,
            unavailable_for=None if down is None else time.monotonic() - down,
        )

    async def __aenter__(self) -> None:
        await self.acquire()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> None:
        return None

    def __repr__(self) -> str:
        rate = self._config.rate
        backend = "redis" if self._down_since is None else "local (Redis unreachable)"
        return (
            f"<{type(self).__name__} key=sha256:{self._fingerprint} "
            f"url={_redact_url(self._config.url)} rate={rate.requests}/{rate.period:g}s "
            f"burst={rate.burst}, backend={backend}, acquired={self._acquired_total}, "
            f"waiting={self._waiting}>"
        )


def _max_wait_us(deadline: float | None) -> int:
    """The longest acceptable wait for the script: microseconds until ``deadline``, or -1 (any)."""
    if deadline is None:
        return -1
    return max(0, math.floor((deadline - time.monotonic()) * _US))


def _import_redis() -> None:
    """Import redis-py now (not with the package), or say how to install it."""
    try:
        import redis.asyncio  # noqa: F401
    except ImportError as exc:
        message = f"RedisRateLimit needs the redis package: {_INSTALL_HINT}"
        raise ArgumentError(message) from exc


def _redis_errors() -> tuple[type[BaseException], ...]:
    """What counts as "Redis unavailable": any redis-py error, or a socket error."""
    from redis.exceptions import RedisError

    return (RedisError, OSError)
