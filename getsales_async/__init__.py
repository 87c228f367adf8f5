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
from ._client import NOT_GIVEN, AsyncGetSales, ClientOptions, NotGiven
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
from ._resource import RawResponse, RequestOptions, RequestOptionsDict
from ._retry import RetryPolicy
from ._transport import TransportStatistics
from ._version import __version__

if TYPE_CHECKING:
    from ._bulk import bulk_upsert
    from ._checkpoint import CheckpointError
    from ._columns import ColumnMappingError
    from ._csv import CsvFormatError, CsvProblem, LeadsCsv, read_leads_csv
    from ._export import LeadsCsvExport, LeadSweep, SweepCheckpoint
    from ._import_types import (
        BulkImportAborted,
        BulkImportSummary,
        ImportProgress,
        LeadRow,
        RowResult,
        RowStatus,
    )
    from ._mass_actions import (
        ContactMassActions,
        MassActionAnswer,
        MassActionError,
        MassActionResult,
    )
    from ._redis_limiter import (
        RateLimiterUnavailableError,
        RedisLimiterStatistics,
        RedisRateLimit,
        RedisRateLimiter,
    )
    from ._server_import import ServerImportError
    from ._server_import_job import ServerImportJob, ServerImportProgress, ServerImportResult

_LAZY = {
    "BulkImportAborted": "._import_types",
    "BulkImportSummary": "._import_types",
    "ImportProgress": "._import_types",
    "LeadRow": "._import_types",
    "RowResult": "._import_types",
    "RowStatus": "._import_types",
    "bulk_upsert": "._bulk",
    "CheckpointError": "._checkpoint",
    "ColumnMappingError": "._columns",
    "CsvFormatError": "._csv",
    "CsvProblem": "._csv",
    "LeadsCsv": "._csv",
    "read_leads_csv": "._csv",
    "ServerImportJob": "._server_import_job",
    "ServerImportProgress": "._server_import_job",
    "ServerImportResult": "._server_import_job",
    "ServerImportError": "._server_import",
    "ContactMassActions": "._mass_actions",
    "MassActionAnswer": "._mass_actions",
    "MassActionError": "._mass_actions",
    "MassActionResult": "._mass_actions",
    "LeadSweep": "._export",
    "LeadsCsvExport": "._export",
    "SweepCheckpoint": "._export",
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
    "CheckpointError",
    "ClientOptions",
    "Clock",
    "ColumnMappingError",
    "ConflictError",
    "ContactMassActions",
    "CsvFormatError",
    "CsvProblem",
    "File",
    "GetSalesError",
    "ImportProgress",
    "InternalServerError",
    "LeadRow",
    "LeadSweep",
    "LeadsCsv",
    "LeadsCsvExport",
    "LimiterStatistics",
    "MailboxCheckFailedError",
    "MassActionAnswer",
    "MassActionError",
    "MassActionResult",
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
    "RequestOptionsDict",
    "ResponseTooLargeError",
    "RetryBudget",
    "RetryBudgetStatistics",
    "RetryPolicy",
    "RowResult",
    "RowStatus",
    "ServerImportError",
    "ServerImportJob",
    "ServerImportProgress",
    "ServerImportResult",
    "SweepCheckpoint",
    "TransportStatistics",
    "UnprocessableEntityError",
    "Unset",
    "__version__",
    "bulk_upsert",
    "read_leads_csv",
]
