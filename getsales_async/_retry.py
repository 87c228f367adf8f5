"""Pure retry decisions: whether to retry an attempt, and how long to wait first.

Nothing here sends, sleeps or reads a clock: the transport passes in the status or exception, the
retries already taken, the time left and a random source, and acts on the :class:`RetryDecision`.

Rules (:func:`decide`):

- 429: retried for every operation (the request was refused, not run). Wait ``Retry-After`` when
  the server sent one with ``0 <= value <= policy.max_retry_after``; above the ceiling, negative or
  unparseable, wait the capped exponential backoff instead. ``pause_limiter`` asks the transport to
  pause the shared limiter (by at most ``max_retry_after``), so concurrent calls wait too instead
  of each taking its own 429.
- Connect-phase errors (``httpx.ConnectError``, ``ConnectTimeout``, ``PoolTimeout``): the request
  never reached the server, so they are retried for every operation.
- Errors after sending (``ReadError``, ``WriteError``, ``RemoteProtocolError``, ``ReadTimeout``,
  ``WriteTimeout``), 502/503/504 and an empty 200 where data was expected: ambiguous, the server
  may have acted, so only operations known to be safe to repeat (``idempotent=True``).
- 500: not retried by default (GetSales answers 500 to deterministic client errors); with
  ``retry_500=True`` idempotent operations are.
- Anything else is not retried; nor is anything once ``max_retries`` are taken or the wait would
  overrun the caller's deadline.

Each retry also costs tokens of the key's retry budget (:mod:`getsales_async._budget`), more when
``RetryDecision.throttled`` (a 429 or a timeout); the transport gives up when the budget cannot
pay.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC
from email.utils import parsedate_to_datetime

import httpx

from ._config import (
    DEFAULT_MAX_RETRIES,
    DEFAULT_MAX_RETRY_AFTER_S,
    INITIAL_RETRY_DELAY_S,
    MAX_RETRY_DELAY_S,
)
from ._errors import ArgumentError
from ._validation import seconds_problem

__all__ = [
    "DEFAULT_JITTER",
    "IDEMPOTENT_METHODS",
    "RetryDecision",
    "RetryPolicy",
    "backoff_delay",
    "decide",
    "is_idempotent",
    "parse_retry_after",
]

logger = logging.getLogger("getsales_async")

DEFAULT_JITTER = 0.25  # each backoff delay is shortened by a random 0-25 %
# Safe to repeat by method alone (RFC 9110 safe methods). PUT and DELETE are idempotent in HTTP's
# definition, but on this API several are not (mass actions, cancel, start/stop side effects):
# any other call is repeated only when it says so (each operation's descriptor carries the flag).
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

# The request never reached the server: safe to resend whatever the operation.
_CONNECT_PHASE_ERRORS: tuple[type[Exception], ...] = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
)
# The request may have reached the server: resend only idempotent operations.
_AFTER_SEND_ERRORS: tuple[type[Exception], ...] = (
    httpx.ReadError,
    httpx.WriteError,
    httpx.RemoteProtocolError,
    httpx.ReadTimeout,
    httpx.WriteTimeout,
)
_MAX_EXPONENT = 62  # 2**62 s is beyond any max_delay; keeps the float conversion finite


def _header(headers: Mapping[str, str], name: str) -> str | None:
    """Case-insensitive lookup that works for ``httpx.Headers`` and plain dicts alike."""
    if isinstance(headers, httpx.Headers):
        found: str | None = headers.get(name)
        return found
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return None


_MAX_HEADER_CHARS = 64  # a Retry-After longer than this is not a number or an HTTP date


def _seconds(text: str) -> float | None:
    try:
        value = float(text.strip())
    except ValueError:
        return None
    return value if math.isfinite(value) and value >= 0 else None


def parse_retry_after(headers: Mapping[str, str], *, now: float) -> float | None:
    """The wait the server asks for, in seconds, or ``None`` if it gave none that parses.

    Reads ``retry-after-ms`` (milliseconds) first, then ``retry-after`` as seconds (fractions
    allowed), then ``retry-after`` as an HTTP date. A past date gives ``0.0`` (retry now); a
    negative, infinite or NaN number, or garbage, gives ``None``. No ceiling is applied here:
    :func:`decide` compares the value with ``RetryPolicy.max_retry_after``.

    Args:
        headers: Response headers (matched case-insensitively).
        now: Current time in seconds since the epoch, to turn an HTTP date into a wait.

    Returns:
        Seconds to wait (``>= 0``), or ``None`` when absent or unparseable.

    Example::

        >>> parse_retry_after({"Retry-After": "2.5"}, now=0.0)
        2.5
    """
    ms = _header(headers, "retry-after-ms")
    if ms is not None and len(ms) <= _MAX_HEADER_CHARS and (value := _seconds(ms)) is not None:
        return value / 1000.0
    raw = _header(headers, "retry-after")
    if raw is None or len(raw) > _MAX_HEADER_CHARS:
        return None
    if (value := _seconds(raw)) is not None:
        return value
    try:
        when = parsedate_to_datetime(raw.strip())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:  # "-0000" means UTC with unknown origin
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - now)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How many times and how long to retry; immutable and validated on creation.

    Args:
        max_retries: Retries after the first attempt (``0`` disables retrying).
        initial_delay: First backoff delay in seconds; doubles per retry.
        max_delay: Cap of the backoff delay, in seconds.
        jitter: Fraction (0-1) by which each backoff delay is randomly *shortened*, as in the
            Stainless SDKs: with 0.25 the delay lies in ``[0.75 * d, d]``. It never lengthens a
            delay, so ``max_delay`` stays a true cap.
        max_retry_after: Longest ``Retry-After`` (seconds) that is honoured; above it the capped
            backoff is waited instead. Also the ceiling of the shared pause a 429 sets.
        retry_server_errors_statuses: 5xx statuses retried for idempotent operations (not 500).
        retry_500: Also retry 500 for idempotent operations. Off because GetSales answers 500 to
            many invalid requests, where retrying only repeats the failure.

    Example::

        policy = RetryPolicy(max_retries=3, initial_delay=0.5)
    """

    max_retries: int = DEFAULT_MAX_RETRIES
    initial_delay: float = INITIAL_RETRY_DELAY_S
    max_delay: float = MAX_RETRY_DELAY_S
    jitter: float = DEFAULT_JITTER
    max_retry_after: float = DEFAULT_MAX_RETRY_AFTER_S
    retry_server_errors_statuses: tuple[int, ...] = (502, 503, 504)
    retry_500: bool = False

    def __post_init__(self) -> None:
        problem = self._problem()
        if problem is not None:
            raise ArgumentError(problem)

    def _problem(self) -> str | None:
        if isinstance(self.max_retries, bool) or not isinstance(self.max_retries, int):
            return f"max_retries must be an int, got {self.max_retries!r}"
        if self.max_retries < 0:
            return (
                f"max_retries cannot be negative (got {self.max_retries}); use 0 to disable retries"
            )
        for name in ("initial_delay", "max_delay", "max_retry_after"):
            problem = seconds_problem(name, getattr(self, name))
            if problem:
                return problem
        if self.max_delay < self.initial_delay:
            return f"max_delay ({self.max_delay} s) cannot be below initial_delay ({self.initial_delay} s)"
        if not 0.0 <= self.jitter <= 1.0:
            return f"jitter is a fraction between 0 and 1 (e.g. 0.25), got {self.jitter!r}"
        for status in self.retry_server_errors_statuses:
            if status == 500:
                return "500 cannot be in retry_server_errors_statuses; pass retry_500=True instead"
            if isinstance(status, bool) or not isinstance(status, int) or not 501 <= status <= 599:
                return f"retry_server_errors_statuses holds 5xx statuses (501-599), got {status!r}"
        return None


