"""search_all past the 10,000-row window, and CSV exports that resume and re-import."""

from __future__ import annotations

import csv
import uuid
from collections.abc import AsyncIterator
from contextlib import aclosing, asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import anyio
import pytest

from getsales_async import (
    ArgumentError,
    AsyncGetSales,
    LeadRow,
    LeadsCsvExport,
    PaginationWindowError,
    RateLimit,
    SweepCheckpoint,
    read_leads_csv,
)
from getsales_async.testing import FaultConfig, GetSalesEmulator, VirtualClock

pytestmark = pytest.mark.anyio

FAST = RateLimit(requests=10_000_000, period=60.0, burst=1_000)
SEGMENTS = ("ent", "mid", "=smb")  # one value a spreadsheet would run as a formula


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def emulator(**kwargs: Any) -> GetSalesEmulator:
    key = f"key-{uuid.uuid4().hex}"
    made = GetSalesEmulator(api_keys={key: 1}, quota=None, **kwargs)
    made.test_key = key  # type: ignore[attr-defined]
    return made


def client_of(made: GetSalesEmulator, clock: VirtualClock | None = None) -> AsyncGetSales:
    return AsyncGetSales(
        api_key=made.test_key,  # type: ignore[attr-defined]
        base_url="http://emulator",
        transport=made.transport(),
        rate_limit=FAST,
        clock=clock,
    )


def rich_contacts(n: int) -> list[dict[str, Any]]:
    return [
        {
            "first_name": f"Ann{i}",
            "last_name": f"Lee{i}",
            "company_name": f"Acme {i % 13}",
            "position": "+CTO" if i % 10 == 0 else "CTO",
            "work_email": f"ann{i}@acme{i % 13}.example",
            "linkedin": f"https://www.linkedin.com/in/ann-{i}",
            "work_phone_number": f"+49 30 {i:06d}",
            "tags": ["vip", f"wave{i % 3}"],
            "custom_fields": {"segment": SEGMENTS[i % 3]},
        }
        for i in range(n)
    ]


def essence(
    lead: dict[str, Any], tags: dict[str, str], custom: dict[str, str], values: dict[str, Any]
) -> tuple[Any, ...]:
    """What must survive an export and re-import: the writable fields, tag names, custom values."""
    return (
        *(lead.get(k) for k in ("first_name", "last_name", "name", "company_name", "position")),
        *(lead.get(k) for k in ("work_email", "linkedin", "work_phone_number")),
        tuple(sorted(tags[t] for t in lead.get("tags") or [])),
        tuple(sorted((custom[k], v) for k, v in values.items())),
    )


def essences(made: GetSalesEmulator) -> dict[str, tuple[Any, ...]]:
    state = made.state
    tags = {t["uuid"]: t["name"] for t in state.tags.values()}
    custom = {f["uuid"]: f["name"] for f in state.custom_fields.values()}
    return {
        lead["work_email"]: essence(lead, tags, custom, lead.get("_custom_fields") or {})
        for lead in state.leads.values()
    }


@asynccontextmanager
async def seeded(n: int) -> AsyncIterator[tuple[GetSalesEmulator, AsyncGetSales]]:
    made = emulator()
    async with client_of(made) as client:
        await client.custom_fields.create(name="segment", object="lead")
        made.seed_leads(rich_contacts(n))
        yield made, client


