"""Contacts (leads): upsert with deduplication, search, lookup, count, CRUD (mass actions: ``._mass_actions``).

Upsert follows the GetSales index: the contact is matched by its deduplication keys
(:mod:`._identity`); tags inside ``lead`` are names, created when missing and stored on the contact
as tag uuids; a contact matching a blacklist entry is refused with 422. The outcome (``created``,
``updated`` or ``skipped`` when ``update_if_exists`` is false) is sent in ``X-Emulator-Upsert`` and
appended to ``state.upserts``.
"""

from __future__ import annotations

import bisect
import itertools
import re
import weakref
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from ._errors import ApiError, validation_error
from ._http import (
    Call,
    Fields,
    Record,
    Reply,
    _number,
    page_from_fields,
    paginate,
    public,
    value_matches,
)
from ._identity import classify_linkedin_id, email_domain, lead_keys, nickname, profile_url
from ._state import EmulatorState, UpsertEvent

__all__ = [
    "HANDLERS",
    "SEARCH_WINDOW",
    "UpsertPlan",
    "apply_upsert",
    "blacklist_hit",
    "has_identifier",
    "lead_entry_hit",
    "plan_upsert",
    "resolve_custom_fields",
    "select_leads",
    "window_check",
]

SEARCH_WINDOW = (
    10_000  # offset + limit beyond this is a 500, as Elasticsearch answers in production
)

LEAD_FIELDS: dict[str, Any] = {
    "user_id": None,
    "sender_profile_uuid": None,
    "list_uuid": None,
    "data_source_uuid": None,
    "pipeline_stage_uuid": None,
    "company_uuid": None,
    "name": None,
    "first_name": None,
    "last_name": None,
    "company_name": None,
    "company_ln_id": None,
    "position": None,
    "headline": None,
    "about": None,
    "avatar_url": None,
    "ln_id": None,
    "sn_id": None,
    "ln_member_id": None,
    "linkedin": None,
    "facebook": None,
    "twitter": None,
    "work_email": None,
    "personal_email": None,
    "work_phone_number": None,
    "personal_phone_number": None,
    "connections_number": None,
    "followers_number": None,
    "primary_language": None,
    "supported_languages": None,
    "has_open_profile": None,
    "has_verified_profile": None,
    "has_premium": None,
    "experience": None,
    "posts": None,
    "educations": None,
    "skills": None,
    "raw_address": None,
    "location": None,
    "tags": None,
    "status": "ok",
    "linkedin_status": "need_enrichment",
    "email_status": None,
    "unread_counts": None,
    "last_automation_approve_at": None,
    "last_enrich_at": None,
    "last_stop_on_reply_at": None,
}

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+")
# Upsert `lead` fields: name → nullable (the spec's create-lead-fields, plus a few lead columns).
_UPSERT_STRINGS = {
    "ln_member_id": True,
    "ln_id": True,
    "sn_id": True,
    "linkedin": True,
    "first_name": False,
    "last_name": False,
    "name": False,
    "company_name": False,
    "work_email": True,
    "personal_email": True,
    "about": False,
    "domain": False,
    "headline": True,
    "position": True,
    "raw_address": True,
    "work_phone_number": True,
    "personal_phone_number": True,
    "facebook": True,
    "twitter": True,
}
# PUT /leads/api/leads/{uuid} fields: name → nullable.
_UPDATE_STRINGS = {
    "name": False,
    "first_name": False,
    "last_name": False,
    "company_name": False,
    "position": True,
    "headline": True,
    "about": False,
    "linkedin": True,
    "facebook": True,
    "twitter": True,
    "work_email": True,
    "personal_email": True,
    "work_phone_number": True,
    "personal_phone_number": True,
    "raw_address": True,
    "status": False,
    "linkedin_status": False,
    "email_status": True,
}
# What the search filter `q` looks through ("name, email, position, headline and about").
_FULL_TEXT = (
    "name",
    "first_name",
    "last_name",
    "work_email",
    "personal_email",
    "position",
    "headline",
    "about",
)


