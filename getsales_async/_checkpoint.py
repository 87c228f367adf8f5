"""Checkpoint files jobs can trust: an append-only record log and atomically replaced state.

:class:`RecordLog` is the format of import checkpoints (and of any job that records one result
per item): one JSON record per line, each prefixed by the CRC-32 of its bytes::

    3b1f09c2 {"t":"job",...}
    91aa07d3 {"t":"row","id":"…","s":"created",...}

Records are only ever appended, each in one write followed by a flush, so a crash of the process
loses at most the records not yet written (the rows in flight), and a crash of the machine at most
those written since the last sync (``SYNC_EVERY`` records). A crash in the middle of a write leaves
a last line without its newline: :meth:`RecordLog.open_existing` detects that torn record and
cuts it before anything is appended. Any other damage (a garbage or edited line, bytes that are
not UTF-8, a checksum that does not match, a record missing a key) is a :class:`CheckpointError`
naming the file and the line, never a silent skip. A log is locked while open (``flock`` where
the platform has it), so two jobs cannot append to one file.

:func:`write_json_atomic` and :func:`read_json_state` keep small state files (an export's resume
point) that are replaced whole: written to a temporary file, synced, then renamed over the old one.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import zlib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, BinaryIO

from ._atomic import write_atomic
from ._errors import GetSalesError

try:  # POSIX only; elsewhere files are not locked
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

__all__ = [
    "MAX_RECORD_BYTES",
    "SYNC_EVERY",
    "CheckpointError",
    "RecordLog",
    "encode_record",
    "read_json_state",
    "read_records",
    "write_json_atomic",
]

MAX_RECORD_BYTES = 16 << 20  # a longer line is damage, not a record
MAX_STATE_BYTES = 16 << 20  # a state file larger than this is not one of ours
SYNC_EVERY = 200  # records between fsyncs (a machine crash can lose at most these)
_TAIL_CHUNK = 1 << 16
_RECORD_START = re.compile(rb"^[0-9a-f]{0,8}$|^[0-9a-f]{8} ?$|^[0-9a-f]{8} \{")


class CheckpointError(GetSalesError):
    """Raised when a checkpoint cannot be used: damaged, of another job, or in use.

    Args:
        message: what is wrong and what to do.
        path: the checkpoint file.
        line: the 1-based line of the damaged record, if one is to blame.
    """

    def __init__(
        self, message: str, *, path: str | os.PathLike[str], line: int | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.path = Path(path)
        self.line = line

    def __str__(self) -> str:
        where = f"checkpoint {self.path}" + (f", line {self.line}" if self.line else "")
        return f"{where}: {self.message}"


def encode_record(record: Mapping[str, Any]) -> bytes:
    """One line of a record log: ``<crc32 as 8 hex digits> <compact JSON>\\n``."""
    body = json.dumps(record, separators=(",", ":"), ensure_ascii=False, sort_keys=True).encode()
    return b"%08x %s\n" % (zlib.crc32(body), body)


def _decode(raw: bytes, path: Path, line: int) -> dict[str, Any]:
    """The record of one complete line (its newline removed), or CheckpointError."""
    if len(raw) < 10 or raw[8:9] != b" ":
        raise CheckpointError("not a checkpoint record (damaged or edited)", path=path, line=line)
    head, body = raw[:8], raw[9:]
    try:
        expected = int(head, 16)
    except ValueError:
        raise CheckpointError(
            "not a checkpoint record (damaged or edited)", path=path, line=line
        ) from None
    if zlib.crc32(body) != expected:
        raise CheckpointError("checksum mismatch: the record is damaged", path=path, line=line)
    try:
        record = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise CheckpointError("the record is not JSON text", path=path, line=line) from None
    if not isinstance(record, dict) or not isinstance(record.get("t"), str):
        raise CheckpointError("the record has no type", path=path, line=line)
    return record


def _decode_first(raw: bytes, path: Path) -> dict[str, Any]:
    """The first record, or "not a checkpoint file" (rather than a damaged-record message)."""
    try:
        return _decode(raw, path, 1)
    except CheckpointError:
        raise CheckpointError(
            "not a checkpoint file: is this the right file?", path=path, line=1
        ) from None


def _lock(fh: BinaryIO, path: Path) -> None:
    if fcntl is None:  # pragma: no cover - Windows
        return
    try:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        fh.close()
        raise CheckpointError(
            "in use by another running job; wait for it to finish or use another checkpoint file",
            path=path,
        ) from None


def _torn_tail(fh: BinaryIO) -> int | None:
    """The offset where a torn last record starts (bytes after the last newline), else ``None``."""
    end = fh.seek(0, os.SEEK_END)
    if end == 0:
        return None
    position = end
    while position > 0:
        start = max(position - _TAIL_CHUNK, 0)
        fh.seek(start)
        chunk = fh.read(position - start)
        newline = chunk.rfind(b"\n")
        if newline >= 0:
            cut = start + newline + 1
            return cut if cut < end else None
        position = start
    return 0


class RecordLog:
    """An append-only log of checksummed JSON records (see the module docstring).

    Use :meth:`create` for a new log, :meth:`open_existing` to continue one; both lock the file.
    """

    def __init__(self, path: Path, fh: BinaryIO, *, repaired: bool) -> None:
        self.path = path
        self.repaired = repaired
        self._fh = fh
        self._unsynced = 0

    @classmethod
    def create(cls, path: str | os.PathLike[str], header: Mapping[str, Any]) -> RecordLog:
        """Start a new log holding only ``header`` (an existing file is replaced atomically)."""
        file = Path(path)
        if not file.parent.is_dir():
            raise CheckpointError(f"{file.parent} is not a directory", path=file)
        if file.exists():  # refuse to replace a log another job is appending to
            with file.open("rb") as current:
                _lock(current, file)
        write_atomic(file, encode_record(header))
        fh = file.open("ab")
        _lock(fh, file)
        return cls(file, fh, repaired=False)

    @classmethod
    def open_existing(cls, path: str | os.PathLike[str], *, header_type: str) -> RecordLog | None:
        """Open a log to append to, cutting a torn last record; ``None`` if nothing survives.

        The first line is checked before anything is cut, so a file that is not a record log is
        refused untouched.

        Raises:
            CheckpointError: not a record log (or its header is not of ``header_type``), or
                locked by another job.
        """
        file = Path(path)
        fh = file.open("r+b")
        _lock(fh, file)
        try:
            first = fh.readline(MAX_RECORD_BYTES + 1)
            if first.endswith(b"\n"):
                if _decode_first(first[:-1], file).get("t") != header_type:
                    raise CheckpointError("its first record is not a job header", path=file, line=1)
            elif first and not _RECORD_START.match(first):
                raise CheckpointError(
                    "not a checkpoint file: is this the right file?", path=file, line=1
                )
            cut = _torn_tail(fh)
            if cut is not None:
                fh.truncate(cut)
                fh.flush()
                os.fsync(fh.fileno())
            if fh.seek(0, os.SEEK_END) == 0:
                fh.close()
                return None
        except BaseException:
            fh.close()
            raise
        return cls(file, fh, repaired=cut is not None)

    def read(self, start: int = 0) -> Iterator[tuple[int, int, dict[str, Any]]]:
        """``(line, offset, record)`` of every record from byte ``start`` (``start`` must begin a line).

        Raises:
            CheckpointError: a damaged record (the line is named).
        """
        self._fh.flush()
        with self.path.open("rb") as fh:
            line = 0
            if start:
                line = sum(chunk.count(b"\n") for chunk in _chunks(fh, start))
                fh.seek(start)
            while True:
                offset = fh.tell()
                raw = fh.readline(MAX_RECORD_BYTES + 1)
                if not raw:
                    return
                line += 1
                if not raw.endswith(b"\n"):
                    message = (
                        "a record longer than the limit"
                        if len(raw) > MAX_RECORD_BYTES
                        else "the last record has no end"
                    )
                    raise CheckpointError(message, path=self.path, line=line)
                yield line, offset, _decode(raw[:-1], self.path, line)

    def record_at(self, offset: int, line: int) -> dict[str, Any]:
        """The record starting at byte ``offset`` (found by :meth:`read`)."""
        with self.path.open("rb") as fh:
            fh.seek(offset)
            raw = fh.readline(MAX_RECORD_BYTES + 1)
        return _decode(raw.rstrip(b"\n"), self.path, line)

    def append(self, record: Mapping[str, Any]) -> int:
        """Append one record (one write, then a flush); returns its byte offset."""
        offset = self._fh.tell()
        self._fh.write(encode_record(record))
        self._fh.flush()
        self._unsynced += 1
        if self._unsynced >= SYNC_EVERY:
            self.sync()
        return offset

    def tell(self) -> int:
        """The byte offset the next record will start at."""
        return self._fh.tell()

    def sync(self) -> None:
        """Make every appended record durable (fsync)."""
        self._fh.flush()
        os.fsync(self._fh.fileno())
        self._unsynced = 0

    def close(self) -> None:
        """Sync and close (idempotent)."""
        if not self._fh.closed:
            with contextlib.suppress(OSError):
                self.sync()
            self._fh.close()


def _chunks(fh: BinaryIO, size: int) -> Iterator[bytes]:
    remaining = size
    while remaining > 0:
        chunk = fh.read(min(remaining, _TAIL_CHUNK))
        if not chunk:
            return
        remaining -= len(chunk)
        yield chunk


def read_records(path: str | os.PathLike[str]) -> Iterator[tuple[int, int, dict[str, Any]]]:
    """``(line, offset, record)`` of every complete record of a log, read-only and unlocked.

    A torn last record (no newline) is left out, as :meth:`RecordLog.open_existing` would cut
    it; any other damage raises :class:`CheckpointError`.
    """
    file = Path(path)
    with file.open("rb") as fh:
        line = 0
        while True:
            offset = fh.tell()
            raw = fh.readline(MAX_RECORD_BYTES + 1)
            if not raw:
                return
            line += 1
            if not raw.endswith(b"\n"):
                if len(raw) > MAX_RECORD_BYTES:
                    raise CheckpointError("a record longer than the limit", path=file, line=line)
                if line == 1 and not _RECORD_START.match(raw):
                    raise CheckpointError(
                        "not a checkpoint file: is this the right file?", path=file, line=1
                    )
                return
            yield (
                line,
                offset,
                (_decode_first(raw[:-1], file) if line == 1 else _decode(raw[:-1], file, line)),
            )


def write_json_atomic(path: str | os.PathLike[str], state: Mapping[str, Any]) -> None:
    """Replace ``path`` with ``state`` as JSON, atomically (temporary file, fsync, rename)."""
    write_atomic(Path(path), json.dumps(state, sort_keys=True).encode("utf-8"))


def read_json_state(path: str | os.PathLike[str], *, kind: str) -> dict[str, Any]:
    """A state file written by :func:`write_json_atomic` whose ``"kind"`` is ``kind``.

    Raises:
        CheckpointError: missing, too large, not JSON, or of another kind.
    """
    file = Path(path)
    try:
        with file.open("rb") as fh:
            raw = fh.read(MAX_STATE_BYTES + 1)
    except OSError as exc:
        raise CheckpointError(f"cannot read it ({exc.strerror or exc})", path=file) from None
    if len(raw) > MAX_STATE_BYTES:
        raise CheckpointError("too large to be a checkpoint", path=file)
    try:
        state = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise CheckpointError("not JSON: is this the right file?", path=file) from None
    if not isinstance(state, dict) or state.get("kind") != kind:
        raise CheckpointError(f"not a {kind} checkpoint: is this the right file?", path=file)
    return state
