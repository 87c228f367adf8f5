"""Detached tasks for the paginator's prefetch window, on asyncio and trio.

A sliding prefetch window keeps requests in flight while the caller works on the page it was just
handed, so those requests must run in tasks that outlive the ``yield`` of the paginator's async
generator. A task group cannot do that: anyio (like trio) forbids yielding from inside a task
group in an async generator, because the generator may be resumed, cancelled or closed from
another task and the cancel-scope stack breaks. anyio has no "spawn a detached task" call, so this
module is the one place that starts one, per backend:

- asyncio: ``loop.create_task`` (a strong reference is kept until the task ends);
- trio: ``trio.lowlevel.spawn_system_task`` with a copy of the caller's context variables.

The contract that makes this safe is the caller's: the function passed in must catch its own
exceptions (it stores them for the consumer) and run inside an ``anyio.CancelScope`` the owner can
cancel; the owner cancels and then awaits every task it started (:meth:`Detached.wait`) when it is
done with them. ``wait`` returns once the task has ended however it ended, even when asyncio
cancelled it before it ever ran (``asyncio.run`` does that to every task at shutdown).
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:  # asyncio costs ~15 ms to import; it is imported when a task is started
    import asyncio

    import trio

__all__ = ["Detached", "start_detached"]

# asyncio keeps only weak references to tasks: hold each one until it finishes.
_RUNNING: set[asyncio.Task[None]] = set()


class Detached(Protocol):
    """A task started by :func:`start_detached`."""

    async def wait(self) -> None:
        """Return once the task has ended (normally, by an exception, or cancelled)."""
        ...


class _AsyncioTask:
    def __init__(self, task: asyncio.Task[None]) -> None:
        self._task = task

    async def wait(self) -> None:
        import asyncio

        if not self._task.done():
            await asyncio.wait({self._task})


class _TrioTask:
    def __init__(self, finished: trio.Event) -> None:
        self.finished = finished

    async def wait(self) -> None:
        await self.finished.wait()


def start_detached(fn: Callable[[], Coroutine[Any, Any, None]]) -> Detached:
    """Run ``fn()`` in a new task of the current event loop, not tied to the caller's scope.

    ``fn`` must not raise (anything it raises is a bug: asyncio logs it, trio aborts the run).
    """
    import asyncio

    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:  # not asyncio, so trio: the other backend anyio runs on
        return _start_trio(fn)
    task = loop.create_task(fn())
    _RUNNING.add(task)
    task.add_done_callback(_RUNNING.discard)
    return _AsyncioTask(task)


def _start_trio(fn: Callable[[], Coroutine[Any, Any, None]]) -> Detached:
    import trio

    handle = _TrioTask(trio.Event())

    async def run() -> None:
        try:
            await fn()
        finally:
            handle.finished.set()

    trio.lowlevel.spawn_system_task(run, context=contextvars.copy_context())
    return handle