# ---------------------------------------------------------------------------- shared helpers


def window_check(offset: int, limit: int) -> None:
    """Refuse deep pages the way production does (a 500 from Elasticsearch)."""
    if offset + limit > SEARCH_WINDOW:
        raise ApiError(
            500,
            "server_error",
            "Result window is too large, from + size must be less than or equal to: "
            f"[{SEARCH_WINDOW}] but was [{offset + limit}].",
        )


def _full_name(first: Any, last: Any) -> str | None:
    name = " ".join(str(p).strip() for p in (first, last) if p and str(p).strip())
    return name or None


def resolve_custom_fields(
    state: EmulatorState, team_id: int, object_type: str, given: Mapping[str, Any], fields: Fields
) -> dict[str, Any]:
    """Custom field values keyed by field uuid, from keys that are names or uuids (422 if unknown)."""
    out: dict[str, Any] = {}
    for key, value in given.items():
        field = state.custom_fields.get(key)
        if field is None or field["team_id"] != team_id or field["object"] != object_type:
            field = next(
                (
                    f
                    for f in state.of_team(state.custom_fields, team_id)
                    if f["object"] == object_type and str(f["name"]).casefold() == key.casefold()
                ),
                None,
            )
        if field is None:
            fields.fail(
                f"custom_fields.{key}", f"The {object_type} custom field {key} does not exist."
            )
        else:
            out[field["uuid"]] = value
    return out


def _aggregate(state: EmulatorState) -> Callable[[Record], dict[str, Any]]:
    def render(lead: Record) -> dict[str, Any]:
        values = state.custom_values(lead, "lead")
        return {"lead": public(lead), "markers": [], "flows": [], "custom_fields": values or []}

    return render


def lead_entry_hit(entry: Mapping[str, Any], lead: Mapping[str, Any]) -> bool:
    """Whether a contact matches a contacts-blacklist entry (LinkedIn, ln_id, e-mail, name+company)."""
    nick = nickname(lead.get("linkedin"))
    emails = {
        str(e).strip().casefold() for e in (lead.get("work_email"), lead.get("personal_email")) if e
    }
    name = str(lead.get("name") or "").strip().casefold()
    company = str(lead.get("company_name") or "").strip().casefold()
    return (
        (nick is not None and nickname(entry["linkedin"]) == nick)
        or (entry["ln_id"] is not None and entry["ln_id"] == lead.get("ln_id"))
        or bool(emails & set(entry["_emails"]))
        or (
            bool(name and company)
            and str(entry["name"] or "").strip().casefold() == name
            and str(entry["company_name"] or "").strip().casefold() == company
        )
    )


def blacklist_hit(state: EmulatorState, team_id: int, lead: Mapping[str, Any]) -> str | None:
    """Why a contact is refused (a message naming the blacklist and its entry), or ``None``.

    The contacts blacklist matches LinkedIn, ln_id, e-mails or name + company name; the companies
    blacklist matches the work e-mail's domain (or the upsert's ``domain``) or the company name.
    """
    for entry in state.of_team(state.lead_blacklist, team_id):
        if lead_entry_hit(entry, lead):
            return f"The contact matches the leads blacklist (entry {entry['uuid']})."
    domains = {email_domain(lead.get("work_email")), lead.get("_domain")} - {None}
    company = str(lead.get("company_name") or "").strip().casefold()
    for entry in state.of_team(state.company_blacklist, team_id):
        if (entry["domain"] and entry["domain"] in domains) or (
            company and str(entry["name"] or "").strip().casefold() == company
        ):
            return f"The contact matches the companies blacklist (entry {entry['uuid']})."
    return None


