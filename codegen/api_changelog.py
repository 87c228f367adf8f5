"""Record API changes in CHANGELOG.md under "Unreleased" (``make generate``).

``make generate`` compares ``openapi/bundled.yaml`` with a baseline (default ``git:HEAD``, the
committed snapshot; the refresh workflow passes the snapshot it replaced, ``API_BASELINE=path``)
and writes the report of ``codegen/api_diff.py`` as one block of the "Unreleased" section::

    <!-- api-diff from=<baseline sha256, 12 hex> bump=<major|minor|patch> -->
    ### API changes: ...
    <!-- /api-diff -->

A block is keyed by its baseline, so regenerating after another edit of the spec replaces it, a
spec back at its baseline removes it, and blocks of earlier refreshes (committed, not released)
stay. The section's first line states the bump that all blocks together imply. Hand-written
entries in the section are kept as they are.

Usage: ``python codegen/api_changelog.py [--baseline git:HEAD] [--spec openapi/bundled.yaml]
[--changelog CHANGELOG.md]`` (``codegen/generate.py --changelog`` calls :func:`record_spec_change`).
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from api_diff import ApiDiffError, Report, compare_bytes, read_source, render_markdown

__all__ = ["main", "record", "record_spec_change", "update_text"]

ROOT = Path(__file__).resolve().parent.parent
CHANGELOG = ROOT / "CHANGELOG.md"
SPEC = ROOT / "openapi" / "bundled.yaml"
BEGIN = re.compile(
    r"^<!-- api-diff from=(?P<old>[0-9a-f]{12}) bump=(?P<bump>major|minor|patch) -->$"
)
END = "<!-- /api-diff -->"
BUMP_MARK = "<!-- api-bump -->"
BUMP_ORDER = ("major", "minor", "patch")
UNRELEASED = re.compile(r"^##\s+\[?unreleased\]?\s*$", re.IGNORECASE)
TEMPLATE = """\
# Changelog

All notable changes to getsales-async. The format follows
[Keep a Changelog](https://keepachangelog.com/en/1.1.0/); versions follow
[Semantic Versioning](https://semver.org/spec/v2.0.0.html).

`make generate` records what changed in the GetSales API description (`openapi/bundled.yaml`)
under "Unreleased": each change classified for SDK users as breaking, non-breaking or docs only,
and the version bump it implies (see `openapi/README.md`). Generated blocks sit between
`api-diff` markers; write other entries outside them.

## Unreleased
"""


def update_text(text: str, report: Report) -> str:
    """``text`` with the report's block in "Unreleased" added, replaced or (no changes) removed."""
    lines = (text or TEMPLATE).splitlines()
    start, end = _unreleased(lines)
    body = _drop_block(lines[start:end], report.old_sha256[:12])
    body = _trim([line for line in body if not line.startswith(BUMP_MARK)])
    if report.bump is not None:
        block = render_markdown(report, level=3, labels=False).rstrip("\n").splitlines()
        marker = f"<!-- api-diff from={report.old_sha256[:12]} bump={report.bump} -->"
        body = _trim([*body, "", marker, *block, END])
    bumps = [m.group("bump") for line in body if (m := BEGIN.match(line))]
    if bumps:
        top = min(bumps, key=BUMP_ORDER.index)
        summary = f"{BUMP_MARK}Version bump implied by the API changes below: **{top}**."
        body = [summary, "", *body]
    new_section = ["", *body, ""] if body else [""]
    lines[start:end] = new_section
    return "\n".join(lines).rstrip("\n") + "\n"


def _unreleased(lines: list[str]) -> tuple[int, int]:
    """Body range [start, end) of the "Unreleased" section, inserting the heading if missing."""
    heading = next((i for i, line in enumerate(lines) if UNRELEASED.match(line)), None)
    if heading is None:
        first = next((i for i, line in enumerate(lines) if line.startswith("## ")), None)
        if first is None:
            lines += ["", "## Unreleased"]
        else:
            lines[first:first] = ["## Unreleased", ""]
        heading = next(i for i, line in enumerate(lines) if UNRELEASED.match(line))
    end = next(
        (i for i in range(heading + 1, len(lines)) if lines[i].startswith("## ")), len(lines)
    )
    return heading + 1, end


def _drop_block(body: list[str], old: str) -> list[str]:
    """``body`` without the generated block keyed by the baseline ``old``."""
    out: list[str] = []
    skipping = False
    for line in body:
        match = BEGIN.match(line)
        if match and match.group("old") == old:
            skipping = True
        elif skipping and line == END:
            skipping = False
        elif not skipping:
            out.append(line)
    return out


def _trim(lines: list[str]) -> list[str]:
    """Without leading and trailing blank lines."""
    while lines and not lines[0].strip():
        lines = lines[1:]
    while lines and not lines[-1].strip():
        lines = lines[:-1]
    return lines


def record(report: Report, changelog: Path = CHANGELOG) -> bool:
    """Write the report into ``changelog``; return whether the file changed."""
    if not changelog.exists() and report.bump is None:
        return False  # nothing to record: do not create the file
    before = changelog.read_text(encoding="utf-8") if changelog.exists() else ""
    after = update_text(before, report)
    if after == before:
        return False
    changelog.write_text(after, encoding="utf-8")
    return True


def record_spec_change(baseline: str, spec: Path = SPEC, changelog: Path = CHANGELOG) -> int:
    """Compare ``spec`` with ``baseline`` and record the result; print one line; exit code."""
    try:
        old_label, old_bytes = read_source(baseline)
    except ApiDiffError as exc:
        print(f"changelog: no baseline to compare with ({exc}); {changelog.name} left as is")
        return 0
    try:
        new_label, new_bytes = read_source(spec)
        report = compare_bytes(old_label, old_bytes, new_label, new_bytes)
    except ApiDiffError as exc:
        print(f"changelog: {exc}; {changelog.name} was not updated", file=sys.stderr)
        return 1
    changed = record(report, changelog)
    if report.bump is None:
        note = "no API changes since" if not changed else "API back at"
        print(f"changelog: {note} {old_label}" + (f"; {changelog.name} updated" if changed else ""))
    else:
        counts = f"{report.count('breaking')} breaking, {report.count('non-breaking')} non-breaking"
        print(
            f"changelog: {changelog.name} records the API changes since {old_label}: {report.bump} ({counts})"
        )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Record API changes in CHANGELOG.md.")
    parser.add_argument(
        "--baseline", default="git:HEAD", help="a file or git:REV (default git:HEAD)"
    )
    parser.add_argument("--spec", type=Path, default=SPEC)
    parser.add_argument("--changelog", type=Path, default=CHANGELOG)
    args = parser.parse_args(argv)
    return record_spec_change(args.baseline, args.spec, args.changelog)


if __name__ == "__main__":
    raise SystemExit(main())
