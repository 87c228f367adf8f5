"""The emulator's memory: every record, per table, as the JSON object the API returns.

Records are plain dicts keyed by uuid, in creation order, each carrying its ``team_id``; keys
starting with ``_`` are bookkeeping the API never shows (custom field values, blacklist e-mails).
Uuids come from a random generator seeded by the emulator's ``seed``, so a run is repeatable.
Timestamps are ISO 8601 with microseconds and ``Z``, read from the emulator's clock.

Records with integer ids (LinkedIn browsers, enrichment queue entries, browser logs) are keyed by
the id's text. Work that happens later (a message being sent, an enrichment finishing) is a timer
on the emulator's clock (:meth:`EmulatorState.schedule`), run in due order by ``_engine``.

Everything here is synchronous: a handler's reads and writes happen without an ``await`` in
between, so concurrent requests on one event loop never see half a change.
"""

from __future__ import annotations

import heapq
import random
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

import httpx

from getsales_async._clock import Clock

from ._background import Background
from ._errors import not_found
from ._events import WebhookOutbox
from ._http import Record
from ._identity import lead_keys
from ._timings import EmulatorTimings

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
        lists, tags, custom_fields, pipeline_stages, notes, activities, leads, companies,
            lead_blacklist, company_blacklist, webhooks, mass_actions, uploads, file_imports: uuid →
            record (CRM).
        flows, flow_versions, flow_leads, flow_workspaces, tasks: uuid → record (automation).
        sender_profiles, mailboxes, linkedin_messages, emails, email_bodies: uuid → record.
        ai_agents, ai_classifications, ai_templates, llm_connections, data_sources,
            file_exports: uuid → record.
        linkedin_browsers, browser_logs, enrichment_queue: id (as text) → record.
        background: the worker that runs file imports and queued mass actions.
        upserts: every upsert's outcome, in order.
        outbox: webhook deliveries waiting to be sent, and every delivery made
            (``outbox.deliveries``).
    """

    def __init__(
        self,
        *,
        team_ids: list[int],
        seed: int,
        clock: Clock,
        wall_start: datetime,
        timings: EmulatorTimings | None = None,
    ) -> None:
        self.timings = timings if timings is not None else EmulatorTimings()
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
        self.activities: dict[str, Record] = {}
        self.flows: dict[str, Record] = {}
        self.flow_versions: dict[str, Record] = {}
        self.flow_leads: dict[str, Record] = {}
        self.flow_workspaces: dict[str, Record] = {}
        self.tasks: dict[str, Record] = {}
        self.sender_profiles: dict[str, Record] = {}
        self.mailboxes: dict[str, Record] = {}
        self.linkedin_messages: dict[str, Record] = {}
        self.emails: dict[str, Record] = {}
        self.email_bodies: dict[str, Record] = {}
        self.ai_agents: dict[str, Record] = {}
        self.ai_classifications: dict[str, Record] = {}
        self.ai_templates: dict[str, Record] = {}
        self.llm_connections: dict[str, Record] = {}
        self.data_sources: dict[str, Record] = {}
        self.file_exports: dict[str, Record] = {}
        self.linkedin_browsers: dict[str, Record] = {}
        self.browser_logs: dict[str, Record] = {}
        self.enrichment_queue: dict[str, Record] = {}
        self.uploads: dict[str, Record] = {}
        self.file_imports: dict[str, Record] = {}
        self.background = Background(self)
        """File imports and queued mass actions (:mod:`._background`); the app sets its config."""
        self.upserts: list[UpsertEvent] = []
        self.outbox = WebhookOutbox(self)
        self.webhook_transport: httpx.AsyncBaseTransport | None = None
        """Where webhook deliveries go (``None``: the network); set by the emulator."""
        self._lead_index: dict[_IndexKey, dict[str, None]] = {}
        self._lead_keys: dict[str, list[_IndexKey]] = {}
        self._ids: dict[str, int] = {}
        self._timers: list[tuple[float, int, str, str]] = []
        self._timer_seq = 0
        for team_id in team_ids:
            self._create_team(team_id)

    # ------------------------------------------------------------------ ids and time

    def new_uuid(self) -> str:
        """A version-4 uuid from the seeded generator."""
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def wall_time(self, at: float | None = None) -> datetime:
        """The emulator's wall-clock time (UTC) now, or at clock reading ``at``."""
        reading = self._clock.now() if at is None else at
        return self._wall_start + timedelta(seconds=reading - self._clock_start)

    def now(self) -> str:
        """The current time, ISO 8601 with microseconds and ``Z``."""
        return self.iso_at(self._clock.now())

    def iso_at(self, at: float) -> str:
        """The time at clock reading ``at``, ISO 8601 with microseconds and ``Z``."""
        return self.wall_time(at).strftime("%Y-%m-%dT%H:%M:%S.%fZ")

    def next_id(self, kind: str) -> int:
        """The next integer id of ``kind`` (1, 2, ...)."""
        self._ids[kind] = self._ids.get(kind, 0) + 1
        return self._ids[kind]

    # ------------------------------------------------------------------ timers

    def schedule(self, at: float, kind: str, key: str) -> None:
        """Run the ``kind`` timer for record ``key`` once the clock reads ``at`` (see ``_engine``)."""
        self._timer_seq += 1
        heapq.heappush(self._timers, (at, self._timer_seq, kind, key))

    def pop_due(self, now: float) -> tuple[float, str, str] | None:
        """The earliest timer due at ``now`` (removed), or ``None``."""
        if not self._timers or self._timers[0][0] > now:
            return None
        at, _, kind, key = heapq.heappop(self._timers)
        return at, kind, key

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

    def create_numbered(
        self, table: dict[str, Record], kind: str, team_id: int, fields: Mapping[str, Any]
    ) -> Record:
        """Insert a record with a new integer ``id`` (keyed by its text), ``team_id`` and timestamps."""
        now = self.now()
        record: Record = {"id": self.next_id(kind), "team_id": team_id, **fields}
        record.setdefault("created_at", now)
        record.setdefault("updated_at", now)
        table[str(record["id"])] = record
        return record

    def log_activity(
        self,
        team_id: int,
        object_type: str,
        object_uuid: str,
        kind: str,
        payload: Mapping[str, Any],
        *,
        at: float | None = None,
    ) -> Record:
        """Record an activity on a contact or company (at clock reading ``at``, default now)."""
        fields = {"object_type": object_type, "object_uuid": object_uuid, "type": kind}
        if at is not None:
            fields["created_at"] = self.iso_at(at)
        record = self.create(self.activities, team_id, {**fields, "payload": dict(payload)})
        record.pop("updated_at", None)
        return record

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

    def add_lead(self, team_id: int, fields: Mapping[str, Any], *, notify: bool = True) -> Record:
        """Insert a contact, index its deduplication keys; webhooks get ``contact_created``.

        ``notify=False`` skips the webhook lookup (a caller inserting many contacts that
        checked once with ``outbox.listens`` that no webhook wants them).
        """
        record = self.create(self.leads, team_id, fields)
        self._index(record)
        if notify:
            self.outbox.emit(team_id, "contact_created", lead=record)
        return record

    def update_lead(self, record: Record, changes: Mapping[str, Any]) -> None:
        """Apply changes to a contact, re-index it, and set ``updated_at``.

        Webhooks get ``contact_updated``, plus ``contact_tag_added`` when tags were added and
        ``contact_pipeline_stage_changed`` when the stage changed.
        """
        before_tags = set(record.get("tags") or [])
        before_stage = record.get("pipeline_stage_uuid")
        self._unindex(record["uuid"])
        record.update(changes)
        self.touch(record)
        self._index(record)
        team_id = record["team_id"]
        self.outbox.emit(team_id, "contact_updated", lead=record)
        added = [t for t in record.get("tags") or [] if t not in before_tags]
        if added:
            self.outbox.emit(team_id, "contact_tag_added", lead=record, extra={"tags": added})
        if record.get("pipeline_stage_uuid") != before_stage:
            self.outbox.emit(team_id, "contact_pipeline_stage_changed", lead=record)

    def remove_lead(self, lead_uuid: str) -> None:
        """Delete a contact with its notes, flow enrollments, tasks and messages.

        Webhooks get ``contact_deleted`` (with the contact as it was).
        """
        record = self.leads.get(lead_uuid)
        if record is not None:
            self.outbox.emit(record["team_id"], "contact_deleted", lead=record)
        self._unindex(lead_uuid)
        self.leads.pop(lead_uuid, None)
        for note_uuid in [n for n, note in self.notes.items() if note["object_uuid"] == lead_uuid]:
            del self.notes[note_uuid]
        tables = (self.flow_leads, self.tasks, self.linkedin_messages, self.emails)
        for table in tables:
            for key in [k for k, r in table.items() if r.get("lead_uuid") == lead_uuid]:
                del table[key]

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
