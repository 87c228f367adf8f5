"""LinkedIn messages and e-mails as records that progress on the emulator's clock.

- An outgoing LinkedIn message starts ``new``, becomes ``in_progress`` after
  ``timings.message_pickup`` and ``done`` (``sent_at`` set) after ``timings.message_send`` more;
  then webhooks get ``sender_profile_sent_linkedin_message`` (``..._inmail`` for InMails,
  ``sender_profile_sent_linkedin_connection_request`` for connection notes). It fails instead
  (``fail_reason``) when its sender profile was deleted or disabled meanwhile.
- An outgoing e-mail starts ``waiting`` and becomes ``sent`` after ``timings.email_send``
  (webhooks: ``sender_profile_sent_email``); it fails (``error``) if its mailbox was deleted or
  deactivated meanwhile.
- Incoming messages (:func:`receive_linkedin`, :func:`receive_email`, used by the reply helper)
  are stored as ``inbox`` records at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._http import Record
from ._state import EmulatorState

__all__ = [
    "TIMERS",
    "conversation_uuid",
    "queue_email",
    "queue_linkedin_message",
    "receive_email",
    "receive_linkedin",
]

_SENT_EVENTS = {
    "message": "sender_profile_sent_linkedin_message",
    "InMail": "sender_profile_sent_linkedin_inmail",
    "connection_note": "sender_profile_sent_linkedin_connection_request",
}


def conversation_uuid(state: EmulatorState, lead_uuid: str, sender_uuid: str) -> str:
    """The LinkedIn conversation of a contact with a sender profile (created on first use)."""
    for message in state.linkedin_messages.values():
        if message["lead_uuid"] == lead_uuid and message["sender_profile_uuid"] == sender_uuid:
            return str(message["linkedin_conversation_uuid"])
    return state.new_uuid()


def _message_fields(
    state: EmulatorState, sender: Record, lead: Record, text: str | None
) -> dict[str, Any]:
    return {
        "id": state.next_id("linkedin_message"),
        "sender_profile_uuid": sender["uuid"],
        "linkedin_account_uuid": sender.get("linkedin_account_uuid"),
        "linkedin_conversation_uuid": conversation_uuid(state, lead["uuid"], sender["uuid"]),
        "lead_uuid": lead["uuid"],
        "task_pipeline_uuid": None,
        "template_uuid": None,
        "message_hash": None,
        "subject": None,
        "text": text,
        "custom_content": None,
        "attachments": None,
        "fail_reason": None,
        "read_at": None,
        "sent_at": None,
        "user_id": state.user_id(lead["team_id"]),
    }


def queue_linkedin_message(
    state: EmulatorState,
    sender: Record,
    lead: Record,
    text: str | None,
    *,
    linkedin_type: str = "message",
    automation: str = "manual",
    extra: Mapping[str, Any] | None = None,
) -> Record:
    """Store an outgoing message (``new``) and schedule its progress."""
    fields = _message_fields(state, sender, lead, text)
    fields.update(type="outbox", automation=automation, linkedin_type=linkedin_type, status="new")
    fields.update(extra or {})
    message = state.create(state.linkedin_messages, lead["team_id"], fields)
    state.schedule(
        state.clock_time() + state.timings.message_pickup, "linkedin_message", message["uuid"]
    )
    return message


def _progress_message(state: EmulatorState, key: str, at: float) -> None:
    """Timer ``linkedin_message``: ``new`` → ``in_progress`` → ``done`` (or ``failed``)."""
    message = state.linkedin_messages.get(key)
    if message is None or message["status"] not in ("new", "in_progress"):
        return
    sender = state.sender_profiles.get(str(message["sender_profile_uuid"]))
    if sender is None or sender["status"] != "enabled":
        message.update(status="failed", fail_reason="The sender profile is missing or disabled.")
        message["updated_at"] = state.iso_at(at)
        return
    message["updated_at"] = state.iso_at(at)
    if message["status"] == "new":
        message["status"] = "in_progress"
        state.schedule(at + state.timings.message_send, "linkedin_message", key)
        return
    message.update(status="done", sent_at=state.iso_at(at))
    lead = state.leads.get(str(message["lead_uuid"]))
    if lead is None:
        return
    event = _SENT_EVENTS.get(str(message["linkedin_type"]), _SENT_EVENTS["message"])
    request = None
    if message["linkedin_type"] == "connection_note":
        request = {
            "ln_id": lead.get("ln_id"),
            "nickname": lead.get("linkedin"),
            "sent_at": message["sent_at"],
        }
    flow = state.flows.get(str(message.get("_flow_uuid")))
    state.log_activity(
        lead["team_id"],
        "lead",
        lead["uuid"],
        f"linkedin_{message['linkedin_type']}_sent",
        {"message_uuid": key},
        at=at,
    )
    state.outbox.emit(
        lead["team_id"],
        event,
        lead=lead,
        sender_profile=sender,
        flow=flow,
        linkedin_message=message,
        connection_request=request,
    )


def queue_email(
    state: EmulatorState,
    mailbox: Record,
    lead: Record | None,
    fields: Mapping[str, Any],
    body: str | None,
) -> tuple[Record, Record]:
    """Store an outgoing e-mail (``waiting``) and its body; schedule its sending."""
    team_id = mailbox["team_id"]
    email_body = state.create(
        state.email_bodies,
        team_id,
        {"body": body, "attachments": [], "subject": fields.get("subject")},
    )
    record = {
        "user_id": state.user_id(team_id),
        "sender_profile_uuid": mailbox.get("sender_profile_uuid"),
        "mailbox_uuid": mailbox["uuid"],
        "email_body_uuid": email_body["uuid"],
        "flow_uuid": None,
        "lead_uuid": lead["uuid"] if lead else None,
        "status": "waiting",
        "type": "outbox",
        "from_name": mailbox.get("sender_name"),
        "from_email": mailbox["email"],
        "to_name": None,
        "to_email": None,
        "cc": [],
        "bcc": [],
        "subject": None,
        "replied_to_uuid": None,
        "bounced_by_uuid": None,
        "sent_at": None,
        **fields,
    }
    email = state.create(state.emails, team_id, record)
    state.schedule(state.clock_time() + state.timings.email_send, "email", email["uuid"])
    return email, email_body


def _send_email(state: EmulatorState, key: str, at: float) -> None:
    """Timer ``email``: ``waiting`` → ``sent`` (or ``error`` without an active mailbox)."""
    email = state.emails.get(key)
    if email is None or email["status"] != "waiting":
        return
    email["updated_at"] = state.iso_at(at)
    mailbox = state.mailboxes.get(str(email["mailbox_uuid"]))
    if mailbox is None or mailbox["status"] != "active":
        email["status"] = "error"
        return
    email.update(status="sent", sent_at=state.iso_at(at))
    lead = state.leads.get(str(email["lead_uuid"]))
    if lead is None:
        return
    sender = state.sender_profiles.get(str(email["sender_profile_uuid"]))
    flow = state.flows.get(str(email.get("flow_uuid")))
    state.log_activity(
        lead["team_id"], "lead", lead["uuid"], "email_sent", {"email_uuid": key}, at=at
    )
    state.outbox.emit(
        lead["team_id"],
        "sender_profile_sent_email",
        lead=lead,
        sender_profile=sender,
        flow=flow,
        email=email,
    )


def receive_linkedin(state: EmulatorState, lead: Record, sender: Record, text: str) -> Record:
    """Store an incoming LinkedIn message (``inbox``, ``done``, unread) from the contact."""
    fields = _message_fields(state, sender, lead, text)
    last = _last_outbox(state, lead["uuid"], sender["uuid"])
    linkedin_type = (
        "InMail" if last is not None and last["linkedin_type"] == "InMail" else "message"
    )
    fields.update(
        type="inbox",
        automation="synced",
        linkedin_type=linkedin_type,
        status="done",
        sent_at=state.now(),
    )
    return state.create(state.linkedin_messages, lead["team_id"], fields)


def _last_outbox(state: EmulatorState, lead_uuid: str, sender_uuid: str) -> Record | None:
    found = None
    for message in state.linkedin_messages.values():
        if (
            message["lead_uuid"] == lead_uuid
            and message["sender_profile_uuid"] == sender_uuid
            and message["type"] == "outbox"
        ):
            found = message
    return found


def receive_email(
    state: EmulatorState, lead: Record, mailbox: Record, subject: str, body: str
) -> Record:
    """Store an incoming e-mail from the contact, replying to the last one sent to it."""
    team_id = lead["team_id"]
    replied = None
    for email in state.emails.values():
        if email["lead_uuid"] == lead["uuid"] and email["type"] == "outbox":
            replied = email
    email_body = state.create(
        state.email_bodies, team_id, {"body": body, "attachments": [], "subject": subject}
    )
    fields = {
        "user_id": state.user_id(team_id),
        "sender_profile_uuid": mailbox.get("sender_profile_uuid"),
        "mailbox_uuid": mailbox["uuid"],
        "email_body_uuid": email_body["uuid"],
        "flow_uuid": replied.get("flow_uuid") if replied else None,
        "lead_uuid": lead["uuid"],
        "status": "sync",
        "type": "inbox",
        "from_name": lead.get("name"),
        "from_email": lead.get("work_email") or lead.get("personal_email"),
        "to_name": mailbox.get("sender_name"),
        "to_email": mailbox["email"],
        "cc": [],
        "bcc": [],
        "subject": subject,
        "replied_to_uuid": replied["uuid"] if replied else None,
        "bounced_by_uuid": None,
        "sent_at": state.now(),
    }
    return state.create(state.emails, team_id, fields)


TIMERS = {"linkedin_message": _progress_message, "email": _send_email}
"""Timer kind → what happens when it is due (run by ``_engine``)."""
