"""AsyncGetSales: configuration from arguments and environment, headers, lifecycle, secrets."""

from __future__ import annotations

import bisect
import uuid

import anyio
import httpx
import pytest
from pytest_httpx import HTTPXMock

from getsales_async import ArgumentError, AsyncGetSales, AsyncRateLimiter, RateLimit
from getsales_async._config import DEFAULT_BASE_URL
from getsales_async.testing import VirtualClock

pytestmark = pytest.mark.anyio


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("GETSALES_API_KEY", "GETSALES_TEAM_ID", "GETSALES_BASE_URL"):
        monkeypatch.delenv(name, raising=False)


def key() -> str:
    return f"key-{uuid.uuid4().hex}"


class TestConstruction:
    async def test_missing_key_is_a_clear_error(self) -> None:
        """Without api_key or GETSALES_API_KEY, construction fails and says what to set."""
        with pytest.raises(ArgumentError, match="GETSALES_API_KEY"):
            AsyncGetSales()

    async def test_environment_supplies_key_team_and_base_url(
        self, monkeypatch: pytest.MonkeyPatch, httpx_mock: HTTPXMock
    ) -> None:
        """GETSALES_API_KEY, GETSALES_TEAM_ID and GETSALES_BASE_URL are read when arguments are absent."""
        secret = key()
        monkeypatch.setenv("GETSALES_API_KEY", secret)
        monkeypatch.setenv("GETSALES_TEAM_ID", "42")
        monkeypatch.setenv("GETSALES_BASE_URL", "http://127.0.0.1:9")
        httpx_mock.add_response(url="http://127.0.0.1:9/id/api/users/current", json={"id": 1})
        async with AsyncGetSales() as client:
            await client.request("GET", "/id/api/users/current")
        sent = httpx_mock.get_requests()[0]
        assert sent.headers["authorization"] == f"Bearer {secret}"
        assert sent.headers["team-id"] == "42"

    async def test_team_id_header_is_optional(self, httpx_mock: HTTPXMock) -> None:
        """Keys carry their team: without a team id no Team-ID header is sent."""
        httpx_mock.add_response(json={})
        async with AsyncGetSales(api_key=key()) as client:
            assert client.base_url == DEFAULT_BASE_URL
            await client.request("GET", "/id/api/users/current")
        assert "team-id" not in httpx_mock.get_requests()[0].headers

    async def test_default_timeout_is_finite(self) -> None:
        """The default timeout is finite (the generated client's default would be none)."""
        async with AsyncGetSales(api_key=key()) as client:
            assert client.timeout.read is not None and client.timeout.connect is not None

    @pytest.mark.parametrize(
        ("kwargs", "message"),
        [
            ({"timeout": None}, "hang forever"),
            ({"timeout": -1}, "positive"),
            ({"max_retries": -1}, "negative"),
            ({"base_url": "amazing.getsales.io"}, "http"),
        ],
    )
    async def test_invalid_options_fail_early(
        self, kwargs: dict[str, object], message: str
    ) -> None:
        """Bad options raise ArgumentError at construction with a message saying what to do."""
        with pytest.raises(ArgumentError, match=message):
            AsyncGetSales(api_key=key(), **kwargs)  # type: ignore[arg-type]

    async def test_repr_never_shows_the_key(self) -> None:
        """repr shows a fingerprint of the key, never the key."""
        secret = key()
        async with AsyncGetSales(api_key=secret, team_id=7) as client:
            assert secret not in repr(client) and "sha256:" in repr(client)


SECRET = "sk-live-0123456789abcdef"
BAD_CHARACTERS = {
    "cr": "\r",
    "lf": "\n",
    "crlf": "\r\n",
    "nul": "\x00",
    "tab": "\t",
    "space": " ",
    "del": "\x7f",
    "non-ascii": "é",
    "nbsp": "\u00a0",
}


