"""Tasks: the steps of contacts in flows (see ``_automation``), listed, completed and cancelled.

Complete works on manual tasks (``automation: manual``, e.g. ``custom`` nodes) that are
``in_progress``, ``delegated`` or ``paused``, and moves the contact on; cancel works on any such
open task and leaves the contact at that step. Both answer 200 without a body, and 422 for a
task in another state. Metrics and the day's schedule are computed from the stored tasks.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Callable
from typing import Any

from ._automation import OPEN_TASK, complete_task
from ._errors import validation_error
from ._http import EMPTY, Call, Fields, Record, Reply, get_handler, list_handler, where

__all__ = ["HANDLERS"]

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _task(call: Call) -> Record:
    return call.state.get(call.state.tasks, call.team_id, call.params["uuid"], "Task")


def complete(call: Call) -> Reply:
    """``PUT /flows/api/tasks/{uuid}/complete``: manual open tasks only."""
    task = _task(call)
    if task["automation"] != "manual" or task["status"] not in OPEN_TASK:
        raise validation_error(
            {
                "uuid": [
                    f"Only open manual tasks can be completed (this one is {task['automation']}, {task['status']})."
                ]
            }
        )
    complete_task(call.state, task)
    return Reply(200, EMPTY)


def cancel(call: Call) -> Reply:
    """``PUT /flows/api/tasks/{uuid}/cancel``: open tasks only."""
    task = _task(call)
    if task["status"] not in OPEN_TASK:
        raise validation_error({"uuid": [f"A {task['status']} task cannot be cancelled."]})
    task.update(status="canceled", updated_at=call.state.now())
    return Reply(200, EMPTY)


def metrics(call: Call) -> Reply:
    """``POST /flows/api/tasks/metrics``: counts by status, type and automation (``filter`` optional)."""
    body = Fields(call.body)
    conditions = body.mapping("filter") or {}
    body.done()
    tasks = where(call.state.of_team(call.state.tasks, call.team_id), conditions, text=("type",))
    return Reply(
        200,
        {
            "total": len(tasks),
            "by_status": dict(Counter(t["status"] for t in tasks)),
            "by_type": dict(Counter(t["type"] for t in tasks)),
            "by_automation": dict(Counter(t["automation"] for t in tasks)),
        },
    )


def schedule(call: Call) -> Reply:
    """``GET /flows/api/tasks/schedule``: a sender profile's open tasks of one day, by hour."""
    profile = call.query.get("sender_profile_uuid")
    day = call.query.get("date")
    errors: dict[str, list[str]] = {}
    if not profile:
        errors["sender_profile_uuid"] = ["The sender_profile_uuid field is required."]
    if not day or not _DATE.fullmatch(day):
        errors["date"] = ["The date must be a date (YYYY-MM-DD)."]
    if errors:
        raise validation_error(errors)
    by_hour: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for task in call.state.of_team(call.state.tasks, call.team_id):
        at = str(task["schedule_at"] or "")
        if (
            task["sender_profile_uuid"] == profile
            and task["status"] in OPEN_TASK
            and at.startswith(str(day))
        ):
            by_hour[f"{at[11:13]}:00"].append(
                {
                    "uuid": task["uuid"],
                    "type": task["type"],
                    "lead_uuid": task["lead_uuid"],
                    "schedule_at": at,
                }
            )
    return Reply(200, dict(sorted(by_hour.items())))


HANDLERS: dict[str, Callable[[Call], Reply]] = {
    "listTasks": list_handler(lambda s: s.tasks, "type", "note"),
    "getTask": get_handler(lambda s: s.tasks, "Task"),
    "completeTask": complete,
    "cancelTask": cancel,
    "getTaskMetrics": metrics,
    "getTaskSchedule": schedule,
}
