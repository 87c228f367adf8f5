"""Sender profiles: the people outreach is sent as, their linked browser and mailboxes.

A profile is created ``enabled``. Deleting one deletes its mailboxes and browser, cancels its
open tasks and takes it out of every flow contact source. ``connect-external`` creates (or, when
a profile with the same first and last name exists, reuses) a profile and links a new browser,
which starts ``running``. Metrics are computed from stored records.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ._automation import OPEN_TASK
from ._browsers import new_browser
from ._http import Call, Fields, Record, Reply, get_handler, list_handler, public
from ._shapes import DEFAULT_SCHEDULE, read_schedule, read_uuids
from ._state import EmulatorState

__all__ = ["HANDLERS", "require_profile"]

_TEXT = ("first_name", "last_name", "label")


def require_profile(state: EmulatorState, fields: Fields, team_id: int, name: str) -> Record | None:
    """The team's sender profile named by field ``name`` (a 422 problem when unknown)."""
    profile_uuid = fields.string(name, required=True)
    if profile_uuid is None:
        return None
    profile = state.sender_profiles.get(profile_uuid)
    if profile is None or profile["team_id"] != team_id:
        fields.fail(name, f"The selected {name} is invalid: no such sender profile.")
        return None
    return profile


def _read(call: Call, body: Fields, *, creating: bool) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name in _TEXT:
        value = body.string(name, required=creating and name != "label", nullable=name == "label")
        if body.has(name):
            values[name] = value
    assignee = body.integer("assignee_user_id", nullable=not creating)
    if creating and not body.has("assignee_user_id"):
        body.fail("assignee_user_id", "The assignee_user_id field is required.")
    if assignee is not None and assignee != call.state.user_id(call.team_id):
        body.fail("assignee_user_id", "The selected assignee_user_id is not a user of this team.")
    elif body.has("assignee_user_id"):
        values["assignee_user_id"] = assignee
    for name in ("schedule", "linkedin_schedule", "email_schedule"):
        schedule = read_schedule(body, name)
        if schedule is not None:
            values[name] = schedule
    notification = body.string("notification_emails", nullable=True)
    if body.has("notification_emails"):
        values["notification_emails"] = notification
    return values


def create_profile(call: Call) -> Reply:
    """``POST /flows/api/sender-profiles``: ``enabled``, no browser or mailbox yet."""
    state = call.state
    body = Fields(call.body)
    values = _read(call, body, creating=True)
    body.done()
    return Reply(201, public(_new_profile(state, call.team_id, values)))


def _new_profile(state: EmulatorState, team_id: int, values: dict[str, Any]) -> Record:
    schedule = values.get("schedule") or values.get("linkedin_schedule") or DEFAULT_SCHEDULE
    fields = {
        "linkedin_browser_id": None,
        "linkedin_account_uuid": None,
        "mailbox_uuid": None,
        "assignee_user_id": state.user_id(team_id),
        "label": None,
        "avatar_url": None,
        "smart_limits_enabled": False,
        "status": "enabled",
        "hold_tasks_till": None,
        "last_automation_server_id": None,
        "notification_emails": None,
        "user_id": state.user_id(team_id),
        **values,
        "schedule": schedule,
    }
    return state.create(state.sender_profiles, team_id, fields)


def update_profile(call: Call) -> Reply:
    """``PUT /flows/api/sender-profiles/{uuid}``: only the given fields change."""
    state = call.state
    profile = state.get(state.sender_profiles, call.team_id, call.params["uuid"], "Sender profile")
    body = Fields(call.body)
    values = _read(call, body, creating=False)
    body.done()
    profile.update(values)
    state.touch(profile)
    return Reply(200, public(profile))


def delete_profile(call: Call) -> Reply:
    """``DELETE /flows/api/sender-profiles/{uuid}``: its mailboxes and browser go too."""
    state = call.state
    profile = state.get(state.sender_profiles, call.team_id, call.params["uuid"], "Sender profile")
    remove_profile(state, profile)
    return Reply(204)


