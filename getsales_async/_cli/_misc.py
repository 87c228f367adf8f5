"""``getsales whoami`` (the key's user and teams) and ``getsales emulator serve``."""

from __future__ import annotations

import argparse
from typing import Any

from ._common import (
    EXIT_CODES_HELP,
    PREFLIGHT,
    UsageError,
    add_global_options,
    make_client,
    print_result,
)

__all__ = ["register"]

DEFAULT_EMULATOR_PORT = 8300


def register(sub: Any) -> None:
    """Add ``whoami`` and ``emulator serve``."""
    who = sub.add_parser(
        "whoami",
        help="show the user and teams of the API key",
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_global_options(who, after_command=True)
    who.set_defaults(run=whoami, needs_key=True)

    emu = sub.add_parser(
        "emulator", help="the built-in GetSales emulator (needs the 'emulator' extra)"
    )
    emu_sub = emu.add_subparsers(dest="emulator_command", required=True, metavar="serve")
    serve = emu_sub.add_parser(
        "serve",
        help=f"serve the emulator on a loopback port (default {DEFAULT_EMULATOR_PORT})",
        description="Options after `serve` go to the emulator: --host, --port, --quota N, "
        "--no-quota, --quota-retry-after, --api-key KEY:TEAM, --seed, --error-rate, "
        "--drop-rate, --latency, --latency-for OP=SECONDS, --fail-after-commit-rate, --print-url.",
    )
    serve.set_defaults(run=emulator_serve, sync=True, needs_key=False, passthrough=True)


async def whoami(args: argparse.Namespace) -> int:
    """Print the key's user and teams."""
    async with make_client(args) as client:
        me = await client.teams.get_current_user(request_options=PREFLIGHT)
        teams = await client.teams.list(request_options=PREFLIGHT)
    name = " ".join(p for p in (me.first_name or "", me.last_name or "") if p)
    report = {
        "user": {"id": me.id, "name": name, "email": me.email or None},
        "teams": [{"id": t.id, "name": t.name} for t in teams.items],
        "exit_code": 0,
    }
    lines = [
        f"user: {name} <{me.email or '?'}> (id {me.id})",
        *(f"team: {t.name} (id {t.id})" for t in teams.items),
    ]
    print_result(args, report, "\n".join(lines))
    return 0


def emulator_serve(args: argparse.Namespace) -> int:
    """Serve the emulator until Ctrl-C (options after ``serve`` are the emulator's own)."""
    try:
        import starlette  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError:
        raise UsageError(
            "the emulator needs its extra: pip install 'getsales-async[emulator]'"
        ) from None
    from ..testing.emulator._main import main as serve_main

    options = list(args.passthrough_args)
    if not any(a == "--port" or a.startswith("--port=") for a in options):
        options = ["--port", str(DEFAULT_EMULATOR_PORT), *options]
    try:
        return serve_main(options)
    except OSError as exc:
        raise UsageError(
            f"cannot serve the emulator: {exc.strerror or exc}; choose another --port"
        ) from None
