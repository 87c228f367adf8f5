"""Compare two OpenAPI descriptions and report what changed for SDK users (``make api-diff``).

The report describes the API, not the document the generator is fed. Both descriptions get
``overrides/patches.yaml`` and only the normaliser rules listed in ``API_RULES``: those that decide
names users see (operation ids, schema names, hoisted models), drop what users never pass (auth
headers) or make equivalent spellings of one API equal (``null`` in an enum, one-member unions,
use-site nullability, ``[]`` for an empty map, validation-only ``anyOf``/``oneOf`` recorded as
``x-getsales-required-alternatives``). Rules that shape the document for openapi-python-client
(``GENERATOR_RULES``: ``-param`` request copies, response optionals made required + nullable,
titled nullable unions, ...) and any rule added later are NOT applied, so they never show up as
API changes; tests/test_api_diff.py makes every new rule's author place it in one list or the
other. The structural diff comes from api-smart-diff (npm, pinned in package.json;
``codegen/api_diff.mjs``), and every change is classified for SDK users by
``codegen/api_classify.py``: breaking, non-breaking or docs only. The report groups changes by what
user code touches (``client.leads.get()``, ``Lead.about``) and names the semver bump it implies:
major (breaking), minor (non-breaking), patch (docs only).

Usage::

    python codegen/api_diff.py OLD NEW [--format markdown|json] [--fail-on-breaking]

OLD and NEW are files (YAML or JSON) or ``git:REV`` for ``openapi/bundled.yaml`` at a revision
(``make api-diff OLD=git:HEAD NEW=openapi/bundled.yaml`` is the default). Exit codes: 0 done, 1 the
comparison failed (one line says why), 3 breaking changes with ``--fail-on-breaking``.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

import normalize as normaliser
from api_classify import Finding, Level, MethodName, classify
from normalize import apply_patches, load_patches, walk
from spec_facts import REQUIRED_ALTERNATIVES_KEY

__all__ = ["ApiDiffError", "Change", "Report", "compare", "main", "read_source", "render_markdown"]

ROOT = Path(__file__).resolve().parent.parent
SPEC_RELPATH = "openapi/bundled.yaml"
OVERRIDES = ROOT / "overrides"
DIFFER = ROOT / "codegen" / "api_diff.mjs"
MAX_SPEC_BYTES = 32 * 1024 * 1024  # a description larger than this is refused (ours: ~0.4 MiB)
MAX_DIFFER_OUTPUT_BYTES = 256 * 1024 * 1024
DIFFER_TIMEOUT_S = 300.0
GIT_TIMEOUT_S = 30.0
LEVELS: tuple[Level, ...] = ("breaking", "non-breaking", "docs")
BUMPS: dict[Level, str] = {"breaking": "major", "non-breaking": "minor", "docs": "patch"}
LIST_OPERATIONS = 6  # operations named per change in Markdown before "and N more"
LIST_DOCS = 12  # docs-only subjects named in Markdown before "and N more"

Json = Any
Rule = Callable[[dict[str, Json], Callable[[str], None]], None]
ENUM_VALUE = re.compile(r"^(request|response) enum value `(.*)` (added|removed)(.*)$")


class ApiDiffError(Exception):
    """A description could not be read or compared; the message says what to do."""


@dataclass(frozen=True)
class Change:
    """One change as users see it, with every operation it shows up in."""

    level: Level
    subject: str
    message: str
    operations: tuple[str, ...] = ()


@dataclass(frozen=True)
class Report:
    """What changed between two descriptions, classified, with the semver bump it implies."""

    old_label: str
    new_label: str
    old_sha256: str
    new_sha256: str
    tool: str
    changes: tuple[Change, ...]
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    changed: tuple[str, ...] = field(default=())

    def count(self, level: Level) -> int:
        return sum(1 for c in self.changes if c.level == level)

    @property
    def bump(self) -> str | None:
        """``major``, ``minor``, ``patch`` or None when nothing changed."""
        for level in LEVELS:
            if self.count(level):
                return BUMPS[level]
        return None

    def to_json(self) -> dict[str, Json]:
        return {
            "old": {"source": self.old_label, "sha256": self.old_sha256},
            "new": {"source": self.new_label, "sha256": self.new_sha256},
            "tool": self.tool,
            "bump": self.bump,
            "counts": {level: self.count(level) for level in LEVELS},
            "operations": {
                "added": list(self.added),
                "removed": list(self.removed),
                "changed": list(self.changed),
            },
            "changes": [
                {
                    "level": c.level,
                    "subject": c.subject,
                    "message": c.message,
                    "operations": list(c.operations),
                }
                for c in self.changes
            ],
        }


# --------------------------------------------------------------------------- inputs


def read_source(source: str | Path) -> tuple[str, bytes]:
    """(label, bytes) of a description: a file, or ``git:REV`` for the snapshot at a revision."""
    text = str(source)
    if text.startswith("git:"):
        rev = text[4:] or "HEAD"
        git = shutil.which("git")
        if git is None:
            raise ApiDiffError(f"{text}: git is not installed; pass a file instead")
        proc = subprocess.run(
            [git, "show", f"{rev}:{SPEC_RELPATH}"],
            cwd=ROOT,
            capture_output=True,
            timeout=GIT_TIMEOUT_S,
            check=False,
        )
        if proc.returncode != 0:
            why = proc.stderr.decode(errors="replace").strip().splitlines()[:1]
            raise ApiDiffError(f"{text}: cannot read {SPEC_RELPATH} at {rev} ({' '.join(why)})")
        data = proc.stdout
    else:
        path = Path(source)
        if not path.is_file():
            raise ApiDiffError(f"{path}: no such file; pass an OpenAPI description (YAML or JSON)")
        if path.stat().st_size > MAX_SPEC_BYTES:
            raise ApiDiffError(
                f"{path}: larger than {MAX_SPEC_BYTES >> 20} MiB; not a description?"
            )
        data = path.read_bytes()
    if len(data) > MAX_SPEC_BYTES:
        raise ApiDiffError(f"{text}: larger than {MAX_SPEC_BYTES >> 20} MiB; not a description?")
    return text, data


# The normaliser rules the report applies (in the normaliser's order), by name; every other rule
# of ``normalize.RULES`` only shapes the document for the generator and is skipped.
API_RULES = frozenset(
    {
        "rule_operation_ids",  # operations without an id get the one the SDK names them by
        "rule_parameters",  # auth headers are the client's; `content:` parameters as `schema:`
        "rule_array_items",
        "rule_unwrap_single_unions",
        "rule_validation_only_anyof",  # "at least one of" rules, compared as such (api_schema_rules)
        "rule_empty_array_as_object",  # `oneOf [map, []]` reads as the map in the SDK
        "rule_enums",  # `null` listed in an enum = nullable
        "rule_nullable_use_site",
        "rule_hoist_nullable_inline_objects",  # models users see (`LeadAbout`)
        "rule_schema_names",  # class names users see
    }
)
GENERATOR_RULES = frozenset(
    {
        "rule_split_request_response_schemas",
        "rule_response_optionals",
        "rule_nullable_allof_drop_type",
        "rule_nullable_inline_schemas",
    }
)


def parse(label: str, data: bytes) -> dict[str, Json]:
    """Parse a description and normalise it for comparison (patches + ``API_RULES``)."""
    try:
        doc = yaml.load(data, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as exc:
        raise ApiDiffError(f"{label}: not valid YAML or JSON ({exc.__class__.__name__})") from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("paths"), dict):
        raise ApiDiffError(f"{label}: not an OpenAPI document (no 'paths' mapping)")
    return normalize_for_report(doc)


def normalize_for_report(doc: dict[str, Json]) -> dict[str, Json]:
    """A copy of ``doc`` with the patches and the API rules of the normaliser applied."""

    def quiet(_line: str) -> None:
        return None

    out = copy.deepcopy(doc)
    apply_patches(out, load_patches(OVERRIDES / "patches.yaml"), quiet)
    for rule in normaliser.RULES:
        if rule.__name__ not in API_RULES:
            continue  # shapes the document for the generator only (or not yet placed)
        if rule.__name__ == "rule_validation_only_anyof":
            rule = _without_explanations(rule)
        rule(out, quiet)
    return out


def _without_explanations(rule: Rule) -> Rule:
    """Run ``rule`` but keep descriptions: the "Provide at least one of" text is ours, not the API's.

    The alternatives themselves (``x-getsales-required-alternatives``) are compared and classified.
    """

    def run(doc: dict[str, Json], log: Callable[[str], None]) -> None:
        texts: list[tuple[dict[str, Json], Json]] = []

        def remember(node: dict[str, Json]) -> None:
            if "anyOf" in node or "oneOf" in node:
                texts.append((node, node.get("description")))

        walk(doc, remember)
        rule(doc, log)
        for node, text in texts:
            if REQUIRED_ALTERNATIVES_KEY not in node:
                continue
            if text is None:
                node.pop("description", None)
            else:
                node["description"] = text

    return run


# --------------------------------------------------------------------------- the differ


def run_differ(old: dict[str, Json], new: dict[str, Json]) -> tuple[str, list[dict[str, Json]]]:
    """Run api-smart-diff on two normalised documents; return (tool@version, raw diffs)."""
    node = shutil.which("node")
    if node is None or not (ROOT / "node_modules" / "api-smart-diff").is_dir():
        raise ApiDiffError("the API differ needs Node.js and npm tools: run `make node` first")
    with tempfile.TemporaryDirectory(prefix="getsales-api-diff-") as tmp:
        paths = [Path(tmp) / "old.json", Path(tmp) / "new.json"]
        for path, doc in zip(paths, (old, new), strict=True):
            path.write_text(json.dumps(doc), encoding="utf-8")
        try:
            proc = subprocess.run(
                [node, str(DIFFER), *map(str, paths)],
                capture_output=True,
                timeout=DIFFER_TIMEOUT_S,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise ApiDiffError(f"the API differ ran over {DIFFER_TIMEOUT_S:.0f} s") from exc
    if proc.returncode != 0:
        why = proc.stderr.decode(errors="replace").strip().splitlines()[-1:]
        raise ApiDiffError(f"the API differ failed: {' '.join(why) or proc.returncode}")
    if len(proc.stdout) > MAX_DIFFER_OUTPUT_BYTES:
        raise ApiDiffError("the API differ's output is implausibly large; compare smaller files")
    try:
        out = json.loads(proc.stdout)
        return str(out["tool"]), list(out["diffs"])
    except (ValueError, KeyError, TypeError) as exc:
        raise ApiDiffError("the API differ printed something other than its JSON report") from exc


def method_namer(*docs: dict[str, Json]) -> MethodName:
    """operation object -> ``client.<resource>.<method>``, named as ``codegen/resources.py`` does.

    Names are assigned per document with the generator's collision handling
    (``assign_method_names``), so an operation of ``docs`` is named as the SDK generated from that
    document names it; any other operation object is named on its own.
    """
    from operation_facts import ResourceConfig, method_name, resource_attribute, resource_nouns

    config = ResourceConfig.load(OVERRIDES / "resources.yaml")
    assigned = {id(op): name for doc in docs for op, name in _document_names(doc, config)}

    def name(op: dict[str, Json]) -> str:
        if id(op) in assigned:
            return assigned[id(op)]
        tag = str((op.get("tags") or ["default"])[0])
        operation_id = str(op.get("operationId") or "unnamed")
        method = method_name(operation_id, resource_nouns(tag, config), config.methods)
        return f"client.{resource_attribute(tag, config)}.{method}"

    return name


def _document_names(doc: dict[str, Json], config: Any) -> list[tuple[dict[str, Json], str]]:
    """(operation object, ``client.<resource>.<method>``) for every operation of ``doc``."""
    from operation_facts import Op, assign_method_names, resource_attribute, resource_nouns

    by_tag: dict[str, list[tuple[dict[str, Json], Op]]] = {}
    for path, method, op in normaliser.operations(doc):
        tag = str((op.get("tags") or ["default"])[0])
        stub = Op(str(op.get("operationId") or "unnamed"), method, path, "", "", "", [], [])
        by_tag.setdefault(tag, []).append((op, stub))
    out: list[tuple[dict[str, Json], str]] = []
    for tag, pairs in by_tag.items():
        assign_method_names([s for _, s in pairs], resource_nouns(tag, config), config.methods)
        prefix = f"client.{resource_attribute(tag, config)}"
        out += [(op, f"{prefix}.{stub.method_name}") for op, stub in pairs]
    return out


def renamed_methods(old: dict[str, Json], new: dict[str, Json], namer: MethodName) -> list[Finding]:
    """Operations kept at the same path whose SDK method name changed (a new name collision too)."""
    found: list[Finding] = []
    new_ops = {(path, method): op for path, method, op in normaliser.operations(new)}
    for path, method, op in normaliser.operations(old):
        counterpart = new_ops.get((path, method))
        if counterpart is None:
            continue
        before, after = namer(op), namer(counterpart)
        if before != after:
            what = f"method renamed to `{after}()`"
            found.append(Finding("breaking", f"{before}()", what, f"{after}()"))
    return found


# --------------------------------------------------------------------------- the report


def compare(old: str | Path, new: str | Path) -> Report:
    """Compare two descriptions (files or ``git:REV``) and classify every change."""
    old_label, old_bytes = read_source(old)
    new_label, new_bytes = read_source(new)
    return compare_bytes(old_label, old_bytes, new_label, new_bytes)


def compare_bytes(old_label: str, old_bytes: bytes, new_label: str, new_bytes: bytes) -> Report:
    """Compare two descriptions given as bytes; labels name them in the report."""
    shas = hashlib.sha256(old_bytes).hexdigest(), hashlib.sha256(new_bytes).hexdigest()
    if shas[0] == shas[1]:
        return Report(old_label, new_label, *shas, tool="(identical files)", changes=())
    old_doc, new_doc = parse(old_label, old_bytes), parse(new_label, new_bytes)
    tool, diffs = run_differ(old_doc, new_doc)
    namer = method_namer(old_doc, new_doc)
    findings = renamed_methods(old_doc, new_doc, namer) + [
        f
        for d in diffs
        for f in classify(
            d.get("path") or [],
            str(d.get("action")),
            d.get("before"),
            d.get("after"),
            old_doc,
            new_doc,
            namer,
        )
    ]
    return build_report(old_label, new_label, shas, tool, findings)


def build_report(
    old_label: str, new_label: str, shas: tuple[str, str], tool: str, findings: Iterable[Finding]
) -> Report:
    """Group findings by (level, subject, message), collecting the operations they appear in."""
    groups: dict[tuple[Level, str, str], set[str]] = {}
    added: set[str] = set()
    removed: set[str] = set()
    touched: set[str] = set()
    for f in findings:
        ops = groups.setdefault((f.level, f.subject, f.message), set())
        if f.operation:
            ops.add(f.operation)
            if f.message.startswith("operation added"):
                added.add(f.operation)
            elif f.message.startswith("operation removed"):
                removed.add(f.operation)
            else:
                touched.add(f.operation)
    order = {level: i for i, level in enumerate(LEVELS)}
    merged = _merge_enum_values(
        Change(level, subject, message, tuple(sorted(ops)))
        for (level, subject, message), ops in groups.items()
    )
    changes = tuple(sorted(merged, key=lambda c: (order[c.level], c.subject, c.message)))
    changed = tuple(sorted(touched - added - removed))
    return Report(
        old_label,
        new_label,
        *shas,
        tool,
        changes,
        tuple(sorted(added)),
        tuple(sorted(removed)),
        changed,
    )


def _merge_enum_values(changes: Iterable[Change]) -> list[Change]:
    """One line per enum and direction: "enum values `a`, `b` added" rather than one per value."""
    out: list[Change] = []
    values: dict[tuple[Any, ...], list[str]] = {}
    for change in changes:
        match = ENUM_VALUE.match(change.message)
        if match is None:
            out.append(change)
            continue
        side, value, verb, note = match.groups()
        values.setdefault((change.level, change.subject, side, verb, note, change.operations), [])
        values[(change.level, change.subject, side, verb, note, change.operations)].append(value)
    for (level, subject, side, verb, note, ops), names in values.items():
        if len(names) == 1:
            message = f"{side} enum value `{names[0]}` {verb}{note}"
        else:
            message = (
                f"{side} enum values {', '.join(f'`{n}`' for n in sorted(names))} {verb}{note}"
            )
        out.append(Change(level, subject, message, ops))
    return out


def render_markdown(report: Report, level: int = 3, *, labels: bool = True) -> str:
    """The report as Markdown, headed at ``level``; ``labels=False`` names snapshots by hash only."""
    h = "#" * level
    old, new = report.old_sha256[:12], report.new_sha256[:12]
    if labels:
        title = f"`{report.old_label}` ({old}) → `{report.new_label}` ({new})"
    else:
        title = f"`{SPEC_RELPATH}` {old} → {new}"
    lines = [f"{h} API changes: {title}", ""]
    if report.bump is None:
        return "\n".join([*lines, "No API changes.", ""])
    counts = ", ".join(f"{report.count(lv)} {lv}" for lv in LEVELS).replace("docs", "docs-only")
    ops = (
        f"operations: {len(report.added)} added, {len(report.removed)} removed, "
        f"{len(report.changed)} changed"
    )
    lines += [f"Semver bump implied: **{report.bump}** ({counts}; {ops}).", ""]
    titles = {"breaking": "Breaking", "non-breaking": "Non-breaking", "docs": "Documentation only"}
    for lv in LEVELS:
        changes = [c for c in report.changes if c.level == lv]
        if changes:
            lines += [f"{h}# {titles[lv]}", ""]
            lines += _docs_lines(changes) if lv == "docs" else [_line(c) for c in changes]
            lines.append("")
    lines.append(
        f"Compared with {report.tool}; classified for SDK users by codegen/api_classify.py."
    )
    return "\n".join(lines) + "\n"


def _line(change: Change) -> str:
    text = f"- `{change.subject}`: {change.message}"
    others = [] if change.subject.startswith("client.") else list(change.operations)
    if others:
        shown = ", ".join(f"`{op}`" for op in others[:LIST_OPERATIONS])
        more = len(others) - LIST_OPERATIONS
        text += f" (in {shown}{f' and {more} more' if more > 0 else ''})"
    return text


def _docs_lines(changes: list[Change]) -> list[str]:
    subjects = sorted({c.subject for c in changes})
    shown = ", ".join(f"`{s}`" for s in subjects[:LIST_DOCS])
    more = len(subjects) - LIST_DOCS
    return [f"- text changed for {shown}{f' and {more} more' if more > 0 else ''}"]


# --------------------------------------------------------------------------- command line


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Compare two OpenAPI descriptions for SDK users.")
    parser.add_argument("old", help="old description: a file or git:REV (e.g. git:HEAD)")
    parser.add_argument("new", help="new description: a file or git:REV")
    parser.add_argument("--format", choices=("markdown", "json"), default="markdown")
    parser.add_argument(
        "--fail-on-breaking", action="store_true", help="exit 3 when a change breaks SDK users"
    )
    args = parser.parse_args(argv)
    try:
        report = compare(args.old, args.new)
    except ApiDiffError as exc:
        print(f"api-diff: {exc}", file=sys.stderr)
        return 1
    if args.format == "json":
        print(json.dumps(report.to_json(), indent=2))
    else:
        print(render_markdown(report), end="")
    return 3 if args.fail_on_breaking and report.count("breaking") else 0


if __name__ == "__main__":
    raise SystemExit(main())
