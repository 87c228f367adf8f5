"""The emulator's LinkedIn imports, enrichment, CSV exports and activity log, through the SDK."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from pathlib import Path

import httpx
import pytest

from getsales_async import (
    AsyncGetSales,
    NotFoundError,
    PaymentRequiredError,
    UnprocessableEntityError,
)
from getsales_async._export import LeadsCsvExport
from getsales_async.testing import GetSalesEmulator

from .emulator_fixtures import *  # noqa: F403
from .emulator_fixtures import HOOK_URL, Received, uuid_of

pytestmark = pytest.mark.anyio

SEARCH_URL = "https://www.linkedin.com/sales/search/people?query=cto"


async def contacts(client: AsyncGetSales, *nicks: str) -> tuple[str, list[str]]:
    """A list holding one contact per nickname: the list uuid and the contact uuids."""
    listed = uuid_of(await client.lists.create(name="Prospects"))
    leads = [
        uuid_of(
            await client.leads.upsert(
                lead={"linkedin_id": n, "first_name": n.title()}, list_uuid=listed
            )
        )
        for n in nicks
    ]
    return listed, leads


class TestDataSources:
    async def test_round_trip_and_status_on_the_clock(
        self, client: AsyncGetSales, emulator: GetSalesEmulator
    ) -> None:
        """Create (not_started), progress, pause, list by type, metrics, delete."""
        listed, _ = await contacts(client)
        source = await client.data_sources.create(
            type="sn_leads_search", list_uuid=listed, payload={"url": SEARCH_URL}, tags=["imported"]
        )
        assert source.status == "not_started"
        await emulator.advance(30)
        assert (await client.data_sources.get(uuid_of(source))).status == "in_progress"
        paused = await client.data_sources.update(uuid_of(source), status="on_hold")
        assert paused.status == "on_hold"
        await emulator.advance(600)
        assert (await client.data_sources.get(uuid_of(source))).status == "on_hold"
        await client.data_sources.update(uuid_of(source), status="in_progress")
        await emulator.advance(300)
        assert (await client.data_sources.get(uuid_of(source))).status == "completed"
        found = [
            uuid_of(s) async for s in client.data_sources.list(filter={"type": "sn_leads_search"})
        ]
        assert found == [uuid_of(source)]
        metrics = await client.data_sources.get_metrics(uuids=[uuid_of(source)])
        assert metrics.additional_properties[uuid_of(source)].saved_records == 0
        with pytest.raises(UnprocessableEntityError, match="url"):
            await client.data_sources.create(type="sn_leads_search", list_uuid=listed, payload={})
        await client.data_sources.delete(uuid_of(source))
        with pytest.raises(NotFoundError):
            await client.data_sources.get(uuid_of(source))


class TestEnrichment:
    async def test_queue_progresses_and_counts_credits(
        self, client: AsyncGetSales, emulator: GetSalesEmulator, received: Received
    ) -> None:
        """Enriching queues entries that finish on the clock; the month's count grows."""
        await client.webhooks.create(name="e", event="contact_enriched", target_url=HOOK_URL)
        listed, leads = await contacts(client, "ann", "bob")
        assert await client.enrichment.enrich_leads(filter={"list_uuid": listed}) is None
        entries = [e async for e in client.enrichment.list_queue()]
        assert [e.status for e in entries] == ["waiting", "waiting"]
        await emulator.advance(90)
        entry = await client.enrichment.get_queue_entry(entries[0].id)
        assert entry.status == "done" and entry.attempts == 1
        assert (await client.leads.get(leads[0])).linkedin_status == "ok"
        assert (await client.enrichment.get_queue_metrics()).this_month_count == 2
        assert received.names() == ["contact_enriched", "contact_enriched"]
        [company] = await client.companies.create(body={"name": "Acme", "domain": "acme.example"})
        assert (await client.enrichment.enrich_companies(uuids=[uuid_of(company)])).count == 1
        with pytest.raises(UnprocessableEntityError, match="No lead"):
            await client.enrichment.enrich_leads(uuids=["no-such-contact"])

    async def test_monthly_credit_limit_is_402(
        self, client: AsyncGetSales, emulator: GetSalesEmulator
    ) -> None:
        """More entries than the month's credits answers 402 payment_required."""
        _, leads = await contacts(client, "ann")
        emulator.state.teams[1]["credits"]["advanced_enrichment"] = 1
        await client.enrichment.enrich_leads(uuids=leads)
        with pytest.raises(PaymentRequiredError, match="credits"):
            await client.enrichment.enrich_leads(uuids=leads)