def lead_matches(state: EmulatorState, lead: Record, conditions: Mapping[str, Any]) -> bool:
    """Whether a contact satisfies a search filter (unknown keys are ignored)."""
    for key, condition in conditions.items():
        if key == "q":
            haystack = " ".join(str(lead.get(f) or "") for f in _FULL_TEXT).casefold()
            if not all(term in haystack for term in str(condition).casefold().split()):
                return False
            continue
        if key == "work_email_domain":
            actual: Any = email_domain(lead.get("work_email"))
        elif key == "tags":
            uuids = lead.get("tags") or []
            names = [state.tags[t]["name"] for t in uuids if t in state.tags]
            actual = [*uuids, *names]
        elif key in lead and not key.startswith("_"):
            actual = lead[key]
        else:
            continue
        if not value_matches(actual, condition, field=f"filter.{key}"):
            return False
    return True


def select_leads(
    state: EmulatorState, team_id: int, body: Fields, *, everything_by_default: bool
) -> list[Record]:
    """The contacts a count or mass action targets: ``ids``, ``all`` and ``filter`` (mass-filter).

    ``filter`` may hold ``all``, ``ids``, ``excludeIds`` and any search filter keys (also nested
    under ``leadFilter``). With no selector at all the result is every contact when
    ``everything_by_default``, else none. Problems are recorded in ``body``; call ``done()``.
    """
    ids = body.strings("ids")
    select_all = body.boolean("all", False)
    given = body.mapping("filter")
    mass = Fields(given, prefix="filter.", errors=body.errors)
    ids = (ids or []) + (mass.strings("ids") or [])
    exclude = set(mass.strings("excludeIds") or [])
    select_all = select_all or mass.boolean("all", False)
    conditions = {k: v for k, v in (given or {}).items() if k not in ("all", "ids", "excludeIds")}
    nested = conditions.pop("leadFilter", None)
    if isinstance(nested, dict):
        conditions.update(nested)
    if not (ids or select_all or conditions or everything_by_default):
        return []
    wanted = set(ids)
    return [
        lead
        for lead in state.of_team(state.leads, team_id)
        if (not wanted or lead["uuid"] in wanted)
        and lead["uuid"] not in exclude
        and lead_matches(state, lead, conditions)
    ]


# ---------------------------------------------------------------------------- upsert


def _read_upsert_lead(fields: Fields) -> tuple[dict[str, Any], list[str] | None]:
    """The contact fields of an upsert (identity normalised) and its tag names."""
    lead: dict[str, Any] = {}
    for name, nullable in _UPSERT_STRINGS.items():
        value = fields.string(name, nullable=nullable)
        if value is not None and value.strip():
            lead[name] = value.strip()
    email = fields.string("email", pattern=_EMAIL)
    reference = fields.string("linkedin_id")
    tags = fields.strings("tags")
    if email and "work_email" not in lead:
        lead["work_email"] = email.strip()
    if reference and reference.strip():
        detected = classify_linkedin_id(reference)
        if detected is None:
            fields.fail("linkedin_id", "The linkedin_id is not a LinkedIn URL, nickname or id.")
        else:
            lead.setdefault(detected[0], detected[1])
    if "linkedin" in lead:
        nick = nickname(lead["linkedin"])
        if nick is not None:
            lead["linkedin"] = profile_url(nick)
    domain = lead.pop("domain", None)
    if domain:
        lead["_domain"] = domain.strip().lower()
    return lead, tags


def _name_of(lead: Mapping[str, Any], existing: Mapping[str, Any] | None) -> str | None:
    """The full name after an upsert: explicit ``name``, else first + last (merged with ``existing``)."""
    if lead.get("name"):
        return str(lead["name"])
    base = existing or {}
    if existing is not None and not ("first_name" in lead or "last_name" in lead):
        return base.get("name")
    first = lead.get("first_name", base.get("first_name"))
    return _full_name(first, lead.get("last_name", base.get("last_name"))) or base.get("name")


def _find_duplicate(state: EmulatorState, team_id: int, lead: Mapping[str, Any]) -> Record | None:
    for kind, value in lead_keys(lead):
        found = state.find_lead(team_id, kind, value)
        if found is not None:
            return found
    return None


