"""Detached tasks (``_background.py``): run in the caller's context, awaitable however they end."""

from __future__ import annotations

import asyncio
import contextvars

import anyio
import pytest

from getsales_async._background import _RUNNING, start_detached

pytestmark = pytest.mark.anyio

REQUEST_ID: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="unset")


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


class TestStartDetached:
    async def test_task_runs_with_the_callers_context_and_wait_returns_after_it(self) -> None:
        """The task sees the caller's context variables; wait() returns once it has finished."""
        seen: list[str] = []
        gate = anyio.Event()

        async def work() -> None:
            await gate.wait()
            seen.append(REQUEST_ID.get())

        REQUEST_ID.set("r-1")
        task = start_detached(work)
        await anyio.lowlevel.checkpoint()
        assert seen == []  # running in the background, blocked on the gate
        gate.set()
        await task.wait()
        assert seen == ["r-1"]

    async def test_task_outlives_the_scope_that_started_it(self) -> None:
        """Leaving the starter's cancel scope does not cancel the task."""
        finished = anyio.Event()

        async def work() -> None:
            await anyio.sleep(0)
            finished.set()

        with anyio.CancelScope() as scope:
            task = start_detached(work)
            scope.cancel()
        await task.wait()
        assert finished.is_set()

    async def test_cancel_scope_entered_in_the_task_cancels_it(self) -> None:
        """The owner cancels a task through a CancelScope the task entered; wait() then returns."""
        scope = anyio.CancelScope()
        outcome: list[str] = []

        async def work() -> None:
            with scope:
                await anyio.sleep_forever()
            outcome.append("cancelled")

        task = start_detached(work)
        await anyio.lowlevel.checkpoint()
        scope.cancel()
        await task.wait()
        assert outcome == ["cancelled"]


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_asyncio_task_cancelled_before_it_ran_still_ends_the_wait(anyio_backend: str) -> None:
    """asyncio.run cancels every task at shutdown, some before they start: wait() must not hang."""
    ran: list[bool] = []

    async def work() -> None:
        ran.append(True)

    before = set(_RUNNING)
    handle = start_detached(work)
    (task,) = _RUNNING - before
    task.cancel()  # before the loop ever ran it: its body, and any finally in it, never runs
    with anyio.fail_after(5):
        await handle.wait()
    assert ran == [] and task.cancelled()
    assert isinstance(task, asyncio.Task)
