"""The import checkpoint: which rows of a job are done, and which still fail, across runs.

A :class:`~getsales_async._checkpoint.RecordLog` holding, in order:

- a header: the input's identity (e.g. the file's path), the job's meaning (:class:`JobMeaning`:
  list, update and move flags, tags) and free-form labels (the CLI keeps the list as typed);
- per run, a ``run`` marker; once per job, the server's time when it started (``clock``);
- per row, its result, keyed by the identity of the row's content (``_row_identity.py``), with
  the original cells of a failed row so the failed-rows CSV can list it again in later runs.

Resuming with another input or another meaning is refused (:class:`CheckpointError`) before any
request. Rows whose latest record succeeded are done; every other row is sent again.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ._checkpoint import CheckpointError, RecordLog, read_records
from ._columns import REPORT_COLUMNS
from ._fingerprints import CompactMap, CompactSet
from ._import_types import RowResult, RowStatus

__all__ = [
    "CheckpointHeader",
    "FailedRowListing",
    "ImportCheckpoint",
    "JobMeaning",
    "ResumeState",
    "RowStatuses",
]

FORMAT = "getsales-async/import-checkpoint"
VERSION = 2
_STATUSES = {s.value: s for s in RowStatus}


@dataclass(frozen=True)
class JobMeaning:
    """What a job does to each row; resuming with a different meaning is refused."""

    list_uuid: str
    update_if_exists: bool = True
    move_to_list: bool = False
    tags: tuple[str, ...] = ()

    def as_json(self) -> dict[str, Any]:
        """The meaning as JSON."""
        return {
            "list_uuid": self.list_uuid,
            "update_if_exists": self.update_if_exists,
            "move_to_list": self.move_to_list,
            "tags": sorted(self.tags),
        }

    @classmethod
    def from_json(cls, data: Any, path: Path) -> JobMeaning:
        """Read a meaning from a header (CheckpointError when it is not one)."""
        ok = (
            isinstance(data, dict)
            and isinstance(data.get("list_uuid"), str)
            and isinstance(data.get("update_if_exists"), bool)
            and isinstance(data.get("move_to_list"), bool)
            and isinstance(data.get("tags"), list)
            and all(isinstance(t, str) for t in data["tags"])
        )
        if not ok:
            raise CheckpointError("the job header is damaged (meaning)", path=path, line=1)
        return cls(
            data["list_uuid"],
            data["update_if_exists"],
            data["move_to_list"],
            tuple(sorted(data["tags"])),
        )

    def differences(self, other: JobMeaning) -> list[str]:
        """How ``other`` differs from this meaning, as ``name: this → other`` texts."""
        mine, theirs = self.as_json(), other.as_json()
        return [f"{k}: {mine[k]!r} -> {theirs[k]!r}" for k in mine if mine[k] != theirs[k]]


@dataclass(frozen=True)
class CheckpointHeader:
    """The first record of an import checkpoint."""

    input: str | None
    meaning: JobMeaning
    labels: Mapping[str, str]
    created_at: str


_STATUS_ORDER = tuple(RowStatus)


class RowStatuses:
    """The latest status of each row identity, in a :class:`CompactMap` (128-bit fingerprints,
    so a row is never taken for another and skipped; 30 to 60 bytes per row)."""

    __slots__ = ("_map",)

    def __init__(self) -> None:
        self._map = CompactMap()

    def __len__(self) -> int:
        return len(self._map)

    def get(self, row_id: str) -> RowStatus | None:
        """The row's latest status, or ``None`` when no run recorded it."""
        index = self._map.get(row_id)
        return None if index is None else _STATUS_ORDER[index]

    def __setitem__(self, row_id: str, status: RowStatus) -> None:
        self._map[row_id] = _STATUS_ORDER.index(status)


@dataclass
class ResumeState:
    """What earlier runs left: the latest status per row, contacts seen, contacts created.

    Kept compactly (``_fingerprints.py``), so resuming a large job costs tens of bytes per row.
    """

    latest: RowStatuses = field(default_factory=RowStatuses)
    contacts: CompactSet = field(default_factory=CompactSet)
    created: CompactSet = field(default_factory=CompactSet)  # lead uuids this job created
    server_start: str | None = None
    runs: int = 0


@dataclass(frozen=True)
class FailedRowListing:
    """The rows still failing after a run: the CSV columns, and the rows in line order."""

    columns: list[str]
    rows: list[tuple[int | None, int, int]]  # (input line, record offset, record line)