@dataclass(frozen=True, slots=True)
class RetryDecision:
    """The outcome of :func:`decide`.

    Attributes:
        retry: Whether to send the request again.
        delay: Seconds to wait before the next attempt (``0.0`` when ``retry`` is false).
        reason: One-line explanation, also logged.
        pause_limiter: Whether to pause the shared rate limiter (a retried 429), so every
            concurrent call waits, not only this one; by ``delay``, at most ``max_retry_after``.
        throttled: The failure signals load (a 429 or a timeout), so a retry costs the retry
            budget's higher ``throttle_cost``.
    """

    retry: bool
    delay: float
    reason: str
    pause_limiter: bool
    throttled: bool = False


def backoff_delay(retries_taken: int, policy: RetryPolicy, *, random: Callable[[], float]) -> float:
    """The exponential backoff delay before retry number ``retries_taken + 1``, in seconds.

    ``min(initial_delay * 2**retries_taken, max_delay)``, shortened by ``jitter * random()``.

    Args:
        retries_taken: Retries already made (0 before the first retry).
        policy: Supplies ``initial_delay``, ``max_delay`` and ``jitter``.
        random: Returns a float in ``[0, 1)`` (e.g. ``random.random``); values outside are clamped.

    Raises:
        ArgumentError: ``retries_taken`` is negative.
    """
    if retries_taken < 0:
        msg = f"retries_taken cannot be negative, got {retries_taken}"
        raise ArgumentError(msg)
    base = min(policy.initial_delay * 2.0 ** min(retries_taken, _MAX_EXPONENT), policy.max_delay)
    fraction = min(max(random(), 0.0), 1.0)
    return base * (1.0 - policy.jitter * fraction)


