"""Server-side background work: file imports and queued mass actions, in batches on the clock.

Production processes a started file import "asynchronously in batches of 1,000 rows" and queues
mass actions on large sets; neither has a documented status endpoint. The emulator models that
with one first-in-first-out worker per team that processes ``BulkConfig.rows_per_second`` items a
second, in batches of ``BulkConfig.batch_size``: a job's batch ending at item *e* completes at
``starts_at + e / rows_per_second``, and a job starts when the team's previous job ends.

Nothing runs on its own thread or task: every request first brings the work up to date with the
emulator's clock (:meth:`Background.run_due`, called by ``GetSalesEmulator.run_background``
before the timers of ``_engine``), so a client that polls sees exactly the batches whose
completion time has passed, on a real or a virtual clock. Tests that read ``emulator.state``
directly call ``await emulator.advance(0)`` (or ``emulator.state.background.run_due()``) first.

A job's work is data (a :class:`BulkWork`: a frozen dataclass of a module, never a closure), so
``emulator.snapshot()`` taken while jobs are queued restores them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, Protocol

from ._http import Record

if TYPE_CHECKING:
    from ._state import EmulatorState

__all__ = ["MAPPING_SHAPES", "Background", "BulkConfig", "BulkWork", "MappingShape"]

MappingShape = Literal["object", "array"]
MAPPING_SHAPES: tuple[MappingShape, ...] = ("object", "array")
DEFAULT_ROWS_PER_SECOND = 1_000.0  # one batch of 1,000 a second: the emulator's, not production's
DEFAULT_BATCH_SIZE = 1_000  # "processed asynchronously in batches of 1,000 rows" (the index)
DEFAULT_QUEUE_ABOVE = 1_000  # mass actions selecting more contacts than this are queued
UPLOAD_LIMIT_BYTES = 15 * 1024 * 1024  # "Max file size is 15 MB" (as 15,360 KiB)
_EPSILON_ITEMS = 1e-6  # float slack, so a batch due at exactly t = 0.1 s is done at 0.1 s


@dataclass(frozen=True)
class BulkConfig:
    """How the emulator runs its bulk paths (CSV upload and import, mass actions).

    Args:
        rows_per_second: items (CSV rows, contacts of a queued mass action) processed per second
            of the emulator's clock, per team. Production's rate is not documented.
        batch_size: items per batch; progress becomes visible one whole batch at a time.
        queue_above: a mass action selecting more contacts than this is queued and answers with
            a tracking object (``status: "queued"``); smaller ones run at once.
        mapping_shapes: the ``columns`` shapes import-leads / import-companies accept:
            ``"object"`` (``{field: column_index}``, the GetSales index) and/or ``"array"``
            (``[{source, target}]``, the white-label reference). The other shape answers 422.
        max_upload_bytes: the largest CSV upload accepted (422 above it).

    Example::

        GetSalesEmulator(bulk=BulkConfig(rows_per_second=50, mapping_shapes=("array",)))
    """

    rows_per_second: float = DEFAULT_ROWS_PER_SECOND
    batch_size: int = DEFAULT_BATCH_SIZE
    queue_above: int = DEFAULT_QUEUE_ABOVE
    mapping_shapes: tuple[MappingShape, ...] = MAPPING_SHAPES
    max_upload_bytes: int = UPLOAD_LIMIT_BYTES

    def __post_init__(self) -> None:
        problems = []
        rate = self.rows_per_second
        if isinstance(rate, bool) or not isinstance(rate, int | float) or not math.isfinite(rate):
            problems.append(f"rows_per_second must be a finite number, got {rate!r}")
        elif rate <= 0:
            problems.append(f"rows_per_second must be positive, got {rate!r}")
        for name in ("batch_size", "max_upload_bytes"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                problems.append(f"{name} must be a positive integer, got {value!r}")
        if not isinstance(self.queue_above, int) or self.queue_above < 0:
            problems.append(f"queue_above must be an integer >= 0, got {self.queue_above!r}")
        shapes = tuple(self.mapping_shapes)
        if (
            not shapes
            or any(s not in MAPPING_SHAPES for s in shapes)
            or isinstance(self.mapping_shapes, str)
        ):
            problems.append(
                f"mapping_shapes is a non-empty tuple of {MAPPING_SHAPES}, got {self.mapping_shapes!r}"
            )
        if problems:
            message = f"invalid BulkConfig: {'; '.join(problems)}"
            raise ValueError(message)
        object.__setattr__(self, "mapping_shapes", shapes)


class BulkWork(Protocol):
    """What a queued job does; implementations are picklable (module-level dataclasses)."""

    def run(self, state: EmulatorState, record: Record, start: int, end: int) -> None:
        """Process items ``[start, end)``; ``record`` tracks the job."""

    def finish(self, state: EmulatorState, record: Record) -> None:
        """Called once, after the last item."""


@dataclass
class _Job:
    """One piece of queued work: ``work.run(state, record, start, end)`` processes a range."""

    team_id: int
    record: Record
    total: int
    work: BulkWork
    starts_at: float
    rate: float
    done: int = 0
    running_status: str = "in_progress"

    @property
    def ends_at(self) -> float:
        """When the last item is processed, on the emulator's clock."""
        return self.starts_at + self.total / self.rate


@dataclass
class Background:
    """The per-team background worker of one emulator (see the module docstring)."""

    state: EmulatorState
    config: BulkConfig = field(default_factory=BulkConfig)
    _jobs: list[_Job] = field(default_factory=list)
    _team_free_at: dict[int, float] = field(default_factory=dict)

    @property
    def pending(self) -> int:
        """Jobs not finished yet (as of the last :meth:`run_due`)."""
        return len(self._jobs)

    def submit(
        self,
        team_id: int,
        record: Record,
        total: int,
        work: BulkWork,
        *,
        queued_status: str = "queued",
        running_status: str = "in_progress",
    ) -> None:
        """Queue ``total`` items of work behind the team's earlier jobs; ``record`` tracks it.

        The record gets ``status`` (``queued_status``, then ``running_status``, then
        ``"completed"``), ``total`` and ``processed``.
        """
        now = self.state.clock_time()
        starts_at = max(now, self._team_free_at.get(team_id, now))
        job = _Job(
            team_id,
            record,
            total,
            work,
            starts_at,
            float(self.config.rows_per_second),
            running_status=running_status,
        )
        self._team_free_at[team_id] = job.ends_at
        record.update(status=queued_status, total=total, processed=0)
        self._jobs.append(job)
        self.run_due()

    def due(self, job: _Job, now: float) -> int:
        """How many items of ``job`` are processed at time ``now`` (whole batches, then the rest)."""
        if now < job.starts_at:
            return 0
        if now >= job.ends_at:
            return job.total
        reached = (now - job.starts_at) * job.rate + _EPSILON_ITEMS
        batch = self.config.batch_size
        return min(job.total, int(reached // batch) * batch)

    def run_due(self) -> None:
        """Process every batch whose completion time has passed on the emulator's clock."""
        now = self.state.clock_time()
        remaining: list[_Job] = []
        for job in self._jobs:
            target = self.due(job, now)
            if job.starts_at < now and job.record.get("status") != job.running_status:
                job.record["status"] = job.running_status
            if target > job.done:
                job.work.run(self.state, job.record, job.done, target)
                job.done = target
                job.record["processed"] = target
                self.state.touch(job.record)
            if job.done >= job.total:
                job.work.finish(self.state, job.record)
                job.record["status"] = "completed"
                continue
            remaining.append(job)
        self._jobs = remaining
