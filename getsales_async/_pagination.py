"""Offset pagination over every list and search operation.

``client.leads.search(...)`` returns an :class:`AsyncPaginator`:

- ``async for lead in paginator`` yields items across pages;
- ``await paginator`` returns the first :class:`Page`;
- ``async for page in paginator.pages()`` iterates pages;
- ``paginator.checkpoint()`` is a JSON-able resume point (arguments + offset):
  ``client.resume(checkpoint)`` continues where a crashed job stopped.

A paginator is a reusable description of the query, not a one-shot stream: every ``async for``
over it, every ``.pages()`` and every ``to_list()`` starts a fresh walk from its first page (the
``start_offset``, or the checkpoint's offset for a resumed paginator), sending the requests again.
``checkpoint()`` follows the walk started last.

Stop rules, in order (``api-facts.md`` facts 17-19): ``has_more`` false (top level or under
``pagination``); ``offset + len(data) >= total``; a short or empty page. Pages never reach past the
10,000-row search window: the last page is clamped to end at the window, and if more rows remain a
:class:`~getsales_async.PaginationWindowError` says how to partition the query.

With ``concurrency > 1``, once ``total`` is known a sliding window keeps ``concurrency`` page
requests in flight ahead of the reader (each still goes through the rate limiter), starting the
next as soon as one answers; pages are yielded in offset order, at most ``2 * concurrency`` are
held ahead of the reader, and the requests still in flight are cancelled when the iteration ends
early. Without a ``total`` pages are read one at a time, since nothing says how many exist.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import (
    AsyncGenerator,
    AsyncIterator,
    Awaitable,
    Callable,
    Generator,
    Iterator,
)
from contextlib import aclosing
from dataclasses import dataclass, field, replace
from typing import Any, Generic, TypeVar

import anyio

from ._background import Detached, start_detached
from ._config import MAX_PAGE_SIZE, SEARCH_WINDOW
from ._errors import ArgumentError, PaginationWindowError
from ._generated.types import Unset
from ._resource import RawResponse

__all__ = ["AsyncPaginator", "Checkpoint", "Page", "PageFetcher"]

T = TypeVar("T")
P = TypeVar("P")
PageFetcher = Callable[[int, int], Awaitable[RawResponse[P]]]


@dataclass(frozen=True)
class Checkpoint:
    """Where a paginated read stands: the call (resource, method, arguments) and the next offset."""

    resource: str
    method: str
    arguments: dict[str, Any]
    offset: int
    page_size: int = MAX_PAGE_SIZE

    def to_json(self) -> str:
        """Serialise (for a checkpoint file)."""
        return json.dumps(
            {
                "resource": self.resource,
                "method": self.method,
                "arguments": self.arguments,
                "offset": self.offset,
                "page_size": self.page_size,
            },
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, text: str) -> Checkpoint:
        """Load a checkpoint written by :meth:`to_json`."""
        data = json.loads(text)
        return cls(
            resource=str(data["resource"]),
            method=str(data["method"]),
            arguments=dict(data.get("arguments") or {}),
            offset=int(data["offset"]),
            page_size=int(data.get("page_size", MAX_PAGE_SIZE)),
        )


@dataclass(frozen=True)
class Page(Generic[T, P]):
    """One page: its items, where it starts, what the server said about the rest, the raw answer."""

    items: list[T]
    offset: int
    limit: int
    total: int | None
    has_more: bool | None
    raw: RawResponse[P] = field(repr=False)

    @property
    def parsed(self) -> P:
        """The parsed envelope model (or list) of this page."""
        return self.raw.parsed

    def is_last(self) -> bool:
        """Whether the stop rules say no page follows this one.

        ``has_more`` decides when the server sends it (an empty page still ends the walk);
        otherwise ``offset + len(items) >= total``, or a short page.
        """
        if not self.items or self.has_more is False:
            return True
        if self.has_more is True:
            return False
        if self.total is not None and self.offset + len(self.items) >= self.total:
            return True
        return len(self.items) < self.limit


def _field(obj: Any, name: str) -> Any:
    value = getattr(obj, name, None)
    if isinstance(value, Unset):
        return None
    if value is None and hasattr(obj, "additional_properties"):
        value = obj.additional_properties.get(name)
    return value


def _page_from(raw: RawResponse[Any], offset: int, limit: int, page_kind: str) -> Page[Any, Any]:
    parsed = raw.parsed
    if page_kind == "list" or isinstance(parsed, list):
        items = list(parsed or [])
        return Page(items=items, offset=offset, limit=limit, total=None, has_more=None, raw=raw)
    items = list(_field(parsed, "data") or [])
    total = _field(parsed, "total")
    has_more = _field(parsed, "has_more")
    if has_more is None:
        nested = _field(parsed, "pagination")
        if nested is not None:
            has_more = (
                nested.get("has_more") if isinstance(nested, dict) else _field(nested, "has_more")
            )
    return Page(
        items=items,
        offset=offset,
        limit=limit,
        total=int(total) if isinstance(total, int) and not isinstance(total, bool) else None,
        has_more=bool(has_more) if isinstance(has_more, bool) else None,
        raw=raw,
    )


class _Slot(Generic[T, P]):
    """One prefetched page: its offset, then its page or the error that fetching it raised."""

    __slots__ = ("error", "offset", "page", "scope", "task")

    def __init__(self, offset: int) -> None:
        self.offset = offset
        self.scope = anyio.CancelScope()
        self.task: Detached | None = None
        self.page: Page[T, P] | None = None
        self.error: Exception | None = None

    async def wait(self) -> None:
        """Until the request has answered, failed or been cancelled."""
        if self.task is not None:
            await self.task.wait()


class _PrefetchWindow(Generic[T, P]):
    """Page requests ahead of the reader: ``depth`` in flight, handed out in offset order.

    A new request starts as soon as one answers, not when the reader takes a page, so a slow
    page at the head does not idle the other ``depth - 1`` connections; pages that answered
    early wait in order, at most ``2 * depth`` pages ahead of the reader (in flight or held).
    Requests run in detached tasks (``_background.py`` says why not a task group); :meth:`aclose`
    cancels and awaits all of them, and the paginator calls it however its iteration ends.
    """

    def __init__(self, get: Callable[[int], Awaitable[Page[T, P]]], depth: int) -> None:
        self._get = get
        self._depth = depth
        self._ahead = 2 * depth
        self._slots: deque[_Slot[T, P]] = deque()
        self._offsets: Iterator[int] = iter(())
        self._in_flight = 0

    async def fill(self, following: int, offsets: Iterator[int]) -> None:
        """Keep requesting the pages of ``offsets``, which starts at ``following``.

        The offsets already being walked are kept when they start at ``following``; otherwise
        (the first call, or a page came back shorter than its limit without being the last, so
        the offsets planned after it are wrong) what is in flight is dropped and the walk starts
        over from ``following``.
        """
        if not self._slots or self._slots[0].offset != following:
            await self.aclose()
            self._offsets = offsets
        self._pump()

    async def take(self, offset: int) -> Page[T, P]:
        """The page at ``offset`` (requested by :meth:`fill`), once it has arrived."""
        if not self._slots or self._slots[0].offset != offset:
            await self.aclose()
            return await self._get(offset)
        slot = self._slots[0]
        await slot.wait()  # still listed meanwhile, so aclose() stops it if the reader is cancelled
        self._slots.popleft()
        self._pump()
        if slot.error is not None:
            raise slot.error
        if slot.page is None:
            raise RuntimeError("a prefetched page request was cancelled before it answered")
        return slot.page

    def _pump(self) -> None:
        while self._in_flight < self._depth and len(self._slots) < self._ahead:
            offset = next(self._offsets, None)
            if offset is None:
                return
            self._start(offset)

    def _start(self, offset: int) -> None:
        slot: _Slot[T, P] = _Slot(offset)
        self._slots.append(slot)
        self._in_flight += 1

        async def fetch() -> None:
            try:
                with slot.scope:
                    slot.page = await self._get(offset)
            except Exception as exc:  # handed to the reader when it reaches this page
                slot.error = exc
            finally:
                self._in_flight -= 1
            if slot.page is not None:  # not after a failure: the reader will stop there
                self._pump()

        slot.task = start_detached(fetch)

    async def aclose(self) -> None:
        """Cancel the requests still in flight and wait until each has stopped."""
        slots, self._slots = self._slots, deque()
        self._offsets = iter(())
        for slot in slots:
            slot.scope.cancel()
        with anyio.CancelScope(shield=True):
            for slot in slots:
                await slot.wait()
        # a task cancelled before it ever ran (event loop shutdown) did not count itself out
        self._in_flight = 0


class AsyncPaginator(Generic[T, P]):
    """Lazily pages through a list/search operation (see the module docstring).

    Args:
        fetch: ``fetch(offset, limit)`` sends one page request.
        checkpoint: the call's identity and starting offset (``page_size`` is the limit).
        page_kind: ``"envelope"`` (``{data, total, has_more}``) or ``"list"`` (a bare array).
        concurrency: pages fetched at once after the first (1 = sequential).
        window: the deepest row the server can page to (``offset + limit`` never exceeds it).
    """

    def __init__(
        self,
        fetch: PageFetcher[P],
        *,
        checkpoint: Checkpoint,
        page_kind: str = "envelope",
        concurrency: int = 1,
        window: int = SEARCH_WINDOW,
    ) -> None:
        if not 1 <= checkpoint.page_size <= MAX_PAGE_SIZE:
            raise ArgumentError(
                f"page_size must be between 1 and {MAX_PAGE_SIZE} (the API maximum), got {checkpoint.page_size}"
            )
        if checkpoint.offset < 0:
            raise ArgumentError(f"start_offset cannot be negative, got {checkpoint.offset}")
        if concurrency < 1:
            raise ArgumentError(f"concurrency must be at least 1, got {concurrency}")
        self._fetch = fetch
        self._start = checkpoint
        self._next_offset = checkpoint.offset  # progress of the walk started last
        self._walks = 0  # walks started so far; only the latest one moves the checkpoint
        self._page_kind = page_kind
        self._concurrency = concurrency
        self._window = window

    def __repr__(self) -> str:
        cp = self._start
        return (
            f"<AsyncPaginator {cp.resource}.{cp.method} offset={self._next_offset} "
            f"page_size={cp.page_size} concurrency={self._concurrency}>"
        )

    def checkpoint(self) -> Checkpoint:
        """A resume point: the call's arguments and the offset of the first page not fully read.

        It follows the walk started last (``async for``, ``pages()``, ``to_list()``); before any
        walk, and when a new walk starts, it is the first page's offset.
        """
        return replace(self._start, offset=self._next_offset)

    def _limit_at(self, offset: int) -> int:
        if offset >= self._window:
            raise PaginationWindowError(
                offset=offset, limit=self._start.page_size, window=self._window
            )
        return min(self._start.page_size, self._window - offset)

    async def _get(self, offset: int) -> Page[T, P]:
        limit = self._limit_at(offset)
        raw = await self._fetch(offset, limit)
        return _page_from(raw, offset, limit, self._page_kind)

    async def pages(self) -> AsyncGenerator[Page[T, P], None]:
        """Iterate pages in order from the first page; every call starts a fresh walk."""
        self._walks += 1
        walk = self._walks
        self._next_offset = self._start.offset
        window = _PrefetchWindow(self._get, self._concurrency) if self._concurrency > 1 else None
        try:
            page = await self._get(self._start.offset)
            while True:
                following = page.offset + len(page.items)
                fetch_next = self._get
                if window is not None and page.total is not None and not page.is_last():
                    # request the next pages now, so they arrive while the reader works on this one
                    await window.fill(following, self._offsets(following, page.total))
                    fetch_next = window.take
                yield page
                if walk == self._walks:
                    self._next_offset = following
                if page.is_last():
                    return
                if following >= self._window:
                    # more rows exist, but the server cannot page past the window
                    raise PaginationWindowError(
                        offset=following, limit=self._start.page_size, window=self._window
                    )
                page = await fetch_next(following)
        finally:
            if window is not None:
                await window.aclose()

    def _offsets(self, offset: int, total: int) -> Iterator[int]:
        """Start offsets of the pages from ``offset`` up to ``total`` rows, within the window."""
        while offset < total and offset < self._window:
            yield offset
            offset += min(self._start.page_size, self._window - offset)

    async def _items(self) -> AsyncGenerator[T, None]:
        async with aclosing(self.pages()) as pages:
            async for page in pages:
                for item in page.items:
                    yield item

    def __aiter__(self) -> AsyncIterator[T]:
        return self._items()

    def __await__(self) -> Generator[Any, None, Page[T, P]]:
        """The first page (one request; it does not move the checkpoint)."""
        return self._get(self._start.offset).__await__()

    async def to_list(self, *, max_items: int | None = None) -> list[T]:
        """Collect items into a list (all of them, or the first ``max_items``)."""
        out: list[T] = []
        async with aclosing(self._items()) as items:
            async for item in items:
                out.append(item)
                if max_items is not None and len(out) >= max_items:
                    break
        return out
