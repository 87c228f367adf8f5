"""The transport: every attempt is rate-limited; 429/5xx/connection errors follow the retry rules."""

from __future__ import annotations

import email.utils
import gzip
import logging
import uuid
from collections.abc import AsyncIterator
from typing import Any

import anyio
import httpx
import pytest
from pytest_httpx import HTTPXMock

from getsales_async import (
    APIConnectionError,
    APIResponseValidationError,
    APITimeoutError,
    AsyncGetSales,
    BadRequestError,
    InternalServerError,
    NotFoundError,
    RateLimit,
    RateLimitError,
    RedirectError,
    RequestOptions,
    ResponseTooLargeError,
    RetryBudget,
    UnprocessableEntityError,
)
from getsales_async.testing import VirtualClock

BASE = "https://api.test"
pytestmark = pytest.mark.anyio


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock()


@pytest.fixture
async def client(clock: VirtualClock) -> AsyncIterator[AsyncGetSales]:
    """A client on a fresh key (its own limiter), virtual time running by itself."""
    async with (
        clock.autojump(),
        AsyncGetSales(
            api_key=f"test-key-{uuid.uuid4().hex}",
            base_url=BASE,
            clock=clock,
            rate_limit=RateLimit(requests=600, period=60.0, burst=5),
        ) as c,
    ):
        yield c


def url(path: str) -> str:
    return BASE + path


class Chunks(httpx.AsyncByteStream):
    """A wire body served chunk by chunk (not read ahead like ``content=``); counts what it served."""

    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks
        self.served = 0

    def __aiter__(self) -> Chunks:
        return self

    async def __anext__(self) -> bytes:
        if self.served == len(self.chunks):
            raise StopAsyncIteration
        self.served += 1
        return self.chunks[self.served - 1]


class TestRateLimitRetry:
    async def test_429_is_retried_after_retry_after_seconds(
        self, client: AsyncGetSales, clock: VirtualClock, httpx_mock: HTTPXMock
    ) -> None:
        """A 429 with Retry-After: 7 is retried once 7 virtual seconds have passed."""
        httpx_mock.add_response(
            url=url("/leads/api/tags"), status_code=429, headers={"Retry-After": "7"}
        )
        httpx_mock.add_response(url=url("/leads/api/tags"), json={"data": []})
        start = clock.now()
        response = await client.request("GET", "/leads/api/tags")
        assert response.status_code == 200
        assert clock.now() - start >= 7.0
        assert client.statistics().rate_limited == 1 and client.statistics().retries == 1

    async def test_429_honours_http_date_retry_after(
        self, client: AsyncGetSales, clock: VirtualClock, httpx_mock: HTTPXMock
    ) -> None:
        """A Retry-After HTTP date is turned into a wait relative to the wall clock."""
        when = email.utils.formatdate(timeval=__import__("time").time() + 30, usegmt=True)
        httpx_mock.add_response(status_code=429, headers={"Retry-After": when})
        httpx_mock.add_response(json={"data": []})
        start = clock.now()
        await client.request("GET", "/leads/api/tags")
        assert 28.0 <= clock.now() - start <= 31.0

    async def test_429_without_header_backs_off_exponentially(
        self, client: AsyncGetSales, clock: VirtualClock, httpx_mock: HTTPXMock
    ) -> None:
        """Without Retry-After, consecutive 429s wait growing backoff delays."""
        for _ in range(3):
            httpx_mock.add_response(status_code=429)
        httpx_mock.add_response(json={"data": []})
        start = clock.now()
        await client.request("GET", "/leads/api/tags")
        # 1 + 2 + 4 s, each shortened by up to 25 %
        assert 0.75 * 7 <= clock.now() - start <= 7.5

    async def test_429_exhausting_retries_raises_rate_limit_error(
        self, client: AsyncGetSales, httpx_mock: HTTPXMock
    ) -> None:
        """After max_retries 429s the call raises RateLimitError carrying retry_after."""
        for _ in range(3):
            httpx_mock.add_response(
                status_code=429, headers={"Retry-After": "2"}, json={"message": "Too Many"}
            )
        with pytest.raises(RateLimitError) as info:
            await client.request("GET", "/leads/api/tags", max_retries=2)
        assert info.value.status_code == 429 and info.value.retry_after == 2.0

    async def test_429_with_huge_retry_after_backs_off_instead(
        self, client: AsyncGetSales, clock: VirtualClock, httpx_mock: HTTPXMock
    ) -> None:
        """A Retry-After beyond the ceiling (60 s) is replaced by the capped backoff (<= 1 s)."""
        httpx_mock.add_response(status_code=429, headers={"Retry-After": "3600"})
        httpx_mock.add_response(json={"data": []})
        start = clock.now()
        await client.request("GET", "/leads/api/tags")
        assert clock.now() - start <= 1.0

    async def test_429_pauses_every_pending_call_on_the_key(
        self, clock: VirtualClock, httpx_mock: HTTPXMock
    ) -> None:
        """After a 429 with Retry-After: 10, no request on the same key is sent before t+10."""
        sent: list[tuple[float, str]] = []
        answered_429 = False

        def respond(request: httpx.Request) -> httpx.Response:
            nonlocal answered_429
            sent.append((clock.now(), request.url.path))
            if request.url.path == "/a" and not answered_429:
                answered_429 = True
                return httpx.Response(429, headers={"Retry-After": "10"})
            return httpx.Response(200, json={})

        httpx_mock.add_callback(respond, is_reusable=True)
        key = f"k-{uuid.uuid4().hex}"
        async with (
            clock.autojump(),
            AsyncGetSales(api_key=key, base_url=BASE, clock=clock) as one,
            AsyncGetSales(api_key=key, base_url=BASE, clock=clock) as two,
        ):
            assert one.limiter is two.limiter
            await one.request("GET", "/warmup")
            async with anyio.create_task_group() as tg:
                tg.start_soon(one.request, "GET", "/a")
                await anyio.wait_all_tasks_blocked()
                for i in range(5):
                    tg.start_soon(two.request, "GET", f"/b{i}")
        t429 = next(t for t, p in sent if p == "/a")
        later = [t for t, p in sent if p != "/warmup" and t > t429]
        assert len(later) == 6  # 5 others + the retry
        assert min(later) >= t429 + 10.0

    async def test_every_attempt_goes_through_the_limiter(
        self, client: AsyncGetSales, httpx_mock: HTTPXMock
    ) -> None:
        """Retries consume quota: limiter admissions equal HTTP attempts."""
        httpx_mock.add_response(status_code=503)
        httpx_mock.add_response(status_code=429, headers={"Retry-After": "1"})
        httpx_mock.add_response(json={})
        before = client.limiter.statistics().acquired_total
        await client.request("GET", "/id/api/users/current")
        assert (
            client.limiter.statistics().acquired_total - before == 3 == client.statistics().attempts
        )


