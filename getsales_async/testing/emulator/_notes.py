"""Notes on contacts and companies, and the activity log.

Activities are written by the emulator as things happen: ``note_left`` (a note), ``automation_started``
(a contact entered a flow), ``linkedin_message_sent``, ``linkedin_connection_note_sent``,
``linkedin_InMail_sent``, ``email_sent``, ``linkedin_message_received``, ``email_received``
(replies), ``enriched``. ``GET /leads/api/activities`` filters them by ``lead_uuid``,
``company_uuid``, ``type`` and ``created_at``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ._http import (
    Call,
    Fields,
    Record,
    Reply,
    delete_handler,
    filter_from_query,
    list_handler,
    page_from_query,
    paginate,
    public,
    value_matches,
)

__all__ = ["HANDLERS"]

_OBJECTS = ("lead", "company")


# ---------------------------------------------------------------------------- notes


def create_note(call: Call) -> Reply:
    """``POST /leads/api/notes``: on an existing contact or company of the team."""
    state, team = call.state, call.team_id
    body = Fields(call.body)
    object_type = body.choice("object", _OBJECTS, required=True)
    object_uuid = body.string("object_uuid", required=True)
    note = body.string("note", required=True)
    table = state.leads if object_type == "lead" else state.companies
    if object_type and object_uuid and table.get(object_uuid, {}).get("team_id") != team:
        body.fail("object_uuid", f"The selected object_uuid is not a {object_type} of this team.")
    body.done()
    fields = {"user_id": state.user_id(team), "object": object_type, "object_uuid": object_uuid}
    record = state.create(state.notes, team, {**fields, "note": note})
    assert object_type is not None and object_uuid is not None  # checked by done()
    state.log_activity(team, object_type, object_uuid, "note_left", {"note_uuid": record["uuid"]})
    return Reply(201, public(record))


def update_note(call: Call) -> Reply:
    """``PUT /leads/api/notes/{uuid}``: only the text changes."""
    state = call.state
    record = state.get(state.notes, call.team_id, call.params["uuid"], "Note")
    body = Fields(call.body)
    note = body.string("note", required=True)
    body.done()
    record["note"] = note
    state.touch(record)
    return Reply(200, public(record))


def _activity_matches(activity: Record, conditions: dict[str, Any]) -> bool:
    for key, condition in conditions.items():
        if key in ("lead_uuid", "company_uuid"):
            kind = "lead" if key == "lead_uuid" else "company"
            if activity["object_type"] != kind or not value_matches(
                activity["object_uuid"], condition, field=f"filter.{key}"
            ):
                return False
        elif key in ("type", "created_at", "object_type", "object_uuid") and not value_matches(
            activity[key], condition, field=f"filter.{key}"
        ):
            return False
    return True


def list_activities(call: Call) -> Reply:
    """``GET /leads/api/activities``: the log, filtered by contact, company, type or time."""
    page = page_from_query(call.query)
    conditions = filter_from_query(call.query)
    found = [
        a
        for a in call.state.of_team(call.state.activities, call.team_id)
        if _activity_matches(a, conditions)
    ]
    return Reply(200, paginate(found, page))


HANDLERS: dict[str, Callable[[Call], Reply]] = {
    "listNotes": list_handler(lambda s: s.notes, "note"),
    "createNote": create_note,
    "updateNote": update_note,
    "deleteNote": delete_handler(lambda s: s.notes, "Note"),
    "listActivities": list_activities,
}
