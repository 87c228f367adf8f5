"""Quota-aware bulk upsert of contacts: ``client.leads.bulk_upsert(rows, list_uuid=...)``.

Rows stream from any iterable (a CSV reader, a generator): memory stays flat whatever the row count.
A fixed pool of workers sends one upsert per row through the client, so every request is paced by
the shared rate limiter and retried by the transport (429, connection errors, 502/503/504: upsert
is a keyed, idempotent operation). On top of that a row whose call still fails with a transient
error is tried again a few times; a permanent error (422, a blacklisted contact…) fails just that
row; an authentication, permission or payment error stops the whole job at once.

Every row ends in exactly one :class:`RowResult` (created, updated, skipped or failed), delivered to
``on_result`` and appended to the optional checkpoint file. ``resume=True`` skips the rows the
checkpoint already holds, so a crashed job restarts where it stopped: no row is lost, and none is
reported twice. (A row whose request succeeded just before a crash, but whose result was not yet
written, is sent again on resume; upsert deduplicates by LinkedIn id / email / name + company, so
this updates the same contact instead of creating a second one.)

Created, updated or skipped is read from the returned contact's timestamps against the server's
time when the job started (from the ``Date`` header; both on the server's clock): see
:func:`_classify`. A contact created by someone else less than a second before the job started
can be reported as created.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from collections import deque
from collections.abc import (
    AsyncGenerator,
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Iterable,
    Mapping,
)
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio

from ._errors import (
    APIConnectionError,
    APIResponseValidationError,
    AuthenticationError,
    GetSalesError,
    InternalServerError,
    PaymentRequiredError,
    PermissionDeniedError,
    RateLimitError,
)
from ._generated.types import UNSET
from ._resources.leads import LeadsResource

if TYPE_CHECKING:
    from ._client import AsyncGetSales

__all__ = [
    "BulkImportAborted",
    "BulkImportSummary",
    "BulkLeadsResource",
    "ImportProgress",
    "LeadRow",
    "RowResult",
    "RowStatus",
    "bulk_upsert",
    "row_identifier_problem",
]

DEFAULT_CONCURRENCY = 8
DEFAULT_ROW_ATTEMPTS = (
    3  # attempts per row for transient errors (each with the transport's retries)
)
PROGRESS_INTERVAL_S = 1.0
RATE_WINDOW_S = 30.0  # the progress rate is measured over this sliding window
IDENTIFIERS = (
    "linkedin_id",
    "linkedin",
    "ln_member_id",
    "ln_id",
    "sn_id",
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


@dataclass(frozen=True)
class LeadRow:
    """One contact to upsert.

    Args:
        index: the row's position in the source (reported back; checkpoints key on it).
        lead: contact fields (``first_name``, ``linkedin_id``, ``work_email``, ``tags`` as names…).
        custom_fields: custom field values keyed by field name or UUID.
    """

    index: int
    lead: Mapping[str, Any]
    custom_fields: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class RowResult:
    """The outcome of one row."""

    index: int
    status: RowStatus
    lead_uuid: str | None = None
    error: str | None = None
    error_type: str | None = None
    attempts: int = 0


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
    """Counts of a finished (or aborted) job."""

    created: int = 0
    updated: int = 0
    skipped: int = 0
    failed: int = 0
    resumed: int = 0  # rows found done in the checkpoint and not sent again
    rate_limited: int = 0
    retries: int = 0
    elapsed_s: float = 0.0
    failures: list[RowResult] = field(default_factory=list)  # the first `max_failures_kept`

    @property
    def done(self) -> int:
        """Rows with a result in this run."""
        return self.created + self.updated + self.skipped + self.failed

    @property
    def rows_per_second(self) -> float:
        return self.done / self.elapsed_s if self.elapsed_s > 0 else 0.0


class BulkImportAborted(GetSalesError):
    """The job stopped early (authentication/permission/payment error); ``summary`` has the counts."""

    def __init__(self, message: str, *, summary: BulkImportSummary, cause: GetSalesError) -> None:
        super().__init__(message)
        self.summary = summary
        self.cause = cause


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


def _present(value: Any) -> bool:
    return value is not None and value is not UNSET and str(value).strip() != ""


def _transient(exc: GetSalesError) -> bool:
    return isinstance(exc, (APIConnectionError, RateLimitError, APIResponseValidationError)) or (
        isinstance(exc, InternalServerError) and exc.status_code != 500
    )


_FATAL = (AuthenticationError, PermissionDeniedError, PaymentRequiredError)


class _Checkpoint:
    """Append-only JSON-lines file of row results, with a header naming the job."""

    def __init__(self, path: Path, job: str, *, resume: bool) -> None:
        self.path = path
        self.done: dict[int, RowStatus] = {}
        if resume and path.exists():
            with path.open(encoding="utf-8") as fh:
                header = json.loads(fh.readline() or "{}")
                if header.get("job") != job:
                    raise GetSalesError(
                        f"checkpoint {path} belongs to another job (different input, list or options); "
                        "delete it or pass another checkpoint path"
                    )
                for line in fh:
                    try:
                        entry = json.loads(line)
                    except ValueError:
                        break  # a line cut by a crash: that row is redone
                    self.done[int(entry["index"])] = RowStatus(entry["status"])
            self._fh = path.open("a", encoding="utf-8")
        else:
            if path.exists() and not resume:
                path.unlink()
            self._fh = path.open("w", encoding="utf-8")
            self._fh.write(json.dumps({"job": job}) + "\n")
            self._fh.flush()

    def record(self, result: RowResult) -> None:
        entry = {k: v for k, v in asdict(result).items() if v is not None}
        self._fh.write(json.dumps(entry, default=str) + "\n")
        self._fh.flush()

    def close(self) -> None:
        self._fh.flush()
        os.fsync(self._fh.fileno())
        self._fh.close()


def _parse_time(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, str) and value:
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


DATE_RESOLUTION_S = 1.0  # the HTTP Date header counts whole seconds


def _server_time(date_header: str | None) -> datetime | None:
    """The server's time from a ``Date`` header (timezone-aware; ``None`` if unreadable)."""
    if not date_header:
        return None
    if date_header.count(",") > 1:  # a repeated header arrives joined with ", ": take the last
        date_header = ",".join(date_header.rsplit(",", 2)[-2:]).strip()
    try:
        parsed = parsedate_to_datetime(date_header)
    except (TypeError, ValueError):
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)  # "-0000" means UTC


