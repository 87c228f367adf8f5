"""getsales-async: the async-first Python SDK for the GetSales API.

Example::

    from getsales_async import AsyncGetSales

    async with AsyncGetSales() as client:              # GETSALES_API_KEY from the environment
        async for lead in client.leads.search(filter={"q": "cto"}):
            print(lead.lead.name)
"""

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
    UnprocessableEntityError,
)
from ._generated.types import UNSET, File, Unset
from ._limiter import AsyncRateLimiter, LimiterStatistics, RateLimit
from ._pagination import AsyncPaginator, Checkpoint, Page
from ._redis_limiter import (
    RateLimiterUnavailableError,
    RedisLimiterStatistics,
    RedisRateLimit,
    RedisRateLimiter,
)
from ._resource import RawResponse, RequestOptions
from ._retry import RetryPolicy
from ._transport import TransportStatistics
from ._version import __version__

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
    "Checkpoint",
    "Clock",
    "ConflictError",
    "File",
    "GetSalesError",
    "InternalServerError",
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
    "RedisLimiterStatistics",
    "RedisRateLimit",
    "RedisRateLimiter",
    "RequestOptions",
    "RetryPolicy",
    "TransportStatistics",
    "UnprocessableEntityError",
    "Unset",
    "__version__",
]
