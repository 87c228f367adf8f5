"""A hostile server and a careless caller: every defect of issue 13 stays fixed.

Each class is one finding of the issue (hostile Retry-After, storms, 3xx, bodies, secrets, plain
HTTP, repeats). Time is virtual except where a real Redis and a second process are involved.
Dot-segment path parameters and bracketed filter keys are refused by the resource layer and tested
with it.
"""

from __future__ import annotations

import email.utils
import json
import logging
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest

from getsales_async import (
    APIConnectionError,
    APIResponseValidationError,
    ArgumentError,
    AsyncGetSales,
    GetSalesError,
    InternalServerError,
    RateLimit,
    RateLimitError,
    RedirectError,
    ResponseTooLargeError,
    RowStatus,
    UnprocessableEntityError,
)
from getsales_async._cli import main as cli_main
from getsales_async._config import (
    DEFAULT_MAX_RESPONSE_BYTES,
    DEFAULT_MAX_RETRY_AFTER_S,
    DEFAULT_RATE_PERIOD_S,
    DEFAULT_RATE_REQUESTS,
    MAX_RETRY_DELAY_S,
    RETRY_BUDGET_CAPACITY,
    RETRY_BUDGET_COST,
    RETRY_BUDGET_THROTTLE_COST,
)
from getsales_async.testing import VirtualClock
from tests.redis_server import RedisServer, running_redis

pytestmark = pytest.mark.anyio

BASE = "https://api.test"
ROOT = Path(__file__).resolve().parent.parent
CEILING = DEFAULT_MAX_RETRY_AFTER_S  # 60 s
FIRST_BACKOFF_S = 1.0  # the longest first backoff (1 s, jitter only shortens it)
NESTED = b"[" * 10_000 + b"]" * 10_000  # past CPython's recursion limit in json.loads
STORM_TASKS = 1_000
HANG_GUARD_S = 30  # real seconds: a call stuck on a clock nobody advances fails instead of hanging


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def fresh_key() -> str:
    return f"sk-adv-{uuid.uuid4().hex}"


def client_on(
    handler: Callable[[httpx.Request], httpx.Response],
    clock: VirtualClock,
    *,
    key: str | None = None,
    **kwargs: Any,
) -> AsyncGetSales:
    """A client whose requests go to ``handler`` (in-process), on ``clock``."""
    return AsyncGetSales(
        api_key=key or fresh_key(),
        base_url=BASE,
        transport=httpx.MockTransport(handler),
        clock=clock,
        **kwargs,
    )


async def run_virtual(clock: VirtualClock, horizon: float = 2 * CEILING) -> None:
    """Move virtual time from deadline to deadline until nobody sleeps on the clock (or, for a
    sleeper past ``horizon``, stop there: the assertions then show who is still waiting)."""
    await anyio.wait_all_tasks_blocked()
    while clock.next_deadline is not None and clock.next_deadline <= horizon:
        clock.advance(clock.next_deadline - clock.now())
        await anyio.wait_all_tasks_blocked()


def storm_bound(calls: int, retries: int, longest_wait: float) -> float:
    """The stated bound on how long ``calls`` concurrent calls take against a failing server.

    Every attempt goes through the key's limiter (one per ``T = 60/290`` s after the burst); the
    retry budget allows at most ``retries`` retries while nothing succeeds; each retry can keep
    the key idle for at most ``longest_wait`` (the shared pause or the backoff). So all calls end
    within ``(calls + retries) * T + retries * longest_wait`` (docs/shared-quota.md, "Storms").
    """
    interval = DEFAULT_RATE_PERIOD_S / DEFAULT_RATE_REQUESTS
    return (calls + retries) * interval + retries * longest_wait


