"""Every contact of a search, past the 10,000-row window, and contacts exported to CSV.

GetSales searches cannot page past ``offset + limit = 10,000``. :class:`LeadSweep`
(``client.leads.search_all(filter=...)``) reads any number of contacts anyway:

1. it finds the oldest and newest ``created_at`` of the search (two one-row requests);
2. it asks the total of a ``created_at`` range (a one-row request); a range whose total reaches
   the window is split in two at its middle instant, again and again, until each part fits;
3. it reads each range with the paginator (sorted by ``created_at``, ``concurrency`` pages
   prefetched), oldest range first, dropping any contact already read in that range.

So contacts come in a stable order (ascending ``created_at``), each once. :meth:`LeadSweep.checkpoint`
is a JSON-able resume point (the ranges still to read and how far the current one got), taken
after the last contact handed out: ``client.leads.search_all(resume=checkpoint)`` continues
there. Contacts created after the sweep found its newest ``created_at`` are not included, and (as
with any offset pagination) deleting contacts during a sweep can make it skip others. More than
``window`` contacts sharing one ``created_at`` microsecond cannot be split and raise
:class:`~getsales_async.PaginationWindowError`.

:class:`LeadsCsvExport` writes a sweep to CSV: every contact field in the schema's order, tags
as names, each custom field of contacts as a ``cf:NAME`` column (so the file re-imports with
``import-leads``), cells neutralised against CSV injection; written to ``FILE.partial`` and
renamed when complete, with a checkpoint beside it so a killed export resumes where it stopped.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import AsyncGenerator, AsyncIterator, Mapping
from contextlib import aclosing
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from ._checkpoint import CheckpointError, read_json_state, write_json_atomic
from ._columns import EXPORT_COLUMNS
from ._config import MAX_PAGE_SIZE, SEARCH_WINDOW
from ._csv import neutralise, render_cell
from ._errors import APIResponseValidationError, ArgumentError, PaginationWindowError
from ._upsert_outcome import parse_time

if TYPE_CHECKING:
    from ._client import AsyncGetSales
    from ._generated.models.lead_search_result import LeadSearchResult
    from ._resources.leads import LeadsResource

__all__ = ["ContactCsvFormat", "LeadSweep", "LeadsCsvExport", "SweepCheckpoint", "TimeRange"]

_RANGE_OPERATORS = frozenset({">=", ">", "<=", "<"})
EXPORT_STATE_KIND = "getsales-async/export-checkpoint"
EXPORT_SAVE_EVERY = 1000  # rows between checkpoint saves of an export


def iso(when: datetime) -> str:
    """A time as the API writes it: UTC, microseconds, ``Z``."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class TimeRange:
    """Contacts with ``start <= created_at < end`` (``<= end`` when ``end_inclusive``)."""

    start: str
    end: str
    end_inclusive: bool = True

    def condition(self) -> dict[str, str]:
        """The ``created_at`` filter of this range."""
        return {">=": self.start, "<=" if self.end_inclusive else "<": self.end}

    def split(self, window: int) -> tuple[TimeRange, TimeRange]:
        """The two halves at the middle instant.

        Raises:
            PaginationWindowError: the range is a single instant (more than ``window`` contacts
                share one ``created_at`` microsecond).
        """
        start, end = parse_time(self.start), parse_time(self.end)
        if start is None or end is None or end <= start:
            raise _unsplittable(self, window)
        middle = start + max((end - start) // 2, timedelta(microseconds=1))
        if middle >= end and not self.end_inclusive:
            raise _unsplittable(self, window)
        return TimeRange(self.start, iso(middle), False), TimeRange(
            iso(middle), self.end, self.end_inclusive
        )


def _unsplittable(current: TimeRange, window: int) -> PaginationWindowError:
    error = PaginationWindowError(offset=window, limit=MAX_PAGE_SIZE, window=window)
    error.args = (
        f"{window:,} or more contacts share created_at {current.start}, so the search cannot be "
        "split further by time; narrow it with another filter (e.g. list_uuid or tags)",
    )
    return error


@dataclass(frozen=True)
class SweepCheckpoint:
    """Where a :class:`LeadSweep` stands: what it searches, the ranges left, and the offset in
    the first of them (``ranges`` is ``None`` before the sweep found its bounds)."""

    filter: dict[str, Any]
    page_size: int
    window: int
    ranges: tuple[TimeRange, ...] | None
    offset: int = 0

    def to_json(self) -> str:
        """Serialise (for a checkpoint file)."""
        ranges = (
            None
            if self.ranges is None
            else [[r.start, r.end, r.end_inclusive] for r in self.ranges]
        )
        return json.dumps(
            {
                "filter": self.filter,
                "page_size": self.page_size,
                "window": self.window,
                "ranges": ranges,
                "offset": self.offset,
            },
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, text: str) -> SweepCheckpoint:
        """Load a checkpoint written by :meth:`to_json` (ArgumentError when it is not one)."""
        try:
            data = json.loads(text)
            ranges = data["ranges"]
            return cls(
                filter=dict(data["filter"]),
                page_size=int(data["page_size"]),
                window=int(data["window"]),
                ranges=None
                if ranges is None
                else tuple(TimeRange(str(a), str(b), bool(c)) for a, b, c in ranges),
                offset=int(data["offset"]),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise ArgumentError(f"not a search_all checkpoint: {exc}") from None


def _check_filter(search_filter: Mapping[str, Any]) -> None:
    condition = search_filter.get("created_at")
    if condition is None or isinstance(condition, str):
        return
    if isinstance(condition, dict) and set(condition) <= _RANGE_OPERATORS:
        return
    raise ArgumentError(
        "search_all splits the search by created_at itself: a created_at condition may only be "
        "a time or a range (>=, >, <=, <)"
    )


class LeadSweep:
    """Every contact matching a search, in ascending ``created_at`` (see the module docstring).

    Example::

        sweep = client.leads.search_all(filter={"list_uuid": crm.uuid}, concurrency=4)
        async for item in sweep:
            print(item.lead.uuid)
        saved = sweep.checkpoint().to_json()  # later: client.leads.search_all(resume=SweepCheckpoint.from_json(saved))
    """

    def __init__(
        self,
        resource: LeadsResource,
        *,
        filter: Mapping[str, Any] | None = None,
        page_size: int | None = None,
        concurrency: int = 1,
        window: int | None = None,
        resume: SweepCheckpoint | None = None,
    ) -> None:
        if resume is not None and (
            filter is not None or page_size is not None or window is not None
        ):
            raise ArgumentError("pass either resume=... or filter/page_size/window, not both")
        start = resume or SweepCheckpoint(
            dict(filter or {}),
            MAX_PAGE_SIZE if page_size is None else page_size,
            SEARCH_WINDOW if window is None else window,
            None,
        )
        if not 1 <= start.page_size <= MAX_PAGE_SIZE:
            raise ArgumentError(
                f"page_size must be between 1 and {MAX_PAGE_SIZE}, got {start.page_size}"
            )
        if not start.page_size <= start.window <= SEARCH_WINDOW:
            raise ArgumentError(
                f"window must be between page_size and {SEARCH_WINDOW}, got {start.window}"
            )
        if concurrency < 1:
            raise ArgumentError(f"concurrency must be at least 1, got {concurrency}")
        _check_filter(start.filter)
        self._resource = resource
        self._concurrency = concurrency
        self._state = start
        self.splits = 0  # ranges split because they reached the window

    def __repr__(self) -> str:
        ranges = "?" if self._state.ranges is None else len(self._state.ranges)
        return f"<LeadSweep ranges_left={ranges} offset={self._state.offset} splits={self.splits}>"

    def checkpoint(self) -> SweepCheckpoint:
        """The resume point after the last contact handed out."""
        return self._state

    def __aiter__(self) -> AsyncIterator[LeadSearchResult]:
        return self._items()

    async def _items(self) -> AsyncGenerator[LeadSearchResult, None]:
        if self._state.ranges is None:
            self._state = replace(self._state, ranges=await self._bounds(), offset=0)
        while self._state.ranges:
            ranges = self._state.ranges
            current = ranges[0]
            if self._state.offset == 0 and await self._total(current) >= self._state.window:
                low, high = current.split(self._state.window)
                self.splits += 1
                self._state = replace(self._state, ranges=(low, high, *ranges[1:]))
                continue
            async with aclosing(self._read(current)) as items:
                async for item in items:
                    yield item
            self._state = replace(self._state, ranges=ranges[1:], offset=0)

    async def _read(self, current: TimeRange) -> AsyncGenerator[LeadSearchResult, None]:
        """One range, from the checkpoint's offset, each contact once."""
        seen: set[str] = set()
        paginator = self._resource.search(
            filter={**self._state.filter, "created_at": current.condition()},
            order_field="created_at",
            order_type="asc",
            page_size=self._state.page_size,
            start_offset=self._state.offset,
            concurrency=self._concurrency,
        )
        async with aclosing(paginator.__aiter__()) as items:  # type: ignore[type-var]
            async for item in items:
                self._state = replace(self._state, offset=self._state.offset + 1)
                uuid = getattr(getattr(item, "lead", None), "uuid", None)
                if uuid:
                    if uuid in seen:
                        continue
                    seen.add(uuid)
                yield item

    async def _edge(self, order: Literal["asc", "desc"]) -> str | None:
        raw = await self._resource.with_raw_response.search(
            filter=self._state.filter,
            order_field="created_at",
            order_type=order,
            limit=1,
            offset=0,
        )
        items = list(getattr(raw.parsed, "data", None) or [])
        if not items:
            return None
        when = parse_time(getattr(getattr(items[0], "lead", None), "created_at", None))
        if when is None:
            raise APIResponseValidationError(
                "a contact without created_at: cannot split the search by time",
                status_code=raw.status_code,
            )
        return iso(when)

    async def _bounds(self) -> tuple[TimeRange, ...]:
        first = await self._edge("asc")
        if first is None:
            return ()
        last = await self._edge("desc")
        return (TimeRange(first, last or first, True),)

    async def _total(self, current: TimeRange) -> int:
        raw = await self._resource.with_raw_response.search(
            filter={**self._state.filter, "created_at": current.condition()}, limit=1, offset=0
        )
        total = getattr(raw.parsed, "total", None)
        if not isinstance(total, int) or isinstance(total, bool):
            raise APIResponseValidationError(
                "the search answer has no total: cannot plan created_at ranges",
                status_code=raw.status_code,
            )
        return total


# ----------------------------------------------------------------------------- CSV export


class ContactCsvFormat:
    """How a contact becomes a CSV row: every field, tags as names, ``cf:NAME`` custom fields.

    Args:
        tag_names: tag uuid → name (a uuid without a name is written as is).
        custom_fields: custom field uuid → name, for the contacts' custom fields.
    """

    def __init__(self, tag_names: Mapping[str, str], custom_fields: Mapping[str, str]) -> None:
        self.tag_names = dict(tag_names)
        self.custom_fields = dict(custom_fields)
        self._custom = sorted(set(custom_fields.values()), key=str.casefold)
        self.columns = [*EXPORT_COLUMNS, *(f"cf:{name}" for name in self._custom)]

    def _custom_values(self, raw: Any) -> dict[str, Any]:
        if isinstance(raw, Mapping):
            pairs = list(raw.items())
        elif isinstance(raw, list):
            pairs = [
                (
                    item.get("name") or item.get("custom_field_uuid") or item.get("uuid"),
                    item.get("value"),
                )
                for item in raw
                if isinstance(item, Mapping)
            ]
        else:
            pairs = []
        return {self.custom_fields.get(str(k), str(k)): v for k, v in pairs if k is not None}

    def row(self, item: Any) -> list[str]:
        """The CSV cells of one search item (rendered and neutralised)."""
        lead = getattr(item, "lead", None)
        data = lead.to_dict() if lead is not None and hasattr(lead, "to_dict") else {}
        if isinstance(data.get("tags"), list):
            data["tags"] = [self.tag_names.get(str(t), str(t)) for t in data["tags"]]
        custom = self._custom_values(getattr(item, "custom_fields", None))
        cells = [render_cell(data.get(c)) for c in EXPORT_COLUMNS]
        cells += [render_cell(custom.get(name)) for name in self._custom]
        return cells


def _object_of(custom_field: Any) -> str:
    """What a custom field belongs to (``lead`` or ``company``)."""
    value = getattr(custom_field, "object_", None) or getattr(custom_field, "object", None)
    return str(getattr(value, "value", value) or "")


async def contact_csv_format(client: AsyncGetSales) -> ContactCsvFormat:
    """The format for this team: its tags' names and its contacts' custom fields."""
    tags = {str(t.uuid): str(t.name) async for t in client.tags.list() if t.uuid and t.name}
    custom = {
        str(f.uuid): str(f.name)
        async for f in client.custom_fields.list()
        if f.uuid and f.name and _object_of(f) == "lead"
    }
    return ContactCsvFormat(tags, custom)


class LeadsCsvExport:
    """A resumable export of a sweep to a CSV file (see the module docstring).

    Args:
        client: the client.
        path: the CSV file to write (``path.partial`` while running, renamed when complete).
        filter: the search filter.
        concurrency: pages prefetched.
        window: the search window (10,000 in production).
        checkpoint: the resume file (default ``path.export-checkpoint.json``).
    """

    def __init__(
        self,
        client: AsyncGetSales,
        path: str | os.PathLike[str],
        *,
        filter: Mapping[str, Any] | None = None,
        concurrency: int = 4,
        window: int | None = None,
        checkpoint: str | os.PathLike[str] | None = None,
    ) -> None:
        self._client = client
        self.path = Path(path)
        self.partial = self.path.with_name(self.path.name + ".partial")
        self.checkpoint_path = (
            Path(checkpoint)
            if checkpoint
            else self.path.with_name(self.path.name + ".export-checkpoint.json")
        )
        self._filter = dict(filter or {})
        self._concurrency = concurrency
        self._window = window
        if not self.path.parent.is_dir():
            raise ArgumentError(f"cannot write {self.path}: {self.path.parent} is not a directory")
        _check_filter(self._filter)
        self.rows = 0

    def interrupted(self) -> bool:
        """Whether an interrupted export of this file can be resumed."""
        return self.checkpoint_path.exists()

    async def run(self, *, resume: bool = False) -> int:
        """Export every contact; returns how many rows the file holds."""
        state = self._load() if resume else None
        fmt = (
            ContactCsvFormat(state["tags"], state["custom_fields"])
            if state
            else await contact_csv_format(self._client)
        )
        sweep = (
            self._client.leads.search_all(
                resume=SweepCheckpoint.from_json(state["sweep"]), concurrency=self._concurrency
            )
            if state
            else self._client.leads.search_all(
                filter=self._filter, window=self._window, concurrency=self._concurrency
            )
        )
        with self._open(state, fmt.columns) as fh:
            writer = csv.writer(fh)
            self.rows = int(state["rows"]) if state else 0
            async for item in sweep:
                writer.writerow(fmt.row(item))
                self.rows += 1
                if self.rows % EXPORT_SAVE_EVERY == 0:
                    self._save(fh, sweep, fmt)
            self._save(fh, sweep, fmt)
        os.replace(self.partial, self.path)
        self.checkpoint_path.unlink(missing_ok=True)
        return self.rows

    def _open(self, state: Mapping[str, Any] | None, columns: list[str]) -> Any:
        if state is None:
            fh = self.partial.open("w", encoding="utf-8", newline="")
            csv.writer(fh).writerow([neutralise(c) for c in columns])
            return fh
        size = int(state["bytes"])
        if not self.partial.exists() or self.partial.stat().st_size < size:
            raise CheckpointError(
                f"{self.partial} is missing or shorter than the checkpoint says; start the export over",
                path=self.checkpoint_path,
            )
        with self.partial.open("r+b") as raw:
            raw.truncate(size)  # rows written after the last save are written again
        return self.partial.open("a", encoding="utf-8", newline="")

    def _save(self, fh: Any, sweep: LeadSweep, fmt: ContactCsvFormat) -> None:
        fh.flush()
        os.fsync(fh.fileno())
        write_json_atomic(
            self.checkpoint_path,
            {
                "kind": EXPORT_STATE_KIND,
                "sweep": sweep.checkpoint().to_json(),
                "bytes": fh.tell(),
                "rows": self.rows,
                "tags": fmt.tag_names,
                "custom_fields": fmt.custom_fields,
            },
        )

    def _load(self) -> dict[str, Any]:
        state = read_json_state(self.checkpoint_path, kind=EXPORT_STATE_KIND)
        try:
            SweepCheckpoint.from_json(state["sweep"])
            int(state["bytes"]), int(state["rows"])
            dict(state["tags"]), dict(state["custom_fields"])
        except (KeyError, TypeError, ValueError, ArgumentError):
            raise CheckpointError(
                "damaged: start the export over", path=self.checkpoint_path
            ) from None
        return state
