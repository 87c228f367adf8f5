"""Pure retry decisions: Retry-After parsing, backoff, the retry rules and idempotency."""

from __future__ import annotations

import email.utils
import logging
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from getsales_async._errors import APIConnectionError, ArgumentError
from getsales_async._retry import (
    RetryDecision,
    RetryPolicy,
    backoff_delay,
    decide,
    is_idempotent,
    parse_retry_after,
)

NOW = 1_700_000_000.0
URL_WITH_QUERY = "https://amazing.getsales.io/leads/api/leads?filter[email]=jane@example.com"
POLICY = RetryPolicy()
NO_JITTER = RetryPolicy(jitter=0.0)


def fixed(value: float) -> Callable[[], float]:
    """A random source that always returns ``value``."""
    return lambda: value


def http_date(epoch: float) -> str:
    return email.utils.formatdate(epoch, usegmt=True)


def run(**overrides: Any) -> RetryDecision:
    """decide() with neutral defaults: first retry, default policy, idempotent, no deadline."""
    kwargs: dict[str, Any] = {
        "retries_taken": 0,
        "policy": NO_JITTER,
        "status": None,
        "error": None,
        "idempotent": True,
        "retry_after": None,
        "time_left": None,
        "random": fixed(0.0),
    }
    kwargs.update(overrides)
    return decide(**kwargs)


class TestParseRetryAfter:
    @pytest.mark.parametrize(
        ("headers", "expected"),
        [
            pytest.param({"retry-after-ms": "1500"}, 1.5, id="ms"),
            pytest.param({"Retry-After-Ms": "250.5"}, 0.2505, id="ms-float-mixed-case"),
            pytest.param({"retry-after": "3"}, 3.0, id="seconds"),
            pytest.param({"Retry-After": " 12 "}, 12.0, id="seconds-padded"),
            pytest.param({"retry-after": "2.5"}, 2.5, id="float-seconds"),
            pytest.param({"retry-after": "0"}, 0.0, id="zero"),
            pytest.param({"retry-after": "-5"}, None, id="negative-seconds"),
            pytest.param({"retry-after-ms": "-100"}, None, id="negative-ms"),
            pytest.param({"retry-after": "1" * 100}, None, id="overlong"),
            pytest.param({"retry-after": "100000"}, 100000.0, id="huge-is-parsed-not-capped"),
            pytest.param({"retry-after": http_date(NOW + 90)}, 90.0, id="http-date"),
            pytest.param({"retry-after": http_date(NOW - 90)}, 0.0, id="past-date"),
            pytest.param(
                {"retry-after": "Tue, 14 Nov 2023 22:14:20 -0000"},
                60.0,
                id="date-minus-0000-is-utc",
            ),
            pytest.param({"retry-after-ms": "2000", "retry-after": "9"}, 2.0, id="ms-first"),
            pytest.param(
                {"retry-after-ms": "soon", "retry-after": "9"}, 9.0, id="bad-ms-falls-back"
            ),
            pytest.param({"retry-after": "soon"}, None, id="garbage"),
            pytest.param({"retry-after": ""}, None, id="empty"),
            pytest.param({"retry-after": "nan"}, None, id="nan"),
            pytest.param({"retry-after": "inf"}, None, id="inf"),
            pytest.param({"retry-after-ms": "inf"}, None, id="inf-ms"),
            pytest.param({"retry-after": "Mon, 99 Foo 2023 25:61:61 GMT"}, None, id="bad-date"),
            pytest.param({}, None, id="absent"),
            pytest.param({"x-retry-after": "5"}, None, id="other-header"),
        ],
    )
    def test_value_is_parsed_when_header_form_varies(
        self, headers: dict[str, str], expected: float | None
    ) -> None:
        """ms first, then seconds (float), then HTTP date; a past date is 0; negatives, garbage None."""
        assert parse_retry_after(headers, now=NOW) == pytest.approx(expected)

    def test_httpx_headers_are_accepted_when_given(self) -> None:
        """An httpx.Headers mapping works like a dict, case-insensitively."""
        headers = httpx.Headers({"Retry-After": "4"})
        assert parse_retry_after(headers, now=NOW) == 4.0

    def test_date_is_relative_to_now_when_now_moves(self) -> None:
        """The same HTTP date gives a shorter wait at a later now."""
        headers = {"retry-after": http_date(NOW + 60)}
        assert parse_retry_after(headers, now=NOW + 20) == 40.0


