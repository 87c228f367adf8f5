"""The emulator's sender profiles, mailboxes, LinkedIn messages, e-mails and analytics."""

from __future__ import annotations

import pytest

from getsales_async import (
    AsyncGetSales,
    MailboxCheckFailedError,
    NotFoundError,
    UnprocessableEntityError,
)
from getsales_async.testing import GetSalesEmulator

from .emulator_fixtures import *  # noqa: F403
from .emulator_fixtures import HOOK_URL, Received, uuid_of

pytestmark = pytest.mark.anyio

SMTP = {"smtp_host": "smtp.acme.example", "smtp_port": 587, "smtp_password": "hunter22"}


async def setup(client: AsyncGetSales) -> tuple[str, str, str]:
    """A sender profile with a mailbox, and a contact: their uuids."""
    profile = uuid_of(
        await client.sender_profiles.create(
            first_name="Sam", last_name="Seller", assignee_user_id=1
        )
    )
    mailbox = await client.mailboxes.connect_smtp_imap(
        email="sam@acme.example",
        sender_name="Sam",
        sender_profile_uuid=profile,
        connection_settings=SMTP,
    )
    listed = uuid_of(await client.lists.create(name="Prospects"))
    lead = await client.leads.upsert(
        lead={"linkedin_id": "janedoe", "first_name": "Jane", "work_email": "jane@acme.example"},
        list_uuid=listed,
    )
    return profile, uuid_of(mailbox), uuid_of(lead)


class TestSenderProfiles:
    async def test_round_trip(self, client: AsyncGetSales) -> None:
        """Create (enabled), get, list by q, update, delete (its mailbox goes too)."""
        profile, mailbox, _ = await setup(client)
        assert (await client.sender_profiles.get(profile)).status == "enabled"
        assert (await client.sender_profiles.get(profile)).mailbox_uuid == mailbox
        other = await client.sender_profiles.create(
            first_name="Ola", last_name="Nord", assignee_user_id=1
        )
        found = [uuid_of(p) async for p in client.sender_profiles.list(filter={"q": "ola"})]
        assert found == [uuid_of(other)]
        updated = await client.sender_profiles.update(profile, label="EMEA")
        assert updated.label == "EMEA"
        with pytest.raises(UnprocessableEntityError, match="assignee_user_id"):
            await client.sender_profiles.create(first_name="A", last_name="B", assignee_user_id=99)
        await client.sender_profiles.delete(profile)
        with pytest.raises(NotFoundError):
            await client.mailboxes.get(mailbox)

    async def test_connect_external_browser_and_metrics(self, client: AsyncGetSales) -> None:
        """connect-external creates a profile with a running browser (reused by name); metrics count."""
        first = await client.sender_profiles.connect_external_browser(
            first_name="Mia", last_name="Roe"
        )
        again = await client.sender_profiles.connect_external_browser(
            first_name="Mia", last_name="Roe"
        )
        created = first.additional_properties["sender_profile"]["uuid"]
        assert again.additional_properties["sender_profile"]["uuid"] == created
        assert first.additional_properties["linkedin_browser"]["status"] == "running"
        metrics = await client.sender_profiles.get_metrics(extra_body={"uuids": [created]})
        assert metrics.additional_properties[created]["linkedin_browser_status"] == "running"


class TestMailboxes:
    async def test_round_trip_and_connection_checks(self, client: AsyncGetSales) -> None:
        """Connect (433 when SMTP fails), get (passwords masked), list, deactivate, activate, delete."""
        profile, mailbox, _ = await setup(client)
        shown = await client.mailboxes.get(mailbox)
        assert shown.status == "active" and "hunter22" not in str(shown.connection_settings)
        with pytest.raises(MailboxCheckFailedError):
            await client.mailboxes.connect_smtp_imap(
                email="x@acme.example",
                sender_name="X",
                sender_profile_uuid=profile,
                connection_settings={"smtp_host": "smtp.acme.invalid"},
            )
        assert [uuid_of(m) async for m in client.mailboxes.list(filter={"q": "sam@"})] == [mailbox]
        assert (await client.mailboxes.deactivate(mailbox)).status == "inactive"
        assert (await client.mailboxes.activate(mailbox)).status == "active"
        reconnected = await client.mailboxes.reconnect_to_smtp(mailbox, provider="zoho")
        assert reconnected.provider == "zoho"
        await client.mailboxes.delete(mailbox, automation_reassign_mailboxes=False)
        assert [m async for m in client.mailboxes.list()] == []


