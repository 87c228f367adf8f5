"""A throwaway ``redis-server`` on a free loopback port, and the worker of the multi-process test.

``running_redis(directory)`` starts ``redis-server`` without persistence in ``directory`` and stops
it on exit; :class:`RedisServer` can also be stopped and started again on the same port (to test a
Redis restart). When ``redis-server`` is not installed the calling test is skipped with the command
that installs it.

``python -m tests.redis_server worker URL KEY START COUNT TASKS REQUESTS PERIOD BURST [WORKERS
[ON_UNAVAILABLE]]`` runs one worker process of the multi-process tests: from wall time ``START``,
``TASKS`` tasks acquire a shared :class:`~getsales_async._redis_limiter.RedisRateLimiter` until
``COUNT`` admissions in all (a count, not a duration, so a slow machine only makes it take longer),
then the worker prints one JSON list of ``[slot, returned_at]`` pairs (seconds since the epoch) and
exits. ``WORKERS`` (default 1) and ``ON_UNAVAILABLE`` (default ``fail``) go to ``RedisRateLimit``.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest

INSTALL_HINT = (
    "redis-server is not installed; install it with `apt-get install redis-server` "
    "(CI: apt-get update -qq && apt-get install -y -qq redis-server)"
)
START_TIMEOUT_S = 10.0  # how long a starting server may take to answer PING
STOP_TIMEOUT_S = 10.0  # how long a stopping server may take to exit


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def ping(port: int, timeout: float = 0.5) -> bool:
    """Whether a Redis server answers PING on 127.0.0.1:``port``."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


class RedisServer:
    """One ``redis-server`` process on 127.0.0.1, without persistence, restartable on its port."""

    def __init__(self, executable: str, directory: Path, port: int) -> None:
        self.executable = executable
        self.directory = directory
        self.port = port
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The redis:// URL of database 0."""
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Start the server and wait until it answers PING."""
        if self._process is not None:
            raise RuntimeError("redis-server is already running")
        # fmt: off
        command = [
            self.executable,
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            "--save", "",
            "--appendonly", "no",
            "--dir", str(self.directory),
            "--daemonize", "no",
            "--loglevel", "warning",
        ]
        # fmt: on
        self._process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + START_TIMEOUT_S
        while not ping(self.port):
            if self._process.poll() is not None:
                self._process = None
                raise RuntimeError(f"redis-server exited at start (port {self.port} taken?)")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"redis-server did not answer PING within {START_TIMEOUT_S} s")
            time.sleep(0.01)

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL) and wait until it has exited."""
        process, self._process = self._process, None
        if process is None:
            return
        process.terminate()
        try:
            process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=STOP_TIMEOUT_S)


@contextlib.contextmanager
def running_redis(directory: Path) -> Iterator[RedisServer]:
    """A started :class:`RedisServer` in ``directory``, stopped on exit; skips without one."""
    executable = shutil.which("redis-server")
    if executable is None:
        pytest.skip(INSTALL_HINT)
    server = RedisServer(executable, directory, free_port())
    server.start()
    try:
        yield server
    finally:
        server.stop()


async def _worker(
    url: str, key: str, start: float, count: int, tasks: int, config: object
) -> list[tuple[float, float]]:
    from getsales_async._redis_limiter import RedisRateLimit

    assert isinstance(config, RedisRateLimit)
    limiter = config.build(key)
    admissions: list[tuple[float, float]] = []
    claimed = 0

    async def run() -> None:
        nonlocal claimed
        while claimed < count:
            claimed += 1
            slot = await limiter.acquire_slot()
            admissions.append((slot, time.time()))

    await anyio.sleep(max(0.0, start - time.time()))
    async with anyio.create_task_group() as tg:
        for _ in range(tasks):
            tg.start_soon(run)
    await limiter.aclose()
    return admissions


def main(argv: list[str]) -> None:
    """Entry point of ``python -m tests.redis_server worker ...`` (see the module docstring)."""
    from getsales_async._limiter import RateLimit
    from getsales_async._redis_limiter import RedisRateLimit

    command, url, key, start, count, tasks, requests, period, burst, *rest = argv
    if command != "worker":
        raise SystemExit(f"unknown command {command!r}; expected 'worker'")
    workers = rest[0] if rest else "1"
    on_unavailable = rest[1] if len(rest) > 1 else "fail"
    assert on_unavailable in ("local", "fail")
    config = RedisRateLimit(
        url=url,
        rate=RateLimit(requests=int(requests), period=float(period), burst=int(burst)),
        on_unavailable=on_unavailable,
        workers=int(workers),
    )
    admissions = anyio.run(
        _worker, url, key, float(start), int(count), int(tasks), config, backend="asyncio"
    )
    json.dump(admissions, sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1:])
