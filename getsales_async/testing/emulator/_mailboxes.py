"""Mailboxes: SMTP/IMAP connections of sender profiles, activated, deactivated and reconnected.

The emulator's connection test fails for a host ending in ``.invalid`` (RFC 2606): connecting
answers **433** naming the protocol that failed (``smtp`` before ``imap``), as the API documents;
activating or reconnecting answers 422. A profile holds at most :data:`MAX_MAILBOXES_PER_PROFILE`
mailboxes (422 beyond). The first mailbox of a profile becomes its default (``mailbox_uuid``).
Deleting one with ``automation_reassign_mailboxes: true`` moves its open tasks to
``automation_mailbox_to_reassign``; otherwise they are cancelled. Passwords are never returned.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ._automation import OPEN_TASK
from ._errors import ApiError
from ._http import Call, Fields, Record, Reply, list_handler, public
from ._sender_profiles import require_profile
from ._shapes import EMAIL
from ._state import EmulatorState

__all__ = ["HANDLERS", "MAX_MAILBOXES_PER_PROFILE"]

MAX_MAILBOXES_PER_PROFILE = 10
_SETTINGS = (
    "smtp_host",
    "smtp_username",
    "smtp_password",
    "imap_host",
    "imap_username",
    "imap_password",
)
_PORTS = ("smtp_port", "imap_port")


def _view(mailbox: Record) -> dict[str, Any]:
    out = public(mailbox)
    settings = dict(out.get("connection_settings") or {})
    for key in ("smtp_password", "imap_password"):
        if key in settings:
            settings[key] = "********"
    out["connection_settings"] = settings
    return out


def _settings(body: Fields) -> dict[str, Any] | None:
    given = body.mapping("connection_settings")
    if given is None:
        return None
    settings = Fields(given, prefix="connection_settings.", errors=body.errors)
    out: dict[str, Any] = {}
    for name in _SETTINGS:
        value = settings.string(name)
        if value is not None:
            out[name] = value
    for name in _PORTS:
        port = settings.integer(name, minimum=1, maximum=65535)
        if port is not None:
            out[name] = port
    return out


def failed_protocol(settings: dict[str, Any] | None) -> str | None:
    """``smtp`` or ``imap`` when its host fails the emulator's connection test, else ``None``."""
    for protocol in ("smtp", "imap"):
        host = str((settings or {}).get(f"{protocol}_host") or "").lower().rstrip(".")
        if host.endswith(".invalid"):
            return protocol
    return None


def _connection_failed(protocol: str, status: int = 433) -> ApiError:
    message = f"The {protocol.upper()} connection test failed."
    return ApiError(status, "connection_failed", message, {protocol: [message]})


def connect(call: Call) -> Reply:
    """``POST /emails/api/mailboxes``: 201 ``active``; 433 when the connection test fails."""
    state, team = call.state, call.team_id
    body = Fields(call.body)
    email = body.string("email", required=True, pattern=EMAIL)
    sender_name = body.string("sender_name", required=True)
    profile = require_profile(state, body, team, "sender_profile_uuid")
    provider = body.string("provider") or "smtp"
    settings = _settings(body)
    limits = {
        n: body.integer(n, minimum=0)
        for n in ("automation_daily_limit", "automation_task_interval")
    }
    if (
        profile is not None
        and sum(m["sender_profile_uuid"] == profile["uuid"] for m in state.mailboxes.values())
        >= MAX_MAILBOXES_PER_PROFILE
    ):
        body.fail(
            "sender_profile_uuid",
            f"A sender profile can have at most {MAX_MAILBOXES_PER_PROFILE} mailboxes.",
        )
    body.done()
    assert profile is not None  # checked by done()
    protocol = failed_protocol(settings)
    if protocol is not None:
        raise _connection_failed(protocol)
    fields = {
        "user_id": state.user_id(team),
        "sender_profile_uuid": profile["uuid"],
        "email": email,
        "sender_name": sender_name,
        "provider": provider,
        "status": "active",
        "automation_daily_limit": limits["automation_daily_limit"] or 50,
        "automation_task_interval": limits["automation_task_interval"] or 300,
        "custom_tracking_domain_uuid": None,
        "connection_settings": settings or {},
    }
    mailbox = state.create(state.mailboxes, team, fields)
    if profile.get("mailbox_uuid") is None:
        profile["mailbox_uuid"] = mailbox["uuid"]
    return Reply(201, _view(mailbox))


