"""The import job behind ``bulk_upsert``: a small class whose methods each own one guarantee.

- :meth:`ImportJob._next` — **reading and identity**: rows are read in input order, each gets
  the identity of its content (``_row_identity.py``), and a resumed job skips exactly the rows
  whose latest result succeeded (failed, new and edited rows are sent);
- :meth:`ImportJob._attempt` — **sending**: one upsert per row through the client (paced by the
  shared limiter, retried by the transport), transient errors tried again, fatal ones raised;
- :meth:`ImportJob._finish` — **accounting**: every row read ends in exactly one
  :class:`RowResult`, counted once, appended to the checkpoint, passed to ``on_result``;
- :meth:`ImportJob._snapshot` — **progress** (rate over a sliding window, ETA);
- :meth:`ImportJob._write_failed_csv` — **reporting**: the rows still failing, from every run.

Rows stream from any iterable: memory stays flat whatever the row count, apart from one short
digest per row when a checkpoint is kept.
"""

from __future__ import annotations

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
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio

from ._csv import AtomicCsvWriter, CsvProblem
from ._errors import (
    APIConnectionError,
    APIResponseValidationError,
    ArgumentError,
    AuthenticationError,
    GetSalesError,
    InternalServerError,
    PaymentRequiredError,
    PermissionDeniedError,
    RateLimitError,
)
from ._fingerprints import CompactSet
from ._generated.types import UNSET
from ._import_checkpoint import ImportCheckpoint, JobMeaning
from ._import_types import (
    BulkImportAborted,
    BulkImportSummary,
    ImportProgress,
    LeadRow,
    RowResult,
    RowStatus,
    row_identifier_problem,
)
from ._row_identity import RowIdentities
from ._upsert_outcome import OutcomeJudge, parse_time

if TYPE_CHECKING:
    from ._client import AsyncGetSales

__all__ = [
    "CONNECTION_FAILURES_TO_ABORT",
    "DEFAULT_CONCURRENCY",
    "DEFAULT_MAX_FAILURES_KEPT",
    "DEFAULT_ROW_ATTEMPTS",
    "PROGRESS_INTERVAL_S",
    "ImportJob",
    "ProgressCallback",
    "ResultCallback",
    "RowSource",
]

DEFAULT_CONCURRENCY = 8
DEFAULT_ROW_ATTEMPTS = (
    3  # attempts per row for transient errors (each with the transport's retries)
)
ROW_RETRY_DELAY_CAP_S = 30.0
PROGRESS_INTERVAL_S = 1.0
RATE_WINDOW_S = 30.0  # the progress rate is measured over this sliding window
CONNECTION_FAILURES_TO_ABORT = 5  # rows in a row that could not reach the API stop the job
DEFAULT_MAX_FAILURES_KEPT = 1000

RowSource = Iterable[LeadRow | CsvProblem | Mapping[str, Any]] | AsyncIterable[LeadRow | CsvProblem]
ResultCallback = Callable[[RowResult], Awaitable[None] | None]
ProgressCallback = Callable[[ImportProgress], Awaitable[None] | None]
_FATAL = (AuthenticationError, PermissionDeniedError, PaymentRequiredError)


def _transient(exc: GetSalesError) -> bool:
    return isinstance(exc, (APIConnectionError, RateLimitError, APIResponseValidationError)) or (
        isinstance(exc, InternalServerError) and exc.status_code != 500
    )


def _as_row(item: LeadRow | CsvProblem | Mapping[str, Any], index: int) -> LeadRow:
    if isinstance(item, LeadRow):
        return item
    if isinstance(item, CsvProblem):
        return item.to_row()
    fields = dict(item)
    custom = fields.pop("custom_fields", None)
    return LeadRow(index=index, lead=fields, custom_fields=custom)


async def _iterate(rows: RowSource) -> AsyncGenerator[LeadRow, None]:
    if isinstance(rows, AsyncIterable):
        index = 0
        async for given in rows:
            yield _as_row(given, index)
            index += 1
    else:
        for index, item in enumerate(rows):
            yield _as_row(item, index)


def _cells_of(row: LeadRow) -> dict[str, str]:
    """The row as CSV cells: its source when it has one, else its fields (``cf:`` for custom)."""
    if row.source is not None:
        return {str(k): str(v) for k, v in row.source.items()}
    cells = {
        k: "; ".join(map(str, v)) if isinstance(v, list) else str(v) for k, v in row.lead.items()
    }
    cells.update({f"cf:{k}": str(v) for k, v in (row.custom_fields or {}).items()})
    return cells


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


