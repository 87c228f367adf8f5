"""The emulator's flows, versions, flow leads, workspaces and tasks, through the SDK."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from getsales_async import AsyncGetSales, NotFoundError, UnprocessableEntityError
from getsales_async.testing import GetSalesEmulator

from .emulator_fixtures import *  # noqa: F403
from .emulator_fixtures import HOOK_URL, SCHEDULE, Received, uuid_of

pytestmark = pytest.mark.anyio


def node(node_id: int, kind: str, after: int | None, **extra: Any) -> dict[str, Any]:
    """A flow node with linear edges (branch 0)."""
    before = [{"node_id": node_id - 1, "branch_id": 0}] if node_id > 1 else []
    after_edges = [{"node_id": after, "branch_id": 0}] if after is not None else []
    return {"id": node_id, "type": kind, "before": before, "after": after_edges, **extra}


MESSAGE_FLOW = [
    node(1, "linkedin_send_message", 2, payload={"template": "Hi {{first_name}}"}),
    node(2, "util_timer", 3, delay_in_seconds=3600),
    node(3, "end", None),
]


async def sender(client: AsyncGetSales, first_name: str = "Sam") -> str:
    profile = await client.sender_profiles.create(
        first_name=first_name, last_name="Seller", assignee_user_id=1
    )
    return uuid_of(profile)


async def contact(client: AsyncGetSales, nick: str = "janedoe") -> str:
    listed = await client.lists.create(name=f"List {nick}")
    lead = await client.leads.upsert(
        lead={"linkedin_id": nick, "first_name": "Jane"}, list_uuid=uuid_of(listed)
    )
    return uuid_of(lead)


async def running_flow(
    client: AsyncGetSales, profile: str, nodes: list[dict[str, Any]] = MESSAGE_FLOW
) -> str:
    flow = await client.flows.create(name="Outreach", use_sender_schedule=False, schedule=SCHEDULE)
    source = {"id": 1, "sender_profiles": [profile], "after_id": nodes[0]["id"]}
    await client.flows.create_version(uuid_of(flow), nodes=nodes, contact_sources=[source])
    await client.flows.start(uuid_of(flow))
    return uuid_of(flow)


class TestFlowWorkspaces:
    async def test_round_trip_and_delete_archives_flows(self, client: AsyncGetSales) -> None:
        """Create, list, rename and delete a folder; its flows are archived, not deleted."""
        folder = await client.flow_workspaces.create(name="Q1")
        flow = await client.flows.create(
            name="F",
            use_sender_schedule=True,
            schedule=SCHEDULE,
            flow_workspace_uuid=uuid_of(folder),
        )
        renamed = await client.flow_workspaces.update(uuid_of(folder), name="Q2")
        assert renamed.name == "Q2"
        assert [uuid_of(f) async for f in client.flow_workspaces.list()] == [uuid_of(folder)]
        with pytest.raises(UnprocessableEntityError):
            await client.flow_workspaces.create(name="q2")
        await client.flow_workspaces.delete(uuid_of(folder))
        kept = await client.flows.get(uuid_of(flow))
        assert kept.status == "archived" and not kept.flow_workspace_uuid


class TestFlows:
    async def test_round_trip(self, client: AsyncGetSales) -> None:
        """Create (draft, with a first version), get, list by status, update, delete."""
        flow = await client.flows.create(
            name="Outreach", use_sender_schedule=True, schedule=SCHEDULE
        )
        assert flow.status == "draft" and flow.priority == 2 and flow.flow_version_uuid
        other = await client.flows.create(name="Other", use_sender_schedule=True, schedule=SCHEDULE)
        await client.flows.archive(uuid_of(other))
        drafts = [uuid_of(f) async for f in client.flows.list(filter={"status": "draft"})]
        assert drafts == [uuid_of(flow)]
        updated = await client.flows.update(uuid_of(flow), name="Renamed", priority=5)
        assert (updated.name, updated.priority) == ("Renamed", 5)
        assert (await client.flows.get(uuid_of(flow))).name == "Renamed"
        await client.flows.delete(uuid_of(flow))
        with pytest.raises(NotFoundError):
            await client.flows.get(uuid_of(flow))

    async def test_status_machine(self, client: AsyncGetSales) -> None:
        """start needs a sender in a contact source; stop pauses; an archived flow cannot start."""
        flow = await client.flows.create(name="F", use_sender_schedule=True, schedule=SCHEDULE)
        with pytest.raises(UnprocessableEntityError, match="sender profile"):
            await client.flows.start(uuid_of(flow))
        source = {"id": 1, "sender_profiles": [await sender(client)], "after_id": 1}
        await client.flows.create_version(
            uuid_of(flow), nodes=MESSAGE_FLOW, contact_sources=[source]
        )
        assert (await client.flows.start(uuid_of(flow))).status == "on"
        assert (await client.flows.stop(uuid_of(flow))).status == "off"
        assert (await client.flows.archive(uuid_of(flow))).status == "archived"
        with pytest.raises(UnprocessableEntityError, match="archived"):
            await client.flows.start(uuid_of(flow))

    async def test_contact_runs_through_the_flow_on_the_clock(
        self, client: AsyncGetSales, emulator: GetSalesEmulator, received: Received
    ) -> None:
        """Adding a contact creates a task; it sends a message that progresses; the flow finishes."""
        profile, lead = await sender(client), await contact(client)
        await client.webhooks.create(
            name="sent", event="sender_profile_sent_linkedin_message", target_url=HOOK_URL
        )
        flow = await running_flow(client, profile)
        await client.flow_leads.add(flow, lead)
        [enrolled] = [f async for f in client.flow_leads.list(filter={"flow_uuid": [flow]})]
        assert enrolled.status == "in_progress" and enrolled.sender_profile_uuid == profile
        await emulator.advance(0)
        [message] = [m async for m in client.linkedin_messages.list(filter={"lead_uuid": lead})]
        assert (message.status, message.text) == ("new", "Hi Jane")
        await emulator.advance(10)
        assert [m.status async for m in client.linkedin_messages.list()] == ["in_progress"]
        await emulator.advance(20)
        assert [m.status async for m in client.linkedin_messages.list()] == ["done"]
        assert received.names() == ["sender_profile_sent_linkedin_message"]
        await emulator.advance(3600)
        metrics = await client.flows.get_metrics(uuids=[flow])
        assert metrics.additional_properties[flow].finished_leads_count == 1
        tasks = [t async for t in client.tasks.list(filter={"flow_uuid": flow})]
        assert sorted(t.type_ for t in tasks) == ["linkedin_send_message", "util_timer"]
        assert {t.status for t in tasks} == {"closed"}

    async def test_stopped_flow_holds_its_tasks(
        self, client: AsyncGetSales, emulator: GetSalesEmulator
    ) -> None:
        """While a flow is off its due tasks wait; starting it again runs them."""
        profile, lead = await sender(client), await contact(client)
        nodes = [{**MESSAGE_FLOW[0], "delay_in_seconds": 30}, *MESSAGE_FLOW[1:]]
        flow = await running_flow(client, profile, nodes)
        await client.flows.stop(flow)
        with pytest.raises(UnprocessableEntityError, match="start it first"):
            await client.flow_leads.add(flow, lead)
        await client.flows.start(flow)
        await client.flow_leads.add(flow, lead)
        await client.flows.stop(flow)
        await emulator.advance(60)
        assert [m async for m in client.linkedin_messages.list()] == []
        await client.flows.start(flow)
        assert len([m async for m in client.linkedin_messages.list()]) == 1

    async def test_metrics_and_node_statistics_count_stored_state(
        self, client: AsyncGetSales, emulator: GetSalesEmulator
    ) -> None:
        """Flow metrics and node statistics are computed from flow leads and tasks."""
        profile = await sender(client)
        flow = await running_flow(client, profile)
        for nick in ("ann", "bob"):
            await client.flow_leads.add(flow, await contact(client, nick))
        await emulator.advance(1)
        metrics = (await client.flows.get_metrics(uuids=[flow])).additional_properties[flow]
        assert (metrics.leads_count, metrics.in_progress_leads_count) == (2, 2)
        assert metrics.task_counts.additional_properties == {"util_timer": 2}
        stats = await client.flows.get_node_statistics(flow, node_ids=[1, 2])
        first = stats.additional_properties["1"]
        assert first.node_statuses.additional_properties == {"closed": 2}


class TestFlowLeads:
    async def test_add_new_lead_then_skip_when_it_exists(
        self, client: AsyncGetSales, emulator: GetSalesEmulator
    ) -> None:
        """add-new-lead upserts and enrols (204); later, skip_if_lead_exists answers skipped."""
        flow = await running_flow(client, await sender(client))
        listed = uuid_of(await client.lists.create(name="New"))
        lead = {"linkedin_id": "newbie", "first_name": "New"}
        assert await client.flow_leads.add_new(flow, lead=lead, list_uuid=listed) is None
        await emulator.advance(11)
        skipped = await client.flow_leads.add_new(
            flow, lead=lead, list_uuid=listed, skip_if_lead_exists=True
        )
        assert skipped is not None and skipped.reason == "skipped"
        assert len([f async for f in client.flow_leads.list()]) == 1

    async def test_cancel_cancel_all_and_remove(
        self, client: AsyncGetSales, emulator: GetSalesEmulator
    ) -> None:
        """Cancelling ends the contact's runs and open tasks; removing deletes its history."""
        profile, lead = await sender(client), await contact(client)
        one, two = await running_flow(client, profile), await running_flow(client, profile)
        for flow in (one, two):
            await client.flow_leads.add(flow, lead)
        await client.flow_leads.cancel(lead, flow_uuids=[one])
        statuses = {f.flow_uuid: f.status async for f in client.flow_leads.list()}
        assert statuses == {one: "canceled", two: "in_progress"}
        await client.flow_leads.cancel_all(lead)
        assert {f.status async for f in client.flow_leads.list()} == {"canceled"}
        assert "in_progress" not in {t.status async for t in client.tasks.list()}
        await client.flow_leads.remove(lead)
        assert [f async for f in client.flow_leads.list()] == []


