"""``getsales tag`` / ``untag`` / ``move`` / ``delete``: mass actions over a filter, a list or uuids.

Each command runs one documented mass action (``client.mass_actions``) on the contacts chosen by
``--filter`` / ``--list`` or ``--uuids FILE`` (:mod:`._selection`). In order, nothing changed
before the last check passes: the options and the uuids file (local); the key, the list, the
tags or the target list, and how many contacts a filter selects (reads); ``--dry-run`` stops
there. Then missing tags (``tag --create-tags``) or the target list (``move --create-list``) are
created, and the action is sent: one request for a filter, one per 1,000 uuids. Large sets are
queued by the server, which answers with a tracking object (printed; the API documents no way to
read it later).

A mass action is **never re-sent after an ambiguous failure** (a 5xx, a timeout, a lost
connection): the server may have acted. The command then exits 3 and says what may have run;
with ``--uuids``, the uuids that may have been acted on and those not sent are written next to
the file (``FILE.maybe-done``, ``FILE.not-sent``) so the rest can be sent after a check.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, Protocol

from .._client import AsyncGetSales
from .._mass_actions import CHUNK_SIZE, MassActionError, MassActionResult
from ._common import (
    PREFLIGHT,
    UUID_RE,
    ExitCode,
    UsageError,
    add_global_options,
    find_list,
    make_client,
    note,
    print_result,
)
from ._import_checks import team_tags
from ._selection import Selection, add_selection_options, local_selection, select

__all__ = ["register"]

EXIT_CODES_HELP = """\
A mass action is never re-sent automatically after an ambiguous failure (a 5xx, a timeout, a
lost connection): the server may have acted. Check the contacts, then rerun if needed.

exit codes:
  0    done, or queued by the server (its tracking object is printed), or no contact matched
  1    a later request of a --uuids run was refused: the earlier ones were done (counts
       printed; the uuids not sent are in FILE.not-sent)
  2    usage or validation error, found before anything was changed (also: the API refused
       the action, or could not be reached for the checks)
  3    aborted by an authentication, permission or payment error, or a request may have run
       and was not re-sent (uuids that may have been acted on in FILE.maybe-done)
  130  interrupted: requests already sent may have acted (none is re-sent)
  With --json the same code is in the printed object's "exit_code"."""
SELECTION_HELP = """\
Which contacts: --list NAME (the list's contacts), --filter JSON (a mass filter; '{"all": true}'
is every contact; with --list both apply), or --uuids FILE (one uuid per line, or a CSV file with
a uuid column, such as an export-leads file). A filter's contacts are counted first; --dry-run
stops there. Nothing is changed before every check passed. Uuids go 1,000 per request; the server
queues large sets and answers with a tracking object, which is printed."""
SHOWN_TAGS = 20  # existing tags named when a tag is not found


class _Action(Protocol):
    """One command's action: checks (reads), what it creates first, the request."""

    def describe(self) -> tuple[str, str]:
        """What is done, around the contacts: ``("add tags 'vip' to", "")``."""
        ...

    async def check(self, client: AsyncGetSales) -> list[str]:
        """Reads only; returns what would be created first (``"tag 'q4'"``)."""
        ...

    async def create(self, client: AsyncGetSales) -> None: ...

    async def send(self, client: AsyncGetSales, selection: Selection) -> MassActionResult: ...


def _where(selection: Selection) -> dict[str, Any]:
    return (
        {"uuids": selection.uuids} if selection.uuids is not None else {"filter": selection.filter}
    )


class _Tags:
    """``tag`` (``contact_add_tags``) and ``untag`` (``contact_remove_tags``), tags sent as uuids."""

    def __init__(self, args: argparse.Namespace, *, remove: bool) -> None:
        names = {n.strip().casefold(): n.strip() for n in args.tags if n.strip()}
        if not names:
            raise UsageError("give at least one tag name, e.g. `getsales tag vip --list Q4`")
        self.names = list(names.values())
        self.remove = remove
        self.create_missing = bool(getattr(args, "create_tags", False))
        self.uuids: dict[str, str] = {}
        self.missing: list[str] = []

    def describe(self) -> tuple[str, str]:
        listed = ", ".join(repr(n) for n in self.names)
        return (f"remove tags {listed} from" if self.remove else f"add tags {listed} to"), ""

    async def check(self, client: AsyncGetSales) -> list[str]:
        known = await team_tags(client)
        by_uuid = {u.lower(): u for u in known.values()}
        for name in self.names:
            uuid = known.get(name.casefold()) or (
                by_uuid.get(name.lower()) if UUID_RE.match(name) else None
            )
            if uuid is None:
                self.missing.append(name)
            else:
                self.uuids[name] = uuid
        if self.missing and (self.remove or not self.create_missing):
            shown = ", ".join(repr(n) for n in sorted(known)[:SHOWN_TAGS]) or "none"
            hint = "" if self.remove else ", or pass --create-tags to create it"
            raise UsageError(f"no tag {self.missing[0]!r} (tags: {shown}); check the name{hint}")
        return [f"tag {n!r}" for n in self.missing]

    async def create(self, client: AsyncGetSales) -> None:
        for name in self.missing:
            created = await client.tags.create(name=name)
            self.uuids[name] = str(created.uuid)
            note(f"created tag {name!r}")

    async def send(self, client: AsyncGetSales, selection: Selection) -> MassActionResult:
        tags = [self.uuids[n] for n in self.names]
        if self.remove:
            return await client.mass_actions.remove_tags(tags, **_where(selection))
        return await client.mass_actions.add_tags(tags, **_where(selection))