def _classify(lead: Any, update_if_exists: bool, job_start: datetime | None) -> RowStatus:
    """Created, updated or skipped, from the contact's timestamps (all on the server's clock).

    ``job_start`` is the server's time when the job began (the first answer's ``Date`` less its
    one-second resolution). A contact created since then, and not changed after, was created by
    this job; one updated since then was updated; otherwise the server left it as it was
    (skipped). Without a ``Date`` header, ``created_at == updated_at`` decides. A file that holds
    the same contact twice with identical data reports it created once and then skipped or
    updated, as the server's timestamps say.
    """
    created = _parse_time(getattr(lead, "created_at", None))
    updated = _parse_time(getattr(lead, "updated_at", None))
    since = (lambda t: t is not None and t >= job_start) if job_start else (lambda t: True)
    if created is not None and created == updated and since(created):
        return RowStatus.CREATED
    if not update_if_exists:
        return RowStatus.SKIPPED
    if job_start is not None and not since(updated):
        return RowStatus.SKIPPED  # nothing changed, so the server kept the old timestamp
    return RowStatus.UPDATED


@asynccontextmanager
async def _single_errors() -> AsyncIterator[None]:
    """Re-raise a task group's lone exception as itself (a callback's error, a cancellation)."""
    try:
        yield
    except BaseExceptionGroup as group:
        leaves: list[BaseException] = []
        pending: list[BaseException] = [group]
        while pending:
            current = pending.pop()
            if isinstance(current, BaseExceptionGroup):
                pending.extend(current.exceptions)
            else:
                leaves.append(current)
        if len(leaves) == 1:
            raise leaves[0] from None
        raise


async def _iterate(
    rows: Iterable[LeadRow] | AsyncIterable[LeadRow],
) -> AsyncGenerator[LeadRow, None]:
    if isinstance(rows, AsyncIterable):
        async for row in rows:
            yield row
    else:
        for row in rows:
            yield row