def remove_profile(state: EmulatorState, profile: Record) -> None:
    """Delete a profile with its mailboxes and browser; cancel its tasks; unassign it."""
    uuid = profile["uuid"]
    del state.sender_profiles[uuid]
    for table in (state.mailboxes, state.linkedin_browsers):
        for key in [k for k, r in table.items() if r.get("sender_profile_uuid") == uuid]:
            del table[key]
    now = state.now()
    for task in state.tasks.values():
        if task["sender_profile_uuid"] == uuid and task["status"] in OPEN_TASK:
            task.update(status="canceled", updated_at=now)
    for version in state.flow_versions.values():
        for source in version.get("contact_sources") or []:
            if uuid in (source.get("sender_profiles") or []):
                source["sender_profiles"] = [u for u in source["sender_profiles"] if u != uuid]


def connect_external(call: Call) -> Reply:
    """``POST /flows/client-api/sender-profiles/connect-external``: profile + running browser."""
    state, team = call.state, call.team_id
    body = Fields(call.body)
    first = body.string("first_name", required=True)
    last = body.string("last_name", required=True)
    limits = body.mapping("daily_limits") or {}
    external_id = body.string("external_id")
    body.done()
    existing = next(
        (
            p
            for p in state.of_team(state.sender_profiles, team)
            if p["first_name"] == first and p["last_name"] == last
        ),
        None,
    )
    profile = existing or _new_profile(state, team, {"first_name": first, "last_name": last})
    profile["daily_limits"] = {**(profile.get("daily_limits") or {}), **limits}
    browser = new_browser(state, profile, external_id=external_id, owner="client")
    browser.update(status="running", last_start_at=state.now())
    answer = {"sender_profile": public(profile), "linkedin_browser": public(browser)}
    return Reply(200 if existing else 201, answer)


def profile_metrics(call: Call) -> Reply:
    """``POST /flows/api/sender-profiles/metrics``: counts per profile (``uuids``, default all)."""
    state = call.state
    body = Fields(call.body)
    wanted = read_uuids(body, "uuids", "sender_profile_uuids")
    body.done()
    profiles = [
        p
        for p in state.of_team(state.sender_profiles, call.team_id)
        if wanted is None or p["uuid"] in wanted
    ]
    return Reply(200, {p["uuid"]: _metrics(state, p) for p in profiles})


def _metrics(state: EmulatorState, profile: Record) -> dict[str, Any]:
    uuid = profile["uuid"]
    mailboxes = [m for m in state.mailboxes.values() if m["sender_profile_uuid"] == uuid]
    messages = [m for m in state.linkedin_messages.values() if m["sender_profile_uuid"] == uuid]
    emails = [e for e in state.emails.values() if e["sender_profile_uuid"] == uuid]
    browser = state.linkedin_browsers.get(str(profile.get("linkedin_browser_id")))
    running = [f for f in state.flow_leads.values() if f["sender_profile_uuid"] == uuid]
    return {
        "mailboxes_count": len(mailboxes),
        "active_mailboxes_count": sum(m["status"] == "active" for m in mailboxes),
        "linkedin_browser_status": browser["status"] if browser else None,
        "linkedin_sent_count": sum(
            m["type"] == "outbox" and m["status"] == "done" for m in messages
        ),
        "email_sent_count": sum(e["type"] == "outbox" and e["status"] == "sent" for e in emails),
        "in_progress_leads_count": sum(f["status"] == "in_progress" for f in running),
        "unread_count": sum(m["type"] == "inbox" and m["read_at"] is None for m in messages),
    }


HANDLERS: dict[str, Callable[[Call], Reply]] = {
    "listSenderProfiles": list_handler(
        lambda s: s.sender_profiles, "first_name", "last_name", "label"
    ),
    "createSenderProfile": create_profile,
    "getSenderProfile": get_handler(lambda s: s.sender_profiles, "Sender profile"),
    "updateSenderProfile": update_profile,
    "deleteSenderProfile": delete_profile,
    "connectExternalBrowser": connect_external,
    "getSenderProfileMetrics": profile_metrics,
}