class TestExports:
    async def test_export_finishes_then_downloads_csv(
        self,
        client: AsyncGetSales,
        raw: httpx.AsyncClient,
        emulator: GetSalesEmulator,
        received: Received,
    ) -> None:
        """An export is queued, done on the clock, and its CSV holds the selected contacts."""
        await client.webhooks.create(name="x", event="contact_exported", target_url=HOOK_URL)
        _, leads = await contacts(client, "ann", "bob")
        export = await client.files.export_leads(filter={"ids": [leads[1]]})
        assert export.status == "queued" and export.result is None
        file_name = f"{uuid_of(export)}.csv"
        with pytest.raises(UnprocessableEntityError, match="not finished"):
            await client.files.download_export(file_name=file_name)
        await emulator.advance(5)
        rows = list(
            csv.DictReader(
                io.StringIO((await client.files.download_export(file_name=file_name)).decode())
            )
        )
        assert [row["uuid"] for row in rows] == [leads[1]] and rows[0]["first_name"] == "Bob"
        assert received.names() == ["contact_exported"]
        companies = await raw.post(
            "/leads/api/file-exports/companies", json={"filter": {"all": True}}
        )
        assert companies.json()["type"] == "account_export_csv"
        with pytest.raises(NotFoundError):
            await client.files.download_export(file_name="nothing.csv")

    async def test_contact_file_matches_the_sdk_export(
        self, client: AsyncGetSales, tmp_path: Path
    ) -> None:
        """A mass-action export file has the SDK export's columns and cells (same instants)."""
        listed = uuid_of(await client.lists.create(name="L"))
        await client.custom_fields.create(name="tier", object="lead")
        await client.leads.upsert(
            lead={"linkedin_id": "jdoe", "first_name": "=Jo", "tags": ["vip", "a"]},
            list_uuid=listed,
            custom_fields={"tier": "gold"},
        )
        done = await client.mass_actions.export_csv(filter={"all": True})
        (name,) = done.answers[0].body["result"]["files"]
        served = (await client.files.download_export(file_name=name)).decode()
        await LeadsCsvExport(client, tmp_path / "sdk.csv", filter={}).run()
        ours = list(csv.DictReader(io.StringIO(served)))
        theirs = list(csv.DictReader(io.StringIO((tmp_path / "sdk.csv").read_text("utf-8"))))
        assert list(ours[0]) == list(theirs[0]) and list(ours[0])[-1] == "cf:tier"
        for column in ("created_at", "updated_at"):
            for row in (ours[0], theirs[0]):
                row[column] = datetime.fromisoformat(row[column]).isoformat()
        assert ours == theirs and ours[0]["first_name"] == "'=Jo" and ours[0]["tags"] == "vip; a"

    async def test_queued_export_parses_in_the_sdk(self, client: AsyncGetSales) -> None:
        """A queued export (``result: null``) parses through the SDK."""
        export = await client.files.export_leads(filter={"all": True})
        assert export.status == "queued" and not export.result


class TestActivities:
    async def test_activities_are_logged_and_filtered(
        self, client: AsyncGetSales, emulator: GetSalesEmulator
    ) -> None:
        """Notes, replies and accepted connections are logged; filters select by contact and type."""
        _, (ann, bob) = await contacts(client, "ann", "bob")
        await client.sender_profiles.create(first_name="Sam", last_name="S", assignee_user_id=1)
        await client.notes.create(object="lead", object_uuid=ann, note="Called")
        await emulator.accept_connection(bob)
        await emulator.inject_reply(bob, "Hi!")
        kinds = [a.type_ async for a in client.activities.list(filter={"lead_uuid": bob})]
        assert sorted(kinds) == ["linkedin_connection_accepted", "linkedin_message_received"]
        notes = [a async for a in client.activities.list(filter={"type": "note_left"})]
        assert [a.object_uuid for a in notes] == [ann]
