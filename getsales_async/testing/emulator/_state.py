"""The emulator's memory: every record, per table, as the JSON object the API returns.

Records are plain dicts keyed by uuid, in creation order, each carrying its ``team_id``; keys
starting with ``_`` are bookkeeping the API never shows (custom field values, blacklist e-mails).
Uuids come from a random generator seeded by the emulator's ``seed``, so a run is repeatable.
Timestamps are ISO 8601 with microseconds and ``Z``, read from the emulator's clock.

Everything here is synchronous: a handler's reads and writes happen without an ``await`` in
between, so concurrent requests on one event loop never see half a change.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from getsales_async._clock import Clock

from ._background import Background
from ._errors import not_found
from ._http import Record
from ._identity import lead_keys

__all__ = ["EmulatorState", "UpsertEvent"]

_DEFAULT_STAGES = (  # (name, type, category) of the stages every team starts with, per object
    ("New", "new", "cold"),
    ("Approaching", "approaching", "engaging"),
    ("Engaging", "engaging", "engaging"),
    ("Replied", "replied", "positive"),
)
_IndexKey = tuple[int, str, str]  # (team id, key kind, key value)


@dataclass(frozen=True)
class UpsertEvent:
    """What one ``POST /leads/api/leads/upsert`` did (``X-Emulator-Upsert`` tells the client)."""

    lead_uuid: str
    outcome: Literal["created", "updated", "skipped"]
    list_uuid: str
    time: float
    """The emulator clock's time of the call, in seconds."""


