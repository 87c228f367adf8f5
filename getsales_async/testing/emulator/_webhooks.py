"""Webhooks: CRUD, the test call, and the event names a webhook can subscribe to.

Deliveries themselves are queued by ``_events`` and sent by ``_delivery``. The test call sends one
sample payload for the given event (built from the team's latest contact, or a placeholder
contact when there is none) to the given ``target_url`` with the given method, waits for the
answer and returns it; it is recorded with ``test=True`` and never retried.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

from ._delivery import send
from ._events import DeliveryAttempt, WebhookDelivery
from ._http import (
    Call,
    Fields,
    Reply,
    delete_handler,
    list_handler,
    public,
)
from ._payloads import EventContext, build_payload

__all__ = ["HANDLERS", "WEBHOOK_EVENTS"]

_REQUEST_METHODS = ("POST", "GET", "PUT", "PATCH", "DELETE")
_WEBHOOK_STATUSES = ("on", "off")
WEBHOOK_EVENTS = (
    "account_exported",
    "sender_profile_issue",
    "sender_profile_sent_email",
    "sender_profile_sent_linkedin_message",
    "sender_profile_sent_linkedin_connection_request",
    "sender_profile_sent_linkedin_inmail",
    "contact_accepted_linkedin_connection_request",
    "contact_replied_email",
    "contact_replied_linkedin_message",
    "contact_replied_linkedin_inmail",
    "contact_opened_email",
    "contact_clicked_email",
    "contact_unsubscribed_email",
    "email_bounced",
    "contact_enriched",
    "contact_exported",
    "contact_created",
    "contact_updated",
    "contact_deleted",
    "contact_tag_added",
    "contact_pipeline_stage_changed",
)


# ---------------------------------------------------------------------------- webhooks


def _target_url(body: Fields, *, required: bool) -> str | None:
    url = body.string("target_url", required=required)
    if url is not None:
        try:
            parts = urlsplit(url)
        except ValueError:
            parts = urlsplit("")
        if parts.scheme not in ("http", "https") or not parts.netloc:
            body.fail("target_url", "The target_url must be a valid http(s) URL.")
            return None
    return url


def _webhook_fields(body: Fields, *, creating: bool) -> dict[str, Any]:
    values: dict[str, Any] = {
        "name": body.string("name", required=creating),
        "event": body.choice("event", WEBHOOK_EVENTS, required=creating),
        "request_method": body.choice("request_method", _REQUEST_METHODS),
        "target_url": _target_url(body, required=True),
        "filters": body.mapping("filters", nullable=True),
        "status": body.choice("status", _WEBHOOK_STATUSES),
    }
    body.done()
    if creating:
        values["request_method"] = values["request_method"] or "POST"
        values["status"] = values["status"] or "on"
        return values
    return {k: v for k, v in values.items() if v is not None or (k == "filters" and body.has(k))}


def create_webhook(call: Call) -> Reply:
    """``POST /integrations/api/webhooks``: ``request_method`` defaults to POST, ``status`` to on."""
    state, team = call.state, call.team_id
    values = _webhook_fields(Fields(call.body), creating=True)
    record = state.create(state.webhooks, team, {"user_id": state.user_id(team), **values})
    return Reply(201, public(record))


def get_webhook(call: Call) -> Reply:
    """``GET /integrations/api/webhooks/{uuid}``."""
    state = call.state
    return Reply(
        200, public(state.get(state.webhooks, call.team_id, call.params["uuid"], "Webhook"))
    )


def update_webhook(call: Call) -> Reply:
    """``PUT /integrations/api/webhooks/{uuid}``: ``target_url`` is required."""
    state = call.state
    record = state.get(state.webhooks, call.team_id, call.params["uuid"], "Webhook")
    record.update(_webhook_fields(Fields(call.body), creating=False))
    state.touch(record)
    return Reply(200, public(record))


_PLACEHOLDER_CONTACT = {
    "uuid": "00000000-0000-4000-8000-000000000000",
    "first_name": "Test",
    "last_name": "Contact",
    "name": "Test Contact",
    "tags": [],
}


async def test_webhook(call: Call) -> Reply:
    """``POST /integrations/api/webhooks/test``: send a sample payload, answer what the target said."""
    state = call.state
    body = Fields(call.body)
    webhook_uuid = body.string("uuid", required=True)
    event = body.string("event", required=True)
    method = body.choice("request_method", _REQUEST_METHODS, required=True)
    url = _target_url(body, required=True)
    body.done()
    assert webhook_uuid is not None and event and method and url  # checked by done()
    state.get(state.webhooks, call.team_id, webhook_uuid, "Webhook")
    leads = list(state.of_team(state.leads, call.team_id))
    lead = leads[-1] if leads else dict(_PLACEHOLDER_CONTACT)
    payload = build_payload(state, event, EventContext(lead=lead))
    delivery = WebhookDelivery(
        uuid=state.new_uuid(),
        webhook_uuid=webhook_uuid,
        team_id=call.team_id,
        event_name=event,
        method=method,
        url=url,
        payload=payload,
        test=True,
    )
    state.outbox.deliveries.append(delivery)
    at = state.clock_time()
    answer = await send(state, method, url, payload, delivery_uuid=delivery.uuid)
    delivery.attempts.append(DeliveryAttempt(at, answer.status, answer.error))
    ok = answer.status is not None and 200 <= answer.status < 300
    delivery.status = "delivered" if ok else "failed"
    return Reply(
        200,
        {
            "status": answer.status,
            "headers": answer.headers,
            "body": answer.body,
            "duration_ms": round(answer.duration_ms, 3),
            "error": answer.error,
        },
    )


HANDLERS: dict[str, Callable[[Call], Reply | Awaitable[Reply]]] = {
    "listWebhooks": list_handler(lambda s: s.webhooks, "name", "target_url"),
    "createWebhook": create_webhook,
    "getWebhookDetails": get_webhook,
    "updateWebhook": update_webhook,
    "deleteWebhook": delete_handler(lambda s: s.webhooks, "Webhook"),
    "testWebhook": test_webhook,
}