def _company_for(state: EmulatorState, team_id: int, lead: Mapping[str, Any]) -> str | None:
    domains = {email_domain(lead.get("work_email")), lead.get("_domain")} - {None}
    name = str(lead.get("company_name") or "").casefold()
    for company in state.of_team(state.companies, team_id):
        if (company["domain"] and company["domain"] in domains) or (
            name and str(company["name"] or "").casefold() == name
        ):
            return str(company["uuid"])
    return None


def has_identifier(lead: Mapping[str, Any]) -> bool:
    """Whether upsert input names the contact, by the rule the SDK's CSV validation applies.

    A LinkedIn reference (``linkedin``, ``ln_member_id``, ``ln_id``, ``sn_id``), an e-mail, or a
    name (``name``, or both ``first_name`` and ``last_name``) together with ``company_name``.
    """
    if lead.get("linkedin") or any(kind != "name_company" for kind, _ in lead_keys(lead)):
        return True
    has_name = bool(lead.get("name")) or bool(lead.get("first_name") and lead.get("last_name"))
    return has_name and bool(lead.get("company_name"))


@dataclass
class UpsertPlan:
    """A validated upsert: what to write, and the contact it matched (if any)."""

    lead: dict[str, Any]
    tag_names: list[str]
    list_uuid: str
    custom: dict[str, Any]
    existing: Record | None
    name: str | None
    update_if_exists: bool
    move_to_list: bool


def plan_upsert(
    state: EmulatorState, team: int, body: Fields, *, update_flag: str = "update_if_exists"
) -> UpsertPlan:
    """Validate an upsert body (``lead``, ``list_uuid``, ``custom_fields``, flags); 422 on problems."""
    list_uuid = body.string("list_uuid", required=True)
    update_if_exists = body.boolean(update_flag, True)
    move_to_list = body.boolean("move_to_list", False)
    custom_given = body.mapping("custom_fields") or {}
    lead, tag_names = _read_upsert_lead(body.child("lead", required=True))
    if list_uuid is not None and (
        list_uuid not in state.lists or state.lists[list_uuid]["team_id"] != team
    ):
        body.fail("list_uuid", "The selected list_uuid is invalid: the list does not exist.")
    custom = resolve_custom_fields(state, team, "lead", custom_given, body)
    body.done()
    assert list_uuid is not None  # checked by done()
    if not has_identifier(lead):
        raise validation_error(
            {
                "lead": [
                    "Provide a LinkedIn reference, an e-mail, or a name (name, or first_name and "
                    "last_name) with a company_name."
                ]
            }
        )
    existing = _find_duplicate(state, team, {"name": _name_of(lead, None), **lead})
    name = _name_of(lead, existing)
    reason = blacklist_hit(state, team, {**(existing or {}), **lead, "name": name})
    if reason is not None:
        raise validation_error({"lead": [reason]}, reason)
    return UpsertPlan(
        lead, tag_names or [], list_uuid, custom, existing, name, update_if_exists, move_to_list
    )


def apply_upsert(
    state: EmulatorState, team: int, plan: UpsertPlan, *, log: bool = True
) -> tuple[Record, Literal["created", "updated", "skipped"]]:
    """Write a planned upsert; returns the contact and what happened.

    ``log``: record it in ``state.upserts`` (the log of upsert calls; a file import's rows
    are not).
    """
    lead, existing = plan.lead, plan.existing
    outcome: Literal["created", "updated", "skipped"] = "skipped"
    if existing is None:
        outcome = "created"
        fields = {**LEAD_FIELDS, **lead}
        fields.update(
            name=plan.name,
            user_id=state.user_id(team),
            list_uuid=plan.list_uuid,
            tags=state.tag_uuids(team, plan.tag_names, create=True),
            company_uuid=_company_for(state, team, lead),
            _custom_fields=plan.custom,
        )
        record = state.add_lead(team, fields)
    else:
        record = existing
        if plan.update_if_exists:
            outcome = "updated"
            changes: dict[str, Any] = {**lead, "name": plan.name}
            new_tags = state.tag_uuids(team, plan.tag_names, create=True)
            changes["tags"] = list(dict.fromkeys([*(existing.get("tags") or []), *new_tags]))
            changes["_custom_fields"] = {**(existing.get("_custom_fields") or {}), **plan.custom}
            if plan.move_to_list or existing.get("list_uuid") is None:
                changes["list_uuid"] = plan.list_uuid
            state.update_lead(existing, changes)
    if log:
        state.upserts.append(
            UpsertEvent(
                lead_uuid=record["uuid"],
                outcome=outcome,
                list_uuid=plan.list_uuid,
                time=state.clock_time(),
            )
        )
    return record, outcome


