"""Pagination: stop rules, the 10,000-row window, ordered prefetch, checkpoints and filters.

Every list and search operation returns an ``AsyncPaginator`` (``_pagination.py``); these tests
drive real resource methods against pytest-httpx, in virtual time, on asyncio and trio.
"""

from __future__ import annotations

import gc
import json
import re
import uuid
import warnings
from collections.abc import AsyncIterator
from contextlib import aclosing, asynccontextmanager
from typing import Any

import anyio
import anyio.lowlevel
import httpx
import pytest
from pytest_httpx import HTTPXMock

from getsales_async import (
    ArgumentError,
    AsyncGetSales,
    AsyncPaginator,
    Checkpoint,
    Page,
    PaginationWindowError,
    RateLimit,
    UnprocessableEntityError,
)
from getsales_async.models import (
    ContactList,
    Email,
    FlowVersion,
    LeadPage,
    LeadSearchResult,
    ListEmailsFilter,
    OrderType,
    Tag,
)
from getsales_async.testing import VirtualClock

BASE = "https://api.test"
SEARCH = BASE + "/leads/api/leads/search"
SDK_GAP = "SDK gap"
pytestmark = pytest.mark.anyio

# pytest-httpx patches httpx.AsyncHTTPTransport, so this instance never opens a connection. One
# shared instance saves building an SSL context (~20 ms) for every client of every test.
MOCKED_TRANSPORT = httpx.AsyncHTTPTransport()


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock()


def new_client(clock: VirtualClock) -> AsyncGetSales:
    return AsyncGetSales(
        api_key=f"test-key-{uuid.uuid4().hex}",
        base_url=BASE,
        clock=clock,
        rate_limit=RateLimit(requests=6000, period=60.0, burst=50),
        transport=MOCKED_TRANSPORT,
    )


@pytest.fixture
async def client(clock: VirtualClock) -> AsyncIterator[AsyncGetSales]:
    """A client on a fresh key (its own limiter), virtual time running by itself."""
    async with clock.autojump(), new_client(clock) as c:
        yield c


def url(path: str) -> re.Pattern[str]:
    """Match ``path`` below the base URL, with any query string."""
    return re.compile(re.escape(BASE + path) + r"(\?.*)?$")


def items(start: int, count: int, prefix: str = "u") -> list[dict[str, Any]]:
    return [{"uuid": f"{prefix}{i}"} for i in range(start, start + count)]


def window_of(request: httpx.Request) -> tuple[int, int]:
    """(offset, limit) of a page request, from the JSON body (POST) or the query (GET)."""
    if request.method == "GET":
        params = request.url.params
        return int(params["offset"]), int(params["limit"])
    body = json.loads(request.content)
    return int(body["offset"]), int(body["limit"])


def windows(httpx_mock: HTTPXMock) -> list[tuple[int, int]]:
    return [window_of(r) for r in httpx_mock.get_requests()]


def lead_uuids(results: list[LeadSearchResult]) -> list[str]:
    return [result.lead.uuid for result in results]


@asynccontextmanager
async def resource_warnings() -> AsyncIterator[list[str]]:
    """Collect ResourceWarnings (unclosed async generators) raised inside the block."""
    caught: list[str] = []
    with warnings.catch_warnings(record=True) as records:
        warnings.simplefilter("always")
        yield caught
        for _ in range(3):  # let trio's finalizers run (they close what they release)
            await anyio.lowlevel.checkpoint()
        gc.collect()
    caught.extend(str(r.message) for r in records if issubclass(r.category, ResourceWarning))