class TestRetryPolicy:
    def test_defaults_match_config_when_unset(self) -> None:
        """Defaults come from _config: 5 retries, 1 s initial, 30 s cap, 60 s Retry-After ceiling."""
        policy = RetryPolicy()
        assert (policy.max_retries, policy.initial_delay, policy.max_delay) == (5, 1.0, 30.0)
        assert (policy.jitter, policy.max_retry_after) == (0.25, 60.0)
        assert policy.retry_server_errors_statuses == (502, 503, 504)
        assert policy.retry_500 is False

    @pytest.mark.parametrize(
        ("kwargs", "match"),
        [
            ({"max_retries": -1}, "max_retries cannot be negative"),
            ({"max_retries": 1.5}, "max_retries must be an int"),
            ({"max_retries": True}, "max_retries must be an int"),
            ({"initial_delay": -0.1}, "initial_delay must be a finite number"),
            ({"max_delay": float("inf")}, "max_delay must be a finite number"),
            ({"max_retry_after": float("nan")}, "max_retry_after must be a finite number"),
            ({"max_retry_after": True}, "max_retry_after must be a finite number"),
            ({"max_retry_after": "5"}, "max_retry_after must be a finite number"),
            (
                {"initial_delay": 5.0, "max_delay": 2.0},
                "max_delay .* cannot be below initial_delay",
            ),
            ({"jitter": 1.5}, "jitter is a fraction between 0 and 1"),
            ({"jitter": -0.1}, "jitter is a fraction between 0 and 1"),
            ({"retry_server_errors_statuses": (500,)}, "pass retry_500=True"),
            ({"retry_server_errors_statuses": (404,)}, "5xx statuses"),
            ({"retry_server_errors_statuses": (429,)}, "5xx statuses"),
        ],
    )
    def test_invalid_values_are_rejected_when_created(
        self, kwargs: dict[str, Any], match: str
    ) -> None:
        """Each bad setting raises ArgumentError saying what to change."""
        with pytest.raises(ArgumentError, match=match):
            RetryPolicy(**kwargs)

    def test_zero_retries_are_allowed_when_disabling(self) -> None:
        """max_retries=0 is valid and means no retries."""
        assert RetryPolicy(max_retries=0, initial_delay=0.0, max_delay=0.0).max_retries == 0

    def test_policy_is_immutable_when_created(self) -> None:
        """The policy is a frozen dataclass."""
        with pytest.raises(AttributeError):
            POLICY.max_retries = 1  # type: ignore[misc]


class TestBackoffDelay:
    @pytest.mark.parametrize(
        ("retries_taken", "rand", "expected"),
        [
            (0, 0.0, 1.0),
            (1, 0.0, 2.0),
            (2, 0.0, 4.0),
            (3, 0.0, 8.0),
            (4, 0.0, 16.0),
            (5, 0.0, 30.0),
            (10, 0.0, 30.0),
            (10_000, 0.0, 30.0),
            (0, 0.5, 0.875),
            (0, 1.0, 0.75),
            (3, 1.0, 6.0),
            (5, 1.0, 22.5),
            (0, 7.0, 0.75),
            (0, -3.0, 1.0),
        ],
    )
    def test_delay_is_exact_when_random_fixed(
        self, retries_taken: int, rand: float, expected: float
    ) -> None:
        """min(1 * 2**n, 30) shortened by 25 % * random(); random is clamped to [0, 1]."""
        assert backoff_delay(retries_taken, POLICY, random=fixed(rand)) == pytest.approx(expected)

    @pytest.mark.parametrize("retries_taken", range(8))
    @pytest.mark.parametrize("rand", [0.0, 0.25, 0.5, 0.75, 0.999])
    def test_delay_stays_in_bounds_when_jittered(self, retries_taken: int, rand: float) -> None:
        """Every delay lies in [0.75 * base, base] and never above max_delay."""
        base = min(2.0**retries_taken, 30.0)
        delay = backoff_delay(retries_taken, POLICY, random=fixed(rand))
        assert 0.75 * base <= delay <= base <= POLICY.max_delay

    def test_delay_ignores_random_when_jitter_zero(self) -> None:
        """With jitter=0 the delay is the plain exponential."""
        assert backoff_delay(2, NO_JITTER, random=fixed(0.9)) == 4.0

    def test_delay_is_zero_when_initial_delay_zero(self) -> None:
        """A zero initial delay (fast tests) gives zero waits."""
        policy = RetryPolicy(initial_delay=0.0, max_delay=0.0)
        assert backoff_delay(3, policy, random=fixed(0.5)) == 0.0

    def test_negative_retries_are_rejected_when_given(self) -> None:
        """retries_taken below zero is a caller bug."""
        with pytest.raises(ArgumentError, match="retries_taken cannot be negative"):
            backoff_delay(-1, POLICY, random=fixed(0.0))


