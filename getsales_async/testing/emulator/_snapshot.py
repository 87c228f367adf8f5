"""Snapshots of an emulator's records: pickled once, loaded as often as needed.

The state is pickled with the clock and the webhook transport left out by name (they belong to
the emulator, not to the records), and loaded back with the emulator's own. Loading a snapshot of
a few hundred records takes about a millisecond, so tests can seed once and restore per test.
"""

from __future__ import annotations

import io
import pickle
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ._state import EmulatorState

__all__ = ["EmulatorSnapshot", "load_snapshot", "take_snapshot"]


@dataclass(frozen=True)
class EmulatorSnapshot:
    """Every record of an emulator at one moment (:meth:`GetSalesEmulator.snapshot`), pickled."""

    data: bytes = field(repr=False)


class _SharingPickler(pickle.Pickler):
    """Pickles the state, referring to the shared objects by name instead of copying them."""

    def __init__(self, file: io.BytesIO, shared: Mapping[str, Any]) -> None:
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self._names = {id(obj): name for name, obj in shared.items() if obj is not None}

    def persistent_id(self, obj: Any) -> str | None:
        return self._names.get(id(obj))


class _SharingUnpickler(pickle.Unpickler):
    """Unpickles a snapshot made by :class:`_SharingPickler`, putting the shared objects back."""

    def __init__(self, file: io.BytesIO, shared: Mapping[str, Any]) -> None:
        super().__init__(file)
        self._shared = shared

    def persistent_load(self, pid: Any) -> Any:
        return self._shared[str(pid)]


def take_snapshot(state: EmulatorState, shared: Mapping[str, Any]) -> EmulatorSnapshot:
    """Pickle ``state``, referring to the ``shared`` objects by name."""
    buffer = io.BytesIO()
    _SharingPickler(buffer, shared).dump(state)
    return EmulatorSnapshot(buffer.getvalue())


def load_snapshot(snapshot: EmulatorSnapshot, shared: Mapping[str, Any]) -> EmulatorState:
    """A fresh copy of the snapshot's state, with the ``shared`` objects put back."""
    state = _SharingUnpickler(io.BytesIO(snapshot.data), shared).load()
    if not isinstance(state, EmulatorState):  # pragma: no cover - only take_snapshot makes them
        message = "the snapshot does not hold an emulator state"
        raise TypeError(message)
    return state