class TestStopRules:
    async def test_stops_when_has_more_is_false(
        self, client: AsyncGetSales, httpx_mock: HTTPXMock
    ) -> None:
        """has_more false ends the walk even though total says more rows exist."""
        httpx_mock.add_response(
            url=SEARCH, json={"data": items(0, 2), "total": 100, "has_more": True}
        )
        httpx_mock.add_response(
            url=SEARCH, json={"data": items(2, 2), "total": 100, "has_more": False}
        )
        results = [r async for r in client.leads.search(page_size=2)]
        assert lead_uuids(results) == ["u0", "u1", "u2", "u3"]
        assert windows(httpx_mock) == [(0, 2), (2, 2)]

    async def test_stops_when_pagination_has_more_is_false(
        self, client: AsyncGetSales, httpx_mock: HTTPXMock
    ) -> None:
        """emails nest has_more under pagination; false there ends the walk (fact 18)."""
        path = url("/emails/api/emails")
        httpx_mock.add_response(
            url=path, json={"data": items(0, 2), "pagination": {"has_more": True}}
        )
        httpx_mock.add_response(
            url=path, json={"data": items(2, 2), "pagination": {"has_more": False}}
        )
        emails = [e async for e in client.emails.list(page_size=2)]
        assert [e.uuid for e in emails] == ["u0", "u1", "u2", "u3"]
        assert all(isinstance(e, Email) for e in emails)
        assert windows(httpx_mock) == [(0, 2), (2, 2)]

    async def test_stops_when_offset_plus_items_reaches_total(
        self, client: AsyncGetSales, httpx_mock: HTTPXMock
    ) -> None:
        """Without has_more, a full page that reaches total is the last one."""
        path = url("/leads/api/lists")
        httpx_mock.add_response(url=path, json={"data": items(0, 2), "total": 4})
        httpx_mock.add_response(url=path, json={"data": items(2, 2), "total": 4})
        lists = [x async for x in client.lists.list(page_size=2)]
        assert [x.uuid for x in lists] == ["u0", "u1", "u2", "u3"]
        assert all(isinstance(x, ContactList) for x in lists)
        assert windows(httpx_mock) == [(0, 2), (2, 2)]

    async def test_stops_on_short_page(self, client: AsyncGetSales, httpx_mock: HTTPXMock) -> None:
        """Without has_more or total, a page shorter than the limit is the last one."""
        path = url("/leads/api/tags")
        httpx_mock.add_response(url=path, json={"data": items(0, 3)})
        httpx_mock.add_response(url=path, json={"data": items(3, 1)})
        tags = [t async for t in client.tags.list(page_size=3)]
        assert [t.uuid for t in tags] == ["u0", "u1", "u2", "u3"]
        assert all(isinstance(t, Tag) for t in tags)
        assert windows(httpx_mock) == [(0, 3), (3, 3)]

    async def test_stops_on_empty_page(self, client: AsyncGetSales, httpx_mock: HTTPXMock) -> None:
        """An empty page ends the walk."""
        path = url("/leads/api/tags")
        httpx_mock.add_response(url=path, json={"data": items(0, 2)})
        httpx_mock.add_response(url=path, json={"data": []})
        tags = [t async for t in client.tags.list(page_size=2)]
        assert [t.uuid for t in tags] == ["u0", "u1"]
        assert windows(httpx_mock) == [(0, 2), (2, 2)]

    async def test_short_page_with_has_more_true_continues(
        self, client: AsyncGetSales, httpx_mock: HTTPXMock
    ) -> None:
        """has_more true wins over a short page: short/total rules apply only without it (fact 17)."""
        httpx_mock.add_response(url=SEARCH, json={"data": items(0, 2), "has_more": True})
        httpx_mock.add_response(
            url=SEARCH, json={"data": items(2, 3), "has_more": False}, is_optional=True
        )
        results = await client.leads.search(page_size=3).to_list()
        assert lead_uuids(results) == ["u0", "u1", "u2", "u3", "u4"]

    async def test_empty_first_page_yields_nothing(
        self, client: AsyncGetSales, httpx_mock: HTTPXMock
    ) -> None:
        """No results: one request, no items."""
        httpx_mock.add_response(url=SEARCH, json={"data": [], "total": 0})
        assert [r async for r in client.leads.search()] == []
        assert windows(httpx_mock) == [(0, 100)]

    async def test_bare_array_pages_stop_on_short_page(
        self, client: AsyncGetSales, httpx_mock: HTTPXMock
    ) -> None:
        """flows.list_versions pages are bare arrays; a short one is the last."""
        path = url("/flows/api/flows/f1/flow-versions")
        httpx_mock.add_response(url=path, json=items(0, 2))
        httpx_mock.add_response(url=path, json=items(2, 1))
        versions = [v async for v in client.flows.list_versions("f1", page_size=2)]
        assert [v.uuid for v in versions] == ["u0", "u1", "u2"]
        assert all(isinstance(v, FlowVersion) for v in versions)
        assert windows(httpx_mock) == [(0, 2), (2, 2)]

    async def test_bare_array_pages_stop_on_empty_page(
        self, client: AsyncGetSales, httpx_mock: HTTPXMock
    ) -> None:
        """A bare-array walk whose last page is exactly full ends on the following empty one."""
        path = url("/flows/api/flows/f1/flow-versions")
        httpx_mock.add_response(url=path, json=items(0, 2))
        httpx_mock.add_response(url=path, json=[])
        versions = await client.flows.list_versions("f1", page_size=2).to_list()
        assert len(versions) == 2
        assert windows(httpx_mock) == [(0, 2), (2, 2)]


class TestLocalArgumentChecks:
    @pytest.mark.parametrize(
        ("kwargs", "match"),
        [
            ({"page_size": 101}, "100"),
            ({"page_size": 500}, "100"),
            ({"page_size": 0}, "page_size"),
            ({"concurrency": 0}, "concurrency"),
            ({"start_offset": -1}, "start_offset"),
        ],
        ids=["page-size-101", "page-size-500", "page-size-0", "concurrency-0", "negative-offset"],
    )
    async def test_invalid_paging_arguments_raise_before_any_request(
        self, client: AsyncGetSales, httpx_mock: HTTPXMock, kwargs: dict[str, Any], match: str
    ) -> None:
        """page_size above the API maximum (100) and other bad values fail locally."""
        with pytest.raises(ArgumentError, match=match):
            client.leads.search(**kwargs)
        with pytest.raises(ArgumentError, match=match):
            client.emails.list(**kwargs)
        assert httpx_mock.get_requests() == []


