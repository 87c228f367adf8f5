"""Typed GetSales webhook events: :func:`parse_event` turns a delivery body into an event object.

Every delivery shares one envelope (the spec's ``webhook-payload``): ``event_name``, the
``contact``, its company (``account``), the ``sender_profile`` and flow (``automation``)
involved, ``contact_markers``, and one event-specific object (``linkedin_message``, ``email``,
``linkedin_connection``, ``linkedin_connection_request``). Objects that do not apply are null.

The event class follows ``event_name``::

    Event
     ├── ContactEvent               contact_created, contact_updated, contact_deleted,
     │                              contact_tag_added, contact_pipeline_stage_changed,
     │                              contact_enriched, contact_exported
     ├── AccountEvent               account_exported
     ├── LinkedInMessageEvent       sender_profile_sent_linkedin_message / _inmail,
     │                              contact_replied_linkedin_message / _inmail
     ├── ConnectionRequestEvent     sender_profile_sent_linkedin_connection_request
     ├── ConnectionAcceptedEvent    contact_accepted_linkedin_connection_request
     ├── EmailEvent                 sender_profile_sent_email, contact_replied_email,
     │                              contact_opened_email, contact_clicked_email,
     │                              contact_unsubscribed_email, email_bounced
     ├── SenderProfileIssueEvent    sender_profile_issue
     └── UnknownEvent               any other name (kept, never an error)

Parsing is lenient where the platform is loose: unknown fields are kept (``raw`` on the event
and on each object), a value of the wrong type reads as ``None``, timestamps become aware
``datetime`` objects when they parse. It is strict only about what makes a body a delivery at
all: a JSON object (at most :data:`MAX_BODY_BYTES`, nested at most :data:`MAX_DEPTH` deep) with
a string ``event_name``; anything else raises :class:`WebhookParseError`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any

__all__ = [
    "EVENT_TYPES",
    "MAX_BODY_BYTES",
    "MAX_DEPTH",
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
    "parse_event",
]

MAX_BODY_BYTES = 1024 * 1024
"""Largest delivery body :func:`parse_event` reads (1 MiB); real ones are a few KiB."""
MAX_DEPTH = 32
"""Deepest JSON nesting :func:`parse_event` accepts (the envelope is 3 levels deep)."""

_EMPTY: Mapping[str, Any] = MappingProxyType({})


class WebhookParseError(ValueError):
    """Raised by :func:`parse_event` for a body that is not a GetSales delivery."""


# ---------------------------------------------------------------------------- field readers


def _text(data: Mapping[str, Any], key: str) -> str | None:
    value = data.get(key)
    return value if isinstance(value, str) else None


def _integer(data: Mapping[str, Any], key: str) -> int | None:
    value = data.get(key)
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def _time(data: Mapping[str, Any], key: str) -> datetime | None:
    """An ISO 8601 timestamp as an aware datetime (``None`` if absent or unreadable)."""
    value = data.get(key)
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def _object(data: Mapping[str, Any], key: str) -> Mapping[str, Any] | None:
    value = data.get(key)
    return MappingProxyType(value) if isinstance(value, dict) else None


# ---------------------------------------------------------------------------- envelope objects


@dataclass(frozen=True, slots=True)
class Contact:
    """The contact an event is about (``contact``); ``raw`` holds every field sent."""

    uuid: str | None
    name: str | None
    first_name: str | None
    last_name: str | None
    position: str | None
    headline: str | None
    company_name: str | None
    company_uuid: str | None
    linkedin_url: str | None
    sales_navigator_url: str | None
    ln_id: str | None
    sn_id: str | None
    work_email: str | None
    personal_email: str | None
    pipeline_stage_uuid: str | None
    pipeline_stage_name: str | None
    list_uuid: str | None
    list_name: str | None
    tags: tuple[str, ...]
    status: str | None
    getsales_url: str | None
    raw: Mapping[str, Any] = field(repr=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Contact:
        """Read a ``contact`` object (lenient: wrong types read as ``None``)."""
        tags = data.get("tags")
        names = tuple(t for t in tags if isinstance(t, str)) if isinstance(tags, list) else ()
        texts = {
            name: _text(data, name)
            for name in (
                "uuid", "name", "first_name", "last_name", "position", "headline",
                "company_name", "company_uuid", "sales_navigator_url", "ln_id", "sn_id",
                "work_email", "personal_email", "pipeline_stage_uuid", "pipeline_stage_name",
                "list_uuid", "list_name", "status", "getsales_url",
            )
        }  # fmt: skip
        linkedin = _text(data, "linkedin_url") or _text(data, "linkedin")
        return cls(**texts, linkedin_url=linkedin, tags=names, raw=data)


@dataclass(frozen=True, slots=True)
class Account:
    """The contact's company (``account``)."""

    uuid: str | None
    name: str | None
    domain: str | None
    website: str | None
    industry: str | None
    linkedin_url: str | None
    size: str | None
    raw: Mapping[str, Any] = field(repr=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Account:
        """Read an ``account`` object."""
        keys = ("uuid", "name", "domain", "website", "industry", "linkedin_url", "size")
        return cls(**{key: _text(data, key) for key in keys}, raw=data)


@dataclass(frozen=True, slots=True)
class SenderProfile:
    """The sender profile involved (``sender_profile``)."""

    uuid: str | None
    first_name: str | None
    last_name: str | None
    label: str | None
    assignee_user_id: int | None
    team_id: int | None
    raw: Mapping[str, Any] = field(repr=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SenderProfile:
        """Read a ``sender_profile`` object."""
        return cls(
            uuid=_text(data, "uuid"),
            first_name=_text(data, "first_name"),
            last_name=_text(data, "last_name"),
            label=_text(data, "label"),
            assignee_user_id=_integer(data, "assignee_user_id"),
            team_id=_integer(data, "team_id"),
            raw=data,
        )


@dataclass(frozen=True, slots=True)
class Automation:
    """The flow involved (``automation``)."""

    uuid: str | None
    name: str | None
    status: str | None
    priority: int | None
    raw: Mapping[str, Any] = field(repr=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Automation:
        """Read an ``automation`` object."""
        return cls(
            uuid=_text(data, "uuid"),
            name=_text(data, "name"),
            status=_text(data, "status"),
            priority=_integer(data, "priority"),
            raw=data,
        )


@dataclass(frozen=True, slots=True)
class LinkedInMessage:
    """A LinkedIn message or InMail (``linkedin_message``)."""

    uuid: str | None
    subject: str | None
    text: str | None
    type: str | None
    linkedin_type: str | None
    status: str | None
    sent_at: datetime | None
    read_at: datetime | None
    raw: Mapping[str, Any] = field(repr=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LinkedInMessage:
        """Read a ``linkedin_message`` object."""
        keys = ("uuid", "subject", "text", "type", "linkedin_type", "status")
        texts = {key: _text(data, key) for key in keys}
        return cls(
            **texts, sent_at=_time(data, "sent_at"), read_at=_time(data, "read_at"), raw=data
        )


@dataclass(frozen=True, slots=True)
class Email:
    """An e-mail (``email``)."""

    uuid: str | None
    subject: str | None
    body: str | None
    status: str | None
    type: str | None
    from_email: str | None
    to_email: str | None
    sent_at: datetime | None
    raw: Mapping[str, Any] = field(repr=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Email:
        """Read an ``email`` object."""
        keys = ("uuid", "subject", "body", "status", "type", "from_email", "to_email")
        return cls(
            **{key: _text(data, key) for key in keys}, sent_at=_time(data, "sent_at"), raw=data
        )


@dataclass(frozen=True, slots=True)
class LinkedInConnection:
    """An accepted connection (``linkedin_connection``)."""

    full_name: str | None
    nickname: str | None
    connected_at: datetime | None
    raw: Mapping[str, Any] = field(repr=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LinkedInConnection:
        """Read a ``linkedin_connection`` object."""
        return cls(
            full_name=_text(data, "full_name"),
            nickname=_text(data, "nickname"),
            connected_at=_time(data, "connected_at"),
            raw=data,
        )


@dataclass(frozen=True, slots=True)
class LinkedInConnectionRequest:
    """A connection request sent (``linkedin_connection_request``)."""

    ln_id: str | None
    nickname: str | None
    sent_at: datetime | None
    raw: Mapping[str, Any] = field(repr=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LinkedInConnectionRequest:
        """Read a ``linkedin_connection_request`` object."""
        return cls(
            ln_id=_text(data, "ln_id"),
            nickname=_text(data, "nickname"),
            sent_at=_time(data, "sent_at"),
            raw=data,
        )


# ---------------------------------------------------------------------------- events


@dataclass(frozen=True, slots=True)
class Event:
    """A webhook delivery; the subclass says which kind (see the module docstring)."""

    event_name: str
    contact: Contact | None
    account: Account | None
    sender_profile: SenderProfile | None
    automation: Automation | None
    contact_markers: Mapping[str, Any]
    """Activity counters and timestamps of the contact (``{}`` when not sent)."""
    raw: Mapping[str, Any] = field(repr=False)
    """The whole decoded body, unknown fields included."""


@dataclass(frozen=True, slots=True)
class ContactEvent(Event):
    """Something happened to a contact: created, updated, deleted, tagged, staged, enriched, exported."""


@dataclass(frozen=True, slots=True)
class AccountEvent(Event):
    """A company (account) was exported."""


@dataclass(frozen=True, slots=True)
class LinkedInMessageEvent(Event):
    """A LinkedIn message or InMail was sent to, or received from, the contact."""

    linkedin_message: LinkedInMessage | None = None


@dataclass(frozen=True, slots=True)
class ConnectionRequestEvent(Event):
    """A sender profile sent the contact a LinkedIn connection request."""

    linkedin_connection_request: LinkedInConnectionRequest | None = None


@dataclass(frozen=True, slots=True)
class ConnectionAcceptedEvent(Event):
    """The contact accepted a LinkedIn connection request."""

    linkedin_connection: LinkedInConnection | None = None


@dataclass(frozen=True, slots=True)
class EmailEvent(Event):
    """An e-mail was sent, replied to, opened, clicked, unsubscribed from, or bounced."""

    email: Email | None = None


@dataclass(frozen=True, slots=True)
class SenderProfileIssueEvent(Event):
    """A sender profile has a problem (e.g. its LinkedIn session or mailbox)."""


@dataclass(frozen=True, slots=True)
class UnknownEvent(Event):
    """An event name this version of the SDK does not know; read ``raw`` for its fields."""


EVENT_TYPES: Mapping[str, type[Event]] = MappingProxyType(
    {
        **dict.fromkeys(
            (
                "contact_created", "contact_updated", "contact_deleted", "contact_tag_added",
                "contact_pipeline_stage_changed", "contact_enriched", "contact_exported",
            ),
            ContactEvent,
        ),
        "account_exported": AccountEvent,
        **dict.fromkeys(
            (
                "sender_profile_sent_linkedin_message", "sender_profile_sent_linkedin_inmail",
                "contact_replied_linkedin_message", "contact_replied_linkedin_inmail",
            ),
            LinkedInMessageEvent,
        ),
        "sender_profile_sent_linkedin_connection_request": ConnectionRequestEvent,
        "contact_accepted_linkedin_connection_request": ConnectionAcceptedEvent,
        **dict.fromkeys(
            (
                "sender_profile_sent_email", "contact_replied_email", "contact_opened_email",
                "contact_clicked_email", "contact_unsubscribed_email", "email_bounced",
            ),
            EmailEvent,
        ),
        "sender_profile_issue": SenderProfileIssueEvent,
    }
)  # fmt: skip
"""``event_name`` → the event class :func:`parse_event` returns (others: :class:`UnknownEvent`)."""


# ---------------------------------------------------------------------------- parsing


def _decode(body: bytes | str) -> Any:
    size = len(body.encode("utf-8", "surrogatepass") if isinstance(body, str) else body)
    if size > MAX_BODY_BYTES:
        message = f"webhook body is {size} bytes; at most {MAX_BODY_BYTES} are accepted"
        raise WebhookParseError(message)
    try:
        return json.loads(body)
    except RecursionError:
        message = f"webhook body nests deeper than {MAX_DEPTH} levels"
        raise WebhookParseError(message) from None
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError
        message = f"webhook body is not JSON: {exc}"
        raise WebhookParseError(message) from None


def _depth(value: Any, limit: int) -> int:
    """Nesting depth of a decoded JSON value, counting at most ``limit + 1``."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict | list) and level > deepest:
            deepest = level
            if deepest > limit:
                return deepest
        children = (
            item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
        )
        stack.extend((child, level + 1) for child in children)
    return deepest


def _part(data: Mapping[str, Any], key: str, kind: Any) -> Any:
    found = _object(data, key)
    return None if found is None else kind.from_dict(found)


def parse_event(body: bytes | str | Mapping[str, Any]) -> Event:
    """Turn a webhook delivery body into a typed event (see the module docstring).

    Args:
        body: the raw request body (bytes or text, JSON) or the already-decoded object.

    Returns:
        The event, of the class :data:`EVENT_TYPES` maps its ``event_name`` to, else
        :class:`UnknownEvent`.

    Raises:
        WebhookParseError: the body is not JSON, too large or too deep, not an object, or has
            no string ``event_name``.

    Example::

        event = parse_event(request_body)
        if isinstance(event, LinkedInMessageEvent) and event.event_name.startswith("contact_replied"):
            print(event.contact.name if event.contact else "?", event.linkedin_message)
    """
    data = body if isinstance(body, Mapping) else _decode(body)
    if not isinstance(data, Mapping):
        message = f"webhook body must be a JSON object, got {type(data).__name__}"
        raise WebhookParseError(message)
    if _depth(dict(data), MAX_DEPTH) > MAX_DEPTH:
        message = f"webhook body nests deeper than {MAX_DEPTH} levels"
        raise WebhookParseError(message)
    name = data.get("event_name")
    if not isinstance(name, str) or not name:
        message = "not a GetSales webhook body: it has no string event_name"
        raise WebhookParseError(message)
    raw = MappingProxyType(dict(data))
    markers = _object(data, "contact_markers") or _EMPTY
    common: dict[str, Any] = {
        "event_name": name,
        "contact": _part(data, "contact", Contact),
        "account": _part(data, "account", Account),
        "sender_profile": _part(data, "sender_profile", SenderProfile),
        "automation": _part(data, "automation", Automation),
        "contact_markers": markers,
        "raw": raw,
    }
    kind = EVENT_TYPES.get(name, UnknownEvent)
    if kind is LinkedInMessageEvent:
        return LinkedInMessageEvent(
            **common, linkedin_message=_part(data, "linkedin_message", LinkedInMessage)
        )
    if kind is EmailEvent:
        return EmailEvent(**common, email=_part(data, "email", Email))
    if kind is ConnectionRequestEvent:
        request = _part(data, "linkedin_connection_request", LinkedInConnectionRequest)
        return ConnectionRequestEvent(**common, linkedin_connection_request=request)
    if kind is ConnectionAcceptedEvent:
        connection = _part(data, "linkedin_connection", LinkedInConnection)
        return ConnectionAcceptedEvent(**common, linkedin_connection=connection)
    return kind(**common)
