"""getsales-async: the async-first Python SDK for the GetSales API.

Example::

    from getsales_async import AsyncGetSales

    async with AsyncGetSales() as client:              # GETSALES_API_KEY from the environment
        async for lead in client.leads.search(filter={"q": "cto"}):
            print(lead.lead.name)
"""

import importlib
from typing import TYPE_CHECKING, Any

from ._version import __version__

if TYPE_CHECKING:
    from ._budget import RetryBudget
    from ._bulk import bulk_upsert
    from ._checkpoint import CheckpointError
    from ._client import NOT_GIVEN, AsyncGetSales, ClientOptions, NotGiven
    from ._clock import Clock, MonotonicClock
    from ._columns import ColumnMappingError
    from ._csv import CsvFormatError, CsvProblem, LeadsCsv, read_leads_csv
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
    from ._export import LeadsCsvExport, LeadSweep, SweepCheckpoint
    from ._generated.types import UNSET, File, Unset
    from ._import_types import (
        BulkImportAborted,
        BulkImportSummary,
        ImportProgress,
        LeadRow,
        RowResult,
        RowStatus,
    )
    from ._limiter import AsyncRateLimiter, RateLimit
    from ._mass_actions import (
        ContactMassActions,
        MassActionAnswer,
        MassActionError,
        MassActionResult,
    )
    from ._pagination import AsyncPaginator, Checkpoint, Page
    from ._redis_limiter import (
        RateLimiterUnavailableError,
        RedisLimiterStatistics,
        RedisRateLimit,
        RedisRateLimiter,
    )
    from ._resource import RawResponse, RequestOptions, RequestOptionsDict
    from ._retry import RetryPolicy
    from ._server_import import ServerImportError
    from ._server_import_job import ServerImportJob, ServerImportProgress, ServerImportResult
    from ._statistics import LimiterStatistics, RetryBudgetStatistics, TransportStatistics

# Where each public name lives. Every one is imported on first use (PEP 562), so
# `from getsales_async import AsyncGetSales` loads the client and what it needs, not the
# pagination, CSV, export, import, mass-action and Redis machinery. Keep in step with the
# TYPE_CHECKING imports above (for type checkers and IDEs) and `__all__` (tests/test_package.py).
_EXPORTS: dict[str, tuple[str, ...]] = {
    "._budget": ("RetryBudget",),
    "._bulk": ("bulk_upsert",),
    "._checkpoint": ("CheckpointError",),
    "._client": ("NOT_GIVEN", "AsyncGetSales", "ClientOptions", "NotGiven"),
    "._clock": ("Clock", "MonotonicClock"),
    "._columns": ("ColumnMappingError",),
    "._csv": ("CsvFormatError", "CsvProblem", "LeadsCsv", "read_leads_csv"),
    "._errors": (
        "APIConnectionError",
        "APIResponseValidationError",
        "APIStatusError",
        "APITimeoutError",
        "ArgumentError",
        "AuthenticationError",
        "BadRequestError",
        "ConflictError",
        "GetSalesError",
        "InternalServerError",
        "MailboxCheckFailedError",
        "NotFoundError",
        "PaginationWindowError",
        "PaymentRequiredError",
        "PermissionDeniedError",
        "RateLimitError",
        "RedirectError",
        "ResponseTooLargeError",
        "UnprocessableEntityError",
    ),
    "._export": ("LeadsCsvExport", "LeadSweep", "SweepCheckpoint"),
    "._generated.types": ("UNSET", "File", "Unset"),
    "._import_types": (
        "BulkImportAborted",
        "BulkImportSummary",
        "ImportProgress",
        "LeadRow",
        "RowResult",
        "RowStatus",
    ),
    "._limiter": ("AsyncRateLimiter", "RateLimit"),
    "._mass_actions": (
        "ContactMassActions",
        "MassActionAnswer",
        "MassActionError",
        "MassActionResult",
    ),
    "._pagination": ("AsyncPaginator", "Checkpoint", "Page"),
    "._redis_limiter": (
        "RateLimiterUnavailableError",
        "RedisLimiterStatistics",
        "RedisRateLimit",
        "RedisRateLimiter",
    ),
    "._resource": ("RawResponse", "RequestOptions", "RequestOptionsDict"),
    "._retry": ("RetryPolicy",),
    "._server_import": ("ServerImportError",),
    "._server_import_job": ("ServerImportJob", "ServerImportProgress", "ServerImportResult"),
    "._statistics": ("LimiterStatistics", "RetryBudgetStatistics", "TransportStatistics"),
}
_LAZY = {name: module for module, names in _EXPORTS.items() for name in names}


def __getattr__(name: str) -> Any:
    """A public name, imported from its module on first use and then kept as a global."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """The module's globals plus every public name, loaded or not (for ``dir()`` and completion)."""
    return sorted({*globals(), *__all__})


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