class TestSearchWindow:
    async def test_last_page_is_clamped_then_window_error(
        self, client: AsyncGetSales, httpx_mock: HTTPXMock
    ) -> None:
        """The last request ends exactly at 10,000; then PaginationWindowError, no request past it."""
        httpx_mock.add_response(
            url=SEARCH, json={"data": items(9850, 100), "total": 50_000, "has_more": True}
        )
        httpx_mock.add_response(
            url=SEARCH, json={"data": items(9950, 50), "total": 50_000, "has_more": True}
        )
        seen: list[LeadSearchResult] = []
        with pytest.raises(PaginationWindowError) as info:
            async for result in client.leads.search(start_offset=9850):
                seen.append(result)
        assert windows(httpx_mock) == [(9850, 100), (9950, 50)]
        assert all(offset + limit <= 10_000 for offset, limit in windows(httpx_mock))
        assert "created_at" in str(info.value) and "10,000" in str(info.value)
        assert info.value.window == 10_000
        assert len(seen) >= 100

    async def test_clamped_last_page_items_are_yielded_before_window_error(
        self, client: AsyncGetSales, httpx_mock: HTTPXMock
    ) -> None:
        """Every row up to the window is delivered before the error."""
        httpx_mock.add_response(
            url=SEARCH, json={"data": items(9850, 100), "total": 50_000, "has_more": True}
        )
        httpx_mock.add_response(
            url=SEARCH, json={"data": items(9950, 50), "total": 50_000, "has_more": True}
        )
        seen: list[LeadSearchResult] = []
        with pytest.raises(PaginationWindowError):
            async for result in client.leads.search(start_offset=9850):
                seen.append(result)
        assert lead_uuids(seen) == [f"u{i}" for i in range(9850, 10_000)]

    async def test_page_size_not_dividing_the_window_is_clamped(
        self, client: AsyncGetSales, httpx_mock: HTTPXMock
    ) -> None:
        """With page_size 30 from 9,940 the second request asks for 30, then 30, never past 10,000."""
        httpx_mock.add_response(url=SEARCH, json={"data": items(9940, 30), "total": 20_000})
        httpx_mock.add_response(url=SEARCH, json={"data": items(9970, 30), "total": 20_000})
        with pytest.raises(PaginationWindowError):
            await client.leads.search(start_offset=9940, page_size=30).to_list()
        assert windows(httpx_mock) == [(9940, 30), (9970, 30)]

    async def test_starting_at_the_window_raises_without_request(
        self, client: AsyncGetSales, httpx_mock: HTTPXMock
    ) -> None:
        """A resume point at the window cannot be read; nothing is sent."""
        with pytest.raises(PaginationWindowError, match="created_at"):
            await client.leads.search(start_offset=10_000)
        with pytest.raises(PaginationWindowError):
            await client.companies.list(start_offset=10_000).to_list()
        assert httpx_mock.get_requests() == []

    async def test_results_ending_inside_the_window_need_no_partition(
        self, client: AsyncGetSales, httpx_mock: HTTPXMock
    ) -> None:
        """A short page before the window ends the walk normally."""
        httpx_mock.add_response(url=SEARCH, json={"data": items(9900, 40), "total": 9940})
        results = await client.leads.search(start_offset=9900).to_list()
        assert len(results) == 40
        assert windows(httpx_mock) == [(9900, 100)]