def upsert_lead(call: Call) -> Reply:
    """``POST /leads/api/leads/upsert``."""
    plan = plan_upsert(call.state, call.team_id, Fields(call.body))
    # Validated: from here on the request only writes.
    record, outcome = apply_upsert(call.state, call.team_id, plan)
    return Reply(200, public(record), {"X-Emulator-Upsert": outcome})


# ---------------------------------------------------------------------------- reads


_LOWER = {">=": bisect.bisect_left, ">": bisect.bisect_right}
_UPPER = {"<=": bisect.bisect_right, "<": bisect.bisect_left}
_TIME_INDEX: weakref.WeakKeyDictionary[EmulatorState, dict[int, _TimeIndex]] = (
    weakref.WeakKeyDictionary()
)


@dataclass(frozen=True)
class _TimeIndex:
    """A team's contacts in creation order and their ``created_at`` texts (case-folded);
    ``stamps`` is ``None`` when those do not ascend (then bisection cannot be used)."""

    version: tuple[int, str | None]
    stamps: list[str] | None
    leads: list[Record]


def _time_index(state: EmulatorState, team_id: int) -> _TimeIndex:
    version = (len(state.leads), next(reversed(state.leads), None))
    cached = _TIME_INDEX.setdefault(state, {}).get(team_id)
    if cached is not None and cached.version == version:
        return cached
    leads = list(state.of_team(state.leads, team_id))
    texts = [lead.get("created_at") for lead in leads]
    stamps = [t.casefold() for t in texts if isinstance(t, str)]
    ordered = len(stamps) == len(leads) and all(a <= b for a, b in itertools.pairwise(stamps))
    index = _TimeIndex(version, stamps if ordered else None, leads)
    _TIME_INDEX[state][team_id] = index
    return index


def _created_at_range(
    state: EmulatorState, team_id: int, conditions: Mapping[str, Any]
) -> tuple[Iterable[Record], Mapping[str, Any]]:
    """The team's contacts, with a ``created_at`` range of text bounds already applied.

    Timestamps are not numbers, so :func:`value_matches` compares them as case-folded text;
    while a team's contacts were created in ``created_at`` order (the usual case) the range is
    found by bisection instead, which keeps searches that split a large team by time fast.
    Returns the contacts and the conditions still to check with :func:`lead_matches`.
    """
    condition = conditions.get("created_at")
    if not (
        isinstance(condition, dict)
        and condition
        and set(condition) <= {*_LOWER, *_UPPER}
        and all(isinstance(v, str) and _number(v) is None for v in condition.values())
    ):
        return state.of_team(state.leads, team_id), conditions
    index = _time_index(state, team_id)
    stamps = index.stamps
    if stamps is None:
        return state.of_team(state.leads, team_id), conditions
    low, high = 0, len(stamps)
    for op, value in condition.items():
        if op in _LOWER:
            low = max(low, _LOWER[op](stamps, value.casefold()))
        else:
            high = min(high, _UPPER[op](stamps, value.casefold()))
    rest = {k: v for k, v in conditions.items() if k != "created_at"}
    return index.leads[low:high] if low < high else [], rest


def search_leads(call: Call) -> Reply:
    """``POST /leads/api/leads/search``."""
    body = Fields(call.body)
    page = page_from_fields(body)
    conditions = body.mapping("filter") or {}
    flat = body.boolean("disable_aggregation", False)
    if not isinstance(conditions.get("q", ""), str):
        body.fail("filter.q", "The filter.q must be a string.")
    body.done()
    window_check(page.offset, page.limit)
    state = call.state
    team_leads, rest = _created_at_range(state, call.team_id, conditions)
    if rest:
        found = [lead for lead in team_leads if lead_matches(state, lead, rest)]
    else:  # the common "read everything" walk: no per-contact filter call
        found = list(team_leads)
    render = public if flat else _aggregate(state)
    return Reply(200, paginate(found, page, render=render))