class TestDecideStatus:
    @pytest.mark.parametrize(
        ("status", "idempotent", "policy", "retry", "reason"),
        [
            (429, True, NO_JITTER, True, "429 rate limited"),
            (429, False, NO_JITTER, True, "429 rate limited"),
            (502, True, NO_JITTER, True, "502 on an idempotent operation"),
            (503, True, NO_JITTER, True, "503 on an idempotent operation"),
            (504, True, NO_JITTER, True, "504 on an idempotent operation"),
            (502, False, NO_JITTER, False, "502 on a non-idempotent operation"),
            (503, False, NO_JITTER, False, "503 on a non-idempotent operation"),
            (504, False, NO_JITTER, False, "504 on a non-idempotent operation"),
            (500, True, NO_JITTER, False, "500 is not retried"),
            (500, False, NO_JITTER, False, "500 is not retried"),
            (500, True, RetryPolicy(jitter=0.0, retry_500=True), True, "500 on an idempotent"),
            (500, False, RetryPolicy(jitter=0.0, retry_500=True), False, "500 on a non-idempotent"),
            (501, True, NO_JITTER, False, "status 501 is not retryable"),
            (599, True, NO_JITTER, False, "status 599 is not retryable"),
            (507, True, RetryPolicy(retry_server_errors_statuses=(507,)), True, "507 on an"),
            (503, True, RetryPolicy(retry_server_errors_statuses=()), False, "status 503 is not"),
            (400, True, NO_JITTER, False, "status 400 is not retryable"),
            (401, True, NO_JITTER, False, "status 401 is not retryable"),
            (404, True, NO_JITTER, False, "status 404 is not retryable"),
            (408, True, NO_JITTER, False, "status 408 is not retryable"),
            (409, True, NO_JITTER, False, "status 409 is not retryable"),
            (422, True, NO_JITTER, False, "status 422 is not retryable"),
            (433, True, NO_JITTER, False, "status 433 is not retryable"),
            (200, True, NO_JITTER, False, "status 200 is not retryable"),
        ],
    )
    def test_status_rule_applies_when_response_arrives(
        self, status: int, idempotent: bool, policy: RetryPolicy, retry: bool, reason: str
    ) -> None:
        """429 always; 502/503/504 (and opt-in 500) only when idempotent; others never."""
        decision = run(status=status, idempotent=idempotent, policy=policy)
        assert decision.retry is retry
        assert reason in decision.reason
        if not retry:
            assert decision.delay == 0.0

    def test_backoff_is_used_when_429_has_no_retry_after(self) -> None:
        """Without Retry-After a 429 waits the exponential backoff."""
        decision = run(status=429, retries_taken=2)
        assert (decision.retry, decision.delay) == (True, 4.0)
        assert "backoff" in decision.reason

    def test_retry_after_is_honoured_when_429_sends_one(self) -> None:
        """Retry-After replaces the backoff exactly, without jitter."""
        decision = run(status=429, retry_after=12.5, random=fixed(0.9), policy=POLICY)
        assert (decision.retry, decision.delay) == (True, 12.5)
        assert "Retry-After" in decision.reason

    def test_retry_after_zero_is_honoured_when_429(self) -> None:
        """A zero Retry-After retries at once."""
        assert run(status=429, retry_after=0.0).delay == 0.0

    def test_retry_after_is_honoured_when_503_sends_one(self) -> None:
        """A retried 5xx also waits what the server advises."""
        assert run(status=503, retry_after=7.0).delay == 7.0

    @pytest.mark.parametrize("status", [429, 503])
    @pytest.mark.parametrize("retry_after", [60.001, 900.0, 1e12, -1.0])
    def test_backoff_is_used_when_retry_after_is_outside_the_ceiling(
        self, status: int, retry_after: float
    ) -> None:
        """A Retry-After above max_retry_after (or negative) is replaced by the capped backoff."""
        decision = run(status=status, retry_after=retry_after, retries_taken=2)
        assert (decision.retry, decision.delay) == (True, 4.0)
        assert "outside 0-60 s, the max_retry_after ceiling" in decision.reason
        assert decision.pause_limiter is (status == 429)

    def test_retry_after_at_cap_is_honoured_when_equal(self) -> None:
        """A Retry-After equal to the ceiling is still waited for."""
        assert run(status=429, retry_after=60.0).delay == 60.0

    def test_throttled_is_set_for_429_and_timeouts_only(self) -> None:
        """429s and timeouts cost the retry budget's throttle price; other failures do not."""
        assert run(status=429).throttled is True
        assert run(error=httpx.ReadTimeout("slow")).throttled is True
        assert run(error=httpx.ConnectTimeout("slow")).throttled is True
        assert run(status=503).throttled is False
        assert run(error=httpx.ConnectError("refused")).throttled is False

    @pytest.mark.parametrize(("status", "pause"), [(429, True), (503, False), (502, False)])
    def test_pause_limiter_is_set_when_429_retried(self, status: int, pause: bool) -> None:
        """Only a retried 429 asks the transport to pause the shared limiter."""
        assert run(status=status).pause_limiter is pause

    def test_status_decides_when_error_also_given(self) -> None:
        """With both a status and an error, the status decides."""
        decision = run(status=404, error=httpx.ConnectError("refused"))
        assert decision.retry is False
        assert "404" in decision.reason

    def test_missing_outcome_is_rejected_when_neither_given(self) -> None:
        """decide() without a status or an error is a caller bug."""
        with pytest.raises(ArgumentError, match="needs a status or an error"):
            run()


