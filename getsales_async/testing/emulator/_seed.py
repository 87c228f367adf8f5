"""Seeding contacts straight into the emulator's memory (:meth:`GetSalesEmulator.seed_leads`).

For tests that need many contacts (searches and exports past the 10,000-row window): no HTTP, no
quota, no deduplication or blacklist checks. Each contact is stored as an upsert would store it
(LinkedIn URLs normalised, tags as uuids, custom field values by field uuid) and indexed for
deduplication, with ``created_at`` values ``spacing`` seconds apart. Webhooks registered for
``contact_created`` get one delivery per contact, as for an upsert; with none registered (the
usual case) the contacts cost no webhook work at all.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from ._identity import classify_linkedin_id, nickname, profile_url
from ._leads import LEAD_FIELDS
from ._state import EmulatorState

__all__ = ["SEEDED_LIST_NAME", "seed_leads"]

SEEDED_LIST_NAME = "Seeded contacts"
_STAMP = "%Y-%m-%dT%H:%M:%S.%fZ"


def _synthetic(n: int) -> dict[str, Any]:
    return {
        "first_name": "Seed",
        "last_name": f"Contact {n}",
        "company_name": f"Seed Co {n % 97}",
        "work_email": f"seed{n}@seed{n % 97}.example",
        "linkedin": f"https://www.linkedin.com/in/seed-contact-{n}",
    }


def _list_uuid(state: EmulatorState, team_id: int, list_uuid: str | None) -> str:
    if list_uuid is not None:
        if state.lists.get(list_uuid, {}).get("team_id") != team_id:
            raise ValueError(f"no list {list_uuid!r} in team {team_id}")
        return list_uuid
    for record in state.of_team(state.lists, team_id):
        if record["name"] == SEEDED_LIST_NAME:
            return str(record["uuid"])
    return str(state.create(state.lists, team_id, {"name": SEEDED_LIST_NAME})["uuid"])


def _custom_field_uuids(state: EmulatorState, team_id: int) -> dict[str, str]:
    return {
        str(f["name"]).casefold(): str(f["uuid"])
        for f in state.of_team(state.custom_fields, team_id)
        if f["object"] == "lead"
    }


def _custom_values(by_name: Mapping[str, str], given: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in given.items():
        field_uuid = by_name.get(str(name).casefold())
        if field_uuid is None:
            raise ValueError(f"no contact custom field named {name!r}; create it first")
        out[field_uuid] = value
    return out


def _fields(
    state: EmulatorState, team_id: int, given: Mapping[str, Any], custom_fields: Mapping[str, str]
) -> dict[str, Any]:
    lead = dict(given)
    tags = list(lead.pop("tags", None) or [])
    custom = _custom_values(custom_fields, lead.pop("custom_fields", None) or {})
    reference = lead.pop("linkedin_id", None)
    if reference:
        detected = classify_linkedin_id(str(reference))
        if detected is None:
            raise ValueError(f"linkedin_id {reference!r} is not a LinkedIn URL, nickname or id")
        lead.setdefault(detected[0], detected[1])
    unknown = sorted(set(lead) - set(LEAD_FIELDS))
    if unknown:
        raise ValueError(f"not contact fields: {', '.join(unknown)}")
    if lead.get("linkedin") and (nick := nickname(lead["linkedin"])):
        lead["linkedin"] = profile_url(nick)
    if not lead.get("name"):
        parts = [str(lead.get(k) or "").strip() for k in ("first_name", "last_name")]
        lead["name"] = " ".join(p for p in parts if p) or None
    return {
        **LEAD_FIELDS,
        **lead,
        "user_id": state.user_id(team_id),
        "tags": state.tag_uuids(team_id, tags, create=True) if tags else [],
        "_custom_fields": custom,
    }


def _first_time(state: EmulatorState, team_id: int, count: int, spacing: float) -> datetime:
    """End at the emulator's current time, but never before the team's newest contact."""
    start = state.wall_time() - timedelta(seconds=spacing * count)
    newest = max((str(r["created_at"]) for r in state.of_team(state.leads, team_id)), default=None)
    if newest is not None:
        after = datetime.strptime(newest, _STAMP).replace(tzinfo=start.tzinfo) + timedelta(
            seconds=spacing
        )
        start = max(start, after)
    return start


def seed_leads(
    state: EmulatorState,
    team_id: int,
    leads: int | Iterable[Mapping[str, Any]],
    *,
    list_uuid: str | None,
    start: datetime | None,
    spacing: float,
) -> list[str]:
    """Insert contacts (see :meth:`GetSalesEmulator.seed_leads`); returns their uuids."""
    if spacing <= 0:
        raise ValueError(f"spacing must be positive seconds, got {spacing!r}")
    if isinstance(leads, int):
        if leads < 0:
            raise ValueError(f"cannot seed {leads} contacts")
        rows: list[Mapping[str, Any]] = [_synthetic(n) for n in range(leads)]
    else:
        rows = list(leads)
    target = _list_uuid(state, team_id, list_uuid)
    if start is not None:
        first = start.astimezone(UTC) if start.tzinfo else start.replace(tzinfo=UTC)
    else:
        first = _first_time(state, team_id, len(rows), spacing)
    custom_fields = _custom_field_uuids(state, team_id)
    notify = state.outbox.listens(team_id, "contact_created")  # once, not per contact
    uuids: list[str] = []
    for n, given in enumerate(rows):
        stamp = (first + timedelta(seconds=spacing * n)).strftime(_STAMP)
        fields = _fields(state, team_id, given, custom_fields)
        fields.update(list_uuid=target, created_at=stamp, updated_at=stamp)
        uuids.append(str(state.add_lead(team_id, fields, notify=notify)["uuid"]))
    return uuids
