"""Serving the emulator over HTTP with uvicorn: in a task or in a thread.

- :func:`serve` runs on the current asyncio loop until cancelled and reports the URL through
  ``task_status`` (``url = await task_group.start(serve, app)``).
- :func:`serve_in_thread` runs a server in a background thread with its own loop: usable from any
  test, asyncio or trio.

The socket is bound before the server starts, so port 0 gives a free port whose URL is known at
once (and connections made before uvicorn is up wait in the listen queue).

A dropped connection (an injected fault) reaches uvicorn as :class:`ConnectionDropped`; the
wrapper here closes the socket without writing a byte, so the client sees
``httpx.RemoteProtocolError`` ("Server disconnected without sending a response").
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING

import anyio
import anyio.abc

from ._errors import ConnectionDropped

if TYPE_CHECKING:
    import uvicorn
    from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["serve", "serve_in_thread"]

SHUTDOWN_TIMEOUT_S = 10.0
_DISCONNECT_WAIT_S = 5.0


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.create_server((host, port), family=family)
    # Accepted connections inherit this on Linux: without it every small answer waits for the
    # peer's delayed ACK (about 40 ms on loopback), as asyncio does not set it on these sockets.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def _url(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def _server(app: ASGIApp) -> uvicorn.Server:
    try:
        import uvicorn
    except ImportError as exc:  # pragma: no cover - depends on the installed extras
        message = "serving the emulator needs uvicorn: pip install 'getsales-async[emulator]'"
        raise RuntimeError(message) from exc
    config = uvicorn.Config(
        _dropping(app),
        lifespan="off",
        log_config=None,
        log_level="warning",
        access_log=False,
        proxy_headers=False,
        interface="asgi3",
        http="h11",
        ws="none",
        timeout_graceful_shutdown=1,
        date_header=False,  # the app sends Date on its own clock, in step with its timestamps
        server_header=False,
    )
    return uvicorn.Server(config)


def _dropping(app: ASGIApp) -> ASGIApp:
    """Turn :class:`ConnectionDropped` into a socket closed without an answer."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await app(scope, receive, send)
        except ConnectionDropped:
            await _close_connection(receive, send)

    return wrapped


async def _close_connection(receive: Receive, send: Send) -> None:
    # ASGI has no "abort": reach uvicorn's transport through its `send` (a bound method of the
    # request cycle). Failing that, do what the ASGI spec offers: start a response and raise,
    # after which the server closes the connection mid-answer.
    transport = getattr(getattr(send, "__self__", None), "transport", None)
    if transport is None or not callable(getattr(transport, "close", None)):
        await send({"type": "http.response.start", "status": 502, "headers": []})
        raise ConnectionDropped
    transport.close()
    with anyio.move_on_after(_DISCONNECT_WAIT_S):  # until uvicorn notices, so it sends no 500
        while (await receive())["type"] != "http.disconnect":
            pass


def _require_asyncio() -> None:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        message = (
            "GetSalesEmulator.serve() needs an asyncio event loop (uvicorn runs on asyncio); "
            "on trio, use emulator.serve_in_thread()"
        )
        raise RuntimeError(message) from None


async def serve(
    app: ASGIApp,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    task_status: anyio.abc.TaskStatus[str] = anyio.TASK_STATUS_IGNORED,
) -> None:
    """Serve ``app`` with uvicorn on the running asyncio loop until cancelled; reports the URL."""
    _require_asyncio()
    sock = _bind(host, port)
    server = _server(app)
    stopped = anyio.Event()

    async def run() -> None:
        try:
            with anyio.CancelScope(shield=True):  # always shut down gracefully
                await server.serve(sockets=[sock])
        finally:
            stopped.set()

    try:
        async with anyio.create_task_group() as tg:
            tg.start_soon(run)
            try:
                task_status.started(_url(sock))
                await stopped.wait()
            finally:
                server.should_exit = True
    finally:
        sock.close()


@contextlib.contextmanager
def serve_in_thread(
    app: ASGIApp, host: str = "127.0.0.1", port: int = 0, *, timeout: float = SHUTDOWN_TIMEOUT_S
) -> Iterator[str]:
    """Serve ``app`` from a background thread with its own asyncio loop; yields the URL."""
    sock = _bind(host, port)
    server = _server(app)
    failures: list[BaseException] = []

    def run() -> None:
        try:
            asyncio.run(server.serve(sockets=[sock]))
        except BaseException as exc:  # reported to the caller on exit
            failures.append(exc)

    thread = threading.Thread(target=run, name="getsales-emulator", daemon=True)
    thread.start()
    try:
        yield _url(sock)
    finally:
        server.should_exit = True
        thread.join(timeout)
        sock.close()
    if thread.is_alive():
        message = f"the emulator server did not stop within {timeout} s"
        raise RuntimeError(message)
    if failures:
        raise failures[0]