class TestSearchAll:
    @pytest.mark.parametrize(
        "anyio_backend", ["asyncio"]
    )  # the trio path is the same; once is enough
    async def test_25000_contacts_export_past_the_window_and_reimport(self, tmp_path: Path) -> None:
        """25,000 contacts (window 10,000) export as 25,000 distinct rows that re-import to the same contacts."""
        out = tmp_path / "all.csv"
        async with seeded(25_000) as (made, client):
            rows = await LeadsCsvExport(client, out, concurrency=4).run()
        searches = [r.json for r in made.requests if r.operation_id == "searchLeads"]
        assert rows == 25_000 and max(s["offset"] + s["limit"] for s in searches) <= 10_000
        exported = list(csv.DictReader(out.read_text(encoding="utf-8").splitlines()))
        assert len({r["uuid"] for r in exported}) == 25_000
        assert [r["created_at"] for r in exported] == sorted(r["created_at"] for r in exported)
        assert (
            sum(r["position"] == "'+CTO" for r in exported) == 2_500
        )  # neutralised for spreadsheets
        # every exported row reads back as a contact with the original content
        parsed = [r for r in read_leads_csv(out) if isinstance(r, LeadRow)]
        original = {c["work_email"]: c for c in rich_contacts(25_000)}
        assert len(parsed) == 25_000
        for row in parsed:
            source = original[row.lead["work_email"]]
            assert row.lead["position"] == source["position"] and set(row.lead["tags"]) == set(
                source["tags"]
            )
            assert row.custom_fields == source["custom_fields"]
        # re-import every row through bulk_upsert into a fresh emulator: the same contacts
        fresh = emulator()
        async with client_of(fresh) as client:
            await client.custom_fields.create(name="segment", object="lead")
            target = await client.lists.create(name="re-import")
            summary = await client.leads.bulk_upsert(parsed, list_uuid=target.uuid, concurrency=8)
        assert (summary.created, summary.failed) == (25_000, 0)
        assert essences(fresh) == essences(made)

    async def test_a_sweep_resumes_from_its_checkpoint(self) -> None:
        """A sweep stopped midway continues from its JSON checkpoint: every contact once, in order."""
        async with seeded(350) as (_made, client):
            first: list[str] = []
            sweep = client.leads.search_all(page_size=20, window=100, concurrency=3)
            async with aclosing(aiter(sweep)) as items:  # stops the prefetch at once on break
                async for item in items:
                    first.append(str(item.lead.uuid))
                    if len(first) == 170:
                        break
            saved = sweep.checkpoint().to_json()
            rest = [
                str(i.lead.uuid)
                async for i in client.leads.search_all(resume=SweepCheckpoint.from_json(saved))
            ]
            full = client.leads.search_all(page_size=20, window=100)
            whole = [str(i.lead.uuid) async for i in full]
        assert first + rest == whole and len(set(whole)) == 350 and full.splits >= 3

    async def test_user_filters_combine_with_the_time_ranges(self) -> None:
        """The caller's filter (a list, a created_at range) narrows every range the sweep reads."""
        made = emulator()
        async with client_of(made) as client:
            await client.custom_fields.create(name="segment", object="lead")
            keep = str((await client.lists.create(name="keep")).uuid)
            other = str((await client.lists.create(name="other")).uuid)
            start = datetime(2025, 6, 1, tzinfo=UTC)
            made.seed_leads(rich_contacts(60), list_uuid=keep, start=start)
            made.seed_leads([{"work_email": f"o{i}@x.example"} for i in range(40)], list_uuid=other)
            window = {">=": "2025-06-01T00:00:10.000000Z", "<": "2025-06-01T00:00:50.000000Z"}
            found = [
                i.lead.work_email
                async for i in client.leads.search_all(
                    filter={"list_uuid": keep, "created_at": window}, page_size=10, window=20
                )
            ]
        assert found == [f"ann{i}@acme{i % 13}.example" for i in range(10, 50)]

    async def test_more_contacts_in_one_instant_than_the_window_is_an_error(self) -> None:
        """Contacts sharing one created_at beyond the window raise PaginationWindowError, naming the instant."""
        made = emulator()
        async with client_of(made) as client:
            made.seed_leads(30, start=datetime(2025, 1, 1, tzinfo=UTC), spacing=1e-9)
            with pytest.raises(
                PaginationWindowError, match=r"share created_at 2025-01-01T00:00:00\.000000Z"
            ):
                async for _ in client.leads.search_all(page_size=10, window=20):
                    pass

    @pytest.mark.parametrize(
        "options",
        [
            {"filter": {"created_at": ["2025-01-01"]}},
            {"filter": {"created_at": {"!=": "x"}}},
            {"page_size": 0},
            {"window": 20_000},
            {"concurrency": 0},
            {"filter": {}, "resume": SweepCheckpoint({}, 100, 10_000, None)},
        ],
    )
    async def test_bad_arguments_are_refused_before_any_request(
        self, options: dict[str, Any]
    ) -> None:
        """Conditions on created_at other than ranges, bad sizes or mixed resume: ArgumentError."""
        made = emulator()
        async with client_of(made) as client:
            with pytest.raises(ArgumentError):
                client.leads.search_all(**options)
        assert made.requests == []


class TestCsvExport:
    async def test_an_interrupted_export_resumes_without_loss_or_duplicates(
        self, tmp_path: Path
    ) -> None:
        """An export cancelled midway resumes from its checkpoint; the file holds each contact once."""
        clock = VirtualClock()
        made = emulator(clock=clock, faults=FaultConfig(latency=0.05, only_paths=["searchLeads"]))
        out = tmp_path / "out.csv"
        async with clock.autojump(), client_of(made, clock) as client:
            await client.custom_fields.create(name="segment", object="lead")
            made.seed_leads(rich_contacts(2_500))
            export = LeadsCsvExport(client, out, concurrency=2)
            async with anyio.create_task_group() as tg:

                async def stop_midway() -> None:
                    while export.rows < 1_500:
                        await clock.sleep(0.01)
                    tg.cancel_scope.cancel()  # the process dies, as far as the export knows

                tg.start_soon(stop_midway)
                await export.run()
            assert export.interrupted() and not out.exists() and 1_000 <= export.rows < 2_500
            rows = await LeadsCsvExport(client, out, concurrency=2).run(resume=True)
        exported = list(csv.DictReader(out.read_text(encoding="utf-8").splitlines()))
        assert rows == 2_500 and len({r["uuid"] for r in exported}) == 2_500 == len(exported)
        assert not export.checkpoint_path.exists() and not export.partial.exists()
        assert exported[0]["cf:segment"] == "ent" and exported[2]["cf:segment"] == "'=smb"
        assert set(exported[0]["tags"].split("; ")) == {"vip", "wave0"}