class TestServerAndConnectionErrors:
    @pytest.mark.parametrize("status", [502, 503, 504])
    async def test_gateway_errors_are_retried_for_get(
        self, client: AsyncGetSales, httpx_mock: HTTPXMock, status: int
    ) -> None:
        """502/503/504 on an idempotent GET are retried."""
        httpx_mock.add_response(status_code=status, text="<html>bad gateway</html>")
        httpx_mock.add_response(json={"uuid": "x"})
        response = await client.request("GET", "/leads/api/lists/x")
        assert response.json() == {"uuid": "x"}

    async def test_gateway_error_is_not_retried_for_non_idempotent_post(
        self, client: AsyncGetSales, httpx_mock: HTTPXMock
    ) -> None:
        """A 504 on a mass action (non-idempotent POST) raises at once: it may have partly run."""
        httpx_mock.add_response(status_code=504, text="Gateway Time-out")
        with pytest.raises(InternalServerError) as info:
            await client.request("POST", "/flows/api/linkedin-messages", json={"text": "hi"})
        assert info.value.status_code == 504
        assert len(httpx_mock.get_requests()) == 1

    async def test_gateway_error_is_retried_for_idempotent_post_operation(
        self, client: AsyncGetSales, httpx_mock: HTTPXMock
    ) -> None:
        """POST operations listed as idempotent (search) are retried on 503."""
        httpx_mock.add_response(status_code=503)
        httpx_mock.add_response(json={"data": [], "total": 0})
        page = await client.leads.search(filter={"q": "ann"})
        assert page.items == []
        assert len(httpx_mock.get_requests()) == 2

    async def test_500_is_not_retried(self, client: AsyncGetSales, httpx_mock: HTTPXMock) -> None:
        """A 500 is usually a deterministic client error on this API: raised, not retried."""
        httpx_mock.add_response(status_code=500, json={"message": "Server Error"})
        with pytest.raises(InternalServerError) as info:
            await client.request("GET", "/leads/api/tags")
        assert info.value.status_code == 500 and len(httpx_mock.get_requests()) == 1

    async def test_connect_error_is_retried_even_for_post(
        self, client: AsyncGetSales, httpx_mock: HTTPXMock
    ) -> None:
        """A connect-phase failure never reached the server, so even a POST is resent."""
        httpx_mock.add_exception(httpx.ConnectError("refused"))
        httpx_mock.add_response(status_code=201, json={"uuid": "l1"})
        response = await client.request("POST", "/leads/api/lists", json={"name": "x"})
        assert response.status_code == 201

    async def test_read_error_on_post_raises_connection_error(
        self, client: AsyncGetSales, httpx_mock: HTTPXMock
    ) -> None:
        """A dropped connection after sending a non-idempotent POST is not resent."""
        httpx_mock.add_exception(httpx.ReadError("connection reset"))
        with pytest.raises(APIConnectionError) as info:
            await client.request("POST", "/leads/api/lists", json={"name": "x"})
        assert not isinstance(info.value, APITimeoutError)
        assert len(httpx_mock.get_requests()) == 1

    async def test_read_error_on_get_is_retried(
        self, client: AsyncGetSales, httpx_mock: HTTPXMock
    ) -> None:
        """A dropped connection on a GET is retried."""
        httpx_mock.add_exception(httpx.RemoteProtocolError("server disconnected"))
        httpx_mock.add_response(json={"data": []})
        assert (await client.request("GET", "/leads/api/tags")).status_code == 200

    async def test_connection_lost_mid_body_is_retried_for_get(
        self, client: AsyncGetSales, httpx_mock: HTTPXMock
    ) -> None:
        """A body cut off mid-stream is a transport error: a GET is retried, nothing leaks raw."""

        class Broken(httpx.AsyncByteStream):
            async def __aiter__(self) -> AsyncIterator[bytes]:
                yield b'{"data": ['
                raise httpx.ReadError("connection reset mid-body")

        httpx_mock.add_response(stream=Broken())
        httpx_mock.add_response(json={"data": []})
        assert (await client.request("GET", "/leads/api/tags")).json() == {"data": []}

    async def test_connection_lost_mid_body_on_post_is_an_api_connection_error(
        self, client: AsyncGetSales, httpx_mock: HTTPXMock
    ) -> None:
        """For a non-idempotent POST the cut-off body surfaces as APIConnectionError."""

        class Broken(httpx.AsyncByteStream):
            async def __aiter__(self) -> AsyncIterator[bytes]:
                yield b"{"
                raise httpx.RemoteProtocolError("peer closed connection")

        httpx_mock.add_response(stream=Broken())
        with pytest.raises(APIConnectionError):
            await client.request("POST", "/leads/api/lists", json={"name": "x"})

    async def test_timeouts_become_api_timeout_error(
        self, client: AsyncGetSales, httpx_mock: HTTPXMock
    ) -> None:
        """Read timeouts on every attempt end in APITimeoutError (a subclass of APIConnectionError)."""
        for _ in range(2):
            httpx_mock.add_exception(httpx.ReadTimeout("slow"))
        with pytest.raises(APITimeoutError):
            await client.request("GET", "/leads/api/tags", max_retries=1)

    async def test_empty_200_body_is_retried_for_reads(
        self, client: AsyncGetSales, httpx_mock: HTTPXMock
    ) -> None:
        """An empty 200 where data is expected is a glitch: a read is retried."""
        httpx_mock.add_response(status_code=200, content=b"")
        httpx_mock.add_response(json={"uuid": "t1", "name": "vip"})
        lst = await client.lists.get("t1")
        assert lst.uuid == "t1"