HOSTILE_RETRY_AFTER = {
    # value: the longest wait the second client may see (the server's own wait when honoured)
    "100000": FIRST_BACKOFF_S,
    email.utils.formatdate(time.time() + 10 * 365 * 86400, usegmt=True): FIRST_BACKOFF_S,
    "Fri, 31 Dec 9999 23:59:59 GMT": FIRST_BACKOFF_S,
    "-5": FIRST_BACKOFF_S,
    "soon": FIRST_BACKOFF_S,
    "nan": FIRST_BACKOFF_S,
    "1e308": FIRST_BACKOFF_S,
    "60.5": FIRST_BACKOFF_S,
    "2.5": 2.5,
    "60": CEILING,
}


class TestHostileRetryAfter:
    @pytest.mark.parametrize(
        ("value", "longest"), HOSTILE_RETRY_AFTER.items(), ids=list(range(len(HOSTILE_RETRY_AFTER)))
    )
    async def test_one_header_delays_another_client_on_the_key_at_most_the_ceiling(
        self, value: str, longest: float
    ) -> None:
        """After a 429 with a hostile Retry-After, the key's pause is at most 60 s (the capped
        backoff, <= 1 s, when the value is out of range); a second client's call then waits only
        that pause and its turn in the quota (one emission interval, behind the retry)."""
        clock = VirtualClock()
        sent: list[tuple[str, float]] = []

        def handler(request: httpx.Request) -> httpx.Response:
            sent.append((request.url.path, clock.now()))
            if request.url.path == "/a" and len(sent) == 1:
                return httpx.Response(429, headers={"Retry-After": value})
            return httpx.Response(200, json={})

        key = fresh_key()
        async with (
            client_on(handler, clock, key=key) as first,
            client_on(handler, clock, key=key) as second,
            anyio.create_task_group() as tg,
        ):
            tg.start_soon(first.request, "GET", "/a")
            await anyio.wait_all_tasks_blocked()  # the 429 is in, the key paused
            tg.start_soon(second.request, "GET", "/b")
            with anyio.fail_after(HANG_GUARD_S):
                await run_virtual(clock)
            tg.cancel_scope.cancel()  # anything still waiting past 120 s fails the checks below
        (b_sent,) = [t for path, t in sent if path == "/b"]
        interval = DEFAULT_RATE_PERIOD_S / DEFAULT_RATE_REQUESTS
        assert longest <= CEILING
        assert b_sent <= longest + interval
        assert [path for path, _ in sent] in (["/a", "/a", "/b"], ["/a", "/b", "/a"])

    async def test_deadline_bounds_a_call_held_back_by_the_servers_pause(self) -> None:
        """With the key paused 60 s by a 429, a call with deadline=1 fails at once: RateLimitError."""
        clock = VirtualClock()

        def handler(request: httpx.Request) -> httpx.Response:
            if request.url.path == "/a":
                return httpx.Response(429, headers={"Retry-After": "60"})
            return httpx.Response(200, json={})

        key = fresh_key()
        async with (
            client_on(handler, clock, key=key, max_retries=1) as first,
            client_on(handler, clock, key=key) as second,
            anyio.create_task_group() as tg,
        ):
            tg.start_soon(first.request, "GET", "/a")
            await anyio.wait_all_tasks_blocked()
            before = clock.now()
            with pytest.raises(RateLimitError) as info, anyio.fail_after(HANG_GUARD_S):
                await second.request("GET", "/b", deadline=1)
            assert clock.now() == before  # failed at once, not after waiting
            assert info.value.retry_after == pytest.approx(60.0)
            tg.cancel_scope.cancel()

    @pytest.mark.parametrize("anyio_backend", ["asyncio"])  # redis-py runs on asyncio only
    async def test_redis_pause_and_ttl_stay_within_the_ceiling_for_another_process(
        self, tmp_path: Path
    ) -> None:
        """Through Redis, Retry-After: 100000 delays a second process by <= max_retry_after."""
        from redis.asyncio import Redis

        from getsales_async import RedisRateLimit

        with running_redis(tmp_path) as server:
            await self._pause_through_redis(server, Redis.from_url(server.url), RedisRateLimit)

    async def _pause_through_redis(self, server: RedisServer, inspector: Any, config: Any) -> None:
        ceiling = 2.0
        rate = RateLimit(requests=10, period=1.0, burst=1)
        key = fresh_key()
        start = time.time() + 3.0  # the second process asks for its slot from here on
        command = [sys.executable, "-m", "tests.redis_server", "worker", server.url, key]
        command += [repr(start), "1", "1", str(rate.requests), repr(rate.period), str(rate.burst)]
        worker = subprocess.Popen(
            command,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        paused_at: list[float] = []

        def handler(request: httpx.Request) -> httpx.Response:
            if not paused_at:
                paused_at.append(time.time())
                return httpx.Response(429, headers={"Retry-After": "100000"})
            return httpx.Response(200, json={})

        limit = config(url=server.url, rate=rate, max_pause=ceiling)
        try:
            await anyio.sleep(max(0.0, start - 0.2 - time.time()))
            async with AsyncGetSales(
                api_key=key,
                base_url=BASE,
                transport=httpx.MockTransport(handler),
                rate_limit=limit,
                max_retry_after=ceiling,
            ) as client:
                await client.request("GET", "/leads/api/tags")
                schedule = f"getsales:ratelimit:{client._fingerprint}"
                pause_us = int(await inspector.hget(schedule, "pause") or 0)
                ttl_ms = await inspector.pttl(schedule)
            out, err = worker.communicate(timeout=60)
        finally:
            if worker.poll() is None:
                worker.kill()
                worker.wait()
            await inspector.aclose()
        assert worker.returncode == 0, err.decode(errors="replace")
        ((slot, _),) = json.loads(out)
        assert pause_us / 1e6 <= paused_at[0] + ceiling
        assert ttl_ms <= (ceiling + 1.0) * 1000  # the pause plus the expiry margin
        assert slot <= max(start, paused_at[0]) + ceiling + 2 * rate.emission_interval


def storm_handler(
    status: int, headers: dict[str, str]
) -> Callable[[httpx.Request], httpx.Response]:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, headers=headers)

    return handler


