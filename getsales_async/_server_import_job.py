"""Watching a started server-side import through what the API documents: the list's contact count.

There is no documented status endpoint for a file import (the import answers ``in_progress`` and
says "poll by UUID", but no operation reads one). What is observable is the target list: its
contact count (``countLeads`` with ``filter: {list_uuid}``) before the import started and now. So:

- **added** = count now - count before (never below 0);
- **pending** = rows sent - added;
- **complete** once every row sent shows up as a new contact in the list;
- **stalled** when the count has not changed for ``idle_timeout`` seconds with rows still pending:
  those rows were most likely not added at all, as duplicates of contacts already in the list (or
  in another list: an import does not move them), blacklisted or invalid rows. Which ones is not
  knowable: **per-row outcomes are not available from the API** (use ``leads.bulk_upsert`` when
  you need them);
- **timed_out** when ``timeout`` passed while the count was still rising.

Anything else adding contacts to (or removing them from) the same list meanwhile shifts the count.
Polls are paced by the expected finish time at the rate seen so far, between ``poll_interval`` and
``max_poll_interval``, so a long import costs few requests. Time is read from the client's clock.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from ._csv_parts import CsvPart, SkippedRow
from ._errors import APIResponseValidationError, ArgumentError
from ._import_mapping import MappingShape

if TYPE_CHECKING:
    from ._client import AsyncGetSales

__all__ = [
    "PER_ROW_NOTE",
    "ImportPart",
    "ServerImportJob",
    "ServerImportProgress",
    "ServerImportResult",
    "list_count",
]

DEFAULT_WAIT_TIMEOUT_S = 3600.0
DEFAULT_POLL_INTERVAL_S = 5.0
DEFAULT_MAX_POLL_INTERVAL_S = 60.0
DEFAULT_IDLE_TIMEOUT_S = 120.0
PER_ROW_NOTE = (
    "per-row outcomes are not available from the API: the list's contact count tells how many "
    "contacts joined it, not which rows were duplicates, blacklisted or invalid "
    "(leads.bulk_upsert reports each row)"
)
Outcome = Literal["complete", "stalled", "timed_out"]


@dataclass(frozen=True)
class ImportPart:
    """One uploaded CSV part whose import was started."""

    part: CsvPart
    upload_uuid: str
    """The uuid ``uploadCsv`` gave the file."""
    job_uuid: str | None
    """The uuid the import answered with, if it sent one."""


@dataclass(frozen=True)
class ServerImportProgress:
    """One reading of the target list's contact count."""

    rows: int
    """Rows sent to the server."""
    added: int
    """Contacts the list gained since the import started (never below 0)."""
    pending: int
    """Rows not (yet) seen as new contacts: ``rows - added``, never below 0."""
    list_count: int
    elapsed: float
    """Seconds since the import started, on the client's clock."""


@dataclass(frozen=True)
class ServerImportResult:
    """How a server-side import ended, as far as the API shows it (see the module docstring)."""

    outcome: Outcome
    rows: int
    added: int
    pending: int
    count_before: int
    count_after: int
    elapsed: float
    skipped_rows: int
    """Rows left out locally before the upload (malformed); see ``job.skipped``."""
    without_identifier: int | None
    """Rows sent without a value in any identifier column (``None``: not tracked)."""
    note: str = PER_ROW_NOTE

    @property
    def complete(self) -> bool:
        """Every row sent showed up as a new contact in the list."""
        return self.outcome == "complete"

    def __str__(self) -> str:
        head = {
            "complete": "complete",
            "stalled": "stalled (the list's count stopped changing)",
            "timed_out": "timed out (the list's count was still changing)",
        }[self.outcome]
        text = f"{head}: {self.added:,} of {self.rows:,} rows added to the list in {self.elapsed:.0f} s"
        if self.pending:
            text += f", {self.pending:,} not added"
            if self.without_identifier:
                text += f" ({self.without_identifier:,} rows have no identifier value)"
        if self.skipped_rows:
            text += f"; {self.skipped_rows:,} rows left out before the upload"
        return text if self.complete else f"{text}; {self.note}"


