"""Sending webhook deliveries over HTTP, and the retry decision.

Each delivery is one request with the webhook's ``request_method`` (the JSON payload as the body
whatever the method), ``Content-Type: application/json`` and ``User-Agent: GetSales-Emulator``.
A 2xx answer delivers it; any other status, a transport error or a timeout
(``timings.webhook_timeout``) is a failed attempt, retried after the next delay of
``timings.webhook_retry_delays`` on the emulator's clock, and given up after the last one.

Requests go through ``state.webhook_transport`` when set (an ``httpx.ASGITransport`` to an app in
the same process, a ``MockTransport``), else over the network. The receiver's answer is read up
to :data:`MAX_ANSWER_BYTES`; its body matters only to the test call.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx

from ._events import DeliveryAttempt, WebhookDelivery

if TYPE_CHECKING:
    from ._state import EmulatorState

__all__ = ["MAX_ANSWER_BYTES", "TargetAnswer", "flush", "send"]

MAX_ANSWER_BYTES = 64 * 1024
USER_AGENT = "GetSales-Emulator/1.0 (webhooks)"


@dataclass(frozen=True)
class TargetAnswer:
    """What the receiver answered (``status`` ``None``: no answer, see ``error``)."""

    status: int | None
    headers: dict[str, str]
    body: str
    duration_ms: float
    error: str | None = None


async def send(
    state: EmulatorState, method: str, url: str, payload: Any, *, delivery_uuid: str
) -> TargetAnswer:
    """One HTTP request to a receiver; never raises for the receiver's failures."""
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Emulator-Delivery": delivery_uuid,
    }
    content = json.dumps(payload).encode()
    started = time.perf_counter()
    try:
        async with (
            httpx.AsyncClient(
                transport=state.webhook_transport,
                timeout=state.timings.webhook_timeout,
                follow_redirects=False,
            ) as client,
            client.stream(method, url, content=content, headers=headers) as answer,
        ):
            body = await _read_bounded(answer)
    except Exception as exc:  # the receiver's failure (any kind) is a failed attempt, not ours
        elapsed = (time.perf_counter() - started) * 1000
        return TargetAnswer(None, {}, "", elapsed, f"{type(exc).__name__}: {exc}"[:500])
    elapsed = (time.perf_counter() - started) * 1000
    return TargetAnswer(answer.status_code, dict(answer.headers), body, elapsed)


async def _read_bounded(answer: httpx.Response) -> str:
    chunks: list[bytes] = []
    size = 0
    async for chunk in answer.aiter_bytes():
        chunks.append(chunk[: MAX_ANSWER_BYTES - size])
        size += len(chunks[-1])
        if size >= MAX_ANSWER_BYTES:
            break
    return b"".join(chunks).decode("utf-8", errors="replace")


async def flush(state: EmulatorState, at: float | None = None) -> int:
    """Send every queued delivery, in event order, as of clock time ``at`` (default now).

    Returns:
        How many attempts were made.
    """
    attempts = 0
    outbox = state.outbox
    when = state.clock_time() if at is None else at
    while outbox.queue:
        delivery = outbox.queue.popleft()
        await _attempt(state, delivery, when)
        attempts += 1
    return attempts


async def _attempt(state: EmulatorState, delivery: WebhookDelivery, at: float) -> None:
    answer = await send(
        state, delivery.method, delivery.url, delivery.payload, delivery_uuid=delivery.uuid
    )
    delivery.attempts.append(DeliveryAttempt(at, answer.status, answer.error))
    if answer.status is not None and 200 <= answer.status < 300:
        delivery.status = "delivered"
        return
    retries_done = len(delivery.attempts) - 1
    delays = state.timings.webhook_retry_delays
    if delivery.test or retries_done >= len(delays):
        delivery.status = "failed"
        return
    state.outbox.retry_at(delivery, at + delays[retries_done])
