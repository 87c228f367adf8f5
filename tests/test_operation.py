"""The operation table: one descriptor per operation, idempotency from facts (``_operation.py``)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from pytest_httpx import HTTPXMock

from getsales_async import AsyncGetSales, RateLimit
from getsales_async._resources import GET_RULE, OPERATIONS
from getsales_async._transport import EXTENSION_KEY, CallOptions
from getsales_async.testing import VirtualClock

BASE = "https://api.test"
MOCKED_TRANSPORT = httpx.AsyncHTTPTransport()
NOT_LISTED = "not listed in overrides/resources.yaml: never repeated"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def client() -> AsyncIterator[AsyncGetSales]:
    clock = VirtualClock()
    async with (
        clock.autojump(),
        AsyncGetSales(
            api_key=f"test-key-{uuid.uuid4().hex}",
            base_url=BASE,
            clock=clock,
            rate_limit=RateLimit(requests=6000, period=60.0, burst=50),
            transport=MOCKED_TRANSPORT,
        ) as c,
    ):
        yield c


class TestIdempotencyFacts:
    def test_every_get_is_repeatable_by_the_documented_rule(self) -> None:
        """GETs read only (the index): all idempotent, each citing the one rule."""
        gets = [op for op in OPERATIONS.values() if op.http_method == "GET"]
        assert gets and all(op.idempotent and op.idempotency == GET_RULE for op in gets)

    def test_every_other_operation_is_listed_with_its_fact(self) -> None:
        """Each non-GET carries a fact from overrides/resources.yaml, not the unlisted default."""
        unlisted = sorted(
            op.operation_id
            for op in OPERATIONS.values()
            if op.http_method != "GET" and (op.idempotency == NOT_LISTED or not op.idempotency)
        )
        assert unlisted == [], (
            f"{unlisted}: list them under idempotency.safe_to_repeat or .not_safe_to_repeat "
            "in overrides/resources.yaml, each with the fact that decides it"
        )

    @pytest.mark.parametrize(
        "operation_id",
        [
            "massActionLeads",
            "importLeadsFromFile",
            "importCompaniesFromFile",
            "exportLeads",
            "exportCompanies",
            "sendEmail",
            "sendLinkedinMessage",
            "enrichLeads",
            "enrichCompanies",
            "createList",
            "uploadCsv",
            "addNewLeadToFlow",
        ],
    )
    def test_mass_actions_imports_exports_sends_and_enrichment_are_not_repeated(
        self, operation_id: str
    ) -> None:
        """Operations that may have partly run or act twice are never repeated."""
        assert OPERATIONS[operation_id].idempotent is False

    def test_mass_action_is_a_put_yet_not_repeated(self) -> None:
        """The HTTP method does not decide: the mass-action PUT is not safe to repeat."""
        op = OPERATIONS["massActionLeads"]
        assert op.http_method == "PUT" and not op.idempotent and "partly run" in op.idempotency

    def test_search_is_a_post_yet_repeated(self) -> None:
        """A POST that only reads (searchLeads) is marked safe to repeat by its descriptor."""
        op = OPERATIONS["searchLeads"]
        assert op.http_method == "POST" and op.idempotent


class TestDescriptorReachesTheTransport:
    @pytest.mark.anyio
    @pytest.mark.parametrize(
        ("call", "expected"),
        [
            (lambda c: c.leads.mass_action(type="contact_delete", filter={"all": True}), False),
            (lambda c: c.leads.update("l1", first_name="Ann"), True),
            (lambda c: c.leads.with_raw_response.search(limit=1, offset=0), True),
        ],
        ids=["mass-action", "update", "search"],
    )
    async def test_call_options_carry_the_descriptor_flag(
        self, client: AsyncGetSales, httpx_mock: HTTPXMock, call: object, expected: bool
    ) -> None:
        """Each request carries CallOptions(idempotent=<descriptor>), never a method guess."""
        httpx_mock.add_response(json={"data": [], "uuid": "l1"})  # a page or a contact
        await call(client)  # type: ignore[operator]
        (request,) = httpx_mock.get_requests()
        options = request.extensions[EXTENSION_KEY]
        assert isinstance(options, CallOptions) and options.idempotent is expected


class TestDescriptorFacts:
    def test_paginated_operations_say_where_limit_and_offset_go(self) -> None:
        """Paginated descriptors name the page kind and where the page parameters travel."""
        for op in OPERATIONS.values():
            assert (op.page_kind is None) == (op.page_in is None), op.operation_id
        assert OPERATIONS["searchLeads"].page_in == "body"
        assert OPERATIONS["listLists"].page_in == "query"

    def test_search_window_is_set_on_elasticsearch_searches(self) -> None:
        """The 10,000-result window applies to the searches that have it."""
        windows = {
            op.operation_id: op.search_window for op in OPERATIONS.values() if op.search_window
        }
        assert windows == {"searchLeads": 10_000, "listCompanies": 10_000}

    def test_expect_body_follows_result_and_nullability(self) -> None:
        """An empty 2xx is a glitch only where data is expected and null is not an answer."""
        assert OPERATIONS["getList"].expect_body
        assert not OPERATIONS["deleteList"].expect_body
        assert not OPERATIONS["lookupOneLead"].expect_body