async def storm(
    status: int, headers: dict[str, str], *, deadline: float | None
) -> tuple[list[float], dict[str, int]]:
    """1,000 concurrent calls on one key against a server that always fails; each call's
    duration (virtual seconds) and the error types."""
    clock = VirtualClock()
    durations: list[float] = []
    errors: dict[str, int] = {}

    async def call(client: AsyncGetSales) -> None:
        started = clock.now()
        try:
            await client.request("GET", "/leads/api/tags", deadline=deadline)
        except GetSalesError as exc:
            errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1
        durations.append(clock.now() - started)

    async with (
        clock.autojump(),
        client_on(storm_handler(status, headers), clock) as client,
        anyio.create_task_group() as tg,
    ):
        for _ in range(STORM_TASKS):
            tg.start_soon(call, client)
    return durations, errors


class TestStorms:
    async def test_always_429_ends_within_the_stated_bound(self) -> None:
        """1,000 calls against always-429 (Retry-After: 60) all fail with RateLimitError in time."""
        durations, errors = await storm(429, {"Retry-After": "60"}, deadline=None)
        retries = RETRY_BUDGET_CAPACITY // RETRY_BUDGET_THROTTLE_COST
        assert errors == {"RateLimitError": STORM_TASKS}
        assert max(durations) <= storm_bound(STORM_TASKS, retries, CEILING)  # 809 s

    async def test_always_503_ends_within_the_stated_bound(self) -> None:
        """1,000 calls against always-503 all fail with InternalServerError in time."""
        durations, errors = await storm(503, {}, deadline=None)
        retries = RETRY_BUDGET_CAPACITY // RETRY_BUDGET_COST
        assert errors == {"InternalServerError": STORM_TASKS}
        assert max(durations) <= storm_bound(STORM_TASKS, retries, MAX_RETRY_DELAY_S)  # 811 s

    @pytest.mark.parametrize(
        ("status", "headers", "server_error"),
        [
            (429, {"Retry-After": "60"}, "RateLimitError"),
            (429, {}, "RateLimitError"),
            (503, {}, "InternalServerError"),
        ],
    )
    async def test_no_call_outlives_a_30_s_deadline(
        self, status: int, headers: dict[str, str], server_error: str
    ) -> None:
        """With deadline=30 every call ends by 30 s with a typed error: the server's, or
        APITimeoutError for one that could not get a slot in time (most of them, at once)."""
        durations, errors = await storm(status, headers, deadline=30)
        assert max(durations) <= 30.0
        assert set(errors) <= {server_error, "APITimeoutError"}
        assert sum(errors.values()) == STORM_TASKS