def count_leads(call: Call) -> Reply:
    """``POST /leads/api/leads/count``: ``{total}`` (and ``count``, which some clients read)."""
    body = Fields(call.body)
    selected = select_leads(call.state, call.team_id, body, everything_by_default=True)
    body.done()
    return Reply(200, {"total": len(selected), "count": len(selected)})


def lookup_lead(call: Call) -> Reply:
    """``POST /leads/api/leads/lookup-one``: the contact, or ``null`` (never 404)."""
    body = Fields(call.body)
    reference = body.string("linkedin_id", nullable=True)
    email = body.string("email", nullable=True)
    name = body.string("name", nullable=True)
    company = body.string("company_name", nullable=True)
    body.boolean("disable_aggregation", False)
    body.done()
    if not (reference or email or (name and company)):
        raise validation_error(
            {"linkedin_id": ["Provide linkedin_id, email, or both name and company_name."]}
        )
    state, team = call.state, call.team_id
    keys: list[tuple[str, str]] = []
    if reference:
        detected = classify_linkedin_id(reference)
        if detected is not None:
            keys += lead_keys({detected[0]: detected[1]})
    if email:
        keys += [("work_email", email.strip().lower()), ("personal_email", email.strip().lower())]
    if name and company:
        keys += lead_keys({"name": name, "company_name": company})
    for kind, value in keys:
        found = state.find_lead(team, kind, value)
        if found is not None:
            return Reply(200, public(found))
    return Reply(200, None)


def get_lead(call: Call) -> Reply:
    """``GET /leads/api/leads/{uuid}``."""
    lead = call.state.get(call.state.leads, call.team_id, call.params["uuid"], "Contact")
    return Reply(200, public(lead))


# ---------------------------------------------------------------------------- writes


def update_lead(call: Call) -> Reply:
    """``PUT /leads/api/leads/{uuid}``: only the given standard fields (custom fields ignored)."""
    state = call.state
    lead = state.get(state.leads, call.team_id, call.params["uuid"], "Contact")
    body = Fields(call.body)
    changes: dict[str, Any] = {}
    for name, nullable in _UPDATE_STRINGS.items():
        value = body.string(name, nullable=nullable)
        if body.has(name) and (value is not None or body.body[name] is None):
            changes[name] = value
    if body.has("location"):
        location = body.body["location"]
        if location is not None and not (
            isinstance(location, list) and all(isinstance(x, dict) for x in location)
        ):
            body.fail("location", "The location must be an array of objects.")
        else:
            changes["location"] = location
    body.mapping("custom_fields")  # accepted and ignored, as production does
    body.done()
    if changes.get("linkedin") and (nick := nickname(changes["linkedin"])):
        changes["linkedin"] = profile_url(nick)
    if ("first_name" in changes or "last_name" in changes) and "name" not in changes:
        first = changes.get("first_name", lead.get("first_name"))
        changes["name"] = _full_name(first, changes.get("last_name", lead.get("last_name")))
    state.update_lead(lead, changes)
    return Reply(200, public(lead))


def delete_lead(call: Call) -> Reply:
    """``DELETE /leads/api/leads/{uuid}``."""
    state = call.state
    lead = state.get(state.leads, call.team_id, call.params["uuid"], "Contact")
    state.remove_lead(lead["uuid"])
    return Reply(204)


HANDLERS: dict[str, Callable[[Call], Reply]] = {
    "upsertLead": upsert_lead,
    "searchLeads": search_leads,
    "countLeads": count_leads,
    "lookupOneLead": lookup_lead,
    "getLeadByUuid": get_lead,
    "updateLead": update_lead,
    "deleteLead": delete_lead,
}