class TestFlowVersions:
    async def test_versions_round_trip_and_validation(self, client: AsyncGetSales) -> None:
        """Versions list newest first; the running flow's active one cannot be deleted."""
        flow = await running_flow(client, await sender(client))
        versions = [v async for v in client.flows.list_versions(flow)]
        assert len(versions) == 2 and len(versions[0].nodes or []) == 3
        active, first = uuid_of(versions[0]), uuid_of(versions[1])
        assert (await client.flows.get(flow)).flow_version_uuid == active
        assert uuid_of(await client.flows.get_version(first)) == first
        with pytest.raises(UnprocessableEntityError, match="active version"):
            await client.flows.delete_version(active)
        await client.flows.delete_version(first)
        with pytest.raises(NotFoundError):
            await client.flows.get_version(first)
        with pytest.raises(UnprocessableEntityError, match="contact sources"):
            await client.flows.create_version(flow, nodes=MESSAGE_FLOW, contact_sources=[])

    async def test_validate_node_and_contact_source(self, client: AsyncGetSales) -> None:
        """A valid node passes (None); an unknown type or a missing sender profile is 422."""
        assert (
            await client.flows.validate_node(id=1, type="util_timer", before=[], after=[]) is None
        )
        with pytest.raises(UnprocessableEntityError, match="Unknown node type"):
            await client.flows.validate_node(id=1, type="teleport", before=[], after=[])
        assert await client.flows.validate_contact_source(id=1) is None
        with pytest.raises(UnprocessableEntityError, match="does not exist"):
            await client.flows.validate_contact_source(id=1, options={"sender_profiles": ["nope"]})


