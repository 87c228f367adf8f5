"""AsyncGetSales: configuration from arguments and environment, headers, lifecycle, secrets."""

from __future__ import annotations

import uuid

import httpx
import pytest
from pytest_httpx import HTTPXMock

from getsales_async import ArgumentError, AsyncGetSales, RateLimit
from getsales_async._config import DEFAULT_BASE_URL

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
