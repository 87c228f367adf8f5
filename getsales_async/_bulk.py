"""Quota-aware bulk upsert of contacts: ``client.leads.bulk_upsert(rows, list_uuid=...)``.

A fixed pool of workers sends one upsert per row through the client, so every request is paced
by the shared rate limiter and retried by the transport (429, connection errors, 502/503/504:
upsert is keyed by the contact's identifiers, so repeating it is safe). On top of that a row
whose call still fails with a transient error is tried again a few times; a permanent error
(422, a blacklisted contact…) fails just that row; an authentication, permission or payment
error, or several rows in a row that cannot reach the API, stop the whole job.

The work is done by :class:`~getsales_async._import_job.ImportJob` (one method per guarantee).
What a crash can cost: the rows in flight (sent, but their results not yet in the checkpoint) are
sent again on resume, as upserts of the same contacts, and counted once. A torn last checkpoint
record is cut on resume; any other damage stops with :class:`CheckpointError`. Created vs
updated is judged as ``_upsert_outcome.py`` describes, with its remaining uncertainty.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ._checkpoint import CheckpointError
from ._import_checkpoint import JobMeaning
from ._import_job import (
    DEFAULT_CONCURRENCY,
    DEFAULT_MAX_FAILURES_KEPT,
    DEFAULT_ROW_ATTEMPTS,
    PROGRESS_INTERVAL_S,
    ImportJob,
    ProgressCallback,
    ResultCallback,
    RowSource,
)
from ._import_types import (
    BulkImportAborted,
    BulkImportSummary,
    ImportProgress,
    LeadRow,
    RowResult,
    RowStatus,
    row_identifier_problem,
)
from ._resources.leads import LeadsResource
from ._upsert_outcome import server_time

if TYPE_CHECKING:
    from ._client import AsyncGetSales
    from ._export import LeadSweep, SweepCheckpoint

__all__ = [
    "DEFAULT_CONCURRENCY",
    "DEFAULT_ROW_ATTEMPTS",
    "BulkImportAborted",
    "BulkImportSummary",
    "BulkLeadsResource",
    "CheckpointError",
    "ImportJob",
    "ImportProgress",
    "LeadRow",
    "RowResult",
    "RowStatus",
    "bulk_upsert",
    "row_identifier_problem",
    "server_time",
]


async def bulk_upsert(
    client: AsyncGetSales,
    rows: RowSource,
    *,
    list_uuid: str,
    update_if_exists: bool = True,
    move_to_list: bool = False,
    tags: Sequence[str] = (),
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
) -> BulkImportSummary:
    """Upsert every row into ``list_uuid``; see the module docstring for the guarantees.

    Args:
        client: the client (its limiter paces the job).
        rows: :class:`LeadRow` objects, :class:`CsvProblem` rows (they fail without a request),
            or plain mappings of contact fields (a ``custom_fields`` key is sent as the upsert's
            custom fields); any iterable or async iterable, streamed.
        list_uuid: the list every contact goes to.
        update_if_exists: update a matching contact (else it is reported "skipped").
        move_to_list: move a matching contact into ``list_uuid``.
        tags: tag names added to every contact (created when missing).
        concurrency: requests in flight at most.
        row_attempts: attempts per row for transient errors.
        checkpoint: a file recording each row's result, for ``resume`` and ``failed_csv``.
        resume: continue the job ``checkpoint`` holds: rows that succeeded are skipped, the
            others (failed, new, edited) are sent. Without it an existing checkpoint is replaced.
        input_name: the input's identity (e.g. the file's path); resuming a checkpoint written
            for another input is refused.
        checkpoint_labels: text kept in the checkpoint's header (the CLI keeps the list's name).
        failed_csv: write the rows still failing (from every run) to this CSV when the run ends,
            replacing it atomically; each keeps its original cells plus ``import_line`` and
            ``import_error``.
        total: the number of rows, if known (for the ETA).
        on_result: called with every row's result.
        on_progress: called every ``progress_interval`` seconds and once at the end.
        progress_interval: seconds between progress events.
        max_failures_kept: failed rows kept in ``summary.failures`` (all go to ``on_result``).

    Returns:
        The counts of this run.

    Raises:
        BulkImportAborted: an authentication, permission or payment error, or the API stopped
            answering (remaining rows are not sent; resume once fixed).
        CheckpointError: the checkpoint is damaged, in use, or of another input or meaning.
        ArgumentError: a bad argument (nothing is sent).
    """
    meaning = JobMeaning(list_uuid, update_if_exists, move_to_list, tuple(sorted(set(tags))))
    job = ImportJob(
        client,
        meaning=meaning,
        concurrency=concurrency,
        row_attempts=row_attempts,
        checkpoint=checkpoint,
        resume=resume,
        input_name=input_name,
        checkpoint_labels=checkpoint_labels,
        failed_csv=failed_csv,
        total=total,
        on_result=on_result,
        on_progress=on_progress,
        progress_interval=progress_interval,
        max_failures_kept=max_failures_kept,
    )
    return await job.run(rows)


class BulkLeadsResource(LeadsResource):
    """The leads resource plus :meth:`bulk_upsert` and :meth:`search_all`."""

    async def bulk_upsert(
        self,
        rows: RowSource,
        *,
        list_uuid: str,
        update_if_exists: bool = True,
        move_to_list: bool = False,
        tags: Sequence[str] = (),
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
    ) -> BulkImportSummary:
        """Upsert many contacts at the full quota; the arguments are those of
        :func:`getsales_async.bulk_upsert` (see there).

        Example::

            summary = await client.leads.bulk_upsert(
                read_leads_csv("contacts.csv"), list_uuid=crm.uuid,
                checkpoint="contacts.checkpoint", resume=True, failed_csv="contacts.failed.csv",
            )
        """
        return await bulk_upsert(
            self._client,
            rows,
            list_uuid=list_uuid,
            update_if_exists=update_if_exists,
            move_to_list=move_to_list,
            tags=tags,
            concurrency=concurrency,
            row_attempts=row_attempts,
            checkpoint=checkpoint,
            resume=resume,
            input_name=input_name,
            checkpoint_labels=checkpoint_labels,
            failed_csv=failed_csv,
            total=total,
            on_result=on_result,
            on_progress=on_progress,
            progress_interval=progress_interval,
            max_failures_kept=max_failures_kept,
        )

    def search_all(
        self,
        *,
        filter: Mapping[str, Any] | None = None,
        page_size: int | None = None,
        concurrency: int = 1,
        window: int | None = None,
        resume: SweepCheckpoint | None = None,
    ) -> LeadSweep:
        """Every contact matching a search, past the 10,000-row window; see :class:`LeadSweep`."""
        from ._export import LeadSweep

        return LeadSweep(
            self,
            filter=filter,
            page_size=page_size,
            concurrency=concurrency,
            window=window,
            resume=resume,
        )
