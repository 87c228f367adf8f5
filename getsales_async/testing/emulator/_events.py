"""Webhook events: which webhooks an event reaches, and the record of every delivery.

Handlers and timers call :meth:`WebhookOutbox.emit` synchronously. It finds the team's webhooks
for that event with ``status: "on"`` and queues one :class:`WebhookDelivery` per webhook, with
the payload built at once (``_payloads``). The app sends the queue after each request and on
:meth:`GetSalesEmulator.advance` (``_delivery``); a failed attempt is retried on the emulator's
clock after the delays in ``EmulatorTimings.webhook_retry_delays``, then given up.

An event that reaches no webhook costs one scan of the team's webhooks and builds nothing.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from ._payloads import EventContext, build_payload

if TYPE_CHECKING:
    from ._http import Record
    from ._state import EmulatorState

__all__ = ["DeliveryAttempt", "WebhookDelivery", "WebhookOutbox"]

DeliveryStatus = Literal["pending", "delivered", "failed"]


@dataclass(frozen=True)
class DeliveryAttempt:
    """One HTTP attempt of a delivery."""

    time: float
    """The emulator clock's reading when it was sent, in seconds."""
    status: int | None
    """The receiver's HTTP status, or ``None`` when no answer came (connection error, timeout)."""
    error: str | None = None
    """Why there was no answer (the transport error), else ``None``."""


@dataclass
class WebhookDelivery:
    """One event for one webhook: what is sent, where, and each attempt so far."""

    uuid: str
    webhook_uuid: str
    team_id: int
    event_name: str
    method: str
    url: str
    payload: dict[str, Any]
    attempts: list[DeliveryAttempt] = field(default_factory=list)
    status: DeliveryStatus = "pending"
    """``pending`` (queued or waiting for a retry), ``delivered`` (a 2xx), ``failed`` (gave up)."""
    next_attempt_at: float | None = None
    """When the next retry is due (clock seconds), while one is scheduled."""
    test: bool = False
    """Sent by ``POST /integrations/api/webhooks/test`` (one attempt, never retried)."""


class WebhookOutbox:
    """The queue of deliveries to send and the log of all deliveries (see the module docstring)."""

    def __init__(self, state: EmulatorState) -> None:
        self._state = state
        self.deliveries: list[WebhookDelivery] = []
        """Every delivery ever queued, in event order (delivered, failed and pending)."""
        self.queue: deque[WebhookDelivery] = deque()
        """Deliveries due now, in event order."""
        self._waiting: dict[str, WebhookDelivery] = {}

    def listens(self, team_id: int, event_name: str) -> bool:
        """Whether any active webhook of the team receives ``event_name``."""
        return any(
            hook["event"] == event_name and hook["status"] == "on"
            for hook in self._state.of_team(self._state.webhooks, team_id)
        )

    def emit(
        self,
        team_id: int,
        event_name: str,
        *,
        lead: Record | None = None,
        company: Record | None = None,
        sender_profile: Record | None = None,
        flow: Record | None = None,
        linkedin_message: Record | None = None,
        email: Record | None = None,
        connection: Mapping[str, Any] | None = None,
        connection_request: Mapping[str, Any] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        """Queue a delivery of ``event_name`` to each of the team's active webhooks for it."""
        state = self._state
        hooks = [
            hook
            for hook in state.of_team(state.webhooks, team_id)
            if hook["event"] == event_name and hook["status"] == "on"
        ]
        if not hooks:
            return
        context = EventContext(
            lead=lead,
            company=company,
            sender_profile=sender_profile,
            flow=flow,
            linkedin_message=linkedin_message,
            email=email,
            connection=connection,
            connection_request=connection_request,
            extra=extra or {},
        )
        payload = build_payload(state, event_name, context)
        for hook in hooks:
            delivery = WebhookDelivery(
                uuid=state.new_uuid(),
                webhook_uuid=hook["uuid"],
                team_id=team_id,
                event_name=event_name,
                method=str(hook["request_method"]),
                url=str(hook["target_url"]),
                payload=payload,
            )
            self.deliveries.append(delivery)
            self.queue.append(delivery)

    def retry_at(self, delivery: WebhookDelivery, at: float) -> None:
        """Send ``delivery`` again once the clock reads ``at``."""
        delivery.next_attempt_at = at
        self._waiting[delivery.uuid] = delivery
        self._state.schedule(at, "webhook_retry", delivery.uuid)

    def due(self, delivery_uuid: str) -> None:
        """A retry's time has come: queue it (timer ``webhook_retry``)."""
        delivery = self._waiting.pop(delivery_uuid, None)
        if delivery is not None and delivery.status == "pending":
            delivery.next_attempt_at = None
            self.queue.append(delivery)