class TestPerCallOptions:
    async def test_max_retries_zero_disables_retrying(
        self, client: AsyncGetSales, httpx_mock: HTTPXMock
    ) -> None:
        """request_options max_retries=0 fails on the first 503."""
        httpx_mock.add_response(status_code=503)
        with pytest.raises(InternalServerError):
            await client.lists.get("x", request_options=RequestOptions(max_retries=0))

    async def test_deadline_stops_retrying(
        self, client: AsyncGetSales, clock: VirtualClock, httpx_mock: HTTPXMock
    ) -> None:
        """No retry starts once the wait would pass the per-call deadline."""
        httpx_mock.add_response(status_code=429, headers={"Retry-After": "30"})
        start = clock.now()
        with pytest.raises(RateLimitError):
            await client.request("GET", "/leads/api/tags", deadline=10)
        assert clock.now() - start < 10

    async def test_per_call_timeout_reaches_the_request(
        self, client: AsyncGetSales, httpx_mock: HTTPXMock
    ) -> None:
        """A per-call timeout is set on the outgoing request."""
        httpx_mock.add_response(json={"data": []})
        await client.request("GET", "/leads/api/tags", timeout=3.5)
        assert httpx_mock.get_requests()[0].extensions["timeout"]["read"] == 3.5


class TestRedirects:
    @pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
    async def test_3xx_raises_redirect_error_naming_the_host_and_is_not_followed(
        self, client: AsyncGetSales, httpx_mock: HTTPXMock, status: int
    ) -> None:
        """A redirect is an error naming the target host; nothing is sent there."""
        httpx_mock.add_response(
            status_code=status, headers={"Location": "https://evil.example.net/steal"}
        )
        with pytest.raises(RedirectError) as info:
            await client.request("GET", "/leads/api/tags")
        assert info.value.status_code == status
        assert info.value.location_host == "evil.example.net"
        assert "evil.example.net" in str(info.value) and "not follow" in str(info.value)
        assert [r.url.host for r in httpx_mock.get_requests()] == ["api.test"]

    async def test_3xx_without_location_or_body_is_an_error(
        self, client: AsyncGetSales, httpx_mock: HTTPXMock
    ) -> None:
        """A bare 304 (or any 3xx without Location) is an error too, never success."""
        httpx_mock.add_response(status_code=304)
        with pytest.raises(RedirectError) as info:
            await client.lists.get("l1")
        assert info.value.location_host is None

    async def test_relative_location_names_the_same_host(
        self, client: AsyncGetSales, httpx_mock: HTTPXMock
    ) -> None:
        """A relative Location resolves against the request's host."""
        httpx_mock.add_response(status_code=302, headers={"Location": "/login"})
        with pytest.raises(RedirectError) as info:
            await client.request("GET", "/leads/api/tags")
        assert info.value.location_host == "api.test"


