"""Request shapes several resources share: schedules, e-mail addresses, uuid lists in bodies."""

from __future__ import annotations

import re
from typing import Any

from ._http import Fields

__all__ = ["DEFAULT_SCHEDULE", "EMAIL", "MAX_TEXT", "read_schedule", "read_uuids", "text"]

EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
MAX_TEXT = 100_000
"""Characters of free text (messages, prompts, bodies) a field may hold."""
MINUTES_PER_DAY = 24 * 60
DEFAULT_SCHEDULE: dict[str, Any] = {
    "timezone": "UTC",
    "use_lead_timezone": False,
    "timeblocks": [{"dow": day, "min": 540, "max": 1080} for day in range(1, 6)],
}
"""Monday to Friday, 9:00-18:00 UTC: the schedule of records created without one."""


def read_schedule(fields: Fields, name: str, *, required: bool = False) -> dict[str, Any] | None:
    """A ``schedule`` object: ``timezone`` (default UTC) and ``timeblocks`` ``[{dow, min, max}]``.

    ``dow`` is 0 (Sunday) to 6, ``min`` and ``max`` are minutes from midnight (0-1440, max >= min).
    """
    value = fields.mapping(name, required=required)
    if value is None:
        return None
    schedule = Fields(value, prefix=f"{fields.prefix}{name}.", errors=fields.errors)
    timezone = schedule.string("timezone") or "UTC"
    use_lead = schedule.boolean("use_lead_timezone", False)
    blocks = schedule.objects("timeblocks") or []
    for index, block in enumerate(blocks):
        item = Fields(block, prefix=f"{schedule.prefix}timeblocks.{index}.", errors=fields.errors)
        item.integer("dow", minimum=0, maximum=6)
        start = item.integer("min", minimum=0, maximum=MINUTES_PER_DAY)
        end = item.integer("max", minimum=0, maximum=MINUTES_PER_DAY)
        if start is not None and end is not None and end < start:
            item.fail("max", "The max must be at least min.")
    return {"timezone": timezone, "use_lead_timezone": use_lead, "timeblocks": blocks}


def read_uuids(fields: Fields, *names: str) -> list[str] | None:
    """The first of ``names`` present in the body as an array of strings (``None``: none given)."""
    for name in names:
        if fields.has(name):
            return fields.strings(name)
    return None


def text(
    fields: Fields,
    name: str,
    *,
    required: bool = False,
    nullable: bool = False,
    maximum: int = MAX_TEXT,
) -> str | None:
    """A free-text field of at most ``maximum`` characters."""
    value = fields.string(name, required=required, nullable=nullable)
    if value is not None and len(value) > maximum:
        fields.fail(name, f"The {name} may not be greater than {maximum} characters.")
        return None
    return value