def _http_error(error: BaseException) -> BaseException:
    """The first ``httpx`` exception in the ``__cause__`` chain, or ``error`` itself."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, httpx.HTTPError):
            return current
        seen.add(id(current))
        current = current.__cause__
    return error


def _throttled(status: int | None, error: BaseException | None) -> bool:
    """Whether the outcome signals load (429, or a timeout), which a retry budget prices higher."""
    if status is not None:
        return status == 429
    return isinstance(_http_error(error) if error is not None else None, httpx.TimeoutException)


def _classify(
    status: int | None, error: BaseException | None, idempotent: bool, policy: RetryPolicy
) -> tuple[bool, str]:
    """``(retryable, what)``: whether the outcome may be retried at all, and a short label."""
    if status is not None:
        if status == 429:
            return True, "429 rate limited"
        if status in policy.retry_server_errors_statuses or (status == 500 and policy.retry_500):
            if idempotent:
                return True, f"{status} on an idempotent operation"
            return False, f"{status} on a non-idempotent operation is not retried"
        if status == 500:
            return False, "500 is not retried (often a deterministic client error; see retry_500)"
        return False, f"status {status} is not retryable"
    if error is None:
        msg = "decide() needs a status or an error"
        raise ArgumentError(msg)
    cause = _http_error(error)
    module = type(cause).__module__.split(".")[0]
    name = type(cause).__name__ if module == "builtins" else f"{module}.{type(cause).__name__}"
    if isinstance(cause, _CONNECT_PHASE_ERRORS):
        return True, f"{name} before the request was sent"
    if isinstance(cause, _AFTER_SEND_ERRORS):
        if idempotent:
            return True, f"{name} on an idempotent operation"
        return False, f"{name} on a non-idempotent operation is not retried"
    return False, f"{name} is not retryable"


def _log(decision: RetryDecision, retries_taken: int, policy: RetryPolicy) -> RetryDecision:
    logger.debug(
        "retry decision: %s, delay %.3f s (%d of %d retries taken): %s",
        "retry" if decision.retry else "give up",
        decision.delay,
        retries_taken,
        policy.max_retries,
        decision.reason,
    )
    return decision


def decide(
    *,
    retries_taken: int,
    policy: RetryPolicy,
    status: int | None,
    error: BaseException | None,
    idempotent: bool,
    retry_after: float | None,
    time_left: float | None,
    random: Callable[[], float],
) -> RetryDecision:
    """Decide whether to retry an attempt, and how long to wait first. Logs one DEBUG line.

    Args:
        retries_taken: Retries already made for this call (0 after the first attempt).
        policy: The retry policy.
        status: HTTP status of the response, or ``None`` if no response arrived. When given, it
            decides and ``error`` is ignored.
        error: The exception of an attempt without a response (an ``httpx`` transport error, or
            an exception whose ``__cause__`` chain holds one).
        idempotent: Whether resending the operation is safe (see :func:`is_idempotent`).
        retry_after: The server's advised wait in seconds (see :func:`parse_retry_after`); it
            replaces the backoff for any retried status when ``0 <= retry_after <=
            policy.max_retry_after``. Outside that range the backoff is used.
        time_left: Seconds until the caller's deadline, or ``None`` for no deadline.
        random: Returns a float in ``[0, 1)``, for jitter.

    Returns:
        The decision, with ``delay == 0.0`` and a reason when not retrying.

    Raises:
        ArgumentError: both ``status`` and ``error`` are ``None``, or ``retries_taken < 0``.
    """
    if retries_taken < 0:
        msg = f"retries_taken cannot be negative, got {retries_taken}"
        raise ArgumentError(msg)
    retryable, what = _classify(status, error, idempotent, policy)
    is_429 = status == 429

    def no(reason: str) -> RetryDecision:
        return _log(RetryDecision(False, 0.0, reason, False), retries_taken, policy)

    if not retryable:
        return no(what)
    if retries_taken >= policy.max_retries:
        return no(f"{what}, but out of retries ({retries_taken} of {policy.max_retries} taken)")
    delay, source = _wait_for(retries_taken, policy, status, retry_after, random)
    if time_left is not None and (time_left <= 0 or delay > time_left):
        return no(
            f"{what}, but the {delay:.3f} s wait would pass the deadline ({time_left:.3f} s left)"
        )
    throttled = _throttled(status, error)
    decision = RetryDecision(True, delay, f"{what}; waiting per {source}", is_429, throttled)
    return _log(decision, retries_taken, policy)


def _wait_for(
    retries_taken: int,
    policy: RetryPolicy,
    status: int | None,
    retry_after: float | None,
    random: Callable[[], float],
) -> tuple[float, str]:
    """The wait before the next attempt and where it comes from (Retry-After or backoff)."""
    if status is not None and retry_after is not None:
        if 0.0 <= retry_after <= policy.max_retry_after:
            return retry_after, "Retry-After"
        backoff = backoff_delay(retries_taken, policy, random=random)
        return backoff, (
            f"backoff (Retry-After {retry_after:g} s is outside 0-{policy.max_retry_after:g} s, "
            "the max_retry_after ceiling)"
        )
    return backoff_delay(retries_taken, policy, random=random), "backoff"


def is_idempotent(method: str) -> bool:
    """Whether a call that does not say (``CallOptions.idempotent is None``) may be resent.

    The fallback for raw ``client.request()`` calls (every generated method passes its
    descriptor's flag): GET, HEAD and OPTIONS by method; any other method (PUT, DELETE, POST,
    PATCH) is not repeated after an ambiguous failure, since the server may have acted.
    """
    return method.upper() in IDEMPOTENT_METHODS
