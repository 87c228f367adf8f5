"""Files replaced whole: written beside the target, synced, then renamed over it.

A reader (or a crash) sees the old content or the new one, never a half-written file. The
temporary file is ``.<name>.<pid>.tmp`` in the target's directory (a rename is atomic only within
one filesystem); after the rename the directory is synced too, so the new name survives a machine
crash where the platform allows it.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import IO, Any

__all__ = ["move_into_place", "temporary_sibling", "write_atomic"]


def temporary_sibling(path: Path) -> Path:
    """The temporary file a new version of ``path`` is written to."""
    return path.with_name(f".{path.name}.{os.getpid()}.tmp")


def _fsync_dir(directory: Path) -> None:
    with contextlib.suppress(OSError):  # not every platform or filesystem allows it
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def move_into_place(handle: IO[Any], tmp: Path, path: Path) -> None:
    """Flush, sync and close ``handle`` (open on ``tmp``), then rename ``tmp`` over ``path``."""
    handle.flush()
    os.fsync(handle.fileno())
    handle.close()
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def write_atomic(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` (the temporary file is removed if writing fails)."""
    tmp = temporary_sibling(path)
    handle = tmp.open("wb")
    try:
        handle.write(data)
        move_into_place(handle, tmp, path)
    except BaseException:
        handle.close()
        tmp.unlink(missing_ok=True)
        raise
