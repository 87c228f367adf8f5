"""The GetSales emulator, exercised through the real SDK (and raw httpx where exact answers matter)."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from typing import Any

import anyio
import httpx
import pytest
from openapi_schema_validator import OAS30Validator

from getsales_async import (
    APIConnectionError,
    AsyncGetSales,
    AuthenticationError,
    InternalServerError,
    NotFoundError,
    PermissionDeniedError,
    UnprocessableEntityError,
)
from getsales_async._budget import RetryBudget
from getsales_async._limiter import AsyncRateLimiter, RateLimit
from getsales_async._resources import OPERATIONS
from getsales_async.models import (
    CompanyInput,
    Lead,
    LeadSearchResult,
    ObjectType,
    OrderType,
    PipelineCategory,
    WebhookEvent,
    WebhookStatus,
)
from getsales_async.testing import (
    IMPLEMENTED_OPERATIONS,
    FaultConfig,
    GetSalesEmulator,
    VirtualClock,
)
from getsales_async.testing.emulator import DEFAULT_API_KEY
from getsales_async.testing.emulator._main import banner
from getsales_async.testing.emulator._operations import HANDLERS

from .conftest import ROOT, load_spec

pytestmark = pytest.mark.anyio

BASE = "http://emulator"
SERVER_SIDE_BULK = frozenset({"uploadCsv", "importLeadsFromFile", "importCompaniesFromFile"})
"""Operations the server-side bulk work adds to the emulator (absent until it is merged)."""
AUTH = {"Authorization": f"Bearer {DEFAULT_API_KEY}"}
SERVER_TIMEOUT_S = 10.0


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def clock() -> AsyncIterator[VirtualClock]:
    """A virtual clock that jumps to the next deadline whenever every task waits."""
    clock = VirtualClock()
    async with clock.autojump():
        yield clock


@pytest.fixture
def emulator(clock: VirtualClock) -> GetSalesEmulator:
    """An emulator on the virtual clock, without the quota (TestQuota builds its own)."""
    return GetSalesEmulator(clock=clock, quota=None)


def sdk(
    emulator: GetSalesEmulator,
    clock: VirtualClock,
    *,
    key: str = DEFAULT_API_KEY,
    team_id: int | None = None,
    max_retries: int = 5,
) -> AsyncGetSales:
    """An SDK client on the emulator with its own, generous limiter and retry budget (the quota
    and the faults are the server's)."""
    return AsyncGetSales(
        api_key=key,
        team_id=team_id,
        base_url=BASE,
        transport=emulator.transport(),
        clock=clock,
        max_retries=max_retries,
        rate_limit=AsyncRateLimiter(
            RateLimit(requests=60_000, period=60.0, burst=1_000), clock=clock
        ),
        retry_budget=RetryBudget(capacity=10_000),
    )


@pytest.fixture
async def client(emulator: GetSalesEmulator, clock: VirtualClock) -> AsyncIterator[AsyncGetSales]:
    async with sdk(emulator, clock) as c:
        yield c


@pytest.fixture
async def raw(emulator: GetSalesEmulator, clock: VirtualClock) -> AsyncIterator[httpx.AsyncClient]:
    """Plain httpx on the emulator: no retries, every answer as sent."""
    async with httpx.AsyncClient(base_url=BASE, transport=emulator.transport(), headers=AUTH) as c:
        yield c


async def new_list(client: AsyncGetSales, name: str = "Prospects") -> str:
    created = await client.lists.create(name=name)
    assert isinstance(created.uuid, str)
    return created.uuid


def uuid_of(item: LeadSearchResult) -> str:
    """The contact uuid of a search item."""
    assert isinstance(item.lead, Lead)
    return str(item.lead.uuid)


async def upsert(client: AsyncGetSales, list_uuid: str, **lead: Any) -> tuple[str, str]:
    """Upsert a contact; returns its uuid and the ``X-Emulator-Upsert`` outcome."""
    answer = await client.leads.with_raw_response.upsert(lead=lead, list_uuid=list_uuid)
    assert isinstance(answer.parsed.uuid, str)
    return answer.parsed.uuid, answer.headers["X-Emulator-Upsert"]


# ---------------------------------------------------------------------------- conformance helper


def _response_schema(operation_id: str, status: int) -> dict[str, Any] | None:
    spec = load_spec()
    for item in spec["paths"].values():
        for operation in item.values():
            if isinstance(operation, dict) and operation.get("operationId") == operation_id:
                response = operation["responses"].get(str(status))
                if response is None:
                    return None
                if "$ref" in response:
                    response = spec["components"]["responses"][response["$ref"].rsplit("/", 1)[1]]
                content = response.get("content", {}).get("application/json")
                return None if content is None else dict(content["schema"])
    raise AssertionError(f"{operation_id} is not in the spec")


def assert_conforms(operation_id: str, response: httpx.Response) -> None:
    """The answer's status is documented and its body matches the spec's schema for it."""
    spec = load_spec()
    statuses = next(
        op["responses"]
        for item in spec["paths"].values()
        for op in item.values()
        if isinstance(op, dict) and op.get("operationId") == operation_id
    )
    assert str(response.status_code) in statuses, (operation_id, response.status_code)
    schema = _response_schema(operation_id, response.status_code)
    if schema is None:
        assert response.content == b"", (operation_id, response.content)
        return
    if schema.get("nullable") and response.json() is None:
        return  # as schemathesis reads OpenAPI 3.0: `nullable` admits null whatever allOf says
    root = {"components": spec["components"], **schema}
    errors = sorted(OAS30Validator(root).iter_errors(response.json()), key=str)
    assert not errors, f"{operation_id} {response.status_code}: {errors[0].message}"


# ---------------------------------------------------------------------------- tests


class TestAuth:
    async def test_missing_key_is_401_auth_exception(self, emulator: GetSalesEmulator) -> None:
        """No Authorization header: 401 with the auth_exception envelope."""
        async with httpx.AsyncClient(base_url=BASE, transport=emulator.transport()) as c:
            answer = await c.get("/id/api/users/current")
        assert answer.status_code == 401
        assert answer.json()["error"]["reason"] == "auth_exception"
        assert answer.json()["code"] == 401 and answer.json()["error"]["data"] == []

    async def test_unknown_key_raises_authentication_error(
        self, emulator: GetSalesEmulator, clock: VirtualClock
    ) -> None:
        """An unknown key is refused with 401; the log keeps its fingerprint, never the key."""
        async with sdk(emulator, clock, key="not-a-key") as c:
            with pytest.raises(AuthenticationError) as caught:
                await c.teams.get_current_user()
        assert caught.value.reason == "auth_exception"
        logged = emulator.requests[-1]
        assert logged.status == 401 and logged.key is not None
        assert "not-a-key" not in repr(emulator.requests) + repr(emulator)

    async def test_team_id_of_another_team_is_403(self, clock: VirtualClock) -> None:
        """A Team-ID the key does not belong to is 403 access_denied; its own team is fine."""
        emulator = GetSalesEmulator(api_keys={"key-one": 1, "key-two": 2}, clock=clock)
        async with sdk(emulator, clock, key="key-one", team_id=2) as c:
            with pytest.raises(PermissionDeniedError) as caught:
                await c.teams.get_current_user()
        assert caught.value.reason == "access_denied"
        async with sdk(emulator, clock, key="key-one", team_id=1) as c:
            me = await c.teams.get_current_user()
            assert me.config.latest_team_id == 1  # type: ignore[union-attr]
            with pytest.raises(PermissionDeniedError):
                await c.teams.get(2)
            with pytest.raises(NotFoundError):
                await c.teams.get(99)
            assert (await c.teams.get(1)).id == 1
            assert [t.id for t in (await c.teams.list()).items] == [1]

    async def test_teams_do_not_see_each_other(self, clock: VirtualClock) -> None:
        """Records belong to the key's team: another team's uuid is a 404."""
        emulator = GetSalesEmulator(api_keys={"key-one": 1, "key-two": 2}, clock=clock)
        async with (
            sdk(emulator, clock, key="key-one") as one,
            sdk(emulator, clock, key="key-two") as two,
        ):
            list_uuid = await new_list(one)
            with pytest.raises(NotFoundError):
                await two.lists.get(list_uuid)
            assert (await two.lists.list()).total == 0

    def test_invalid_api_keys_are_refused(self) -> None:
        """Constructor arguments are checked up front, with a message that shows the shape."""
        with pytest.raises(ValueError, match="positive team ids"):
            GetSalesEmulator(api_keys={"k": 0})
        with pytest.raises(ValueError, match="positive team ids"):
            GetSalesEmulator(api_keys={})


class TestRouting:
    async def test_every_operation_is_implemented_and_a_missing_one_is_404(
        self, raw: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Every operation of the spec has a handler; one without would answer 404 saying so."""
        assert set(OPERATIONS) == IMPLEMENTED_OPERATIONS
        monkeypatch.delitem(HANDLERS, "getList")
        answer = await raw.get("/leads/api/lists/00000000-0000-4000-8000-000000000000")
        assert answer.status_code == 404
        assert answer.json()["error"]["reason"] == "not_implemented"
        assert "getList" in answer.json()["error"]["message"]

    async def test_unknown_path_is_404_and_wrong_method_405(self, raw: httpx.AsyncClient) -> None:
        """Paths outside the spec are 404; a known path with another method is 405 with Allow."""
        assert (await raw.get("/nope")).status_code == 404
        answer = await raw.patch("/leads/api/lists")
        assert answer.status_code == 405
        assert set(answer.headers["Allow"].split(", ")) >= {"GET", "POST"}

    async def test_literal_paths_win_over_templates(self, raw: httpx.AsyncClient) -> None:
        """PUT /leads/api/leads/mass-action is the mass action, not an update of lead "mass-action"."""
        answer = await raw.put("/leads/api/leads/mass-action", json={"type": "contact_delete"})
        assert answer.status_code == 422
        assert "filter" in answer.json()["error"]["data"]

    async def test_answers_carry_date_and_request_id(self, raw: httpx.AsyncClient) -> None:
        """Answers carry X-Request-Id and a Date on the emulator's clock (2025-01-01 when virtual)."""
        answer = await raw.get("/id/api/users/current")
        assert answer.headers["X-Request-Id"] == "emu-000001"
        assert answer.headers["Date"] == "Wed, 01 Jan 2025 00:00:00 GMT"
        assert answer.json()["created_at"] == "2025-01-01T00:00:00.000000Z"

    async def test_malformed_json_is_400(self, raw: httpx.AsyncClient) -> None:
        """A body that is not JSON is 400 bad_request."""
        answer = await raw.post("/leads/api/lists", content=b"{nope")
        assert answer.status_code == 400
        assert answer.json()["error"]["reason"] == "bad_request"
        lone_surrogate = await raw.post("/leads/api/lists", content=b'{"name": "\\ud800"}')
        assert lone_surrogate.status_code == 400
        assert (await raw.post("/leads/api/tags")).status_code == 400  # a POST needs a body

    async def test_odd_text_is_stored_not_crashed_on(self, raw: httpx.AsyncClient) -> None:
        """Strings that are no URL or domain are kept as given (found by fuzzing)."""
        answer = await raw.post("/leads/api/companies-blacklist", json={"domain": "[x\u00fb'"})
        assert answer.status_code == 201 and answer.json()["domain"] == "[x\u00fb'"
        hook = {"name": "h", "event": "contact_created", "target_url": "http://[oops"}
        assert (await raw.post("/integrations/api/webhooks", json=hook)).status_code == 422
        assert (await raw.get("/leads/api/lists", params={"limit": ""})).status_code == 422

    def test_implemented_operations_are_spec_operations(self) -> None:
        """Every implemented operationId exists in the spec."""
        spec_ids = {
            op["operationId"]
            for item in load_spec()["paths"].values()
            for op in item.values()
            if isinstance(op, dict) and "operationId" in op
        }
        assert spec_ids >= IMPLEMENTED_OPERATIONS
        assert spec_ids == IMPLEMENTED_OPERATIONS


class TestCrm:
    async def test_lists_crud_unique_names_and_filters(self, client: AsyncGetSales) -> None:
        """Lists: 201 on create, unique names, bracket filters, 404 once deleted."""
        created = await client.lists.with_raw_response.create(name="Alpha")
        assert created.status_code == 201
        beta = await new_list(client, "Beta")
        with pytest.raises(UnprocessableEntityError) as caught:
            await client.lists.create(name="alpha")
        assert caught.value.field_errors == {"name": ["The name has already been taken."]}
        assert [x.name for x in (await client.lists.list(filter={"name": "Beta"})).items] == [
            "Beta"
        ]
        assert (await client.lists.list(filter={"q": "alp"})).total == 1
        both = await client.lists.list(filter={"uuid": [beta, str(created.parsed.uuid)]})
        assert both.total == 2
        assert (await client.lists.update(beta, name="Gamma")).name == "Gamma"
        await client.lists.delete(beta)
        with pytest.raises(NotFoundError):
            await client.lists.get(beta)

    async def test_tags_unique_rename_and_delete(self, client: AsyncGetSales) -> None:
        """Tags: unique names; deleting one removes it from contacts."""
        tag = await client.tags.create(name="vip", color="#ff5733")
        with pytest.raises(UnprocessableEntityError):
            await client.tags.create(name="VIP")
        list_uuid = await new_list(client)
        lead_uuid, _ = await upsert(client, list_uuid, linkedin_id="jdoe", tags=["vip"])
        assert (await client.leads.get(lead_uuid)).tags == [tag.uuid]
        assert (await client.tags.update(str(tag.uuid), name="gold")).name == "gold"
        await client.tags.delete(str(tag.uuid))
        assert (await client.leads.get(lead_uuid)).tags == []
        assert (await client.tags.list()).total == 0

    async def test_custom_fields_keys_and_names(self, client: AsyncGetSales) -> None:
        """Custom fields get keys 1, 2, ...; names follow the naming rule and are unique."""
        first = await client.custom_fields.create(name="segment", object="lead")
        second = await client.custom_fields.create(name="score", object="lead")
        assert (first.key, second.key) == (1, 2)
        with pytest.raises(UnprocessableEntityError):
            await client.custom_fields.create(name="1bad", object="lead")
        with pytest.raises(UnprocessableEntityError):
            await client.custom_fields.create(name="SEGMENT", object="lead")
        assert (await client.custom_fields.update(str(first.uuid), name="tier")).name == "tier"
        await client.custom_fields.delete(str(second.uuid))
        assert [f.name for f in (await client.custom_fields.list()).items] == ["tier"]

    async def test_pipeline_stages_defaults_filter_and_reorder(self, client: AsyncGetSales) -> None:
        """Every team starts with stages per object; new ones append; order moves the others."""
        lead_stages = await client.pipeline_stages.list(filter={"object": "lead"})
        assert [s.order for s in lead_stages.items] == [1, 2, 3, 4]
        won = await client.pipeline_stages.create(
            name="Won", object=ObjectType.LEAD, category=PipelineCategory.POSITIVE
        )
        assert won.order == 5 and won.type_ == "custom"
        await client.pipeline_stages.update(str(won.uuid), order=1)
        names = [
            s.name for s in (await client.pipeline_stages.list(filter={"object": "lead"})).items
        ]
        assert names == ["Won", "New", "Approaching", "Engaging", "Replied"]

    async def test_notes_need_an_existing_record(self, client: AsyncGetSales) -> None:
        """Notes attach to a contact or company of the team; they list by object_uuid."""
        with pytest.raises(UnprocessableEntityError):
            await client.notes.create(object=ObjectType.LEAD, object_uuid="missing", note="hi")
        lead_uuid, _ = await upsert(client, await new_list(client), work_email="a@x.io")
        note = await client.notes.create(object=ObjectType.LEAD, object_uuid=lead_uuid, note="call")
        assert (await client.notes.update(str(note.uuid), note="called")).note == "called"
        assert (await client.notes.list(filter={"object_uuid": lead_uuid})).total == 1
        await client.notes.delete(str(note.uuid))
        assert (await client.notes.list()).total == 0

    async def test_webhooks_default_method_and_crud(self, client: AsyncGetSales) -> None:
        """Webhooks: request_method defaults to POST, status to on; target_url must be a URL."""
        hook = await client.webhooks.create(
            name="replies",
            event=WebhookEvent.CONTACT_REPLIED_EMAIL,
            target_url="https://example.com/h",
        )
        assert (hook.request_method, hook.status) == ("POST", "on")
        with pytest.raises(UnprocessableEntityError):
            await client.webhooks.create(
                name="x", event=WebhookEvent.CONTACT_CREATED, target_url="nope"
            )
        updated = await client.webhooks.update(
            str(hook.uuid), target_url="https://example.com/v2", status=WebhookStatus.OFF
        )
        assert (updated.target_url, updated.status) == ("https://example.com/v2", "off")
        assert (await client.webhooks.list(filter={"status": "off"})).total == 1
        await client.webhooks.delete(str(hook.uuid))
        with pytest.raises(NotFoundError):
            await client.webhooks.get(str(hook.uuid))


class TestUpsert:
    @pytest.mark.parametrize(
        ("incoming", "expected"),
        [
            ({"ln_member_id": "111", "work_email": "b@bob.io"}, "a"),  # member id before email
            ({"ln_id": "ACoAAB", "linkedin": "bob"}, "a"),  # ln_id before nickname
            ({"linkedin": "https://www.linkedin.com/in/BOB/", "work_email": "a@ann.io"}, "b"),
            ({"work_email": "A@ann.io", "personal_email": "bob@home.io"}, "a"),
            ({"personal_email": "bob@home.io", "first_name": "Ann", "last_name": "A"}, "b"),
            ({"first_name": "ann", "last_name": "a", "company_name": "ACME"}, "a"),
            ({"sn_id": "ACwAAZ"}, "b"),
            ({"work_email": "new@new.io"}, None),
        ],
    )
    async def test_deduplication_priority(
        self, client: AsyncGetSales, incoming: dict[str, Any], expected: str | None
    ) -> None:
        """An upsert updates the contact its highest-priority key matches, or creates one."""
        list_uuid = await new_list(client)
        ann, _ = await upsert(
            client,
            list_uuid,
            ln_member_id="111",
            ln_id="ACoAAB",
            work_email="a@ann.io",
            first_name="Ann",
            last_name="A",
            company_name="Acme",
        )
        bob, _ = await upsert(
            client, list_uuid, linkedin_id="bob", sn_id="ACwAAZ", personal_email="bob@home.io"
        )
        found, outcome = await upsert(client, list_uuid, **incoming)
        if expected is None:
            assert outcome == "created" and found not in (ann, bob)
        else:
            assert outcome == "updated" and found == {"a": ann, "b": bob}[expected]

    @pytest.mark.parametrize(
        ("reference", "field", "value"),
        [
            (
                "https://www.linkedin.com/in/Jane-Doe-42/?trk=x",
                "linkedin",
                "https://www.linkedin.com/in/jane-doe-42",
            ),
            ("jane-doe-42", "linkedin", "https://www.linkedin.com/in/jane-doe-42"),
            ("https://www.linkedin.com/sales/lead/ACwAAA1,NAME_SEARCH,x", "sn_id", "ACwAAA1"),
            ("ACwAAB2", "sn_id", "ACwAAB2"),
            ("ACoAAC3", "ln_id", "ACoAAC3"),
            ("123456", "ln_member_id", "123456"),
        ],
    )
    async def test_linkedin_id_is_detected(
        self, client: AsyncGetSales, reference: str, field: str, value: str
    ) -> None:
        """The universal linkedin_id lands in the field its format says."""
        lead = await client.leads.upsert(
            lead={"linkedin_id": reference}, list_uuid=await new_list(client)
        )
        assert lead.to_dict()[field] == value

    async def test_tags_by_name_created_and_added_on_update(
        self, client: AsyncGetSales, emulator: GetSalesEmulator
    ) -> None:
        """Tag names are created when missing and stored as uuids; an update adds, never removes."""
        list_uuid = await new_list(client)
        lead_uuid, _ = await upsert(client, list_uuid, linkedin_id="jdoe", tags=["vip", "cto"])
        _, outcome = await upsert(client, list_uuid, linkedin_id="JDOE", tags=["cto", "hot"])
        names = {t.uuid: t.name for t in (await client.tags.list()).items}
        tags = (await client.leads.get(lead_uuid)).tags
        assert outcome == "updated" and [names[t] for t in tags or []] == ["vip", "cto", "hot"]
        assert [e.outcome for e in emulator.state.upserts] == ["created", "updated"]

    async def test_update_if_exists_false_skips(self, client: AsyncGetSales) -> None:
        """With update_if_exists=false an existing match comes back unchanged ("skipped")."""
        list_uuid = await new_list(client)
        lead_uuid, _ = await upsert(client, list_uuid, work_email="a@x.io", position="CTO")
        answer = await client.leads.with_raw_response.upsert(
            lead={"work_email": "a@x.io", "position": "CEO"},
            list_uuid=list_uuid,
            update_if_exists=False,
        )
        assert answer.headers["X-Emulator-Upsert"] == "skipped"
        assert answer.parsed.uuid == lead_uuid and answer.parsed.position == "CTO"

    async def test_move_to_list_and_missing_list(self, client: AsyncGetSales) -> None:
        """A match stays in its list unless move_to_list; an unknown list_uuid is 422."""
        first, second = await new_list(client, "one"), await new_list(client, "two")
        lead_uuid, _ = await upsert(client, first, work_email="a@x.io")
        await upsert(client, second, work_email="a@x.io")
        assert (await client.leads.get(lead_uuid)).list_uuid == first
        await client.leads.upsert(
            lead={"work_email": "a@x.io"}, list_uuid=second, move_to_list=True
        )
        assert (await client.leads.get(lead_uuid)).list_uuid == second
        with pytest.raises(UnprocessableEntityError) as caught:
            await client.leads.upsert(lead={"work_email": "b@x.io"}, list_uuid="missing")
        assert "list_uuid" in caught.value.field_errors

    async def test_custom_fields_by_name_in_search(self, client: AsyncGetSales) -> None:
        """Upsert custom_fields are keyed by name or uuid and come back in search items."""
        field = await client.custom_fields.create(name="segment", object="lead")
        list_uuid = await new_list(client)
        await client.leads.upsert(
            lead={"work_email": "a@x.io"}, list_uuid=list_uuid, custom_fields={"segment": "smb"}
        )
        await client.leads.upsert(
            lead={"work_email": "b@x.io"},
            list_uuid=list_uuid,
            custom_fields={str(field.uuid): "ent"},
        )
        items = (
            await client.leads.search(order_field="work_email", order_type=OrderType.ASC)
        ).items
        assert [i.custom_fields for i in items] == [{"segment": "smb"}, {"segment": "ent"}]
        with pytest.raises(UnprocessableEntityError):
            await client.leads.upsert(
                lead={"work_email": "c@x.io"}, list_uuid=list_uuid, custom_fields={"nope": 1}
            )


class TestBlacklist:
    async def test_blacklisted_contact_is_refused(self, client: AsyncGetSales) -> None:
        """Upserts matching a contact or company blacklist entry are 422, naming the blacklist."""
        list_uuid = await new_list(client)
        await client.blacklist.add_lead(linkedin="https://www.linkedin.com/in/spammer")
        await client.blacklist.add_company(domain="https://www.blocked.io/about")
        with pytest.raises(UnprocessableEntityError, match="leads blacklist"):
            await client.leads.upsert(lead={"linkedin_id": "Spammer"}, list_uuid=list_uuid)
        with pytest.raises(UnprocessableEntityError, match="companies blacklist"):
            await client.leads.upsert(lead={"work_email": "ceo@blocked.io"}, list_uuid=list_uuid)
        assert (await client.leads.count()).total == 0

    async def test_new_entries_delete_matching_contacts(self, client: AsyncGetSales) -> None:
        """Adding entries deletes matching contacts at once; others stay."""
        list_uuid = await new_list(client)
        keep, _ = await upsert(client, list_uuid, work_email="a@fine.io")
        await upsert(client, list_uuid, personal_email="x@home.io")
        await upsert(client, list_uuid, work_email="b@blocked.io")
        await upsert(client, list_uuid, first_name="Jo", last_name="Bloggs", company_name="Acme")
        await client.blacklist.add_lead(email="X@home.io")
        await client.blacklist.add_lead(name="jo bloggs", company_name="acme")
        await client.blacklist.add_company(domain="blocked.io")
        assert [i.lead.uuid async for i in client.leads.search()] == [keep]  # type: ignore[union-attr]

    async def test_entries_list_and_delete(
        self, client: AsyncGetSales, raw: httpx.AsyncClient
    ) -> None:
        """Entries list in the envelope; DELETE is 204, then 404; an entry without identity is 422."""
        entry = await client.blacklist.add_lead(work_email="a@x.io")
        company = await client.blacklist.add_company(name="Evil Corp")
        assert (await client.blacklist.list_leads()).total == 1
        assert (await client.blacklist.list_companies()).items[0].name == "Evil Corp"
        await client.blacklist.remove_lead(str(entry.uuid))
        await client.blacklist.remove_company(str(company.uuid))
        with pytest.raises(NotFoundError):
            await client.blacklist.remove_lead(str(entry.uuid))
        refused = await raw.post("/leads/api/leads-blacklist", json={"name": "only a name"})
        assert refused.status_code == 422 and "linkedin" in refused.json()["error"]["data"]


class TestSearch:
    async def test_q_and_filters(self, client: AsyncGetSales) -> None:
        """q searches name, e-mail, position, headline and about; filters narrow by field."""
        one, two = await new_list(client, "one"), await new_list(client, "two")
        a, _ = await upsert(
            client,
            one,
            first_name="Ann",
            last_name="Lee",
            company_name="Initech",
            position="CTO",
            tags=["vip"],
        )
        b, _ = await upsert(client, one, work_email="bob@acme.io", headline="Growth at Acme")
        c, _ = await upsert(client, two, personal_email="cy@home.io", about="Loves acme rockets")

        async def found(**search_filter: Any) -> set[str]:
            return {uuid_of(i) async for i in client.leads.search(filter=search_filter)}

        assert await found(q="acme") == {b, c}
        assert await found(q="ann cto") == {a}
        assert await found(list_uuid=one) == {a, b}
        assert await found(list_uuid=[two], q="acme") == {c}
        assert await found(tags="vip") == {a}
        assert await found(tags="is_null") == {b, c}
        assert await found(work_email_domain="acme.io") == {b}
        assert await found(status="ok") == {a, b, c}

    async def test_pages_and_iteration(
        self, client: AsyncGetSales, emulator: GetSalesEmulator
    ) -> None:
        """The envelope carries limit/offset/total/has_more; iteration walks every page."""
        list_uuid = await new_list(client)
        for n in range(25):
            await upsert(client, list_uuid, work_email=f"p{n}@x.io")
        first = await client.leads.search(page_size=10)
        assert (len(first.items), first.total, first.has_more) == (10, 25, True)
        everything = [i.lead.work_email async for i in client.leads.search(page_size=10)]  # type: ignore[union-attr]
        assert everything == [f"p{n}@x.io" for n in reversed(range(25))]  # newest first
        offsets = [r.json["offset"] for r in emulator.requests if r.operation_id == "searchLeads"]
        assert offsets[-3:] == [0, 10, 20]

    async def test_limit_and_window_errors(self, raw: httpx.AsyncClient) -> None:
        """limit over 100 is 422; offset + limit over 10,000 is the production 500."""
        over = await raw.post("/leads/api/leads/search", json={"limit": 101})
        assert over.status_code == 422 and "limit" in over.json()["error"]["data"]
        deep = await raw.post("/leads/api/leads/search", json={"offset": 9950, "limit": 100})
        assert deep.status_code == 500
        assert "Result window is too large" in deep.json()["error"]["message"]
        lists = await raw.get("/leads/api/lists", params={"limit": 0})
        assert lists.status_code == 422

    async def test_window_error_through_sdk_is_not_retried(
        self, client: AsyncGetSales, emulator: GetSalesEmulator
    ) -> None:
        """The SDK raises InternalServerError for the window 500 without retrying it."""
        with pytest.raises(InternalServerError):
            await client.request(
                "POST", "/leads/api/leads/search", json={"offset": 10_000, "limit": 1}
            )
        assert [r.status for r in emulator.requests] == [500]

    async def test_count(self, client: AsyncGetSales) -> None:
        """count: everything by default, or ids / all / filter."""
        list_uuid = await new_list(client)
        a, _ = await upsert(client, list_uuid, work_email="a@x.io")
        await upsert(client, await new_list(client, "other"), work_email="b@x.io")
        assert (await client.leads.count()).total == 2
        assert (await client.leads.count(ids=[a])).total == 1
        assert (await client.leads.count(filter={"list_uuid": list_uuid})).total == 1
        assert (await client.leads.count(filter={"all": True, "excludeIds": [a]})).total == 1


class TestLookup:
    async def test_lookup_finds_by_each_identifier(self, client: AsyncGetSales) -> None:
        """lookup-one matches a LinkedIn reference, an e-mail, or name + company name."""
        list_uuid = await new_list(client)
        lead_uuid, _ = await upsert(
            client,
            list_uuid,
            linkedin_id="jdoe",
            personal_email="j@home.io",
            first_name="John",
            last_name="Doe",
            company_name="Acme",
        )
        found = [
            await client.leads.lookup(linkedin_id="https://linkedin.com/in/JDoe"),
            await client.leads.lookup(email="J@home.io"),
            await client.leads.lookup(name="john doe", company_name="ACME"),
        ]
        assert [lead.uuid if lead else None for lead in found] == [lead_uuid] * 3

    async def test_no_match_is_200_null_and_no_identifier_422(self, raw: httpx.AsyncClient) -> None:
        """Not found is 200 with a JSON null (never 404); no identifier at all is 422."""
        answer = await raw.post("/leads/api/leads/lookup-one", json={"email": "nobody@x.io"})
        assert (answer.status_code, answer.content) == (200, b"null")
        assert (
            await raw.post("/leads/api/leads/lookup-one", json={"name": "x"})
        ).status_code == 422

    async def test_sdk_lookup_returns_none_when_not_found(self, client: AsyncGetSales) -> None:
        """The SDK turns the documented 200 null into None, for contacts and companies."""
        assert await client.leads.lookup(email="nobody@x.io") is None
        assert await client.companies.lookup(name="Nobody") is None


class TestMassAction:
    async def test_tags_lists_and_delete(self, client: AsyncGetSales) -> None:
        """Mass actions add, remove and replace tags (by name or uuid), move and delete contacts."""
        one, two = await new_list(client, "one"), await new_list(client, "two")
        a, _ = await upsert(client, one, work_email="a@x.io", tags=["old"])
        b, _ = await upsert(client, one, work_email="b@x.io")

        async def tag_names(lead_uuid: str) -> list[str]:
            names = {t.uuid: t.name for t in (await client.tags.list()).items}
            return [str(names[t]) for t in (await client.leads.get(lead_uuid)).tags or []]

        ack = await client.leads.mass_action(
            type="contact_add_tags", filter={"ids": [a, b]}, payload={"added_tags": ["hot"]}
        )
        assert ack.additional_properties["processed"] == 2
        assert await tag_names(a) == ["old", "hot"] and await tag_names(b) == ["hot"]
        await client.leads.mass_action(
            type="contact_remove_tags", filter={"all": True}, payload={"removed_tags": ["old"]}
        )
        assert await tag_names(a) == ["hot"]
        await client.leads.mass_action(
            type="contact_replace_tags", filter={"ids": [a]}, payload={"tags": ["new"]}
        )
        assert await tag_names(a) == ["new"]
        await client.leads.mass_action(
            type="contact_change_list", filter={"ids": [b]}, payload={"list_uuid": two}
        )
        assert (await client.leads.get(b)).list_uuid == two
        await client.leads.mass_action(
            type="contact_delete", filter={"all": True, "list_uuid": one}
        )
        assert [i.lead.uuid async for i in client.leads.search()] == [b]  # type: ignore[union-attr]

    async def test_unknown_type_is_422(self, client: AsyncGetSales) -> None:
        """A type the index does not document is refused, not silently ignored."""
        with pytest.raises(UnprocessableEntityError, match="Unknown mass action"):
            await client.leads.mass_action(type="contact_mark_read", filter={"all": True})


class TestCompanies:
    async def test_create_list_lookup_update_delete(self, client: AsyncGetSales) -> None:
        """Companies: create (array back), dedup by domain, list, lookup, update, delete."""
        created = await client.companies.create(
            body=[
                CompanyInput(name="Acme", domain="https://www.acme.io"),
                CompanyInput(name="Beta"),
            ]
        )
        assert isinstance(created, list) and [c.domain for c in created] == ["acme.io", None]
        again = await client.companies.create(body=CompanyInput(name="Acme Inc", domain="acme.io"))
        assert isinstance(again, list) and again[0].uuid == created[0].uuid
        page = await client.companies.list(filter={"q": "acme"})
        assert [i.company.name for i in page.items] == ["Acme Inc"]  # type: ignore[union-attr]
        found = await client.companies.lookup(domain="acme.io")
        assert found is not None and found.uuid == created[0].uuid
        lead = await client.leads.upsert(
            lead={"work_email": "a@acme.io"}, list_uuid=await new_list(client)
        )
        assert lead.company_uuid == created[0].uuid
        updated = await client.companies.update(str(created[0].uuid), ln_id=42, industry="Tools")
        assert (updated.ln_id, updated.industry) == (42, "Tools")
        await client.companies.delete(str(created[0].uuid))
        assert (await client.leads.get(str(lead.uuid))).company_uuid is None
        with pytest.raises(NotFoundError):
            await client.companies.get(str(created[0].uuid))

    async def test_lookup_null_and_blacklisted_company(self, raw: httpx.AsyncClient) -> None:
        """Company lookup without a match is 200 null; a blacklisted company is refused."""
        answer = await raw.post("/leads/api/companies/lookup", json={"name": "Nobody"})
        assert (answer.status_code, answer.content) == (200, b"null")
        await raw.post("/leads/api/companies-blacklist", json={"name": "Evil"})
        refused = await raw.post("/leads/api/companies", json={"name": "evil"})
        assert refused.status_code == 422


class TestQuota:
    async def test_429_is_retried_by_the_sdk(self, clock: VirtualClock) -> None:
        """Over the per-key quota the answer is 429 (no Retry-After); the SDK backs off and retries."""
        emulator = GetSalesEmulator(quota=RateLimit(requests=2, period=1.0, burst=1), clock=clock)
        async with sdk(emulator, clock) as client:
            start = clock.now()
            async with anyio.create_task_group() as tg:
                for _ in range(6):
                    tg.start_soon(client.teams.get_current_user)
            elapsed = clock.now() - start
        statuses = [r.status for r in emulator.requests]
        assert statuses.count(200) == 6 and statuses.count(429) >= 1
        assert all(r.faults == ("quota",) for r in emulator.requests if r.status == 429)
        assert elapsed >= 2.5  # 6 requests at 2 per second
        assert client.statistics().rate_limited == statuses.count(429)

    @pytest.mark.parametrize(("configured", "expected"), [(False, None), (True, "10")])
    async def test_429_answer_shape(
        self, clock: VirtualClock, configured: bool, expected: str | None
    ) -> None:
        """The quota's 429 has the envelope; whole-second Retry-After only when configured."""
        emulator = GetSalesEmulator(
            quota=RateLimit(requests=1, period=10.0, burst=1),
            quota_retry_after=configured,
            clock=clock,
        )
        async with httpx.AsyncClient(
            base_url=BASE, transport=emulator.transport(), headers=AUTH
        ) as c:
            assert (await c.get("/leads/api/tags")).status_code == 200
            refused = await c.get("/leads/api/tags")
            clock.advance(10.0)
            assert (await c.get("/leads/api/tags")).status_code == 200
        assert refused.status_code == 429 and refused.headers.get("Retry-After") == expected
        assert refused.json()["error"]["reason"] == "too_many_requests"

    async def test_quota_is_per_key_and_can_be_disabled(self, clock: VirtualClock) -> None:
        """Each key has its own budget; quota=None never refuses."""
        keys = {"key-one": 1, "key-two": 1}
        emulator = GetSalesEmulator(
            api_keys=keys, quota=RateLimit(requests=1, period=60.0, burst=1), clock=clock
        )
        unlimited = GetSalesEmulator(quota=None, clock=clock)
        async with httpx.AsyncClient(base_url=BASE, transport=emulator.transport()) as c:
            for key in keys:
                answer = await c.get("/leads/api/tags", headers={"Authorization": f"Bearer {key}"})
                assert answer.status_code == 200
        async with httpx.AsyncClient(
            base_url=BASE, transport=unlimited.transport(), headers=AUTH
        ) as c:
            assert all([(await c.get("/leads/api/tags")).status_code == 200 for _ in range(50)])


class TestFaults:
    @staticmethod
    async def outcomes(emulator: GetSalesEmulator, count: int = 40) -> list[str]:
        async with httpx.AsyncClient(
            base_url=BASE, transport=emulator.transport(), headers=AUTH
        ) as c:
            out = []
            for _ in range(count):
                try:
                    answer = await c.get("/leads/api/tags")
                except httpx.RemoteProtocolError:
                    out.append("drop")
                else:
                    out.append(f"{answer.status_code}:{len(answer.content) > 0}")
            return out

    async def test_faults_repeat_for_a_seed(self, clock: VirtualClock) -> None:
        """The same seed and requests give the same faults; another seed gives others."""
        config = FaultConfig(error_rate=0.2, drop_rate=0.1, rate_429=0.1, empty_body_rate=0.2)

        def emulator(seed: int) -> GetSalesEmulator:
            return GetSalesEmulator(faults=config, seed=seed, clock=clock, quota=None)

        first, again, other = [await self.outcomes(emulator(s)) for s in (7, 7, 8)]
        assert first == again and first != other
        assert {"drop", "200:False", "429:True", "200:True"} <= set(first)
        assert {"502:True", "503:True", "504:True"} & set(first)
        again_emulator = emulator(7)
        await self.outcomes(again_emulator)
        again_emulator.reset()
        assert await self.outcomes(again_emulator) == first

    async def test_drop_is_a_transport_error(self, clock: VirtualClock) -> None:
        """A dropped connection is httpx.RemoteProtocolError raw, APIConnectionError in the SDK."""
        emulator = GetSalesEmulator(faults=FaultConfig(drop_rate=1.0), clock=clock)
        async with httpx.AsyncClient(
            base_url=BASE, transport=emulator.transport(), headers=AUTH
        ) as c:
            with pytest.raises(httpx.RemoteProtocolError):
                await c.get("/leads/api/tags")
        async with sdk(emulator, clock, max_retries=2) as client:
            with pytest.raises(APIConnectionError):
                await client.tags.list()
        assert [r.status for r in emulator.requests] == [None] * 4
        assert all(r.faults == ("drop",) for r in emulator.requests)

    async def test_sdk_rides_out_transient_faults(self, clock: VirtualClock) -> None:
        """5xx, 429s, empty bodies and drops on reads are retried away by the SDK."""
        config = FaultConfig(error_rate=0.2, drop_rate=0.1, rate_429=0.1, empty_body_rate=0.2)
        emulator = GetSalesEmulator(faults=config, seed=3, clock=clock)
        async with sdk(emulator, clock, max_retries=10) as client:
            for _ in range(10):
                assert (await client.tags.list()).total == 0
        assert any(r.faults for r in emulator.requests)
        assert sum(r.status == 200 and not r.faults for r in emulator.requests) == 10

    async def test_burst_429_latency_and_only_paths(self, clock: VirtualClock) -> None:
        """burst_429 refuses the last requests of each block; latency sleeps; only_paths filters."""
        config = FaultConfig(burst_429=(4, 2), latency=1.5, only_paths=["/leads/api/tags"])
        emulator = GetSalesEmulator(faults=config, clock=clock, quota=None)
        async with httpx.AsyncClient(
            base_url=BASE, transport=emulator.transport(), headers=AUTH
        ) as c:
            start = clock.now()
            statuses = [(await c.get("/leads/api/tags")).status_code for _ in range(8)]
            assert clock.now() - start == pytest.approx(12.0)
            assert (await c.get("/leads/api/lists")).status_code == 200
        assert statuses == [200, 200, 429, 429] * 2
        assert emulator.requests[-1].faults == ()

    async def test_fail_after_commit_upsert_happens_once(self, clock: VirtualClock) -> None:
        """Each attempt commits and then loses its answer; dedup keeps exactly one contact."""
        config = FaultConfig(fail_after_commit_rate=1.0, only_paths=["upsertLead"])
        emulator = GetSalesEmulator(faults=config, clock=clock)
        async with sdk(emulator, clock, max_retries=2) as client:
            list_uuid = await new_list(client)
            with pytest.raises(InternalServerError) as caught:
                await client.leads.upsert(lead={"work_email": "a@x.io"}, list_uuid=list_uuid)
        assert caught.value.status_code == 502
        assert len(emulator.state.leads) == 1
        assert [e.outcome for e in emulator.state.upserts] == ["created", "updated", "updated"]

    async def test_fail_after_commit_drop_and_partial_rate(self, clock: VirtualClock) -> None:
        """With dropped answers after commit, retried upserts still leave one contact per person."""
        config = FaultConfig(fail_after_commit_rate=0.5, fail_after_commit_mode="drop")
        emulator = GetSalesEmulator(faults=config, seed=1, clock=clock)
        async with sdk(emulator, clock, max_retries=8) as client:
            list_uuid = await new_list(client)
            for n in range(10):
                await client.leads.upsert(lead={"work_email": f"p{n}@x.io"}, list_uuid=list_uuid)
        assert len(emulator.state.leads) == 10
        dropped = [r for r in emulator.requests if r.status is None]
        assert dropped and all(r.faults == ("fail_after_commit",) for r in dropped)

    def test_config_is_validated(self) -> None:
        """Impossible settings fail at construction with what is wrong."""
        with pytest.raises(ValueError, match="error_rate"):
            FaultConfig(error_rate=1.5)
        with pytest.raises(ValueError, match="must not exceed 1"):
            FaultConfig(error_rate=0.6, drop_rate=0.6)
        with pytest.raises(ValueError, match="burst_429"):
            FaultConfig(burst_429=(3, 3))
        with pytest.raises(ValueError, match="only_paths"):
            FaultConfig(only_paths="upsertLead")


CRM_OPERATIONS = frozenset(
    {
        "getCurrentUser", "listTeams", "getTeam", "listLists", "createList", "getList",
        "updateList", "deleteList", "listTags", "createTag", "updateTag", "deleteTag",
        "listCustomFields", "createCustomField", "updateCustomField", "deleteCustomField",
        "listPipelineStages", "createPipelineStage", "updatePipelineStage", "listNotes",
        "createNote", "updateNote", "deleteNote", "listWebhooks", "createWebhook",
        "getWebhookDetails", "updateWebhook", "deleteWebhook", "upsertLead", "searchLeads",
        "countLeads", "lookupOneLead", "getLeadByUuid", "updateLead", "deleteLead",
        "massActionLeads", "createCompany", "listCompanies", "lookupCompany", "getCompanyByUuid",
        "updateCompany", "deleteCompany", "listLeadBlacklist", "addLeadToBlacklist",
        "removeLeadFromBlacklist", "listCompanyBlacklist", "addCompanyToBlacklist",
        "removeCompanyFromBlacklist", "uploadCsv", "importLeadsFromFile",
        "importCompaniesFromFile",
    }
)  # fmt: skip
"""The operations :func:`exercise_every_operation` walks (every schema is checked by schemathesis)."""


class TestConformance:
    async def test_answers_match_the_spec(self, emulator: GetSalesEmulator) -> None:
        """CRM and contact operations answer with a documented status and a schema-valid body."""
        checked: set[str] = set()

        async def check(response: httpx.Response) -> None:
            await response.aread()
            operation_id = emulator.requests[-1].operation_id
            assert operation_id is not None
            assert_conforms(operation_id, response)
            checked.add(operation_id)

        async with httpx.AsyncClient(
            base_url=BASE,
            transport=emulator.transport(),
            headers=AUTH,
            event_hooks={"response": [check]},
        ) as c:
            await exercise_every_operation(c)
        assert checked == CRM_OPERATIONS


async def exercise_every_operation(c: httpx.AsyncClient) -> None:
    """One call (or more) per implemented operation, valid and invalid."""
    await c.get("/id/api/users/current")
    await c.get("/id/api/teams")
    await c.get("/id/api/teams/1")
    await c.get("/id/api/teams/2")
    list_uuid = (await c.post("/leads/api/lists", json={"name": "L"})).json()["uuid"]
    await c.post("/leads/api/lists", json={"name": "L"})  # 422
    await c.get("/leads/api/lists", params={"filter[q]": "l", "limit": 5})
    await c.get(f"/leads/api/lists/{list_uuid}")
    await c.put(f"/leads/api/lists/{list_uuid}", json={"name": "M"})
    tag = (await c.post("/leads/api/tags", json={"name": "t"})).json()["uuid"]
    await c.get("/leads/api/tags")
    await c.put(f"/leads/api/tags/{tag}", json={"color": "#fff"})
    field = (await c.post("/leads/api/custom-fields", json={"name": "f", "object": "lead"})).json()
    await c.get("/leads/api/custom-fields")
    await c.put(f"/leads/api/custom-fields/{field['uuid']}", json={"order": 3})
    stage = (
        await c.post(
            "/leads/api/pipeline-stages", json={"name": "S", "object": "lead", "category": "cold"}
        )
    ).json()
    await c.get("/leads/api/pipeline-stages", params={"filter[object]": "lead"})
    await c.put(f"/leads/api/pipeline-stages/{stage['uuid']}", json={"order": 1})
    body = {
        "lead": {"linkedin_id": "jdoe", "first_name": "J", "tags": ["t", "u"]},
        "list_uuid": list_uuid,
        "custom_fields": {"f": "x"},
    }
    lead = (await c.post("/leads/api/leads/upsert", json=body)).json()
    await c.post("/leads/api/leads/upsert", json={"lead": {}, "list_uuid": "x"})  # 422
    await c.post("/leads/api/leads/search", json={"filter": {"q": "j"}, "limit": 1})
    await c.post("/leads/api/leads/search", json={"disable_aggregation": True})
    await c.post("/leads/api/leads/count", json={"filter": {"all": True}})
    await c.post("/leads/api/leads/lookup-one", json={"linkedin_id": "jdoe"})
    await c.post("/leads/api/leads/lookup-one", json={"email": "none@x.io"})
    await c.get(f"/leads/api/leads/{lead['uuid']}")
    await c.get("/leads/api/leads/missing")  # 404
    await c.put(f"/leads/api/leads/{lead['uuid']}", json={"position": None, "location": []})
    mass = {
        "type": "contact_add_tags",
        "filter": {"ids": [lead["uuid"]]},
        "payload": {"added_tags": ["v"]},
    }
    await c.put("/leads/api/leads/mass-action", json=mass)
    csv_file = {"file": ("a.csv", b"Email,Company\na@x.io,Acme\n", "text/csv")}
    uploaded = await c.post(
        "/leads/api/file-imports/upload-csv", files=csv_file, data={"type": "csv_leads"}
    )
    await c.post("/leads/api/file-imports/upload-csv", files=csv_file, data={"type": "x"})  # 422
    imports = "/leads/api/file-imports/" + uploaded.json()["uuid"]
    columns = {"columns": {"work_email": 0}, "list_uuid": list_uuid}
    await c.post(f"{imports}/import-leads", json=columns)
    await c.post(f"{imports}/import-companies", json={"columns": {"name": 1}})  # 422: csv_leads
    note = (
        await c.post(
            "/leads/api/notes", json={"object": "lead", "object_uuid": lead["uuid"], "note": "n"}
        )
    ).json()
    await c.get("/leads/api/notes", params={"filter[object]": "lead"})
    await c.put(f"/leads/api/notes/{note['uuid']}", json={"note": "m"})
    await c.delete(f"/leads/api/notes/{note['uuid']}")
    companies = (
        await c.post("/leads/api/companies", json={"name": "Acme", "domain": "a.io"})
    ).json()
    await c.post("/leads/api/companies/list", json={"filter": {"q": "acme"}})
    await c.post("/leads/api/companies/lookup", json={"domain": "a.io"})
    await c.post("/leads/api/companies/lookup", json={"name": "none"})
    await c.get(f"/leads/api/companies/{companies[0]['uuid']}")
    await c.put(f"/leads/api/companies/{companies[0]['uuid']}", json={"ln_id": 5})
    await c.delete(f"/leads/api/companies/{companies[0]['uuid']}")
    entry = (await c.post("/leads/api/leads-blacklist", json={"work_email": "z@z.io"})).json()
    await c.get("/leads/api/leads-blacklist")
    await c.delete(f"/leads/api/leads-blacklist/{entry['uuid']}")
    entry = (await c.post("/leads/api/companies-blacklist", json={"domain": "z.io"})).json()
    await c.get("/leads/api/companies-blacklist")
    await c.delete(f"/leads/api/companies-blacklist/{entry['uuid']}")
    hook = {"name": "h", "event": "contact_created", "target_url": "https://x.io/h"}
    webhook = (await c.post("/integrations/api/webhooks", json=hook)).json()
    await c.get("/integrations/api/webhooks")
    await c.get(f"/integrations/api/webhooks/{webhook['uuid']}")
    await c.put(
        f"/integrations/api/webhooks/{webhook['uuid']}", json={"target_url": "https://y.io"}
    )
    await c.delete(f"/integrations/api/webhooks/{webhook['uuid']}")
    await c.delete(f"/leads/api/leads/{lead['uuid']}")
    await c.delete(f"/leads/api/custom-fields/{field['uuid']}")
    await c.delete(f"/leads/api/tags/{tag}")
    await c.delete(f"/leads/api/lists/{list_uuid}")


class TestServer:
    async def test_real_http_on_loopback(self, anyio_backend: str) -> None:
        """Served by uvicorn on 127.0.0.1:0: an SDK call over real HTTP, and a real dropped socket."""
        emulator = GetSalesEmulator(faults=FaultConfig(drop_rate=1.0, only_paths=["listTags"]))

        async def calls(url: str) -> None:
            async with AsyncGetSales(
                api_key=DEFAULT_API_KEY, base_url=url, max_retries=0
            ) as client:
                assert (await client.teams.get_current_user()).id == 1
            async with httpx.AsyncClient(base_url=url, headers=AUTH) as c:
                with pytest.raises(httpx.RemoteProtocolError):
                    await c.get("/leads/api/tags")
                assert (await c.get("/leads/api/lists")).status_code == 200

        with anyio.fail_after(SERVER_TIMEOUT_S):
            if anyio_backend == "asyncio":
                async with anyio.create_task_group() as tg:
                    url = await tg.start(emulator.serve)
                    await calls(url)
                    tg.cancel_scope.cancel()
            else:
                with emulator.serve_in_thread() as url:
                    await calls(url)
        assert url.startswith("http://127.0.0.1:")
        assert [r.status for r in emulator.requests] == [200, None, 200]


def _readline(stream: Any, timeout: float) -> str:
    ready, _, _ = select.select([stream], [], [], timeout)
    return str(stream.readline()) if ready else ""


@pytest.fixture
def emulator_process() -> Iterator[subprocess.Popen[str]]:
    command = [
        sys.executable,
        "-m",
        "getsales_async.testing.emulator",
        "--port",
        "0",
        "--print-url",
    ]
    proc = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT
    )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=SERVER_TIMEOUT_S)


