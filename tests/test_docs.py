"""README.md and docs/*.md: every Python block type-checks under ``mypy --strict`` and runs.

See ``tests/doc_snippets.py`` for the markers (``typecheck-only``, ``excerpt``) and how blocks run.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest

from getsales_async.testing import GetSalesEmulator

from .doc_snippets import Snippet, extract, mypy_errors, narrowing_crutches, run_snippet, snippets

ALL = snippets()
CHECKED = [s for s in ALL if s.mode != "excerpt"]
RUN = [s for s in ALL if s.mode == "run"]
README = Path(__file__).resolve().parent.parent / "README.md"


@pytest.fixture(scope="module")
def emulator_url() -> Iterator[str]:
    """One emulator for the module, served on loopback; blocks build on each other in order.

    Without the per-key quota: every block starts a new client whose limiter starts a fresh
    burst, which the emulator would rightly count against the previous block's requests.
    """
    with GetSalesEmulator(quota=None).serve_in_thread() as url:
        yield url


@pytest.fixture
def user_environment(
    emulator_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[None]:
    """The shell of the README's emulator quick start, in an empty working directory."""
    monkeypatch.setenv("GETSALES_API_KEY", "emulator-key")
    monkeypatch.setenv("GETSALES_BASE_URL", emulator_url)
    for name in ("GETSALES_TEAM_ID", "GETSALES_REDIS_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    yield
    gc.collect()  # forget the block's clients, and with them the key's shared limiter


class TestExtraction:
    def test_every_document_block_is_found_with_its_marker(self) -> None:
        """README has blocks, all of them checked and run-or-typechecked; markers are parsed."""
        readme = extract(README)
        assert len(readme) >= 6
        assert all(s.mode in ("run", "typecheck-only") for s in readme)
        assert any(s.mode == "typecheck-only" for s in ALL)

    def test_unknown_marker_is_an_error(self, tmp_path: Path) -> None:
        """A misspelt marker fails instead of silently skipping the block."""
        doc = tmp_path / "doc.md"
        doc.write_text("<!-- docs-test: typecheck -->\n```python\nx = 1\n```\n", encoding="utf-8")
        with pytest.raises(ValueError, match="unknown docs-test marker"):
            extract(doc)

    def test_crutches_are_found(self, tmp_path: Path) -> None:
        """cast, type: ignore and assert isinstance are reported with their place."""
        doc = tmp_path / "doc.md"
        doc.write_text(
            "```python\nfrom typing import cast\nx = cast(int, 1)  # type: ignore\n"
            "assert isinstance(x, int)\nassert x == 1\n```\n",
            encoding="utf-8",
        )
        (snippet,) = extract(doc)
        found = narrowing_crutches(snippet)
        assert len([p for p in found if p.endswith(": cast")]) == 2
        assert any("type: ignore" in p for p in found)
        assert [p for p in found if "assert" in p] == ["doc.md:2+2: assert used to narrow a type"]

    def test_test_functions_of_a_block_are_run(self, tmp_path: Path) -> None:
        """A block that defines test_* functions has them called, async ones on an event loop."""
        doc = tmp_path / "doc.md"
        doc.write_text(
            "```python\nasync def test_fails() -> None:\n    raise LookupError('ran')\n```\n",
            encoding="utf-8",
        )
        (snippet,) = extract(doc)
        with pytest.raises(LookupError, match="ran"):
            run_snippet(snippet)


class TestTypes:
    def test_every_block_passes_mypy_strict(self, tmp_path: Path) -> None:
        """All checked blocks, in one mypy --strict run, with errors at their document lines."""
        errors = mypy_errors(CHECKED, tmp_path)
        assert errors == [], "\n".join(errors)

    @pytest.mark.parametrize("snippet", CHECKED, ids=lambda s: s.id)
    def test_block_needs_no_cast_ignore_or_narrowing_assert(self, snippet: Snippet) -> None:
        """User code reads the SDK's types as they are: no cast, type: ignore or assert isinstance."""
        assert narrowing_crutches(snippet) == []


@pytest.mark.usefixtures("user_environment")
class TestExecution:
    @pytest.mark.parametrize("snippet", RUN, ids=lambda s: s.id)
    def test_block_runs_against_the_emulator(self, snippet: Snippet) -> None:
        """Each block runs to completion against the emulator, in document order."""
        run_snippet(snippet)

    def test_quick_start_says_something_and_runs_again(self) -> None:
        """The quick start prints what it did on its first run and runs again without error."""
        quick_start = next(s for s in extract(README) if "quick start" in s.heading.lower())
        first = run_snippet(quick_start)
        second = run_snippet(quick_start)
        assert len(first.splitlines()) >= 2, first
        assert "Unset" not in first and "None" not in first, first
        assert second.splitlines()[0] == first.splitlines()[0], second
