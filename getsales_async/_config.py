"""Defaults of the overlay, as named constants with units."""

from __future__ import annotations

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_BURST",
    "DEFAULT_CONNECT_TIMEOUT_S",
    "DEFAULT_MAX_RESPONSE_BYTES",
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_MAX_RETRY_AFTER_S",
    "DEFAULT_RATE_PERIOD_S",
    "DEFAULT_RATE_REQUESTS",
    "DEFAULT_REQUESTS_PER_MINUTE",
    "DEFAULT_TIMEOUT_S",
    "ENV_API_KEY",
    "ENV_BASE_URL",
    "ENV_TEAM_ID",
    "INITIAL_RETRY_DELAY_S",
    "LOOPBACK_HOSTS",
    "MAX_DOWNLOAD_BYTES",
    "MAX_ERROR_FIELD_DEPTH",
    "MAX_PAGE_SIZE",
    "MAX_RETRY_DELAY_S",
    "QUOTA_BURST",
    "RETRY_BUDGET_CAPACITY",
    "RETRY_BUDGET_COST",
    "RETRY_BUDGET_SUCCESS_CREDIT",
    "RETRY_BUDGET_THROTTLE_COST",
    "SEARCH_WINDOW",
]

DEFAULT_BASE_URL = "https://amazing.getsales.io"
ENV_API_KEY = "GETSALES_API_KEY"
ENV_TEAM_ID = "GETSALES_TEAM_ID"
ENV_BASE_URL = "GETSALES_BASE_URL"

# Timeouts (seconds). The generated client would default to no timeout at all.
DEFAULT_TIMEOUT_S = 60.0
DEFAULT_CONNECT_TIMEOUT_S = 10.0

# Quota: 300 requests per minute per API key, production's. RateLimit.under_quota(N) paces a client
# for a quota of N: it keeps a reserve of max(1, 1 %) out of a burst of QUOTA_BURST, so for 300 it
# allows 291/min with bursts of 7, never more than 297 in any rolling minute (GCRA admits
# rate + burst - 1 per period). That is the default everywhere: RateLimit(), AsyncGetSales().
DEFAULT_REQUESTS_PER_MINUTE = 300
QUOTA_BURST = 10  # the burst GetSales tolerates; under_quota() takes its reserve out of it
DEFAULT_RATE_REQUESTS = 291  # == RateLimit.under_quota(DEFAULT_REQUESTS_PER_MINUTE).requests
DEFAULT_RATE_PERIOD_S = 60.0
DEFAULT_BURST = 7  # == RateLimit.under_quota(DEFAULT_REQUESTS_PER_MINUTE).burst

# Retries.
DEFAULT_MAX_RETRIES = 5
INITIAL_RETRY_DELAY_S = 1.0  # first backoff without Retry-After (0.75-1.0 s after jitter)
MAX_RETRY_DELAY_S = 30.0  # cap of the exponential backoff
# A server's Retry-After is honoured when 0 <= value <= this (client option `max_retry_after`);
# above it, negative or unparseable, the capped backoff is used instead. The pause a 429 puts on
# the key's shared limiter (in-process and in Redis, TTL included) never exceeds it either.
# The Stainless SDKs (openai-python, anthropic) use the same 60 s.
DEFAULT_MAX_RETRY_AFTER_S = 60.0

# Retry budget per API key: the AWS SDKs' standard-mode retry quota (token bucket), scaled to a
# 300 requests/min key (AWS uses 500 tokens for services that take thousands per second).
# A retry withdraws RETRY_BUDGET_COST tokens (RETRY_BUDGET_THROTTLE_COST after a 429 or a
# timeout); a call that succeeds at once deposits RETRY_BUDGET_SUCCESS_CREDIT, one that succeeds
# after retrying returns what its last retry withdrew. An empty bucket means: fail with the last
# error, do not retry. From full, a storm of 429s gets at most 100 / 10 = 10 retries, of 503s 20.
RETRY_BUDGET_CAPACITY = 100  # tokens
RETRY_BUDGET_COST = 5  # tokens per retry after a 5xx, an empty 200 or a connection error
RETRY_BUDGET_THROTTLE_COST = 10  # tokens per retry after a 429 or a timeout
RETRY_BUDGET_SUCCESS_CREDIT = 1  # tokens back per call that succeeds on its first attempt

# Response size. The largest JSON answer of this API is a page of 100 aggregated contacts, about
# 1 MiB; 32 MiB leaves 30x headroom while keeping a hostile or broken server from filling memory
# (client option `max_response_bytes`). Counted on the decoded body, so gzip cannot inflate past it.
DEFAULT_MAX_RESPONSE_BYTES = 32 * 1024 * 1024
# CSV downloads (requests sent with `Accept: text/csv`, e.g. files.download_export) are exempt
# from `max_response_bytes`: an export of a large team is legitimately hundreds of MiB. They are
# held in memory (the method returns bytes), so they have their own, larger bound.
MAX_DOWNLOAD_BYTES = 1024 * 1024 * 1024  # 1 GiB
# Field errors nested deeper than this in an error body are shown as one JSON string.
MAX_ERROR_FIELD_DEPTH = 16

# base_url may use plain http:// only for these hosts (or 127.0.0.0/8), an in-process transport,
# or with allow_insecure_http=True: anywhere else the API key would cross the network unencrypted.
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})

# Pagination.
MAX_PAGE_SIZE = 100
SEARCH_WINDOW = 10_000  # offset + limit must stay <= this on Elasticsearch-backed searches
