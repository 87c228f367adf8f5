"""Serve a ``GetSalesEmulator`` over loopback HTTP in its own process, for the benchmarks.

``python -m tests.benchmarks._emulator_process --api-key KEY:1 --quota 1200 --log requests.json``
prints the URL alone on the first line of stdout, serves until its stdin is closed (so it also stops
when the parent dies), then writes the request log (``[[time, status], ...]``, ``time`` on
``time.monotonic()``, which all processes of the machine share) to ``--log``.

Why not ``GetSalesEmulator.serve()``: it binds with ``socket.create_server()``, whose accepted
sockets have ``proto == 0``, so asyncio does not set ``TCP_NODELAY`` on them; every answer (headers
and body written separately) then waits for the client's delayed ACK, about 40 ms per request on
loopback. This module runs the very uvicorn server ``serve()`` builds, on a socket created with
``IPPROTO_TCP``, which asyncio does set ``TCP_NODELAY`` on, so the figures measure the SDK and not
that stall.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import sys
import threading
from collections.abc import Sequence
from importlib import import_module
from pathlib import Path
from typing import Any

__all__ = ["main"]

LISTEN_BACKLOG = 512
TICK_S = 0.1  # how often the served emulator runs its due background work


def _key(text: str) -> tuple[str, int]:
    key, _, team = text.rpartition(":")
    if not key or not team.isdigit():
        raise argparse.ArgumentTypeError(f"expected KEY:TEAM_ID, got {text!r}")
    return key, int(team)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks._emulator_process")
    parser.add_argument("--api-key", type=_key, action="append", required=True)
    parser.add_argument("--quota", type=int, default=None, help="requests per period; omit: none")
    parser.add_argument("--period", type=float, default=60.0, help="quota period in seconds")
    parser.add_argument("--burst", type=int, default=10, help="GCRA burst of the quota")
    parser.add_argument("--log", type=Path, default=None, help="write the request log here")
    parser.add_argument(
        "--rows-per-second",
        type=float,
        default=None,
        help="background rate of file imports and queued mass actions (BulkConfig)",
    )
    return parser


async def _serve_with_background(server: Any, sock: socket.socket, emulator: Any) -> None:
    """Serve, and run the emulator's due background work every :data:`TICK_S` meanwhile.

    In-process, the emulator brings its background work (file imports, queued mass actions) up
    to date when a request arrives, so a poll sees exactly the finished batches. Served for a
    benchmark, that would also put all the processing CPU inside the next poll; a server's workers
    run while nobody asks, so here a ticker does it as time passes.
    """

    async def tick() -> None:
        while True:
            emulator.state.background.run_due()
            await asyncio.sleep(TICK_S)

    ticker = asyncio.create_task(tick())
    try:
        await server.serve(sockets=[sock])
    finally:
        ticker.cancel()


def main(argv: Sequence[str] | None = None) -> int:
    """Serve until stdin closes; see the module docstring."""
    from getsales_async import RateLimit
    from getsales_async.testing import BulkConfig, GetSalesEmulator
    from getsales_async.testing.emulator._server import _server

    args = _parser().parse_args(argv)
    quota = (
        None
        if args.quota is None
        else RateLimit.for_quota(args.quota, args.period, burst=min(args.burst, args.quota))
    )
    bulk = (
        None if args.rows_per_second is None else BulkConfig(rows_per_second=args.rows_per_second)
    )
    emulator = GetSalesEmulator(api_keys=dict(args.api_key), quota=quota, bulk=bulk)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(LISTEN_BACKLOG)
    server = _server(emulator.app)  # serve()'s uvicorn configuration, on our socket
    import_module("getsales_async.testing.emulator._web")  # ready before the first request

    def stop_when_stdin_closes() -> None:
        sys.stdin.read()
        server.should_exit = True

    threading.Thread(target=stop_when_stdin_closes, daemon=True).start()
    print(f"http://127.0.0.1:{sock.getsockname()[1]}", flush=True)
    asyncio.run(_serve_with_background(server, sock, emulator))
    sock.close()
    if args.log is not None:
        log = [[r.time, r.status] for r in emulator.requests]
        args.log.write_text(json.dumps(log), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
