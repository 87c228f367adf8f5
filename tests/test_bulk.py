"""Bulk upsert: every row accounted for exactly once, under faults, 429s, aborts, edits and resumes."""

from __future__ import annotations

import csv
import inspect
import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from getsales_async import (
    AsyncGetSales,
    BulkImportAborted,
    CheckpointError,
    ImportProgress,
    LeadRow,
    RateLimit,
    RowResult,
    RowStatus,
    bulk_upsert,
    read_leads_csv,
)
from getsales_async._bulk import BulkLeadsResource
from getsales_async._checkpoint import read_records
from getsales_async.testing import FaultConfig, GetSalesEmulator, VirtualClock

from .conftest import ROOT

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


def row_records(checkpoint: Path) -> list[dict[str, Any]]:
    return [r for _, _, r in read_records(checkpoint) if r["t"] == "row"]


def write_rows(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


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

    async def test_move_to_list_and_tags_apply_to_existing_contacts(
        self, setup: tuple[GetSalesEmulator, VirtualClock]
    ) -> None:
        """move_to_list moves matching contacts into the list; tags= adds tags to every contact."""
        emulator, clock = setup
        async with await make_client(emulator, clock) as client:
            first, second = await new_list(client), await new_list(client)
            await client.leads.bulk_upsert(contacts(3), list_uuid=first)
            await client.leads.bulk_upsert(
                contacts(3), list_uuid=second, move_to_list=True, tags=["q4", "vip"]
            )
        leads = list(emulator.state.leads.values())
        tag_names = {t["uuid"]: t["name"] for t in emulator.state.tags.values()}
        assert {lead["list_uuid"] for lead in leads} == {second}
        assert all(
            {"q4", "vip", "import"} <= {tag_names[t] for t in lead["tags"]} for lead in leads
        )

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
        assert by_index[3].error_type == "InvalidRow" and by_index[3].row is not None
        assert (
            by_index[1].status is RowStatus.FAILED
            and by_index[1].error_type == "UnprocessableEntityError"
        )
        assert (summary.created, summary.failed, summary.invalid) == (2, 2, 1)

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

    async def test_an_unreachable_api_stops_the_job(
        self, setup: tuple[GetSalesEmulator, VirtualClock]
    ) -> None:
        """Rows that cannot connect, several in a row, abort the job instead of failing every row slowly."""
        _emulator, clock = setup
        emulator_faulty = emulator_for(
            clock, faults=FaultConfig(drop_rate=1.0, only_paths=["upsertLead"])
        )
        async with await make_client(emulator_faulty, clock) as client:
            list_uuid = await new_list(client)
            with pytest.raises(BulkImportAborted) as info:
                await client.leads.bulk_upsert(contacts(100), list_uuid=list_uuid, concurrency=2)
        assert info.value.summary.failed >= 5 and info.value.summary.done < 100
        assert type(info.value.cause).__name__ == "APIConnectionError"

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

    async def test_bad_arguments_are_refused_before_any_request(
        self, setup: tuple[GetSalesEmulator, VirtualClock]
    ) -> None:
        """concurrency < 1, resume or failed_csv without a checkpoint: ArgumentError, nothing sent."""
        emulator, clock = setup
        async with await make_client(emulator, clock) as client:
            for options in (
                {"concurrency": 0},
                {"resume": True},
                {"failed_csv": "x.csv"},
                {"row_attempts": 0},
            ):
                with pytest.raises(ValueError):
                    await client.leads.bulk_upsert(contacts(1), list_uuid="x", **options)
        assert emulator.requests == []


class TestTypedOptions:
    def test_the_method_has_the_functions_keyword_signature(self) -> None:
        """client.leads.bulk_upsert takes exactly the keyword options of bulk_upsert()."""
        method = inspect.signature(BulkLeadsResource.bulk_upsert).parameters
        function = inspect.signature(bulk_upsert).parameters
        assert list(method)[1:] == list(function)[1:]
        assert all(method[n].default == function[n].default for n in list(function)[2:])

    def test_a_misspelt_option_fails_type_checking(self, tmp_path: Path) -> None:
        """mypy --strict rejects bulk_upsert(..., concurency=4)."""
        script = tmp_path / "typo.py"
        script.write_text(
            "from getsales_async import AsyncGetSales\n\n"
            "async def run(client: AsyncGetSales) -> None:\n"
            "    await client.leads.bulk_upsert([], list_uuid='x', concurency=4)\n",
            encoding="utf-8",
        )
        result = subprocess.run(
            [sys.executable, "-m", "mypy", "--strict", "--no-error-summary", str(script)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert (
            result.returncode == 1 and 'Unexpected keyword argument "concurency"' in result.stdout
        )


class TestFaultTolerance:
    async def test_ten_thousand_rows_under_faults_are_each_accounted_once(self) -> None:
        """10,000 rows with 5% 5xx, dropped connections, lost answers and 429 bursts: each row once, all `created`."""
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
        # every contact was new: lost answers and retries must not turn any into "updated"
        assert (summary.created, summary.updated, summary.failed) == (10_000, 0, 0)
        assert stats.rate_limited > 0 and stats.retries > 0
        assert any("fail_after_commit" in r.faults for r in emulator.requests)
        emails = {lead["work_email"] for lead in emulator.state.leads.values()}
        assert len(emulator.state.leads) == 10_000
        assert emails == {f"person{i}@co{i % 97}.example" for i in range(10_000)}


class TestCheckpointResume:
    async def test_interrupted_job_resumes_without_loss_or_duplicates(
        self, setup: tuple[GetSalesEmulator, VirtualClock], tmp_path: Path
    ) -> None:
        """A job cancelled midway and resumed from its checkpoint finishes every row exactly once."""
        emulator, clock = setup
        checkpoint = tmp_path / "job.checkpoint"
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
        recorded = [r["i"] for r in row_records(checkpoint)]
        assert sorted(recorded) == list(range(120))  # every row once in the checkpoint
        assert summary.resumed == 50 and not set(resumed) & set(seen[:50])
        assert (summary.created, summary.updated) == (70, 0) and len(emulator.state.leads) == 120

    async def test_failed_rows_are_retried_and_leave_the_failed_csv(
        self, setup: tuple[GetSalesEmulator, VirtualClock], tmp_path: Path
    ) -> None:
        """Resume sends the rows that failed (not the done ones); fixed, they leave the failed CSV."""
        emulator, clock = setup
        paths = {"checkpoint": tmp_path / "cp", "failed_csv": tmp_path / "failed.csv"}
        async with await make_client(emulator, clock) as client:
            list_uuid = await new_list(client)
            entry = await client.blacklist.add_company(domain="co2.example")
            first = await client.leads.bulk_upsert(contacts(6), list_uuid=list_uuid, **paths)
            failed = list(csv.DictReader(paths["failed_csv"].read_text().splitlines()))
            await client.blacklist.remove_company(str(entry.uuid))
            second = await client.leads.bulk_upsert(
                contacts(6), list_uuid=list_uuid, resume=True, **paths
            )
        assert (first.created, first.failed, first.still_failing) == (5, 1, 1)
        assert [f["work_email"] for f in failed] == [
            "person2@co2.example"
        ] and "blacklist" in failed[0]["import_error"]
        assert (second.resumed, second.retried, second.created, second.still_failing) == (
            5,
            1,
            1,
            0,
        )
        assert len(paths["failed_csv"].read_text().splitlines()) == 1  # the header only
        assert len(emulator.state.leads) == 6

    async def test_changed_input_sends_only_the_inserted_and_edited_rows(
        self, setup: tuple[GetSalesEmulator, VirtualClock], tmp_path: Path
    ) -> None:
        """Resume with a row inserted at the top and one edited: exactly those two are sent."""
        emulator, clock = setup
        rows = [{k: v for k, v in c.items() if k != "tags"} for c in contacts(8)]
        source = write_rows(tmp_path / "in.csv", rows)
        options: dict[str, Any] = {"checkpoint": tmp_path / "cp", "input_name": str(source)}
        sent: list[int] = []
        async with await make_client(emulator, clock) as client:
            list_uuid = await new_list(client)
            await client.leads.bulk_upsert(read_leads_csv(source), list_uuid=list_uuid, **options)
            edited = [*contacts(1, start=100), *rows]
            edited = [{k: v for k, v in c.items() if k != "tags"} for c in edited]
            edited[4]["last_name"] = "Edited"
            write_rows(source, edited)
            summary = await client.leads.bulk_upsert(
                read_leads_csv(source),
                list_uuid=list_uuid,
                resume=True,
                on_result=lambda r: sent.append(r.line or 0),
                **options,
            )
        assert sorted(sent) == [2, 6]  # the inserted row (line 2) and the edited one
        assert (
            summary.new,
            summary.changed,
            summary.resumed,
            summary.created,
            summary.updated,
        ) == (1, 1, 7, 1, 1)
        assert len(emulator.state.leads) == 9

    async def test_a_torn_checkpoint_resends_only_the_torn_row(
        self, setup: tuple[GetSalesEmulator, VirtualClock], tmp_path: Path
    ) -> None:
        """A record cut by a crash is repaired: its row alone is sent again, and reported once."""
        emulator, clock = setup
        checkpoint = tmp_path / "cp"
        async with await make_client(emulator, clock) as client:
            list_uuid = await new_list(client)
            await client.leads.bulk_upsert(contacts(10), list_uuid=list_uuid, checkpoint=checkpoint)
            checkpoint.write_bytes(checkpoint.read_bytes()[:-9])
            sent: list[RowResult] = []
            summary = await client.leads.bulk_upsert(
                contacts(10),
                list_uuid=list_uuid,
                checkpoint=checkpoint,
                resume=True,
                on_result=sent.append,
            )
        assert summary.checkpoint_repaired and (summary.resumed, len(sent)) == (9, 1)
        assert (
            sent[0].status is RowStatus.CREATED
        )  # this job created it; the resend does not say "updated"
        assert sorted(r["i"] for r in row_records(checkpoint)) == list(range(10))

    async def test_a_damaged_checkpoint_stops_before_any_request(
        self, setup: tuple[GetSalesEmulator, VirtualClock], tmp_path: Path
    ) -> None:
        """A garbage line in the middle raises CheckpointError naming the line; nothing is sent."""
        emulator, clock = setup
        checkpoint = tmp_path / "cp"
        async with await make_client(emulator, clock) as client:
            list_uuid = await new_list(client)
            await client.leads.bulk_upsert(contacts(4), list_uuid=list_uuid, checkpoint=checkpoint)
            content = checkpoint.read_bytes().splitlines(keepends=True)
            checkpoint.write_bytes(b"".join([*content[:3], b"garbage\n", *content[3:]]))
            before = len(emulator.requests)
            with pytest.raises(CheckpointError, match="line 4"):
                await client.leads.bulk_upsert(
                    contacts(4), list_uuid=list_uuid, checkpoint=checkpoint, resume=True
                )
        assert len(emulator.requests) == before

    async def test_checkpoint_of_another_job_is_refused(
        self, setup: tuple[GetSalesEmulator, VirtualClock], tmp_path: Path
    ) -> None:
        """Resuming with a checkpoint written for another list is an error, not a silent skip."""
        emulator, clock = setup
        checkpoint = tmp_path / "job.checkpoint"
        async with await make_client(emulator, clock) as client:
            a, b = await new_list(client), await new_list(client)
            await client.leads.bulk_upsert(contacts(3), list_uuid=a, checkpoint=checkpoint)
            with pytest.raises(CheckpointError, match="resuming would change the job"):
                await client.leads.bulk_upsert(
                    contacts(3), list_uuid=b, checkpoint=checkpoint, resume=True
                )


def test_leadrow_objects_keep_their_index() -> None:
    """LeadRow indexes are reported back as given (not renumbered)."""
    row = LeadRow(index=41, lead={"work_email": "a@b.example"})
    assert row.index == 41