class TestConcurrentPrefetch:
    @staticmethod
    def paged_search(
        httpx_mock: HTTPXMock, clock: VirtualClock, total: int, delays: dict[int, float]
    ) -> dict[str, int]:
        """Serve lead search pages from a callback, each delayed in virtual time; count in-flight."""
        stats = {"in_flight": 0, "max_in_flight": 0, "cancelled": 0}

        async def respond(request: httpx.Request) -> httpx.Response:
            offset, limit = window_of(request)
            stats["in_flight"] += 1
            stats["max_in_flight"] = max(stats["max_in_flight"], stats["in_flight"])
            try:
                await clock.sleep(delays.get(offset, 0.0))
            except anyio.get_cancelled_exc_class():
                stats["cancelled"] += 1
                raise
            finally:
                stats["in_flight"] -= 1
            count = max(0, min(limit, total - offset))
            return httpx.Response(
                200,
                json={
                    "data": items(offset, count),
                    "total": total,
                    "has_more": offset + count < total,
                },
            )

        httpx_mock.add_callback(respond, url=SEARCH, is_reusable=True)
        return stats

    def slow_after_first_page(self, httpx_mock: HTTPXMock, clock: VirtualClock) -> dict[str, int]:
        """100 leads in pages of 10: the first answers at once, every later one after 600 s."""
        return self.paged_search(
            httpx_mock, clock, total=100, delays={o: 600.0 for o in range(10, 100, 10)}
        )

    async def test_prefetch_yields_in_order_with_requests_in_flight_together(
        self, client: AsyncGetSales, clock: VirtualClock, httpx_mock: HTTPXMock
    ) -> None:
        """concurrency=4: later pages that answer first still come out in offset order."""
        stats = self.paged_search(
            httpx_mock, clock, total=50, delays={10: 4.0, 20: 1.0, 30: 3.0, 40: 2.0}
        )
        start = clock.now()
        results = await client.leads.search(page_size=10, concurrency=4).to_list()
        assert lead_uuids(results) == [f"u{i}" for i in range(50)]
        assert stats["max_in_flight"] == 4
        assert sorted(windows(httpx_mock)) == [(o, 10) for o in range(0, 50, 10)]
        assert clock.now() - start == pytest.approx(4.0)  # the slowest page, not the sum (10 s)

    async def test_prefetch_over_many_pages_keeps_order_and_stops_at_total(
        self, client: AsyncGetSales, clock: VirtualClock, httpx_mock: HTTPXMock
    ) -> None:
        """More pages than the concurrency: the window slides in order, nothing past total."""
        delays = {o: float(10 - o // 10) for o in range(0, 95, 10)}
        stats = self.paged_search(httpx_mock, clock, total=95, delays=delays)
        results = await client.leads.search(page_size=10, concurrency=3).to_list()
        assert lead_uuids(results) == [f"u{i}" for i in range(95)]
        assert stats["max_in_flight"] == 3
        assert sorted(windows(httpx_mock)) == [(o, 10) for o in range(0, 95, 10)]

    async def test_window_slides_while_the_reader_works_on_a_page(
        self, client: AsyncGetSales, clock: VirtualClock, httpx_mock: HTTPXMock
    ) -> None:
        """Pages of 5 s latency read by a 5 s-per-page reader: only the first fetch is waited for.

        Sequentially this takes 5 x (5 + 5) = 50 s and in batches of 2 (fetch 2, hand out 2)
        40 s; with the window sliding, the next pages are fetched while the reader works, so the
        read takes the first fetch plus the reader's own time: 5 + 5 x 5 = 30 s.
        """
        stats = self.paged_search(
            httpx_mock, clock, total=50, delays={o: 5.0 for o in range(0, 50, 10)}
        )
        start = clock.now()
        seen: list[str] = []
        async for page in client.leads.search(page_size=10, concurrency=2).pages():
            seen += lead_uuids(page.items)
            await clock.sleep(5.0)  # the reader's own work on the page
        assert seen == [f"u{i}" for i in range(50)]
        assert clock.now() - start == pytest.approx(30.0)
        assert stats["max_in_flight"] == 2

    async def test_pages_held_ahead_of_a_slow_reader_are_bounded(
        self, client: AsyncGetSales, clock: VirtualClock, httpx_mock: HTTPXMock
    ) -> None:
        """Fast pages, slow reader: at most 2 x concurrency pages are requested ahead of it."""
        self.paged_search(httpx_mock, clock, total=1000, delays={})
        requested: list[int] = []
        async with aclosing(client.leads.search(page_size=10, concurrency=2).pages()) as pages:
            async for page in pages:
                await clock.sleep(50.0)  # everything that can be fetched meanwhile has been
                requested.append(len(httpx_mock.get_requests()) - 1 - page.offset // 10)
                if page.offset == 30:
                    break
        assert requested == [4, 4, 4, 4]

    async def test_early_exit_cancels_the_requests_in_flight(
        self, client: AsyncGetSales, clock: VirtualClock, httpx_mock: HTTPXMock
    ) -> None:
        """Leaving the loop after one page cancels the prefetched requests and waits for them."""
        stats = self.slow_after_first_page(httpx_mock, clock)
        start = clock.now()
        paginator = client.leads.search(page_size=10, concurrency=4)
        async with aclosing(paginator.pages()) as pages:
            first = await anext(pages)
            await clock.sleep(1.0)  # the reader works; pages 2-5 are in flight meanwhile
            assert stats["in_flight"] == 4
        assert lead_uuids(first.items) == [f"u{i}" for i in range(10)]
        assert stats == {"in_flight": 0, "max_in_flight": 4, "cancelled": 4}
        assert clock.now() - start == pytest.approx(1.0)  # cancelled, not waited for
        assert paginator.checkpoint().offset == 0  # the page was handed out, not finished

    async def test_cancelled_reader_stops_every_request_it_started(
        self, client: AsyncGetSales, clock: VirtualClock, httpx_mock: HTTPXMock
    ) -> None:
        """A reader cancelled while it waits for a page leaves no request running behind it."""
        stats = self.slow_after_first_page(httpx_mock, clock)
        pages_read: list[int] = []

        async def read() -> None:
            async for page in client.leads.search(page_size=10, concurrency=4).pages():
                pages_read.append(page.offset)

        async with anyio.create_task_group() as tg:
            tg.start_soon(read)
            await clock.sleep(1.0)  # the reader holds page 0 and waits for page 10
            assert stats["in_flight"] == 4
            tg.cancel_scope.cancel()
        assert pages_read == [0]
        assert stats == {"in_flight": 0, "max_in_flight": 4, "cancelled": 4}

    async def test_abandoned_iteration_cancels_its_requests_when_collected(
        self, client: AsyncGetSales, clock: VirtualClock, httpx_mock: HTTPXMock
    ) -> None:
        """A loop left with break (no aclosing): the generator's finalizer cancels the prefetch."""
        stats = self.slow_after_first_page(httpx_mock, clock)
        start = clock.now()
        async with resource_warnings():  # trio warns about the abandoned generator, as it should
            async for _ in client.leads.search(page_size=10, concurrency=3):
                await clock.sleep(1.0)
                break
            assert stats["in_flight"] == 3
            gc.collect()  # the event loop's async-generator finalizer now closes the generator
            for _ in range(20):
                await anyio.lowlevel.checkpoint()
        assert stats == {"in_flight": 0, "max_in_flight": 3, "cancelled": 3}
        assert clock.now() - start == pytest.approx(1.0)

    async def test_failed_prefetched_page_raises_in_order_and_cancels_the_rest(
        self, client: AsyncGetSales, clock: VirtualClock, httpx_mock: HTTPXMock
    ) -> None:
        """A page that fails is raised when the reader reaches it; the pages before it are read."""

        async def respond(request: httpx.Request) -> httpx.Response:
            offset, limit = window_of(request)
            if offset == 20:
                return httpx.Response(422, json={"message": "bad page"})
            await clock.sleep(100.0 if offset > 20 else 1.0)
            return httpx.Response(200, json={"data": items(offset, limit), "total": 60})

        httpx_mock.add_callback(respond, url=SEARCH, is_reusable=True)
        paginator = client.leads.search(page_size=10, concurrency=3)
        seen: list[str] = []
        start = clock.now()
        with pytest.raises(UnprocessableEntityError, match="bad page"):
            async for result in paginator:
                seen.append(result.lead.uuid)
        assert seen == [f"u{i}" for i in range(20)]
        assert paginator.checkpoint().offset == 20
        assert clock.now() - start < 100.0  # the slow pages after the failure were not awaited

    async def test_short_page_that_is_not_the_last_restarts_the_window(
        self, client: AsyncGetSales, httpx_mock: HTTPXMock
    ) -> None:
        """A page shorter than its limit with has_more true: prefetch resumes after its last row."""

        async def respond(request: httpx.Request) -> httpx.Response:
            offset, limit = window_of(request)
            count = 5 if offset == 10 else max(0, min(limit, 40 - offset))
            return httpx.Response(
                200,
                json={"data": items(offset, count), "total": 40, "has_more": offset + count < 40},
            )

        httpx_mock.add_callback(respond, url=SEARCH, is_reusable=True)
        results = await client.leads.search(page_size=10, concurrency=3).to_list()
        assert lead_uuids(results) == [f"u{i}" for i in range(40)]
        read = sorted(windows(httpx_mock))
        assert (15, 10) in read and (0, 10) in read  # restarted right after the short page

    async def test_concurrency_1_is_sequential(
        self, client: AsyncGetSales, clock: VirtualClock, httpx_mock: HTTPXMock
    ) -> None:
        """The default fetches one page at a time."""
        stats = self.paged_search(httpx_mock, clock, total=30, delays={10: 2.0, 20: 1.0})
        results = await client.leads.search(page_size=10).to_list()
        assert len(results) == 30 and stats["max_in_flight"] == 1


class TestCheckpointAndResume:
    def test_checkpoint_json_round_trip(self) -> None:
        """A checkpoint survives to_json/from_json unchanged."""
        cp = Checkpoint(
            resource="leads",
            method="search",
            arguments={"filter": {"created_at": {">=": "2024-01-01"}, "tags": ["a"]}},
            offset=300,
            page_size=50,
        )
        text = cp.to_json()
        assert json.loads(text)["offset"] == 300
        assert Checkpoint.from_json(text) == cp

    async def test_checkpoint_of_a_new_paginator_is_its_start(
        self, client: AsyncGetSales, httpx_mock: HTTPXMock
    ) -> None:
        """Before any page is read, the checkpoint holds the arguments and start offset."""
        paginator = client.leads.search(
            filter={"q": "cto"}, order_type=OrderType.DESC, page_size=25, start_offset=75
        )
        cp = paginator.checkpoint()
        assert (cp.resource, cp.method, cp.offset, cp.page_size) == ("leads", "search", 75, 25)
        assert cp.arguments == {"filter": {"q": "cto"}, "order_type": "desc"}
        assert Checkpoint.from_json(cp.to_json()) == cp
        assert httpx_mock.get_requests() == []

    async def test_resume_search_after_a_crash_continues_at_saved_offset(
        self, clock: VirtualClock, httpx_mock: HTTPXMock
    ) -> None:
        """A failed page leaves a checkpoint at its offset; resume sends the same filter from there."""
        search_filter = {"created_at": {">=": "2024-01-01"}, "list_uuid": "list-1"}
        httpx_mock.add_response(url=SEARCH, json={"data": items(0, 2), "total": 6})
        httpx_mock.add_response(url=SEARCH, json={"data": items(2, 2), "total": 6})
        httpx_mock.add_response(url=SEARCH, status_code=422, json={"message": "try later"})
        httpx_mock.add_response(url=SEARCH, json={"data": items(4, 2), "total": 6})
        seen: list[LeadSearchResult] = []
        async with clock.autojump():
            async with new_client(clock) as first:
                paginator = first.leads.search(filter=search_filter, page_size=2)
                with pytest.raises(UnprocessableEntityError):
                    async for result in paginator:
                        seen.append(result)
                saved = paginator.checkpoint().to_json()
            cp = Checkpoint.from_json(saved)
            assert cp.offset == 4
            async with new_client(clock) as second:
                seen.extend([r async for r in second.resume(cp)])
        assert lead_uuids(seen) == [f"u{i}" for i in range(6)]
        requests = httpx_mock.get_requests()
        assert [window_of(r) for r in requests] == [(0, 2), (2, 2), (4, 2), (4, 2)]
        assert all(json.loads(r.content)["filter"] == search_filter for r in requests)

    async def test_resume_get_list_keeps_the_query_filter(
        self, client: AsyncGetSales, httpx_mock: HTTPXMock
    ) -> None:
        """Resuming a GET list sends the same bracket-encoded filter with the saved offset."""
        path = url("/emails/api/emails")
        httpx_mock.add_response(url=path, json={"data": items(0, 2), "total": 4})
        httpx_mock.add_response(url=path, json={"data": items(2, 2), "total": 4})
        paginator = client.emails.list(filter={"lead_uuid": "l1", "status": ["sent"]}, page_size=2)
        first = await paginator
        assert len(first.items) == 2
        cp = Checkpoint(
            resource="emails",
            method="list",
            arguments=paginator.checkpoint().arguments,
            offset=2,
            page_size=2,
        )
        rest = await client.resume(Checkpoint.from_json(cp.to_json())).to_list()
        assert [e.uuid for e in rest] == ["u2", "u3"]
        resumed = httpx_mock.get_requests()[-1]
        assert window_of(resumed) == (2, 2)
        assert resumed.url.params["filter[lead_uuid]"] == "l1"
        assert resumed.url.params.get_list("filter[status][]") == ["sent"]

    async def test_resume_get_list_with_order_type_from_json(
        self, client: AsyncGetSales, httpx_mock: HTTPXMock
    ) -> None:
        """A checkpoint file of a GET list ordered desc resumes with order_type=desc."""
        httpx_mock.add_response(url=url("/emails/api/emails"), json={"data": []})
        saved = client.emails.list(order_type=OrderType.DESC).checkpoint().to_json()
        await client.resume(Checkpoint.from_json(saved)).to_list()
        assert httpx_mock.get_requests()[0].url.params["order_type"] == "desc"

    async def test_resume_unknown_method_raises_argument_error(self, client: AsyncGetSales) -> None:
        """A checkpoint naming no method of the client is refused."""
        with pytest.raises(ArgumentError, match=r"leads\.nope"):
            client.resume(Checkpoint(resource="leads", method="nope", arguments={}, offset=0))

    async def test_resume_non_paginated_method_raises_argument_error(
        self, client: AsyncGetSales
    ) -> None:
        """A checkpoint naming a method that is not paginated is refused plainly."""
        with pytest.raises(ArgumentError, match="not a paginated method"):
            client.resume(Checkpoint(resource="leads", method="count", arguments={}, offset=0))


class TestAwaitAndPages:
    async def test_await_paginator_returns_the_first_page_only(
        self, client: AsyncGetSales, httpx_mock: HTTPXMock
    ) -> None:
        """`await paginator` sends one request and returns that Page."""
        httpx_mock.add_response(
            url=SEARCH, json={"data": items(0, 3), "total": 250, "has_more": True}
        )
        page = await client.leads.search(filter={"q": "cto"}, page_size=3)
        assert isinstance(page, Page)
        assert (page.offset, page.limit, page.total, page.has_more) == (0, 3, 250, True)
        assert lead_uuids(page.items) == ["u0", "u1", "u2"]
        assert isinstance(page.parsed, LeadPage) and not page.is_last()
        assert len(httpx_mock.get_requests()) == 1

    async def test_pages_iterates_pages_in_order(
        self, client: AsyncGetSales, httpx_mock: HTTPXMock
    ) -> None:
        """pages() yields Page objects with their offsets."""
        httpx_mock.add_response(url=SEARCH, json={"data": items(0, 2), "total": 5})
        httpx_mock.add_response(url=SEARCH, json={"data": items(2, 2), "total": 5})
        httpx_mock.add_response(url=SEARCH, json={"data": items(4, 1), "total": 5})
        pages = [p async for p in client.leads.search(page_size=2).pages()]
        assert [(p.offset, len(p.items)) for p in pages] == [(0, 2), (2, 2), (4, 1)]
        assert pages[-1].is_last()

    async def test_to_list_max_items_stops_early(
        self, client: AsyncGetSales, httpx_mock: HTTPXMock
    ) -> None:
        """to_list(max_items=3) stops once it has 3 items, without fetching more pages."""
        httpx_mock.add_response(url=SEARCH, json={"data": items(0, 2), "total": 100})
        httpx_mock.add_response(url=SEARCH, json={"data": items(2, 2), "total": 100})
        async with resource_warnings():  # leaks are test_early_exit_leaves_no_open_generators'
            results = await client.leads.search(page_size=2).to_list(max_items=3)
        assert lead_uuids(results) == ["u0", "u1", "u2"]
        assert windows(httpx_mock) == [(0, 2), (2, 2)]

    async def test_early_exit_leaves_no_open_generators(
        self, client: AsyncGetSales, httpx_mock: HTTPXMock
    ) -> None:
        """to_list(max_items=...) closes the generators it stopped early."""
        httpx_mock.add_response(url=SEARCH, json={"data": items(0, 2), "total": 100})
        async with resource_warnings() as leaks:
            await client.leads.search(page_size=2).to_list(max_items=1)
        assert leaks == []

    async def test_paginator_is_lazy_and_repr_shows_position(
        self, client: AsyncGetSales, httpx_mock: HTTPXMock
    ) -> None:
        """Creating a paginator sends nothing; its repr names the call and offset."""
        paginator = client.leads.search(start_offset=200, page_size=50)
        assert isinstance(paginator, AsyncPaginator)
        assert "leads.search" in repr(paginator) and "offset=200" in repr(paginator)
        assert httpx_mock.get_requests() == []


class TestReiteration:
    async def test_readme_order_await_pages_then_items_each_start_at_the_first_page(
        self, client: AsyncGetSales, httpx_mock: HTTPXMock
    ) -> None:
        """await, pages() and async for on one paginator each read from its first page."""
        for _ in range(3):
            httpx_mock.add_response(url=SEARCH, json={"data": items(0, 2), "total": 3})
            if _ > 0:
                httpx_mock.add_response(url=SEARCH, json={"data": items(2, 1), "total": 3})
        paginator = client.leads.search(page_size=2)
        first = await paginator
        pages = [page.offset async for page in paginator.pages()]
        results = [result async for result in paginator]
        assert lead_uuids(first.items) == ["u0", "u1"]
        assert pages == [0, 2]
        assert lead_uuids(results) == ["u0", "u1", "u2"]
        assert windows(httpx_mock) == [(0, 2), (0, 2), (2, 2), (0, 2), (2, 2)]

    async def test_second_walk_with_prefetch_yields_everything_again(
        self, client: AsyncGetSales, httpx_mock: HTTPXMock
    ) -> None:
        """With concurrency > 1 a second async for (or to_list) repeats the whole read."""

        def respond(request: httpx.Request) -> httpx.Response:
            offset, limit = window_of(request)
            return httpx.Response(
                200, json={"data": items(offset, min(limit, 7 - offset)), "total": 7}
            )

        httpx_mock.add_callback(respond, url=SEARCH, is_reusable=True)
        paginator = client.leads.search(page_size=2, concurrency=3)
        once = [result async for result in paginator]
        twice = await paginator.to_list()
        assert lead_uuids(once) == lead_uuids(twice) == [f"u{i}" for i in range(7)]
        assert sorted(windows(httpx_mock)) == sorted(2 * [(0, 2), (2, 2), (4, 2), (6, 2)])

    async def test_a_new_walk_resets_the_checkpoint_and_a_resumed_one_restarts_at_its_offset(
        self, client: AsyncGetSales, httpx_mock: HTTPXMock
    ) -> None:
        """checkpoint() follows the walk started last; a resumed paginator re-walks from its offset."""

        def respond(request: httpx.Request) -> httpx.Response:
            offset, limit = window_of(request)
            return httpx.Response(
                200, json={"data": items(offset, min(limit, 6 - offset)), "total": 6}
            )

        httpx_mock.add_callback(respond, url=SEARCH, is_reusable=True)
        paginator = client.leads.search(page_size=2)
        async with aclosing(paginator.pages()) as walk:
            async for page in walk:
                if page.offset == 2:
                    break
        assert paginator.checkpoint().offset == 2  # the page at 2 was handed out, not finished
        async with aclosing(paginator.pages()) as again:
            assert (await again.__anext__()).offset == 0
            assert paginator.checkpoint().offset == 0
        resumed = client.resume(
            Checkpoint(resource="leads", method="search", arguments={}, offset=4, page_size=2)
        )
        assert lead_uuids([result async for result in resumed]) == ["u4", "u5"]
        assert lead_uuids(await resumed.to_list()) == ["u4", "u5"]

    async def test_interleaved_walks_are_independent(
        self, client: AsyncGetSales, httpx_mock: HTTPXMock
    ) -> None:
        """Two walks over one paginator at once each see every item; the later one owns the checkpoint."""

        def respond(request: httpx.Request) -> httpx.Response:
            offset, limit = window_of(request)
            return httpx.Response(
                200, json={"data": items(offset, min(limit, 4 - offset)), "total": 4}
            )

        httpx_mock.add_callback(respond, url=SEARCH, is_reusable=True)
        paginator = client.leads.search(page_size=2)
        outer_seen: list[str] = []
        async with aclosing(paginator.pages()) as outer:
            async for page in outer:
                outer_seen.extend(lead_uuids(page.items))
                if page.offset == 0:
                    inner = [result async for result in paginator]
                    assert lead_uuids(inner) == ["u0", "u1", "u2", "u3"]
                    assert paginator.checkpoint().offset == 4
        assert outer_seen == ["u0", "u1", "u2", "u3"]
        assert paginator.checkpoint().offset == 4  # the outer walk no longer moves it


class TestFilters:
    async def test_get_list_filter_is_bracket_encoded(
        self, client: AsyncGetSales, httpx_mock: HTTPXMock
    ) -> None:
        """GET filters go out as filter[f]=v, filter[f][]=a, filter[f][>=]=v, true/false (fact 11)."""
        httpx_mock.add_response(url=url("/emails/api/emails"), json={"data": [], "total": 0})
        await client.emails.list(
            filter={
                "lead_uuid": "l1",
                "status": ["sent", "opened"],
                "created_at": {">=": "2024-01-01", "<": "2024-02-01"},
                "is_read": True,
                "is_archived": False,
                "thread_uuid": "is_null",
            }
        )
        params = httpx_mock.get_requests()[0].url.params
        assert params["filter[lead_uuid]"] == "l1"
        assert params.get_list("filter[status][]") == ["sent", "opened"]
        assert params["filter[created_at][>=]"] == "2024-01-01"
        assert params["filter[created_at][<]"] == "2024-02-01"
        assert (params["filter[is_read]"], params["filter[is_archived]"]) == ("true", "false")
        assert params["filter[thread_uuid]"] == "is_null"
        assert (params["limit"], params["offset"]) == ("100", "0")
        assert not {"lead_uuid", "status", "filter"} & set(params)

    async def test_get_list_filter_model_is_encoded_like_a_mapping(
        self, client: AsyncGetSales, httpx_mock: HTTPXMock
    ) -> None:
        """A ListEmailsFilter model and an order_type enum encode like plain values."""
        httpx_mock.add_response(url=url("/emails/api/emails"), json={"data": []})
        await client.emails.list(
            filter=ListEmailsFilter(lead_uuid="l1", status=["sent"]), order_type=OrderType.ASC
        )
        params = httpx_mock.get_requests()[0].url.params
        assert params["filter[lead_uuid]"] == "l1"
        assert params.get_list("filter[status][]") == ["sent"]
        assert params["order_type"] == "asc"

    async def test_get_list_filter_is_sent_on_every_page(
        self, client: AsyncGetSales, httpx_mock: HTTPXMock
    ) -> None:
        """Page two carries the same filter as page one."""
        path = url("/leads/api/lists")
        httpx_mock.add_response(url=path, json={"data": items(0, 1), "total": 2})
        httpx_mock.add_response(url=path, json={"data": items(1, 1), "total": 2})
        await client.lists.list(filter={"name": "Prospects"}, page_size=1).to_list()
        assert [r.url.params["filter[name]"] for r in httpx_mock.get_requests()] == [
            "Prospects",
            "Prospects",
        ]

    async def test_post_search_sends_nested_filter_in_body(
        self, client: AsyncGetSales, httpx_mock: HTTPXMock
    ) -> None:
        """POST search sends filter as nested JSON with limit/offset/order in the body (fact 12)."""
        httpx_mock.add_response(method="POST", url=SEARCH, json={"data": [], "total": 0})
        search_filter = {
            "created_at": {">=": "2024-01-01"},
            "tags": ["vip", "cto"],
            "list_uuid": "is_not_null",
            "has_email": True,
        }
        await client.leads.search(
            filter=search_filter, order_field="created_at", order_type=OrderType.DESC
        )
        request = httpx_mock.get_requests()[0]
        assert request.headers["content-type"] == "application/json"
        assert json.loads(request.content) == {
            "filter": search_filter,
            "limit": 100,
            "offset": 0,
            "order_field": "created_at",
            "order_type": "desc",
        }
        assert request.url.query == b""