class TestResponseSize:
    async def test_declared_length_over_the_bound_fails_without_reading(
        self, clock: VirtualClock, httpx_mock: HTTPXMock
    ) -> None:
        """A Content-Length above max_response_bytes fails before a byte of the body is read."""
        read: list[int] = []

        class Counting(httpx.AsyncByteStream):
            async def __aiter__(self) -> AsyncIterator[bytes]:
                read.append(1)
                yield b"x" * 2048

        httpx_mock.add_response(headers={"Content-Length": "2048"}, stream=Counting())
        async with (
            clock.autojump(),
            AsyncGetSales(
                api_key=f"k-{uuid.uuid4().hex}", base_url=BASE, clock=clock, max_response_bytes=1024
            ) as c,
        ):
            with pytest.raises(ResponseTooLargeError) as info:
                await c.request("GET", "/leads/api/tags")
        assert read == []
        assert info.value.limit == 1024 and info.value.status_code == 200

    async def test_streamed_body_stops_at_the_bound(
        self, clock: VirtualClock, httpx_mock: HTTPXMock
    ) -> None:
        """Without Content-Length, reading stops at the first chunk past the bound."""
        stream = Chunks([b"[" * 1024] * 10_000)
        httpx_mock.add_response(stream=stream)
        async with (
            clock.autojump(),
            AsyncGetSales(
                api_key=f"k-{uuid.uuid4().hex}", base_url=BASE, clock=clock, max_response_bytes=4096
            ) as c,
        ):
            with pytest.raises(ResponseTooLargeError):
                await c.request("GET", "/leads/api/tags")
        assert stream.served == 5  # 4 KiB accepted, the 5th chunk passes the bound

    async def test_bound_counts_decoded_bytes(
        self, clock: VirtualClock, httpx_mock: HTTPXMock
    ) -> None:
        """A small gzip body that inflates past the bound is refused (no decompression bomb)."""
        bomb = gzip.compress(b"0" * 100_000)
        httpx_mock.add_response(stream=Chunks([bomb]), headers={"Content-Encoding": "gzip"})
        async with (
            clock.autojump(),
            AsyncGetSales(
                api_key=f"k-{uuid.uuid4().hex}",
                base_url=BASE,
                clock=clock,
                max_response_bytes=10_000,
            ) as c,
        ):
            assert len(bomb) < 10_000
            with pytest.raises(ResponseTooLargeError):
                await c.request("GET", "/leads/api/tags")

    async def test_csv_download_is_exempt_from_max_response_bytes(
        self, clock: VirtualClock, httpx_mock: HTTPXMock
    ) -> None:
        """files.download_export (Accept: text/csv) may exceed max_response_bytes."""
        csv = b"email\n" + b"a@example.com\n" * 1000
        httpx_mock.add_response(content=csv, headers={"Content-Type": "text/csv"})
        async with (
            clock.autojump(),
            AsyncGetSales(
                api_key=f"k-{uuid.uuid4().hex}", base_url=BASE, clock=clock, max_response_bytes=1024
            ) as c,
        ):
            assert await c.files.download_export(file_name="export.csv") == csv

    async def test_body_that_fails_its_content_encoding_is_a_validation_error(
        self, client: AsyncGetSales, httpx_mock: HTTPXMock
    ) -> None:
        """A body that is not what Content-Encoding says becomes APIResponseValidationError."""
        httpx_mock.add_response(
            stream=Chunks([b"not gzip at all"]), headers={"Content-Encoding": "gzip"}
        )
        with pytest.raises(APIResponseValidationError, match="could not be decoded"):
            await client.request("GET", "/leads/api/tags")


