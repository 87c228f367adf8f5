"""Server-side CSV import through the SDK, against the emulator: parts, mapping, shapes, watching."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, Literal

import httpx
import pytest

from getsales_async import (
    APITimeoutError,
    ArgumentError,
    AsyncGetSales,
    InternalServerError,
    UnprocessableEntityError,
)
from getsales_async._limiter import AsyncRateLimiter, RateLimit
from getsales_async._server_import import ServerImportError
from getsales_async._server_import_job import ServerImportJob, ServerImportProgress
from getsales_async.testing import BulkConfig, GetSalesEmulator, VirtualClock

from ._transports import FailNth

pytestmark = pytest.mark.anyio

IMPORT = "/import-leads"
UPLOAD = "/upload-csv"


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def clock() -> AsyncIterator[VirtualClock]:
    clock = VirtualClock()
    async with clock.autojump():
        yield clock


def sdk(
    emulator: GetSalesEmulator,
    clock: VirtualClock,
    transport: httpx.AsyncBaseTransport | None = None,
) -> AsyncGetSales:
    return AsyncGetSales(
        api_key="emulator-key",
        base_url="http://emulator",
        transport=transport or emulator.transport(),
        allow_insecure_http=True,  # a fault-injecting wrapper is not known to stay in-process
        clock=clock,
        rate_limit=AsyncRateLimiter(RateLimit(requests=6000, period=60.0, burst=100), clock=clock),
    )


def people(n: int, start: int = 0) -> list[dict[str, Any]]:
    return [
        {"first_name": f"P{i}", "work_email": f"p{i}@acme.example", "position": "CTO"}
        for i in range(start, start + n)
    ]


async def new_list(client: AsyncGetSales, name: str = "Imported") -> str:
    created = await client.lists.create(name=name)
    assert isinstance(created.uuid, str)
    return created.uuid


def import_bodies(emulator: GetSalesEmulator) -> list[Any]:
    return [r.json for r in emulator.requests if r.path.endswith(IMPORT)]


class TestStartLeadsImport:
    async def test_rows_are_imported_into_the_list_with_tags(self, clock: VirtualClock) -> None:
        """Every row becomes a contact of the list, tagged, and the job reports it complete."""
        emulator = GetSalesEmulator(clock=clock, quota=None)
        async with sdk(emulator, clock) as client:
            target = await new_list(client)
            tag = await client.tags.create(name="imported")
            job = await client.files.start_leads_import(
                people(30), list_uuid=target, tags=[str(tag.uuid)]
            )
            result = await job.wait()
        assert result.complete and (result.rows, result.added, result.pending) == (30, 30, 0)
        leads = list(emulator.state.leads.values())
        assert len(leads) == 30
        assert all(lead["list_uuid"] == target and lead["tags"] == [tag.uuid] for lead in leads)
        assert {lead["work_email"] for lead in leads} == {f"p{i}@acme.example" for i in range(30)}
        assert job.mapping == {"first_name": 0, "work_email": 1, "position": 2}
        assert str(result) == "complete: 30 of 30 rows added to the list in 5 s"

    async def test_csv_file_with_aliases_and_semicolons_is_imported(
        self, clock: VirtualClock, tmp_path: Path
    ) -> None:
        """A semicolon file with headers such as 'E-mail' and 'LinkedIn URL' imports as mapped."""
        path = tmp_path / "contacts.csv"
        lines = ["First Name;E-mail;LinkedIn URL"] + [
            f"Ann {i};ann{i}@x.io;https://www.linkedin.com/in/ann-{i}" for i in range(12)
        ]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        emulator = GetSalesEmulator(clock=clock, quota=None)
        async with sdk(emulator, clock) as client:
            job = await client.files.start_leads_import(path, list_uuid=await new_list(client))
            assert (await job.wait()).complete
        assert job.mapping == {"first_name": 0, "work_email": 1, "linkedin_id": 2}
        lead = next(iter(emulator.state.leads.values()))
        assert (lead["first_name"], lead["linkedin"]) == (
            "Ann 0",
            "https://www.linkedin.com/in/ann-0",
        )

    async def test_parts_follow_max_part_bytes_and_cost_two_requests_each(
        self, clock: VirtualClock
    ) -> None:
        """Parts stay under max_part_bytes; each costs an upload and a start, plus one count."""
        emulator = GetSalesEmulator(clock=clock, quota=None)
        async with sdk(emulator, clock) as client:
            target = await new_list(client)
            before = len(emulator.requests)
            job = await client.files.start_leads_import(
                people(300), list_uuid=target, max_part_bytes=4_000
            )
            sent = [r.path.rsplit("/", 1)[-1] for r in emulator.requests[before:]]
            assert (await job.wait()).complete
        assert len(job.parts) == 3 and all(p.part.size <= 4_000 for p in job.parts)
        assert sum(p.part.rows for p in job.parts) == 300
        assert sent == ["upload-csv"] * 3 + ["count"] + ["import-leads"] * 3
        assert [r["total"] for r in emulator.state.file_imports.values()] == [
            p.part.rows for p in job.parts
        ]
        assert len(emulator.state.leads) == 300

    @pytest.mark.parametrize(
        ("source", "kwargs", "message"),
        [
            ([], {}, "rows is empty"),
            ([{"work_email": "a@x.io"}, {"email2": "b"}], {}, "row 2 has 'email2'"),
            (people(1), {"list_uuid": " "}, "list_uuid is required"),
            (people(1), {"tags": "vip"}, "tags is a list"),
            (people(1), {"max_part_bytes": 0}, "max_part_bytes must be positive"),
            (people(1), {"delimiter": ";;"}, "delimiter must be one character"),
        ],
    )
    async def test_bad_input_sends_no_request(
        self, clock: VirtualClock, source: Any, kwargs: dict[str, Any], message: str
    ) -> None:
        """Bad arguments and rows are refused with one line before anything is uploaded."""
        emulator = GetSalesEmulator(clock=clock, quota=None)
        async with sdk(emulator, clock) as client:
            with pytest.raises(ArgumentError, match=message):
                await client.files.start_leads_import(source, **{"list_uuid": "list-1", **kwargs})
        assert emulator.requests == []

    async def test_unmapped_columns_stop_before_any_import(self, clock: VirtualClock) -> None:
        """A column no field reads is an error naming it; ignore_unmapped or columns= fix it."""
        rows = [{**p, "Notes": "met at a fair"} for p in people(5)]
        emulator = GetSalesEmulator(clock=clock, quota=None)
        async with sdk(emulator, clock) as client:
            target = await new_list(client)
            with pytest.raises(ArgumentError, match=r"columns \['Notes'\] match no contact field"):
                await client.files.start_leads_import(rows, list_uuid=target)
            assert emulator.state.file_imports == {}
            job = await client.files.start_leads_import(
                rows, list_uuid=target, columns={"about": "Notes"}
            )
            assert (await job.wait()).complete
            await client.files.start_leads_import(rows, list_uuid=target, ignore_unmapped=True)
        assert {lead["about"] for lead in emulator.state.leads.values()} == {"met at a fair"}

    async def test_refusal_not_about_columns_is_raised_without_fallback(
        self, clock: VirtualClock
    ) -> None:
        """A 422 about the list is raised as is: one start request, no second shape tried."""
        emulator = GetSalesEmulator(clock=clock, quota=None)
        async with sdk(emulator, clock) as client:
            with pytest.raises(UnprocessableEntityError, match="list_uuid"):
                await client.files.start_leads_import(people(3), list_uuid="no-such-list")
            assert client.files.mapping_shape is None
        assert len(import_bodies(emulator)) == 1


class TestMappingShapes:
    @pytest.mark.parametrize("accepted", [("object", "array"), ("object",)])
    async def test_index_shape_is_sent_and_remembered(
        self, clock: VirtualClock, accepted: tuple[Literal["object", "array"], ...]
    ) -> None:
        """A server that takes the index's object shape only ever sees that shape."""
        emulator = GetSalesEmulator(
            clock=clock, quota=None, bulk=BulkConfig(mapping_shapes=accepted)
        )
        async with sdk(emulator, clock) as client:
            target = await new_list(client)
            for _ in range(2):
                await client.files.start_leads_import(people(3), list_uuid=target)
            assert client.files.mapping_shape == "object"
        bodies = import_bodies(emulator)
        assert [type(b["columns"]) for b in bodies] == [dict, dict]

    async def test_array_server_gets_one_fallback_then_the_array_directly(
        self, clock: VirtualClock
    ) -> None:
        """Object refused with a 422 about columns: retried once as an array, remembered after."""
        bulk = BulkConfig(mapping_shapes=("array",))
        emulator = GetSalesEmulator(clock=clock, quota=None, bulk=bulk)
        async with sdk(emulator, clock) as client:
            target = await new_list(client)
            first = await client.files.start_leads_import(people(3), list_uuid=target)
            assert client.files.mapping_shape == "array" and first.mapping_shape == "array"
            second = await client.files.start_leads_import(people(3, 3), list_uuid=target)
            assert (await second.wait()).complete
        bodies = import_bodies(emulator)
        assert [type(b["columns"]) for b in bodies] == [dict, list, list]
        assert bodies[1]["columns"] == [
            {"source": "first_name", "target": "first_name"},
            {"source": "work_email", "target": "work_email"},
            {"source": "position", "target": "position"},
        ]
        assert len(emulator.state.leads) == 6

    async def test_second_refusal_is_raised_and_nothing_remembered(
        self, clock: VirtualClock
    ) -> None:
        """When the other shape is refused too, its 422 is raised; no shape is remembered."""
        bulk = BulkConfig(mapping_shapes=("array",))
        emulator = GetSalesEmulator(clock=clock, quota=None, bulk=bulk)
        async with sdk(emulator, clock) as client:
            with pytest.raises(UnprocessableEntityError, match="Unknown field 'nickname'"):
                await client.files.start_leads_import(
                    people(2), list_uuid=await new_list(client), columns={"nickname": "position"}
                )
            assert client.files.mapping_shape is None
        assert [type(b["columns"]) for b in import_bodies(emulator)] == [dict, list]
        assert emulator.state.file_imports == {}


