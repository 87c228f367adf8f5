"""GetSalesEmulator.seed_leads: many contacts at once, stored as an upsert would store them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from getsales_async import AsyncGetSales
from getsales_async.testing import GetSalesEmulator

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class TestSeedLeads:
    def test_a_count_seeds_distinct_contacts_in_created_at_order(self) -> None:
        """seed_leads(n) adds n contacts with unique identifiers, spaced in time, ending now."""
        emulator = GetSalesEmulator()
        uuids = emulator.seed_leads(500)
        leads = [emulator.state.leads[u] for u in uuids]
        stamps = [lead["created_at"] for lead in leads]
        assert len({lead["work_email"] for lead in leads}) == 500 and stamps == sorted(stamps)
        assert len(set(stamps)) == 500
        [seeded_list] = emulator.state.lists.values()
        assert seeded_list["name"] == "Seeded contacts" and {
            lead["list_uuid"] for lead in leads
        } == {seeded_list["uuid"]}

    def test_given_contacts_keep_their_fields_tags_and_custom_fields(self) -> None:
        """Mappings are stored as upsert stores them: LinkedIn classified, tags by name, custom values."""
        emulator = GetSalesEmulator()
        field = emulator.state.create(
            emulator.state.custom_fields, 1, {"name": "segment", "object": "lead", "order": 1}
        )
        start = datetime(2025, 3, 1, tzinfo=UTC)
        [uid] = emulator.seed_leads(
            [
                {
                    "first_name": "Ann",
                    "last_name": "Lee",
                    "linkedin_id": "ann-lee",
                    "tags": ["vip"],
                    "custom_fields": {"Segment": "ent"},
                }
            ],
            start=start,
        )
        lead = emulator.state.leads[uid]
        assert (lead["name"], lead["linkedin"], lead["created_at"]) == (
            "Ann Lee",
            "https://www.linkedin.com/in/ann-lee",
            "2025-03-01T00:00:00.000000Z",
        )
        assert [emulator.state.tags[t]["name"] for t in lead["tags"]] == ["vip"]
        assert lead["_custom_fields"] == {field["uuid"]: "ent"}

    def test_later_seeds_come_after_existing_contacts(self) -> None:
        """Default timestamps never precede the team's newest contact, so created_at order holds."""
        emulator = GetSalesEmulator()
        emulator.seed_leads(10, spacing=3600.0)  # ends now
        emulator.seed_leads([{"work_email": "late@x.example"}], spacing=60.0)
        stamps = [lead["created_at"] for lead in emulator.state.leads.values()]
        assert stamps == sorted(stamps) and len(set(stamps)) == 11

    @pytest.mark.parametrize(
        ("kwargs", "needle"),
        [
            ({"leads": [{"nickname": "x"}]}, "not contact fields: nickname"),
            (
                {"leads": [{"work_email": "a@x", "custom_fields": {"nope": 1}}]},
                "no contact custom field named 'nope'",
            ),
            ({"leads": 1, "list_uuid": "missing"}, "no list 'missing'"),
            ({"leads": 1, "team_id": 9}, "no team 9"),
            ({"leads": 1, "spacing": 0}, "spacing must be positive"),
            ({"leads": -1}, "cannot seed -1"),
        ],
    )
    def test_mistakes_are_value_errors(self, kwargs: dict[str, object], needle: str) -> None:
        """Unknown fields, custom fields, lists or teams, and bad counts or spacing are refused."""
        with pytest.raises(ValueError, match=needle):
            GetSalesEmulator().seed_leads(**kwargs)  # type: ignore[arg-type]

    async def test_seeded_contacts_are_searchable_and_deduplicated(self) -> None:
        """The API sees seeded contacts: search finds them, an upsert of one updates it."""
        emulator = GetSalesEmulator()
        emulator.seed_leads(120)
        async with AsyncGetSales(
            api_key="emulator-key", base_url="http://emulator", transport=emulator.transport()
        ) as client:
            found = [
                item async for item in client.leads.search(filter={"q": "seed7@seed7.example"})
            ]
            [lst] = [lst async for lst in client.lists.list()]
            await client.leads.upsert(
                lead={"work_email": "seed7@seed7.example"}, list_uuid=str(lst.uuid)
            )
        assert len(found) == 1 and len(emulator.state.leads) == 120
        assert [e.outcome for e in emulator.state.upserts] == ["updated"]

    async def test_webhook_work_only_when_a_webhook_listens(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """No webhook: no event is even looked up per contact; a contact_created webhook: one each."""
        emulator = GetSalesEmulator(
            webhook_transport=httpx.MockTransport(lambda r: httpx.Response(200))
        )
        emitted: list[str] = []
        original = emulator.state.outbox.emit

        def counting(team_id: int, event_name: str, **context: Any) -> None:
            emitted.append(event_name)
            original(team_id, event_name, **context)

        monkeypatch.setattr(emulator.state.outbox, "emit", counting)
        emulator.seed_leads(1_000)
        assert emitted == []
        async with httpx.AsyncClient(
            base_url="http://emulator",
            transport=emulator.transport(),
            headers={"Authorization": "Bearer emulator-key"},
        ) as http:
            hook = {"name": "n", "event": "contact_created", "target_url": "https://hooks.example/"}
            assert (await http.post("/integrations/api/webhooks", json=hook)).status_code == 201
            emulator.seed_leads(3)
            await emulator.advance(0)
        assert emitted == ["contact_created"] * 3
        assert [d.status for d in emulator.webhook_deliveries] == ["delivered"] * 3
