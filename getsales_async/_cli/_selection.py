"""Which contacts a mass-action command acts on: ``--filter``, ``--list``, or ``--uuids FILE``.

- ``--filter JSON``: a mass filter (search keys, ``"all": true``, ``"excludeIds"``...); an empty
  one is refused (say ``{"all": true}`` to mean every contact).
- ``--list NAME``: the contacts of a list (a name or a UUID); with ``--filter``, both apply.
- ``--uuids FILE``: contact uuids, one per line, or a CSV file with a ``uuid`` column (an
  ``export-leads`` file works as it is; ``--column`` names another). Every value must be a UUID;
  repeats are dropped. At most :data:`MAX_UUIDS`.

A filter's contacts are counted (``countLeads``, a read) before anything is changed, so the
command can say how many it acts on, and stop when there are none.
"""

from __future__ import annotations

import argparse
import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._client import AsyncGetSales
from .._csv import detect_delimiter
from ._common import PREFLIGHT, UUID_RE, UsageError, find_list, parse_filter

__all__ = [
    "MAX_UUIDS",
    "Selection",
    "add_selection_options",
    "local_selection",
    "read_uuids",
    "select",
]

MAX_UUIDS = 1_000_000  # uuids a --uuids file may hold
MAX_LINE_CHARS = 100_000  # a longer line is not a uuid list or a contacts CSV row
ALL_HINT = "pass --filter '{\"all\": true}' to mean every contact"


@dataclass
class Selection:
    """The contacts an action targets: a filter, or uuids; ``selected`` counts them when known."""

    label: str
    filter: dict[str, Any] | None = None
    uuids: list[str] | None = None
    uuids_file: Path | None = None
    selected: int | None = None

    def as_dict(self) -> dict[str, Any]:
        """The selection in a JSON report."""
        return {"selection": self.label, "selected": self.selected}


def add_selection_options(parser: argparse.ArgumentParser) -> None:
    """``--filter``, ``--list``, ``--uuids`` and ``--column``."""
    group = parser.add_argument_group("which contacts (--filter and/or --list, or --uuids)")
    group.add_argument(
        "--filter",
        metavar="JSON",
        help='a mass filter as a JSON object: \'{"q": "cto"}\', \'{"all": true}\' for everyone',
    )
    group.add_argument("--list", metavar="NAME", help="the contacts of this list (name or UUID)")
    group.add_argument(
        "--uuids",
        metavar="FILE",
        help="contact uuids, one per line, or a CSV file with a uuid column (e.g. from export-leads)",
    )
    group.add_argument(
        "--column", metavar="NAME", help="the uuid column of a --uuids CSV file (default uuid)"
    )


def _check_file(path: Path) -> None:
    if not path.exists():
        raise UsageError(f"--uuids {path} does not exist")
    if not path.is_file():
        raise UsageError(f"--uuids {path} is not a file")


def _lines(path: Path) -> list[str]:
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            lines: list[str] = []
            while line := fh.readline(MAX_LINE_CHARS + 1):
                if len(line) > MAX_LINE_CHARS:
                    raise UsageError(f"{path} line {len(lines) + 1} is too long for a uuid list")
                lines.append(line)
                if len(lines) > MAX_UUIDS + 1:
                    raise UsageError(f"{path} holds more than {MAX_UUIDS:,} lines; split it")
    except UnicodeDecodeError:
        raise UsageError(f"{path} is not UTF-8 text; save it as UTF-8") from None
    return lines


def _column_values(path: Path, lines: list[str], column: str) -> list[tuple[int, str]]:
    reader = csv.reader(lines, delimiter=detect_delimiter(lines[0]))
    header = [h.strip() for h in next(reader)]
    folded = [h.casefold() for h in header]
    if column.casefold() not in folded:
        listed = ", ".join(repr(h) for h in header[:20])
        raise UsageError(
            f"{path} has no {column!r} column (columns: {listed}); name it with --column, "
            "or give one uuid per line"
        )
    index = folded.index(column.casefold())
    values = []
    for cells in reader:
        if any(c.strip() for c in cells):
            values.append((reader.line_num, cells[index] if index < len(cells) else ""))
    return values


def read_uuids(path: Path, column: str | None = None) -> list[str]:
    """The distinct contact uuids of a file, in order (see the module docstring).

    Raises:
        UsageError: a missing or unreadable file, no uuid column, a value that is not a UUID,
            no uuids, or more than :data:`MAX_UUIDS`.
    """
    _check_file(path)
    lines = _lines(path)
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is None:
        raise UsageError(f"{path} holds no uuids")
    plain = column is None and bool(UUID_RE.match(lines[first].strip().strip('"')))
    if plain:
        values = [(number, line) for number, line in enumerate(lines, 1) if line.strip()]
    else:
        values = [(first + n, v) for n, v in _column_values(path, lines[first:], column or "uuid")]
    out: dict[str, None] = {}
    for number, value in values:
        text = value.strip().strip('"').strip()
        if not UUID_RE.match(text):
            where = f"{path} line {number}" if plain else f"{path} row ending on line {number}"
            raise UsageError(f"{where}: {text[:60]!r} is not a contact uuid; fix or remove it")
        out[text.lower()] = None
    if not out:
        raise UsageError(f"{path} holds no uuids")
    if len(out) > MAX_UUIDS:
        raise UsageError(f"{path} holds {len(out):,} uuids; at most {MAX_UUIDS:,} per run")
    return list(out)


def local_selection(args: argparse.Namespace) -> Selection:
    """The selection as far as it is known without a request (``--list`` is looked up later)."""
    if args.uuids is not None:
        if args.filter is not None or args.list is not None:
            raise UsageError("--uuids selects the contacts itself; drop --filter and --list")
        path = Path(args.uuids)
        uuids = read_uuids(path, args.column)
        return Selection(f"{len(uuids):,} uuids from {path}", uuids=uuids, uuids_file=path)
    if args.column is not None:
        raise UsageError("--column names the uuid column of a --uuids CSV file; add --uuids FILE")
    if args.filter is None and args.list is None:
        raise UsageError(
            f"say which contacts: --list NAME, --filter JSON or --uuids FILE ({ALL_HINT})"
        )
    search = parse_filter(args.filter)
    if args.filter is not None and not search:
        raise UsageError(f"--filter '{{}}' selects nobody; {ALL_HINT}")
    if args.list is not None and "list_uuid" in search:
        raise UsageError("give the list once: --list NAME or list_uuid in --filter, not both")
    return Selection(f"contacts matching {args.filter}" if args.filter else "", filter=search)


async def _count(client: AsyncGetSales, search: dict[str, Any]) -> int | None:
    answer = await client.leads.count(filter=search, request_options=PREFLIGHT)
    for value in (answer.total, answer.count):
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            return value
    return None


async def select(
    client: AsyncGetSales, args: argparse.Namespace, selection: Selection
) -> Selection:
    """The local ``selection`` completed: ``--list`` looked up, a filter counted (reads only).

    Raises:
        UsageError: an unknown ``--list``.
    """
    if selection.filter is None:
        selection.selected = len(selection.uuids or ())
        return selection
    if args.list is not None:
        found = await find_list(client, args.list)
        if found is None:
            raise UsageError(
                f"no list {args.list!r}; check the name (getsales whoami shows the team)"
            )
        selection.filter["list_uuid"] = found[0]
        where = f"contacts of list {found[1]!r}"
        selection.label = f"{where} matching {args.filter}" if args.filter else where
    selection.selected = await _count(client, selection.filter)
    return selection