class TestRedirects:
    @pytest.mark.parametrize("body", [b"", b'{"uuid": "l1", "name": "vip"}'])
    async def test_typed_method_raises_on_a_3xx_with_or_without_body(self, body: bytes) -> None:
        """A 3xx is never a success: lists.get raises RedirectError, nothing is followed."""
        clock = VirtualClock()
        hosts: list[str] = []

        def handler(request: httpx.Request) -> httpx.Response:
            hosts.append(request.url.host)
            return httpx.Response(
                302, content=body, headers={"Location": "https://elsewhere.example/x"}
            )

        async with client_on(handler, clock) as client:
            with pytest.raises(RedirectError) as info:
                await client.lists.get("l1")
        assert info.value.location_host == "elsewhere.example"
        assert hosts == ["api.test"]

    async def test_bulk_upsert_reports_3xx_rows_as_failed_not_updated(self) -> None:
        """bulk_upsert with a 3xx carrying JSON: every row failed (RedirectError), none written."""
        clock = VirtualClock()

        def handler(request: httpx.Request) -> httpx.Response:
            return httpx.Response(301, json={"uuid": "lead-1"}, headers={"Location": "/moved"})

        async with clock.autojump(), client_on(handler, clock) as client:
            summary = await client.leads.bulk_upsert(
                [{"work_email": f"p{i}@x.example"} for i in range(3)], list_uuid="list-1"
            )
        assert (summary.failed, summary.updated, summary.created) == (3, 0, 0)
        assert {f.error_type for f in summary.failures} == {"RedirectError"}
        assert all(f.status is RowStatus.FAILED and f.lead_uuid is None for f in summary.failures)


def answer(status: int, body: bytes, **headers: str) -> Callable[[httpx.Request], httpx.Response]:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            status, content=body, headers={"Content-Type": "application/json", **headers}
        )

    return handler


class Endless(httpx.AsyncByteStream):
    """A body of ``mib`` MiB served 1 MiB at a time; counts what was read."""

    CHUNK = b"[" * (1 << 20)

    def __init__(self, mib: int) -> None:
        self.left = mib
        self.read = 0

    def __aiter__(self) -> Endless:
        return self

    async def __anext__(self) -> bytes:
        if self.left == 0:
            raise StopAsyncIteration
        self.left -= 1
        self.read += 1
        return self.CHUNK


