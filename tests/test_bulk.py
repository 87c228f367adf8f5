"""Bulk upsert: every row accounted for exactly once, under faults, 429s, aborts and resumes."""

from __future__ import annotations

import json
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from getsales_async import AsyncGetSales, RateLimit
from getsales_async._bulk import BulkImportAborted, ImportProgress, LeadRow, RowResult, RowStatus
from getsales_async.testing import FaultConfig, GetSalesEmulator, VirtualClock

pytestmark = pytest.mark.anyio


class Crash(Exception):
    """Stands for the process dying in the middle of a job."""


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def contacts(n: int, *, start: int = 0) -> list[dict[str, Any]]:
    return [
        {
            "first_name": f"First{i}",
            "last_name": f"Last{i}",
            "company_name": f"Co{i % 97}",
            "work_email": f"person{i}@co{i % 97}.example",
            "linkedin_id": f"https://www.linkedin.com/in/person-{i}",
            "tags": ["import"],
        }
        for i in range(start, start + n)
    ]


def emulator_for(clock: VirtualClock, **kwargs: Any) -> GetSalesEmulator:
    """An emulator with a key of its own (limiters are shared per key across the process)."""
    key = f"key-{uuid.uuid4().hex}"
    emulator = GetSalesEmulator(api_keys={key: 1}, clock=clock, **kwargs)
    emulator.test_key = key  # type: ignore[attr-defined]
    return emulator


async def make_client(
    emulator: GetSalesEmulator, clock: VirtualClock, **kwargs: Any
) -> AsyncGetSales:
    return AsyncGetSales(
        api_key=kwargs.pop("api_key", emulator.test_key),  # type: ignore[attr-defined]
        base_url="http://emulator",
        transport=emulator.transport(),
        clock=clock,
        rate_limit=kwargs.pop("rate_limit", RateLimit(requests=300, period=60.0, burst=1)),
        **kwargs,
    )


@pytest.fixture
async def setup() -> AsyncIterator[tuple[GetSalesEmulator, VirtualClock]]:
    clock = VirtualClock()
    async with clock.autojump():
        yield emulator_for(clock, seed=7), clock


async def new_list(client: AsyncGetSales) -> str:
    return str((await client.lists.create(name=f"import-{uuid.uuid4().hex[:8]}")).uuid)


class TestBulkUpsert:
    async def test_rows_are_created_then_updated_on_repeat(
        self, setup: tuple[GetSalesEmulator, VirtualClock]
    ) -> None:
        """New contacts are `created`; the same contacts again are `updated`."""
        emulator, clock = setup
        async with await make_client(emulator, clock) as client:
            list_uuid = await new_list(client)
            first = await client.leads.bulk_upsert(contacts(30), list_uuid=list_uuid)
            await clock.sleep(60)
            again = await client.leads.bulk_upsert(contacts(30), list_uuid=list_uuid)
        assert (first.created, first.updated, first.failed) == (30, 0, 0)
        assert (again.created, again.updated, again.failed) == (0, 30, 0)

    async def test_update_if_exists_false_reports_skipped(
        self, setup: tuple[GetSalesEmulator, VirtualClock]
    ) -> None:
        """With update_if_exists=False, existing contacts are `skipped`."""
        emulator, clock = setup
        async with await make_client(emulator, clock) as client:
            list_uuid = await new_list(client)
            await client.leads.bulk_upsert(contacts(5), list_uuid=list_uuid)
            await clock.sleep(60)  # the contacts exist well before the next job
            summary = await client.leads.bulk_upsert(
                contacts(7), list_uuid=list_uuid, update_if_exists=False
            )
        assert (summary.created, summary.skipped) == (2, 5)

    async def test_invalid_and_rejected_rows_fail_alone(
        self, setup: tuple[GetSalesEmulator, VirtualClock]
    ) -> None:
        """A row without identifier fails locally; a blacklisted one fails with the API error; others pass."""
        emulator, clock = setup
        results: list[RowResult] = []
        async with await make_client(emulator, clock) as client:
            list_uuid = await new_list(client)
            await client.blacklist.add_company(domain="co1.example")
            rows = [*contacts(3), {"first_name": "Nobody"}]
            summary = await client.leads.bulk_upsert(
                rows, list_uuid=list_uuid, on_result=results.append
            )
        by_index = {r.index: r for r in results}
        assert by_index[3].error_type == "InvalidRow" and len(emulator.requests) > 0
        assert (
            by_index[1].status is RowStatus.FAILED
            and by_index[1].error_type == "UnprocessableEntityError"
        )
        assert (summary.created, summary.failed) == (2, 2)

    async def test_auth_error_stops_the_job_at_once(
        self, setup: tuple[GetSalesEmulator, VirtualClock]
    ) -> None:
        """A 401 aborts the job: BulkImportAborted, no further rows sent."""
        emulator, clock = setup
        async with await make_client(
            emulator, clock, api_key=f"wrong-{uuid.uuid4().hex}"
        ) as client:
            with pytest.raises(BulkImportAborted) as info:
                await client.leads.bulk_upsert(contacts(200), list_uuid="no-matter", concurrency=4)
        assert info.value.cause.status_code == 401  # type: ignore[attr-defined]
        assert len(emulator.requests) <= 4

    async def test_progress_reports_counts_rate_and_eta(
        self, setup: tuple[GetSalesEmulator, VirtualClock]
    ) -> None:
        """Progress events carry done, in-flight, rate, 429s and an ETA; the last one is final."""
        emulator, clock = setup
        events: list[ImportProgress] = []
        async with await make_client(emulator, clock) as client:
            list_uuid = await new_list(client)
            await client.leads.bulk_upsert(
                contacts(60),
                list_uuid=list_uuid,
                total=60,
                on_progress=events.append,
                progress_interval=2.0,
            )
        assert events[-1].finished and events[-1].done == 60 and events[-1].eta_s == 0.0
        middle = [e for e in events if not e.finished and e.done]
        assert middle and all(e.rate_per_s > 0 and e.eta_s is not None for e in middle)
        # 60 rows at 300/min take about 12 virtual seconds
        assert 10.0 <= events[-1].elapsed_s <= 20.0


