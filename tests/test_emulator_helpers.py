"""The emulator's scenario helpers and realism settings: time, faults, latency, snapshots, rules."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from getsales_async import AsyncGetSales, UnprocessableEntityError
from getsales_async._bulk import row_identifier_problem
from getsales_async._limiter import AsyncRateLimiter, RateLimit
from getsales_async.testing import (
    BulkConfig,
    EmulatorTimings,
    FaultConfig,
    GetSalesEmulator,
    VirtualClock,
)
from getsales_async.testing.emulator._main import build, parser

from .emulator_fixtures import *  # noqa: F403
from .emulator_fixtures import AUTH, BASE, uuid_of

pytestmark = pytest.mark.anyio


class TestAdvance:
    async def test_advance_moves_record_time_and_refuses_bad_values(
        self, client: AsyncGetSales, emulator: GetSalesEmulator
    ) -> None:
        """advance() moves the emulator's timestamps; negative or infinite seconds are refused."""
        before = await client.lists.create(name="Before")
        await emulator.advance(3600)
        after = await client.lists.create(name="After")
        assert str(before.created_at)[11:13] == "00" and str(after.created_at)[11:13] == "01"
        for bad in (-1.0, float("inf"), float("nan")):
            with pytest.raises(ValueError, match="finite seconds"):
                await emulator.advance(bad)

    def test_timings_are_validated(self) -> None:
        """Negative delays and a zero webhook timeout are refused at construction."""
        with pytest.raises(ValueError, match="message_pickup"):
            EmulatorTimings(message_pickup=-1)
        with pytest.raises(ValueError, match="webhook_timeout"):
            EmulatorTimings(webhook_timeout=0)


class TestInjectFault:
    async def test_scheduled_faults_hit_the_named_operation_in_order(
        self, emulator: GetSalesEmulator, raw: httpx.AsyncClient
    ) -> None:
        """inject_fault hits the next requests of one operation only, then stops."""
        emulator.inject_fault("listTags", "error", status=503, times=2)
        emulator.inject_fault("listLists", "429", retry_after=2)
        statuses = [(await raw.get("/leads/api/tags")).status_code for _ in range(3)]
        limited = await raw.get("/leads/api/lists")
        assert statuses == [503, 503, 200]
        assert limited.status_code == 429 and limited.headers["Retry-After"] == "2"
        assert (await raw.get("/leads/api/lists")).status_code == 200
        assert [r.faults for r in emulator.requests[:3]] == [("error",), ("error",), ()]

    async def test_fail_after_commit_writes_then_loses_the_answer(
        self, emulator: GetSalesEmulator, raw: httpx.AsyncClient
    ) -> None:
        """A fail_after_commit fault stores the record and answers 502."""
        emulator.inject_fault("createTag", "fail_after_commit")
        answer = await raw.post("/leads/api/tags", json={"name": "vip"})
        assert answer.status_code == 502 and len(emulator.state.tags) == 1

    async def test_sdk_retries_through_an_injected_fault(
        self, emulator: GetSalesEmulator, clock: VirtualClock
    ) -> None:
        """The SDK's retry rides out two injected 503s on an idempotent read."""
        emulator.inject_fault("getCurrentUser", "error", status=503, times=2)
        limiter = AsyncRateLimiter(RateLimit(requests=600, period=60.0, burst=10), clock=clock)
        async with AsyncGetSales(
            api_key="emulator-key",
            base_url=BASE,
            transport=emulator.transport(),
            clock=clock,
            rate_limit=limiter,
        ) as client:
            assert (await client.teams.get_current_user()).id == 1
        assert [r.status for r in emulator.requests] == [503, 503, 200]

    @pytest.mark.parametrize(
        ("args", "message"),
        [
            ({"operation_id": "nope"}, "unknown operation"),
            ({"operation_id": "listTags", "fault": "meteor"}, "fault is one of"),
            ({"operation_id": "listTags", "status": 418}, "status is one of"),
            ({"operation_id": "listTags", "times": 0}, "times is"),
        ],
    )
    def test_bad_requests_are_refused(self, args: dict[str, Any], message: str) -> None:
        """Unknown operations and faults, odd statuses and counts fail with what to fix."""
        with pytest.raises(ValueError, match=message):
            GetSalesEmulator().inject_fault(**args)