async def bulk_upsert(
    client: AsyncGetSales,
    rows: Iterable[LeadRow] | AsyncIterable[LeadRow],
    *,
    list_uuid: str,
    update_if_exists: bool = True,
    move_to_list: bool = False,
    concurrency: int = DEFAULT_CONCURRENCY,
    row_attempts: int = DEFAULT_ROW_ATTEMPTS,
    checkpoint: str | Path | None = None,
    resume: bool = False,
    job_id: str | None = None,
    total: int | None = None,
    on_result: Callable[[RowResult], Awaitable[None] | None] | None = None,
    on_progress: Callable[[ImportProgress], Awaitable[None] | None] | None = None,
    progress_interval: float = PROGRESS_INTERVAL_S,
    max_failures_kept: int = 1000,
) -> BulkImportSummary:
    """Upsert every row into ``list_uuid``; see the module docstring for the guarantees.

    Args:
        client: the client (its limiter paces the job).
        rows: the contacts, as :class:`LeadRow` (any iterable or async iterable; streamed).
        list_uuid: the list every contact goes to.
        update_if_exists: update a matching contact (else it is reported "skipped").
        move_to_list: move a matching contact into ``list_uuid``.
        concurrency: requests in flight at most.
        row_attempts: attempts per row for transient errors.
        checkpoint: a file recording each row's result, for ``resume``.
        resume: skip rows already recorded in ``checkpoint``.
        job_id: identifies the job in the checkpoint (default: derived from the options); resuming
            with another job id is refused.
        total: the number of rows, if known (for the ETA).
        on_result: called with every row's result (e.g. to write failed rows to a CSV).
        on_progress: called every ``progress_interval`` seconds and once at the end.
        progress_interval: seconds between progress events.
        max_failures_kept: failed rows kept in the summary (all are passed to ``on_result``).

    Returns:
        The counts.

    Raises:
        BulkImportAborted: on an authentication, permission or payment error (remaining rows are
            not sent; the checkpoint holds what finished, so the job can be resumed).
    """
    if concurrency < 1:
        raise ValueError(f"concurrency must be at least 1, got {concurrency}")
    if row_attempts < 1:
        raise ValueError(f"row_attempts must be at least 1, got {row_attempts}")
    clock = client.clock
    job = (
        job_id
        or hashlib.sha256(
            json.dumps([list_uuid, update_if_exists, move_to_list], sort_keys=True).encode()
        ).hexdigest()[:16]
    )
    store = _Checkpoint(Path(checkpoint), job, resume=resume) if checkpoint is not None else None
    summary = BulkImportSummary()
    stats0 = client.statistics()
    started = clock.now()
    in_flight = 0
    finished_times: deque[float] = deque()
    abort: list[GetSalesError] = []

    def snapshot(final: bool = False) -> ImportProgress:
        now = clock.now()
        while finished_times and finished_times[0] < now - RATE_WINDOW_S:
            finished_times.popleft()
        window = min(RATE_WINDOW_S, max(now - started, 1e-9))
        rate = len(finished_times) / window if finished_times else 0.0
        remaining = None if total is None else max(total - summary.done - summary.resumed, 0)
        eta = None if remaining is None or rate <= 0 else remaining / rate
        stats = client.statistics()
        return ImportProgress(
            done=summary.done,
            created=summary.created,
            updated=summary.updated,
            skipped=summary.skipped,
            failed=summary.failed,
            in_flight=in_flight,
            resumed=summary.resumed,
            rate_per_s=rate,
            rate_limited=stats.rate_limited - stats0.rate_limited,
            retries=stats.retries - stats0.retries,
            elapsed_s=now - started,
            eta_s=0.0 if final else eta,
            total=total,
            finished=final,
        )

    async def emit(callback: Callable[[Any], Awaitable[None] | None] | None, value: Any) -> None:
        if callback is not None:
            outcome = callback(value)
            if outcome is not None:
                await outcome

    async def finish(result: RowResult) -> None:
        if result.status is RowStatus.CREATED:
            summary.created += 1
        elif result.status is RowStatus.UPDATED:
            summary.updated += 1
        elif result.status is RowStatus.SKIPPED:
            summary.skipped += 1
        else:
            summary.failed += 1
            if len(summary.failures) < max_failures_kept:
                summary.failures.append(result)
        now = clock.now()
        finished_times.append(now)
        while finished_times and finished_times[0] < now - RATE_WINDOW_S:
            finished_times.popleft()  # bounded memory whether or not progress is reported
        if store is not None:
            store.record(result)
        await emit(on_result, result)

    server_start: list[datetime] = []

    def job_start_of(date_header: str | None) -> datetime | None:
        """The server's time at the job's start: the first answer's Date, less its resolution."""
        if not server_start:
            now = _server_time(date_header)
            if now is None:
                return None
            server_start.append(now - timedelta(seconds=DATE_RESOLUTION_S))
        return server_start[0]

    async def upsert_one(row: LeadRow) -> RowResult:
        problem = row_identifier_problem(row.lead)
        if problem is not None:
            return RowResult(row.index, RowStatus.FAILED, error=problem, error_type="InvalidRow")
        attempt = 0
        while True:
            attempt += 1
            try:
                raw = await client.leads.with_raw_response.upsert(
                    lead=dict(row.lead),
                    list_uuid=list_uuid,
                    update_if_exists=update_if_exists,
                    move_to_list=move_to_list,
                    custom_fields=dict(row.custom_fields) if row.custom_fields else UNSET,
                )
            except _FATAL:
                raise
            except GetSalesError as exc:
                if _transient(exc) and attempt < row_attempts:
                    await clock.sleep(min(2.0**attempt, 30.0))
                    continue
                return RowResult(
                    row.index,
                    RowStatus.FAILED,
                    error=str(exc),
                    error_type=type(exc).__name__,
                    attempts=attempt,
                )
            lead = raw.parsed
            uuid = getattr(lead, "uuid", None)
            return RowResult(
                row.index,
                _classify(lead, update_if_exists, job_start_of(raw.headers.get("date"))),
                lead_uuid=uuid if isinstance(uuid, str) else None,
                attempts=attempt,
            )

    source = _iterate(rows)
    source_lock = anyio.Lock()

    async def next_row() -> LeadRow | None:
        async with source_lock:
            while True:
                try:
                    row = await source.__anext__()
                except StopAsyncIteration:
                    return None
                if store is not None and row.index in store.done:
                    summary.resumed += 1
                    continue
                return row

    async def worker(scope: anyio.CancelScope) -> None:
        nonlocal in_flight
        while not abort:
            row = await next_row()
            if row is None:
                return
            in_flight += 1
            try:
                result = await upsert_one(row)
            except _FATAL as exc:
                abort.append(exc)
                scope.cancel()
                return
            finally:
                in_flight -= 1
            await finish(result)

    async def reporter() -> None:
        while True:
            await clock.sleep(progress_interval)
            await emit(on_progress, snapshot())

    try:
        async with _single_errors(), anyio.create_task_group() as tg:
            if (
                on_progress is not None
                and progress_interval > 0
                and math.isfinite(progress_interval)
            ):
                tg.start_soon(reporter)
            async with anyio.create_task_group() as workers:
                for _ in range(concurrency):
                    workers.start_soon(worker, workers.cancel_scope)
            tg.cancel_scope.cancel()
    finally:
        with anyio.CancelScope(shield=True):
            await source.aclose()
        stats = client.statistics()
        summary.rate_limited = stats.rate_limited - stats0.rate_limited
        summary.retries = stats.retries - stats0.retries
        summary.elapsed_s = clock.now() - started
        if store is not None:
            store.close()
    await emit(on_progress, snapshot(final=True))
    if abort:
        cause = abort[0]
        raise BulkImportAborted(
            f"import stopped after {summary.done} rows: {cause}; fix the credentials and resume",
            summary=summary,
            cause=cause,
        ) from cause
    return summary


def _as_rows(rows: Iterable[LeadRow | Mapping[str, Any]]) -> Iterable[LeadRow]:
    for i, row in enumerate(rows):
        if isinstance(row, LeadRow):
            yield row
        else:
            fields = dict(row)
            custom = fields.pop("custom_fields", None)
            yield LeadRow(index=i, lead=fields, custom_fields=custom)


class BulkLeadsResource(LeadsResource):
    """The leads resource plus :meth:`bulk_upsert`."""

    async def bulk_upsert(
        self,
        rows: Iterable[LeadRow | Mapping[str, Any]] | AsyncIterable[LeadRow],
        *,
        list_uuid: str,
        **options: Any,
    ) -> BulkImportSummary:
        """Upsert many contacts at the full quota; see :func:`getsales_async.bulk_upsert`.

        ``rows`` are :class:`LeadRow` objects or plain mappings of contact fields (a
        ``custom_fields`` key is sent as the upsert's custom fields; indexes follow the order).
        """
        source: Iterable[LeadRow] | AsyncIterable[LeadRow]
        source = rows if isinstance(rows, AsyncIterable) else _as_rows(rows)
        return await bulk_upsert(self._client, source, list_uuid=list_uuid, **options)