class _Move:
    """``move`` (``contact_change_list``)."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.to = args.to
        self.create_missing = bool(args.create_list)
        self.list_uuid: str | None = None
        self.list_name = args.to

    def describe(self) -> tuple[str, str]:
        return "move", f" to list {self.list_name!r}"

    async def check(self, client: AsyncGetSales) -> list[str]:
        found = await find_list(client, self.to)
        if found is not None:
            self.list_uuid, self.list_name = found
            return []
        if not self.create_missing or UUID_RE.match(self.to):
            hint = "" if UUID_RE.match(self.to) else ", or pass --create-list to create it"
            raise UsageError(f"no list {self.to!r} to move to; check the name{hint}")
        return [f"list {self.to!r}"]

    async def create(self, client: AsyncGetSales) -> None:
        if self.list_uuid is None:
            created = await client.lists.create(name=self.to)
            self.list_uuid = str(created.uuid)
            note(f"created list {self.to!r} ({self.list_uuid})")

    async def send(self, client: AsyncGetSales, selection: Selection) -> MassActionResult:
        assert self.list_uuid is not None  # create() ran
        return await client.mass_actions.change_list(self.list_uuid, **_where(selection))


class _Delete:
    """``delete`` (``contact_delete``): only with ``--yes`` (or ``--dry-run``)."""

    def __init__(self, args: argparse.Namespace) -> None:
        if not (args.yes or args.dry_run):
            raise UsageError(
                "deleting contacts cannot be undone: pass --yes to confirm "
                "(--dry-run shows how many contacts are selected)"
            )
        self.reason: str | None = args.reason

    def describe(self) -> tuple[str, str]:
        return "delete", ""

    async def check(self, client: AsyncGetSales) -> list[str]:
        return []

    async def create(self, client: AsyncGetSales) -> None:
        return None

    async def send(self, client: AsyncGetSales, selection: Selection) -> MassActionResult:
        return await client.mass_actions.delete(reason=self.reason, **_where(selection))


def _action(args: argparse.Namespace) -> _Action:
    if args.command in ("tag", "untag"):
        return _Tags(args, remove=args.command == "untag")
    if args.command == "move":
        return _Move(args)
    return _Delete(args)


# ----------------------------------------------------------------------------- reporting


def _requests_for(selection: Selection) -> int:
    if selection.uuids is None:
        return 1
    return -(-len(selection.uuids) // CHUNK_SIZE)


def _head(args: argparse.Namespace, action: _Action, selection: Selection) -> str:
    count = "?" if selection.selected is None else f"{selection.selected:,}"
    verb, tail = action.describe()
    return f"{args.command}: {verb} {count} contacts ({selection.label}){tail}"


def _nothing(args: argparse.Namespace, action: _Action, selection: Selection) -> int:
    report = {"action": args.command, **selection.as_dict(), "requests": 0, "exit_code": 0}
    print_result(args, report, f"{_head(args, action, selection)}: nothing to do, nothing sent")
    return ExitCode.OK


def _dry_run(
    args: argparse.Namespace, action: _Action, selection: Selection, creates: list[str]
) -> int:
    requests = _requests_for(selection)
    report = {
        "dry_run": True,
        "action": args.command,
        **selection.as_dict(),
        "would_create": creates,
        "requests": requests,
        "exit_code": 0,
    }
    lines = [f"{_head(args, action, selection)}: would take {requests} request(s)"]
    if creates:
        lines.append(f"would be created first: {', '.join(creates)}")
    lines.append("dry run: nothing was sent or changed")
    print_result(args, report, "\n".join(lines))
    return ExitCode.OK


def _tracking(result: MassActionResult) -> list[dict[str, Any]]:
    return [{"uuid": a.uuid, "status": a.status} for a in result.tracking]


def _done(
    args: argparse.Namespace, action: _Action, selection: Selection, result: MassActionResult
) -> int:
    tracking = _tracking(result)
    report = {
        "action": args.command,
        "type": result.type,
        **selection.as_dict(),
        "requests": result.requests,
        "queued": result.queued,
        "tracking": tracking,
        "exit_code": 0,
    }
    state = "queued by the server" if result.queued else "done"
    lines = [f"{_head(args, action, selection)}: {state} ({result.requests} request(s))"]
    lines += [f"tracking: {t['uuid']} (status {t['status']})" for t in tracking]
    if tracking:
        lines.append("the API documents no way to read a queued action later; check the contacts")
    print_result(args, report, "\n".join(lines))
    return ExitCode.OK


def _write_uuids(selection: Selection, suffix: str, uuids: list[str]) -> str | None:
    """Write ``uuids`` next to the ``--uuids`` file; the path, or ``None`` when not written."""
    if selection.uuids_file is None or not uuids:
        return None
    path = Path(f"{selection.uuids_file}.{suffix}")
    try:
        path.write_text("".join(f"{u}\n" for u in uuids), encoding="utf-8")
    except OSError as exc:
        note(f"note: could not write {path} ({exc.strerror or exc}); {len(uuids)} uuids not saved")
        return None
    return str(path)


def _failed(
    args: argparse.Namespace, action: _Action, selection: Selection, error: MassActionError
) -> int:
    maybe = _write_uuids(selection, "maybe-done", error.maybe_done)
    not_sent = _write_uuids(selection, "not-sent", error.not_sent)
    code = ExitCode.ABORTED if error.uncertain else ExitCode.ROWS_FAILED
    what = "it may have run, so it was not re-sent" if error.uncertain else "it was refused"
    message = f"{args.command}: a request failed and {what}: {error}"
    if maybe:
        message += f"; uuids that may have been acted on: {maybe}"
    if not_sent:
        message += f"; uuids not sent: {not_sent} (rerun with --uuids {not_sent} once checked)"
    note(f"getsales: error: {message}")
    report = {
        "action": args.command,
        "type": error.result.type,
        **selection.as_dict(),
        "requests_done": error.result.requests,
        "uncertain": error.uncertain,
        "maybe_done": len(error.maybe_done),
        "not_sent": len(error.not_sent),
        "maybe_done_file": maybe,
        "not_sent_file": not_sent,
        "tracking": _tracking(error.result),
        "error": message,
        "exit_code": int(code),
    }
    print_result(
        args, report, "\n".join(f"{k:>16}: {v}" for k, v in report.items() if k != "error")
    )
    return code


# ----------------------------------------------------------------------------- the commands


async def run(args: argparse.Namespace) -> int:
    """Run a mass-action command (see the module docstring); returns the exit code."""
    action = _action(args)
    selection = local_selection(args)
    args.interrupt_hint = "interrupted; requests already sent may have acted (none is re-sent)"
    async with make_client(args) as client:
        await client.teams.get_current_user(request_options=PREFLIGHT)  # the key works
        await select(client, args, selection)
        creates = await action.check(client)
        if selection.selected == 0:
            return _nothing(args, action, selection)
        if args.dry_run:
            return _dry_run(args, action, selection, creates)
        await action.create(client)
        try:
            result = await action.send(client, selection)
        except MassActionError as exc:
            return _failed(args, action, selection, exc)
    return _done(args, action, selection, result)


def _parser(sub: Any, name: str, help_text: str, description: str) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = sub.add_parser(
        name,
        help=help_text,
        description=f"{description}\n\n{SELECTION_HELP}",
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    return parser


def _common_options(parser: argparse.ArgumentParser) -> None:
    add_selection_options(parser)
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="check and count (reads only), print what would be done; change nothing",
    )
    add_global_options(parser, after_command=True)
    parser.set_defaults(run=run, needs_key=True)


def register(sub: Any) -> None:
    """Add ``tag``, ``untag``, ``move`` and ``delete``."""
    for name, verb in (("tag", "add"), ("untag", "remove")):
        cmd = _parser(
            sub,
            name,
            f"{verb} tags {'to' if name == 'tag' else 'from'} contacts (mass action over a "
            "filter, a list or uuids)",
            f"{verb.capitalize()} tags (names) {'to' if name == 'tag' else 'from'} every selected contact "
            f"(contact_{verb}_tags).",
        )
        cmd.add_argument("tags", nargs="+", metavar="TAG", help="tag names (or tag uuids)")
        if name == "tag":
            cmd.add_argument(
                "--create-tags", action="store_true", help="create tags the team does not have"
            )
        _common_options(cmd)
    move = _parser(
        sub,
        "move",
        "move contacts to another list (mass action)",
        "Move every selected contact to the list --to (contact_change_list).",
    )
    move.add_argument("--to", required=True, metavar="LIST", help="the target list (name or UUID)")
    move.add_argument(
        "--create-list", action="store_true", help="create --to if no list has that name"
    )
    _common_options(move)
    delete = _parser(
        sub,
        "delete",
        "delete contacts (mass action; needs --yes)",
        "Delete every selected contact (contact_delete). This cannot be undone: --yes confirms.",
    )
    delete.add_argument("--yes", action="store_true", help="confirm: delete the selected contacts")
    delete.add_argument("--reason", help="the reason recorded with the deletion")
    _common_options(delete)