class TestCredentialValidation:
    @pytest.mark.parametrize("char", BAD_CHARACTERS.values(), ids=BAD_CHARACTERS.keys())
    async def test_api_key_with_bad_character_is_refused_without_echo(self, char: str) -> None:
        """A key with whitespace, a control or a non-ASCII character fails at construction, one
        line, without the key."""
        bad = SECRET[:8] + char + SECRET[8:]
        with pytest.raises(ArgumentError) as info:
            AsyncGetSales(api_key=bad)
        message = str(info.value)
        assert "api_key from api_key= contains" in message and "position 9" in message
        assert SECRET[:8] not in message and SECRET[8:] not in message
        assert "\n" not in message and "\r" not in message

    @pytest.mark.parametrize("char", ["\r", "\n", "\x01", "é"])
    async def test_key_from_environment_is_checked_too(
        self, monkeypatch: pytest.MonkeyPatch, char: str
    ) -> None:
        """GETSALES_API_KEY gets the same check, and the message names the variable."""
        monkeypatch.setenv("GETSALES_API_KEY", SECRET + char + "tail")
        with pytest.raises(ArgumentError, match=r"\$GETSALES_API_KEY contains") as info:
            AsyncGetSales()
        assert SECRET not in str(info.value)

    @pytest.mark.parametrize("team", ["12\r\n34", "12\x0034", "١٢", "12 34"])
    async def test_team_id_with_bad_character_is_refused(self, team: str) -> None:
        """team_id must be printable ASCII without spaces too."""
        with pytest.raises(ArgumentError, match="team_id from team_id= contains"):
            AsyncGetSales(api_key=key(), team_id=team)

    async def test_surrounding_whitespace_is_stripped(self, httpx_mock: HTTPXMock) -> None:
        """A trailing newline (a pasted key, a CRLF .env file) is dropped, not refused."""
        httpx_mock.add_response(json={})
        async with AsyncGetSales(api_key=f"  {SECRET}\r\n", team_id=" 42\n") as client:
            await client.request("GET", "/id/api/users/current")
        sent = httpx_mock.get_requests()[0]
        assert sent.headers["authorization"] == f"Bearer {SECRET}"
        assert sent.headers["team-id"] == "42"


class TestBaseUrlValidation:
    @pytest.mark.parametrize(
        "url",
        ["https://api.example.com", "http://localhost:8300", "http://127.0.0.2", "http://[::1]:80"],
    )
    async def test_https_and_loopback_http_are_accepted(self, url: str) -> None:
        """https:// anywhere, and plain http:// to a loopback host, are fine."""
        async with AsyncGetSales(api_key=key(), base_url=url + "/") as client:
            assert client.base_url == url

    async def test_plain_http_to_a_remote_host_is_refused(self) -> None:
        """http:// to another host would send the key in clear text: refused, says the opt-in."""
        with pytest.raises(ArgumentError, match="allow_insecure_http=True"):
            AsyncGetSales(api_key=key(), base_url="http://api.example.com")

    async def test_opt_in_allows_plain_http(self) -> None:
        """allow_insecure_http=True is the explicit opt-in."""
        async with AsyncGetSales(
            api_key=key(), base_url="http://api.example.com", allow_insecure_http=True
        ) as client:
            assert client.base_url == "http://api.example.com"

    async def test_in_process_transport_needs_no_opt_in(self) -> None:
        """An ASGI or mock transport never leaves the process: http:// is fine there."""
        mock = httpx.MockTransport(lambda request: httpx.Response(200))
        async with AsyncGetSales(api_key=key(), base_url="http://emulator", transport=mock):
            pass

    async def test_credentials_in_base_url_are_refused_and_masked(self) -> None:
        """user:password@ in base_url would replace the Bearer key: refused, password masked."""
        with pytest.raises(ArgumentError) as info:
            AsyncGetSales(api_key=key(), base_url="https://admin:hunter2-pw@api.example.com/x")
        assert "hunter2-pw" not in str(info.value) and "admin" not in str(info.value)
        assert "https://***@api.example.com/x" in str(info.value)

    @pytest.mark.parametrize("url", ["ftp://api.example.com", "https://", "api.example.com"])
    async def test_other_schemes_are_refused(self, url: str) -> None:
        """Only http(s) URLs with a host are API roots."""
        with pytest.raises(ArgumentError, match="base_url"):
            AsyncGetSales(api_key=key(), base_url=url)


