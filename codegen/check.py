"""Fail when ``getsales_async/_generated`` differs from a fresh generation (``make check-generated``).

Regenerates into a temporary folder and compares the whole tree: changed, added and removed files.
"""

from __future__ import annotations

import filecmp
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate import DOCS, OUTPUTS, PACKAGE_ROOT, GenerationError, generate

__all__ = ["diff_trees", "main"]


def tree(root: Path) -> set[str]:
    return {
        str(p.relative_to(root))
        for p in root.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }


def diff_trees(expected: Path, actual: Path) -> list[str]:
    """Human-readable differences between two trees (empty when identical)."""
    want, have = tree(expected), tree(actual)
    problems = [f"missing (would be generated): {p}" for p in sorted(want - have)]
    problems += [f"not generated (added by hand?): {p}" for p in sorted(have - want)]
    problems += [
        f"differs from generation (edited by hand?): {p}"
        for p in sorted(want & have)
        if not filecmp.cmp(expected / p, actual / p, shallow=False)
    ]
    return problems


def compare(fresh_root: Path, fresh_docs: Path, root: Path, docs: Path) -> list[str]:
    """Differences between a fresh generation and the tree at ``root`` (+ the operations doc)."""
    problems: list[str] = []
    for name in OUTPUTS:
        actual = root / name
        if not actual.exists():
            problems.append(f"missing directory: {actual} (run `make generate`)")
            continue
        problems += [
            p.replace(": ", f": {name}/", 1) for p in diff_trees(fresh_root / name, actual)
        ]
    if not docs.exists() or docs.read_bytes() != fresh_docs.read_bytes():
        problems.append(f"differs from generation: {docs.name} (docs/operations.md)")
    return problems


def main(argv: list[str] | None = None) -> int:
    """Regenerate into a temporary folder and compare; ``argv`` may name another package root."""
    root = Path(argv[0]) if argv else PACKAGE_ROOT
    docs = Path(argv[1]) if argv and len(argv) > 1 else DOCS
    with tempfile.TemporaryDirectory(prefix="getsales-check-") as tmp:
        fresh_root = Path(tmp) / "pkg"
        fresh_docs = Path(tmp) / "operations.md"
        try:
            generate(fresh_root, docs=fresh_docs, quiet=True)
        except GenerationError as exc:
            print(f"check-generated: generation failed:\n{exc}", file=sys.stderr)
            return 1
        problems = compare(fresh_root, fresh_docs, root, docs)
    if problems:
        print(
            "Generated sources are outdated. Please regenerate with `make generate`.",
            file=sys.stderr,
        )
        for line in problems[:50]:
            print(f"  {line}", file=sys.stderr)
        if len(problems) > 50:
            print(f"  ... and {len(problems) - 50} more", file=sys.stderr)
        return 1
    print("check-generated: generated code matches the spec and overrides.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
