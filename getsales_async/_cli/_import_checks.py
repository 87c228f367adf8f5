"""The checks ``import-leads`` makes before its first write, whichever strategy runs the import.

Local (no request): the file, its delimiter and column mapping (:func:`open_source`, the same
:class:`~getsales_async._csv.LeadsCsv` mapping for ``rows`` and ``file``). On the server, reads
only (:func:`remote_checks`): the key, the list (an unknown list is an error unless
``--create-list``), the custom fields of the ``cf:`` columns, and the team's tags (so a dry run
can say which would be created and the file strategy can send tag uuids).
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from pathlib import Path

from .._client import AsyncGetSales
from .._csv import DELIMITERS, LeadsCsv
from .._export import _object_of
from ._common import PREFLIGHT, UUID_RE, UsageError, find_list

__all__ = [
    "DELIMITER_NAMES",
    "Target",
    "list_line",
    "mapping_lines",
    "open_source",
    "remote_checks",
    "team_tags",
]

DELIMITER_NAMES = {
    "comma": ",",
    "semicolon": ";",
    "tab": "\t",
    "\\t": "\t",
    "pipe": "|",
    **{d: d for d in DELIMITERS},
}
SHOWN_NAMES = 10  # existing lists named when a list is not found


def _overrides(values: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in values:
        header, sep, target = item.rpartition("=")
        if not sep or not header.strip():
            raise UsageError(
                f'--map {item!r}: write it as "Header=field" (or "Header=" to ignore the column)'
            )
        out[header.strip()] = target.strip()
    return out


def _delimiter(text: str | None) -> str | None:
    if text is None:
        return None
    chosen = DELIMITER_NAMES.get(text.strip().lower()) or DELIMITER_NAMES.get(text)
    if chosen is None:
        raise UsageError(f"--delimiter {text!r}: use comma, semicolon, tab or pipe")
    return chosen


def open_source(args: argparse.Namespace) -> LeadsCsv:
    """The input file opened and its header mapped (``--delimiter``, ``--map``, unknown columns)."""
    return LeadsCsv.open(
        Path(args.file),
        delimiter=_delimiter(args.delimiter),
        overrides=_overrides(args.map),
        ignore_unknown=args.ignore_unknown_columns,
    )


@dataclass
class Target:
    """What the server checks found."""

    list_uuid: str | None  # None: the list is to be created
    list_name: str
    tags: dict[str, str] = field(default_factory=dict)
    """The team's tags: case-folded name -> uuid."""

    def tag_uuid(self, name: str) -> str | None:
        """The uuid of the tag with this name (case ignored), if the team has it."""
        return self.tags.get(name.strip().casefold())


async def _list_names(client: AsyncGetSales) -> list[str]:
    names: list[str] = []
    async for lst in client.lists.list(request_options=PREFLIGHT):
        names.append(str(lst.name))
        if len(names) > SHOWN_NAMES:
            break
    return names


async def _check_custom_fields(client: AsyncGetSales, wanted: list[str]) -> None:
    if not wanted:
        return
    known: set[str] = set()
    async for cf in client.custom_fields.list(request_options=PREFLIGHT):
        if _object_of(cf) == "lead":
            known.update({str(cf.name).casefold(), str(cf.uuid)})
    missing = [name for name in wanted if name.casefold() not in known and name not in known]
    if missing:
        listed = ", ".join(repr(m) for m in missing)
        raise UsageError(
            f"contact custom field(s) {listed} do not exist; create them in GetSales "
            f'(Settings > Custom fields) or leave the column out with --map "cf:{missing[0]}="'
        )


async def team_tags(client: AsyncGetSales) -> dict[str, str]:
    """The team's tags, case-folded name -> uuid (reads only)."""
    out: dict[str, str] = {}
    async for tag in client.tags.list(request_options=PREFLIGHT):
        if tag.name and tag.uuid:
            out.setdefault(str(tag.name).strip().casefold(), str(tag.uuid))
    return out


async def remote_checks(
    client: AsyncGetSales,
    args: argparse.Namespace,
    source: LeadsCsv,
    *,
    resume_list_uuid: str | None = None,
) -> Target:
    """The key works, the list exists (or ``--create-list``), the custom fields exist (reads only).

    ``resume_list_uuid``: the list of the checkpoint being resumed, which ``--list`` must name.
    """
    await client.teams.get_current_user(request_options=PREFLIGHT)  # the key works
    found = await find_list(client, args.list)
    if found is None and (not args.create_list or UUID_RE.match(args.list)):
        names = await _list_names(client)
        shown = ", ".join(repr(n) for n in names[:SHOWN_NAMES]) + (
            ", ..." if len(names) > SHOWN_NAMES else ""
        )
        hint = "" if UUID_RE.match(args.list) else ", or pass --create-list to create it"
        raise UsageError(f"no list {args.list!r} (lists: {shown or 'none'}); check the name{hint}")
    if resume_list_uuid is not None and (found is None or found[0] != resume_list_uuid):
        raise UsageError(
            f"cannot resume: the checkpoint's list {resume_list_uuid} is not {args.list!r}"
        )
    await _check_custom_fields(client, source.mapping.custom_fields)
    tags = await team_tags(client)
    return Target(found[0] if found else None, found[1] if found else args.list, tags)


def mapping_lines(source: LeadsCsv) -> list[str]:
    """The file's delimiter and column mapping, for printing before a job."""
    head = f"{source.path}: {DELIMITERS[source.delimiter]}-delimited; column mapping:"
    return [head, *(f"  {line}" for line in source.mapping.describe())]


def list_line(target: Target, *, dry: bool) -> str:
    """The target list, or that it will be created."""
    if target.list_uuid is None:
        return f"list: {target.list_name!r} does not exist; it {'would be' if dry else 'will be'} created (--create-list)"
    return f"list: {target.list_name!r} ({target.list_uuid})"
