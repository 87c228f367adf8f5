"""Shared fixtures and paths for the test suite."""

from __future__ import annotations

import csv
import shutil
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
SPEC_PATH = ROOT / "openapi" / "bundled.yaml"
OPERATIONS_TSV = Path(__file__).resolve().parent / "fixtures" / "operations.tsv"
NODE_BIN = ROOT / "node_modules" / ".bin"


@cache
def load_spec() -> dict[str, Any]:
    """The shipped OpenAPI description, parsed once per session."""
    doc: dict[str, Any] = yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))
    return doc


@cache
def load_normalized_spec() -> dict[str, Any]:
    """The spec as the generator reads it: patched and normalised by ``codegen/normalize.py``.

    Tests that enumerate operations read this, never the raw file: an operation without an
    operationId gets the same derived id as in the generated code.
    """
    import sys

    sys.path.insert(0, str(ROOT / "codegen"))
    from normalize import load_patches, normalize

    patches = load_patches(ROOT / "overrides" / "patches.yaml")
    doc: dict[str, Any] = normalize(load_spec(), patches, lambda _message: None)
    return doc


@cache
def operations_table() -> list[dict[str, str]]:
    """The 153 operations of the official index (copied from the project reference)."""
    with OPERATIONS_TSV.open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def node_tool(name: str) -> Path:
    """Path of an npm tool installed into the repo, or skip with how to install it."""
    path = NODE_BIN / name
    if not path.exists():
        if shutil.which("npm") is None:
            pytest.skip(f"{name} needs Node.js and npm; install Node.js, then run `make node`")
        pytest.fail(f"{path} is missing; run `make node` (npm ci) to install the pinned npm tools")
    return path
