"""Webhook delivery from the emulator to a receiver mounted from the SDK's ``WebhookReceiver``."""

from __future__ import annotations

import anyio
import httpx
import pytest

from getsales_async import AsyncGetSales, UnprocessableEntityError
from getsales_async.testing import GetSalesEmulator, VirtualClock
from getsales_async.testing.emulator import DEFAULT_API_KEY, serve
from getsales_async.webhooks import (
    ContactEvent,
    Event,
    LinkedInMessageEvent,
    UnknownEvent,
    WebhookReceiver,
)

from .emulator_fixtures import *  # noqa: F403
from .emulator_fixtures import HOOK_SECRET, HOOK_URL, Received, uuid_of

pytestmark = pytest.mark.anyio

SERVER_TIMEOUT_S = 10.0


async def hook(client: AsyncGetSales, event: str, **options: str) -> str:
    created = await client.webhooks.create(name=event, event=event, target_url=HOOK_URL, **options)
    return uuid_of(created)


async def new_contact(client: AsyncGetSales, **lead: object) -> str:
    listed = uuid_of(await client.lists.create(name=f"List {len(str(lead))}-{id(lead)}"))
    created = await client.leads.upsert(lead={"linkedin_id": "janedoe", **lead}, list_uuid=listed)
    return uuid_of(created)


class TestDelivery:
    async def test_contact_events_arrive_typed(
        self, client: AsyncGetSales, emulator: GetSalesEmulator, received: Received
    ) -> None:
        """Created, updated, tagged, staged and deleted contacts reach the receiver as ContactEvents."""
        for event in (
            "contact_created",
            "contact_updated",
            "contact_tag_added",
            "contact_pipeline_stage_changed",
            "contact_deleted",
        ):
            await hook(client, event)
        lead = await new_contact(client, first_name="Jane")
        await client.leads.update(lead, position="CTO")
        stage = [s async for s in client.pipeline_stages.list(filter={"object": "lead"})][1]
        await client.leads.mass_action(
            type="contact_change_pipeline_stage",
            filter={"ids": [lead]},
            payload={"pipeline_stage_uuid": uuid_of(stage)},
        )
        await client.leads.mass_action(
            type="contact_add_tags", filter={"ids": [lead]}, payload={"added_tags": ["vip"]}
        )
        await client.leads.delete(lead)
        assert received.names() == [
            "contact_created",
            "contact_updated",
            "contact_updated",
            "contact_pipeline_stage_changed",
            "contact_updated",
            "contact_tag_added",
            "contact_deleted",
        ]
        assert all(isinstance(e, ContactEvent) for e in received.events)
        staged = received.events[3]
        assert staged.contact is not None and staged.contact.pipeline_stage_name == stage.name
        assert received.events[5].contact is not None and received.events[5].contact.tags == (
            "vip",
        )
        assert [d.status for d in emulator.webhook_deliveries] == ["delivered"] * 7

    async def test_reply_arrives_with_message_sender_and_flow(
        self, client: AsyncGetSales, emulator: GetSalesEmulator, received: Received
    ) -> None:
        """An injected reply is delivered as a LinkedInMessageEvent naming the sender profile."""
        await hook(client, "contact_replied_linkedin_message")
        lead = await new_contact(client, first_name="Jane")
        sender = await client.sender_profiles.create(
            first_name="Sam", last_name="S", assignee_user_id=1
        )
        message = await emulator.inject_reply(lead, "Sounds good")
        [event] = received.events
        assert isinstance(event, LinkedInMessageEvent)
        assert event.linkedin_message is not None and event.linkedin_message.text == "Sounds good"
        assert event.linkedin_message.uuid == message["uuid"]
        assert event.sender_profile is not None and event.sender_profile.uuid == uuid_of(sender)
        assert event.contact is not None and event.contact.uuid == lead

    async def test_failed_deliveries_are_retried_then_given_up(
        self, client: AsyncGetSales, emulator: GetSalesEmulator, received: Received
    ) -> None:
        """A non-2xx answer is retried after 10, 60 and 300 s on the emulator's clock, then dropped."""
        await hook(client, "contact_created")
        received.fail_next = 2
        await new_contact(client)
        [delivery] = emulator.webhook_deliveries
        assert [a.status for a in delivery.attempts] == [500] and delivery.status == "pending"
        await emulator.advance(10)
        await emulator.advance(60)
        assert [a.status for a in delivery.attempts] == [500, 500, 200]
        assert [a.time for a in delivery.attempts] == [0.0, 10.0, 70.0]
        assert delivery.status == "delivered" and len(received.events) == 1
        received.fail_next = 10
        await new_contact(client, linkedin_id="someone-else")
        await emulator.advance(400)
        last = emulator.webhook_deliveries[-1]
        assert len(last.attempts) == 4 and last.status == "failed"

    async def test_method_status_and_token_are_honoured(
        self, client: AsyncGetSales, emulator: GetSalesEmulator, received: Received
    ) -> None:
        """request_method is used, webhooks that are off get nothing, a URL without the token 401s."""
        await hook(client, "contact_created", request_method="PUT")
        await hook(client, "contact_created", status="off")
        await client.webhooks.create(
            name="no token", event="contact_created", target_url="https://hooks.example/getsales"
        )
        await new_contact(client)
        deliveries = emulator.webhook_deliveries
        assert [(d.method, d.status) for d in deliveries] == [
            ("PUT", "delivered"),
            ("POST", "pending"),
        ]
        assert deliveries[1].attempts[0].status == 401 and len(received.events) == 1

    async def test_test_call_sends_a_sample_and_unknown_events_parse(
        self, client: AsyncGetSales, emulator: GetSalesEmulator, received: Received
    ) -> None:
        """The test call returns the receiver's answer; an unknown event name arrives as UnknownEvent."""
        webhook = await hook(client, "contact_created")
        await new_contact(client, first_name="Jane")
        result = await client.webhooks.test(
            uuid=webhook, event="contact_teleported", request_method="POST", target_url=HOOK_URL
        )
        assert result.additional_properties["status"] == 200
        event = received.events[-1]
        assert isinstance(event, UnknownEvent) and event.event_name == "contact_teleported"
        assert event.contact is not None and event.contact.first_name == "Jane"
        assert emulator.webhook_deliveries[-1].test
        with pytest.raises(UnprocessableEntityError):
            await client.webhooks.create(name="x", event="contact_created", target_url="ftp://x")


