"""The emulator's and webhooks' documentation: the operations table is complete, the samples run."""

from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from getsales_async.testing import IMPLEMENTED_OPERATIONS

from .conftest import ROOT, load_spec

EMULATOR_DOC = ROOT / "docs" / "emulator.md"
WEBHOOKS_DOC = ROOT / "docs" / "webhooks.md"
CLASSES = ("stored", "effect", "computed", "catalogue", "bulk")
ROW = re.compile(r"^\| `client\.[\w.]+` \| (\w+) \| `([^`]+)` \| `(\w+)` \| (\w+) \| (.+) \|$")
PROCESS_TIMEOUT_S = 300


def spec_operations() -> set[str]:
    return {
        op["operationId"]
        for item in load_spec()["paths"].values()
        for op in item.values()
        if isinstance(op, dict) and "operationId" in op
    }


def table() -> dict[str, str]:
    """operationId → class, from the operations table of docs/emulator.md."""
    rows = [ROW.match(line) for line in EMULATOR_DOC.read_text(encoding="utf-8").splitlines()]
    return {m.group(3): m.group(4) for m in rows if m is not None}


def sample(doc: Path, marker: str) -> str:
    """The python code block of ``doc`` that contains ``marker``."""
    blocks = re.findall(r"```python\n(.*?)```", doc.read_text(encoding="utf-8"), re.S)
    [found] = [b for b in blocks if marker in b]
    return str(found)


class TestOperationsTable:
    def test_every_spec_operation_is_listed_once_with_a_class(self) -> None:
        """docs/emulator.md has one row per operation of the spec, each with a known class."""
        rows = table()
        assert set(rows) == spec_operations()
        assert set(rows.values()) <= set(CLASSES)

    def test_classes_match_what_the_emulator_implements(self) -> None:
        """Rows not marked bulk are implemented; the counts line matches the rows."""
        rows = table()
        assert {op for op, kind in rows.items() if kind != "bulk"} <= IMPLEMENTED_OPERATIONS
        counts = Counter(rows.values())
        line = ", ".join(f"{kind} {counts[kind]}" for kind in CLASSES)
        assert f"Counts: {line} ({len(rows)})." in EMULATOR_DOC.read_text(encoding="utf-8")


@pytest.mark.slow
class TestSamples:
    def test_samples_type_check_and_run(self, tmp_path: Path) -> None:
        """The complete scenario and the receiver sample pass mypy --strict and run."""
        scenario = tmp_path / "scenario.py"
        scenario.write_text(sample(EMULATOR_DOC, "anyio.run(main)"), encoding="utf-8")
        receiver = tmp_path / "receiver.py"
        receiver.write_text(sample(WEBHOOKS_DOC, "WebhookReceiver(on_event"), encoding="utf-8")
        typed = subprocess.run(
            [
                sys.executable,
                "-m",
                "mypy",
                "--strict",
                "--no-error-summary",
                str(scenario),
                str(receiver),
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=PROCESS_TIMEOUT_S,
            check=False,
        )
        assert typed.returncode == 0, typed.stdout + typed.stderr
        for path in (scenario, receiver):
            ran = subprocess.run(
                [sys.executable, str(path)],
                cwd=ROOT,
                capture_output=True,
                text=True,
                timeout=PROCESS_TIMEOUT_S,
                check=False,
            )
            assert ran.returncode == 0, ran.stdout + ran.stderr