class EmulatorState:
    """All records of one emulator, in memory (see the module docstring).

    Attributes:
        teams: team id → team.
        users: team id → the user its API keys act as.
        lists, tags, custom_fields, pipeline_stages, notes, leads, companies, lead_blacklist,
            company_blacklist, webhooks, mass_actions, uploads, file_imports: uuid → record.
        background: the worker that runs file imports and queued mass actions.
        upserts: every upsert's outcome, in order.
    """

    def __init__(
        self, *, team_ids: list[int], seed: int, clock: Clock, wall_start: datetime
    ) -> None:
        self._rng = random.Random(f"getsales-emulator:{seed}")
        self._clock = clock
        self._clock_start = clock.now()
        self._wall_start = wall_start
        self.teams: dict[int, Record] = {}
        self.users: dict[int, Record] = {}
        self.lists: dict[str, Record] = {}
        self.tags: dict[str, Record] = {}
        self.custom_fields: dict[str, Record] = {}
        self.pipeline_stages: dict[str, Record] = {}
        self.notes: dict[str, Record] = {}
        self.leads: dict[str, Record] = {}
        self.companies: dict[str, Record] = {}
        self.lead_blacklist: dict[str, Record] = {}
        self.company_blacklist: dict[str, Record] = {}
        self.webhooks: dict[str, Record] = {}
        self.mass_actions: dict[str, Record] = {}
        self.uploads: dict[str, Record] = {}
        self.file_imports: dict[str, Record] = {}
        self.background = Background(self)
        """File imports and queued mass actions (:mod:`._background`); the app sets its config."""
        self.upserts: list[UpsertEvent] = []
        self._lead_index: dict[_IndexKey, dict[str, None]] = {}
        self._lead_keys: dict[str, list[_IndexKey]] = {}
        for team_id in team_ids:
            self._create_team(team_id)

    # ------------------------------------------------------------------ ids and time

    def new_uuid(self) -> str:
        """A version-4 uuid from the seeded generator."""
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def wall_time(self) -> datetime:
        """The emulator's current wall-clock time (UTC), as its timestamps count it."""
        return self._wall_start + timedelta(seconds=self._clock.now() - self._clock_start)

    def now(self) -> str:
        """The current time, ISO 8601 with microseconds and ``Z``."""
        return self.wall_time().strftime("%Y-%m-%dT%H:%M:%S.%fZ")

    def clock_time(self) -> float:
        """The emulator clock's reading, in seconds."""
        return self._clock.now()

    # ------------------------------------------------------------------ generic tables

    def create(self, table: dict[str, Record], team_id: int, fields: Mapping[str, Any]) -> Record:
        """Insert a record with a new uuid, ``team_id`` and timestamps; returns it."""
        now = self.now()
        record: Record = {"uuid": self.new_uuid(), "team_id": team_id, **fields}
        record.setdefault("created_at", now)
        record.setdefault("updated_at", now)
        table[record["uuid"]] = record
        return record

    def touch(self, record: Record) -> None:
        """Set ``updated_at`` to now."""
        record["updated_at"] = self.now()

    @staticmethod
    def of_team(table: Mapping[str, Record], team_id: int) -> Iterator[Record]:
        """The team's records of a table, in creation order."""
        return (r for r in table.values() if r.get("team_id") == team_id)

    @staticmethod
    def get(table: Mapping[str, Record], team_id: int, record_uuid: str, what: str) -> Record:
        """The team's record with this uuid.

        Raises:
            ApiError: 404 when it does not exist or belongs to another team.
        """
        record = table.get(record_uuid)
        if record is None or record.get("team_id") != team_id:
            raise not_found(what)
        return record

    # ------------------------------------------------------------------ teams

    def _create_team(self, team_id: int) -> None:
        if team_id in self.teams:
            return
        now = self.now()
        user_id = len(self.users) + 1
        self.users[team_id] = {
            "id": user_id,
            "uuid": self.new_uuid(),
            "first_name": "Emulator",
            "last_name": f"User {user_id}",
            "email": f"user{user_id}@emulator.invalid",
            "email_status": "ok",
            "image_url": None,
            "timezone": "UTC",
            "config": {"latest_team_id": team_id},
            "created_at": now,
            "updated_at": now,
        }
        self.teams[team_id] = {
            "id": team_id,
            "cluster_id": 1,
            "subscription_id": None,
            "license_uuid": None,
            "name": f"Emulator team {team_id}",
            "color": None,
            "status": "active",
            "features": {
                "sender_profiles": None,
                "cloud_browsers": None,
                "contacts": None,
                "linkedin_accounts": None,
                "email_accounts": None,
                "users": None,
            },
            "credits": {"activities": 10_000, "advanced_enrichment": 1_000, "llm": 1_000},
            "config": {"is_onboarding_completed": True, "is_cloud_browser_disabled": False},
            "user_id": user_id,
            "created_at": now,
            "updated_at": now,
        }
        for object_type in ("lead", "company"):
            for order, (name, stage_type, category) in enumerate(_DEFAULT_STAGES, start=1):
                self.create(
                    self.pipeline_stages,
                    team_id,
                    {
                        "name": name,
                        "object": object_type,
                        "type": stage_type,
                        "category": category,
                        "order": order,
                    },
                )

    def user_id(self, team_id: int) -> int:
        """The id of the user a team's keys act as."""
        return int(self.users[team_id]["id"])

    def custom_values(self, record: Record, object_type: str) -> dict[str, Any]:
        """A contact's or company's custom field values, keyed by field name."""
        values: dict[str, Any] = record.get("_custom_fields") or {}
        return {
            str(field["name"]): value
            for field_uuid, value in values.items()
            if (field := self.custom_fields.get(field_uuid)) is not None
            and field["object"] == object_type
        }

    # ------------------------------------------------------------------ tags

    def tag_named(self, team_id: int, name: str) -> Record | None:
        """The team's tag with this name (case-insensitive), if any."""
        wanted = name.strip().casefold()
        return next(
            (t for t in self.of_team(self.tags, team_id) if str(t["name"]).casefold() == wanted),
            None,
        )

    def tag_uuids(self, team_id: int, names_or_uuids: list[str], *, create: bool) -> list[str]:
        """Tag uuids for names or uuids, creating missing names when ``create`` (else skipped)."""
        out: list[str] = []
        for item in names_or_uuids:
            tag = self.tags.get(item)
            if tag is None or tag["team_id"] != team_id:
                tag = self.tag_named(team_id, item)
            if tag is None and create and item.strip():
                tag = self.create(self.tags, team_id, {"name": item.strip(), "color": None})
            if tag is not None and tag["uuid"] not in out:
                out.append(tag["uuid"])
        return out

    # ------------------------------------------------------------------ leads and their index

    def add_lead(self, team_id: int, fields: Mapping[str, Any]) -> Record:
        """Insert a contact and index its deduplication keys."""
        record = self.create(self.leads, team_id, fields)
        self._index(record)
        return record

    def update_lead(self, record: Record, changes: Mapping[str, Any]) -> None:
        """Apply changes to a contact, re-index it, and set ``updated_at``."""
        self._unindex(record["uuid"])
        record.update(changes)
        self.touch(record)
        self._index(record)

    def remove_lead(self, lead_uuid: str) -> None:
        """Delete a contact, its index entries and its notes."""
        self._unindex(lead_uuid)
        self.leads.pop(lead_uuid, None)
        for note_uuid in [n for n, note in self.notes.items() if note["object_uuid"] == lead_uuid]:
            del self.notes[note_uuid]

    def find_lead(self, team_id: int, kind: str, value: str) -> Record | None:
        """The oldest contact of the team with this deduplication key."""
        found = self._lead_index.get((team_id, kind, value))
        return self.leads[next(iter(found))] if found else None

    def _index(self, record: Record) -> None:
        keys = [(record["team_id"], kind, value) for kind, value in lead_keys(record)]
        self._lead_keys[record["uuid"]] = keys
        for key in keys:
            self._lead_index.setdefault(key, {})[record["uuid"]] = None

    def _unindex(self, lead_uuid: str) -> None:
        for key in self._lead_keys.pop(lead_uuid, []):
            bucket = self._lead_index.get(key)
            if bucket is not None:
                bucket.pop(lead_uuid, None)
                if not bucket:
                    del self._lead_index[key]