class TestRealism:
    async def test_latency_targets_chosen_operations(self, clock: VirtualClock) -> None:
        """latency_for delays only the named operations, by path pattern or operationId."""
        faults = FaultConfig(latency_for={"listTags": 2.0, "/flows/api/*": 0.5})
        emulator = GetSalesEmulator(clock=clock, quota=None, faults=faults)
        async with httpx.AsyncClient(
            base_url=BASE, transport=emulator.transport(), headers=AUTH
        ) as c:
            waits = []
            for path in ("/leads/api/tags", "/leads/api/lists", "/flows/api/flows"):
                start = clock.now()
                assert (await c.get(path)).status_code == 200
                waits.append(clock.now() - start)
        assert waits == [pytest.approx(2.0), 0.0, pytest.approx(0.5)]
        with pytest.raises(ValueError, match="latency_for"):
            FaultConfig(latency_for={"listTags": -1})

    @pytest.mark.parametrize(
        "lead",
        [
            {"first_name": "Jane"},
            {"first_name": "Jane", "company_name": "Acme"},
            {"first_name": "Jane", "last_name": "Doe"},
            {"first_name": "Jane", "last_name": "Doe", "company_name": "Acme"},
            {"name": "Jane Doe", "company_name": "Acme"},
            {"work_email": "jane@acme.example"},
            {"linkedin_id": "janedoe"},
            {"ln_member_id": "123"},
            {"company_name": "Acme"},
        ],
    )
    async def test_identifier_rule_matches_the_sdk_csv_rule(
        self, client: AsyncGetSales, lead: dict[str, Any]
    ) -> None:
        """Upsert accepts exactly the contacts the SDK's CSV validation accepts."""
        listed = uuid_of(await client.lists.create(name="L"))
        try:
            await client.leads.upsert(lead=lead, list_uuid=listed)
        except UnprocessableEntityError as exc:
            assert "company_name" in str(exc)
            accepted = False
        else:
            accepted = True
        assert accepted == (row_identifier_problem(lead) is None)

    def test_command_line_sets_retry_after_and_latency(self) -> None:
        """--quota-retry-after and --latency-for reach the emulator; bad values are refused."""
        emulator = build(
            parser().parse_args(["--quota-retry-after", "--latency-for", "searchLeads=0.4"])
        )
        assert emulator.faults.config is not None
        assert emulator.faults.config.latency_of("searchLeads", "/leads/api/leads/search") == 0.4
        with pytest.raises(SystemExit):
            parser().parse_args(["--latency-for", "searchLeads=soon"])


class TestSnapshot:
    async def test_restore_puts_records_back_and_is_reusable(
        self, client: AsyncGetSales, emulator: GetSalesEmulator
    ) -> None:
        """restore() returns to the snapshot, as often as needed; uuids continue the same way."""
        await client.lists.create(name="Seeded")
        snapshot = emulator.snapshot()
        first = await client.lists.create(name="Later")
        emulator.restore(snapshot)
        assert [x.name async for x in client.lists.list()] == ["Seeded"]
        again = await client.lists.create(name="Later")
        assert uuid_of(again) == uuid_of(first)
        emulator.restore(snapshot)
        assert len(emulator.state.lists) == 1
        with pytest.raises(TypeError, match="snapshot"):
            emulator.restore("state")  # type: ignore[arg-type]

    async def test_queued_bulk_work_survives_a_snapshot(self, clock: VirtualClock) -> None:
        """Uploads, a running file import and a queued mass action are restored and then finish."""
        bulk = BulkConfig(queue_above=0, rows_per_second=1.0, batch_size=1)
        emulator = GetSalesEmulator(clock=clock, quota=None, bulk=bulk)
        async with httpx.AsyncClient(
            base_url=BASE, transport=emulator.transport(), headers=AUTH
        ) as http:
            listed = (await http.post("/leads/api/lists", json={"name": "In"})).json()["uuid"]
            await http.post(
                "/leads/api/leads/upsert",
                json={"lead": {"work_email": "c@x.io"}, "list_uuid": listed},
            )
            files = {"file": ("in.csv", b"email\na@x.io\nb@x.io\n", "text/csv")}
            data = {"type": "csv_leads"}
            upload = await http.post("/leads/api/file-imports/upload-csv", files=files, data=data)
            body = {"columns": {"work_email": 0}, "list_uuid": listed}
            path = f"/leads/api/file-imports/{upload.json()['uuid']}/import-leads"
            assert (await http.post(path, json=body)).status_code == 200
            tagging = {"type": "contact_add_tags", "filter": {"all": True}}
            await http.put(
                "/leads/api/leads/mass-action", json={**tagging, "payload": {"added_tags": ["x"]}}
            )
            snapshot = emulator.snapshot()
            finished = []
            for _ in range(2):
                emulator.restore(snapshot)
                state = emulator.state
                assert state.background.pending == 2 and len(state.uploads) == 1
                assert [j["status"] for j in state.file_imports.values()] == ["in_progress"]
                await emulator.advance(5)
                finished.append(
                    sorted((lead["work_email"], len(lead["tags"])) for lead in state.leads.values())
                )
                assert state.background.pending == 0
        assert finished == [[("a@x.io", 0), ("b@x.io", 0), ("c@x.io", 1)]] * 2
