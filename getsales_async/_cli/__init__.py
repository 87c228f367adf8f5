"""The ``getsales`` command line (see ``_main.py``; one module per command group)."""

from ._main import main

__all__ = ["main"]
