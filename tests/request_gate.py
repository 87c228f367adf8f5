"""An ASGI wrapper that holds the requests to one path at a limit, so a test can stop a CLI run
mid-job.

Interrupt tests used to race the CLI: poll its checkpoint until N rows were recorded, then send a
signal, and hope the run had not finished meanwhile (on a loaded machine it sometimes had). With
the gate the run cannot finish: each run may pass ``limit`` requests to the gated path (contact
upserts for an import, searches for an export), the rest wait at the server
until the test starts the next run, so "mid-job" is a state the test waits for, not a moment.
Requests held from an earlier run (a killed client's) are answered 503 when the next run starts,
with no effect on the emulator's state.
"""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import anyio.to_thread

__all__ = ["SEARCH_PATH", "UPSERT_PATH", "RequestGate"]

UPSERT_PATH = "/leads/api/leads/upsert"
SEARCH_PATH = "/leads/api/leads/search"

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


class RequestGate:
    """Wraps an ASGI app; requests to ``path`` beyond the current run's ``limit`` wait (see the
    module)."""

    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]], path: str) -> None:
        self._app = app
        self._path = path
        self._state = threading.Condition()
        self._run = 0
        self._limit: int | None = None  # None: no limit
        self._passed = 0

    def start_run(self, limit: int | None) -> None:
        """Begin a run that may pass ``limit`` requests (``None``: all); earlier waiters get 503."""
        with self._state:
            self._run += 1
            self._limit, self._passed = limit, 0
            self._state.notify_all()

    def _admit(self, run: int) -> bool:
        """Block until this request may pass (True) or its run is over (False)."""
        with self._state:
            while run == self._run and self._limit is not None and self._passed >= self._limit:
                self._state.wait()
            if run != self._run:
                return False
            self._passed += 1
            return True

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == self._path:
            with self._state:
                run = self._run
            if not await anyio.to_thread.run_sync(self._admit, run, abandon_on_cancel=True):
                await send({"type": "http.response.start", "status": 503, "headers": []})
                await send({"type": "http.response.body", "body": b""})
                return
        await self._app(scope, receive, send)
