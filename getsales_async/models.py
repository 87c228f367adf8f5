"""The API's data models: attrs classes generated from the OpenAPI description.

Import them from here (``from getsales_async.models import Lead``), never from ``_generated``:
this module is the stable public surface across generator upgrades. Models load lazily on first
use, so importing this module is cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._generated import models as _models

__all__ = _models.__all__


def __getattr__(name: str) -> Any:
    return getattr(_models, name)


def __dir__() -> list[str]:
    return sorted(__all__)


if TYPE_CHECKING:
    from ._generated.models import *  # noqa: F403
