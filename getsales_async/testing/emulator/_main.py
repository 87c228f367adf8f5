"""``python -m getsales_async.testing.emulator``: serve the emulator until SIGTERM or Ctrl-C.

With ``--print-url`` the bound URL is printed alone on the first line of stdout, so a parent
process can start it on ``--port 0`` and read where it listens::

    proc = subprocess.Popen(
        [sys.executable, "-m", "getsales_async.testing.emulator", "--port", "0", "--print-url"],
        stdout=subprocess.PIPE, text=True,
    )
    url = proc.stdout.readline().strip()
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence
from typing import Any

from getsales_async._limiter import RateLimit

from ._app import DEFAULT_API_KEY, GetSalesEmulator
from ._faults import FaultConfig

__all__ = ["banner", "build", "main", "parser"]

QUOTA_BURST = 10  # the burst the quota allows, as the SDK's default limiter uses
_WAKE_S = 1.0  # the main thread wakes this often, so signals are handled promptly everywhere


def _key(text: str) -> tuple[str, int]:
    key, _, team = text.rpartition(":")
    if not key or not team.isdigit() or int(team) < 1:
        message = f"expected KEY:TEAM_ID, e.g. my-key:1, got {text!r}"
        raise argparse.ArgumentTypeError(message)
    return key, int(team)


def _latency_for(text: str) -> tuple[str, float]:
    operation, _, seconds = text.partition("=")
    try:
        value = float(seconds)
    except ValueError:
        value = -1.0
    if not operation or not (0 <= value < float("inf")):
        message = f"expected OPERATION=SECONDS, e.g. searchLeads=0.4, got {text!r}"
        raise argparse.ArgumentTypeError(message)
    return operation, value


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        message = f"expected a positive number of requests per minute, got {text!r}"
        raise argparse.ArgumentTypeError(message)
    return value


def parser() -> argparse.ArgumentParser:
    """The command line's argument parser."""
    parser = argparse.ArgumentParser(
        prog="python -m getsales_async.testing.emulator",
        description="Serve the in-memory GetSales emulator over HTTP until SIGTERM or Ctrl-C.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port (default 0: a free one)")
    parser.add_argument(
        "--print-url", action="store_true", help="print the URL alone on one line of stdout"
    )
    parser.add_argument(
        "--api-key",
        type=_key,
        action="append",
        metavar="KEY:TEAM_ID",
        help="an accepted API key and its team (repeatable; default emulator-key:1)",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of uuids and faults")
    quota = parser.add_mutually_exclusive_group()
    quota.add_argument(
        "--quota",
        type=_positive,
        default=300,
        help="requests per rolling minute per key (default 300, as production)",
    )
    quota.add_argument("--no-quota", action="store_true", help="no per-key quota at all")
    parser.add_argument(
        "--quota-retry-after",
        action="store_true",
        help="send Retry-After with quota 429s (production sends none)",
    )
    parser.add_argument("--error-rate", type=float, default=0.0, help="502/503/504 probability")
    parser.add_argument(
        "--drop-rate", type=float, default=0.0, help="dropped-connection probability"
    )
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to each request")
    parser.add_argument(
        "--latency-for",
        type=_latency_for,
        action="append",
        metavar="OPERATION=SECONDS",
        help="seconds added to one operation (operationId or path pattern; repeatable)",
    )
    parser.add_argument(
        "--fail-after-commit-rate",
        type=float,
        default=0.0,
        help="probability that a write commits and then answers 502",
    )
    return parser


def banner(url: str, api_keys: dict[str, int]) -> str:
    """What the server says when it starts: where it listens, the key it accepts, how to use it.

    The default key is a fixed test credential and is printed; keys given with ``--api-key``
    are the caller's own and are not echoed back.
    """
    lines = [f"GetSales emulator serving on {url} (Ctrl-C to stop)"]
    if api_keys:
        teams = ", ".join(str(team) for team in dict.fromkeys(api_keys.values()))
        lines.append(f"API keys: the {len(api_keys)} given with --api-key (teams {teams})")
        key = "<one of your --api-key keys>"
    else:
        lines.append(f"API key: {DEFAULT_API_KEY} (team 1)")
        key = DEFAULT_API_KEY
    lines.append(f"Use it: export GETSALES_API_KEY={key} GETSALES_BASE_URL={url}")
    return "\n".join(lines)


def build(args: argparse.Namespace) -> GetSalesEmulator:
    """The emulator the parsed command line asks for.

    Raises:
        ValueError: an invalid fault setting (the message says which).
    """
    faults = FaultConfig(
        error_rate=args.error_rate,
        drop_rate=args.drop_rate,
        latency=args.latency,
        latency_for=dict(args.latency_for) if args.latency_for else None,
        fail_after_commit_rate=args.fail_after_commit_rate,
    )
    options: dict[str, Any] = {
        "seed": args.seed,
        "quota": None
        if args.no_quota
        else RateLimit.for_quota(args.quota, 60.0, burst=min(QUOTA_BURST, args.quota)),
        "faults": None if faults == FaultConfig() else faults,
        "quota_retry_after": args.quota_retry_after,
    }
    if args.api_key:
        options["api_keys"] = dict(args.api_key)
    return GetSalesEmulator(**options)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the emulator server from the command line (see ``--help``); returns the exit status."""
    args = parser().parse_args(argv)
    try:
        emulator = build(args)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

    stop = threading.Event()
    previous = {s: signal.signal(s, lambda *_: stop.set()) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        # The server runs in a thread of its own, so uvicorn leaves signal handling to this one.
        with emulator.serve_in_thread(args.host, args.port) as url:
            if args.print_url:
                print(url, flush=True)
            print(banner(url, dict(args.api_key or [])), file=sys.stderr, flush=True)
            while not stop.wait(_WAKE_S):
                pass
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    return 0
