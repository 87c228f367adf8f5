"""getsales-async: the async-first Python SDK for the GetSales API.

Example::

    from getsales_async import AsyncGetSales

    async with AsyncGetSales() as client:              # GETSALES_API_KEY from the environment
        async for lead in client.leads.search(filter={"q": "cto"}):
            print(lead.lead.name)
"""

import importlib
from typing import TYPE_CHECKING, Any

from ._budget import RetryBudget, RetryBudgetStatistics
from ._client import NOT_GIVEN, AsyncGetSales, NotGiven
from ._clock import Clock, MonotonicClock
from ._errors import (
    APIConnectionError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    ArgumentError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    GetSalesError,
    InternalServerError,
    MailboxCheckFailedError,
    NotFoundError,
    PaginationWindowError,
    PaymentRequiredError,
    PermissionDeniedError,
    RateLimitError,
    RedirectError,
    ResponseTooLargeError,
    UnprocessableEntityError,
)
from ._generated.types import UNSET, File, Unset
from ._limiter import AsyncRateLimiter, LimiterStatistics, RateLimit
from ._pagination import AsyncPaginator, Checkpoint, Page
from ._resource import RawResponse, RequestOptions
from ._retry import RetryPolicy
from ._transport import TransportStatistics
from ._version import __version__

if TYPE_CHECKING:
    from ._bulk import (
        BulkImportAborted,
        BulkImportSummary,
        ImportProgress,
        LeadRow,
        RowResult,
        RowStatus,
    )
    from ._csv import CsvProblem, read_leads_csv
    from ._redis_limiter import (
        RateLimiterUnavailableError,
        RedisLimiterStatistics,
        RedisRateLimit,
        RedisRateLimiter,
    )

_LAZY = {
    "BulkImportAborted": "._bulk",
    "BulkImportSummary": "._bulk",
    "ImportProgress": "._bulk",
    "LeadRow": "._bulk",
    "RowResult": "._bulk",
    "RowStatus": "._bulk",
    "CsvProblem": "._csv",
    "read_leads_csv": "._csv",
    "RateLimiterUnavailableError": "._redis_limiter",
    "RedisLimiterStatistics": "._redis_limiter",
    "RedisRateLimit": "._redis_limiter",
    "RedisRateLimiter": "._redis_limiter",
}


def __getattr__(name: str) -> Any:
    """Names loaded on first use (the Redis backend), keeping ``import getsales_async`` light."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


__all__ = [
    "NOT_GIVEN",
    "UNSET",
    "APIConnectionError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "ArgumentError",
    "AsyncGetSales",
    "AsyncPaginator",
    "AsyncRateLimiter",
    "AuthenticationError",
    "BadRequestError",
    "BulkImportAborted",
    "BulkImportSummary",
    "Checkpoint",
    "Clock",
    "ConflictError",
    "CsvProblem",
    "File",
    "GetSalesError",
    "ImportProgress",
    "InternalServerError",
    "LeadRow",
    "LimiterStatistics",
    "MailboxCheckFailedError",
    "MonotonicClock",
    "NotFoundError",
    "NotGiven",
    "Page",
    "PaginationWindowError",
    "PaymentRequiredError",
    "PermissionDeniedError",
    "RateLimit",
    "RateLimitError",
    "RateLimiterUnavailableError",
    "RawResponse",
    "RedirectError",
    "RedisLimiterStatistics",
    "RedisRateLimit",
    "RedisRateLimiter",
    "RequestOptions",
    "ResponseTooLargeError",
    "RetryBudget",
    "RetryBudgetStatistics",
    "RetryPolicy",
    "RowResult",
    "RowStatus",
    "TransportStatistics",
    "UnprocessableEntityError",
    "Unset",
    "__version__",
    "read_leads_csv",
]