class TestRetryBudget:
    async def test_calls_fail_fast_once_the_budget_is_spent(
        self, clock: VirtualClock, httpx_mock: HTTPXMock
    ) -> None:
        """With 10 tokens (two 503 retries), the third failing call is not retried at all."""
        httpx_mock.add_response(status_code=503, is_reusable=True)
        async with (
            clock.autojump(),
            AsyncGetSales(
                api_key=f"k-{uuid.uuid4().hex}",
                base_url=BASE,
                clock=clock,
                retry_budget=RetryBudget(capacity=10),
            ) as c,
        ):
            for _ in range(2):
                with pytest.raises(InternalServerError):
                    await c.request("GET", "/leads/api/tags", max_retries=1)
            assert len(httpx_mock.get_requests()) == 4
            with pytest.raises(InternalServerError):
                await c.request("GET", "/leads/api/tags", max_retries=5)
            assert len(httpx_mock.get_requests()) == 5
            assert c.retry_budget.statistics().refused == 1

    async def test_success_after_a_retry_returns_its_cost(
        self, client: AsyncGetSales, httpx_mock: HTTPXMock
    ) -> None:
        """A call that succeeds after a 429 gives back the 10 tokens its retry took."""
        httpx_mock.add_response(status_code=429, headers={"Retry-After": "1"})
        httpx_mock.add_response(json={})
        before = client.retry_budget.tokens
        await client.request("GET", "/leads/api/tags")
        assert client.retry_budget.tokens == before


class TestIdempotency:
    @pytest.mark.parametrize("method", ["PUT", "DELETE", "POST", "PATCH"])
    async def test_request_does_not_repeat_other_methods_after_a_504(
        self, client: AsyncGetSales, httpx_mock: HTTPXMock, method: str
    ) -> None:
        """client.request() repeats only GET, HEAD and OPTIONS after an ambiguous failure."""
        httpx_mock.add_response(status_code=504)
        with pytest.raises(InternalServerError):
            await client.request(method, "/leads/api/leads/mass-action", json={})
        assert len(httpx_mock.get_requests()) == 1

    async def test_request_repeats_a_put_when_told_it_is_idempotent(
        self, client: AsyncGetSales, httpx_mock: HTTPXMock
    ) -> None:
        """idempotent=True opts a call in."""
        httpx_mock.add_response(status_code=504)
        httpx_mock.add_response(json={})
        await client.request("PUT", "/leads/api/leads/l1", json={}, idempotent=True)
        assert len(httpx_mock.get_requests()) == 2

    @pytest.mark.parametrize(
        "error", [httpx.ReadTimeout("slow"), httpx.RemoteProtocolError("closed after send")]
    )
    async def test_ambiguous_transport_errors_do_not_repeat_a_delete(
        self, client: AsyncGetSales, httpx_mock: HTTPXMock, error: Exception
    ) -> None:
        """A read timeout or a connection lost after sending is not repeated for a DELETE."""
        httpx_mock.add_exception(error)
        with pytest.raises(APIConnectionError):
            await client.request("DELETE", "/flows/api/flows/leads")
        assert len(httpx_mock.get_requests()) == 1

    async def test_429_is_retried_for_every_method(
        self, client: AsyncGetSales, httpx_mock: HTTPXMock
    ) -> None:
        """A 429 was refused, not run: a POST is retried."""
        httpx_mock.add_response(status_code=429, headers={"Retry-After": "0"})
        httpx_mock.add_response(status_code=201, json={})
        assert (await client.request("POST", "/leads/api/lists", json={})).status_code == 201


