"""The values an import job takes and gives: rows, per-row results, progress and the summary."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from ._errors import GetSalesError

__all__ = [
    "IDENTIFIERS",
    "BulkImportAborted",
    "BulkImportSummary",
    "ImportProgress",
    "LeadRow",
    "RowResult",
    "RowStatus",
    "row_identifier_problem",
]

# Fields that identify a contact on their own (upsert deduplicates on them), by priority.
IDENTIFIERS = (
    "ln_member_id",
    "ln_id",
    "sn_id",
    "linkedin_id",
    "linkedin",
    "work_email",
    "personal_email",
    "email",
)


class RowStatus(StrEnum):
    """How one row ended."""

    CREATED = "created"
    UPDATED = "updated"
    SKIPPED = "skipped"
    FAILED = "failed"

    @property
    def succeeded(self) -> bool:
        """Whether the row is done (created, updated or skipped): a resume does not send it again."""
        return self is not RowStatus.FAILED


@dataclass(frozen=True)
class LeadRow:
    """One contact to upsert.

    Args:
        index: the row's position in the input (reported back in its result).
        lead: contact fields (``first_name``, ``linkedin_id``, ``work_email``, ``tags`` as names…).
        custom_fields: custom field values keyed by field name or UUID.
        line: the row's line in its file, if it came from one (reported in the failed CSV).
        source: the row as it was read (column → text), kept for the failed-rows CSV.
        problem: why the row cannot be sent (a malformed CSV line); it then fails without a request.
    """

    index: int
    lead: Mapping[str, Any]
    custom_fields: Mapping[str, Any] | None = None
    line: int | None = None
    source: Mapping[str, str] | None = field(default=None, repr=False, compare=False)
    problem: str | None = None


@dataclass(frozen=True)
class RowResult:
    """The outcome of one row (``row`` is the row itself, for writing failed rows elsewhere)."""

    index: int
    status: RowStatus
    lead_uuid: str | None = None
    error: str | None = None
    error_type: str | None = None
    attempts: int = 0
    line: int | None = None
    row: LeadRow | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class ImportProgress:
    """A progress event (also the final one, with ``finished=True``)."""

    done: int
    created: int
    updated: int
    skipped: int
    failed: int
    in_flight: int
    resumed: int
    rate_per_s: float
    rate_limited: int
    retries: int
    elapsed_s: float
    eta_s: float | None
    total: int | None
    finished: bool = False


@dataclass
class BulkImportSummary:
    """Counts of a finished (or aborted) run.

    ``created + updated + skipped + failed`` rows got a result in this run; ``resumed`` rows were
    already done in the checkpoint and not sent. Of the rows sent, ``new`` were not in the
    checkpoint, ``changed`` are edited versions of rows it holds (same contact, other content),
    and ``retried`` had failed before.
    """

    created: int = 0
    updated: int = 0
    skipped: int = 0
    failed: int = 0
    invalid: int = 0  # of ``failed``: rows that could not be sent (malformed, no identifier)
    resumed: int = 0  # rows found done in the checkpoint and not sent again
    new: int = 0
    changed: int = 0
    retried: int = 0
    still_failing: int = 0  # rows listed in the failed CSV (this run's and earlier runs' failures)
    rate_limited: int = 0
    retries: int = 0
    elapsed_s: float = 0.0
    completed: bool = False  # every row of the input was read and has a result
    checkpoint_repaired: bool = False  # a torn last record was cut from the checkpoint
    failures: list[RowResult] = field(default_factory=list)  # the first `max_failures_kept`

    @property
    def done(self) -> int:
        """Rows with a result in this run."""
        return self.created + self.updated + self.skipped + self.failed

    @property
    def rows_per_second(self) -> float:
        """Rows with a result per second of this run."""
        return self.done / self.elapsed_s if self.elapsed_s > 0 else 0.0


class BulkImportAborted(GetSalesError):
    """Raised when a job stops early: an authentication, permission or payment error, or the API
    stopped answering; ``summary`` has the counts and the checkpoint lets the job resume."""

    def __init__(self, message: str, *, summary: BulkImportSummary, cause: GetSalesError) -> None:
        super().__init__(message)
        self.summary = summary
        self.cause = cause


def _present(value: Any) -> bool:
    return bool(value) and str(value).strip() != ""


def row_identifier_problem(lead: Mapping[str, Any]) -> str | None:
    """Why a row cannot be upserted without a request (``None`` when it can).

    GetSales deduplicates and requires an identifier: a LinkedIn reference, an email, or a name
    together with a company name.
    """
    if any(_present(lead.get(k)) for k in IDENTIFIERS):
        return None
    has_name = _present(lead.get("name")) or (
        _present(lead.get("first_name")) and _present(lead.get("last_name"))
    )
    if has_name and _present(lead.get("company_name")):
        return None
    return "no identifier: give linkedin_id, work_email/personal_email, or name + company_name"