class TestWait:
    async def test_timeout_reports_partial_progress_then_wait_again_completes(
        self, clock: VirtualClock
    ) -> None:
        """A timeout returns what the count shows (whole batches); a second wait finishes."""
        bulk = BulkConfig(rows_per_second=100.0, batch_size=1_000)
        emulator = GetSalesEmulator(clock=clock, quota=None, bulk=bulk)
        async with sdk(emulator, clock) as client:
            job = await client.files.start_leads_import(
                people(5_000), list_uuid=await new_list(client)
            )
            partial = await job.wait(timeout=25)
            assert (partial.outcome, partial.added, partial.pending) == ("timed_out", 2_000, 3_000)
            assert partial.elapsed == pytest.approx(25)
            assert "timed out" in str(partial) and "per-row outcomes are not available" in str(
                partial
            )
            final = await job.wait()
        assert (final.outcome, final.added, final.count_after) == ("complete", 5_000, 5_000)
        assert 50 <= final.elapsed <= 50 + 60  # finished at 50 s; seen by the next poll

    async def test_stalls_when_rows_are_not_added(self, clock: VirtualClock) -> None:
        """Rows matching contacts of another list are not added: the job ends stalled."""
        emulator = GetSalesEmulator(clock=clock, quota=None)
        async with sdk(emulator, clock) as client:
            elsewhere = await new_list(client, "Elsewhere")
            for row in people(4):
                await client.leads.upsert(lead=row, list_uuid=elsewhere)
            job = await client.files.start_leads_import(
                people(10), list_uuid=await new_list(client)
            )
            result = await job.wait(idle_timeout=30)
        assert (result.outcome, result.added, result.pending) == ("stalled", 6, 4)
        assert result.elapsed == pytest.approx(30, abs=5)
        assert "stalled" in str(result) and "4 not added" in str(result)
        assert len(emulator.state.leads) == 10

    async def test_progress_is_reported_to_sync_and_async_callbacks(
        self, clock: VirtualClock
    ) -> None:
        """on_progress gets every reading, whether it is a function or a coroutine function."""
        bulk = BulkConfig(rows_per_second=200.0, batch_size=500)
        emulator = GetSalesEmulator(clock=clock, quota=None, bulk=bulk)
        seen: list[ServerImportProgress] = []
        seen_sync: list[ServerImportProgress] = []

        async def remember(reading: ServerImportProgress) -> None:
            seen.append(reading)

        async with sdk(emulator, clock) as client:
            target = await new_list(client)
            job = await client.files.start_leads_import(people(2_000), list_uuid=target)
            await job.wait(on_progress=remember)
            job = await client.files.start_leads_import(people(10, 2_000), list_uuid=target)
            await job.wait(on_progress=seen_sync.append)
        added = [r.added for r in seen]
        assert len(added) >= 3 and added[0] == 0 and added[-1] == 2_000
        assert added == sorted(added)
        assert [(r.added, r.list_count) for r in seen_sync][-1] == (10, 2_010)

    async def test_polls_are_paced_by_the_expected_finish(self, clock: VirtualClock) -> None:
        """A 100 s import is watched with a handful of counts, not one every 5 s."""
        bulk = BulkConfig(rows_per_second=100.0, batch_size=1_000)
        emulator = GetSalesEmulator(clock=clock, quota=None, bulk=bulk)
        async with sdk(emulator, clock) as client:
            job = await client.files.start_leads_import(
                people(10_000), list_uuid=await new_list(client)
            )
            before = len(emulator.requests)
            result = await job.wait(poll_interval=5, max_poll_interval=60)
        polls = len(emulator.requests) - before
        assert result.complete and polls <= 8
        assert result.elapsed <= 100 + 60

    @pytest.mark.parametrize(
        ("kwargs", "message"),
        [
            ({"timeout": 0}, "timeout must be a positive number"),
            ({"timeout": float("inf")}, "timeout must be finite"),
            ({"poll_interval": 10, "max_poll_interval": 5}, "longer than max_poll_interval"),
        ],
    )
    async def test_bad_wait_arguments_are_refused(
        self, clock: VirtualClock, kwargs: dict[str, float], message: str
    ) -> None:
        """Times must be positive and finite; the shortest poll wait must not exceed the longest."""
        emulator = GetSalesEmulator(clock=clock, quota=None)
        async with sdk(emulator, clock) as client:
            job = await client.files.start_leads_import(people(1), list_uuid=await new_list(client))
            with pytest.raises(ArgumentError, match=message):
                await job.wait(**kwargs)


