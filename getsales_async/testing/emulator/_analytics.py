"""Lead engagement metrics (``POST /leads/api/leads/metrics``), counted from stored records.

Each metric counts records in ``[period_from, period_to]`` (by ``sent_at``, else ``created_at``):

- LinkedIn: ``linkedin_sent_count`` / ``linkedin_inmail_sent_count`` /
  ``linkedin_connection_request_sent_count`` (outgoing messages / InMails / connection notes
  ``done``), ``linkedin_inbox_count`` and ``linkedin_inmail_replied_count`` (incoming),
  ``linkedin_connection_request_accepted_count`` (accepted connections),
  ``linkedin_opened_count`` (outgoing messages with ``read_at``), ``linkedin_positive_count``
  (incoming messages an AI agent with an LLM would call positive);
- e-mail: ``email_sent_count``, ``email_inbox_count``, ``email_positive_count``, and
  ``email_opened_count`` / ``email_clicked_count`` / ``email_bounced_count`` /
  ``email_unsubscribed_count`` (e-mail events injected with ``emulator.inject_email_event``);
- ``unread_count``, ``unread_count_linkedin``, ``unread_count_email``: incoming messages not yet
  read, whatever the period.

``flows`` and ``sender_profiles`` narrow what is counted; ``group_by`` adds ``metrics`` keyed by
sender profile, flow (``workflows`` too), list, tag or pipeline stage uuid, or day. Unknown
metric names are 422.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from ._ai_agents import classify_text
from ._http import Call, Fields, Record, Reply
from ._state import EmulatorState

__all__ = ["HANDLERS", "METRICS"]

METRICS = (
    "linkedin_connection_request_sent_count",
    "linkedin_connection_request_accepted_count",
    "linkedin_sent_count",
    "linkedin_opened_count",
    "linkedin_inbox_count",
    "linkedin_inmail_sent_count",
    "linkedin_inmail_replied_count",
    "linkedin_positive_count",
    "email_sent_count",
    "email_opened_count",
    "email_clicked_count",
    "email_bounced_count",
    "email_unsubscribed_count",
    "email_inbox_count",
    "email_positive_count",
    "unread_count",
    "unread_count_linkedin",
    "unread_count_email",
)
GROUPS = ("sender_profiles", "flows", "lists", "tags", "pipeline_stages", "workflows", "date")
_UNREAD = frozenset({"unread_count", "unread_count_linkedin", "unread_count_email"})
_EMAIL_EVENTS = {
    "email_opened": "email_opened_count",
    "email_clicked": "email_clicked_count",
    "email_bounced": "email_bounced_count",
    "email_unsubscribed": "email_unsubscribed_count",
}
Fact = tuple[str, Record, str]  # (metric, record counted, its time)


def _linkedin_facts(message: Record) -> Iterator[str]:
    outgoing, done = message["type"] == "outbox", message["status"] == "done"
    kind = message["linkedin_type"]
    if outgoing and done:
        yield {"message": "linkedin_sent_count", "InMail": "linkedin_inmail_sent_count"}.get(
            kind, "linkedin_connection_request_sent_count"
        )
        if message.get("read_at"):
            yield "linkedin_opened_count"
    if not outgoing:
        yield "linkedin_inbox_count"
        if kind == "InMail":
            yield "linkedin_inmail_replied_count"
        if classify_text(message.get("text"), has_llm=True) == "positive":
            yield "linkedin_positive_count"
        if message.get("read_at") is None:
            yield from ("unread_count", "unread_count_linkedin")


def _email_facts(email: Record, text: str | None) -> Iterator[str]:
    if email["type"] == "outbox" and email.get("sent_at") and email["status"] != "sync":
        yield "email_sent_count"
    if email["type"] == "inbox":
        yield "email_inbox_count"
        if classify_text(text, has_llm=True) == "positive":
            yield "email_positive_count"
        if not email.get("_read"):
            yield from ("unread_count", "unread_count_email")


def _facts(state: EmulatorState, team_id: int) -> Iterator[Fact]:
    for message in state.of_team(state.linkedin_messages, team_id):
        at = str(message.get("sent_at") or message["created_at"])
        for metric in _linkedin_facts(message):
            yield metric, message, at
    for email in state.of_team(state.emails, team_id):
        body = state.email_bodies.get(str(email["email_body_uuid"]))
        at = str(email.get("sent_at") or email["created_at"])
        for metric in _email_facts(email, body["body"] if body else None):
            yield metric, email, at
    for activity in state.of_team(state.activities, team_id):
        counted = _activity_metric(activity["type"])
        if counted is not None:
            lead = state.leads.get(activity["object_uuid"], {})
            record = {**activity["payload"], "lead_uuid": lead.get("uuid")}
            yield counted, record, str(activity["created_at"])


def _activity_metric(kind: str) -> str | None:
    if kind == "linkedin_connection_accepted":
        return "linkedin_connection_request_accepted_count"
    return _EMAIL_EVENTS.get(kind)


def _flow_of(record: Record) -> Any:
    return record.get("flow_uuid") or record.get("_flow_uuid")


def _group_keys(state: EmulatorState, record: Record, at: str, group: str) -> list[str]:
    lead = state.leads.get(str(record.get("lead_uuid"))) or {}
    if group == "sender_profiles":
        keys = [record.get("sender_profile_uuid")]
    elif group in ("flows", "workflows"):
        keys = [_flow_of(record)]
    elif group == "lists":
        keys = [lead.get("list_uuid")]
    elif group == "tags":
        keys = list(lead.get("tags") or [])
    elif group == "pipeline_stages":
        keys = [lead.get("pipeline_stage_uuid")]
    else:
        keys = [at[:10]]
    return [str(k) for k in keys if k]


def _in_period(at: str, start: datetime | None, end: datetime | None) -> bool:
    try:
        moment = datetime.fromisoformat(at.replace("Z", "+00:00"))
    except ValueError:
        return False
    return (start is None or moment >= start) and (end is None or moment <= end)


def _moment(body: Fields, name: str) -> datetime | None:
    text = body.string(name)
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        body.fail(name, f"The {name} must be a date-time (ISO 8601).")
        return None
    if moment.tzinfo is None:
        body.fail(name, f"The {name} needs a time zone (e.g. Z).")
        return None
    return moment


def lead_metrics(call: Call) -> Reply:
    """``POST /leads/api/leads/metrics``: ``{total}``, plus ``metrics`` with ``group_by``."""
    state = call.state
    body = Fields(call.body)
    wanted = body.strings("metrics", required=True) or []
    unknown = sorted(set(wanted) - set(METRICS))
    if body.has("metrics") and (not wanted or unknown):
        body.fail(
            "metrics",
            f"Unknown or no metrics: {', '.join(unknown) or 'none'} (known: {', '.join(METRICS)}).",
        )
    start, end = _moment(body, "period_from"), _moment(body, "period_to")
    flows = set(body.strings("flows") or [])
    senders = set(body.strings("sender_profiles") or [])
    group = body.choice("group_by", GROUPS)
    body.mapping("filter")
    body.done()
    total = dict.fromkeys(wanted, 0)
    grouped: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(wanted, 0))
    for metric, record, at in _facts(state, call.team_id):
        if metric not in total or (metric not in _UNREAD and not _in_period(at, start, end)):
            continue
        if (flows and _flow_of(record) not in flows) or (
            senders and record.get("sender_profile_uuid") not in senders
        ):
            continue
        total[metric] += 1
        for key in _group_keys(state, record, at, group) if group else []:
            grouped[key][metric] += 1
    answer: dict[str, Any] = {"total": total}
    if group:
        answer["metrics"] = dict(grouped)
    return Reply(200, answer)


HANDLERS: dict[str, Callable[[Call], Reply]] = {"getLeadMetrics": lead_metrics}
