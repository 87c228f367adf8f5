"""The body a webhook delivery carries: the ``webhook-payload`` envelope, built from stored records.

One envelope serves every event (the spec's ``webhook-payload``)::

    {"event_name": "contact_replied_linkedin_message",
     "contact": {...}, "account": {...}, "sender_profile": {...}, "automation": {...},
     "contact_markers": {...}, "linkedin_connection": null, "linkedin_connection_request": null,
     "linkedin_message": {...}, "email": null,
     "latest_linkedin_conversation_thread": null, "latest_email_conversation_thread": null}

Objects that do not apply to the event are ``null``. Values are copied when the event happens, so
a delivery retried later still describes the contact as it was (a deleted one included).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ._http import Record

if TYPE_CHECKING:
    from ._state import EmulatorState

__all__ = ["EventContext", "build_payload"]

APP_URL = "https://amazing.getsales.io"
_CONTACT_FIELDS = (
    "uuid",
    "first_name",
    "last_name",
    "name",
    "position",
    "headline",
    "company_name",
    "company_uuid",
    "linkedin",
    "ln_id",
    "sn_id",
    "work_email",
    "personal_email",
    "pipeline_stage_uuid",
    "list_uuid",
    "status",
)


@dataclass(frozen=True)
class EventContext:
    """The records an event is about (any may be missing)."""

    lead: Record | None = None
    company: Record | None = None
    sender_profile: Record | None = None
    flow: Record | None = None
    linkedin_message: Record | None = None
    email: Record | None = None
    connection: Mapping[str, Any] | None = None
    connection_request: Mapping[str, Any] | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)
    """Event-specific additions to the contact object (e.g. the tags just added)."""


def build_payload(state: EmulatorState, event_name: str, context: EventContext) -> dict[str, Any]:
    """The delivery body of one event (every envelope key present, ``null`` when not applicable)."""
    lead = context.lead
    company = context.company
    if company is None and lead is not None and lead.get("company_uuid"):
        company = state.companies.get(str(lead["company_uuid"]))
    linkedin_thread = _thread(state, lead, "linkedin") if lead is not None else None
    email_thread = _thread(state, lead, "email") if lead is not None else None
    return {
        "event_name": event_name,
        "contact": _contact(state, lead, context.extra) if lead is not None else None,
        "account": _account(company) if company is not None else None,
        "sender_profile": _sender(context.sender_profile) if context.sender_profile else None,
        "automation": _automation(context.flow) if context.flow is not None else None,
        "contact_markers": _markers(state, lead) if lead is not None else None,
        "linkedin_connection": dict(context.connection) if context.connection else None,
        "linkedin_connection_request": (
            dict(context.connection_request) if context.connection_request else None
        ),
        "linkedin_message": _message(context.linkedin_message)
        if context.linkedin_message
        else None,
        "email": _email(state, context.email) if context.email is not None else None,
        "latest_linkedin_conversation_thread": linkedin_thread,
        "latest_email_conversation_thread": email_thread,
    }


def _contact(state: EmulatorState, lead: Record, extra: Mapping[str, Any]) -> dict[str, Any]:
    out = {name: lead.get(name) for name in _CONTACT_FIELDS}
    stage = state.pipeline_stages.get(str(lead.get("pipeline_stage_uuid")))
    listed = state.lists.get(str(lead.get("list_uuid")))
    sn_id = lead.get("sn_id")
    out.update(
        linkedin_url=lead.get("linkedin"),
        sales_navigator_url=f"https://www.linkedin.com/sales/lead/{sn_id}" if sn_id else None,
        pipeline_stage_name=stage["name"] if stage else None,
        list_name=listed["name"] if listed else None,
        tags=[state.tags[t]["name"] for t in lead.get("tags") or [] if t in state.tags],
        getsales_url=f"{APP_URL}/crm/contacts/{lead['uuid']}",
    )
    if "tags" in extra:
        out["added_tags"] = [state.tags[t]["name"] for t in extra["tags"] if t in state.tags]
    return out


def _account(company: Record) -> dict[str, Any]:
    return {
        "uuid": company.get("uuid"),
        "name": company.get("name"),
        "domain": company.get("domain"),
        "website": company.get("website"),
        "industry": company.get("industry"),
        "linkedin_url": company.get("linkedin"),
        "size": company.get("employees_range"),
    }


def _sender(profile: Record) -> dict[str, Any]:
    keys = ("uuid", "first_name", "last_name", "label", "assignee_user_id", "team_id")
    return {key: profile.get(key) for key in keys}


def _automation(flow: Record) -> dict[str, Any]:
    return {key: flow.get(key) for key in ("uuid", "name", "status", "priority")}


def _message(message: Record) -> dict[str, Any]:
    keys = ("uuid", "subject", "text", "type", "linkedin_type", "status", "sent_at", "read_at")
    return {key: message.get(key) for key in keys}


def _email(state: EmulatorState, email: Record) -> dict[str, Any]:
    body = state.email_bodies.get(str(email.get("email_body_uuid")))
    keys = ("uuid", "subject", "status", "type", "from_email", "to_email", "sent_at", "created_at")
    return {**{key: email.get(key) for key in keys}, "body": body["body"] if body else None}


def _markers(state: EmulatorState, lead: Record) -> dict[str, Any]:
    """Activity counters of the contact, computed from its messages and e-mails."""
    messages = [m for m in state.linkedin_messages.values() if m.get("lead_uuid") == lead["uuid"]]
    sent = [m for m in messages if m["type"] == "outbox" and m["status"] == "done"]
    notes = [m for m in sent if m["linkedin_type"] == "connection_note"]
    emails = [e for e in state.emails.values() if e.get("lead_uuid") == lead["uuid"]]
    sent_emails = [e for e in emails if e["type"] == "outbox" and e.get("sent_at")]
    times = [m.get("sent_at") for m in messages] + [e.get("sent_at") for e in emails]
    return {
        "linkedin_messages_sent_count": len(sent) - len(notes),
        "linkedin_last_connection_sent_at": max((m["sent_at"] for m in notes), default=None),
        "email_sent_count": len(sent_emails),
        "last_messaging_activity_at": max((t for t in times if t), default=None),
    }


def _thread(state: EmulatorState, lead: Record, channel: str) -> dict[str, Any] | None:
    """The latest few messages exchanged with the contact on one channel (``null`` when none)."""
    table = state.linkedin_messages if channel == "linkedin" else state.emails
    items = [m for m in table.values() if m.get("lead_uuid") == lead["uuid"]]
    if not items:
        return None
    items.sort(key=lambda m: str(m.get("sent_at") or m.get("created_at")))
    latest = items[-5:]
    text_key = "text" if channel == "linkedin" else "subject"
    return {
        "messages": [
            {
                "uuid": m["uuid"],
                "type": m["type"],
                text_key: m.get(text_key),
                "at": m.get("sent_at"),
            }
            for m in latest
        ]
    }