class TestCombined:
    async def test_jobs_started_one_after_the_other_are_watched_as_one(
        self, clock: VirtualClock
    ) -> None:
        """combined() counts every job's rows against the first count: no contact counted twice."""
        bulk = BulkConfig(rows_per_second=100.0, batch_size=100)
        emulator = GetSalesEmulator(clock=clock, quota=None, bulk=bulk)
        async with sdk(emulator, clock) as client:
            target = await new_list(client)
            first = await client.files.start_leads_import(people(300), list_uuid=target)
            await clock.sleep(2)  # the first import adds 200 before the second starts
            second = await client.files.start_leads_import(people(200, 300), list_uuid=target)
            assert second.count_before == 200
            job = ServerImportJob.combined([first, second])
            assert (job.rows, job.count_before, len(job.parts)) == (500, 0, 2)
            result = await job.wait(poll_interval=1)
        assert (result.outcome, result.added, result.pending) == ("complete", 500, 0)

    async def test_jobs_of_other_lists_or_headers_are_refused(self, clock: VirtualClock) -> None:
        """combined() refuses no jobs, jobs into different lists, and parts with other headers."""
        emulator = GetSalesEmulator(clock=clock, quota=None)
        async with sdk(emulator, clock) as client:
            one = await client.files.start_leads_import(people(2), list_uuid=await new_list(client))
            other = await client.files.start_leads_import(
                people(2, 2), list_uuid=await new_list(client, "Other")
            )
            narrow = await client.files.start_leads_import(
                [{"work_email": "x@acme.example"}], list_uuid=one.list_uuid
            )
            for jobs, needle in (
                ([], "at least one"),
                ([one, other], "one list"),
                ([one, narrow], "header"),
            ):
                with pytest.raises(ArgumentError, match=needle):
                    ServerImportJob.combined(jobs)


