"""The package's public names: each loads from its module on first use, and `dir()` lists them all."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys

import pytest

import getsales_async

from .conftest import ROOT

INIT = ROOT / "getsales_async" / "__init__.py"

# Modules a client's construction must not load: they serve later or rarer paths.
DEFERRED = (
    "getsales_async._pagination",
    "getsales_async._resource",
    "getsales_async._generated.types",
    "getsales_async._bulk",
    "getsales_async._csv",
    "getsales_async._export",
    "getsales_async._mass_actions",
    "getsales_async._redis_limiter",
    "getsales_async._statistics",
    "anyio.lowlevel",
)


def _type_checking_imports() -> dict[str, tuple[str, ...]]:
    """The ``if TYPE_CHECKING:`` imports of ``__init__.py``, as module -> names."""
    tree = ast.parse(INIT.read_text(encoding="utf-8"))
    [block] = [
        node
        for node in tree.body
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING"
    ]
    imports: dict[str, tuple[str, ...]] = {}
    for node in block.body:
        assert isinstance(node, ast.ImportFrom)
        imports["." * node.level + (node.module or "")] = tuple(a.name for a in node.names)
    return imports


class TestPublicNames:
    @pytest.mark.parametrize("name", sorted(set(getsales_async.__all__) - {"__version__"}))
    def test_name_resolves_to_its_module_object_always(self, name: str) -> None:
        """Each public name is the very object its module defines."""
        module = importlib.import_module(getsales_async._LAZY[name], "getsales_async")
        assert getattr(getsales_async, name) is getattr(module, name)

    def test_lazy_table_matches_all_and_type_checking_imports_always(self) -> None:
        """`__all__`, the lazy table and the TYPE_CHECKING imports name the same things."""
        declared = {
            module: tuple(sorted(names)) for module, names in _type_checking_imports().items()
        }
        table = {module: tuple(sorted(names)) for module, names in getsales_async._EXPORTS.items()}
        assert declared == table
        assert set(getsales_async._LAZY) | {"__version__"} == set(getsales_async.__all__)

    def test_unknown_name_raises_attribute_error_when_missing(self) -> None:
        """A name the package does not export is an AttributeError, as for any module."""
        with pytest.raises(AttributeError, match="has no attribute 'NoSuchThing'"):
            _ = getsales_async.NoSuchThing  # type: ignore[attr-defined]

    def test_dir_lists_every_public_name_before_first_use(self) -> None:
        """`dir()` (and completion) shows every public name in a fresh interpreter."""
        code = (
            "import getsales_async as g; missing = set(g.__all__) - set(dir(g)); "
            "assert not missing, missing; assert 'RateLimit' not in vars(g)"
        )
        subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, timeout=60)


class TestImportFootprint:
    def test_client_construction_leaves_rarer_machinery_unloaded_always(self) -> None:
        """Importing and building a client does not load pagination, CSV, export or Redis code."""
        code = (
            "import sys\n"
            "from getsales_async import AsyncGetSales, RateLimit\n"
            "AsyncGetSales(api_key='gs-footprint', rate_limit=RateLimit.per_second(5))\n"
            f"print(' '.join(m for m in {DEFERRED!r} if m in sys.modules))\n"
        )
        done = subprocess.run(
            [sys.executable, "-c", code],
            check=True,
            cwd=ROOT,
            timeout=60,
            capture_output=True,
            text=True,
        )
        assert done.stdout.split() == []