def _mailbox(call: Call) -> Record:
    return call.state.get(call.state.mailboxes, call.team_id, call.params["uuid"], "Mailbox")


def delete(call: Call) -> Reply:
    """``DELETE /emails/api/mailboxes/{uuid}``: reassign or cancel its open tasks; 204."""
    state = call.state
    mailbox = _mailbox(call)
    body = Fields(call.body)
    reassign = body.boolean("automation_reassign_mailboxes", False)
    if call.body is not None and not body.has("automation_reassign_mailboxes"):
        body.fail(
            "automation_reassign_mailboxes", "The automation_reassign_mailboxes field is required."
        )
    target_uuid = body.string("automation_mailbox_to_reassign", nullable=True)
    target = state.mailboxes.get(str(target_uuid))
    if reassign and (target is None or target["team_id"] != call.team_id or target is mailbox):
        body.fail(
            "automation_mailbox_to_reassign", "Name another mailbox of the team to reassign to."
        )
    body.done()
    _remove(state, mailbox, target if reassign else None)
    return Reply(204)


def _remove(state: EmulatorState, mailbox: Record, target: Record | None) -> None:
    del state.mailboxes[mailbox["uuid"]]
    now = state.now()
    for task in state.tasks.values():
        if task["mailbox_uuid"] == mailbox["uuid"] and task["status"] in OPEN_TASK:
            if target is not None:
                task.update(mailbox_uuid=target["uuid"], updated_at=now)
            else:
                task.update(status="canceled", updated_at=now)
    profile = state.sender_profiles.get(str(mailbox["sender_profile_uuid"]))
    if profile is not None and profile.get("mailbox_uuid") == mailbox["uuid"]:
        others = [
            m for m in state.mailboxes.values() if m["sender_profile_uuid"] == profile["uuid"]
        ]
        profile["mailbox_uuid"] = others[0]["uuid"] if others else None


def activate(call: Call) -> Reply:
    """``PUT /emails/api/mailboxes/{uuid}/activate``: after a connection test (422 on failure)."""
    mailbox = _mailbox(call)
    protocol = failed_protocol(mailbox["connection_settings"])
    if protocol is not None:
        raise _connection_failed(protocol, 422)
    mailbox["status"] = "active"
    call.state.touch(mailbox)
    return Reply(200, _view(mailbox))


def deactivate(call: Call) -> Reply:
    """``PUT /emails/api/mailboxes/{uuid}/deactivate``: kept, but sends nothing."""
    mailbox = _mailbox(call)
    mailbox["status"] = "inactive"
    call.state.touch(mailbox)
    return Reply(200, _view(mailbox))


def reconnect(call: Call) -> Reply:
    """``POST /emails/api/mailboxes/{uuid}/reconnect-to-smtp``: new settings, same mailbox."""
    mailbox = _mailbox(call)
    body = Fields(call.body)
    provider = body.string("provider")
    settings = _settings(body)
    body.done()
    protocol = failed_protocol(settings)
    if protocol is not None:
        raise _connection_failed(protocol, 422)
    if provider is not None:
        mailbox["provider"] = provider
    if settings is not None:
        mailbox["connection_settings"] = settings
    mailbox["status"] = "active"
    call.state.touch(mailbox)
    return Reply(200, _view(mailbox))


HANDLERS: dict[str, Callable[[Call], Reply]] = {
    "listMailboxes": list_handler(lambda s: s.mailboxes, "email", "sender_name", render=_view),
    "connectSmtpImapMailbox": connect,
    "getMailbox": lambda call: Reply(200, _view(_mailbox(call))),
    "deleteMailbox": delete,
    "activateMailbox": activate,
    "deactivateMailbox": deactivate,
    "reconnectMailboxToSmtp": reconnect,
}
