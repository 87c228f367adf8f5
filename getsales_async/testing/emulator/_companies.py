"""Companies (accounts) and the two blacklists.

Companies are deduplicated by domain and LinkedIn URL on create. Adding a contact blacklist entry
deletes the matching contacts at once; a company entry deletes the contacts whose work e-mail has
its domain and marks matching companies ``status: "blacklisted"``. Upserts and company creation
that match an entry are refused with 422.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ._errors import validation_error
from ._http import (
    Call,
    Fields,
    Record,
    Reply,
    delete_handler,
    list_handler,
    page_from_fields,
    paginate,
    public,
    value_matches,
    where,
)
from ._identity import domain_of, email_domain, nickname, profile_url
from ._leads import lead_entry_hit, resolve_custom_fields, window_check
from ._state import EmulatorState

__all__ = ["HANDLERS", "select_companies"]

COMPANY_FIELDS: dict[str, Any] = {
    "user_id": None,
    "data_source_uuid": None,
    "lead_status_uuid": None,
    "name": None,
    "domain": None,
    "website": None,
    "ln_id": None,
    "linkedin": None,
    "facebook": None,
    "twitter": None,
    "phone": None,
    "hq_raw_address": None,
    "hq_location": None,
    "logo_url": None,
    "industry": None,
    "employees_range": None,
    "year_established": None,
    "about": None,
    "lists": [],
    "tags": [],
    "status": None,
    "last_enrich_at": None,
}
_INPUT_STRINGS = ("domain", "website", "linkedin", "industry", "employees_range", "hq_raw_address")
_UPDATE_STRINGS = {
    "name": False,
    "domain": True,
    "website": True,
    "linkedin": True,
    "industry": True,
    "employees_range": True,
    "hq_raw_address": True,
    "phone": True,
    "about": True,
    "lead_status_uuid": True,
}


def _company_blacklisted(state: EmulatorState, team_id: int, company: Record) -> str | None:
    name = str(company.get("name") or "").casefold()
    for entry in state.of_team(state.company_blacklist, team_id):
        if (
            (entry["domain"] and entry["domain"] == company.get("domain"))
            or (name and str(entry["name"] or "").casefold() == name)
            or (entry["linkedin"] and entry["linkedin"] == company.get("linkedin"))
            or (entry["ln_id"] and entry["ln_id"] == str(company.get("ln_id") or ""))
        ):
            return f"The company matches the companies blacklist (entry {entry['uuid']})."
    return None


def _find_company(state: EmulatorState, team_id: int, probe: Record) -> Record | None:
    for company in state.of_team(state.companies, team_id):
        if (probe.get("domain") and company["domain"] == probe["domain"]) or (
            probe.get("linkedin") and company["linkedin"] == probe["linkedin"]
        ):
            return company
    return None


def _aggregate(state: EmulatorState) -> Callable[[Record], Any]:
    def render(company: Record) -> dict[str, Any]:
        values = state.custom_values(company, "company")
        return {"company": public(company), "markers": [], "custom_fields": values or []}

    return render


# ---------------------------------------------------------------------------- companies


def select_companies(
    state: EmulatorState, team_id: int, body: Fields, *, everything_by_default: bool
) -> list[Record]:
    """The companies a mass filter in ``body["filter"]`` selects (``all``, ``ids``, ``excludeIds``,
    field conditions, ``q`` over name and domain); ``uuids`` beside it adds more.

    With no selector the result is every company when ``everything_by_default``, else none.
    Problems are recorded in ``body``; call ``done()``.
    """
    uuids = set(body.strings("uuids") or [])
    given = body.mapping("filter")
    mass = Fields(given, prefix="filter.", errors=body.errors)
    ids = mass.strings("ids")
    excluded = set(mass.strings("excludeIds") or [])
    select_all = mass.boolean("all", False)
    conditions = {k: v for k, v in (given or {}).items() if k not in ("all", "ids", "excludeIds")}
    companies = list(state.of_team(state.companies, team_id))
    chosen: dict[str, Record] = {}
    if given is not None and (everything_by_default or select_all or ids is not None or conditions):
        wanted = None if ids is None else set(ids)
        for company in where(companies, conditions, text=("name", "domain")):
            if (wanted is None or company["uuid"] in wanted) and company["uuid"] not in excluded:
                chosen[company["uuid"]] = company
    chosen.update({c["uuid"]: c for c in companies if c["uuid"] in uuids})
    return list(chosen.values())


def create_companies(call: Call) -> Reply:
    """``POST /leads/api/companies``: one object or an array (or ``{companies: [...]}``) → array."""
    state, team = call.state, call.team_id
    given = call.body
    if isinstance(given, dict) and isinstance(given.get("companies"), list):
        given = given["companies"]
    items = given if isinstance(given, list) else [given]
    errors: dict[str, list[str]] = {}
    prepared: list[tuple[Record, list[str]]] = []
    for index, item in enumerate(items):
        prefix = f"{index}." if isinstance(given, list) else ""
        fields = Fields(item, prefix=prefix, errors=errors)
        values: Record = {"name": fields.string("name", required=True)}
        for name in _INPUT_STRINGS:
            values[name] = fields.string(name)
        values["domain"] = domain_of(values["domain"] or values["website"])
        if values["linkedin"]:
            values["linkedin"] = values["linkedin"].strip()
        tags = fields.strings("tags") or []
        reason = _company_blacklisted(state, team, values)
        if reason is not None:
            fields.fail("name", reason)
        prepared.append((values, tags))
    if errors:
        raise validation_error(errors)

    # Validated: from here on the request only writes.
    out = []
    for values, tags in prepared:
        tag_uuids = state.tag_uuids(team, tags, create=True)
        existing = _find_company(state, team, values)
        if existing is None:
            fields_ = {**COMPANY_FIELDS, "user_id": state.user_id(team), **values}
            record = state.create(state.companies, team, {**fields_, "tags": tag_uuids})
        else:
            record = existing
            record.update({k: v for k, v in values.items() if v is not None})
            record["tags"] = list(dict.fromkeys([*record["tags"], *tag_uuids]))
            state.touch(record)
        out.append(public(record))
    return Reply(200, out)


def _company_matches(state: EmulatorState, company: Record, conditions: dict[str, Any]) -> bool:
    for key, condition in conditions.items():
        if key == "q":
            text = f"{company['name'] or ''} {company['domain'] or ''}".casefold()
            if str(condition).casefold() not in text:
                return False
            continue
        if key == "pipeline_stage_uuid":
            key = "lead_status_uuid"
        if key == "tags":
            uuids = company["tags"] or []
            actual: Any = [*uuids, *(state.tags[t]["name"] for t in uuids if t in state.tags)]
        elif key in company and not key.startswith("_"):
            actual = company[key]
        else:
            continue
        if not value_matches(actual, condition, field=f"filter.{key}"):
            return False
    return True


def list_companies(call: Call) -> Reply:
    """``POST /leads/api/companies/list``: ``{company, markers, custom_fields}`` items."""
    state = call.state
    body = Fields(call.body)
    page = page_from_fields(body)
    conditions = body.mapping("filter") or {}
    if not isinstance(conditions.get("q", ""), str):
        body.fail("filter.q", "The filter.q must be a string.")
    body.done()
    window_check(page.offset, page.limit)
    found = [
        c
        for c in state.of_team(state.companies, call.team_id)
        if _company_matches(state, c, conditions)
    ]
    return Reply(200, paginate(found, page, render=_aggregate(state)))


def lookup_company(call: Call) -> Reply:
    """``POST /leads/api/companies/lookup``: the company, or ``null``."""
    body = Fields(call.body)
    probes = {k: body.string(k) for k in ("ln_id", "linkedin", "domain", "website", "name")}
    body.boolean("disable_aggregation", False)
    body.done()
    if not any(probes.values()):
        raise validation_error(
            {"name": ["Provide at least one of linkedin, website, domain, ln_id or name."]}
        )
    domain = domain_of(probes["domain"] or probes["website"])
    for company in call.state.of_team(call.state.companies, call.team_id):
        if (
            (probes["ln_id"] and str(company["ln_id"]) == probes["ln_id"].strip())
            or (probes["linkedin"] and company["linkedin"] == probes["linkedin"].strip())
            or (domain and company["domain"] == domain)
            or (
                probes["name"]
                and str(company["name"] or "").casefold() == probes["name"].strip().casefold()
            )
        ):
            return Reply(200, public(company))
    return Reply(200, None)


def get_company(call: Call) -> Reply:
    """``GET /leads/api/companies/{uuid}``."""
    state = call.state
    return Reply(
        200, public(state.get(state.companies, call.team_id, call.params["uuid"], "Company"))
    )


def update_company(call: Call) -> Reply:
    """``PUT /leads/api/companies/{uuid}``: only the given fields change."""
    state, team = call.state, call.team_id
    company = state.get(state.companies, team, call.params["uuid"], "Company")
    body = Fields(call.body)
    changes: Record = {}
    for name, nullable in _UPDATE_STRINGS.items():
        value = body.string(name, nullable=nullable)
        if body.has(name) and (value is not None or body.body[name] is None):
            changes[name] = value
    ln_id = body.integer("ln_id", nullable=True)
    if body.has("ln_id") and (ln_id is not None or body.body["ln_id"] is None):
        changes["ln_id"] = ln_id
    custom = resolve_custom_fields(
        state, team, "company", body.mapping("custom_fields") or {}, body
    )
    body.done()
    if "domain" in changes:
        changes["domain"] = domain_of(changes["domain"])
    company.update(changes)
    company["_custom_fields"] = {**(company.get("_custom_fields") or {}), **custom}
    state.touch(company)
    return Reply(200, public(company))


def delete_company(call: Call) -> Reply:
    """``DELETE /leads/api/companies/{uuid}``: its contacts stay, with ``company_uuid`` null."""
    state = call.state
    company = state.get(state.companies, call.team_id, call.params["uuid"], "Company")
    del state.companies[company["uuid"]]
    for lead in state.of_team(state.leads, call.team_id):
        if lead["company_uuid"] == company["uuid"]:
            lead["company_uuid"] = None
    return Reply(204)


# ---------------------------------------------------------------------------- blacklists


def add_lead_blacklist(call: Call) -> Reply:
    """``POST /leads/api/leads-blacklist``: matching contacts are deleted."""
    state, team = call.state, call.team_id
    body = Fields(call.body)
    values = {
        k: body.string(k)
        for k in (
            "linkedin",
            "ln_id",
            "work_email",
            "personal_email",
            "email",
            "name",
            "company_name",
        )
    }
    emails = [
        e.strip().casefold()
        for e in (values["work_email"], values["personal_email"], values["email"])
        if e and e.strip()
    ]
    nick = nickname(values["linkedin"])
    if not (nick or values["linkedin"] or values["ln_id"] or emails) and not (
        values["name"] and values["company_name"]
    ):
        body.fail(
            "linkedin",
            "Provide linkedin, ln_id, work_email or personal_email, or both name and company_name.",
        )
    body.done()
    entry = state.create(
        state.lead_blacklist,
        team,
        {
            "user_id": state.user_id(team),
            "name": values["name"],
            "company_name": values["company_name"],
            "linkedin": profile_url(nick) if nick else values["linkedin"],
            "ln_id": values["ln_id"],
            "email": emails[0] if emails else None,
            "_emails": emails,
        },
    )
    for lead in list(state.of_team(state.leads, team)):
        if lead_entry_hit(entry, lead):
            state.remove_lead(lead["uuid"])
    return Reply(201, public(entry))


def add_company_blacklist(call: Call) -> Reply:
    """``POST /leads/api/companies-blacklist``: contacts with its e-mail domain are deleted."""
    state, team = call.state, call.team_id
    body = Fields(call.body)
    values = {k: body.string(k) for k in ("name", "domain", "linkedin", "ln_id")}
    if not any(v and v.strip() for v in values.values()):
        body.fail("name", "Provide at least one of name, domain, linkedin or ln_id.")
    body.done()
    values["domain"] = domain_of(values["domain"])
    entry = state.create(state.company_blacklist, team, {"user_id": state.user_id(team), **values})
    for lead in list(state.of_team(state.leads, team)):
        if entry["domain"] and email_domain(lead["work_email"]) == entry["domain"]:
            state.remove_lead(lead["uuid"])
    for company in state.of_team(state.companies, team):
        if _company_blacklisted(state, team, company) is not None:
            company["status"] = "blacklisted"
            state.touch(company)
    return Reply(201, public(entry))


HANDLERS: dict[str, Callable[[Call], Reply]] = {
    "createCompany": create_companies,
    "listCompanies": list_companies,
    "lookupCompany": lookup_company,
    "getCompanyByUuid": get_company,
    "updateCompany": update_company,
    "deleteCompany": delete_company,
    "listLeadBlacklist": list_handler(lambda s: s.lead_blacklist),
    "addLeadToBlacklist": add_lead_blacklist,
    "removeLeadFromBlacklist": delete_handler(lambda s: s.lead_blacklist, "Blacklist entry"),
    "listCompanyBlacklist": list_handler(lambda s: s.company_blacklist),
    "addCompanyToBlacklist": add_company_blacklist,
    "removeCompanyFromBlacklist": delete_handler(lambda s: s.company_blacklist, "Blacklist entry"),
}