class TestDeadlines:
    async def test_deadline_bounds_an_attempt_that_never_answers(self) -> None:
        """An attempt still waiting for its answer at the deadline ends with APITimeoutError."""

        class Silent(httpx.AsyncBaseTransport):
            async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
                await anyio.Event().wait()  # never answers
                raise AssertionError("unreachable")

        async with AsyncGetSales(
            api_key=f"k-{uuid.uuid4().hex}", base_url=BASE, transport=Silent()
        ) as c:
            with pytest.raises(APITimeoutError, match="deadline passed"):
                await c.request("GET", "/leads/api/tags", deadline=0.05)

    async def test_deadline_bounds_the_wait_for_a_slot(
        self, clock: VirtualClock, httpx_mock: HTTPXMock
    ) -> None:
        """A call that cannot get a rate-limit slot before its deadline fails at once."""
        httpx_mock.add_response(json={}, is_reusable=True)
        async with (
            clock.autojump(),
            AsyncGetSales(
                api_key=f"k-{uuid.uuid4().hex}",
                base_url=BASE,
                clock=clock,
                rate_limit=RateLimit(requests=1, period=60.0, burst=1),
            ) as c,
        ):
            await c.request("GET", "/leads/api/tags")
            with pytest.raises(APITimeoutError, match="no rate-limit slot") as info:
                await c.request("GET", "/leads/api/tags", deadline=5)
            assert clock.now() == 0.0
        assert (info.value.method, info.value.path) == ("GET", "/leads/api/tags")


class TestErrorMapping:
    @pytest.mark.parametrize(
        ("status", "cls"),
        [(400, BadRequestError), (404, NotFoundError), (422, UnprocessableEntityError)],
    )
    async def test_status_maps_to_typed_error(
        self, client: AsyncGetSales, httpx_mock: HTTPXMock, status: int, cls: type[Exception]
    ) -> None:
        """Error statuses raise their class, with reason, message and field errors parsed."""
        httpx_mock.add_response(
            status_code=status,
            json={
                "error": {
                    "reason": "validation_error",
                    "message": "The name field is required.",
                    "data": {"name": ["required"]},
                },
                "message": "Validation failed",
                "code": status,
            },
            headers={"x-request-id": "req-9"},
        )
        with pytest.raises(cls) as info:
            await client.request("POST", "/leads/api/lists", json={})
        err: Any = info.value
        assert err.reason == "validation_error" and err.request_id == "req-9"
        assert err.field_errors == {"name": ["required"]}
        assert (err.method, err.path) == ("POST", "/leads/api/lists")


class TestSecrets:
    async def test_logs_of_a_failing_retried_call_never_contain_the_key(
        self, clock: VirtualClock, httpx_mock: HTTPXMock, caplog: pytest.LogCaptureFixture
    ) -> None:
        """Every log record of a retried, failing call is free of the key and the Authorization header."""
        secret = f"sk-live-{uuid.uuid4().hex}"
        httpx_mock.add_response(status_code=503, json={"echo": f"Bearer {secret}"})
        httpx_mock.add_response(status_code=429, headers={"Retry-After": "1"})
        httpx_mock.add_response(status_code=422, json={"message": f"bad key {secret}"})
        caplog.set_level(logging.DEBUG)
        async with clock.autojump(), AsyncGetSales(api_key=secret, base_url=BASE, clock=clock) as c:
            with pytest.raises(UnprocessableEntityError) as info:
                await c.request("GET", "/leads/api/tags")
            logging.getLogger("getsales_async").debug("client is %r, key %s", c, secret)
        text = caplog.text + "".join(str(r.args) for r in caplog.records)
        assert secret not in text
        assert "Bearer" not in text
        assert secret not in str(info.value) and secret not in repr(info.value)
        assert any("retry" in r.getMessage().lower() for r in caplog.records)