class TestNoRetry:
    @pytest.mark.parametrize("failure", ["504", "timeout"])
    async def test_upload_is_not_resent_after_an_ambiguous_failure(
        self, clock: VirtualClock, failure: Literal["504", "timeout"]
    ) -> None:
        """A 504 or read timeout on an upload is raised after one attempt; no import starts."""
        emulator = GetSalesEmulator(clock=clock, quota=None)
        faulty = FailNth(emulator.transport(), path=UPLOAD, failure=failure)
        async with sdk(emulator, clock, faulty) as client:
            target = await new_list(client)
            expected = InternalServerError if failure == "504" else APITimeoutError
            with pytest.raises(expected):
                await client.files.start_leads_import(people(3), list_uuid=target)
        assert faulty.attempts == 1 and import_bodies(emulator) == []

    @pytest.mark.parametrize("failure", ["504", "timeout"])
    async def test_start_is_not_resent_after_an_ambiguous_failure(
        self, clock: VirtualClock, failure: Literal["504", "timeout"]
    ) -> None:
        """A start whose answer is lost is not re-sent: the error says it may have started."""
        emulator = GetSalesEmulator(clock=clock, quota=None)
        faulty = FailNth(emulator.transport(), path=IMPORT, failure=failure, after_sending=True)
        async with sdk(emulator, clock, faulty) as client:
            with pytest.raises(ServerImportError, match="may have started it") as caught:
                await client.files.start_leads_import(people(3), list_uuid=await new_list(client))
        assert faulty.attempts == 1 and len(emulator.state.file_imports) == 1
        assert caught.value.uncertain and caught.value.job is None
        assert caught.value.failed_part.number == 1

    async def test_later_part_failure_keeps_a_job_for_the_started_parts(
        self, clock: VirtualClock
    ) -> None:
        """When part 2 of 3 fails, the error's job watches part 1; part 3 is never started."""
        emulator = GetSalesEmulator(clock=clock, quota=None)
        faulty = FailNth(emulator.transport(), path=IMPORT, failure="504", nth=2)
        async with sdk(emulator, clock, faulty) as client:
            with pytest.raises(
                ServerImportError, match="part 1 of 3 started; starting part 2 of 3 failed"
            ) as caught:
                await client.files.start_leads_import(
                    people(90), list_uuid=await new_list(client), max_part_bytes=1_000
                )
            job = caught.value.job
            assert job is not None and [p.part.number for p in job.parts] == [1]
            assert (await job.wait()).complete
        assert faulty.attempts == 2 and len(emulator.state.file_imports) == 1
        assert len(emulator.state.leads) == job.rows