class TestDecideErrors:
    @pytest.mark.parametrize(
        ("error", "idempotent", "retry", "reason"),
        [
            (httpx.ConnectError("refused"), False, True, "httpx.ConnectError before the request"),
            (httpx.ConnectTimeout("slow"), False, True, "httpx.ConnectTimeout before the request"),
            (httpx.PoolTimeout("full"), False, True, "httpx.PoolTimeout before the request"),
            (httpx.ConnectError("refused"), True, True, "httpx.ConnectError before the request"),
            (httpx.ReadError("reset"), True, True, "httpx.ReadError on an idempotent"),
            (httpx.WriteError("pipe"), True, True, "httpx.WriteError on an idempotent"),
            (httpx.RemoteProtocolError("eof"), True, True, "httpx.RemoteProtocolError on an"),
            (httpx.ReadTimeout("slow"), True, True, "httpx.ReadTimeout on an idempotent"),
            (httpx.WriteTimeout("slow"), True, True, "httpx.WriteTimeout on an idempotent"),
            (httpx.ReadError("reset"), False, False, "httpx.ReadError on a non-idempotent"),
            (httpx.WriteError("pipe"), False, False, "httpx.WriteError on a non-idempotent"),
            (httpx.RemoteProtocolError("eof"), False, False, "RemoteProtocolError on a non-idem"),
            (httpx.ReadTimeout("slow"), False, False, "httpx.ReadTimeout on a non-idempotent"),
            (httpx.WriteTimeout("slow"), False, False, "httpx.WriteTimeout on a non-idempotent"),
            (httpx.LocalProtocolError("bad"), True, False, "httpx.LocalProtocolError is not"),
            (httpx.UnsupportedProtocol("ftp"), True, False, "httpx.UnsupportedProtocol is not"),
            (httpx.ProxyError("proxy"), True, False, "httpx.ProxyError is not retryable"),
            (ValueError("bug"), True, False, "ValueError is not retryable"),
        ],
        ids=lambda v: type(v).__name__ if isinstance(v, BaseException) else None,
    )
    def test_error_rule_applies_when_no_response(
        self, error: BaseException, idempotent: bool, retry: bool, reason: str
    ) -> None:
        """Connect-phase errors retry always; after-send errors only when idempotent."""
        decision = run(error=error, idempotent=idempotent)
        assert decision.retry is retry
        assert reason in decision.reason
        assert decision.pause_limiter is False

    def test_backoff_is_used_when_error_retried(self) -> None:
        """Transport errors wait the backoff, and a stray retry_after is ignored."""
        decision = run(error=httpx.ConnectError("refused"), retries_taken=1, retry_after=99.0)
        assert decision.delay == 2.0

    def test_cause_is_inspected_when_error_is_wrapped(self) -> None:
        """An SDK exception raised from an httpx error is judged by that cause."""
        try:
            try:
                raise httpx.ConnectError("refused")
            except httpx.ConnectError as exc:
                raise APIConnectionError("wrapped") from exc
        except APIConnectionError as wrapped:
            decision = run(error=wrapped, idempotent=False)
        assert decision.retry is True
        assert "httpx.ConnectError" in decision.reason

    def test_cycle_in_cause_chain_is_survived_when_present(self) -> None:
        """A self-referencing __cause__ chain terminates."""
        error = RuntimeError("loop")
        error.__cause__ = error
        assert run(error=error).retry is False


