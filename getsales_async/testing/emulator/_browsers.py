"""LinkedIn browsers (integer ids), their proxies, and their automation logs.

A browser is created ``stopped`` for a sender profile that has none. ``run`` answers 400 when it
is already ``running`` or ``initializing``; without LinkedIn credentials (``linkedin_login``) it
goes ``login_issue`` (webhooks: ``sender_profile_issue``), with them ``running`` (and the profile gets a LinkedIn account uuid).
Credentials (``linkedin_login``, ``linkedin_password``, ``ln_code``) are left out of answers
unless ``show_all_fields=true``. Proxies: a GetSales proxy is a country from
``GET /browsers/api/linkedin-proxies/countries``; a custom proxy needs ``host`` and ``port``, and
one whose host ends in ``.invalid`` fails the connection check (422). Each action writes a log
entry (``POST /browsers/api/linkedin-browser-logs/list``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ._errors import bad_request, not_found
from ._http import (
    EMPTY,
    Call,
    Fields,
    Record,
    Reply,
    int_param,
    page_from_fields,
    paginate,
    public,
    value_matches,
)
from ._shapes import DEFAULT_SCHEDULE, EMAIL, read_schedule
from ._state import EmulatorState

__all__ = ["HANDLERS", "PROXY_COUNTRIES", "new_browser"]

PROXY_COUNTRIES = {
    "US": "United States",
    "GB": "United Kingdom",
    "DE": "Germany",
    "FR": "France",
    "NL": "Netherlands",
    "ES": "Spain",
    "PL": "Poland",
    "CA": "Canada",
}
STATUSES = (
    "running",
    "stopped",
    "idle",
    "start_issue",
    "running_issue",
    "login_issue",
    "initializing",
)
SECRETS = ("linkedin_login", "linkedin_password", "ln_code")


def new_browser(
    state: EmulatorState,
    profile: Record,
    *,
    external_id: str | None = None,
    owner: str = "getsales",
    proxy: dict[str, Any] | None = None,
) -> Record:
    """Create a ``stopped`` browser for a profile and link it."""
    fields = {
        "sender_profile_uuid": profile["uuid"],
        "linkedin_account_uuid": profile.get("linkedin_account_uuid"),
        "external_id": external_id or f"gologin-{state.new_uuid()[:8]}",
        "name": f"{profile['first_name']} {profile['last_name']}",
        "shared_emails": [],
        "linkedin_automation_server_id": None,
        "linkedin_proxy_id": None,
        "proxy_country_code": None,
        "custom_proxy_config": [],
        "schedule": profile.get("schedule") or DEFAULT_SCHEDULE,
        "linkedin_login": None,
        "linkedin_password": None,
        "ln_code": None,
        "browser_owner": owner,
        "status": "stopped",
        "error_reason": None,
        "user_id": profile.get("user_id"),
        "last_start_at": None,
        **(proxy or {}),
    }
    browser = state.create_numbered(state.linkedin_browsers, "browser", profile["team_id"], fields)
    profile["linkedin_browser_id"] = browser["id"]
    _log(state, browser, "info", "Browser created.")
    return browser


def _log(state: EmulatorState, browser: Record, kind: str, message: str) -> None:
    fields = {"linkedin_browser_id": browser["id"], "type": kind, "message": message}
    state.create_numbered(state.browser_logs, "browser_log", browser["team_id"], fields)


def _view(browser: Record, *, show_all: bool = False) -> dict[str, Any]:
    out = public(browser)
    if not show_all:
        for name in SECRETS:
            out.pop(name, None)
    return out


def _browser(call: Call) -> Record:
    key = int_param(call, "id", "LinkedIn browser")
    return call.state.get(call.state.linkedin_browsers, call.team_id, key, "LinkedIn browser")


def _proxy(body: Fields, *, required: bool) -> dict[str, Any] | None:
    """Proxy settings from ``proxy_country_code`` or ``custom_proxy_config`` (422 problems)."""
    country = body.string("proxy_country_code")
    custom = body.mapping("custom_proxy_config")
    if country is not None and country.upper() not in PROXY_COUNTRIES:
        body.fail("proxy_country_code", "The selected proxy_country_code has no GetSales proxy.")
    if custom is not None:
        config = Fields(custom, prefix="custom_proxy_config.", errors=body.errors)
        host = config.string("host", required=True)
        if not (isinstance(custom.get("port"), int) and not isinstance(custom.get("port"), bool)):
            config.fail("port", "The port must be an integer.")
        if host and host.lower().rstrip(".").endswith(".invalid"):
            config.fail("host", "The proxy connection failed.")
    if country is None and custom is None:
        if required:
            body.fail("proxy_country_code", "Give proxy_country_code or custom_proxy_config.")
        return None
    if custom is not None:
        return {
            "custom_proxy_config": custom,
            "proxy_country_code": None,
            "linkedin_proxy_id": None,
        }
    return {"proxy_country_code": str(country).upper(), "custom_proxy_config": []}


def create_browser(call: Call) -> Reply:
    """``POST /browsers/api/linkedin-browsers``: ``stopped``, linked to the sender profile."""
    state, team = call.state, call.team_id
    body = Fields(call.body)
    profile_uuid = body.string("sender_profile_uuid", required=True)
    external_id = body.string("external_id")
    proxy = _proxy(body, required=external_id is None)
    profile = state.sender_profiles.get(str(profile_uuid))
    if profile_uuid is not None and (profile is None or profile["team_id"] != team):
        body.fail("sender_profile_uuid", "The selected sender_profile_uuid is invalid.")
    elif profile is not None and profile.get("linkedin_browser_id") is not None:
        body.fail("sender_profile_uuid", "This sender profile already has a LinkedIn browser.")
    body.done()
    assert profile is not None  # checked by done()
    if proxy is not None and proxy.get("proxy_country_code"):
        proxy["linkedin_proxy_id"] = state.next_id("proxy")
    owner = "client" if external_id else "getsales"
    browser = new_browser(state, profile, external_id=external_id, owner=owner, proxy=proxy)
    return Reply(201, _view(browser))


def get_browser(call: Call) -> Reply:
    """``GET /browsers/api/linkedin-browsers/{id}``: credentials only with ``show_all_fields``."""
    show = call.query.get("show_all_fields", "").lower() in ("true", "1")
    return Reply(200, _view(_browser(call), show_all=show))


def update_browser(call: Call) -> Reply:
    """``PUT /browsers/api/linkedin-browsers/{id}``: credentials, account, schedule, status."""
    state = call.state
    browser = _browser(call)
    body = Fields(call.body)
    changes: dict[str, Any] = {n: body.string(n, nullable=True) for n in SECRETS if body.has(n)}
    account = body.string("linkedin_account_uuid", nullable=True)
    if body.has("linkedin_account_uuid"):
        if account is None and browser["linkedin_account_uuid"] is not None:
            body.fail("linkedin_account_uuid", "The linkedin_account_uuid cannot be unset.")
        changes["linkedin_account_uuid"] = account
    schedule = read_schedule(body, "schedule")
    if schedule is not None:
        changes["schedule"] = schedule
    status = body.choice("status", STATUSES)
    if status is not None:
        changes["status"] = status
    body.done()
    browser.update(changes)
    state.touch(browser)
    return Reply(200, _view(browser))


def delete_browser(call: Call) -> Reply:
    """``DELETE /browsers/api/linkedin-browsers/{id}``: the profile loses it; LinkedIn tasks fail."""
    state = call.state
    browser = _browser(call)
    del state.linkedin_browsers[str(browser["id"])]
    profile = state.sender_profiles.get(str(browser["sender_profile_uuid"]))
    if profile is None:
        return Reply(204)
    profile.update(linkedin_browser_id=None, linkedin_account_uuid=None)
    now = state.now()
    for task in state.tasks.values():
        if (
            task["sender_profile_uuid"] == profile["uuid"]
            and task["status"] == "in_progress"
            and str(task["type"]).startswith("linkedin_")
        ):
            task.update(
                status="failed", error_msg="The LinkedIn browser was deleted.", updated_at=now
            )
    return Reply(204)


def run_browser(call: Call) -> Reply:
    """``POST .../{id}/run``: 400 when running; ``login_issue`` without credentials."""
    state = call.state
    browser = _browser(call)
    if browser["status"] in ("running", "initializing"):
        raise bad_request(f"The browser is already {browser['status']}.")
    profile = state.sender_profiles.get(str(browser["sender_profile_uuid"]))
    if not browser["linkedin_login"]:
        browser.update(status="login_issue", error_reason="LinkedIn login required.")
        _log(state, browser, "error", "Start failed: the browser has never logged in to LinkedIn.")
        state.outbox.emit(browser["team_id"], "sender_profile_issue", sender_profile=profile)
    else:
        account = browser["linkedin_account_uuid"] or state.new_uuid()
        browser.update(status="running", error_reason=None, last_start_at=state.now())
        browser["linkedin_account_uuid"] = account
        if profile is not None:
            profile["linkedin_account_uuid"] = account
        _log(state, browser, "info", "Browser started.")
    state.touch(browser)
    return Reply(204)


def stop_browser(call: Call) -> Reply:
    """``POST .../{id}/stop``: ``stopped`` (``now: 0`` finishes the current action first)."""
    state = call.state
    browser = _browser(call)
    body = Fields(call.body)
    now = body.integer("now", minimum=0, maximum=1)
    body.done()
    browser["status"] = "stopped"
    state.touch(browser)
    _log(state, browser, "info", "Browser stopped." if now != 0 else "Browser stopped gracefully.")
    return Reply(204)


def set_proxy(call: Call) -> Reply:
    """``POST .../{id}/set-proxy``: a GetSales proxy country or a custom proxy (validated)."""
    state = call.state
    browser = _browser(call)
    body = Fields(call.body)
    proxy = _proxy(body, required=True)
    body.done()
    assert proxy is not None  # checked by done()
    if proxy.get("proxy_country_code"):
        proxy["linkedin_proxy_id"] = state.next_id("proxy")
    browser.update(proxy)
    state.touch(browser)
    _log(state, browser, "info", "Proxy changed.")
    return Reply(200, EMPTY)


def replace_proxy(call: Call) -> Reply:
    """``POST .../{id}/replace-getsales-proxy``: a new proxy, same country; 400 for custom ones."""
    state = call.state
    browser = _browser(call)
    if browser["linkedin_proxy_id"] is None:
        raise bad_request("The browser does not use a GetSales proxy.")
    browser["linkedin_proxy_id"] = state.next_id("proxy")
    state.touch(browser)
    _log(state, browser, "info", "GetSales proxy replaced.")
    return Reply(200, EMPTY)


def check_proxy(call: Call) -> Reply:
    """``POST .../check-proxy``: the proxy's details, or 422 when it cannot be reached."""
    body = Fields(call.body)
    proxy = _proxy(body, required=True)
    body.done()
    assert proxy is not None  # checked by done()
    custom = proxy.get("custom_proxy_config") or {}
    country = proxy.get("proxy_country_code")
    return Reply(
        200,
        {
            "ok": True,
            "country_code": country,
            "host": custom.get("host"),
            "port": custom.get("port"),
        },
    )