async def list_count(client: AsyncGetSales, list_uuid: str) -> int:
    """The number of contacts in a list (``countLeads``)."""
    answer = await client.leads.count(filter={"list_uuid": list_uuid})
    for value in (answer.total, answer.count):
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            return value
    raise APIResponseValidationError(
        "countLeads answered without a total",
        status_code=200,
        body=answer.to_dict(),
        method="POST",
        path="/leads/api/leads/count",
    )


def _positive(name: str, value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise ArgumentError(f"{name} must be a positive number of seconds, got {value!r}")
    if not math.isfinite(value):
        raise ArgumentError(f"{name} must be finite (a wait must end), got {value!r}")
    return float(value)


class ServerImportJob:
    """A started server-side import of contacts (``client.files.start_leads_import``).

    Attributes:
        list_uuid: the target list.
        parts: the uploaded parts whose import started, in order.
        rows: rows sent (all parts).
        count_before: the list's contact count just before the first import started.
        mapping: the column mapping sent, ``{field: column_index}``.
        mapping_shape: the ``columns`` shape the server accepted.
        header: the CSV header of every part.
        skipped: a sample of the rows left out before the upload; ``skipped_count`` counts all.
        without_identifier: rows sent without a value in any identifier column (``None``: not
            tracked); ``without_identifier_rows`` samples their numbers.

    Example::

        job = await client.files.start_leads_import("contacts.csv", list_uuid=list_uuid)
        result = await job.wait(timeout=1800)
        print(result)  # "complete: 2,000 of 2,000 rows added to the list in 12 s"
    """

    def __init__(
        self,
        client: AsyncGetSales,
        *,
        list_uuid: str,
        parts: tuple[ImportPart, ...],
        count_before: int,
        started_at: float,
        mapping: dict[str, int],
        mapping_shape: MappingShape,
        header: tuple[str, ...],
        skipped: tuple[SkippedRow, ...] = (),
        skipped_count: int = 0,
        without_identifier: int | None = 0,
        without_identifier_rows: tuple[int, ...] = (),
    ) -> None:
        self._client = client
        self.list_uuid = list_uuid
        self.parts = parts
        self.rows = sum(p.part.rows for p in parts)
        self.count_before = count_before
        self.started_at = started_at
        self.mapping = mapping
        self.mapping_shape: MappingShape = mapping_shape
        self.header = header
        self.skipped = skipped
        self.skipped_count = skipped_count
        self.without_identifier = without_identifier
        self.without_identifier_rows = without_identifier_rows

    @classmethod
    def combined(cls, jobs: Sequence[ServerImportJob]) -> ServerImportJob:
        """One job watching several imports started one after the other into the same list.

        For imports that must be started separately (e.g. rows with different ``tags``): the
        result counts every row of every job against the first job's ``count_before``, so the
        contacts an earlier import added while a later one was being started are not counted
        twice. The jobs share one header (``mapping`` and ``header`` are the first job's).

        Raises:
            ArgumentError: no jobs, jobs of different clients or lists, or different headers.
        """
        if not jobs:
            raise ArgumentError("combined() needs at least one job")
        first = jobs[0]
        for job in jobs[1:]:
            if job._client is not first._client or job.list_uuid != first.list_uuid:
                raise ArgumentError("combined() takes jobs of one client into one list")
            if job.header != first.header:
                raise ArgumentError("combined() takes jobs whose parts share one header")
        lacking = [job.without_identifier for job in jobs]
        return cls(
            first._client,
            list_uuid=first.list_uuid,
            parts=tuple(part for job in jobs for part in job.parts),
            count_before=first.count_before,
            started_at=first.started_at,
            mapping=dict(first.mapping),
            mapping_shape=jobs[-1].mapping_shape,
            header=first.header,
            skipped=tuple(row for job in jobs for row in job.skipped),
            skipped_count=sum(job.skipped_count for job in jobs),
            without_identifier=None if None in lacking else sum(n or 0 for n in lacking),
            without_identifier_rows=tuple(
                row for job in jobs for row in job.without_identifier_rows
            ),
        )

    def __repr__(self) -> str:
        return (
            f"<ServerImportJob list={self.list_uuid} rows={self.rows} parts={len(self.parts)} "
            f"count_before={self.count_before}>"
        )

    async def progress(self) -> ServerImportProgress:
        """Read the list's count once (one ``countLeads`` request)."""
        count = await list_count(self._client, self.list_uuid)
        added = max(0, count - self.count_before)
        return ServerImportProgress(
            rows=self.rows,
            added=added,
            pending=max(0, self.rows - added),
            list_count=count,
            elapsed=self._client.clock.now() - self.started_at,
        )

    async def wait(
        self,
        *,
        timeout: float = DEFAULT_WAIT_TIMEOUT_S,
        poll_interval: float = DEFAULT_POLL_INTERVAL_S,
        max_poll_interval: float = DEFAULT_MAX_POLL_INTERVAL_S,
        idle_timeout: float = DEFAULT_IDLE_TIMEOUT_S,
        on_progress: Callable[[ServerImportProgress], Awaitable[object] | object] | None = None,
    ) -> ServerImportResult:
        """Poll the list's count until every row is added, the count stalls, or ``timeout``.

        Can be called again after it returns (e.g. with a longer timeout).

        Args:
            timeout: seconds to watch at most (default 3600).
            poll_interval: shortest wait between two polls, in seconds (default 5).
            max_poll_interval: longest wait between two polls, in seconds (default 60).
            idle_timeout: seconds without any change of the count after which the remaining
                rows are taken as not added (default 120).
            on_progress: called (or awaited) with every reading.

        Returns:
            A :class:`ServerImportResult`; ``outcome`` says which of the three ended it.

        Raises:
            ArgumentError: a non-positive or infinite time, or poll_interval > max_poll_interval.
            APIStatusError, APIConnectionError: a poll failed (after the client's retries).
        """
        timeout = _positive("timeout", timeout)
        poll_interval = _positive("poll_interval", poll_interval)
        max_poll_interval = _positive("max_poll_interval", max_poll_interval)
        idle_timeout = _positive("idle_timeout", idle_timeout)
        if poll_interval > max_poll_interval:
            raise ArgumentError(
                f"poll_interval ({poll_interval:g} s) is longer than max_poll_interval "
                f"({max_poll_interval:g} s)"
            )
        clock = self._client.clock
        deadline = clock.now() + timeout
        reading = await self._read(on_progress)
        changed_at = clock.now()
        while reading.pending:
            now = clock.now()
            if now - changed_at >= idle_timeout:
                return self._result("stalled", reading)
            if now >= deadline:
                return self._result("timed_out", reading)
            delay = self._next_delay(reading, poll_interval, max_poll_interval)
            await clock.sleep(min(delay, deadline - now, changed_at + idle_timeout - now))
            previous, reading = reading, await self._read(on_progress)
            if reading.list_count != previous.list_count:
                changed_at = clock.now()
        return self._result("complete", reading)

    async def _read(
        self, on_progress: Callable[[ServerImportProgress], Awaitable[object] | object] | None
    ) -> ServerImportProgress:
        reading = await self.progress()
        if on_progress is not None:
            outcome = on_progress(reading)
            if inspect.isawaitable(outcome):
                await outcome
        return reading

    @staticmethod
    def _next_delay(reading: ServerImportProgress, shortest: float, longest: float) -> float:
        """Until the expected finish at the rate seen so far, within ``[shortest, longest]``."""
        if reading.added <= 0 or reading.elapsed <= 0:
            return shortest
        eta = reading.pending / (reading.added / reading.elapsed)
        return min(longest, max(shortest, eta))

    def _result(self, outcome: Outcome, reading: ServerImportProgress) -> ServerImportResult:
        return ServerImportResult(
            outcome=outcome,
            rows=self.rows,
            added=reading.added,
            pending=reading.pending,
            count_before=self.count_before,
            count_after=reading.list_count,
            elapsed=reading.elapsed,
            skipped_rows=self.skipped_count,
            without_identifier=self.without_identifier,
        )
