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
    "SEARCH_WINDOW",
]

DEFAULT_BASE_URL = "https://amazing.getsales.io"
ENV_API_KEY = "GETSALES_API_KEY"
ENV_TEAM_ID = "GETSALES_TEAM_ID"
ENV_BASE_URL = "GETSALES_BASE_URL"

# Timeouts (seconds). The generated client would default to no timeout at all.
DEFAULT_TIMEOUT_S = 60.0
DEFAULT_CONNECT_TIMEOUT_S = 10.0

# Quota: 300 requests per minute per API key, production's. A client paces itself with
# RateLimit.under_quota(DEFAULT_REQUESTS_PER_MINUTE): 291/min, burst 7, at most 297 in any minute.
DEFAULT_REQUESTS_PER_MINUTE = 300
# RateLimit()'s fields: GCRA admits rate + burst - 1 requests in any rolling period, so 290/min with
# a burst of 10 never exceeds 299 in any 60 s window.
DEFAULT_RATE_REQUESTS = 290
DEFAULT_RATE_PERIOD_S = 60.0
DEFAULT_BURST = 10

# Retries.
DEFAULT_MAX_RETRIES = 5
INITIAL_RETRY_DELAY_S = 1.0  # first backoff without Retry-After (0.75-1.0 s after jitter)
MAX_RETRY_DELAY_S = 30.0  # cap of the exponential backoff
MAX_RETRY_AFTER_S = 600.0  # a Retry-After above this is not waited for: the call fails instead

# Pagination.
MAX_PAGE_SIZE = 100
SEARCH_WINDOW = 10_000  # offset + limit must stay <= this on Elasticsearch-backed searches