class TestFaultTolerance:
    async def test_ten_thousand_rows_under_faults_are_each_accounted_once(self) -> None:
        """10,000 rows with 5% 5xx, dropped connections and 429 bursts: each row once, emulator exact."""
        clock = VirtualClock()
        faults = FaultConfig(
            error_rate=0.05,
            drop_rate=0.02,
            burst_429=(200, 5),
            fail_after_commit_rate=0.02,
            only_paths=["upsertLead"],
        )
        emulator = emulator_for(clock, seed=11, faults=faults, quota=None)
        results: list[RowResult] = []
        async with (
            clock.autojump(),
            await make_client(
                emulator, clock, rate_limit=RateLimit(requests=100_000, period=60.0, burst=50)
            ) as client,
        ):
            list_uuid = await new_list(client)
            summary = await client.leads.bulk_upsert(
                contacts(10_000), list_uuid=list_uuid, concurrency=32, on_result=results.append
            )
            stats = client.statistics()
        counts = Counter(r.index for r in results)
        assert len(counts) == 10_000 and set(counts.values()) == {1}
        assert summary.failed == 0 and summary.created + summary.updated == 10_000
        assert stats.rate_limited > 0 and stats.retries > 0
        emails = {lead["work_email"] for lead in emulator.state.leads.values()}
        assert len(emulator.state.leads) == 10_000
        assert emails == {f"person{i}@co{i % 97}.example" for i in range(10_000)}


class TestCheckpointResume:
    async def test_interrupted_job_resumes_without_loss_or_duplicates(
        self, setup: tuple[GetSalesEmulator, VirtualClock], tmp_path: Path
    ) -> None:
        """A job cancelled midway and resumed from its checkpoint finishes every row exactly once."""
        emulator, clock = setup
        checkpoint = tmp_path / "job.jsonl"
        rows = contacts(120)
        seen: list[int] = []
        async with await make_client(emulator, clock) as client:
            list_uuid = await new_list(client)

            async def stop_after_50(result: RowResult) -> None:
                seen.append(result.index)
                if len(seen) == 50:
                    raise Crash  # the process dies, as far as the job knows

            with pytest.raises(Crash):
                await client.leads.bulk_upsert(
                    rows,
                    list_uuid=list_uuid,
                    checkpoint=checkpoint,
                    concurrency=6,
                    on_result=stop_after_50,
                )
            resumed: list[int] = []
            summary = await client.leads.bulk_upsert(
                rows,
                list_uuid=list_uuid,
                checkpoint=checkpoint,
                resume=True,
                concurrency=6,
                on_result=lambda r: resumed.append(r.index),
            )
        recorded = [json.loads(line)["index"] for line in checkpoint.read_text().splitlines()[1:]]
        assert sorted(recorded) == list(range(120))  # every row once in the checkpoint
        assert summary.resumed == 50 and not set(resumed) & set(seen[:50])
        assert len(emulator.state.leads) == 120

    async def test_checkpoint_of_another_job_is_refused(
        self, setup: tuple[GetSalesEmulator, VirtualClock], tmp_path: Path
    ) -> None:
        """Resuming with a checkpoint written for another list is an error, not a silent skip."""
        emulator, clock = setup
        checkpoint = tmp_path / "job.jsonl"
        async with await make_client(emulator, clock) as client:
            a, b = await new_list(client), await new_list(client)
            await client.leads.bulk_upsert(contacts(3), list_uuid=a, checkpoint=checkpoint)
            with pytest.raises(Exception, match="another job"):
                await client.leads.bulk_upsert(
                    contacts(3), list_uuid=b, checkpoint=checkpoint, resume=True
                )


def test_leadrow_objects_keep_their_index() -> None:
    """LeadRow indexes are reported back as given (not renumbered)."""
    row = LeadRow(index=41, lead={"work_email": "a@b.example"})
    assert row.index == 41


class TestServerTime:
    @pytest.mark.parametrize(
        ("header", "expected"),
        [
            ("Fri, 27 Nov 2026 15:00:00 GMT", "2026-11-27T15:00:00+00:00"),
            ("Fri, 27 Nov 2026 15:00:00 -0000", "2026-11-27T15:00:00+00:00"),
            (
                "Fri, 27 Nov 2026 15:00:00 GMT, Fri, 27 Nov 2026 15:00:01 GMT",
                "2026-11-27T15:00:01+00:00",
            ),
            ("not a date", None),
            (None, None),
        ],
    )
    def test_date_headers_parse_to_aware_times_or_none(
        self, header: str | None, expected: str | None
    ) -> None:
        """Date headers give timezone-aware times ("-0000", joined repeats) or None, never a crash."""
        from getsales_async._bulk import _server_time

        parsed = _server_time(header)
        assert (parsed.isoformat() if parsed else None) == expected
