"""Defaults of the overlay, as named constants with units."""

from __future__ import annotations

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_BURST",
    "DEFAULT_CONNECT_TIMEOUT_S",
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_RATE_PERIOD_S",
    "DEFAULT_RATE_REQUESTS",
    "DEFAULT_REQUESTS_PER_MINUTE",
    "DEFAULT_TIMEOUT_S",
    "ENV_API_KEY",
    "ENV_BASE_URL",
    "ENV_TEAM_ID",
    "INITIAL_RETRY_DELAY_S",
    "MAX_PAGE_SIZE",
    "MAX_RETRY_AFTER_S",
    "MAX_RETRY_DELAY_S",
    "QUOTA_BURST",
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
MAX_RETRY_AFTER_S = 600.0  # a Retry-After above this is not waited for: the call fails instead

# Pagination.
MAX_PAGE_SIZE = 100
SEARCH_WINDOW = 10_000  # offset + limit must stay <= this on Elasticsearch-backed searches