class TestBoundsOptions:
    @pytest.mark.parametrize(
        ("kwargs", "message"),
        [
            ({"max_retry_after": -1}, "max_retry_after"),
            ({"max_retry_after": float("inf")}, "max_retry_after"),
            ({"max_retry_after": True}, "max_retry_after"),
            ({"max_response_bytes": 0}, "max_response_bytes"),
            ({"max_response_bytes": 1.5}, "max_response_bytes"),
            ({"retry_budget": 100}, "retry_budget"),
        ],
    )
    async def test_invalid_bounds_are_refused(
        self, kwargs: dict[str, object], message: str
    ) -> None:
        """Every bound is validated at construction."""
        with pytest.raises(ArgumentError, match=message):
            AsyncGetSales(api_key=key(), **kwargs)  # type: ignore[arg-type]

    async def test_max_retry_after_reaches_the_policy_and_the_limiter(self) -> None:
        """max_retry_after is the Retry-After ceiling and the new shared limiter's pause cap."""
        async with AsyncGetSales(api_key=key(), max_retry_after=5.0) as client:
            assert client._transport._policy.max_retry_after == 5.0
            assert client.limiter.max_pause == 5.0  # type: ignore[attr-defined]


class TestSharingAndLifecycle:
    async def test_clients_with_one_key_share_one_limiter(self) -> None:
        """Two clients on one key share one budget; another key has its own."""
        secret = key()
        async with (
            AsyncGetSales(api_key=secret) as a,
            AsyncGetSales(api_key=secret) as b,
            AsyncGetSales(api_key=key()) as c,
        ):
            assert a.limiter is b.limiter
            assert a.limiter is not c.limiter

    async def test_conflicting_rate_for_one_key_is_refused(self) -> None:
        """One key has one quota: asking for another rate in the same process is an error."""
        secret = key()
        async with AsyncGetSales(
            api_key=secret, rate_limit=RateLimit(requests=100, period=60.0, burst=1)
        ):
            with pytest.raises(ValueError, match="quota"):
                AsyncGetSales(
                    api_key=secret, rate_limit=RateLimit(requests=50, period=60.0, burst=1)
                )

    async def test_closed_client_refuses_calls(self) -> None:
        """After aclose(), calls raise a clear RuntimeError."""
        client = AsyncGetSales(api_key=key())
        await client.aclose()
        with pytest.raises(RuntimeError, match="closed"):
            await client.request("GET", "/x")

    async def test_user_http_client_is_used_and_left_open(self, httpx_mock: HTTPXMock) -> None:
        """A supplied httpx.AsyncClient lends its transport and headers and is not closed."""
        httpx_mock.add_response(json={})
        own = httpx.AsyncClient(headers={"X-Trace": "abc"})
        async with AsyncGetSales(api_key=key(), http_client=own) as client:
            await client.request("GET", "/id/api/users/current")
        assert httpx_mock.get_requests()[0].headers["x-trace"] == "abc"
        assert not own.is_closed
        await own.aclose()


