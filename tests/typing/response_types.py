"""Reading responses needs no narrowing helper (checked with ``mypy --strict``, never run in tests).

Identifiers are plain ``str``/``int`` and go straight back into the next call; optional fields are
``X | None`` and read with a plain truth test; map-shaped fields are mappings. No ``isinstance``,
``cast``, ``assert`` or ``str(...)`` around anything the API returned.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import assert_type

import anyio

from getsales_async import AsyncGetSales
from getsales_async.models import (
    ContactList,
    FlowNodeStatistics,
    FlowNodeStatisticsNodeConversions,
    Lead,
    LeadSearchResult,
    Team,
    TeamFeatures,
)


async def ids_pass_straight_through(client: AsyncGetSales, flow_uuid: str) -> list[str]:
    """Create a list, fetch it by its uuid, upsert into it, search it, enrol what was found."""
    crm = await client.lists.create(name="CRM import")
    assert_type(crm.uuid, str)
    again = await client.lists.get(crm.uuid)
    assert_type(again, ContactList)
    lead = await client.leads.upsert(
        lead={"first_name": "Ann", "linkedin_id": "ann-lee"}, list_uuid=crm.uuid
    )
    await client.flow_leads.add(flow_uuid, lead.uuid)
    names: list[str] = []
    async for item in client.leads.search(filter={"list_uuid": crm.uuid}):
        assert_type(item, LeadSearchResult)
        assert_type(item.lead, Lead)
        if item.lead.name:
            names.append(item.lead.name.title())
        await client.leads.update(item.lead.uuid, headline="CTO")
    return names


def describe(lead: Lead) -> str:
    """Optional fields are `X | None`: a truth test is all it takes."""
    assert_type(lead.uuid, str)
    assert_type(lead.name, str | None)
    assert_type(lead.created_at, datetime.datetime | None)
    parts = [lead.uuid]
    if lead.name:
        parts.append(lead.name.upper())
    if lead.created_at:
        parts.append(str(lead.created_at.year))
    if lead.experience:
        parts.extend(job.title or "?" for job in lead.experience)
    parts.append(lead.work_email or "no email")
    return " ".join(parts)


async def team_limits(client: AsyncGetSales) -> dict[int, int | None]:
    """Integer ids are plain `int`; a nested object that may be null is `Model | None`."""
    limits: dict[int, int | None] = {}
    async for team in client.teams.list():
        assert_type(team, Team)
        assert_type(team.id, int)
        assert_type(team.features, TeamFeatures | None)
        limits[team.id] = team.features.contacts if team.features else None
    return limits


async def conversions(client: AsyncGetSales, flow_uuid: str) -> dict[str, int]:
    """Map-shaped fields are mappings (`[]` from the API arrives as an empty one)."""
    stats = await client.flows.get_node_statistics(flow_uuid, node_ids=[1, 2])
    totals: dict[str, int] = {}
    for node_id, node in stats.items():
        assert_type(node_id, str)
        assert_type(node, FlowNodeStatistics)
        assert_type(node.node_conversions, FlowNodeStatisticsNodeConversions | None)
        counts: Mapping[str, int] = node.node_conversions or {}
        for kind, count in counts.items():
            totals[kind] = totals.get(kind, 0) + count
    return totals


async def main() -> None:
    async with AsyncGetSales(api_key="key") as client:
        print(await ids_pass_straight_through(client, "flow-uuid"))
        print(await team_limits(client), await conversions(client, "flow-uuid"))
        print(describe(await client.leads.get("lead-uuid")))


if __name__ == "__main__":
    anyio.run(main)
