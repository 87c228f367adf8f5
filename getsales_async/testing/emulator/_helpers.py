"""Test helpers that drive scenarios: replies, accepted connections, e-mail events, time, faults.

:class:`ScenarioHelpers` is a base of :class:`GetSalesEmulator`; its methods act on the
emulator's state as the platform would (records, activities, stop-on-reply, webhooks) and then
run the background work and webhook deliveries that follow, so by the time one returns, the
receiver has been called.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Literal

from getsales_async._resources import OPERATIONS

from ._ai_agents import classify_reply
from ._automation import stop_on_reply
from ._faults import FAULT_KINDS, INJECTABLE_STATUSES, FaultKind, ScheduledFault
from ._http import Record, public
from ._messaging import receive_email, receive_linkedin

if TYPE_CHECKING:
    from ._events import WebhookDelivery
    from ._faults import FaultInjector
    from ._state import EmulatorState

__all__ = ["EmailEvent", "ScenarioHelpers"]

EmailEvent = Literal["opened", "clicked", "unsubscribed", "bounced"]
_EMAIL_EVENTS: dict[str, str] = {
    "opened": "contact_opened_email",
    "clicked": "contact_clicked_email",
    "unsubscribed": "contact_unsubscribed_email",
    "bounced": "email_bounced",
}
MAX_FAULT_TIMES = 10_000


class ScenarioHelpers:
    """Scenario helpers of :class:`GetSalesEmulator` (see the module docstring)."""

    @property
    def state(self) -> EmulatorState:  # pragma: no cover - provided by GetSalesEmulator
        raise NotImplementedError

    @property
    def faults(self) -> FaultInjector:  # pragma: no cover - provided by GetSalesEmulator
        raise NotImplementedError

    async def run_background(self) -> None:  # pragma: no cover - provided by GetSalesEmulator
        raise NotImplementedError

    def _skip(self, seconds: float) -> None:  # pragma: no cover - provided by GetSalesEmulator
        raise NotImplementedError

    @property
    def webhook_deliveries(self) -> list[WebhookDelivery]:
        """Every webhook delivery so far (a copy), in event order, with its attempts."""
        return list(self.state.outbox.deliveries)

    async def advance(self, seconds: float) -> None:
        """Move the emulator's clock ``seconds`` ahead, then run what became due.

        Messages progress, tasks run, enrichments and exports finish, webhook retries are sent,
        each at the moment it was due. The quota sees the time pass too.

        Raises:
            ValueError: ``seconds`` is negative or not finite.
        """
        if not (isinstance(seconds, int | float) and math.isfinite(seconds) and seconds >= 0):
            message = f"advance() takes finite seconds >= 0, got {seconds!r}"
            raise ValueError(message)
        self._skip(float(seconds))
        await self.run_background()

    async def inject_reply(
        self,
        lead_uuid: str,
        text: str,
        *,
        channel: Literal["linkedin", "email"] = "linkedin",
        sender_profile_uuid: str | None = None,
        subject: str | None = None,
    ) -> dict[str, Any]:
        """The contact replies: an incoming LinkedIn message (or e-mail) is stored.

        The reply stops the contact's running flows (their flow leads finish, open tasks are
        cancelled), is classified by the contact's AI agent if it has one (counted in
        the agent's metrics), is logged as an activity, and webhooks get ``contact_replied_linkedin_message``
        (``..._inmail`` after an InMail) or ``contact_replied_email``. The sender profile is the
        one given, else the one that last wrote to the contact, else the team's first.

        Returns:
            The stored message or e-mail, as the API shows it.

        Raises:
            ValueError: no such contact, no sender profile, or (e-mail) no mailbox to reply to.
        """
        state = self.state
        lead = _lead(state, lead_uuid)
        sender = _sender(state, lead, sender_profile_uuid)
        team = lead["team_id"]
        if channel == "linkedin":
            record = receive_linkedin(state, lead, sender, text)
            _count_unread(lead, sender["uuid"])
            kind, event = "linkedin_message_received", "contact_replied_linkedin_message"
            if record["linkedin_type"] == "InMail":
                event = "contact_replied_linkedin_inmail"
        else:
            mailbox = state.mailboxes.get(str(sender.get("mailbox_uuid")))
            if mailbox is None:
                message = f"sender profile {sender['uuid']} has no mailbox to receive the reply"
                raise ValueError(message)
            record = receive_email(state, lead, mailbox, subject or "Re:", text)
            kind, event = "email_received", "contact_replied_email"
        flow = _running_flow(state, lead["uuid"])
        state.log_activity(team, "lead", lead["uuid"], kind, {"uuid": record["uuid"]})
        stop_on_reply(state, lead["uuid"])
        classify_reply(state, lead, text)
        context: dict[str, Any] = {"lead": lead, "sender_profile": sender, "flow": flow}
        context["linkedin_message" if channel == "linkedin" else "email"] = record
        state.outbox.emit(team, event, **context)
        await self.run_background()
        return public(record)

    async def accept_connection(
        self, lead_uuid: str, *, sender_profile_uuid: str | None = None
    ) -> None:
        """The contact accepts a LinkedIn connection request.

        Logged as a ``linkedin_connection_accepted`` activity (counted by the metrics) and sent
        to webhooks as ``contact_accepted_linkedin_connection_request``.

        Raises:
            ValueError: no such contact, or no sender profile.
        """
        state = self.state
        lead = _lead(state, lead_uuid)
        sender = _sender(state, lead, sender_profile_uuid)
        payload = {"sender_profile_uuid": sender["uuid"]}
        state.log_activity(
            lead["team_id"], "lead", lead["uuid"], "linkedin_connection_accepted", payload
        )
        connection = {
            "full_name": lead.get("name"),
            "nickname": lead.get("linkedin"),
            "connected_at": state.now(),
        }
        state.outbox.emit(
            lead["team_id"],
            "contact_accepted_linkedin_connection_request",
            lead=lead,
            sender_profile=sender,
            connection=connection,
        )
        await self.run_background()

    async def inject_email_event(self, email_uuid: str, event: EmailEvent) -> None:
        """A sent e-mail is opened, clicked, unsubscribed from, or bounces.

        Logged as an activity (``email_opened``...), counted by the metrics and sent to webhooks
        (``contact_opened_email``, ``contact_clicked_email``, ``contact_unsubscribed_email``,
        ``email_bounced``). A bounce sets the e-mail's status to ``bounced``; an unsubscribe the
        contact's ``email_status`` to ``unsubscribed``.

        Raises:
            ValueError: no such e-mail, or an unknown event.
        """
        state = self.state
        if event not in _EMAIL_EVENTS:
            message = f"event is one of {', '.join(_EMAIL_EVENTS)}, got {event!r}"
            raise ValueError(message)
        email = state.emails.get(email_uuid)
        if email is None:
            message = f"no e-mail {email_uuid!r} in the emulator"
            raise ValueError(message)
        lead = state.leads.get(str(email["lead_uuid"]))
        if event == "bounced":
            email["status"] = "bounced"
        if event == "unsubscribed" and lead is not None:
            lead["email_status"] = "unsubscribed"
        if lead is not None:
            payload = {
                "email_uuid": email_uuid,
                "sender_profile_uuid": email["sender_profile_uuid"],
                "flow_uuid": email["flow_uuid"],
            }
            state.log_activity(lead["team_id"], "lead", lead["uuid"], f"email_{event}", payload)
            sender = state.sender_profiles.get(str(email["sender_profile_uuid"]))
            state.outbox.emit(
                lead["team_id"], _EMAIL_EVENTS[event], lead=lead, sender_profile=sender, email=email
            )
        await self.run_background()

    def inject_fault(
        self,
        operation_id: str,
        fault: FaultKind = "error",
        *,
        status: int = 503,
        times: int = 1,
        retry_after: float | None = None,
    ) -> None:
        """Make the next ``times`` requests of one operation fail (before any random fault).

        Args:
            operation_id: the operation, e.g. ``"upsertLead"``.
            fault: ``error`` (a 5xx: ``status``), ``drop`` (connection closed), ``429``,
                ``empty_body`` (200 without a body), ``fail_after_commit`` (the write happens,
                the answer is a 502).
            status: the 5xx of an ``error``: 500, 502, 503 or 504.
            times: how many requests in a row.
            retry_after: ``Retry-After`` seconds of a ``429`` (default: none).

        Raises:
            ValueError: an unknown operation or fault, or a bad status, count or delay.
        """
        problems = []
        if operation_id not in OPERATIONS:
            problems.append(f"unknown operation {operation_id!r} (use an operationId of the spec)")
        if fault not in FAULT_KINDS:
            problems.append(f"fault is one of {', '.join(FAULT_KINDS)}, got {fault!r}")
        if status not in INJECTABLE_STATUSES:
            problems.append(f"status is one of {INJECTABLE_STATUSES}, got {status!r}")
        if not (isinstance(times, int) and 1 <= times <= MAX_FAULT_TIMES):
            problems.append(f"times is 1-{MAX_FAULT_TIMES}, got {times!r}")
        if retry_after is not None and not (math.isfinite(retry_after) and retry_after >= 0):
            problems.append(f"retry_after is seconds >= 0, got {retry_after!r}")
        if problems:
            message = f"inject_fault: {'; '.join(problems)}"
            raise ValueError(message)
        self.faults.schedule(operation_id, ScheduledFault(fault, status, retry_after), times)


def _lead(state: EmulatorState, lead_uuid: str) -> Record:
    lead = state.leads.get(lead_uuid)
    if lead is None:
        message = f"no contact {lead_uuid!r} in the emulator"
        raise ValueError(message)
    return lead


def _sender(state: EmulatorState, lead: Record, sender_uuid: str | None) -> Record:
    """The given sender profile, else the last to write to the contact, else the team's first."""
    if sender_uuid is None:
        outgoing = [
            m["sender_profile_uuid"]
            for table in (state.linkedin_messages, state.emails)
            for m in table.values()
            if m["lead_uuid"] == lead["uuid"] and m["type"] == "outbox"
        ]
        running = [
            f["sender_profile_uuid"]
            for f in state.flow_leads.values()
            if f["lead_uuid"] == lead["uuid"]
        ]
        team = [p["uuid"] for p in state.of_team(state.sender_profiles, lead["team_id"])]
        sender_uuid = next(
            (u for u in [*outgoing[::-1], *running[::-1], *team] if u in state.sender_profiles),
            None,
        )
    sender = state.sender_profiles.get(str(sender_uuid))
    if sender is None or sender["team_id"] != lead["team_id"]:
        message = "no sender profile for the reply: create one, or pass sender_profile_uuid"
        raise ValueError(message)
    return sender


def _running_flow(state: EmulatorState, lead_uuid: str) -> Record | None:
    for flow_lead in reversed(list(state.flow_leads.values())):
        if flow_lead["lead_uuid"] == lead_uuid and flow_lead["status"] == "in_progress":
            return state.flows.get(str(flow_lead["flow_uuid"]))
    return None


def _count_unread(lead: Record, sender_uuid: str) -> None:
    counts = [dict(c) for c in lead.get("unread_counts") or []]
    for item in counts:
        if item.get("sender_profile_uuid") == sender_uuid:
            item["count"] = int(item.get("count") or 0) + 1
            break
    else:
        counts.append({"category": "linkedin", "sender_profile_uuid": sender_uuid, "count": 1})
    lead["unread_counts"] = counts
