"""The emulator's documentation: the operations table is complete and matches the emulator.

The code samples of docs/emulator.md and docs/webhooks.md are type-checked and run with every
other documentation block by ``tests/test_docs.py``.
"""

from __future__ import annotations

import re
from collections import Counter

from getsales_async.testing import IMPLEMENTED_OPERATIONS

from .conftest import ROOT, load_spec

EMULATOR_DOC = ROOT / "docs" / "emulator.md"
CLASSES = ("stored", "effect", "computed", "catalogue")
ROW = re.compile(r"^\| `client\.[\w.]+` \| (\w+) \| `([^`]+)` \| `(\w+)` \| (\w+) \| (.+) \|$")


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


class TestOperationsTable:
    def test_every_spec_operation_is_listed_once_with_a_class(self) -> None:
        """docs/emulator.md has one row per operation of the spec, each with a known class."""
        rows = table()
        assert set(rows) == spec_operations()
        assert set(rows.values()) <= set(CLASSES)

    def test_classes_match_what_the_emulator_implements(self) -> None:
        """Every row is an implemented operation; the counts line matches the rows."""
        rows = table()
        assert set(rows) == IMPLEMENTED_OPERATIONS
        counts = Counter(rows.values())
        line = ", ".join(f"{kind} {counts[kind]}" for kind in CLASSES)
        assert f"Counts: {line} ({len(rows)})." in EMULATOR_DOC.read_text(encoding="utf-8")