class TestBodies:
    @pytest.mark.parametrize(
        ("status", "error"),
        [(200, APIResponseValidationError), (422, UnprocessableEntityError), (429, RateLimitError)],
    )
    async def test_nested_json_is_a_typed_error(
        self, status: int, error: type[GetSalesError]
    ) -> None:
        """JSON nested 10,000 deep in a 2xx, 422 or 429 answer raises a typed error."""
        async with client_on(answer(status, NESTED), VirtualClock(), max_retries=0) as client:
            with pytest.raises(error):
                await client.lists.get("l1")

    @pytest.mark.parametrize(
        ("status", "error"),
        [(200, APIResponseValidationError), (404, GetSalesError), (429, RateLimitError)],
    )
    @pytest.mark.parametrize(
        "body", [b"<html>oops", b'{"uuid": "l1"', b'{"name": "\xff\xfe"}', b"\x00\x01"]
    )
    async def test_invalid_bodies_are_typed_errors(
        self, status: int, error: type[GetSalesError], body: bytes
    ) -> None:
        """HTML, cut-off JSON, invalid UTF-8 and binary bodies end in typed errors."""
        async with client_on(answer(status, body), VirtualClock(), max_retries=0) as client:
            with pytest.raises(error):
                await client.lists.get("l1")

    @pytest.mark.parametrize("status", [200, 400, 429])
    async def test_huge_body_is_refused_without_reading_the_rest(self, status: int) -> None:
        """A 50 MiB answer stops at max_response_bytes (32 MiB): ResponseTooLargeError."""
        stream = Endless(50)

        def handler(request: httpx.Request) -> httpx.Response:
            return httpx.Response(status, stream=stream)

        async with client_on(handler, VirtualClock(), max_retries=0) as client:
            with pytest.raises(ResponseTooLargeError):
                await client.lists.get("l1")
        assert stream.read == DEFAULT_MAX_RESPONSE_BYTES // len(Endless.CHUNK) + 1 < 50

    async def test_nested_body_fails_rows_but_never_aborts_a_bulk_job(self) -> None:
        """bulk_upsert against nested 2xx bodies: every row failed and accounted, job completes."""
        clock = VirtualClock()
        async with clock.autojump(), client_on(answer(200, NESTED), clock) as client:
            summary = await client.leads.bulk_upsert(
                [{"work_email": f"p{i}@x.example"} for i in range(4)],
                list_uuid="list-1",
                row_attempts=2,
            )
        assert (summary.done, summary.failed) == (4, 4)
        assert {f.error_type for f in summary.failures} == {"APIResponseValidationError"}


BAD_KEYS = {
    "crlf": "sk-live-abcdef\r\nX-Injected: 1",
    "lf": "sk-live-abc\ndef123456",
    "nul": "sk-live-abc\x00def123456",
    "non-ascii": "sk-live-abcdéf123456",
    "space": "sk-live-abc def123456",
}


def fragments(secret: str) -> list[str]:
    """Pieces of a secret long enough to identify it (split on the bad characters)."""
    pieces = secret.replace("\r", " ").replace("\n", " ").replace("\x00", " ").split(" ")
    return [piece for piece in pieces if len(piece) >= 6]


