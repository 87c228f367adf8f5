"""What every ``getsales`` command shares: exit codes, global options, the client, one-line errors.

Commands live one group per module (``_import.py``, ``_export.py``, ``_misc.py``); each has a
``register(subparsers)`` that adds its parser and sets ``run`` (an ``async def run(args) -> int``,
or a plain function with ``sync=True``). Adding a command is a new module and one line in
``_main.py``; adding an option is a line in the command's ``register``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import sys
from collections.abc import Callable
from enum import IntEnum
from typing import Any, NoReturn, TextIO
from urllib.parse import urlsplit

from .._client import AsyncGetSales
from .._config import DEFAULT_BASE_URL, ENV_BASE_URL
from .._errors import (
    APIConnectionError,
    AuthenticationError,
    GetSalesError,
    NotFoundError,
    PaymentRequiredError,
    PermissionDeniedError,
)
from .._import_types import ImportProgress
from .._limiter import RateLimit
from .._resource import RequestOptions

__all__ = [
    "ENV_REDIS_URL",
    "EXIT_CODES_HELP",
    "PREFLIGHT",
    "UUID_RE",
    "CliParser",
    "ExitCode",
    "ProgressBar",
    "UsageError",
    "add_global_options",
    "base_url_of",
    "describe_error",
    "exit_code_of",
    "find_list",
    "make_client",
    "note",
    "parse_filter",
    "positive_int",
    "positive_seconds",
    "print_result",
    "setup_logging",
]

ENV_REDIS_URL = "GETSALES_REDIS_URL"
UUID_RE = re.compile(
    r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
)
PREFLIGHT = RequestOptions(max_retries=1)  # checks before a job fail fast instead of backing off
PLAIN_PROGRESS_EVERY_S = 5.0


class ExitCode(IntEnum):
    """The exit status of every ``getsales`` command."""

    OK = 0  # every row succeeded (or the command did what it was asked)
    ROWS_FAILED = 1  # the job ran, some rows failed (counts printed, failed CSV written)
    USAGE = 2  # usage or validation error; nothing was written
    ABORTED = 3  # authentication, permission or payment error, or the API stopped answering
    INTERRUPTED = 130  # Ctrl-C / SIGINT


EXIT_CODES_HELP = """\
exit codes:
  0    every row succeeded (or the command did what it was asked)
  1    the job ran and some rows failed: counts printed, failed rows in the failed CSV
       (import-leads --strategy file: rows left out as malformed, or not seen joining the
       list; tag/untag/move/delete: a later request was refused; also an unexpected error)
  2    usage or validation error, found before anything was written (a bad option, file,
       mapping, list, custom field or checkpoint; the API could not be reached for the checks)
  3    aborted by an authentication, permission or payment error (a wrong key), or the API
       stopped answering mid-job (a per-row import: rerun with --resume once fixed)
  130  interrupted (Ctrl-C); a per-row import continues with --resume
  With --json the same code is in the printed object's "exit_code"."""


class UsageError(Exception):
    """A mistake of the user's, reported as one line with exit code 2 (nothing was written)."""


class CliParser(argparse.ArgumentParser):
    """An argument parser whose errors are one line (exit code 2) instead of usage + message."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see `{self.prog} --help`)")


def positive_int(text: str) -> int:
    """An argparse type: an integer of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


MAX_SECONDS = 7 * 24 * 3600.0  # the longest wait an option accepts (a week)