@pytest.mark.skipif(os.name != "posix", reason="select() on a pipe and SIGTERM need POSIX")
def test_module_serves_until_sigterm(emulator_process: subprocess.Popen[str]) -> None:
    """``python -m getsales_async.testing.emulator --port 0 --print-url``: URL, serve, SIGTERM."""
    url = _readline(emulator_process.stdout, SERVER_TIMEOUT_S).strip()
    assert url.startswith("http://127.0.0.1:"), url
    answer = httpx.get(f"{url}/id/api/users/current", headers=AUTH, timeout=SERVER_TIMEOUT_S)
    assert answer.status_code == 200 and answer.json()["id"] == 1
    emulator_process.send_signal(signal.SIGTERM)
    assert emulator_process.wait(timeout=SERVER_TIMEOUT_S) == 0


class TestServeBanner:
    def test_banner_names_the_default_key_and_how_to_use_it(self) -> None:
        """`getsales emulator serve` prints the URL, the key it accepts and the export line."""
        text = banner("http://127.0.0.1:8300", {})
        assert "serving on http://127.0.0.1:8300" in text
        assert "API key: emulator-key" in text
        assert (
            "export GETSALES_API_KEY=emulator-key GETSALES_BASE_URL=http://127.0.0.1:8300" in text
        )

    def test_banner_never_echoes_keys_given_on_the_command_line(self) -> None:
        """Keys passed with --api-key are the caller's: counted, never printed."""
        text = banner("http://127.0.0.1:1", {"my-secret-key": 3, "other-secret": 3})
        assert "secret" not in text
        assert "the 2 given with --api-key (teams 3)" in text