class TestSecrets:
    @pytest.mark.parametrize("secret", BAD_KEYS.values(), ids=BAD_KEYS.keys())
    async def test_bad_key_fails_at_construction_without_leaking(
        self, secret: str, caplog: pytest.LogCaptureFixture
    ) -> None:
        """CR/LF/NUL/non-ASCII keys: ArgumentError before any request, key in no message or log."""
        caplog.set_level(logging.DEBUG)
        with pytest.raises(ArgumentError) as info:
            AsyncGetSales(api_key=secret, base_url=BASE)
        text = str(info.value) + repr(info.value) + caplog.text
        assert not any(piece in text for piece in fragments(secret))
        assert "\n" not in str(info.value)

    @pytest.mark.parametrize(
        "secret", [k for k in BAD_KEYS.values() if "\x00" not in k], ids=["crlf", "lf", "é", "sp"]
    )
    @pytest.mark.parametrize("command", [["whoami"], ["export-leads", "out.csv"]])
    def test_cli_prints_one_line_without_the_key(
        self,
        secret: str,
        command: list[str],
        monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str],
        tmp_path: Path,
    ) -> None:
        """Every CLI command with such a key exits 2 (usage) with one line that does not hold it."""
        monkeypatch.setenv("GETSALES_API_KEY", secret)
        monkeypatch.chdir(tmp_path)
        assert cli_main(command) == 2
        out, err = capsys.readouterr()
        assert out == ""
        assert err.count("\n") == 1
        assert err.startswith("getsales: error: api_key from $GETSALES_API_KEY")
        assert not any(piece in out + err for piece in fragments(secret))

    async def test_key_echoed_by_a_server_never_reaches_errors_or_logs(
        self, caplog: pytest.LogCaptureFixture
    ) -> None:
        """A server echoing the key in 401/422/redirect answers: masked everywhere."""
        secret = fresh_key()
        caplog.set_level(logging.DEBUG)
        echo = json.dumps({"message": f"bad key Bearer {secret} {secret}"}).encode()
        clock = VirtualClock()  # one key, one limiter, one clock
        for status, error in ((401, GetSalesError), (422, UnprocessableEntityError)):
            async with client_on(answer(status, echo), clock, key=secret) as client:
                with pytest.raises(error) as info:
                    await client.request("GET", "/x")
            assert secret not in str(info.value) + repr(info.value)
        assert secret not in caplog.text

    async def test_transport_error_quoting_a_header_never_shows_the_key(self) -> None:
        """An error that quotes the Authorization header it could not send is masked."""
        secret = fresh_key()

        def handler(request: httpx.Request) -> httpx.Response:
            raise httpx.LocalProtocolError(
                f"Illegal header value {request.headers['authorization']!r}"
            )

        async with client_on(handler, VirtualClock(), key=secret) as client:
            with pytest.raises(APIConnectionError) as info:
                await client.request("GET", "/x")
        assert secret not in str(info.value) + repr(info.value)
        assert "[redacted]" in str(info.value)

    async def test_header_injection_is_impossible_through_team_id(self) -> None:
        """A team id with CR/LF is refused before any header is built."""
        with pytest.raises(ArgumentError, match="team_id"):
            AsyncGetSales(api_key=fresh_key(), team_id="1\r\nX-Evil: 1")


class TestPlainHttp:
    async def test_http_to_a_remote_host_is_refused_before_any_request(self) -> None:
        """http:// to a non-loopback host: ArgumentError naming the opt-in; nothing sent."""
        with pytest.raises(ArgumentError, match=r"unencrypted.*allow_insecure_http=True"):
            AsyncGetSales(api_key=fresh_key(), base_url="http://amazing.getsales.io")

    def test_cli_refuses_plain_http_in_one_line(
        self, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """The CLI reports an unsafe GETSALES_BASE_URL in one line, password masked."""
        monkeypatch.setenv("GETSALES_API_KEY", fresh_key())
        monkeypatch.setenv("GETSALES_BASE_URL", "http://me:s3cret-pw@api.example.com")
        assert cli_main(["whoami"]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "s3cret-pw" not in err and "***@" in err


class TestRepeats:
    @pytest.mark.parametrize("method", ["PUT", "DELETE", "POST"])
    async def test_raw_request_is_not_repeated_after_an_ambiguous_504(self, method: str) -> None:
        """client.request() sends a PUT/DELETE/POST once after a 504 (it may have partly run)."""
        sent: list[str] = []

        def handler(request: httpx.Request) -> httpx.Response:
            sent.append(request.method)
            return httpx.Response(504)

        clock = VirtualClock()
        async with clock.autojump(), client_on(handler, clock) as client:
            with pytest.raises(InternalServerError):
                await client.request(method, "/leads/api/leads/mass-action", json={})
        assert sent == [method]

    async def test_connection_lost_after_sending_a_put_is_not_repeated(self) -> None:
        """A read error after a PUT was sent surfaces; the PUT is not resent."""
        sent: list[str] = []

        def handler(request: httpx.Request) -> httpx.Response:
            sent.append(request.method)
            raise httpx.ReadError("connection lost after sending")

        clock = VirtualClock()
        async with clock.autojump(), client_on(handler, clock) as client:
            with pytest.raises(APIConnectionError):
                await client.request("PUT", "/flows/api/flows/f1/start")
        assert sent == ["PUT"]
