"""GetSales webhooks: typed events (:func:`parse_event`) and an ASGI receiver (:class:`WebhookReceiver`).

GetSales does not sign deliveries; see :mod:`getsales_async._webhook_receiver` and
``docs/webhooks.md`` for how the receiver authenticates them (a secret in the target URL,
checked in constant time). Example::

    from getsales_async.webhooks import Event, LinkedInMessageEvent, WebhookReceiver

    async def on_event(event: Event) -> None:
        if isinstance(event, LinkedInMessageEvent) and event.event_name == "contact_replied_linkedin_message":
            ...

    app = WebhookReceiver(on_event, secret="a-long-random-secret-from-your-vault")
"""

from ._webhook_receiver import MIN_SECRET_LENGTH, WebhookReceiver
from ._webhooks import (
    EVENT_TYPES,
    MAX_BODY_BYTES,
    MAX_DEPTH,
    Account,
    AccountEvent,
    Automation,
    ConnectionAcceptedEvent,
    ConnectionRequestEvent,
    Contact,
    ContactEvent,
    Email,
    EmailEvent,
    Event,
    LinkedInConnection,
    LinkedInConnectionRequest,
    LinkedInMessage,
    LinkedInMessageEvent,
    SenderProfile,
    SenderProfileIssueEvent,
    UnknownEvent,
    WebhookParseError,
    parse_event,
)

__all__ = [
    "EVENT_TYPES",
    "MAX_BODY_BYTES",
    "MAX_DEPTH",
    "MIN_SECRET_LENGTH",
    "Account",
    "AccountEvent",
    "Automation",
    "ConnectionAcceptedEvent",
    "ConnectionRequestEvent",
    "Contact",
    "ContactEvent",
    "Email",
    "EmailEvent",
    "Event",
    "LinkedInConnection",
    "LinkedInConnectionRequest",
    "LinkedInMessage",
    "LinkedInMessageEvent",
    "SenderProfile",
    "SenderProfileIssueEvent",
    "UnknownEvent",
    "WebhookParseError",
    "WebhookReceiver",
    "parse_event",
]
