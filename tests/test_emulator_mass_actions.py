"""The emulator's mass actions, over raw HTTP: payload checks, queueing, one export mechanism."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from getsales_async.testing import BulkConfig, GetSalesEmulator, VirtualClock
from getsales_async.testing.emulator import DEFAULT_API_KEY
from getsales_async.testing.emulator._exports import exported_file
from getsales_async.testing.emulator._mass_actions import MASS_ACTION_TYPES

pytestmark = pytest.mark.anyio

AUTH = {"Authorization": f"Bearer {DEFAULT_API_KEY}"}
MASS = "/leads/api/leads/mass-action"


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def clock() -> AsyncIterator[VirtualClock]:
    clock = VirtualClock()
    async with clock.autojump():
        yield clock


@pytest.fixture
async def emulator(clock: VirtualClock) -> GetSalesEmulator:
    """Five contacts in one list; actions on more than 2 contacts are queued, 1 contact a second."""
    bulk = BulkConfig(queue_above=2, rows_per_second=1.0, batch_size=2)
    return GetSalesEmulator(clock=clock, quota=None, bulk=bulk)


@pytest.fixture
async def http(emulator: GetSalesEmulator) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        base_url="http://emulator", transport=emulator.transport(), headers=AUTH
    ) as client:
        list_uuid = (await client.post("/leads/api/lists", json={"name": "L"})).json()["uuid"]
        for i in range(5):
            lead = {"work_email": f"p{i}@x.io", "first_name": f"P{i}"}
            await client.post(
                "/leads/api/leads/upsert", json={"lead": lead, "list_uuid": list_uuid}
            )
        yield client


class TestValidation:
    @pytest.mark.parametrize(
        ("action", "payload", "field"),
        [
            ("contact_add_tags", {}, "payload.added_tags"),
            ("contact_remove_tags", {"removed_tags": [1]}, "payload.removed_tags"),
            ("contact_change_list", {"list_uuid": "nope"}, "payload.list_uuid"),
            ("contact_change_pipeline_stage", {}, "payload.pipeline_stage_uuid"),
            (
                "contact_change_custom_field",
                {"custom_field_uuid": "nope"},
                "payload.custom_field_uuid",
            ),
            ("contact_change_custom_field", {"custom_field_uuid": "nope"}, "payload.value"),
            ("contact_add_to_flow", {}, "payload.flow_uuid"),
            ("contact_add_to_flow", {"flow_uuid": "nope"}, "payload.flow_uuid"),
            ("contact_cancel_from_flows", {"flow_uuids": []}, "payload.flow_uuids"),
            ("contact_assign_ai_agent", {"ai_agent_uuid": ""}, "payload.ai_agent_uuid"),
            ("contact_assign_ai_agent", {"ai_agent_uuid": "nope"}, "payload.ai_agent_uuid"),
            ("contact_delete", {"reason": 5}, "payload.reason"),
            ("contact_nothing", {}, "type"),
        ],
    )
    async def test_bad_payload_is_422_and_changes_nothing(
        self,
        http: httpx.AsyncClient,
        emulator: GetSalesEmulator,
        action: str,
        payload: dict[str, Any],
        field: str,
    ) -> None:
        """Each type checks its payload; a refused action records nothing and touches no contact."""
        body = {"type": action, "filter": {"all": True}, "payload": payload}
        answer = await http.put(MASS, json=body)
        assert answer.status_code == 422 and field in answer.json()["error"]["data"]
        assert emulator.state.mass_actions == {} and len(emulator.state.leads) == 5

    async def test_filter_is_required(self, http: httpx.AsyncClient) -> None:
        """A mass action without a filter is a 422 about filter."""
        answer = await http.put(MASS, json={"type": "contact_cancel_ai_agent"})
        assert answer.status_code == 422 and "filter" in answer.json()["error"]["data"]

    def test_the_documented_types_are_implemented(self) -> None:
        """The emulator knows the twelve contact types of the index."""
        assert len(MASS_ACTION_TYPES) == 12 and all(
            t.startswith("contact_") for t in MASS_ACTION_TYPES
        )


class TestQueue:
    async def test_small_sets_run_at_once(
        self, http: httpx.AsyncClient, emulator: GetSalesEmulator
    ) -> None:
        """Up to queue_above contacts the answer is the finished record."""
        ids = list(emulator.state.leads)[:2]
        body = {
            "type": "contact_add_tags",
            "filter": {"ids": ids},
            "payload": {"added_tags": ["f"]},
        }
        answer = (await http.put(MASS, json=body)).json()
        assert (answer["status"], answer["total"], answer["processed"]) == ("completed", 2, 2)
        tag = emulator.state.tag_named(1, "f")
        assert tag is not None
        assert [emulator.state.leads[i]["tags"] for i in ids] == [[tag["uuid"]], [tag["uuid"]]]

    async def test_large_sets_are_queued_and_processed_in_batches(
        self, http: httpx.AsyncClient, emulator: GetSalesEmulator, clock: VirtualClock
    ) -> None:
        """Above queue_above: queued, then batches at the rate; contacts deleted meanwhile skipped."""
        body = {"type": "contact_delete", "filter": {"all": True}, "payload": {"reason": "x"}}
        answer = (await http.put(MASS, json=body)).json()
        assert (answer["status"], answer["total"], answer["processed"]) == ("queued", 5, 0)
        record = emulator.state.mass_actions[answer["uuid"]]
        seen = []
        for _ in range(4):
            await clock.sleep(2)
            await http.post("/leads/api/leads/count", json={})
            seen.append((record["status"], record["processed"], len(emulator.state.leads)))
        assert seen == [
            ("in_progress", 2, 3),
            ("in_progress", 4, 1),
            ("completed", 5, 0),
            ("completed", 5, 0),
        ]

    async def test_export_writes_the_selected_contacts(
        self, http: httpx.AsyncClient, emulator: GetSalesEmulator, clock: VirtualClock
    ) -> None:
        """contact_export_csv names its file in result.files once done; the CSV holds the contacts."""
        answer = (
            await http.put(MASS, json={"type": "contact_export_csv", "filter": {"all": True}})
        ).json()
        assert "result" not in answer
        await clock.sleep(10)
        emulator.state.background.run_due()
        (name,) = emulator.state.mass_actions[answer["uuid"]]["result"]["files"]
        download = await http.post("/leads/api/file-exports/download", json={"file_name": name})
        assert download.status_code == 200
        rows = list(csv.DictReader(io.StringIO(download.text)))
        assert sorted(r["work_email"] for r in rows) == [f"p{i}@x.io" for i in range(5)]
        assert exported_file(emulator.state, 1, name) == download.content
        assert exported_file(emulator.state, 2, name) is None