def _header_of(record: Mapping[str, Any], path: Path) -> CheckpointHeader:
    if record.get("format") != FORMAT:
        raise CheckpointError(
            "not an import checkpoint: is this the right file?", path=path, line=1
        )
    if record.get("version") != VERSION:
        raise CheckpointError(
            f"written by another version of getsales-async (format {record.get('version')!r}, "
            f"this one reads {VERSION}); finish it with that version, or start over",
            path=path,
            line=1,
        )
    labels = record.get("labels") or {}
    if not isinstance(labels, dict) or not all(isinstance(v, str) for v in labels.values()):
        raise CheckpointError("the job header is damaged (labels)", path=path, line=1)
    source = record.get("input")
    return CheckpointHeader(
        input=source if isinstance(source, str) else None,
        meaning=JobMeaning.from_json(record.get("meaning"), path),
        labels=labels,
        created_at=str(record.get("created_at", "")),
    )


def _cells(record: Mapping[str, Any]) -> dict[str, Any]:
    cells = record.get("cells")
    return cells if isinstance(cells, dict) else {}


def _row_fields(record: Mapping[str, Any], path: Path, line: int) -> tuple[str, RowStatus]:
    row_id, status = record.get("id"), record.get("s")
    if not isinstance(row_id, str) or not row_id:
        raise CheckpointError("a row record without its identity ('id')", path=path, line=line)
    if not isinstance(status, str):
        raise CheckpointError("a row record without its status ('s')", path=path, line=line)
    if status not in _STATUSES:
        raise CheckpointError(f"unknown row status {status!r}", path=path, line=line)
    return row_id, _STATUSES[status]


