"""The emulator's LinkedIn browsers, proxies and browser logs, through the SDK."""

from __future__ import annotations

import pytest

from getsales_async import (
    AsyncGetSales,
    BadRequestError,
    NotFoundError,
    UnprocessableEntityError,
)
from getsales_async.webhooks import SenderProfileIssueEvent

from .emulator_fixtures import *  # noqa: F403
from .emulator_fixtures import HOOK_URL, Received, uuid_of

pytestmark = pytest.mark.anyio


async def profile(client: AsyncGetSales, first_name: str = "Sam") -> str:
    created = await client.sender_profiles.create(
        first_name=first_name, last_name="Seller", assignee_user_id=1
    )
    return uuid_of(created)


class TestLinkedinBrowsers:
    async def test_round_trip_with_integer_ids(self, client: AsyncGetSales) -> None:
        """Create (stopped, linked), get, list by status, update, delete (the profile is unlinked)."""
        owner = await profile(client)
        browser = await client.linkedin_browsers.create(
            sender_profile_uuid=owner, proxy_country_code="US"
        )
        assert isinstance(browser.id, int) and browser.status == "stopped"
        assert (await client.sender_profiles.get(owner)).linkedin_browser_id == browser.id
        with pytest.raises(UnprocessableEntityError, match="already has"):
            await client.linkedin_browsers.create(
                sender_profile_uuid=owner, proxy_country_code="US"
            )
        found = [b.id async for b in client.linkedin_browsers.list(filter={"status": "stopped"})]
        assert found == [browser.id]
        updated = await client.linkedin_browsers.update(
            browser.id, linkedin_login="sam@acme.example"
        )
        assert not getattr(updated, "linkedin_login", None)  # hidden without show_all_fields
        shown = await client.linkedin_browsers.get(browser.id, show_all_fields=True)
        assert shown.linkedin_login == "sam@acme.example"
        assert (
            await client.linkedin_browsers.get_first(filter={"sender_profile_uuid": owner})
        ).id == browser.id
        await client.linkedin_browsers.delete(browser.id)
        with pytest.raises(NotFoundError):
            await client.linkedin_browsers.get(browser.id)
        assert not (await client.sender_profiles.get(owner)).linkedin_browser_id

    async def test_run_stop_and_logs(self, client: AsyncGetSales, received: Received) -> None:
        """run without credentials → login_issue (a webhook); with them → running; logs kept."""
        await client.webhooks.create(name="i", event="sender_profile_issue", target_url=HOOK_URL)
        owner = await profile(client)
        browser = await client.linkedin_browsers.create(
            sender_profile_uuid=owner, external_id="gologin-1"
        )
        await client.linkedin_browsers.run(browser.id)
        assert (await client.linkedin_browsers.get(browser.id)).status == "login_issue"
        [issue] = received.events
        assert isinstance(issue, SenderProfileIssueEvent)
        assert issue.sender_profile is not None and issue.sender_profile.uuid == owner
        await client.linkedin_browsers.update(
            browser.id, linkedin_login="sam", linkedin_password="pw"
        )
        await client.linkedin_browsers.run(browser.id)
        running = await client.linkedin_browsers.get(browser.id)
        assert running.status == "running" and running.linkedin_account_uuid
        with pytest.raises(BadRequestError, match="already running"):
            await client.linkedin_browsers.run(browser.id)
        await client.linkedin_browsers.stop(browser.id, now=0)
        assert (await client.linkedin_browsers.get(browser.id)).status == "stopped"
        logs = [
            log
            async for log in client.browser_logs.list(filter={"linkedin_browser_id": browser.id})
        ]
        kinds = [log.additional_properties["type"] for log in logs]
        assert kinds.count("error") == 1 and len(logs) == 4

    async def test_proxies_and_sharing(self, client: AsyncGetSales) -> None:
        """Countries list; set, replace and check proxies; custom proxies are validated; share."""
        countries = await client.linkedin_browsers.list_proxy_countries()
        assert {c.additional_properties["code"] for c in countries.data} >= {"US", "DE"}
        browser = await client.linkedin_browsers.create(
            sender_profile_uuid=await profile(client), proxy_country_code="US"
        )
        first_proxy = (await client.linkedin_browsers.get(browser.id)).linkedin_proxy_id
        await client.linkedin_browsers.replace_getsales_proxy(browser.id)
        assert (await client.linkedin_browsers.get(browser.id)).linkedin_proxy_id != first_proxy
        await client.linkedin_browsers.set_proxy(
            browser.id, custom_proxy_config={"host": "p.example.com", "port": 3128}
        )
        with pytest.raises(BadRequestError):
            await client.linkedin_browsers.replace_getsales_proxy(browser.id)
        with pytest.raises(UnprocessableEntityError, match="failed"):
            await client.linkedin_browsers.check_proxy(
                custom_proxy_config={"host": "p.invalid", "port": 1}
            )
        checked = await client.linkedin_browsers.check_proxy(proxy_country_code="DE")
        assert checked.additional_properties["country_code"] == "DE"
        await client.linkedin_browsers.share(browser.id, recipients=["ops@acme.example"])
        assert (await client.linkedin_browsers.get(browser.id)).shared_emails == [
            "ops@acme.example"
        ]