def share_browser(call: Call) -> Reply:
    """``POST .../{id}/share``: recipients are added to ``shared_emails``."""
    state = call.state
    browser = _browser(call)
    body = Fields(call.body)
    recipients = body.strings("recipients", required=True) or []
    bad = [r for r in recipients if not EMAIL.fullmatch(r)]
    if bad:
        body.fail("recipients", f"Not e-mail addresses: {', '.join(bad[:5])}.")
    if body.has("recipients") and not recipients:
        body.fail("recipients", "Give at least one recipient.")
    body.done()
    browser["shared_emails"] = list(dict.fromkeys([*browser["shared_emails"], *recipients]))
    state.touch(browser)
    return Reply(200, EMPTY)


def _matching(state: EmulatorState, team_id: int, conditions: dict[str, Any]) -> list[Record]:
    found = []
    for browser in state.of_team(state.linkedin_browsers, team_id):
        if all(
            value_matches(browser.get(k), c, field=f"filter.{k}")
            for k, c in conditions.items()
            if k in browser
        ):
            found.append(browser)
    return found


def list_browsers(call: Call) -> Reply:
    """``POST /browsers/api/linkedin-browsers/list``: filters ``id``, ``status``, profile, owner."""
    body = Fields(call.body)
    page = page_from_fields(body)
    conditions = body.mapping("filter") or {}
    body.done()
    found = _matching(call.state, call.team_id, conditions)
    return Reply(200, paginate(found, page, render=_view))


