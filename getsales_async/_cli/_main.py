"""The ``getsales`` command: parser assembly, dispatch, and one-line errors with exit codes.

The API key comes from ``GETSALES_API_KEY`` (never from an argument, so it stays out of shell
history and process lists); ``--base-url`` (or ``GETSALES_BASE_URL``) targets production or the
emulator; ``GETSALES_REDIS_URL`` shares the quota with other workers through Redis.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import traceback
from collections.abc import Callable, Sequence

import anyio

from .._config import ENV_API_KEY
from .._errors import GetSalesError
from .._version import __version__
from . import _export, _import, _mass, _misc
from ._common import (
    EXIT_CODES_HELP,
    CliParser,
    ExitCode,
    UsageError,
    add_global_options,
    base_url_of,
    describe_error,
    exit_code_of,
    setup_logging,
)

__all__ = ["build_parser", "main"]

COMMANDS = (_import, _export, _mass, _misc)  # each module registers its command group


def build_parser() -> argparse.ArgumentParser:
    """The ``getsales`` parser with every command."""
    parser = CliParser(
        prog="getsales",
        description="Import and export GetSales contacts, tag, move or delete them in bulk, check the "
        "API key, run the emulator.",
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--version",
        action="version",
        version=f"getsales {__version__} (getsales-async, Python {sys.version.split()[0]})",
    )
    add_global_options(parser, after_command=False)
    sub = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND", parser_class=CliParser
    )
    for module in COMMANDS:
        module.register(sub)
    return parser


def _unwrap(exc: BaseException) -> BaseException:
    while isinstance(exc, BaseExceptionGroup) and len(exc.exceptions) == 1:
        exc = exc.exceptions[0]
    return exc


def _fail(args: argparse.Namespace | None, json_flag: bool, message: str, code: int) -> int:
    if args is not None and getattr(args, "debug", False) and sys.exc_info()[0] is not None:
        traceback.print_exc()
    print(f"getsales: error: {message}", file=sys.stderr, flush=True)
    if json_flag:
        print(json.dumps({"error": message, "exit_code": code}), flush=True)
    return code


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    args, extra = build_parser().parse_known_args(argv)
    if getattr(args, "passthrough", False):
        args.passthrough_args = extra
    elif extra:
        raise UsageError(
            f"unrecognized arguments: {' '.join(extra)} (see `getsales {args.command} --help`)"
        )
    if args.needs_key and not os.environ.get(ENV_API_KEY):
        raise UsageError(
            f"set {ENV_API_KEY} to your API key (GetSales > Workspace Settings > API Keys)"
        )
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``getsales`` with ``argv`` (default ``sys.argv[1:]``); returns the exit code."""
    given = list(sys.argv[1:] if argv is None else argv)
    args: argparse.Namespace | None = None
    undo_logging: Callable[[], None] | None = None
    try:
        args = _parse(given)
        undo_logging = setup_logging(args.verbose)
        if getattr(args, "sync", False):
            return int(args.run(args))
        return int(anyio.run(args.run, args))
    except SystemExit as stop:  # --help, --version, and the emulator's own parser
        return stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 2)
    except BaseException as raised:
        message, code = _described(raised, args)
        return _fail(args, "--json" in given, message, code)
    finally:
        if undo_logging is not None:
            undo_logging()


def _described(raised: BaseException, args: argparse.Namespace | None) -> tuple[str, int]:
    """The one-line message and exit code of an error that ended a command."""
    error = _unwrap(raised)
    if isinstance(error, KeyboardInterrupt):
        hint = getattr(args, "interrupt_hint", None)  # a command's own advice, if it set one
        return str(hint or "interrupted; rerun with --resume to continue"), ExitCode.INTERRUPTED
    if isinstance(error, UsageError):
        return str(error), ExitCode.USAGE
    if not isinstance(error, Exception):
        raise raised
    base_url = base_url_of(args) if args is not None else ""
    if isinstance(error, GetSalesError):
        return describe_error(error, base_url), exit_code_of(error)
    hint = "" if args is not None and args.debug else " (rerun with --debug for the traceback)"
    return f"unexpected {describe_error(error, base_url)}{hint}", ExitCode.ROWS_FAILED