class TestBulkEvents:
    async def test_mass_delete_sends_what_delete_sends(
        self, client: AsyncGetSales, emulator: GetSalesEmulator, received: Received
    ) -> None:
        """contact_delete removes contacts with their notes and sends contact_deleted, as delete does."""
        await hook(client, "contact_deleted")
        one = await new_contact(client, first_name="One")
        two = await new_contact(client, linkedin_id="two", first_name="Two")
        for lead in (one, two):
            await client.notes.create(object="lead", object_uuid=lead, note="Called")
        await client.leads.delete(one)
        await client.mass_actions.delete(reason="cleanup", uuids=[two])
        assert received.names() == ["contact_deleted", "contact_deleted"]
        deleted = [
            e.contact.uuid for e in received.events if isinstance(e, ContactEvent) and e.contact
        ]
        assert deleted == [one, two]
        assert emulator.state.leads == {} and emulator.state.notes == {}

    async def test_file_import_rows_send_upsert_events(
        self,
        client: AsyncGetSales,
        raw: httpx.AsyncClient,
        emulator: GetSalesEmulator,
        received: Received,
    ) -> None:
        """Each imported row is an upsert: contact_created for a new one, contact_updated for a match."""
        for event in ("contact_created", "contact_updated"):
            await hook(client, event)
        listed = uuid_of(await client.lists.create(name="In"))
        await client.leads.upsert(lead={"work_email": "old@x.io"}, list_uuid=listed)
        files = {"file": ("in.csv", b"email\nold@x.io\nnew@x.io\n", "text/csv")}
        upload = await raw.post(
            "/leads/api/file-imports/upload-csv", files=files, data={"type": "csv_leads"}
        )
        started = await raw.post(
            f"/leads/api/file-imports/{upload.json()['uuid']}/import-leads",
            json={"columns": {"work_email": 0}, "list_uuid": listed},
        )
        assert started.status_code == 200
        await emulator.advance(1)
        assert received.names() == ["contact_created", "contact_updated", "contact_created"]
        created = [e for e in received.events if e.event_name == "contact_created"]
        assert [e.contact.work_email for e in created if e.contact] == ["old@x.io", "new@x.io"]


class TestOverLoopback:
    async def test_receiver_on_a_port_gets_deliveries(self, anyio_backend: str) -> None:
        """Over real HTTP: the emulator POSTs to a WebhookReceiver served by uvicorn."""
        if anyio_backend != "asyncio":
            pytest.skip("uvicorn serves on asyncio; the receiver itself is covered on trio above")
        events: list[Event] = []

        async def handler(event: Event) -> None:
            events.append(event)

        receiver = WebhookReceiver(handler, secret=HOOK_SECRET)
        emulator = GetSalesEmulator(quota=None, clock=VirtualClock())
        with anyio.fail_after(SERVER_TIMEOUT_S):
            async with anyio.create_task_group() as tg:
                url = await tg.start(serve, receiver)
                async with AsyncGetSales(
                    api_key=DEFAULT_API_KEY,
                    base_url="http://emulator",
                    transport=emulator.transport(),
                ) as client:
                    await client.webhooks.create(
                        name="c",
                        event="contact_created",
                        target_url=receiver.target_url(f"{url}/hooks"),
                    )
                    await new_contact(client)
                tg.cancel_scope.cancel()
        assert [e.event_name for e in events] == ["contact_created"]
