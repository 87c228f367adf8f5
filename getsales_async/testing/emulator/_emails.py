"""E-mails: listing (with a ``sent_at`` day or range filter), reading, and sending.

Sending accepts both body shapes found in the wild: ``mailbox_uuid`` with ``to: [{to_email,
to_name}]``, or ``sender_profile_uuid`` with flat ``from_email``/``to_email``/``to_name`` (the
sender profile's mailbox with that address, else its default one). The mailbox must be
``active``; ``subject`` is required unless the e-mail replies (``in_reply_to_email_uuid``); a
``lead_uuid`` must be a contact of the team, and without one the contact is found by address.
The answer is 201: the e-mail (``waiting``) plus ``emailDomain`` and ``emailBodyDomain``; it is
``sent`` after ``timings.email_send``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from ._http import (
    Call,
    Fields,
    Record,
    Reply,
    filter_from_query,
    page_from_query,
    paginate,
    public,
    where,
)
from ._messaging import queue_email
from ._shapes import EMAIL, text
from ._state import EmulatorState

__all__ = ["HANDLERS"]

_DAYS = re.compile(r"(\d{4}-\d{2}-\d{2})(?:,(\d{4}-\d{2}-\d{2}))?")


def _sent_between(email: Record, condition: Any) -> bool:
    match = _DAYS.fullmatch(str(condition)) if isinstance(condition, str) else None
    if match is None:
        return True
    day = str(email.get("sent_at") or "")[:10]
    start, end = match.group(1), match.group(2) or match.group(1)
    return bool(day) and start <= day <= end


def list_emails(call: Call) -> Reply:
    """``GET /emails/api/emails``: the envelope, plus ``pagination.has_more``."""
    page = page_from_query(call.query)
    conditions = filter_from_query(call.query)
    day = conditions.pop("sent_at", None) if isinstance(conditions.get("sent_at"), str) else None
    emails = where(
        call.state.of_team(call.state.emails, call.team_id), conditions, text=("subject",)
    )
    found = [e for e in emails if day is None or _sent_between(e, day)]
    envelope = paginate(found, page)
    envelope["pagination"] = {"has_more": envelope["has_more"]}
    return Reply(200, envelope)


def get_email(call: Call) -> Reply:
    """``GET /emails/api/emails/{uuid}``: the e-mail with its ``body``."""
    state = call.state
    email = state.get(state.emails, call.team_id, call.params["uuid"], "E-mail")
    body = state.email_bodies.get(str(email["email_body_uuid"]))
    return Reply(200, {**public(email), "body": body["body"] if body else None})


def _mailbox(state: EmulatorState, team: int, body: Fields) -> Record | None:
    by_uuid = body.string("mailbox_uuid")
    profile_uuid = body.string("sender_profile_uuid")
    from_email = body.string("from_email")
    if by_uuid is not None:
        found = state.mailboxes.get(by_uuid)
        return found if found is not None and found["team_id"] == team else None
    profile = state.sender_profiles.get(str(profile_uuid))
    if profile is None or profile["team_id"] != team:
        return None
    mine = [m for m in state.mailboxes.values() if m["sender_profile_uuid"] == profile["uuid"]]
    if from_email is not None:
        return next((m for m in mine if m["email"].casefold() == from_email.casefold()), None)
    return state.mailboxes.get(str(profile.get("mailbox_uuid"))) or (mine[0] if mine else None)


def _recipients(body: Fields) -> list[dict[str, Any]]:
    recipients = []
    for index, item in enumerate(body.objects("to") or []):
        fields = Fields(item, prefix=f"to.{index}.", errors=body.errors)
        address = fields.string("to_email", required=True, pattern=EMAIL)
        name = fields.string("to_name", nullable=True)
        if address is not None:
            recipients.append({"to_email": address, "to_name": name})
    flat = body.string("to_email", pattern=EMAIL)
    if flat is not None:
        recipients = [*recipients, {"to_email": flat, "to_name": body.string("to_name")}]
    for name in ("cc", "bcc"):
        bad = [a for a in body.strings(name) or [] if not EMAIL.fullmatch(a)]
        if bad:
            body.fail(name, f"Not e-mail addresses: {', '.join(bad[:5])}.")
    if not recipients:
        body.fail("to", "Give a recipient: to [{to_email, to_name}] or to_email.")
    return recipients


def _lead(state: EmulatorState, team: int, body: Fields, address: str | None) -> Record | None:
    lead_uuid = body.string("lead_uuid")
    if lead_uuid is not None:
        lead = state.leads.get(lead_uuid)
        if lead is None or lead["team_id"] != team:
            body.fail("lead_uuid", "The selected lead_uuid is invalid: no such contact.")
            return None
        return lead
    wanted = (address or "").casefold()
    return next(
        (
            lead
            for lead in state.of_team(state.leads, team)
            if wanted
            and wanted
            in {str(lead.get(k) or "").casefold() for k in ("work_email", "personal_email")}
        ),
        None,
    )


def send_email(call: Call) -> Reply:
    """``POST /emails/api/emails/send-email``: 201 (``waiting``; ``sent`` later)."""
    state, team = call.state, call.team_id
    body = Fields(call.body)
    mailbox = _mailbox(state, team, body)
    if mailbox is None:
        body.fail("mailbox_uuid", "Give the mailbox_uuid, or a sender_profile_uuid with a mailbox.")
    elif mailbox["status"] != "active":
        body.fail("mailbox_uuid", "The mailbox is not active.")
    recipients = _recipients(body)
    reply_to = body.string("in_reply_to_email_uuid")
    subject = text(body, "subject", required=reply_to is None, maximum=998)
    html = text(body, "body")
    lead = _lead(state, team, body, recipients[0]["to_email"] if recipients else None)
    body.done()
    assert mailbox is not None  # checked by done()
    first = recipients[0]
    fields = {
        "to": recipients,
        "to_email": first["to_email"],
        "to_name": first.get("to_name"),
        "cc": body.strings("cc") or [],
        "bcc": body.strings("bcc") or [],
        "subject": subject,
        "replied_to_uuid": reply_to,
        "thread_uuid": body.string("thread_uuid"),
        "template_uuid": body.string("template_uuid"),
    }
    if body.has("from_name"):
        fields["from_name"] = body.string("from_name")
    email, email_body = queue_email(state, mailbox, lead, fields, html)
    return Reply(
        201, {**public(email), "emailDomain": public(email), "emailBodyDomain": public(email_body)}
    )


HANDLERS: dict[str, Callable[[Call], Reply]] = {
    "listEmails": list_emails,
    "getEmail": get_email,
    "sendEmail": send_email,
}
