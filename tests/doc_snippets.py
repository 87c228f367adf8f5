"""The Python code blocks of README.md and docs/*.md: extract, type-check and run them as user code.

Every fenced ``python`` block is a complete program a user could paste into a file. An HTML
comment on the line just before the fence changes what is done with it:

- ``<!-- docs-test: typecheck-only (why) -->``: the block only makes sense against production
  or a service the tests do not start (a Redis host, a real account): type-checked, not run.
- ``<!-- docs-test: excerpt (why) -->``: a few lines shown out of context (a signature, the
  body of a test); neither type-checked nor run. README.md has none.

Blocks run in the test process, in document order, against one emulator served on loopback,
with ``GETSALES_API_KEY`` and ``GETSALES_BASE_URL`` pointing at it (so ``AsyncGetSales()`` with
no arguments talks to the emulator, as in the README's emulator quick start).
"""

from __future__ import annotations

import ast
import contextlib
import inspect
import io
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import anyio

from .conftest import ROOT

__all__ = [
    "DOCUMENTS",
    "Snippet",
    "extract",
    "mypy_errors",
    "narrowing_crutches",
    "run_snippet",
    "snippets",
]

DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
MODES = ("run", "typecheck-only", "excerpt")
RUN_TIMEOUT_S = 60  # real-time guard per block: a hung block fails instead of hanging the suite

_FENCE = re.compile(r"^(?P<indent>\s*)```(?P<info>[^`\s]*)\s*$")
_MARKER = re.compile(r"^\s*<!--\s*docs-test:\s*(?P<mode>[a-z-]+)\b.*-->\s*$")
_PYTHON = {"python", "py", "python3"}
_NARROWING_NAMES = {"cast", "TypeGuard", "TypeIs"}


@dataclass(frozen=True)
class Snippet:
    """One fenced Python block: where it is, its code, and what the docs test does with it."""

    path: Path
    line: int  # 1-based line of the first line of code in the document
    code: str
    mode: str
    heading: str  # the nearest Markdown heading above the block

    @property
    def id(self) -> str:
        path = self.path.relative_to(ROOT) if self.path.is_relative_to(ROOT) else self.path.name
        return f"{path}:{self.line}"

    @property
    def module(self) -> str:
        """A module name for the type check (unique per block)."""
        return re.sub(r"\W", "_", f"{self.path.stem}_{self.line}").lower()


def extract(path: Path) -> list[Snippet]:
    """Every fenced Python block of a Markdown file, with its marker (default: run)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    found: list[Snippet] = []
    heading = ""
    index = 0
    while index < len(lines):
        line = lines[index]
        if line.startswith("#"):
            heading = line.lstrip("#").strip()
        fence = _FENCE.match(line)
        if fence is None:
            index += 1
            continue
        end = next(
            (j for j in range(index + 1, len(lines)) if lines[j].strip() == "```"), len(lines)
        )
        if fence["info"] in _PYTHON:
            body = [text.removeprefix(fence["indent"]) for text in lines[index + 1 : end]]
            found.append(
                Snippet(path, index + 2, "\n".join(body) + "\n", _mode(path, lines, index), heading)
            )
        index = end + 1
    return found


def _mode(path: Path, lines: list[str], fence: int) -> str:
    above = next((lines[j] for j in range(fence - 1, -1, -1) if lines[j].strip()), "")
    marker = _MARKER.match(above)
    if marker is None:
        return "run"
    if marker["mode"] not in MODES:
        message = (
            f"{path.name}:{fence}: unknown docs-test marker {marker['mode']!r}; use one of {MODES}"
        )
        raise ValueError(message)
    return marker["mode"]


def snippets() -> list[Snippet]:
    """The blocks of every document, in document order."""
    return [snippet for path in DOCUMENTS for snippet in extract(path)]


def narrowing_crutches(snippet: Snippet) -> list[str]:
    """Casts, ``type: ignore``, TypeGuard helpers and narrowing asserts: what user code must not need."""
    problems = [
        f"{snippet.id}+{n}: type: ignore"
        for n, text in enumerate(snippet.code.splitlines())
        if "type: ignore" in text
    ]
    for node in ast.walk(ast.parse(snippet.code)):
        if isinstance(node, ast.ImportFrom):
            names = [alias.name for alias in node.names]
        else:
            names = [node.id if isinstance(node, ast.Name) else getattr(node, "attr", "")]
        for name in set(names) & _NARROWING_NAMES:
            problems.append(f"{snippet.id}+{getattr(node, 'lineno', 1) - 1}: {name}")
        if isinstance(node, ast.Assert) and _narrows(node.test):
            problems.append(f"{snippet.id}+{node.lineno - 1}: assert used to narrow a type")
    return problems


def _narrows(test: ast.expr) -> bool:
    if isinstance(test, ast.Call) and isinstance(test.func, ast.Name):
        return test.func.id == "isinstance"
    if isinstance(test, ast.Compare):
        return any(isinstance(op, ast.IsNot) for op in test.ops)
    return isinstance(test, ast.BoolOp) and any(_narrows(value) for value in test.values)


def mypy_errors(blocks: list[Snippet], folder: Path) -> list[str]:
    """``mypy --strict`` over all blocks in one run; errors point at document lines."""
    files = {}
    for snippet in blocks:
        file = folder / f"{snippet.module}.py"
        file.write_text(snippet.code, encoding="utf-8")
        files[file.name] = snippet
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--no-error-summary",
            *map(str, sorted(folder.glob("*.py"))),
        ],
        cwd=ROOT,  # shares .mypy_cache with `make typecheck`
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    errors = []
    for line in result.stdout.splitlines():
        file, _, rest = line.partition(":")
        number, _, message = rest.partition(":")
        snippet = files.get(Path(file).name)
        if snippet is None or not number.isdigit():
            errors.append(line)
        elif ": note:" not in line:
            errors.append(f"{snippet.path.name}:{snippet.line + int(number) - 1}:{message}")
    if result.returncode not in (0, 1) or result.stderr.strip():
        errors.append(f"mypy exited {result.returncode}: {result.stderr.strip()}")
    return errors


def run_snippet(snippet: Snippet) -> str:
    """Execute a block as ``__main__`` (then its ``test_*`` functions); return what it printed."""
    filename = str(snippet.path)  # tracebacks show the document's own lines
    code = compile("\n" * (snippet.line - 1) + snippet.code, filename, "exec")
    namespace: dict[str, object] = {"__name__": "__main__"}
    out = io.StringIO()
    with _deadline(RUN_TIMEOUT_S), contextlib.redirect_stdout(out):
        exec(code, namespace)
        for function in _tests_defined(namespace, filename):
            if inspect.iscoroutinefunction(function):
                anyio.run(function)
            else:
                function()
    return out.getvalue()


def _tests_defined(namespace: dict[str, object], filename: str) -> list[object]:
    tests = []
    for name, value in namespace.items():
        code = getattr(value, "__code__", None)
        if name.startswith("test_") and code is not None and code.co_filename == filename:
            if code.co_argcount:
                message = f"{name}() takes fixtures; documentation tests must be self-contained"
                raise TypeError(message)
            tests.append(value)
    return tests


@contextlib.contextmanager
def _deadline(seconds: int) -> Iterator[None]:
    """Raise TimeoutError in the main thread after ``seconds`` of real time (POSIX)."""
    if not hasattr(signal, "setitimer"):
        yield
        return

    def expire(signum: int, frame: object) -> None:
        raise TimeoutError(f"documentation block still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