def first_browser(call: Call) -> Reply:
    """``POST /browsers/api/linkedin-browsers/first``: the first match, or 404."""
    body = Fields(call.body)
    conditions = body.mapping("filter") or {}
    body.done()
    found = _matching(call.state, call.team_id, conditions)
    if not found:
        raise not_found("LinkedIn browser")
    return Reply(200, _view(found[0]))


def list_countries(call: Call) -> Reply:
    """``GET /browsers/api/linkedin-proxies/countries``."""
    return Reply(200, {"data": [{"code": c, "name": n} for c, n in PROXY_COUNTRIES.items()]})


def list_logs(call: Call) -> Reply:
    """``POST /browsers/api/linkedin-browser-logs/list``: newest first; filter by browser."""
    body = Fields(call.body)
    page = page_from_fields(body)
    conditions = body.mapping("filter") or {}
    body.done()
    logs = [
        log
        for log in call.state.of_team(call.state.browser_logs, call.team_id)
        if all(value_matches(log.get(k), c) for k, c in conditions.items() if k in log)
    ]
    return Reply(200, paginate(logs, page))


HANDLERS: dict[str, Callable[[Call], Reply]] = {
    "listLinkedinBrowsers": list_browsers,
    "getFirstLinkedinBrowser": first_browser,
    "getLinkedinBrowser": get_browser,
    "updateLinkedinBrowser": update_browser,
    "deleteLinkedinBrowser": delete_browser,
    "createLinkedinBrowser": create_browser,
    "runLinkedinBrowser": run_browser,
    "stopLinkedinBrowser": stop_browser,
    "setBrowserProxy": set_proxy,
    "replaceGetSalesProxy": replace_proxy,
    "checkProxy": check_proxy,
    "shareBrowser": share_browser,
    "listProxyCountries": list_countries,
    "listBrowserLogs": list_logs,
}