@dataclass(frozen=True)
class _Planned:
    """A row to send, with its identity."""

    row: LeadRow
    row_id: str
    contact: str | None


class ImportJob:
    """One run of an import (see the module docstring for the guarantee of each method).

    Args mirror :func:`bulk_upsert`; build it, then ``await job.run(rows)``.
    """

    def __init__(
        self,
        client: AsyncGetSales,
        *,
        meaning: JobMeaning,
        concurrency: int = DEFAULT_CONCURRENCY,
        row_attempts: int = DEFAULT_ROW_ATTEMPTS,
        checkpoint: str | os.PathLike[str] | None = None,
        resume: bool = False,
        input_name: str | None = None,
        checkpoint_labels: Mapping[str, str] | None = None,
        failed_csv: str | os.PathLike[str] | None = None,
        total: int | None = None,
        on_result: ResultCallback | None = None,
        on_progress: ProgressCallback | None = None,
        progress_interval: float = PROGRESS_INTERVAL_S,
        max_failures_kept: int = DEFAULT_MAX_FAILURES_KEPT,
    ) -> None:
        _check_arguments(
            concurrency, row_attempts, checkpoint, failed_csv, resume, max_failures_kept
        )
        self._client = client
        self._meaning = meaning
        self._concurrency = concurrency
        self._row_attempts = row_attempts
        self._checkpoint_path = Path(checkpoint) if checkpoint is not None else None
        self._resume = resume
        self._input_name = input_name
        self._labels = dict(checkpoint_labels or {})
        self._failed_csv = Path(failed_csv) if failed_csv is not None else None
        self._total = total
        self._on_result = on_result
        self._on_progress = on_progress
        self._progress_interval = progress_interval
        self._max_failures_kept = max_failures_kept
        self.summary = BulkImportSummary()
        self._store: ImportCheckpoint | None = None
        self._identities = RowIdentities()
        self._judge = OutcomeJudge(
            update_if_exists=meaning.update_if_exists, job_start=None, created=CompactSet()
        )
        self._lock = anyio.Lock()
        self._in_flight = 0
        self._finished_times: deque[float] = deque()
        self._abort: GetSalesError | None = None
        self._connection_streak = 0
        self._resuming = False  # earlier runs may have sent rows they did not record
        self._base_columns: list[str] | None = None
        self._stats0 = client.statistics()
        self._started = client.clock.now()

    # ------------------------------------------------------------------ the run

    async def run(self, rows: RowSource) -> BulkImportSummary:
        """Send every row; returns the summary.

        Raises:
            BulkImportAborted: the job stopped early (the checkpoint lets it resume).
            CheckpointError: the checkpoint is damaged, locked, or of another job.
        """
        self._open_checkpoint()
        source = _iterate(rows)
        try:
            async with _single_errors(), anyio.create_task_group() as tg:
                if (
                    self._on_progress is not None
                    and self._progress_interval > 0
                    and math.isfinite(self._progress_interval)
                ):
                    tg.start_soon(self._report_progress)
                async with anyio.create_task_group() as workers:
                    for _ in range(self._concurrency):
                        workers.start_soon(self._worker, source, workers.cancel_scope)
                tg.cancel_scope.cancel()
            self.summary.completed = self._abort is None
        finally:
            with anyio.CancelScope(shield=True):
                await source.aclose()
            self._close()
        await self._emit(self._on_progress, self._snapshot(final=True))
        if self._abort is not None:
            cause = self._abort
            raise BulkImportAborted(
                f"import stopped after {self.summary.done} rows: {cause}",
                summary=self.summary,
                cause=cause,
            ) from cause
        return self.summary

    def _open_checkpoint(self) -> None:
        if self._checkpoint_path is None:
            return
        self._store = ImportCheckpoint.start(
            self._checkpoint_path,
            input_name=self._input_name,
            meaning=self._meaning,
            labels=self._labels,
            resume=self._resume,
        )
        state = self._store.state
        self._judge = OutcomeJudge(
            update_if_exists=self._meaning.update_if_exists,
            job_start=parse_time(state.server_start),
            created=state.created,
        )
        self.summary.checkpoint_repaired = self._store.repaired
        self._resuming = state.runs > 0

    def _close(self) -> None:
        stats = self._client.statistics()
        self.summary.rate_limited = stats.rate_limited - self._stats0.rate_limited
        self.summary.retries = stats.retries - self._stats0.retries
        self.summary.elapsed_s = self._client.clock.now() - self._started
        if self._store is None:
            return
        try:
            self._write_failed_csv()
        finally:
            self._store.close()

    async def _worker(
        self, source: AsyncGenerator[LeadRow, None], scope: anyio.CancelScope
    ) -> None:
        while self._abort is None:
            planned = await self._next(source)
            if planned is None:
                return
            self._in_flight += 1
            try:
                result, error = await self._attempt(planned.row)
            except _FATAL as exc:
                self._abort = exc
                scope.cancel()
                return
            finally:
                self._in_flight -= 1
            await self._finish(planned, result, error)
            if self._connection_streak >= CONNECTION_FAILURES_TO_ABORT and isinstance(
                error, APIConnectionError
            ):
                self._abort = error
                scope.cancel()

    # ------------------------------------------------------------------ reading and identity

    async def _next(self, source: AsyncGenerator[LeadRow, None]) -> _Planned | None:
        """The next row to send, in input order; rows already done are counted and skipped."""
        async with self._lock:
            while True:
                try:
                    row = await source.__anext__()
                except StopAsyncIteration:
                    return None
                if self._base_columns is None and row.source is not None:
                    self._base_columns = [str(k) for k in row.source]
                row_id, contact = self._identities.identify(row)
                if self._store is None:
                    self.summary.new += 1
                    return _Planned(row, row_id, contact)
                state = self._store.state
                previous = state.latest.get(row_id)
                if previous is not None and previous.succeeded:
                    self.summary.resumed += 1
                    continue
                if previous is not None:
                    self.summary.retried += 1
                elif contact is not None and contact in state.contacts:
                    self.summary.changed += 1
                else:
                    self.summary.new += 1
                return _Planned(row, row_id, contact)

    # ------------------------------------------------------------------ sending

    async def _attempt(self, row: LeadRow) -> tuple[RowResult, GetSalesError | None]:
        """One row's result: sent (transient errors tried again), or failed without a request."""
        problem = row.problem or row_identifier_problem(row.lead)
        if problem is not None:
            return RowResult(
                row.index,
                RowStatus.FAILED,
                error=problem,
                error_type="InvalidRow",
                line=row.line,
                row=row,
            ), None
        lead = dict(row.lead)
        if self._meaning.tags:
            lead["tags"] = sorted({*lead.get("tags", []), *self._meaning.tags})
        attempt = 0
        while True:
            attempt += 1
            try:
                raw = await self._client.leads.with_raw_response.upsert(
                    lead=lead,
                    list_uuid=self._meaning.list_uuid,
                    update_if_exists=self._meaning.update_if_exists,
                    move_to_list=self._meaning.move_to_list,
                    custom_fields=dict(row.custom_fields) if row.custom_fields else UNSET,
                )
            except _FATAL:
                raise
            except GetSalesError as exc:
                if _transient(exc) and attempt < self._row_attempts:
                    await self._client.clock.sleep(min(2.0**attempt, ROW_RETRY_DELAY_CAP_S))
                    continue
                failed = RowResult(
                    row.index,
                    RowStatus.FAILED,
                    error=str(exc),
                    error_type=type(exc).__name__,
                    attempts=attempt,
                    line=row.line,
                    row=row,
                )
                return failed, exc
            again = attempt > 1 or raw.retries > 0 or self._resuming
            return self._judged(row, raw, attempt, again), None

    def _judged(self, row: LeadRow, raw: Any, attempts: int, again: bool) -> RowResult:
        """The result of an answered upsert (``again``: the row may have been sent before)."""
        status, headers, lead = raw.status_code, raw.headers, raw.parsed
        started = self._judge.learn_start(headers.get("date"))
        if started is not None and self._store is not None:
            self._store.note_server_start(started.isoformat())
        uuid = getattr(lead, "uuid", None)
        return RowResult(
            row.index,
            self._judge.judge(status, headers, lead, maybe_sent_before=again),
            lead_uuid=uuid if isinstance(uuid, str) and uuid else None,
            attempts=attempts,
            line=row.line,
            row=row,
        )

    # ------------------------------------------------------------------ accounting

    async def _finish(
        self, planned: _Planned, result: RowResult, error: GetSalesError | None
    ) -> None:
        """Count the row's one result, append it to the checkpoint, hand it to ``on_result``."""
        summary = self.summary
        if result.status is RowStatus.FAILED:
            summary.failed += 1
            summary.invalid += result.error_type == "InvalidRow"
            if len(summary.failures) < self._max_failures_kept:
                summary.failures.append(result)
        elif result.status is RowStatus.CREATED:
            summary.created += 1
        elif result.status is RowStatus.UPDATED:
            summary.updated += 1
        else:
            summary.skipped += 1
        self._connection_streak = (
            self._connection_streak + 1 if isinstance(error, APIConnectionError) else 0
        )
        now = self._client.clock.now()
        self._finished_times.append(now)
        while self._finished_times and self._finished_times[0] < now - RATE_WINDOW_S:
            self._finished_times.popleft()  # bounded memory whether or not progress is reported
        if self._store is not None:
            cells = _cells_of(planned.row) if result.status is RowStatus.FAILED else None
            self._store.record(result, row_id=planned.row_id, contact=planned.contact, cells=cells)
        await self._emit(self._on_result, result)

    # ------------------------------------------------------------------ progress

    def _snapshot(self, final: bool = False) -> ImportProgress:
        """The current progress (rate over the last ``RATE_WINDOW_S`` seconds, ETA)."""
        s = self.summary
        now = self._client.clock.now()
        while self._finished_times and self._finished_times[0] < now - RATE_WINDOW_S:
            self._finished_times.popleft()
        window = min(RATE_WINDOW_S, max(now - self._started, 1e-9))
        rate = len(self._finished_times) / window if self._finished_times else 0.0
        remaining = None if self._total is None else max(self._total - s.done - s.resumed, 0)
        eta = None if remaining is None or rate <= 0 else remaining / rate
        stats = self._client.statistics()
        return ImportProgress(
            done=s.done,
            created=s.created,
            updated=s.updated,
            skipped=s.skipped,
            failed=s.failed,
            in_flight=self._in_flight,
            resumed=s.resumed,
            rate_per_s=rate,
            rate_limited=stats.rate_limited - self._stats0.rate_limited,
            retries=stats.retries - self._stats0.retries,
            elapsed_s=now - self._started,
            eta_s=0.0 if final else eta,
            total=self._total,
            finished=final,
        )

    async def _report_progress(self) -> None:
        while True:
            await self._client.clock.sleep(self._progress_interval)
            await self._emit(self._on_progress, self._snapshot())

    @staticmethod
    async def _emit(callback: Callable[[Any], Awaitable[None] | None] | None, value: Any) -> None:
        if callback is not None:
            outcome = callback(value)
            if outcome is not None:
                await outcome

    # ------------------------------------------------------------------ reporting

    def _write_failed_csv(self) -> None:
        """Replace the failed CSV with every row still failing (this run's and earlier runs')."""
        assert self._store is not None
        listing = self._store.failed_rows(
            completed=self.summary.completed, base_columns=self._base_columns or ()
        )
        self.summary.still_failing = len(listing.rows)
        if self._failed_csv is None:
            return
        writer = AtomicCsvWriter(self._failed_csv, listing.columns)
        try:
            for values in self._store.failed_row_values(listing):
                writer.write(values)
        except BaseException:
            writer.discard()
            raise
        writer.commit()


def _check_arguments(
    concurrency: int,
    row_attempts: int,
    checkpoint: str | os.PathLike[str] | None,
    failed_csv: str | os.PathLike[str] | None,
    resume: bool,
    max_failures_kept: int,
) -> None:
    if concurrency < 1:
        raise ArgumentError(f"concurrency must be at least 1, got {concurrency}")
    if row_attempts < 1:
        raise ArgumentError(f"row_attempts must be at least 1, got {row_attempts}")
    if max_failures_kept < 0:
        raise ArgumentError(f"max_failures_kept cannot be negative, got {max_failures_kept}")
    if checkpoint is None and (resume or failed_csv is not None):
        what = "resume" if resume else "failed_csv"
        raise ArgumentError(
            f"{what} needs a checkpoint file (checkpoint=...): it is read from there"
        )
