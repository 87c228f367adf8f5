"""LinkedIn messages: the inbox and outbox, sending (queued, then sent on the clock), group counts.

Sending needs an enabled sender profile and a contact of the team; ``text`` is at most 8,000
characters (300 for a connection note), ``subject`` 511. ``linkedin_messenger_type: "sn"`` or a
``subject`` makes an InMail; ``linkedin_type: "connection_note"`` a connection request note.
The message answers ``new`` and progresses as ``_messaging`` describes.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from ._http import Call, Fields, Reply, list_handler, public, where
from ._messaging import queue_linkedin_message
from ._sender_profiles import require_profile
from ._shapes import text

__all__ = ["HANDLERS"]

MAX_TEXT = 8_000
MAX_NOTE = 300
MAX_SUBJECT = 511
GROUP_FIELDS = (
    "status",
    "type",
    "sender_profile_uuid",
    "linkedin_account_uuid",
    "linkedin_type",
    "automation",
)
_TYPES = ("message", "connection_note", "InMail")


def send(call: Call) -> Reply:
    """``POST /flows/api/linkedin-messages``: 201 with the queued message (``new``)."""
    state, team = call.state, call.team_id
    body = Fields(call.body)
    sender = require_profile(state, body, team, "sender_profile_uuid")
    lead_uuid = body.string("lead_uuid", required=True)
    lead = state.leads.get(str(lead_uuid))
    if lead_uuid is not None and (lead is None or lead["team_id"] != team):
        body.fail("lead_uuid", "The selected lead_uuid is invalid: no such contact.")
    message = text(body, "text", required=True, maximum=MAX_TEXT)
    subject = text(body, "subject", maximum=MAX_SUBJECT)
    messenger = body.choice("linkedin_messenger_type", ("basic", "sn"))
    kind = body.choice("linkedin_type", _TYPES) or (
        "InMail" if messenger == "sn" or subject else "message"
    )
    if kind == "connection_note" and message is not None and len(message) > MAX_NOTE:
        body.fail("text", f"A connection note may not be greater than {MAX_NOTE} characters.")
    template = body.string("template_uuid")
    if template is not None and state.ai_templates.get(template, {}).get("team_id") != team:
        body.fail("template_uuid", "The selected template_uuid is invalid.")
    attachments = body.objects("attachments")
    for index, item in enumerate(attachments or []):
        Fields(item, prefix=f"attachments.{index}.", errors=body.errors).string(
            "uuid", required=True
        )
    if sender is not None and sender["status"] != "enabled":
        body.fail("sender_profile_uuid", "The sender profile is disabled.")
    body.done()
    assert sender is not None and lead is not None  # checked by done()
    extra: dict[str, Any] = {
        "subject": subject,
        "template_uuid": template,
        "attachments": attachments,
    }
    record = queue_linkedin_message(state, sender, lead, message, linkedin_type=kind, extra=extra)
    return Reply(201, public(record))


def group_counts(call: Call) -> Reply:
    """``POST /flows/api/linkedin-messages/group-counts``: value → count (``""`` for none)."""
    body = Fields(call.body)
    field = body.choice("group_field", GROUP_FIELDS, required=True)
    conditions = body.mapping("filter") or {}
    body.done()
    messages = where(
        call.state.of_team(call.state.linkedin_messages, call.team_id),
        conditions,
        text=("text", "subject"),
    )
    counts = Counter("" if m.get(str(field)) is None else str(m[str(field)]) for m in messages)
    return Reply(200, dict(counts))


HANDLERS: dict[str, Callable[[Call], Reply]] = {
    "listLinkedinMessages": list_handler(lambda s: s.linkedin_messages, "text", "subject"),
    "sendLinkedinMessage": send,
    "getLinkedinMessageGroupCounts": group_counts,
}