class TestLinkedinMessages:
    async def test_message_progresses_on_the_clock(
        self, client: AsyncGetSales, emulator: GetSalesEmulator, received: Received
    ) -> None:
        """A sent message goes new → in_progress → done; webhooks get it once sent."""
        profile, _, lead = await setup(client)
        await client.webhooks.create(
            name="s", event="sender_profile_sent_linkedin_inmail", target_url=HOOK_URL
        )
        message = await client.linkedin_messages.send(
            sender_profile_uuid=profile, lead_uuid=lead, text="Hello", subject="Quick question"
        )
        assert (message.status, message.linkedin_type, message.type_) == ("new", "InMail", "outbox")
        seen = []
        for step in (9, 1, 19, 1):
            await emulator.advance(step)
            seen += [
                m.status async for m in client.linkedin_messages.list(filter={"lead_uuid": lead})
            ]
        assert seen == ["new", "in_progress", "in_progress", "done"]
        assert received.names() == ["sender_profile_sent_linkedin_inmail"]
        with pytest.raises(UnprocessableEntityError, match="8000"):
            await client.linkedin_messages.send(
                sender_profile_uuid=profile, lead_uuid=lead, text="x" * 8001
            )

    async def test_group_counts_and_metrics_follow_stored_messages(
        self, client: AsyncGetSales, emulator: GetSalesEmulator
    ) -> None:
        """Group counts and lead metrics are computed from the messages (replies unread)."""
        profile, _, lead = await setup(client)
        for text in ("one", "two"):
            await client.linkedin_messages.send(
                sender_profile_uuid=profile, lead_uuid=lead, text=text
            )
        await emulator.advance(30)
        await emulator.inject_reply(lead, "Sounds good, let's talk")
        counts = await client.linkedin_messages.get_group_counts(group_field="type")
        assert counts.additional_properties == {"outbox": 2, "inbox": 1}
        metrics = await client.analytics.get_lead_metrics(
            metrics=[
                "linkedin_sent_count",
                "linkedin_inbox_count",
                "linkedin_positive_count",
                "unread_count",
            ],
            group_by="sender_profiles",
        )
        assert metrics.total.additional_properties == {
            "linkedin_sent_count": 2,
            "linkedin_inbox_count": 1,
            "linkedin_positive_count": 1,
            "unread_count": 1,
        }
        assert (
            metrics.metrics.additional_properties[profile].additional_properties[
                "linkedin_sent_count"
            ]
            == 2
        )
        with pytest.raises(UnprocessableEntityError, match="Unknown"):
            await client.analytics.get_lead_metrics(metrics=["happiness_count"])


class TestEmails:
    async def test_send_get_list_and_progress(
        self, client: AsyncGetSales, emulator: GetSalesEmulator, received: Received
    ) -> None:
        """An e-mail answers waiting, is sent on the clock, reads back with its body."""
        _, mailbox, lead = await setup(client)
        await client.webhooks.create(
            name="e", event="sender_profile_sent_email", target_url=HOOK_URL
        )
        result = await client.emails.send(
            mailbox_uuid=mailbox,
            to=[{"to_email": "jane@acme.example", "to_name": "Jane"}],
            subject="Hello",
            body="<p>Hi Jane</p>",
        )
        assert result.status == "waiting" and result.lead_uuid == lead
        assert result.email_body_domain.body == "<p>Hi Jane</p>"
        await emulator.advance(30)
        email = await client.emails.get(uuid_of(result))
        assert email.status == "sent" and email.additional_properties["body"] == "<p>Hi Jane</p>"
        day = str(email.sent_at)[:10]
        assert [uuid_of(e) async for e in client.emails.list(filter={"sent_at": day})] == [
            uuid_of(email)
        ]
        assert [e async for e in client.emails.list(filter={"sent_at": "1999-01-01"})] == []
        assert received.names() == ["sender_profile_sent_email"]
        with pytest.raises(UnprocessableEntityError, match="recipient"):
            await client.emails.send(mailbox_uuid=mailbox, subject="No one")

    async def test_email_reply_and_events(
        self, client: AsyncGetSales, emulator: GetSalesEmulator, received: Received
    ) -> None:
        """An injected e-mail reply and e-mail events are stored, counted and delivered."""
        profile, _, lead = await setup(client)
        for event in ("contact_replied_email", "email_bounced"):
            await client.webhooks.create(name=event, event=event, target_url=HOOK_URL)
        sent = await client.emails.send(
            sender_profile_uuid=profile, to_email="jane@acme.example", subject="Hi"
        )
        await emulator.advance(30)
        reply = await emulator.inject_reply(lead, "Not interested", channel="email")
        assert reply["replied_to_uuid"] == uuid_of(sent) and reply["type"] == "inbox"
        await emulator.inject_email_event(uuid_of(sent), "bounced")
        assert (await client.emails.get(uuid_of(sent))).status == "bounced"
        metrics = await client.analytics.get_lead_metrics(
            metrics=["email_sent_count", "email_inbox_count", "email_bounced_count"]
        )
        assert metrics.total.additional_properties == {
            "email_sent_count": 1,
            "email_inbox_count": 1,
            "email_bounced_count": 1,
        }
        assert received.names() == ["contact_replied_email", "email_bounced"]