class ImportCheckpoint:
    """An import job's checkpoint file (see the module docstring).

    Open with :meth:`start`; look without changing anything with :meth:`peek`.
    """

    def __init__(self, log: RecordLog, header: CheckpointHeader, state: ResumeState) -> None:
        self._log = log
        self.header = header
        self.state = state
        self.repaired = log.repaired
        self._run_start = log.tell()

    @property
    def path(self) -> Path:
        """The checkpoint file."""
        return self._log.path

    @staticmethod
    def peek(path: str | os.PathLike[str]) -> tuple[CheckpointHeader, ResumeState] | None:
        """The header and resume state of an existing checkpoint, read-only (``None`` when the
        file is missing or holds no complete header). Nothing is repaired or locked.

        Raises:
            CheckpointError: the file is not an import checkpoint, or is damaged.
        """
        file = Path(path)
        if not file.exists():
            return None
        if file.is_dir():
            raise CheckpointError("is a directory, not a checkpoint file", path=file)
        records = read_records(file)
        first = next(records, None)
        if first is None:
            return None
        return ImportCheckpoint._load(file, first[2], records)

    @classmethod
    def start(
        cls,
        path: str | os.PathLike[str],
        *,
        input_name: str | None,
        meaning: JobMeaning,
        labels: Mapping[str, str] | None = None,
        resume: bool,
    ) -> ImportCheckpoint:
        """Open a checkpoint for a run: a new job, or (``resume``) the job the file holds.

        Raises:
            CheckpointError: the file is damaged, locked, or (resuming) of another input or
                meaning.
        """
        file = Path(path)
        if file.is_dir():
            raise CheckpointError("is a directory, not a checkpoint file", path=file)
        log = RecordLog.open_existing(file, header_type="job") if resume and file.exists() else None
        if log is None:
            repaired = resume and file.exists()
            header_record = {
                "t": "job",
                "format": FORMAT,
                "version": VERSION,
                "input": input_name,
                "meaning": meaning.as_json(),
                "labels": dict(labels or {}),
                "created_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            }
            log = RecordLog.create(file, header_record)
            log.repaired = repaired
        try:
            records = log.read()
            header, state = cls._load(file, next(records)[2], records)
            cls._check_same_job(file, header, input_name, meaning)
        except BaseException:
            log.close()
            raise
        checkpoint = cls(log, header, state)
        checkpoint._begin_run(state.runs + 1)
        return checkpoint

    @staticmethod
    def _load(
        path: Path, first: Mapping[str, Any], records: Iterator[tuple[int, int, dict[str, Any]]]
    ) -> tuple[CheckpointHeader, ResumeState]:
        if first.get("t") != "job":
            raise CheckpointError("its first record is not a job header", path=path, line=1)
        header = _header_of(first, path)
        state = ResumeState()
        for line, _offset, record in records:
            kind = record["t"]
            if kind == "row":
                row_id, status = _row_fields(record, path, line)
                state.latest[row_id] = status
                if isinstance(record.get("ck"), str):
                    state.contacts.add(record["ck"])
                if status is RowStatus.CREATED and isinstance(record.get("u"), str):
                    state.created.add(record["u"])
            elif kind == "run":
                state.runs += 1
            elif kind == "clock" and isinstance(record.get("server_start"), str):
                state.server_start = state.server_start or record["server_start"]
            else:
                raise CheckpointError(f"unknown record type {kind!r}", path=path, line=line)
        return header, state

    @staticmethod
    def _check_same_job(
        path: Path, header: CheckpointHeader, input_name: str | None, meaning: JobMeaning
    ) -> None:
        if header.input != input_name:
            raise CheckpointError(
                f"it belongs to the import of {header.input!r}, not {input_name!r}; resume "
                "with that input, or use another checkpoint file for this one",
                path=path,
            )
        changed = header.meaning.differences(meaning)
        if changed:
            raise CheckpointError(
                f"resuming would change the job ({'; '.join(changed)}); resume with the "
                "options of the first run, or start a new job with another checkpoint file",
                path=path,
            )

    def _begin_run(self, number: int) -> None:
        self._run_start = self._log.tell()
        self._log.append(
            {"t": "run", "n": number, "at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}
        )

    def note_server_start(self, when: str) -> None:
        """Record the server's time at the job's start (once per job)."""
        if self.state.server_start is None:
            self.state.server_start = when
            self._log.append({"t": "clock", "server_start": when})

    def record(
        self,
        result: RowResult,
        *,
        row_id: str,
        contact: str | None,
        cells: Mapping[str, str] | None,
    ) -> None:
        """Append one row's result (a failed row keeps its cells)."""
        entry: dict[str, Any] = {"t": "row", "id": row_id, "s": result.status.value}
        if contact is not None:
            entry["ck"] = contact
        if result.lead_uuid:
            entry["u"] = result.lead_uuid
        if result.line is not None:
            entry["line"] = result.line
        entry["i"] = result.index
        if result.status is RowStatus.FAILED:
            entry["e"] = result.error or "failed"
            if result.error_type:
                entry["et"] = result.error_type
            entry["cells"] = dict(cells or {})
        self._log.append(entry)

    def failed_rows(self, *, completed: bool, base_columns: Sequence[str] = ()) -> FailedRowListing:
        """The rows still failing: this run's failures, and earlier ones this run did not reach.

        An earlier failure stays listed until a record of this run replaces it, unless the run
        ``completed`` (then every row still in the input has a record of this run, so the rest
        were removed or edited), or this run imported the same contact successfully.
        """
        failing = self._latest_failures()
        columns = list(REPORT_COLUMNS) + list(base_columns)
        rows: list[tuple[int | None, int, int]] = []
        for offset, (line, this_run, imported) in failing.items():
            if not this_run and (completed or imported):
                continue
            record = self._log.record_at(offset, line)
            columns.extend(c for c in _cells(record) if c not in columns)
            at = record.get("line")
            rows.append((at if isinstance(at, int) else None, offset, line))
        rows.sort(key=lambda r: (r[0] is None, r[0] or 0, r[1]))
        return FailedRowListing(columns, rows)

    def _latest_failures(self) -> dict[int, tuple[int, bool, bool]]:
        """Each row whose latest record is a failure, by that record's offset: ``(line, of this
        run, its contact imported by this run)``. Memory grows with the failures, not the rows:
        a row leaves the map when a later record of it succeeds."""
        failing: dict[str, tuple[int, int, bool, str | None]] = {}  # id: offset, line, run, ck
        earlier_contacts: dict[str, bool] = {}  # contacts of earlier failures: imported now?
        for line, offset, record in self._log.read():
            if record["t"] != "row":
                continue
            row_id, status = _row_fields(record, self.path, line)
            this_run = offset >= self._run_start
            contact = record.get("ck") if isinstance(record.get("ck"), str) else None
            if status is RowStatus.FAILED:
                failing[row_id] = (offset, line, this_run, contact)
                if not this_run and contact is not None:
                    earlier_contacts.setdefault(contact, False)
                continue
            failing.pop(row_id, None)
            if this_run and contact is not None and contact in earlier_contacts:
                earlier_contacts[contact] = True
        return {
            offset: (line, this_run, contact is not None and earlier_contacts.get(contact, False))
            for offset, line, this_run, contact in failing.values()
        }

    def failed_row_values(self, listing: FailedRowListing) -> Iterator[list[Any]]:
        """The CSV rows of a listing, in its column order."""
        for at, offset, line in listing.rows:
            record = self._log.record_at(offset, line)
            values: dict[str, Any] = {
                "import_line": at if at is not None else "",
                "import_error": record.get("e", ""),
            }
            values.update(_cells(record))
            yield [values.get(c, "") for c in listing.columns]

    def close(self) -> None:
        """Sync and close the file."""
        self._log.close()