class TestDecideLimits:
    @pytest.mark.parametrize(
        ("status", "error"),
        [(429, None), (503, None), (None, httpx.ConnectError("refused"))],
    )
    def test_no_retry_when_out_of_retries(
        self, status: int | None, error: BaseException | None
    ) -> None:
        """Once max_retries are taken, nothing is retried, and the reason says so."""
        decision = run(status=status, error=error, retries_taken=5)
        assert decision.retry is False
        assert "out of retries (5 of 5 taken)" in decision.reason

    def test_last_retry_is_allowed_when_one_left(self) -> None:
        """retries_taken == max_retries - 1 still retries."""
        assert run(status=429, retries_taken=4).retry is True

    def test_no_retry_when_max_retries_zero(self) -> None:
        """max_retries=0 disables retrying entirely."""
        decision = run(status=429, policy=RetryPolicy(max_retries=0))
        assert decision.retry is False
        assert "out of retries (0 of 0 taken)" in decision.reason

    @pytest.mark.parametrize(
        ("time_left", "retry_after", "retry"),
        [
            (None, None, True),
            (10.0, None, True),
            (1.0, None, True),
            (0.999, None, False),
            (0.0, None, False),
            (-5.0, None, False),
            (30.0, 30.0, True),
            (29.0, 30.0, False),
            (0.0, 0.0, False),
        ],
    )
    def test_deadline_cuts_off_when_wait_exceeds_time_left(
        self, time_left: float | None, retry_after: float | None, retry: bool
    ) -> None:
        """A wait longer than the time left (or no time left) ends retrying with 'deadline'."""
        decision = run(status=429, time_left=time_left, retry_after=retry_after)
        assert decision.retry is retry
        if not retry:
            assert "deadline" in decision.reason
            assert decision.pause_limiter is False

    def test_negative_retries_are_rejected_when_given(self) -> None:
        """retries_taken below zero is a caller bug."""
        with pytest.raises(ArgumentError, match="retries_taken cannot be negative"):
            run(status=429, retries_taken=-1)


class TestDecideLogging:
    @pytest.mark.parametrize(
        "overrides",
        [
            {"status": 429},
            {"status": 404},
            {"status": 503, "retries_taken": 5},
            {"status": 429, "time_left": 0.1},
            {"status": 429, "retry_after": 1e6},
            {"error": httpx.ReadError("reset"), "idempotent": False},
        ],
    )
    def test_one_debug_line_is_logged_when_deciding(
        self, overrides: dict[str, Any], caplog: pytest.LogCaptureFixture
    ) -> None:
        """Every decision logs exactly one lazily formatted DEBUG line with its reason."""
        with caplog.at_level(logging.DEBUG, logger="getsales_async"):
            decision = run(**overrides)
        records = [r for r in caplog.records if r.name == "getsales_async"]
        assert len(records) == 1
        (record,) = records
        assert record.levelno == logging.DEBUG
        assert record.args  # lazy % formatting, not a pre-built string
        assert decision.reason in record.getMessage()

    def test_log_never_shows_url_when_error_mentions_one(
        self, caplog: pytest.LogCaptureFixture
    ) -> None:
        """The error's text (which may hold a URL with a query) is not logged, only its type."""
        request = httpx.Request("GET", URL_WITH_QUERY, headers={"Authorization": "Bearer sk-x"})
        error = httpx.ReadTimeout(f"timed out reading {URL_WITH_QUERY}", request=request)
        with caplog.at_level(logging.DEBUG, logger="getsales_async"):
            decision = run(error=error)
        text = caplog.text + decision.reason
        assert "jane@example.com" not in text
        assert "http" not in text.replace("httpx.", "")
        assert "Bearer" not in text


class TestIsIdempotent:
    @pytest.mark.parametrize(
        ("method", "expected"),
        [
            ("GET", True),
            ("get", True),
            ("HEAD", True),
            ("OPTIONS", True),
            ("PUT", False),
            ("DELETE", False),
            ("POST", False),
            ("post", False),
            ("PATCH", False),
            ("TRACE", False),
        ],
    )
    def test_method_decides_when_the_call_does_not_say(self, method: str, expected: bool) -> None:
        """GET, HEAD, OPTIONS are repeated by method; no other method is without the call's flag."""
        assert is_idempotent(method) is expected