class TestWithOptions:
    async def test_copy_changes_options_and_shares_pool_and_limiter(
        self, httpx_mock: HTTPXMock
    ) -> None:
        """A copy has its own timeout, retries and headers, and the original's limiter and pool."""
        httpx_mock.add_response(json={}, is_reusable=True)
        async with AsyncGetSales(api_key=key(), team_id=7, default_headers={"X-A": "1"}) as client:
            copy = client.with_options(timeout=5, max_retries=0, default_headers={"X-B": "2"})
            assert copy.limiter is client.limiter
            assert copy._shared.pool is client._shared.pool
            assert (copy.max_retries, copy.timeout.read, copy.team_id) == (0, 5, "7")
            assert (client.max_retries, client.timeout.read) == (5, 60)
            await copy.request("GET", "/id/api/users/current")
            await client.request("GET", "/id/api/users/current")
        copied, original = httpx_mock.get_requests()
        assert (copied.headers["x-a"], copied.headers["x-b"], copied.headers["team-id"]) == (
            "1",
            "2",
            "7",
        )
        assert "x-b" not in original.headers
        assert copied.extensions["timeout"]["read"] == 5

    async def test_closing_a_copy_leaves_the_shared_pool_open(self, httpx_mock: HTTPXMock) -> None:
        """A copy borrows the pool: closing it does not close the pool the original still uses."""
        httpx_mock.add_response(json={}, is_reusable=True)
        async with AsyncGetSales(api_key=key()) as client:
            async with client.with_options(max_retries=1) as copy:
                await copy.request("GET", "/x")
            with pytest.raises(RuntimeError, match="closed"):
                await copy.request("GET", "/x")
            await client.request("GET", "/x")
        assert len(httpx_mock.get_requests()) == 2

    async def test_copy_refuses_calls_once_the_original_is_closed(self) -> None:
        """The original owns the pool; after it is closed its copies say so instead of reopening it."""
        client = AsyncGetSales(api_key=key())
        copy = client.with_options(timeout=1)
        await client.aclose()
        with pytest.raises(RuntimeError, match="copied from"):
            await copy.request("GET", "/x")
        with pytest.raises(RuntimeError, match="closed"):
            client.with_options(timeout=2)

    @pytest.mark.parametrize(
        ("changes", "message"),
        [
            ({"api_key": "other"}, "cannot change api_key"),
            ({"requests_per_minute": 60}, "shares the key, its rate limiter"),
            ({"timeuot": 5}, "unknown option"),
            ({"max_retries": -1}, "negative"),
            ({"timeout": 0}, "positive"),
        ],
    )
    async def test_invalid_changes_fail_before_any_copy(
        self, changes: dict[str, object], message: str
    ) -> None:
        """Unknown, shared or invalid options raise ArgumentError saying what to do."""
        async with AsyncGetSales(api_key=key()) as client:
            with pytest.raises(ArgumentError, match=message):
                client.with_options(**changes)  # type: ignore[arg-type]


class TestRequestsPerMinute:
    @pytest.mark.parametrize("quota", [1, 45, 300])
    async def test_never_exceeds_the_quota_in_any_rolling_minute(
        self, quota: int, httpx_mock: HTTPXMock
    ) -> None:
        """requests_per_minute=N admits at most N requests in any rolling minute (virtual time)."""
        clock = VirtualClock()
        sent: list[float] = []

        def respond(request: httpx.Request) -> httpx.Response:
            sent.append(clock.now())
            return httpx.Response(200, json={})

        httpx_mock.add_callback(respond, is_reusable=True)
        async with (
            clock.autojump(),
            AsyncGetSales(api_key=key(), requests_per_minute=quota, clock=clock) as client,
            anyio.create_task_group() as tg,
        ):
            for _ in range(2 * quota + 10):
                tg.start_soon(client.request, "GET", "/x")
        assert len(sent) == 2 * quota + 10
        assert max_in_any_minute(sent) <= quota
        assert max_in_any_minute(sent) >= quota - max(1, -(-quota // 100))  # and uses the rest

    async def test_default_is_production_quota_and_shared_with_an_explicit_300(self) -> None:
        """The default equals requests_per_minute=300, so both spellings share one limiter."""
        secret = key()
        async with (
            AsyncGetSales(api_key=secret) as default,
            AsyncGetSales(api_key=secret, requests_per_minute=300) as explicit,
        ):
            assert default.limiter is explicit.limiter
            assert isinstance(default.limiter, AsyncRateLimiter)
            assert default.limiter.rate == RateLimit.under_quota(300)
            assert default.limiter.rate.max_in_window() == 297

    @pytest.mark.parametrize(
        ("kwargs", "message"),
        [
            ({"requests_per_minute": 0}, "at least 1"),
            ({"requests_per_minute": 2.5}, "must be an int"),
            ({"requests_per_minute": 60, "rate_limit": RateLimit()}, "not both"),
        ],
    )
    async def test_invalid_quota_fails_early(self, kwargs: dict[str, object], message: str) -> None:
        """A quota that is not a positive int, or given twice, is refused with what to do."""
        with pytest.raises(ArgumentError, match=message):
            AsyncGetSales(api_key=key(), **kwargs)  # type: ignore[arg-type]


def max_in_any_minute(times: list[float]) -> int:
    """The most ``times`` inside any half-open window ``[t, t + 60)``."""
    ordered = sorted(times)
    return max(
        bisect.bisect_left(ordered, start + 60.0 - 1e-9) - i for i, start in enumerate(ordered)
    )