class TestTasks:
    async def test_manual_task_completes_and_moves_the_contact_on(
        self, client: AsyncGetSales, emulator: GetSalesEmulator
    ) -> None:
        """A custom node's task waits; complete closes it and the next node's task appears."""
        nodes = [
            node(1, "custom", 2),
            node(2, "util_timer", 3, delay_in_seconds=60),
            node(3, "end", None),
        ]
        profile, lead = await sender(client), await contact(client)
        flow = await running_flow(client, profile, nodes)
        await client.flow_leads.add(flow, lead)
        await emulator.advance(600)
        [manual] = [t async for t in client.tasks.list(filter={"automation": "manual"})]
        assert manual.status == "in_progress" and manual.type_ == "custom"
        assert (await client.tasks.get(uuid_of(manual))).flow_node_id == 1
        await client.tasks.complete(uuid_of(manual))
        with pytest.raises(UnprocessableEntityError):
            await client.tasks.cancel(uuid_of(manual))
        schedule = await client.tasks.get_schedule(
            sender_profile_uuid=profile, date=datetime.date(2025, 1, 1)
        )
        assert len(schedule.additional_properties["00:00"]) == 1
        await emulator.advance(60)
        metrics = await client.tasks.get_metrics()
        assert metrics.additional_properties["by_status"] == {"closed": 2}
        [done] = [f async for f in client.flow_leads.list()]
        assert done.status == "finished"

    async def test_cancel_open_task_and_automatic_tasks_cannot_complete(
        self, client: AsyncGetSales
    ) -> None:
        """cancel works on open tasks; complete refuses automatic ones."""
        profile, lead = await sender(client), await contact(client)
        nodes = [node(1, "util_timer", 2, delay_in_seconds=3600), node(2, "end", None)]
        flow = await running_flow(client, profile, nodes)
        await client.flow_leads.add(flow, lead)
        [task] = [t async for t in client.tasks.list()]
        with pytest.raises(UnprocessableEntityError, match="manual"):
            await client.tasks.complete(uuid_of(task))
        await client.tasks.cancel(uuid_of(task))
        assert (await client.tasks.get(uuid_of(task))).status == "canceled"