def positive_seconds(text: str) -> float:
    """An argparse type: a number of seconds above 0, at most a week."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not 0 < value <= MAX_SECONDS:  # also refuses nan
        raise argparse.ArgumentTypeError(
            f"must be above 0 and at most {MAX_SECONDS:.0f} seconds, got {text}"
        )
    return value


def add_global_options(parser: argparse.ArgumentParser, *, after_command: bool) -> None:
    """The options every command takes, before or after the command name.

    After the command they default to ``SUPPRESS``, so a value given before it is kept.
    """

    def default(value: Any) -> Any:
        return argparse.SUPPRESS if after_command else value

    group = parser.add_argument_group("global options (before or after the command)")
    group.add_argument(
        "--base-url",
        default=default(None),
        help=f"API root (default ${ENV_BASE_URL}, else {DEFAULT_BASE_URL})",
    )
    group.add_argument(
        "--rate-limit",
        type=positive_int,
        default=default(300),
        metavar="N",
        help="the key's quota in requests per minute (default 300, production's); the CLI paces itself 1%% under it",
    )
    group.add_argument(
        "--json",
        action="store_true",
        default=default(False),
        help="print the result (or the error) as one JSON object",
    )
    group.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=default(0),
        help="log each retry and its reason to stderr (-vv: every HTTP request too)",
    )
    group.add_argument(
        "--debug",
        action="store_true",
        default=default(False),
        help="show the traceback of an error",
    )


def _nothing() -> None:
    return None


def setup_logging(verbosity: int) -> Callable[[], None]:
    """Log the SDK's retry decisions (``-v``) and httpx's requests (``-vv``) to stderr.

    Returns the function that undoes it (``main`` calls it when the command ends, so a program
    that runs several commands in-process does not keep handlers on a stream it has closed).
    """
    if verbosity <= 0:
        return _nothing
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s: %(message)s", "%H:%M:%S"))
    changed: list[tuple[logging.Logger, int]] = []
    for name, level in (("getsales_async", logging.DEBUG), ("httpx", logging.INFO)):
        if name == "httpx" and verbosity < 2:
            continue
        log = logging.getLogger(name)
        changed.append((log, log.level))
        log.addHandler(handler)
        log.setLevel(level)

    def undo() -> None:
        for log, level in changed:
            log.removeHandler(handler)
            log.setLevel(level)

    return undo


def base_url_of(args: argparse.Namespace) -> str:
    """The API root the command talks to."""
    return str(args.base_url or os.environ.get(ENV_BASE_URL) or DEFAULT_BASE_URL)


def make_client(args: argparse.Namespace) -> AsyncGetSales:
    """The client for a command: key from the environment, pacing from ``--rate-limit``."""
    # the pacing of AsyncGetSales(requests_per_minute=N): 1 % under the key's quota
    rate = RateLimit.under_quota(args.rate_limit, 60.0)
    redis_url = os.environ.get(ENV_REDIS_URL)
    if redis_url:
        from .._redis_limiter import RedisRateLimit

        return AsyncGetSales(
            base_url=base_url_of(args), rate_limit=RedisRateLimit(url=redis_url, rate=rate)
        )
    return AsyncGetSales(base_url=base_url_of(args), rate_limit=rate)


async def find_list(client: AsyncGetSales, ref: str) -> tuple[str, str] | None:
    """``(uuid, name)`` of the list named ``ref`` (or with that UUID), or ``None`` (reads only)."""
    if UUID_RE.match(ref):
        try:
            found = await client.lists.get(ref, request_options=PREFLIGHT)
        except NotFoundError:
            return None
        return str(found.uuid), str(found.name)
    async for lst in client.lists.list(request_options=PREFLIGHT):
        if lst.name == ref:
            return str(lst.uuid), ref
    return None


def _host(base_url: str) -> str:
    parts = urlsplit(base_url)
    return f"{parts.scheme}://{parts.netloc}" if parts.netloc else base_url


def describe_error(exc: BaseException, base_url: str) -> str:
    """One line that says what went wrong and what to do (never the API key)."""
    if isinstance(exc, APIConnectionError):
        return f"cannot reach {_host(base_url)}: {exc}; check --base-url / {ENV_BASE_URL} and the network"
    if isinstance(exc, AuthenticationError):
        return f"{_host(base_url)} refused the API key ({exc}); check GETSALES_API_KEY"
    if isinstance(exc, PermissionDeniedError):
        return f"access denied ({exc}); check the key's team (GETSALES_TEAM_ID) and permissions"
    if isinstance(exc, PaymentRequiredError):
        return f"payment required ({exc}); check the workspace's plan and credits"
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if isinstance(exc, GetSalesError) else f"{type(exc).__name__}: {text}"


def exit_code_of(exc: BaseException) -> ExitCode:
    """The exit code of an error that ended a command before its job ran."""
    if isinstance(exc, (AuthenticationError, PermissionDeniedError, PaymentRequiredError)):
        return ExitCode.ABORTED
    return ExitCode.USAGE


def parse_filter(text: str | None, option: str = "--filter") -> dict[str, Any]:
    """A search filter given as a JSON object on the command line (``{}`` when not given)."""
    if not text:
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(
            f'{option} is not JSON ({exc.msg} at character {exc.pos}); write it like \'{{"q": "cto"}}\''
        ) from None
    if not isinstance(value, dict):
        raise UsageError(f'{option} must be a JSON object, like \'{{"q": "cto"}}\'')
    return value


def note(text: str) -> None:
    """A line for the person at the terminal (stderr, so stdout stays the result)."""
    print(text, file=sys.stderr, flush=True)


def print_result(args: argparse.Namespace, report: dict[str, Any], text: str) -> None:
    """The command's result on stdout: ``text``, or ``report`` as JSON with ``--json``."""
    print(json.dumps(report) if args.json else text, flush=True)


class ProgressBar:
    """A one-line progress bar on a terminal; a plain line every few seconds otherwise."""

    def __init__(self, stream: TextIO, total: int | None) -> None:
        self.stream = stream
        self.total = total
        self.tty = stream.isatty()
        self._last_plain: float | None = None

    def __call__(self, p: ImportProgress) -> None:
        done = p.done + p.resumed
        eta = f"{p.eta_s:5.0f}s" if p.eta_s is not None else "    ?"
        counts = f"{done}/{self.total if self.total is not None else '?'} ok={p.created + p.updated + p.skipped + p.resumed} failed={p.failed}"
        tail = f"{p.rate_per_s:6.1f} rows/s  in-flight {p.in_flight:3d}  retries {p.retries}  429s {p.rate_limited}  ETA {eta}"
        if self.tty:
            width = 24
            frac = min(done / self.total, 1.0) if self.total else 0.0
            bar = "#" * int(frac * width) + "-" * (width - int(frac * width))
            self.stream.write(f"\r[{bar}] {counts}  {tail}")
            if p.finished:
                self.stream.write("\n")
        elif (
            p.finished
            or self._last_plain is None
            or p.elapsed_s - self._last_plain >= PLAIN_PROGRESS_EVERY_S
        ):
            self._last_plain = p.elapsed_s
            self.stream.write(f"progress: {counts}  {tail}\n")
        self.stream.flush()
